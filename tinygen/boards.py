"""Boards: what a target is, read from boards/*.yaml and validated.

A board is data. Adding a board means adding a YAML file; the platform
code for its chip family lives in firmware/platform/<family>/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tinygen.errors import TinygenError
from tinygen.paths import boards_dir

CPUS = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "native")
FPUS = ("none", "fpv4-sp-d16", "fpv5-sp-d16", "fpv5-d16", "native")
FAMILIES = ("stm32l4", "mps2", "host")
CONSOLE_DRIVERS = ("stm32-usart", "stm32-lpuart", "cmsdk-uart", "host-stdio")
TIMESTAMP_SOURCES = ("systick", "dwt", "host-clock")
MEMORY_KINDS = ("flash", "ram")

_SIZE = re.compile(r"^\s*(\d+)\s*([KkMm]?)\s*$")
_PIN = re.compile(r"^P[A-K](1[0-5]|[0-9])$")
_USB_ID = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")


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
    block = r.mapping(block, "power")
    values = {}
    for key, low, high in (("run_ua_per_mhz", 1.0, 10000.0), ("supply_v", 1.0, 5.5)):
        value = block.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise r.fail(f"power.{key}", f"cannot use {value!r}",
                         f"give a number from {low:g} to {high:g} (datasheet run current per MHz, "
                         "supply voltage)")
        values[key] = float(value)
    unknown = sorted(set(block) - set(values))
    if unknown:
        raise r.fail("power", f"unknown key(s) {', '.join(unknown)}",
                     "use run_ua_per_mhz and supply_v")
    return Power(**values)


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
            "core": {"cpu": self.cpu, "fpu": self.fpu, "dsp": self.dsp},
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
            "usb_ids": list(self.usb_ids),
            "kinds": self.kinds,
            "notes": self.notes,
            "power": ({"run_ua_per_mhz": self.power.run_ua_per_mhz,
                       "supply_v": self.power.supply_v} if self.power else None),
        }


def _pin_dict(pin: Pin | None) -> dict[str, Any] | None:
    return None if pin is None else {"pin": pin.pin, "af": pin.af}


class _Reader:
    """Reads one board mapping, naming the file and key in every error."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str, fix: str) -> TinygenError:
        return TinygenError(f"{self.path}: key '{key}': {problem}; {fix}")

    def mapping(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, f"expected a mapping, got {type(data).__name__}",
                            "write it as 'key: value' lines")
        return data

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
            raise self.fail(dotted, f"unknown value {value!r}", "use one of " + ", ".join(choices))
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

    def boolean(self, data, key, dotted) -> bool:
        value = self.get(data, key, dotted)
        if not isinstance(value, bool):
            raise self.fail(dotted, f"expected true or false, got {value!r}", "write true or false")
        return value

    def pin(self, data, key, dotted, required=False) -> Pin | None:
        value = self.get(data, key, dotted, required)
        if value is None:
            return None
        value = self.mapping(value, dotted)
        name = self.string(value, "pin", f"{dotted}.pin")
        if not _PIN.match(name):
            raise self.fail(f"{dotted}.pin", f"{name!r} is not a GPIO pin name",
                            "write it as P<port><number>, e.g. PB6")
        af = self.integer(value, "af", f"{dotted}.af", required=False)
        if af is not None and af > 15:
            raise self.fail(f"{dotted}.af", f"alternate function {af} out of range", "use 0 to 15")
        return Pin(name, af)


