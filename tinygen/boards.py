"""Boards: what a target is, read from board files and validated.

A board is data. Adding a board means adding a YAML file (tinygen's own in
boards/, a user's anywhere: by path, or in a folder of ``TINYGEN_BOARDS``).
The board names its part with ``chip:`` (a part file, tinygen/chips.py) and
does not repeat the part's facts: the core, the console's base address, the
emulator's machine, the probe's target and, for emulated parts, the clock
come from the part; what the board gives is checked against it. The platform
code of its family lives in firmware/platform/<family>/ with the family's
rules (tinygen/families.py), or, for a vendor's own platform code, in files
the board names (``family: external`` with a ``platform:`` mapping, see
boards/README.md).

Validation is strict: every key must be known (a typo gets the nearest
valid key), values are range-checked where later stages depend on them, and
every error of a file is reported at once, one line each, naming the file,
the key and the fix. Everything accepted generates working code.
"""

from __future__ import annotations

import difflib
import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygen.chips import (CORES, FPUS as ARM_FPUS, PART_HINT, Chip, find_part, fpu_allowed,
                           known_parts, part_dirs, same_family_suggestion, user_dirs)
from tinygen.datafile import Reader, load_yaml, show
from tinygen.errors import TinygenError
from tinygen.families import GPIO_STYLES, Family, GpioStyle, shipped_families
from tinygen.paths import boards_dir

CPUS = (*CORES, "native")
FPUS = (*ARM_FPUS, "native")
CONSOLE_DRIVERS = ("stm32-usart", "stm32-lpuart", "cmsdk-uart", "nrf-uart", "nrf-uarte", "stellaris-uart",
                   "host-stdio",
                   "external")
TIMESTAMP_SOURCES = ("systick", "dwt", "host-clock")
MEMORY_KINDS = ("flash", "ram")
# The smallest memories the harness, the smallest model (ad01) and the stack
# can be linked into: a smaller board is refused here, not by the linker.
MIN_FLASH_BYTES = 32 * 1024
MIN_RAM_BYTES = 8 * 1024
BAUD_RANGE = (300, 12_000_000)

# Every key a board file may hold, per mapping; anything else is a typo.
KEYS = {
    "": ("name", "title", "vendor", "family", "chip", "core", "clock_hz", "memory", "console",
         "timestamp", "energy_gpio", "flash", "emulator", "usb_ids", "notes", "platform",
         "power"),
    "core": ("cpu", "fpu", "dsp", "mve"),
    "memory[]": ("name", "kind", "base", "size"),
    "console": ("driver", "instance", "base", "tx", "rx", "baud"),
    "pin": ("pin", "af"),
    "console.baud": ("performance", "energy"),
    "flash": ("pyocd_target",),
    "emulator": ("qemu_machine", "icount_shift"),
    "platform": ("sources", "include_dirs", "defines", "linker_script", "common"),
    # Energy estimates (tinygen run/verify --mode energy): datasheet figures.
    "power": ("run_ua_per_mhz", "supply_v"),
}

_BOARD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_REGION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_USB_ID = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")
_DEFINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(=[^\s]*)?$")
_MHZ = 1_000_000


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    kind: str
    base: int
    size: int


@dataclass(frozen=True)
class Pin:
    """A GPIO as the family names it (PB6, P1.08, PIO0_13, GPIO1_IO03)."""

    pin: str
    af: int | None = None
    port_index: int = 0       # port A = 0 on STM32, P1 = 1 on Nordic
    number: int = 0

    @property
    def port(self) -> str:
        """The port as the vendor writes it: a letter on STM32, a digit else."""
        return self.pin[1] if self.pin[1].isalpha() else str(self.port_index)


@dataclass(frozen=True)
class Console:
    driver: str
    instance: str
    base: int | None
    tx: Pin | None
    rx: Pin | None
    baud_performance: int
    baud_energy: int
    # The chip table's facts for this instance (stm32: IRQ, RCC enable
    # register/bit, kernel-clock selector); None when the chip is unknown.
    irq: int | None = None
    rcc_enr: int | None = None
    rcc_bit: int | None = None
    clock_sel: int | None = None


@dataclass(frozen=True)
class Emulator:
    qemu_machine: str
    icount_shift: int


# -- power: (energy estimates) -------------------------------------------------


@dataclass(frozen=True)
class Power:
    """Datasheet figures for an *estimated* energy per inference."""

    run_ua_per_mhz: float     # run-mode current per MHz of core clock (uA/MHz)
    supply_v: float           # the DUT's supply voltage in an energy run (V)

    def active_w(self, clock_hz: int) -> float:
        return self.run_ua_per_mhz * 1e-6 * clock_hz / 1e6 * self.supply_v


def _parse_power(r: Reader, data: dict) -> Power | None:
    block = r.get(data, "power", "power", required=False)
    if block is None:
        return None
    block = r.mapping(block, "power", "power")
    values = {}
    for key, low, high in (("run_ua_per_mhz", 1.0, 10000.0), ("supply_v", 1.0, 5.5)):
        value = block.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise r.fail(f"power.{key}", f"cannot use {show(value)}",
                         f"give a number from {low:g} to {high:g} (datasheet run current per MHz, "
                         "supply voltage)")
        values[key] = float(value)
    return Power(**values)


