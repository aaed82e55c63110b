"""Where the firmware's RAM goes: arena, db buffer, .data/.bss and stack.

Boards such as the B-L475E-IOT01A have several RAM regions that are not
contiguous (SRAM1 96 KiB at 0x20000000, SRAM2 32 KiB at 0x10000000), so the
large blocks must be assigned to regions before linking. ``plan_placement``
tries every assignment of the four blocks to the board's RAM regions and
keeps the first that fits, in an order that prefers the largest region for
each block in turn (arena, then db buffer, then .data/.bss, then stack).
When nothing fits it says by how many bytes the best assignment overflows.

The linker script (templates/port/arm_linker.ld.j2) turns the placement into
sections: ``.tg_arena`` and ``.tg_buffer`` (NOLOAD, zeroed at reset),
``.data``/``.bss`` and a ``.stack`` placed first in its region, so that a
stack overflow runs off the bottom of RAM and faults instead of silently
corrupting data. There is no heap.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from tinygen.boards import Board, MemoryRegion
from tinygen.errors import TinygenError

# Room reserved for .data/.bss (harness state, line buffer, receive ring,
# libc). The linker checks the real figure; this only steers placement.
DEFAULT_DATA_BYTES = 4096
DEFAULT_STACK_BYTES = 4096

BLOCKS = ("arena", "buffer", "data", "stack")
_ALIGN = {"arena": 16, "buffer": 8, "data": 8, "stack": 8}


def _aligned(size: int, align: int) -> int:
    return (size + align - 1) // align * align


@dataclass(frozen=True)
class Placement:
    """RAM region chosen for each block, plus the sizes that were planned."""

    board: str
    flash: MemoryRegion
    ram_regions: tuple[MemoryRegion, ...]
    arena_region: str
    buffer_region: str
    data_region: str
    stack_region: str
    arena_bytes: int
    buffer_bytes: int
    data_bytes: int
    stack_bytes: int

    def region_of(self, block: str) -> str:
        return getattr(self, f"{block}_region")

    def planned_bytes(self, region: str) -> int:
        """Bytes of the region the plan uses (with alignment padding)."""
        return sum(
            _aligned(getattr(self, f"{b}_bytes"), _ALIGN[b])
            for b in BLOCKS if self.region_of(b) == region
        )

    def describe(self) -> str:
        parts = []
        for region in self.ram_regions:
            blocks = [b for b in BLOCKS if self.region_of(b) == region.name]
            if blocks:
                parts.append(
                    f"{region.name}: " + ", ".join(f"{b} {getattr(self, f'{b}_bytes')} B" for b in blocks)
                    + f" ({self.planned_bytes(region.name)} of {region.size} B)"
                )
        return "; ".join(parts)


def _overflow(sizes: dict[str, int], regions: tuple[MemoryRegion, ...], choice: tuple[int, ...]) -> int:
    used = [0] * len(regions)
    for block, index in zip(BLOCKS, choice):
        used[index] += sizes[block]
    return sum(max(0, u - r.size) for u, r in zip(used, regions))


def plan_placement(
    board: Board,
    arena_bytes: int,
    buffer_bytes: int,
    stack_bytes: int = DEFAULT_STACK_BYTES,
    *,
    data_bytes: int = DEFAULT_DATA_BYTES,
) -> Placement:
    """Choose a RAM region for the arena, db buffer, .data/.bss and stack.

    Raises TinygenError naming the overflow in bytes when they cannot fit.
    """
    if board.is_host:
        raise TinygenError("the host board has no memory map to plan; plan_placement is for MCU boards")
    for name, value in (("arena", arena_bytes), ("buffer", buffer_bytes),
                        ("stack", stack_bytes), ("data", data_bytes)):
        if value < 0:
            raise TinygenError(f"{name} size {value} is negative; pass a size in bytes")
    flash = board.regions("flash")
    if not flash:
        raise TinygenError(f"board {board.name} has no flash region; add one to its YAML")
    # Largest first, so the first fitting assignment favours big regions.
    regions = tuple(sorted(board.regions("ram"), key=lambda r: (-r.size, r.base)))
    sizes = {
        "arena": _aligned(arena_bytes, _ALIGN["arena"]),
        "buffer": _aligned(buffer_bytes, _ALIGN["buffer"]),
        "data": _aligned(data_bytes, _ALIGN["data"]),
        "stack": _aligned(stack_bytes, _ALIGN["stack"]),
    }
    best_overflow = None
    for choice in itertools.product(range(len(regions)), repeat=len(BLOCKS)):
        overflow = _overflow(sizes, regions, choice)
        if overflow == 0:
            names = {b: regions[i].name for b, i in zip(BLOCKS, choice)}
            return Placement(
                board=board.name,
                flash=max(flash, key=lambda r: r.size),
                ram_regions=tuple(board.regions("ram")),
                arena_region=names["arena"],
                buffer_region=names["buffer"],
                data_region=names["data"],
                stack_region=names["stack"],
                arena_bytes=arena_bytes,
                buffer_bytes=buffer_bytes,
                data_bytes=data_bytes,
                stack_bytes=stack_bytes,
            )
        if best_overflow is None or overflow < best_overflow:
            best_overflow = overflow
    total = sum(sizes.values())
    layout = ", ".join(f"{r.name} {r.size} B" for r in regions)
    raise TinygenError(
        f"RAM does not fit on {board.name} by {best_overflow} bytes: arena {arena_bytes} B + db buffer "
        f"{buffer_bytes} B + .data/.bss {data_bytes} B + stack {stack_bytes} B = {total} B "
        f"for RAM regions {layout}; use a smaller model (smaller arena) or a board with more RAM"
    )