def parse_board(path: Path, data: Any) -> Board:
    r = _Reader(path)
    data = r.mapping(data, "<top level>")
    name = r.string(data, "name", "name")
    if name != path.stem:
        raise r.fail("name", f"'{name}' differs from the file name '{path.stem}'",
                     f"rename the file to {name}.yaml or set name: {path.stem}")
    core = r.mapping(r.get(data, "core", "core"), "core")
    memory_list = r.get(data, "memory", "memory", required=False) or []
    if not isinstance(memory_list, list):
        raise r.fail("memory", "expected a list of regions",
                     "list regions as '- {name: FLASH, kind: flash, base: 0x08000000, size: 1M}'")
    regions = []
    for i, item in enumerate(memory_list):
        key = f"memory[{i}]"
        item = r.mapping(item, key)
        regions.append(MemoryRegion(
            name=r.string(item, "name", f"{key}.name"),
            kind=r.string(item, "kind", f"{key}.kind", MEMORY_KINDS),
            base=r.integer(item, "base", f"{key}.base"),
            size=r.size(item, "size", f"{key}.size"),
        ))
    family = r.string(data, "family", "family", FAMILIES)
    if family != "host":
        for kind in MEMORY_KINDS:
            if not any(reg.kind == kind for reg in regions):
                raise r.fail("memory", f"no {kind} region", f"add a region with kind: {kind}")
    console = r.mapping(r.get(data, "console", "console"), "console")
    baud = r.mapping(r.get(console, "baud", "console.baud"), "console.baud")
    emulator = r.get(data, "emulator", "emulator", required=False)
    if emulator is not None:
        emulator = r.mapping(emulator, "emulator")
        emulator = Emulator(
            qemu_machine=r.string(emulator, "qemu_machine", "emulator.qemu_machine"),
            icount_shift=r.integer(emulator, "icount_shift", "emulator.icount_shift"),
        )
        if emulator.icount_shift > 10:
            raise r.fail("emulator.icount_shift", "shift above 10",
                         "use 0 (1 ns per instruction) to 10")
    usb = r.get(data, "usb_ids", "usb_ids", required=False) or []
    if not isinstance(usb, list) or not all(isinstance(u, str) and _USB_ID.match(u) for u in usb):
        raise r.fail("usb_ids", f"cannot read {usb!r}", "list USB ids as \"VID:PID\" in hex, e.g. \"0483:374b\"")
    flash_cfg = r.get(data, "flash", "flash", required=False)
    pyocd_target = None
    if flash_cfg is not None:
        flash_cfg = r.mapping(flash_cfg, "flash")
        pyocd_target = r.string(flash_cfg, "pyocd_target", "flash.pyocd_target")
    board = Board(
        name=name,
        title=r.string(data, "title", "title"),
        vendor=r.string(data, "vendor", "vendor"),
        family=family,
        cpu=r.string(core, "cpu", "core.cpu", CPUS),
        fpu=r.string(core, "fpu", "core.fpu", FPUS),
        dsp=r.boolean(core, "dsp", "core.dsp"),
        clock_hz=r.integer(data, "clock_hz", "clock_hz", minimum=1),
        memory=tuple(regions),
        console=Console(
            driver=r.string(console, "driver", "console.driver", CONSOLE_DRIVERS),
            instance=r.string(console, "instance", "console.instance"),
            base=r.integer(console, "base", "console.base", required=False),
            tx=r.pin(console, "tx", "console.tx"),
            rx=r.pin(console, "rx", "console.rx"),
            baud_performance=r.integer(baud, "performance", "console.baud.performance", minimum=300),
            baud_energy=r.integer(baud, "energy", "console.baud.energy", minimum=300),
        ),
        timestamp=r.string(data, "timestamp", "timestamp", TIMESTAMP_SOURCES),
        energy_gpio=r.pin(data, "energy_gpio", "energy_gpio"),
        pyocd_target=pyocd_target,
        emulator=emulator,
        usb_ids=tuple(u.lower() for u in usb),
        notes=(data.get("notes") or "").strip(),
        path=path,
        power=_parse_power(r, data),
    )
    if family != "host" and not (board.is_real or board.is_emulated):
        raise r.fail("flash", "the board can be neither flashed nor emulated",
                     "add 'flash: {pyocd_target: ...}' or 'emulator: {qemu_machine: ...}'")
    return board


def load_board_file(path: Path) -> Board:
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