@dataclass(frozen=True)
class Platform:
    """A vendor's own platform code (family: external), paths resolved."""

    sources: tuple[Path, ...]
    include_dirs: tuple[Path, ...]
    defines: tuple[str, ...]
    linker_script: Path | None
    common: bool            # compile tinygen's Cortex-M startup and SysTick too


@dataclass(frozen=True)
class Board:
    name: str
    title: str
    vendor: str
    family: str
    cpu: str
    fpu: str
    dsp: bool
    clock_hz: int
    memory: tuple[MemoryRegion, ...]
    console: Console
    timestamp: str
    energy_gpio: Pin | None
    pyocd_target: str | None
    emulator: Emulator | None
    usb_ids: tuple[str, ...]
    notes: str = ""
    path: Path | None = field(default=None, compare=False)
    chip: str | None = None
    mve: bool = False
    platform: Platform | None = None
    power: Power | None = None
    part: Chip | None = field(default=None, compare=False, repr=False)

    @property
    def family_info(self) -> Family | None:
        """The shipped family's rules and macros (None: host-less external)."""
        return shipped_families().get(self.family)

    @property
    def family_macros(self) -> str:
        """The family's lines of tg_board.h (firmware/platform/<family>/tg_family.h.j2)."""
        info = self.family_info
        return info.macros(self) if info else ""

    @property
    def flash_wait_states(self) -> int:
        """Flash wait states the family's clock code sets at this clock
        (family.yaml ``flash_wait``); 0 for code in zero-wait memory."""
        info = self.family_info
        return info.flash_wait.states(self.clock_hz) if info and self.clock_hz else 0

    def console_uses_port(self, port_index: int) -> bool:
        return any(p is not None and p.port_index == port_index
                   for p in (self.console.tx, self.console.rx))

    @property
    def source(self) -> str:
        """Where the board was read from, for generated headers: relative
        to the checkout for tinygen's own boards, else the real path."""
        if self.path is None:
            return f"boards/{self.name}.yaml"
        path = Path(self.path).resolve()
        try:
            text = str(path.relative_to(boards_dir().resolve().parent))
        except ValueError:
            text = str(path)
        return show(text, 200).strip("'").replace("*/", "*\\/")

    def gcc_core_flags(self) -> list[str]:
        """-mcpu (or -march) for this board's core and extensions."""
        return CORES[self.cpu].gcc_flags(self.dsp, self.mve, self.fpu)

    @property
    def is_host(self) -> bool:
        return self.family == "host"

    @property
    def is_emulated(self) -> bool:
        return self.emulator is not None

    @property
    def is_real(self) -> bool:
        return self.pyocd_target is not None

    @property
    def is_external(self) -> bool:
        return self.family == "external"

    @property
    def emulated_only(self) -> bool:
        """Every run of this firmware is under QEMU (no real board to flash)."""
        return self.is_emulated and not self.is_real

    @property
    def kinds(self) -> str:
        if self.is_host:
            return "native process"
        parts = []
        if self.is_real:
            parts.append("real (pyocd)")
        if self.is_emulated:
            parts.append(f"emulated (qemu {self.emulator.qemu_machine})")
        return ", ".join(parts)

    def regions(self, kind: str) -> tuple[MemoryRegion, ...]:
        return tuple(r for r in self.memory if r.kind == kind)

    @property
    def flash_bytes(self) -> int:
        return sum(r.size for r in self.regions("flash"))

    @property
    def ram_bytes(self) -> int:
        return sum(r.size for r in self.regions("ram"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "vendor": self.vendor,
            "family": self.family,
            "chip": self.chip,
            "core": {"cpu": self.cpu, "fpu": self.fpu, "dsp": self.dsp, "mve": self.mve},
            "clock_hz": self.clock_hz,
            "memory": [
                {"name": r.name, "kind": r.kind, "base": r.base, "size": r.size}
                for r in self.memory
            ],
            "console": {
                "driver": self.console.driver,
                "instance": self.console.instance,
                "base": self.console.base,
                "tx": _pin_dict(self.console.tx),
                "rx": _pin_dict(self.console.rx),
                "baud": {
                    "performance": self.console.baud_performance,
                    "energy": self.console.baud_energy,
                },
            },
            "timestamp": self.timestamp,
            "energy_gpio": _pin_dict(self.energy_gpio),
            "pyocd_target": self.pyocd_target,
            "emulator": (
                {"qemu_machine": self.emulator.qemu_machine,
                 "icount_shift": self.emulator.icount_shift}
                if self.emulator else None
            ),
            "platform": (
                {"sources": [str(p) for p in self.platform.sources],
                 "include_dirs": [str(p) for p in self.platform.include_dirs],
                 "defines": list(self.platform.defines),
                 "linker_script": str(self.platform.linker_script)
                 if self.platform.linker_script else None,
                 "common": self.platform.common}
                if self.platform else None
            ),
            "usb_ids": list(self.usb_ids),
            "kinds": self.kinds,
            "notes": self.notes,
            "power": ({"run_ua_per_mhz": self.power.run_ua_per_mhz,
                       "supply_v": self.power.supply_v} if self.power else None),
        }


def _pin_dict(pin: Pin | None) -> dict[str, Any] | None:
    return None if pin is None else {"pin": pin.pin, "af": pin.af}


def _hz(hz: int) -> str:
    return f"{hz / _MHZ:g} MHz"


def _size_text(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)}M"
    if n % 1024 == 0:
        return f"{n // 1024}K"
    return str(n)


