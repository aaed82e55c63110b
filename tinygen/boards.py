"""Boards: what a target is, read from boards/*.yaml and validated.

A board is data. Adding a board means adding a YAML file; the platform
code for its chip family lives in firmware/platform/<family>/, or, for a
vendor's own platform code, in files the board names (``family: external``
with a ``platform:`` mapping, see boards/README.md).

Validation is strict: every key must be known (a typo gets the nearest
valid key), the part (``chip:``) must be in the family's table
(tinygen/chips.py), and the board's core, FPU, DSP, Helium, clock, console
instance and base address and memory regions must agree with that part.
Everything accepted generates working code; what tinygen cannot generate
is refused here, naming the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tinygen.chips import (CHIPS, CORE_DSP_FIXED, CORE_FPUS, CORE_HAS_MVE, Chip, family_chips,
                           fpu_allowed)
from tinygen.errors import TinygenError
from tinygen.paths import boards_dir

CPUS = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "native")
FPUS = ("none", "fpv4-sp-d16", "fpv5-sp-d16", "fpv5-d16", "native")
# Shipped platform code (firmware/platform/<family>/), plus "external":
# the vendor's own platform code, named in the board's platform: mapping.
FAMILIES = ("stm32l4", "stm32h7", "stm32u5", "mps2", "host", "external")
SHIPPED_FAMILIES = ("stm32l4", "stm32h7", "stm32u5", "mps2")
CONSOLE_DRIVERS = ("stm32-usart", "stm32-lpuart", "cmsdk-uart", "host-stdio", "external")
TIMESTAMP_SOURCES = ("systick", "dwt", "host-clock")
MEMORY_KINDS = ("flash", "ram")

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

_SIZE = re.compile(r"^\s*(\d+)\s*([KkMm]?)\s*$")
_PIN = re.compile(r"^P[A-K](1[0-5]|[0-9])$")
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
    pin: str
    af: int | None = None

    @property
    def port(self) -> str:
        return self.pin[1]

    @property
    def number(self) -> int:
        return int(self.pin[2:])


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


def _parse_power(r: "_Reader", data: dict) -> Power | None:
    block = r.get(data, "power", "power", required=False)
    if block is None:
        return None
    block = r.mapping(block, "power", "power")
    values = {}
    for key, low, high in (("run_ua_per_mhz", 1.0, 10000.0), ("supply_v", 1.0, 5.5)):
        value = block.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise r.fail(f"power.{key}", f"cannot use {value!r}",
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


class _Reader:
    """Reads one board mapping, naming the file and key in every error."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str, fix: str) -> TinygenError:
        return TinygenError(f"{self.path}: key '{key}': {problem}; {fix}")

    def mapping(self, data: Any, key: str, schema: str | None = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, f"expected a mapping, got {type(data).__name__}",
                            "write it as 'key: value' lines")
        if schema is not None:
            self.known_keys(data, key, schema)
        return data

    def known_keys(self, data: dict[str, Any], key: str, schema: str) -> None:
        allowed = KEYS[schema]
        for name in data:
            if name in allowed:
                continue
            dotted = f"{key}.{name}" if key and key != "<top level>" else str(name)
            near = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.5)
            fix = (f"did you mean '{near[0]}'?" if near else
                   "remove it; valid keys here: " + ", ".join(allowed))
            raise self.fail(dotted, "unknown key", fix)

    def get(self, data: dict[str, Any], key: str, dotted: str, required: bool = True) -> Any:
        if key not in data or data[key] is None:
            if required:
                raise self.fail(dotted, "missing", f"add '{key}:' (see boards/README.md)")
            return None
        return data[key]

    def string(self, data, key, dotted, choices=None, required=True) -> str | None:
        value = self.get(data, key, dotted, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, f"expected text, got {value!r}", "give a non-empty string")
        if choices and value not in choices:
            near = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise self.fail(dotted, f"unknown value {value!r}",
                            hint + "use one of " + ", ".join(choices))
        return value

    def integer(self, data, key, dotted, minimum=0, required=True) -> int | None:
        value = self.get(data, key, dotted, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(dotted, f"expected a whole number, got {value!r}",
                            "write a decimal or 0x hexadecimal number")
        if value < minimum:
            raise self.fail(dotted, f"{value} is below {minimum}", f"use a value >= {minimum}")
        return value

    def size(self, data, key, dotted) -> int:
        value = self.get(data, key, dotted)
        if isinstance(value, str):
            m = _SIZE.match(value)
            if not m:
                raise self.fail(dotted, f"cannot read size {value!r}",
                                "write bytes as a number or with K/M, e.g. 96K or 0x18000")
            value = int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
        elif isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(dotted, f"cannot read size {value!r}",
                            "write bytes as a number or with K/M, e.g. 96K or 0x18000")
        if value <= 0:
            raise self.fail(dotted, "size must be positive", "give the region's size in bytes")
        return value

    def boolean(self, data, key, dotted, required=True, default=False) -> bool:
        value = self.get(data, key, dotted, required)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(dotted, f"expected true or false, got {value!r}", "write true or false")
        return value

    def pin(self, data, key, dotted, required=False) -> Pin | None:
        value = self.get(data, key, dotted, required)
        if value is None:
            return None
        value = self.mapping(value, dotted, "pin")
        name = self.string(value, "pin", f"{dotted}.pin")
        if not _PIN.match(name):
            raise self.fail(f"{dotted}.pin", f"{name!r} is not a GPIO pin name",
                            "write it as P<port><number>, e.g. PB6")
        af = self.integer(value, "af", f"{dotted}.af", required=False)
        if af is not None and af > 15:
            raise self.fail(f"{dotted}.af", f"alternate function {af} out of range", "use 0 to 15")
        return Pin(name, af)

    def strings(self, data, key, dotted) -> list[str]:
        value = self.get(data, key, dotted, required=False)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(dotted, f"cannot read {value!r}", "give a list of strings")
        return value

    def paths(self, data, key, dotted, *, files: bool) -> list[Path]:
        """Paths (globs allowed for files) relative to the board file."""
        out: list[Path] = []
        for item in self.strings(data, key, dotted):
            pattern = Path(item).expanduser()
            if not pattern.is_absolute():
                pattern = self.path.parent / pattern
            found = sorted(Path(p) for p in glob.glob(str(pattern)))
            found = [p.resolve() for p in found if (p.is_file() if files else p.is_dir())]
            if not found:
                what = "file" if files else "folder"
                raise self.fail(dotted, f"{item!r} matches no {what} (looked for {pattern})",
                                f"give a {what} path relative to {self.path.parent}")
            out += found
        return out


def _check_core(r: _Reader, cpu: str, fpu: str, dsp: bool, mve: bool, chip: Chip | None) -> None:
    if cpu == "native":
        if fpu != "native":
            raise r.fail("core.fpu", f"'{fpu}' on the native core", "use fpu: native")
        return
    if fpu == "native":
        raise r.fail("core.fpu", f"'native' on a {cpu}",
                     "use one of " + ", ".join(CORE_FPUS[cpu]))
    if fpu not in CORE_FPUS[cpu]:
        raise r.fail("core.fpu", f"a {cpu} has no {fpu} FPU",
                     "use one of " + ", ".join(CORE_FPUS[cpu]))
    if cpu in CORE_DSP_FIXED and dsp != CORE_DSP_FIXED[cpu]:
        raise r.fail("core.dsp", f"a {cpu} always has the DSP extension",
                     f"set dsp: {str(CORE_DSP_FIXED[cpu]).lower()}")
    if mve and cpu not in CORE_HAS_MVE:
        raise r.fail("core.mve", f"a {cpu} has no Helium (MVE)",
                     "remove mve: or set it to false (Helium is a Cortex-M55/M85 feature)")
    if mve and fpu == "none":
        raise r.fail("core.mve", "Helium shares the FPU's registers, and fpu: none leaves them out",
                     f"set fpu: {CORE_FPUS[cpu][-1]} or mve: false")
    if chip is None:
        return
    if cpu != chip.cpu:
        raise r.fail("core.cpu", f"chip {chip.name} has a {chip.cpu}, not a {cpu}",
                     f"set cpu: {chip.cpu} (or correct chip:)")
    allowed = fpu_allowed(chip.fpu, cpu)
    if fpu not in allowed:
        raise r.fail("core.fpu", f"chip {chip.name} has a {chip.fpu} FPU, which cannot run {fpu} code",
                     "use one of " + ", ".join(allowed))
    if dsp and not chip.dsp:
        raise r.fail("core.dsp", f"chip {chip.name} has no DSP extension", "set dsp: false")
    if mve and not chip.mve:
        raise r.fail("core.mve", f"chip {chip.name} has no Helium (MVE)", "set mve: false")


def _check_clock(r: _Reader, family: str, hz: int, chip: Chip | None, timestamp: str) -> None:
    if chip is not None:
        if chip.fixed_hz is not None and hz != chip.fixed_hz:
            raise r.fail("clock_hz", f"{hz} Hz, but QEMU's {chip.qemu_machine} runs its CPU and "
                         f"SysTick at {chip.fixed_hz} Hz, so timings would be "
                         f"{abs(hz - chip.fixed_hz) / chip.fixed_hz:.0%} off",
                         f"set clock_hz: {chip.fixed_hz}")
        if hz > chip.max_hz:
            raise r.fail("clock_hz", f"{_hz(hz)} is above {chip.name}'s maximum of {_hz(chip.max_hz)}",
                         f"use at most clock_hz: {chip.max_hz}")
    if family == "stm32l4":
        # PLL from HSI16, M = 1, R = 2: SYSCLK = 8 MHz * N, VCO 16 MHz * N from 128 MHz.
        if hz % (8 * _MHZ) or not 64 * _MHZ <= hz:
            raise r.fail("clock_hz", f"{_hz(hz)} cannot be made by the stm32l4 clock code "
                         "(PLL from HSI16: 8 MHz steps from 64 MHz)",
                         "use a multiple of 8 MHz, e.g. 80000000")
    elif family == "stm32h7":
        # HSI 64 MHz, or PLL1 from HSI / 16, P = 2: 2 MHz steps, VCO >= 192 MHz.
        if hz != 64 * _MHZ and (hz % (2 * _MHZ) or hz < 96 * _MHZ):
            raise r.fail("clock_hz", f"{_hz(hz)} cannot be made by the stm32h7 clock code "
                         "(HSI 64 MHz, or PLL1 in 2 MHz steps from 96 MHz)",
                         "use 64000000 or an even number of MHz from 96, e.g. 280000000")
    elif family == "stm32u5":
        # PLL1 from HSI16, M = 1, R = 2: SYSCLK = 8 MHz * N, VCO 16 MHz * N in 128..544 MHz.
        if hz % (8 * _MHZ) or not 64 * _MHZ <= hz:
            raise r.fail("clock_hz", f"{_hz(hz)} cannot be made by the stm32u5 clock code "
                         "(PLL1 from HSI16: 8 MHz steps from 64 MHz)",
                         "use a multiple of 8 MHz, e.g. 160000000")
    if timestamp == "dwt" and hz % _MHZ:
        raise r.fail("clock_hz", f"{hz} Hz is not a whole number of MHz, which the dwt "
                     "timestamp divides by", "use a whole number of MHz or timestamp: systick")


def _check_memory(r: _Reader, regions: list[MemoryRegion], chip: Chip | None) -> None:
    for i, a in enumerate(regions):
        for j, b in enumerate(regions[:i]):
            if a.base < b.base + b.size and b.base < a.base + a.size:
                raise r.fail(f"memory[{i}]", f"{a.name} overlaps {b.name} (memory[{j}])",
                             "make the regions disjoint, or one entry if they are contiguous")
        if a.name in {b.name for b in regions[:i]}:
            raise r.fail(f"memory[{i}].name", f"region name {a.name!r} used twice",
                         "give every region its own name")
        if chip is None:
            continue
        windows = [w for w in chip.windows if w.kind == a.kind]
        if not any(w.holds(a.base, a.size) for w in windows):
            where = ", ".join(f"{w.name} 0x{w.base:08X} {_size_text(w.size)}" for w in windows)
            raise r.fail(f"memory[{i}]", f"{a.name} (0x{a.base:08X}, {_size_text(a.size)}) is "
                         f"not inside {chip.name}'s {a.kind} ({where})",
                         "correct base and size from the chip's memory map")


def _console(r: _Reader, data: dict, family: str, chip: Chip | None) -> Console:
    console = r.mapping(r.get(data, "console", "console"), "console", "console")
    baud = r.mapping(r.get(console, "baud", "console.baud"), "console.baud", "console.baud")
    driver = r.string(console, "driver", "console.driver", CONSOLE_DRIVERS)
    instance = r.string(console, "instance", "console.instance")
    base = r.integer(console, "base", "console.base", required=False)
    tx = r.pin(console, "tx", "console.tx")
    rx = r.pin(console, "rx", "console.rx")
    facts: dict[str, int | None] = {}
    if family == "host" and driver != "host-stdio":
        raise r.fail("console.driver", f"'{driver}' on the host board", "use driver: host-stdio")
    if family == "external" and driver != "external":
        raise r.fail("console.driver", f"'{driver}' with family: external (the vendor's "
                     "platform code drives the console)", "use driver: external")
    if family in SHIPPED_FAMILIES and driver in ("host-stdio", "external"):
        raise r.fail("console.driver", f"'{driver}' on a {family} board",
                     "use the chip's UART driver (stm32-usart, stm32-lpuart or cmsdk-uart)")
    if chip is not None and family in SHIPPED_FAMILIES:
        uart = chip.uarts.get(instance)
        if uart is None:
            near = difflib.get_close_matches(instance, list(chip.uarts), n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise r.fail("console.instance", f"{chip.name} has no {instance} that tinygen drives",
                         hint + "use one of " + ", ".join(chip.uarts))
        if driver != uart.driver:
            raise r.fail("console.driver", f"{instance} is driven by '{uart.driver}', not '{driver}'",
                         f"set driver: {uart.driver}")
        if base is not None and base != uart.base:
            owner = next((u.instance for u in chip.uarts.values() if u.base == base), None)
            what = f"0x{base:08X} is {owner}'s base" if owner else f"0x{base:08X} is no UART's base"
            raise r.fail("console.base", f"{what}, not {instance}'s (0x{uart.base:08X})",
                         f"set base: 0x{uart.base:08X}" + (f" or instance: {owner}" if owner else ""))
        base = uart.base
        facts = {"irq": uart.irq, "rcc_enr": uart.enr, "rcc_bit": uart.bit, "clock_sel": uart.sel}
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
    return Console(
        driver=driver, instance=instance, base=base, tx=tx, rx=rx,
        baud_performance=r.integer(baud, "performance", "console.baud.performance", minimum=300),
        baud_energy=r.integer(baud, "energy", "console.baud.energy", minimum=300),
        **facts,
    )


def _platform(r: _Reader, data: dict, family: str) -> Platform | None:
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
    sources = r.paths(raw, "sources", "platform.sources", files=True)
    if not sources:
        raise r.fail("platform.sources", "missing", "list the C files that implement tg_platform.h")
    bad = [s for s in sources if s.suffix not in (".c", ".s", ".S")]
    if bad:
        raise r.fail("platform.sources", f"{bad[0].name} is not a .c, .s or .S file",
                     "list only sources to compile; put headers in include_dirs")
    defines = r.strings(raw, "defines", "platform.defines")
    for d in defines:
        if not _DEFINE.match(d):
            raise r.fail("platform.defines", f"cannot read define {d!r}", "write NAME or NAME=VALUE")
    scripts = r.paths(raw, "linker_script", "platform.linker_script", files=True)
    if len(scripts) > 1:
        raise r.fail("platform.linker_script", "matches several files", "give one linker script")
    return Platform(
        sources=tuple(sources),
        include_dirs=tuple(r.paths(raw, "include_dirs", "platform.include_dirs", files=False)),
        defines=tuple(defines),
        linker_script=scripts[0] if scripts else None,
        common=r.boolean(raw, "common", "platform.common", required=False, default=True),
    )


def parse_board(path: Path, data: Any) -> Board:
    r = _Reader(path)
    data = r.mapping(data, "<top level>", "")
    name = r.string(data, "name", "name")
    if name != path.stem:
        raise r.fail("name", f"'{name}' differs from the file name '{path.stem}'",
                     f"rename the file to {name}.yaml or set name: {path.stem}")
    family = r.string(data, "family", "family", FAMILIES)
    core = r.mapping(r.get(data, "core", "core"), "core", "core")
    chip_name = r.string(data, "chip", "chip", required=family in SHIPPED_FAMILIES)
    chip = None
    if chip_name is not None:
        chip = CHIPS.get(chip_name.lower())
        if chip is None or (family != "external" and chip.family != family):
            known = family_chips(family) if family in SHIPPED_FAMILIES else sorted(CHIPS)
            near = difflib.get_close_matches(chip_name.lower(), known, n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'? " if near else ""
            other = f" (it is a {chip.family} part: set family: {chip.family})" if chip else ""
            raise r.fail("chip", f"no {family} part named {chip_name!r}{other}",
                         hint + "use one of " + ", ".join(known) +
                         " (a new part: add it to tinygen/chips.py)")
    cpu = r.string(core, "cpu", "core.cpu", CPUS)
    fpu = r.string(core, "fpu", "core.fpu", FPUS)
    dsp = r.boolean(core, "dsp", "core.dsp")
    mve = r.boolean(core, "mve", "core.mve", required=False, default=False)
    if (family == "host") != (cpu == "native"):
        raise r.fail("core.cpu", f"'{cpu}' with family: {family}",
                     "use cpu: native for the host board only" if cpu == "native"
                     else "the host board's core is cpu: native")
    _check_core(r, cpu, fpu, dsp, mve, chip)

    memory_list = r.get(data, "memory", "memory", required=False) or []
    if not isinstance(memory_list, list):
        raise r.fail("memory", "expected a list of regions",
                     "list regions as '- {name: FLASH, kind: flash, base: 0x08000000, size: 1M}'")
    regions = []
    for i, item in enumerate(memory_list):
        key = f"memory[{i}]"
        item = r.mapping(item, key, "memory[]")
        regions.append(MemoryRegion(
            name=r.string(item, "name", f"{key}.name"),
            kind=r.string(item, "kind", f"{key}.kind", MEMORY_KINDS),
            base=r.integer(item, "base", f"{key}.base"),
            size=r.size(item, "size", f"{key}.size"),
        ))
    if family != "host":
        for kind in MEMORY_KINDS:
            if not any(reg.kind == kind for reg in regions):
                raise r.fail("memory", f"no {kind} region", f"add a region with kind: {kind}")
    elif regions:
        raise r.fail("memory", "the host board has no memory map", "remove memory:")
    _check_memory(r, regions, chip)

    timestamp = r.string(data, "timestamp", "timestamp", TIMESTAMP_SOURCES)
    clock_hz = r.integer(data, "clock_hz", "clock_hz", minimum=1)
    _check_clock(r, family, clock_hz, chip, timestamp)

    emulator = r.get(data, "emulator", "emulator", required=False)
    if emulator is not None:
        emulator = r.mapping(emulator, "emulator", "emulator")
        emulator = Emulator(
            qemu_machine=r.string(emulator, "qemu_machine", "emulator.qemu_machine"),
            icount_shift=r.integer(emulator, "icount_shift", "emulator.icount_shift"),
        )
        if emulator.icount_shift > 10:
            raise r.fail("emulator.icount_shift", "shift above 10",
                         "use 0 (1 ns per instruction) to 10")
        if family == "host":
            raise r.fail("emulator", "the host board runs natively", "remove emulator:")
        if chip is not None and chip.qemu_machine != emulator.qemu_machine:
            if chip.qemu_machine is None:
                raise r.fail("emulator.qemu_machine", f"QEMU does not emulate {chip.name}",
                             "remove emulator: (the board is real hardware only)")
            raise r.fail("emulator.qemu_machine",
                         f"{chip.name} is emulated by QEMU machine {chip.qemu_machine}, not "
                         f"{emulator.qemu_machine}", f"set qemu_machine: {chip.qemu_machine}")
    usb = r.get(data, "usb_ids", "usb_ids", required=False) or []
    if not isinstance(usb, list) or not all(isinstance(u, str) and _USB_ID.match(u) for u in usb):
        raise r.fail("usb_ids", f"cannot read {usb!r}", "list USB ids as \"VID:PID\" in hex, e.g. \"0483:374b\"")
    flash_cfg = r.get(data, "flash", "flash", required=False)
    pyocd_target = None
    if flash_cfg is not None:
        flash_cfg = r.mapping(flash_cfg, "flash", "flash")
        pyocd_target = r.string(flash_cfg, "pyocd_target", "flash.pyocd_target")
        if chip is not None and chip.fixed_hz is not None:
            raise r.fail("flash", f"{chip.name} exists here only as a QEMU machine",
                         "remove flash: (run it with the emulator)")
    if family == "host" and (pyocd_target or usb):
        raise r.fail("flash" if pyocd_target else "usb_ids", "the host board is not flashed",
                     "remove it")

    if family == "host" and timestamp != "host-clock":
        raise r.fail("timestamp", f"'{timestamp}' on the host board", "use timestamp: host-clock")
    if family != "host" and timestamp == "host-clock":
        raise r.fail("timestamp", f"'host-clock' on a {cpu} board", "use timestamp: systick or dwt")
    if timestamp == "dwt" and emulator is not None:
        raise r.fail("timestamp", "'dwt' on an emulated board: QEMU does not model the DWT "
                     "cycle counter (it would read 0)", "use timestamp: systick")

    console = _console(r, data, family, chip)
    energy_gpio = r.pin(data, "energy_gpio", "energy_gpio")
    if energy_gpio is not None and family in ("mps2", "host"):
        raise r.fail("energy_gpio", f"the {family} platform has no GPIO to drive "
                     "(energy mode needs a real board)", "remove energy_gpio:")
    platform = _platform(r, data, family)
    if platform is not None and timestamp == "dwt" and not platform.common:
        raise r.fail("timestamp", "'dwt' is tinygen's common timestamp code, which "
                     "platform.common: false leaves out", "set platform.common: true or "
                     "implement tg_timestamp_us in your platform code (timestamp: systick)")
    notes = data.get("notes") or ""
    if not isinstance(notes, str):
        raise r.fail("notes", f"expected text, got {notes!r}", "write notes as a string")

    board = Board(
        name=name,
        title=r.string(data, "title", "title"),
        vendor=r.string(data, "vendor", "vendor"),
        family=family,
        cpu=cpu,
        fpu=fpu,
        dsp=dsp,
        clock_hz=clock_hz,
        memory=tuple(regions),
        console=console,
        timestamp=timestamp,
        energy_gpio=energy_gpio,
        pyocd_target=pyocd_target,
        emulator=emulator,
        usb_ids=tuple(u.lower() for u in usb),
        notes=notes.strip(),
        path=path,
        chip=chip.name if chip else None,
        mve=mve,
        platform=platform,
        power=_parse_power(r, data),
    )
    if family != "host" and not (board.is_real or board.is_emulated):
        raise r.fail("flash", "the board can be neither flashed nor emulated",
                     "add 'flash: {pyocd_target: ...}' or 'emulator: {qemu_machine: ...}'")
    return board


def load_board_file(path: Path) -> Board:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TinygenError(f"cannot read board file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        raise TinygenError(f"{path}:{line} is not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax") from exc
    return parse_board(path, data)


def board_names(directory: Path | None = None) -> list[str]:
    directory = directory or boards_dir()
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_board(name_or_path: str, directory: Path | None = None) -> Board:
    """A board by name (boards/<name>.yaml) or by path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return load_board_file(candidate)
    directory = directory or boards_dir()
    path = directory / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(board_names(directory)) or "none"
        raise TinygenError(
            f"unknown board '{name_or_path}'; known boards: {known} "
            "(or pass the path of a board YAML file)"
        )
    return load_board_file(path)


def all_boards(directory: Path | None = None) -> list[Board]:
    directory = directory or boards_dir()
    return [load_board_file(directory / f"{n}.yaml") for n in board_names(directory)]
