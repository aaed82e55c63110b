"""Flash and RAM of a linked firmware: by output section and by part.

Output sections come from ``objdump -h`` (size and flags: a section counts
toward flash when it is loaded from the image, toward RAM when it is
writable at run time; .data counts toward both). Parts come from the
linker map: each input section is charged to the object it came from.
Sections of a link-time optimized partition (the engine on MCU boards, see
tinygen.port.aot.lto_flags) come from a temporary object; each is charged to the
source file the image's DWARF information gives for the function or
variable at its address (the file the code was written in, through
inlining), and anything without one to the kernels, the partition's code:

    weights   read-only data of the generated model (model.c)
    arena     the tensor arena (.tg_arena, or the model's .bss on the host)
    buffer    the db input buffer (.tg_buffer)
    harness   firmware/harness/ and the generated submitter_implemented.c
    kernels   firmware/kernels/ and the model's code
    platform  firmware/platform/
    libc      the C library, libgcc and libm
    stack     the reserved main stack
    other     linker padding and anything else
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tinygen.errors import TinygenError
from tinygen.text import format_table

PARTS = ("weights", "arena", "buffer", "harness", "kernels", "platform", "libc", "stack", "other")

# Sections of a native executable that only the dynamic loader or the
# unwinder need: one row in the table (size.json keeps them all).
_LOADER_SECTIONS = (".interp", ".note", ".gnu", ".dyn", ".rela", ".plt", ".init", ".fini",
                    ".got", ".eh_frame", ".tm_clone")
_OBJDUMP_ROW = re.compile(r"^\s*\d+\s+(\S+)\s+([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s")
_OUT_SECTION = re.compile(r"^(\.?[\w.]+)(?:\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+).*)?$")
_IN_FULL = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_IN_NAME = re.compile(r"^ (\S+)$")
_IN_REST = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_FILL = re.compile(r"^ \*fill\*\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)")


@dataclass(frozen=True)
class SectionSize:
    name: str
    size: int
    flash: bool      # stored in the image
    ram: bool        # occupies RAM at run time


@dataclass
class SizeReport:
    sections: list[SectionSize]
    parts: dict[str, dict[str, int]] = field(default_factory=dict)  # part -> {"flash", "ram"}
    flash_capacity: int | None = None
    ram_capacity: int | None = None
    stack_note: str = ""     # how the stack was sized (MCU images)

    @property
    def flash_bytes(self) -> int:
        return sum(s.size for s in self.sections if s.flash)

    @property
    def ram_bytes(self) -> int:
        return sum(s.size for s in self.sections if s.ram)

    def to_dict(self) -> dict:
        return {
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "flash_capacity": self.flash_capacity,
            "ram_capacity": self.ram_capacity,
            "sections": [{"name": s.name, "size": s.size, "flash": s.flash, "ram": s.ram}
                         for s in self.sections],
            "parts": self.parts,
            "stack_note": self.stack_note,
        }

    def table(self) -> str:
        """A printable table: sections, then parts, then totals."""
        rows = [("section", "flash", "ram")]
        folded = {"flash": 0, "ram": 0}
        for s in self.sections:
            if s.name.startswith(_LOADER_SECTIONS):
                folded["flash"] += s.size if s.flash else 0
                folded["ram"] += s.size if s.ram else 0
                continue
            rows.append((s.name, str(s.size) if s.flash else "-", str(s.size) if s.ram else "-"))
        if folded["flash"] or folded["ram"]:
            rows.append(("(loader, unwind)", str(folded["flash"]), str(folded["ram"])))
        rows.append(("", "", ""))
        rows.append(("part", "flash", "ram"))
        for part in PARTS:
            sizes = self.parts.get(part)
            if sizes and (sizes["flash"] or sizes["ram"]):
                rows.append((part, str(sizes["flash"]), str(sizes["ram"])))
        rows.append(("", "", ""))
        rows.append(("total", str(self.flash_bytes), str(self.ram_bytes)))
        if self.flash_capacity:
            rows.append(("capacity", str(self.flash_capacity), str(self.ram_capacity)))
            rows.append(("used", f"{100 * self.flash_bytes / self.flash_capacity:.1f}%",
                         f"{100 * self.ram_bytes / self.ram_capacity:.1f}%"))
        text = format_table(rows, right={1, 2})
        return text + (f"\n{self.stack_note}" if self.stack_note else "")


def read_sections(objdump: str, image: Path) -> list[SectionSize]:
    try:
        out = subprocess.run([objdump, "-h", str(image)], capture_output=True, text=True,
                             timeout=60, check=True).stdout
    except FileNotFoundError as exc:
        raise TinygenError(f"'{objdump}' not found; install binutils (arm-none-eabi binutils for MCU boards)") from exc
    except subprocess.CalledProcessError as exc:
        raise TinygenError(f"{objdump} -h {image} failed: {exc.stderr.strip()}; rebuild the firmware") from exc
    lines = out.splitlines()
    sections = []
    for i, line in enumerate(lines):
        m = _OBJDUMP_ROW.match(line)
        if not m or i + 1 >= len(lines):
            continue
        flags = {f.strip() for f in lines[i + 1].split(",")}
        if "ALLOC" not in flags:
            continue
        size = int(m.group(2), 16)
        if size == 0:
            continue
        sections.append(SectionSize(
            name=m.group(1), size=size,
            flash="LOAD" in flags and "CONTENTS" in flags,
            ram="READONLY" not in flags,
        ))
    return sections


def _whole_section_part(output: str) -> str | None:
    """Output sections charged to one part whatever they contain."""
    if output.startswith(".tg_arena"):
        return "arena"
    if output.startswith(".tg_buffer"):
        return "buffer"
    if output.startswith((".stack", "._stack", ".heap")):
        return "stack"
    return None


_LTO_OBJECT = re.compile(r"\.ltrans\d*\.ltrans\.o$|\.ltrans\.o$")
_DW_OP_ADDR = 0x03


def _die_file(die) -> str | None:
    """The compilation unit a DIE was written in: through its abstract origin
    or specification, which link-time optimization's partition points back
    to the original unit."""
    for _ in range(8):
        attr = die.attributes.get("DW_AT_abstract_origin") or die.attributes.get(
            "DW_AT_specification")
        if attr is None:
            break
        die = die.get_DIE_from_attribute(attr.name)
    name = die.cu.get_top_DIE().attributes.get("DW_AT_name")
    return name.value.decode(errors="replace") if name else None


def lto_origins(image: Path) -> dict[int, str]:
    """Start address -> source file (relative to the build folder, as the
    prefix map writes it) of every function and static variable the image's
    DWARF information places; empty without debug information."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    origins: dict[int, str] = {}
    try:
        with open(image, "rb") as stream:
            elf = ELFFile(stream)
            if not elf.has_dwarf_info():
                return origins
            for cu in elf.get_dwarf_info().iter_CUs():
                for die in cu.iter_DIEs():
                    address = None
                    if die.tag == "DW_TAG_subprogram" and "DW_AT_low_pc" in die.attributes:
                        address = die.attributes["DW_AT_low_pc"].value
                    elif die.tag == "DW_TAG_variable" and "DW_AT_location" in die.attributes:
                        loc = die.attributes["DW_AT_location"]
                        if (loc.form == "DW_FORM_exprloc" and loc.value
                                and loc.value[0] == _DW_OP_ADDR):
                            raw = bytes(loc.value[1:1 + cu["address_size"]])
                            address = int.from_bytes(raw, "little")
                    if address is not None and address not in origins:
                        path = _die_file(die)
                        if path:
                            origins[address] = path
    except (ELFError, OSError, KeyError, ValueError) as exc:
        raise TinygenError(f"could not read the debug information of {image} ({exc}); "
                           "rebuild the firmware") from exc
    return origins