# -- stack: measured where an emulator ran it ----------------------------------

# Stack high-water marks from stack painting (tinygen profile --inferences 1:
# one inference and the results print, the deepest path), the largest over the
# benchmarks that fit, measured under QEMU with the tinygen runtime at -O2.
# A board that never ran borrows the figure of the closest emulated core and
# says so; with none, the stack is an unmeasured default.
MEASURED_STACK_BYTES = {
    "mps2_an385": 552,             # Cortex-M3: all four benchmarks
    "mps2_an386": 768,             # Cortex-M4: vww (ic 736, kws 600, ad 560)
    "mps2_an500": 728,             # Cortex-M7: ic (vww 696, kws 600, ad 560)
    "mps2_an505": 768,             # Cortex-M33: vww (ic 736, kws 608, ad 560)
    "mps3_an547": 728,             # Cortex-M55 with Helium: vww and kws (ic 720, ad 560)
    "microbit": 600,               # Cortex-M0: kws, the one benchmark that fits
    "netduinoplus2": 768,          # Cortex-M4F, stm32f4: vww
    "disco_l475vg_iot01a": 768,    # Cortex-M4F, stm32l4: vww (ic 736, kws 600)
}
# The marks of the benchmarks' committed models (models/<id>.tflite) where
# they are below the board's largest, measured the same way, as the lowest
# over SysTick phases (an interrupt landing near the deepest point adds its
# frames, tinygen.port.aot.EXCEPTION_STACK_BYTES: kws01 paints 600 B after
# `infer 1 1`, 672-680 B on disco and 608 B on mps2_an386 after `infer 1 0`,
# where SysTick's frame with FPU state lands on the results printing). A build of
# exactly that model at -O2 on that board reserves twice its own mark
# (tinygen.port.aot.model_stack_bytes) rather than twice the board's
# largest: kws01 1,200 B instead of 1,536 B, 336 B of RAM its arena can
# use. Any other model, optimization or board keeps the board-wide figure.
MEASURED_MODEL_STACK_BYTES = {
    "mps2_an386": {"ic01": 736, "kws01": 600, "ad01": 560},
    "disco_l475vg_iot01a": {"ic01": 736, "kws01": 600},
}
# Cores close enough to share a measured figure (same instruction set and
# calling convention): the M85 runs the M55's code, the M0+ the M0's.
_CLOSEST_CORE = {"cortex-m85": "cortex-m55", "cortex-m0plus": "cortex-m0"}


def stack_measurement(board: "Board") -> tuple[int | None, str]:
    """(high-water mark, where it was measured) for this board's build:
    its own emulator, else the closest emulated core's board (named),
    else (None, "unmeasured default")."""
    if board.name in MEASURED_STACK_BYTES and board.is_emulated:
        return MEASURED_STACK_BYTES[board.name], "measured on this board's emulator"
    core = board.cpu
    for cpu in (core, _CLOSEST_CORE.get(core)):
        for name, figure in MEASURED_STACK_BYTES.items():
            other = _measured_board_cpu(name)
            if cpu is not None and other == cpu:
                how = f"same core, {cpu}" if cpu == core else f"the closest emulated core, {cpu}"
                return figure, f"measured on {name} ({how}; {board.name} never ran it)"
    return None, "unmeasured default"


def stack_note(board: "Board", stack_bytes: int, model: str | None = None) -> str:
    """The size report's stack line: the figure and where it was measured
    (model: a benchmark id whose committed model's own mark sized it,
    MEASURED_MODEL_STACK_BYTES)."""
    if model is not None:
        mark = MEASURED_MODEL_STACK_BYTES[board.name][model]
        return (f"stack: {stack_bytes} B = high-water mark {mark} B of {model}'s committed model "
                f"measured on this board's emulator (stack painting, tinygen profile) + "
                f"{stack_bytes - mark} B margin")
    mark, where = stack_measurement(board)
    if mark is None:
        return (f"stack: {stack_bytes} B, an unmeasured default (no emulated {board.cpu} has "
                "run it; measure with tinygen profile on an emulated board of this core)")
    return (f"stack: {stack_bytes} B = high-water mark {mark} B {where} (stack painting, "
            f"tinygen profile) + {stack_bytes - mark} B margin")


def _measured_board_cpu(name: str) -> str | None:
    path = boards_dir() / f"{name}.yaml"
    try:
        return load_board_file(path).cpu if path.is_file() else None
    except TinygenError:
        return None


# -- reading a board file ------------------------------------------------------


