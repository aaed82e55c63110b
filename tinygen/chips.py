"""Cores and parts: the facts a board file is checked against.

The cores are the Arm architecture's facts (which FPUs, whether DSP and
Helium exist, how GCC names them) and live here. The parts are data: one
YAML file per part (``part:``, core, maximum clock, memory windows, console
UARTs with their bases, GPIO naming, QEMU machine), shipped in
boards/parts/, and a user's own beside their board file
(``<board folder>/parts/<part>.yaml``), in a folder of ``TINYGEN_BOARDS``
(``<dir>/parts/``), or named by path in ``chip:``. A part file is validated
as strictly as a board file. Figures of the shipped parts come from their
reference manuals and datasheets (cited in each file) and, for the Arm
MPS2/MPS3 machines, from QEMU 10 (measured: firmware/platform/README.md).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from tinygen.datafile import Reader, load_yaml, show
from tinygen.errors import TinygenError
from tinygen.families import GPIO_STYLES, GpioStyle, shipped_families
from tinygen.paths import boards_dir


@dataclass(frozen=True)
class Core:
    """An Arm M-profile core as GCC compiles for it."""

    name: str
    arch: str                 # armv6-m, armv7-m, armv7e-m, armv8-m.base/.main, armv8.1-m.main
    fpus: tuple[str, ...]     # in the order a smaller one is a subset of a larger one
    dsp: str                  # "always", "never" or "optional" (the part says)
    mve: bool = False         # Helium possible (the part says)
    gcc_name: str | None = None   # -mcpu name; None: GCC 12 lacks it, use -march

    def gcc_flags(self, dsp: bool, mve: bool, fpu: str) -> list[str]:
        """-mcpu (or -march) with the optional extensions a board leaves
        out switched off."""
        if self.gcc_name is None:
            # Cortex-M85 (Armv8.1-M with Helium, PACBTI): GCC 12 has no
            # -mcpu=cortex-m85; the architecture with its extensions is the
            # same instruction set (tuning aside).
            ext = "+dsp" if dsp else ""
            if mve:
                ext += "+mve.fp+fp.dp" if fpu != "none" else "+mve"
            elif fpu != "none":
                ext += "+fp.dp"
            return [f"-march={self.arch}{ext}"]
        flag = self.gcc_name
        if self.dsp == "optional" and not dsp:
            flag += "+nodsp"
        if self.mve and not mve:
            flag += "+nomve"
        return [f"-mcpu={flag}"]


CORES: Mapping[str, Core] = MappingProxyType({c.name: c for c in (
    Core("cortex-m0", "armv6-m", ("none",), "never", gcc_name="cortex-m0"),
    Core("cortex-m0plus", "armv6-m", ("none",), "never", gcc_name="cortex-m0plus"),
    Core("cortex-m3", "armv7-m", ("none",), "never", gcc_name="cortex-m3"),
    Core("cortex-m4", "armv7e-m", ("none", "fpv4-sp-d16"), "always", gcc_name="cortex-m4"),
    Core("cortex-m7", "armv7e-m", ("none", "fpv5-sp-d16", "fpv5-d16"), "always",
         gcc_name="cortex-m7"),
    Core("cortex-m23", "armv8-m.base", ("none",), "never", gcc_name="cortex-m23"),
    Core("cortex-m33", "armv8-m.main", ("none", "fpv5-sp-d16"), "optional",
         gcc_name="cortex-m33"),
    Core("cortex-m55", "armv8.1-m.main", ("none", "fpv5-d16"), "always", mve=True,
         gcc_name="cortex-m55"),
    Core("cortex-m85", "armv8.1-m.main", ("none", "fpv5-d16"), "always", mve=True),
)})
FPUS = ("none", "fpv4-sp-d16", "fpv5-sp-d16", "fpv5-d16")


@dataclass(frozen=True)
class Uart:
    instance: str
    base: int
    driver: str
    # Family-specific facts the platform code needs (interrupt number,
    # RCC enable register offset and bit, kernel-clock selector position).
    irq: int = 0
    enr: int = 0
    bit: int = 0
    sel: int = 0


@dataclass(frozen=True)
class Window:
    """Where a kind of memory may be: a region must lie inside one."""

    kind: str
    base: int
    size: int
    name: str

    def holds(self, base: int, size: int) -> bool:
        return self.base <= base and base + size <= self.base + self.size


@dataclass(frozen=True)
class Chip:
    """A part (the word boards use is ``chip:``)."""

    name: str
    family: str
    cpu: str
    fpu: str                   # the largest FPU the part has
    dsp: bool
    max_hz: int
    windows: tuple[Window, ...]
    uarts: Mapping[str, Uart]
    mve: bool = False
    qemu_machine: str | None = None
    fixed_hz: int | None = None   # the clock is the machine's, not the firmware's
    pyocd_target: str | None = None
    vendor: str = ""
    gpio: GpioStyle | None = None
    path: Path | None = None


KEYS = {
    "": ("part", "title", "vendor", "family", "core", "max_clock_hz", "fixed_clock_hz",
         "memory", "uarts", "gpio", "qemu_machine", "pyocd_target", "notes"),
    "core": ("cpu", "fpu", "dsp", "mve"),
    "memory[]": ("name", "kind", "base", "size"),
    "uarts[]": ("instance", "base", "driver", "irq", "rcc_enr", "rcc_bit", "clock_sel"),
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,40}$")
_INSTANCE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
PART_HINT = ("write a part file (template: boards/parts/stm32l476rg.yaml) as "
             "<board folder>/parts/{name}.yaml, or give chip: as its path")


def parse_part(path: Path, data) -> Chip:
    r = Reader(path, KEYS)
    data = r.mapping(data, "<top level>", "")
    name = r.attempt(r.string, data, "part", "part")
    if name is not None and not _NAME.match(name):
        r.errors.append(str(r.fail("part", f"{show(name)} is not a part name",
                                   "use lower-case letters, digits, '-', '_' or '.'")))
    elif name is not None and name != path.stem:
        r.errors.append(str(r.fail("part", f"{show(name)} differs from the file name "
                                   f"{show(path.stem)}", f"rename the file to {name}.yaml")))
    family = r.attempt(r.string, data, "family", "family")
    if family is not None and not _NAME.match(family):
        r.errors.append(str(r.fail("family", f"{show(family)} is not a family name",
                                   "use lower-case letters and digits, e.g. stm32f4")))
        family = None
    shipped = shipped_families().get(family) if family else None
    core = None
    with r.section():
        core_map = r.mapping(r.get(data, "core", "core"), "core", "core")
        cpu = r.string(core_map, "cpu", "core.cpu", tuple(CORES))
        spec = CORES[cpu]
        fpu = r.string(core_map, "fpu", "core.fpu", spec.fpus)
        dsp = r.boolean(core_map, "dsp", "core.dsp", required=False, default=spec.dsp == "always")
        mve = r.boolean(core_map, "mve", "core.mve", required=False)
        if spec.dsp != "optional" and dsp != (spec.dsp == "always"):
            raise r.fail("core.dsp", f"a {cpu} {'always has' if spec.dsp == 'always' else 'has no'} "
                         "the DSP extension", f"set dsp: {str(spec.dsp == 'always').lower()}")
        if mve and not spec.mve:
            raise r.fail("core.mve", f"a {cpu} has no Helium (MVE)", "set mve: false")
        core = (cpu, fpu, dsp, mve)
    max_hz = r.attempt(r.integer, data, "max_clock_hz", "max_clock_hz", 1, 2_000_000_000)
    fixed_hz = r.attempt(r.integer, data, "fixed_clock_hz", "fixed_clock_hz", 1, 2_000_000_000,
                         required=False)
    windows: list[Window] = []
    with r.section():
        items = r.items(data, "memory", "memory",
                        "'- {name: FLASH, kind: flash, base: 0x08000000, size: 1M}'")
        for i, item in enumerate(items):
            key = f"memory[{i}]"
            with r.section():
                item = r.mapping(item, key, "memory[]")
                w = Window(kind=r.string(item, "kind", f"{key}.kind", ("flash", "ram")),
                           base=r.address(item, "base", f"{key}.base"),
                           size=r.size(item, "size", f"{key}.size"),
                           name=r.string(item, "name", f"{key}.name"))
                if w.base + w.size > 1 << 32:
                    raise r.fail(key, "ends beyond the 4 GB address space", "correct base or size")
                windows.append(w)
        for kind in ("flash", "ram"):
            if not any(w.kind == kind for w in windows):
                raise r.fail("memory", f"no {kind} window", f"add the part's {kind} with kind: {kind}")
    uarts: dict[str, Uart] = {}
    with r.section():
        items = r.items(data, "uarts", "uarts",
                        "'- {instance: USART1, base: 0x40013800, driver: stm32-usart}'")
        for i, item in enumerate(items):
            key = f"uarts[{i}]"
            with r.section():
                item = r.mapping(item, key, "uarts[]")
                instance = r.string(item, "instance", f"{key}.instance")
                if not _INSTANCE.match(instance):
                    raise r.fail(f"{key}.instance", f"{show(instance)} is not an instance name",
                                 "write it as in the reference manual, e.g. USART1")
                driver = r.string(item, "driver", f"{key}.driver")
                if shipped is not None and driver not in shipped.console_drivers:
                    raise r.fail(f"{key}.driver", f"the {family} platform code has no "
                                 f"{show(driver)} driver",
                                 "use one of " + ", ".join(shipped.console_drivers))
                uarts[instance] = Uart(
                    instance=instance, base=r.address(item, "base", f"{key}.base"), driver=driver,
                    irq=r.integer(item, "irq", f"{key}.irq", 0, 495, required=False) or 0,
                    enr=r.integer(item, "rcc_enr", f"{key}.rcc_enr", 0, 0xFFF, required=False) or 0,
                    bit=r.integer(item, "rcc_bit", f"{key}.rcc_bit", 0, 31, required=False) or 0,
                    sel=r.integer(item, "clock_sel", f"{key}.clock_sel", 0, 31,
                                  required=False) or 0)
    gpio = None
    with r.section():
        style = r.string(data, "gpio", "gpio", tuple(GPIO_STYLES), required=False)
        gpio = GPIO_STYLES[style] if style else (shipped.gpio if shipped else None)
    qemu = r.attempt(r.string, data, "qemu_machine", "qemu_machine", required=False)
    pyocd = r.attempt(r.string, data, "pyocd_target", "pyocd_target", required=False)
    vendor = r.attempt(r.string, data, "vendor", "vendor")
    r.attempt(r.string, data, "title", "title", required=False)
    with r.section():
        if fixed_hz is not None and qemu is None:
            raise r.fail("fixed_clock_hz", "a fixed clock is an emulated machine's",
                         "add qemu_machine:, or remove fixed_clock_hz:")
        if fixed_hz is not None and max_hz is not None and fixed_hz != max_hz:
            raise r.fail("max_clock_hz", f"differs from fixed_clock_hz {fixed_hz}",
                         f"set max_clock_hz: {fixed_hz}")
    r.finish()
    cpu, fpu, dsp, mve = core
    return Chip(name=name, family=family, cpu=cpu, fpu=fpu, dsp=dsp, max_hz=max_hz,
                windows=tuple(windows), uarts=MappingProxyType(uarts), mve=mve,
                qemu_machine=qemu, fixed_hz=fixed_hz, pyocd_target=pyocd, vendor=vendor,
                gpio=gpio, path=path)


def load_part_file(path: Path) -> Chip:
    path = Path(path)
    return parse_part(path, load_yaml(path, "part file"))


def user_dirs() -> list[Path]:
    """The board folders of ``TINYGEN_BOARDS`` (os.pathsep-separated)."""
    return [Path(p).expanduser() for p in os.environ.get("TINYGEN_BOARDS", "").split(os.pathsep)
            if p.strip()]


def part_dirs(board_folder: Path | None = None) -> list[Path]:
    """Where parts are looked for, first match wins: beside the board,
    the TINYGEN_BOARDS folders, then tinygen's own."""
    folders = ([board_folder] if board_folder else []) + user_dirs() + [boards_dir()]
    out: list[Path] = []
    for folder in folders:
        d = folder / "parts"
        if d not in out:
            out.append(d)
    return out