def _lto_part(section: str, output: str, address: int, origins: dict[int, str]) -> str:
    """The part of an input section of a link-time optimized partition."""
    path = origins.get(address)
    if path is None:
        return "kernels"
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    if path.startswith(("/", "../")):
        return "other"
    # Charged like the object the file would have compiled into.
    return _part_of(section, output, "obj/" + path)


def _part_of(section: str, output: str, origin: str) -> str:
    path = origin.replace("\\", "/")
    if re.search(r"lib(c|c_nano|g|g_nano|gcc|m|nosys)\.a|crt\w*\.o|/libc\.|/libm\.|libgcc"
                 r"|lib(std|sup)c\+\+", path):
        return "libc"
    if "libtflm-" in path:          # the TFLM runtime's library: its kernels and interpreter
        return "kernels"
    name = Path(path.split("(")[0]).name
    if "obj/src/" in path or path.startswith("src/"):
        if name.startswith(("model", "tflm_model")):
            if section.startswith((".rodata", ".srodata")):
                return "weights"
            if section.startswith((".bss", ".sbss", "COMMON")):
                return "arena"
            return "kernels"
        return "harness"
    if "obj/harness/" in path:
        return "harness"
    if "obj/kernels/" in path:
        return "kernels"
    if "obj/platform/" in path:
        return "platform"
    return "other"