def _pin(r: Reader, data: dict, key: str, dotted: str, style: GpioStyle | None) -> Pin | None:
    value = r.get(data, key, dotted, required=False)
    if value is None:
        return None
    value = r.mapping(value, dotted, "pin")
    name = r.string(value, "pin", f"{dotted}.pin")
    styles = [style] if style is not None else [s for s in GPIO_STYLES.values() if s.ports]
    for s in styles:
        where = s.parse(name)
        if where is not None:
            break
    else:
        if style is not None and not style.ports:
            raise r.fail(dotted, "this family has no GPIO tinygen drives", f"remove {dotted}:")
        example = " or ".join(s.example for s in styles)
        raise r.fail(f"{dotted}.pin", f"{show(name)} is not a GPIO pin name here",
                     f"write it as the vendor does, e.g. {example}")
    af = r.integer(value, "af", f"{dotted}.af", maximum=15, required=False)
    return Pin(name, af, where[0], where[1])


def _paths(r: Reader, data: dict, key: str, dotted: str, *, files: bool) -> list[Path]:
    """Paths (globs allowed for files) relative to the board file."""
    out: list[Path] = []
    for item in r.strings(data, key, dotted):
        pattern = Path(item).expanduser()
        if not pattern.is_absolute():
            pattern = r.path.parent / pattern
        found = sorted(Path(p) for p in glob.glob(str(pattern)))
        found = [p.resolve() for p in found if (p.is_file() if files else p.is_dir())]
        if not found:
            what = "file" if files else "folder"
            raise r.fail(dotted, f"{show(item)} matches no {what} (looked for "
                         f"{show(str(pattern), 120)})",
                         f"give a {what} path relative to {r.path.parent}")
        out += found
    return out


def _family(r: Reader, data: dict) -> str:
    family = r.string(data, "family", "family")
    shipped = shipped_families()
    if family in shipped or family == "external":
        return family
    # No "did you mean": the nearest name is another family's code (stm32f4
    # is not stm32l4), and running it would be wrong firmware.
    raise r.fail("family", f"tinygen has no platform code for family {show(family)} (it has "
                 + ", ".join(sorted(shipped)) + ")",
                 "for your own platform code set family: external and platform: "
                 "(boards/README.md, template firmware/platform/template/)")


def _chip(r: Reader, data: dict, family: str | None) -> Chip | None:
    required = family is not None and family not in ("external", "host")
    name = r.string(data, "chip", "chip", required=required)
    if name is None:
        return None
    chip = find_part(name, r.path.parent)
    if chip is None:
        # Suggest only a part of the board's own (known) family: a near name
        # of another family's part would build that family's code.
        hint = (same_family_suggestion(name, family, known_parts(r.path.parent))
                if family not in (None, "external") else "")
        where = ", ".join(str(d) for d in part_dirs(r.path.parent)[:-1]) or str(r.path.parent / "parts")
        raise r.fail("chip", f"unknown part {show(name)}: no {name.lower()}.yaml in {where} "
                     "or tinygen's parts",
                     hint + PART_HINT.format(name=name.lower()))
    if family in (None, "external") or chip.family == family:
        return chip
    if chip.family in shipped_families():
        raise r.fail("chip", f"{chip.name} is a {chip.family} part, not {family}",
                     f"set family: {chip.family} (or correct chip:)")
    raise r.fail("chip", f"{chip.name} is a {chip.family} part, for which tinygen has no "
                 "platform code", "set family: external and name your platform code in platform:")


def _core(r: Reader, data: dict, family: str | None, chip: Chip | None) -> tuple:
    core = r.get(data, "core", "core", required=chip is None,
                 hint="add 'core: {cpu: ..., fpu: ..., dsp: ...}' or name the part in chip:")
    core = r.mapping(core or {}, "core", "core")
    cpu = r.string(core, "cpu", "core.cpu", CPUS, required=chip is None)
    if cpu is not None and chip is not None and cpu != chip.cpu:
        raise r.fail("core.cpu", f"chip {chip.name} has a {chip.cpu}, not a {cpu}",
                     f"set cpu: {chip.cpu} (or correct chip:)")
    cpu = cpu or chip.cpu
    if family is not None and (family == "host") != (cpu == "native"):
        raise r.fail("core.cpu", f"'{cpu}' with family: {family}",
                     "use cpu: native for the host board only" if cpu == "native"
                     else "the host board's core is cpu: native")
    if cpu == "native":
        fpu = r.string(core, "fpu", "core.fpu", FPUS)
        if fpu != "native":
            raise r.fail("core.fpu", f"'{fpu}' on the native core", "use fpu: native")
        return cpu, fpu, r.boolean(core, "dsp", "core.dsp"), False
    spec = CORES[cpu]
    fpu = r.string(core, "fpu", "core.fpu", FPUS, required=chip is None) or chip.fpu
    if fpu == "native" or fpu not in spec.fpus:
        raise r.fail("core.fpu", f"a {cpu} has no {fpu} FPU", "use one of " + ", ".join(spec.fpus))
    dsp = r.boolean(core, "dsp", "core.dsp", required=False,
                    default=chip.dsp if chip else spec.dsp == "always")
    mve = r.boolean(core, "mve", "core.mve", required=False,
                    default=chip.mve if chip else False)
    if spec.dsp != "optional" and dsp != (spec.dsp == "always"):
        raise r.fail("core.dsp", f"a {cpu} {'always has' if spec.dsp == 'always' else 'has no'} "
                     "the DSP extension", f"set dsp: {str(spec.dsp == 'always').lower()}")
    if mve and not spec.mve:
        raise r.fail("core.mve", f"a {cpu} has no Helium (MVE)",
                     "remove mve: or set it to false (Helium is a Cortex-M55/M85 feature)")
    if mve and fpu == "none":
        raise r.fail("core.mve", "Helium shares the FPU's registers, and fpu: none leaves them out",
                     f"set fpu: {spec.fpus[-1]} or mve: false")
    if chip is not None:
        allowed = fpu_allowed(chip.fpu, cpu)
        if fpu not in allowed:
            raise r.fail("core.fpu", f"chip {chip.name} has a {chip.fpu} FPU, which cannot run "
                         f"{fpu} code", "use one of " + ", ".join(allowed))
        if dsp and not chip.dsp:
            raise r.fail("core.dsp", f"chip {chip.name} has no DSP extension", "set dsp: false")
        if mve and not chip.mve:
            raise r.fail("core.mve", f"chip {chip.name} has no Helium (MVE)", "set mve: false")
    return cpu, fpu, dsp, mve


