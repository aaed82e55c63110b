"""The emulated DUT's own clock at a pin edge: its SysTick millisecond count.

Why not QEMU's clocks: QMP's instruction count (``query-replay``) is virtual
time only while the CPU runs; a streaming DUT sleeps in WFI between frames
and QEMU skips that idle time by warping its virtual clock, which the
instruction count does not show (frame periods would come out as the
processing time alone). And every stop at a watchpoint lets QEMU warp the
virtual clock to the next timer deadline (measured: three edges 50
instructions apart, three successive milliseconds), so neither the virtual
clock nor SysTick's counter (which also reads 0 through the GDB stub) tells
how long the DUT worked between two edges.

What is reliable: the DUT's millisecond count (``tg_ms_count`` in
``tg_systick.c``), the clock its emulated audio source is paced by, says
which millisecond of the DUT's time an edge falls in (frame starts come out
exactly 32 ms apart); the instruction count between two edges of one frame
is the DUT's processing time (no sleep inside a frame). The simulated
interface board uses the first for times and the second for on-times.
"""

from __future__ import annotations

from pathlib import Path

from tinygen.errors import TinygenError

MS_COUNT = "tg_ms_count"
NS_PER_MS = 1_000_000


def elf_symbols(image: Path, names: tuple[str, ...]) -> dict[str, int]:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    found: dict[str, int] = {}
    try:
        with open(image, "rb") as stream:
            for section in ELFFile(stream).iter_sections():
                if isinstance(section, SymbolTableSection):
                    for name in names:
                        for sym in section.get_symbol_by_name(name) or []:
                            found[name] = sym["st_value"]
    except (OSError, ELFError) as exc:
        raise TinygenError(f"cannot read the symbols of {image} ({exc}); rebuild it with "
                           "'tinygen build'") from exc
    return found


class GuestClock:
    """``clock(gdb, icount) -> ns``: the DUT's SysTick millisecond at the edge, in ns."""

    def __init__(self, ms_count: int):
        self.ms_count = ms_count

    @classmethod
    def from_elf(cls, image: Path) -> "GuestClock":
        syms = elf_symbols(image, (MS_COUNT,))
        if MS_COUNT not in syms:
            raise TinygenError(f"{image} has no {MS_COUNT} (the SysTick timestamp); its pin "
                               "edges cannot be timed with the DUT's clock")
        return cls(syms[MS_COUNT])

    def __call__(self, gdb, icount: int) -> int:
        ms = gdb.read_u32(self.ms_count) | (gdb.read_u32(self.ms_count + 4) << 32)
        return ms * NS_PER_MS