def parse_map_parts(map_text: str, sections: list[SectionSize],
                    image: Path | None = None) -> dict[str, dict[str, int]]:
    """Bytes per part, from the input sections listed in a GNU ld map file
    (and, for link-time optimized partitions, the DWARF information of the
    linked ``image``)."""
    kinds = {s.name: s for s in sections}
    parts = {p: {"flash": 0, "ram": 0} for p in PARTS}
    start = map_text.find("Linker script and memory map")
    if start < 0:
        raise TinygenError("the linker map has no memory map; rebuild with -Wl,-Map")
    for s in sections:
        part = _whole_section_part(s.name)
        if part:
            parts[part]["flash"] += s.size if s.flash else 0
            parts[part]["ram"] += s.size if s.ram else 0
    output = ""
    pending = None
    origins = None
    for line in map_text[start:].splitlines()[1:]:
        if line.startswith("OUTPUT(") or line.startswith("Cross Reference"):
            break
        if line and not line[0].isspace():
            m = _OUT_SECTION.match(line)
            output = m.group(1) if m else line.split()[0]
            pending = None
            continue
        item = None
        fill = _FILL.match(line)
        if fill:
            item = ("*fill*", int(fill.group(2), 16), "", 0)
        elif pending is not None:
            m = _IN_REST.match(line)
            if m:
                item = (pending, int(m.group(2), 16), m.group(3), int(m.group(1), 16))
            pending = None
        if item is None and not fill:
            m = _IN_FULL.match(line)
            if m:
                item = (m.group(1), int(m.group(3), 16), m.group(4), int(m.group(2), 16))
            else:
                m = _IN_NAME.match(line)
                if m and not m.group(1).startswith("*"):
                    pending = m.group(1)
        if item is None:
            continue
        section, size, origin, address = item
        kind = kinds.get(output)
        if kind is None or size == 0 or _whole_section_part(output):
            continue
        if origin.startswith("load address"):
            continue
        if section == "*fill*":
            part = "other"
        elif _LTO_OBJECT.search(origin):
            if origins is None:
                origins = lto_origins(image) if image is not None else {}
            part = _lto_part(section, output, address, origins)
        else:
            part = _part_of(section, output, origin)
        if kind.flash:
            parts[part]["flash"] += size
        if kind.ram:
            parts[part]["ram"] += size
    # Whatever the map did not attribute (linker-made sections, padding).
    for key in ("flash", "ram"):
        total = sum(s.size for s in sections if getattr(s, key))
        parts["other"][key] += total - sum(p[key] for p in parts.values())
    return {p: v for p, v in parts.items() if v["flash"] or v["ram"]}


def size_report(image: Path, map_file: Path, objdump: str,
                flash_capacity: int | None = None, ram_capacity: int | None = None,
                stack_note: str = "") -> SizeReport:
    """stack_note says how the stack was sized (the engine's figures); it is
    reported for images that reserve a stack."""
    sections = read_sections(objdump, image)
    parts = parse_map_parts(map_file.read_text(errors="replace"), sections, image)
    stack = next((s for s in sections if s.name == ".stack"), None)
    note = stack_note if stack is not None else ""
    return SizeReport(sections=sections, parts=parts, flash_capacity=flash_capacity,
                      ram_capacity=ram_capacity, stack_note=note)