def _region_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "REGION"
    return cleaned[:32]


def _memory(r: Reader, data: dict, family: str | None, chip: Chip | None) -> list[MemoryRegion]:
    raw = r.get(data, "memory", "memory", required=False)
    if raw is None and chip is not None:
        # Left out: the part's first window of each kind, whole.
        return [MemoryRegion(_region_name(w.name), w.kind, w.base, w.size)
                for w in (next(w for w in chip.windows if w.kind == k) for k in MEMORY_KINDS)]
    items = r.items(data, "memory", "memory",
                    "'- {name: FLASH, kind: flash, base: 0x08000000, size: 1M}'")
    regions = []
    for i, item in enumerate(items):
        key = f"memory[{i}]"
        item = r.mapping(item, key, "memory[]")
        name = r.string(item, "name", f"{key}.name")
        if not _REGION_NAME.match(name):
            raise r.fail(f"{key}.name", f"{show(name)} cannot name a linker region",
                         "use letters, digits and '_' (not first), e.g. SRAM2")
        region = MemoryRegion(name=name, kind=r.string(item, "kind", f"{key}.kind", MEMORY_KINDS),
                              base=r.address(item, "base", f"{key}.base"),
                              size=r.size(item, "size", f"{key}.size"))
        if region.base + region.size > 1 << 32:
            raise r.fail(key, f"{name} ends beyond the 4 GB address space", "correct base or size")
        regions.append(region)
    if family == "host":
        if regions:
            raise r.fail("memory", "the host board has no memory map", "remove memory:")
        return regions
    for kind, least in (("flash", MIN_FLASH_BYTES), ("ram", MIN_RAM_BYTES)):
        total = sum(reg.size for reg in regions if reg.kind == kind)
        if not any(reg.kind == kind for reg in regions):
            raise r.fail("memory", f"no {kind} region", f"add a region with kind: {kind}")
        if total < least:
            raise r.fail("memory", f"{total} bytes of {kind}, less than the {least // 1024} KB "
                         "the harness and the smallest model need", f"give the board's whole {kind}")
    for i, a in enumerate(regions):
        for j, b in enumerate(regions[:i]):
            if a.base < b.base + b.size and b.base < a.base + a.size:
                raise r.fail(f"memory[{i}]", f"{a.name} overlaps {b.name} (memory[{j}])",
                             "make the regions disjoint, or one entry if they are contiguous")
        if a.name in {b.name for b in regions[:i]}:
            raise r.fail(f"memory[{i}].name", f"region name {show(a.name)} used twice",
                         "give every region its own name")
        if chip is None:
            continue
        windows = [w for w in chip.windows if w.kind == a.kind]
        if not any(w.holds(a.base, a.size) for w in windows):
            where = ", ".join(f"{w.name} 0x{w.base:08X} {_size_text(w.size)}" for w in windows)
            raise r.fail(f"memory[{i}]", f"{a.name} (0x{a.base:08X}, {_size_text(a.size)}) is "
                         f"not inside {chip.name}'s {a.kind} ({where})",
                         "correct base and size from the chip's memory map")
    return regions