def known_parts(board_folder: Path | None = None) -> dict[str, Chip]:
    """Every part file on the search path, by name (the first one wins)."""
    found: dict[str, Chip] = {}
    for d in part_dirs(board_folder):
        for p in sorted(d.glob("*.yaml")) if d.is_dir() else ():
            if p.stem not in found:
                found[p.stem] = load_part_file(p)
    return found


def find_part(name_or_path: str, board_folder: Path | None = None) -> Chip | None:
    """A part by name on the search path or by path; None when unknown."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path).expanduser()
        if not path.is_absolute() and board_folder is not None:
            path = board_folder / path
        if not path.is_file():
            raise TinygenError(f"part file {path} does not exist; give chip: as the path of a "
                               "part file (relative to the board file) or a part name")
        return load_part_file(path)
    for d in part_dirs(board_folder):
        path = d / f"{name_or_path.lower()}.yaml"
        if path.is_file():
            return load_part_file(path)
    return None


def same_family_suggestion(name: str, family: str, parts: Mapping[str, Chip]) -> str:
    """'did you mean X? ' for a part of the same family only, else ''."""
    pool = [n for n, c in parts.items() if c.family == family]
    near = difflib.get_close_matches(name.lower(), pool, n=1, cutoff=0.75)
    return f"did you mean '{near[0]}'? " if near else ""


def fpu_allowed(chip_fpu: str, core: str) -> tuple[str, ...]:
    """The FPU settings a board of this chip may use: its own or less."""
    order = CORES[core].fpus
    return order[: order.index(chip_fpu) + 1]
