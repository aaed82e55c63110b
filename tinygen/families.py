"""Families: what tinygen's platform code for a group of parts can do.

A family's knowledge lives in one folder, firmware/platform/<family>/:
its register code (C), ``family.yaml`` (how its pins are named, which
console drivers its code has, which clocks its clock code can make, whether
it drives an energy-timestamp GPIO) and, when its C code needs board-derived
macros (PLL factors, flash wait states), ``tg_family.h.j2``, rendered into
the build's tg_board.h. Adding a family is adding such a folder; nothing
here names a family.

Pin naming is per family because vendors write pins differently: STM32
``PB6``, TI Stellaris ``PA0`` (8 pins a port), Nordic ``P1.08``, NXP LPC
``PIO0_13``, NXP i.MX RT ``GPIO1_IO03``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from tinygen.datafile import Reader, load_yaml, show
from tinygen.paths import firmware_dir
from tinygen.render import render_file


@dataclass(frozen=True)
class GpioStyle:
    """How a vendor names a GPIO: a pattern giving (port, number)."""

    name: str
    pattern: re.Pattern
    example: str
    ports: int          # port 0 .. ports-1
    pins: int           # number 0 .. pins-1

    def parse(self, text: str) -> tuple[int, int] | None:
        m = self.pattern.fullmatch(text)
        if not m:
            return None
        port, number = m.group(1), int(m.group(2))
        port_index = ord(port) - ord("A") if port.isalpha() else int(port)
        if not (0 <= port_index < self.ports and number < self.pins):
            return None
        return port_index, number


GPIO_STYLES = {s.name: s for s in (
    GpioStyle("stm32", re.compile(r"P([A-K])([0-9]{1,2})"), "PB6", 11, 16),
    GpioStyle("ti-stellaris", re.compile(r"P([A-H])([0-7])"), "PA0", 8, 8),
    GpioStyle("nordic", re.compile(r"P([0-9])\.([0-9]{2})"), "P1.08", 2, 32),
    GpioStyle("nxp-lpc", re.compile(r"PIO([0-9])_([0-9]{1,2})"), "PIO0_13", 8, 32),
    GpioStyle("nxp-imxrt", re.compile(r"GPIO([0-9])_IO([0-9]{2})"), "GPIO1_IO03", 10, 32),
    GpioStyle("none", re.compile(r"(?!)(x)(x)"), "(no GPIO)", 0, 0),
)}


@dataclass(frozen=True)
class ClockRule:
    """The clocks a family's clock code can make: ``step_hz`` multiples from
    ``min_hz``, plus ``also_hz``; ``fixed`` when the part's clock is the
    machine's (emulators) and the firmware sets none."""

    text: str
    step_hz: int = 0
    min_hz: int = 0
    also_hz: tuple[int, ...] = ()
    example_hz: int = 0
    fixed: bool = False

    def makes(self, hz: int) -> bool:
        if self.fixed or hz in self.also_hz:
            return True
        return self.step_hz > 0 and hz % self.step_hz == 0 and hz >= self.min_hz


@dataclass(frozen=True)
class FlashWaitRule:
    """One flash wait state per ``step_hz`` of core clock (per
    ``boost_step_hz`` above ``boost_above_hz``), from the part's reference
    manual table; no rule: code runs from zero-wait memory."""

    step_hz: int = 0
    boost_above_hz: int = 0
    boost_step_hz: int = 0

    def states(self, hz: int) -> int:
        step = self.step_hz
        if self.boost_above_hz and hz > self.boost_above_hz:
            step = self.boost_step_hz
        return (hz - 1) // step if step > 0 and hz > 0 else 0


@dataclass(frozen=True)
class Family:
    name: str
    vendor: str
    folder: Path
    gpio: GpioStyle
    console_drivers: tuple[str, ...]
    clock: ClockRule
    energy_gpio: bool            # its code drives the energy-timestamp pin
    header: Path | None          # tg_family.h.j2, macros for its C code
    flash_wait: FlashWaitRule = FlashWaitRule()

    def macros(self, board) -> str:  # noqa: ANN001 (a tinygen.boards.Board)
        """The family's lines of tg_board.h for this board."""
        if self.header is None:
            return ""
        return render_file(self.header, board=board).rstrip("\n")


KEYS = {
    "": ("family", "vendor", "gpio", "console_drivers", "clock", "energy_gpio", "header",
         "flash_wait"),
    "clock": ("text", "step_hz", "min_hz", "also_hz", "example_hz", "fixed"),
    "flash_wait": ("step_hz", "boost_above_hz", "boost_step_hz"),
}


def load_family_file(path: Path) -> Family:
    r = Reader(path, KEYS)
    data = r.mapping(load_yaml(path, "family file"), "<top level>", "")
    name = r.string(data, "family", "family")
    if name != path.parent.name:
        raise r.fail("family", f"{show(name)} differs from its folder {path.parent.name}",
                     f"set family: {path.parent.name}")
    clock = r.mapping(r.get(data, "clock", "clock"), "clock", "clock")
    also = clock.get("also_hz") or []
    if not isinstance(also, list) or not all(isinstance(h, int) and h > 0 for h in also):
        raise r.fail("clock.also_hz", f"cannot read {show(also)}", "list frequencies in Hz")
    wait = r.mapping(data.get("flash_wait") or {}, "flash_wait", "flash_wait")
    flash_wait = FlashWaitRule(*(
        r.integer(wait, key, f"flash_wait.{key}", required=False) or 0
        for key in KEYS["flash_wait"]))
    if flash_wait.boost_above_hz and not flash_wait.boost_step_hz:
        raise r.fail("flash_wait.boost_step_hz", "is missing beside boost_above_hz",
                     "give the clock step of one wait state in boost mode")
    header = r.string(data, "header", "header", required=False)
    if header is not None and not (path.parent / header).is_file():
        raise r.fail("header", f"{show(header)} is not in {path.parent}", "name a file beside it")
    return Family(
        name=name,
        vendor=r.string(data, "vendor", "vendor"),
        folder=path.parent,
        gpio=GPIO_STYLES[r.string(data, "gpio", "gpio", tuple(GPIO_STYLES))],
        console_drivers=tuple(r.strings(data, "console_drivers", "console_drivers")),
        clock=ClockRule(
            text=r.string(clock, "text", "clock.text"),
            step_hz=r.integer(clock, "step_hz", "clock.step_hz", required=False) or 0,
            min_hz=r.integer(clock, "min_hz", "clock.min_hz", required=False) or 0,
            also_hz=tuple(also),
            example_hz=r.integer(clock, "example_hz", "clock.example_hz", required=False) or 0,
            fixed=r.boolean(clock, "fixed", "clock.fixed", required=False),
        ),
        energy_gpio=r.boolean(data, "energy_gpio", "energy_gpio", required=False),
        header=path.parent / header if header else None,
        flash_wait=flash_wait,
    )


@functools.lru_cache(maxsize=4)
def _families(root: Path) -> dict[str, Family]:
    return {f.name: f for f in (load_family_file(p)
                                for p in sorted(root.glob("*/family.yaml")))}


def shipped_families() -> dict[str, Family]:
    """Every family with platform code in firmware/platform/, by name."""
    return _families(firmware_dir() / "platform")