def _clock(r: Reader, data: dict, family: str | None, chip: Chip | None,
           timestamp: str | None) -> int:
    hz = r.integer(data, "clock_hz", "clock_hz", minimum=1, maximum=2_000_000_000,
                   required=chip is None or chip.fixed_hz is None)
    if hz is None:
        return chip.fixed_hz
    if chip is not None:
        if chip.fixed_hz is not None and hz != chip.fixed_hz:
            raise r.fail("clock_hz", f"{hz} Hz, but QEMU's {chip.qemu_machine} runs its CPU and "
                         f"SysTick at {chip.fixed_hz} Hz, so timings would be "
                         f"{abs(hz - chip.fixed_hz) / chip.fixed_hz:.0%} off",
                         f"set clock_hz: {chip.fixed_hz} (or leave it out)")
        if hz > chip.max_hz:
            raise r.fail("clock_hz", f"{_hz(hz)} is above {chip.name}'s maximum of {_hz(chip.max_hz)}",
                         f"use at most clock_hz: {chip.max_hz}")
    info = shipped_families().get(family or "")
    if info is not None and not info.clock.makes(hz):
        rule = info.clock
        fix = (f"use a multiple of {_hz(rule.step_hz)} from {_hz(rule.min_hz)}"
               + (f", e.g. {rule.example_hz}" if rule.example_hz else ""))
        if rule.also_hz:
            fix = "use " + ", ".join(str(h) for h in rule.also_hz) + " or " + fix[4:]
        raise r.fail("clock_hz", f"{_hz(hz)} cannot be made by the {family} clock code "
                     f"({rule.text})", fix)
    if timestamp == "dwt" and hz % _MHZ:
        raise r.fail("clock_hz", f"{hz} Hz is not a whole number of MHz, which the dwt "
                     "timestamp divides by", "use a whole number of MHz or timestamp: systick")
    return hz


def _emulator(r: Reader, data: dict, family: str | None, chip: Chip | None) -> Emulator | None:
    raw = r.get(data, "emulator", "emulator", required=False)
    if raw is None:
        return None
    raw = r.mapping(raw, "emulator", "emulator")
    if family == "host":
        raise r.fail("emulator", "the host board runs natively", "remove emulator:")
    machine = r.string(raw, "qemu_machine", "emulator.qemu_machine",
                       required=chip is None or chip.qemu_machine is None)
    if chip is not None:
        if chip.qemu_machine is None:
            raise r.fail("emulator", f"QEMU does not emulate {chip.name}",
                         "remove emulator: (the board is real hardware only)")
        if machine is not None and machine != chip.qemu_machine:
            raise r.fail("emulator.qemu_machine",
                         f"{chip.name} is emulated by QEMU machine {chip.qemu_machine}, not "
                         f"{show(machine)}", f"set qemu_machine: {chip.qemu_machine}")
        machine = chip.qemu_machine
    shift = r.integer(raw, "icount_shift", "emulator.icount_shift", minimum=0, required=False)
    if shift is not None and shift > 10:
        raise r.fail("emulator.icount_shift", "shift above 10", "use 0 (1 ns per instruction) to 10")
    return Emulator(qemu_machine=machine, icount_shift=shift or 0)


def _console(r: Reader, data: dict, family: str | None, chip: Chip | None,
             gpio: GpioStyle | None) -> Console:
    console = r.mapping(r.get(data, "console", "console"), "console", "console")
    instance = r.string(console, "instance", "console.instance")
    uart = None
    if chip is not None and family not in ("external", "host", None):
        uart = chip.uarts.get(instance)
        if uart is None:
            near = [u for u in chip.uarts if u.lower() == instance.lower()]
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise r.fail("console.instance", f"{chip.name} has no {show(instance)} that tinygen "
                         "drives", hint + "use one of " + ", ".join(chip.uarts))
    driver = r.string(console, "driver", "console.driver", CONSOLE_DRIVERS,
                      required=uart is None)
    driver = driver or uart.driver
    base = r.address(console, "base", "console.base", required=False)
    if uart is None and chip is not None and base is None and instance in chip.uarts:
        # A vendor's own platform code (family: external) still gets the
        # part's base address for the instance it names.
        base = chip.uarts[instance].base
    if family == "host" and driver != "host-stdio":
        raise r.fail("console.driver", f"'{driver}' on the host board", "use driver: host-stdio")
    if family == "external" and driver != "external":
        raise r.fail("console.driver", f"'{driver}' with family: external (the vendor's "
                     "platform code drives the console)", "use driver: external")
    info = shipped_families().get(family or "")
    if info is not None and family != "host" and driver not in info.console_drivers:
        raise r.fail("console.driver", f"'{driver}' on a {family} board",
                     "use the family's UART driver: " + ", ".join(info.console_drivers))
    facts: dict[str, int | None] = {}
    if uart is not None:
        if driver != uart.driver:
            raise r.fail("console.driver", f"{instance} is driven by '{uart.driver}', not '{driver}'",
                         f"set driver: {uart.driver} (or leave it out)")
        if base is not None and base != uart.base:
            owner = next((u.instance for u in chip.uarts.values() if u.base == base), None)
            what = f"0x{base:08X} is {owner}'s base" if owner else f"0x{base:08X} is no UART's base"
            raise r.fail("console.base", f"{what}, not {instance}'s (0x{uart.base:08X})",
                         f"set base: 0x{uart.base:08X}" + (f" or instance: {owner}" if owner else "")
                         + " (or leave base: out)")
        base = uart.base
        facts = {"irq": uart.irq, "rcc_enr": uart.enr, "rcc_bit": uart.bit, "clock_sel": uart.sel}
    tx = _pin(r, console, "tx", "console.tx", gpio)
    rx = _pin(r, console, "rx", "console.rx", gpio)
    if driver.startswith("stm32-"):
        for key, pin in (("tx", tx), ("rx", rx)):
            if pin is None:
                raise r.fail(f"console.{key}", "missing", f"add '{key}: {{pin: P.., af: N}}'")
            if pin.af is None:
                raise r.fail(f"console.{key}.af", "missing",
                             "add the pin's alternate function number (datasheet, AF table)")
    elif driver in ("cmsdk-uart", "host-stdio") and (tx is not None or rx is not None):
        raise r.fail("console.tx" if tx is not None else "console.rx",
                     f"the {driver} console has no pins to configure", "remove tx: and rx:")
    if driver == "cmsdk-uart" and base is None:
        raise r.fail("console.base", "missing", "add the UART's base address")
    baud = r.mapping(r.get(console, "baud", "console.baud"), "console.baud", "console.baud")
    low, high = BAUD_RANGE
    return Console(
        driver=driver, instance=instance, base=base, tx=tx, rx=rx,
        baud_performance=r.integer(baud, "performance", "console.baud.performance", low, high),
        baud_energy=r.integer(baud, "energy", "console.baud.energy", low, high),
        **facts,
    )


def _platform(r: Reader, data: dict, family: str | None) -> Platform | None:
    raw = r.get(data, "platform", "platform", required=False)
    if family != "external":
        if raw is not None:
            raise r.fail("platform", f"vendor platform code with family: {family}",
                         "set family: external to use your own platform code, or remove platform:")
        return None
    if raw is None:
        raise r.fail("platform", "missing (family: external names its own platform code)",
                     "add 'platform: {sources: [my_platform.c], include_dirs: [...]}' "
                     "(template: firmware/platform/template/tg_platform_template.c)")
    raw = r.mapping(raw, "platform", "platform")
    sources = _paths(r, raw, "sources", "platform.sources", files=True)
    if not sources:
        raise r.fail("platform.sources", "missing", "list the C files that implement tg_platform.h")
    bad = [s for s in sources if s.suffix not in (".c", ".s", ".S")]
    if bad:
        raise r.fail("platform.sources", f"{show(bad[0].name)} is not a .c, .s or .S file",
                     "list only sources to compile; put headers in include_dirs")
    defines = r.strings(raw, "defines", "platform.defines")
    for d in defines:
        if not _DEFINE.match(d):
            raise r.fail("platform.defines", f"cannot read define {show(d)}", "write NAME or NAME=VALUE")
    scripts = _paths(r, raw, "linker_script", "platform.linker_script", files=True)
    if len(scripts) > 1:
        raise r.fail("platform.linker_script", "matches several files", "give one linker script")
    return Platform(
        sources=tuple(sources),
        include_dirs=tuple(_paths(r, raw, "include_dirs", "platform.include_dirs", files=False)),
        defines=tuple(defines),
        linker_script=scripts[0] if scripts else None,
        common=r.boolean(raw, "common", "platform.common", required=False, default=True),
    )


def parse_board(path: Path, data: Any) -> Board:
    """A validated board, or one TinygenError listing every problem of the
    file, one line each."""
    r = Reader(path, KEYS)
    data = r.mapping(data, "<top level>")
    with r.section():
        r.known_keys(data, "<top level>", "")
    name = r.attempt(r.string, data, "name", "name")
    with r.section():
        if name is not None and not _BOARD_NAME.match(name):
            raise r.fail("name", f"{show(name)} is not a board name",
                         "use letters, digits, '_', '-' or '.'")
        if name is not None and name != path.stem:
            raise r.fail("name", f"{show(name)} differs from the file name {show(path.stem)}",
                         f"rename the file to {name}.yaml or set name: {path.stem}")
    family = r.attempt(_family, r, data)
    chip = r.attempt(_chip, r, data, family) if family is not None or "chip" in data else None
    chip_failed = "chip" in data and chip is None
    part = chip if not chip_failed else None
    core = r.attempt(_core, r, data, family, part) if not chip_failed else None
    regions = r.attempt(_memory, r, data, family, part) if not chip_failed else None
    timestamp = r.attempt(r.string, data, "timestamp", "timestamp", TIMESTAMP_SOURCES)
    clock_hz = r.attempt(_clock, r, data, family, part, timestamp) if not chip_failed else None
    emulator = r.attempt(_emulator, r, data, family, part) if not chip_failed else None
    info = shipped_families().get(family or "")
    gpio = part.gpio if part is not None and part.gpio is not None else (info.gpio if info else None)
    console = r.attempt(_console, r, data, family, part, gpio) if not chip_failed else None
    energy_gpio = None
    with r.section():
        if info is not None and not info.energy_gpio and "energy_gpio" in data:
            raise r.fail("energy_gpio", f"the {family} platform has no GPIO to drive "
                         "(energy mode needs a real board)", "remove energy_gpio:")
        energy_gpio = _pin(r, data, "energy_gpio", "energy_gpio", gpio)
    platform = r.attempt(_platform, r, data, family)
    power = r.attempt(_parse_power, r, data)
    usb: list[str] = []
    with r.section():
        usb = r.get(data, "usb_ids", "usb_ids", required=False) or []
        if (not isinstance(usb, list) or len(usb) > 32
                or not all(isinstance(u, str) and _USB_ID.match(u) for u in usb)):
            raise r.fail("usb_ids", f"cannot read {show(usb)}",
                         "list USB ids as \"VID:PID\" in hex, e.g. \"0483:374b\"")
    pyocd_target = None
    with r.section():
        flash_cfg = r.get(data, "flash", "flash", required=False)
        if flash_cfg is not None:
            flash_cfg = r.mapping(flash_cfg, "flash", "flash")
            pyocd_target = r.string(flash_cfg, "pyocd_target", "flash.pyocd_target",
                                    required=part is None or part.pyocd_target is None)
            pyocd_target = pyocd_target or part.pyocd_target
            if part is not None and part.fixed_hz is not None:
                raise r.fail("flash", f"{part.name} exists here only as a QEMU machine",
                             "remove flash: (run it with the emulator)")
        if family == "host" and (pyocd_target or usb):
            raise r.fail("flash" if pyocd_target else "usb_ids", "the host board is not flashed",
                         "remove it")
    with r.section():
        cpu = core[0] if core else None
        if family == "host" and timestamp not in (None, "host-clock"):
            raise r.fail("timestamp", f"'{timestamp}' on the host board", "use timestamp: host-clock")
        if family not in (None, "host") and timestamp == "host-clock":
            raise r.fail("timestamp", f"'host-clock' on a {cpu or 'Cortex-M'} board",
                         "use timestamp: systick or dwt")
        if timestamp == "dwt" and emulator is not None:
            raise r.fail("timestamp", "'dwt' on an emulated board: QEMU does not model the DWT "
                         "cycle counter (it would read 0)", "use timestamp: systick")
        if timestamp == "dwt" and cpu in ("cortex-m0", "cortex-m0plus", "cortex-m23"):
            raise r.fail("timestamp", f"a {cpu} has no DWT cycle counter", "use timestamp: systick")
        if platform is not None and timestamp == "dwt" and not platform.common:
            raise r.fail("timestamp", "'dwt' is tinygen's common timestamp code, which "
                         "platform.common: false leaves out", "set platform.common: true or "
                         "implement tg_timestamp_us in your platform code (timestamp: systick)")
    notes = ""
    with r.section():
        notes = data.get("notes") or ""
        if not isinstance(notes, str) or len(notes) > 4000:
            raise r.fail("notes", f"expected text of at most 4000 characters, got {show(notes)}",
                         "write notes as a short string")
    title = r.attempt(r.string, data, "title", "title")
    vendor = r.attempt(r.string, data, "vendor", "vendor")
    with r.section():
        if (family not in (None, "host") and "flash" not in data and emulator is None
                and "emulator" not in data):
            raise r.fail("flash", "the board can be neither flashed nor emulated",
                         "add 'flash: {pyocd_target: ...}' or 'emulator: {qemu_machine: ...}'")
    r.finish()
    cpu, fpu, dsp, mve = core
    return Board(
        name=name, title=title, vendor=vendor, family=family, cpu=cpu, fpu=fpu, dsp=dsp,
        clock_hz=clock_hz, memory=tuple(regions), console=console, timestamp=timestamp,
        energy_gpio=energy_gpio, pyocd_target=pyocd_target, emulator=emulator,
        usb_ids=tuple(u.lower() for u in usb), notes=notes.strip(), path=path,
        chip=part.name if part else None, mve=mve, platform=platform, power=power, part=part,
    )


def load_board_file(path: Path) -> Board:
    path = Path(path)
    return parse_board(path, load_yaml(path, "board file"))


def board_dirs() -> list[Path]:
    """Where boards are found by name: TINYGEN_BOARDS folders, then boards/."""
    return [*user_dirs(), boards_dir()]


def board_names(directory: Path | None = None) -> list[str]:
    folders = [directory] if directory else board_dirs()
    names: list[str] = []
    for folder in folders:
        for p in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
            if p.stem not in names:
                names.append(p.stem)
    return sorted(names)


def _board_path(name: str, directory: Path | None) -> Path | None:
    for folder in [directory] if directory else board_dirs():
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def load_board(name_or_path: str, directory: Path | None = None) -> Board:
    """A board by name (a folder of TINYGEN_BOARDS, then boards/) or by
    path to a YAML file. A misspelled name gets the nearest known one."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return load_board_file(candidate)
    path = _board_path(name_or_path, directory) if _BOARD_NAME.match(name_or_path) else None
    if path is None:
        names = board_names(directory)
        near = difflib.get_close_matches(name_or_path, names, n=1, cutoff=0.6)
        if near and candidate.suffix not in (".yaml", ".yml"):
            raise TinygenError(f"unknown board '{name_or_path}'; did you mean {near[0]}? "
                               "(tinygen boards lists them all)")
        known = ", ".join(names) or "none"
        raise TinygenError(
            f"unknown board {show(name_or_path)}; known boards: {known} "
            "(or pass the path of a board YAML file, or add its folder to TINYGEN_BOARDS)"
        )
    return load_board_file(path)


def all_boards(directory: Path | None = None) -> list[Board]:
    return [load_board_file(_board_path(n, directory)) for n in board_names(directory)]
