"""Program a real board with pyOCD, then read the image back to verify it.

The split follows pyOCD's own: the board YAML names the *target*
(``flash.pyocd_target``), the *probe* is whatever ST-LINK/CMSIS-DAP is
plugged in (or the one whose unique id is given), and this module is the
*subcommand*. Checks run cheapest first and each failure is one line naming
the fix: no image, target support not installed (``pyocd pack install``),
no probe, several probes, programming or verification failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tinygen.boards import Board
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

IMAGE_NAME = "firmware.elf"


@dataclass(frozen=True)
class FlashResult:
    board: str
    target: str
    probe: str
    image: Path
    bytes_verified: int


def _pyocd_error_types() -> tuple[type[BaseException], ...]:
    from pyocd.core.exceptions import Error as PyocdError

    return (PyocdError,)


def target_installed(target: str) -> bool:
    """True when pyOCD knows the target: built in, or from an installed pack."""
    from pyocd.target import TARGET

    name = target.lower()
    if name in TARGET:
        return True
    try:
        from pyocd.target.pack.pack_target import ManagedPacks

        return any(dev.part_number.lower() == name for dev in ManagedPacks.get_installed_targets())
    except Exception as exc:  # pack index unreadable: treat as not installed
        log.debug("cannot list installed pyocd packs: %s", exc)
        return False


def check_target(board: Board, pack: Path | None = None) -> str:
    """The board's pyOCD target name, or a TinygenError saying how to install it."""
    if not board.is_real:
        how = (f"start it with 'tinygen flash --board {board.name}' (QEMU)" if board.is_emulated
               else f"run it with 'tinygen flash --board {board.name}'")
        raise TinygenError(f"{board.name} is not a real board that pyocd can program; {how}")
    target = board.pyocd_target
    if pack is not None:
        if not Path(pack).is_file():
            raise TinygenError(f"CMSIS pack {pack} not found; pass the path of a .pack file")
        return target
    if not target_installed(target):
        raise TinygenError(f"pyocd target '{target}' is not installed; run: pyocd pack install {target}")
    return target


def _elf_load_segments(image: Path) -> list[tuple[int, bytes]]:
    from elftools.elf.elffile import ELFFile

    segments = []
    with open(image, "rb") as stream:
        elf = ELFFile(stream)
        for segment in elf.iter_segments():
            if segment["p_type"] == "PT_LOAD" and segment["p_filesz"] > 0:
                segments.append((segment["p_paddr"], segment.data()[: segment["p_filesz"]]))
    return segments


def _choose_probe(probe: str | None) -> str:
    from pyocd.core.helpers import ConnectHelper

    probes = ConnectHelper.get_all_connected_probes(blocking=False, unique_id=probe)
    if not probes:
        which = f"with unique id '{probe}' " if probe else ""
        raise TinygenError(
            f"no debug probe {which}connected: plug the board's ST-LINK USB port in and check "
            "'pyocd list' (on Linux, a probe that is listed but not openable needs the ST-LINK udev rules)")
    if len(probes) > 1:
        ids = ", ".join(p.unique_id for p in probes)
        raise TinygenError(f"several debug probes connected ({ids}); choose one with --probe UID")
    return probes[0].unique_id


def flash_image(board: Board, build_dir: Path, *, probe: str | None = None,
                pack: Path | None = None) -> FlashResult:
    """Programs build_dir/firmware.elf into the board, verifies it and resets it."""
    image = Path(build_dir) / IMAGE_NAME
    if not image.is_file():
        raise TinygenError(f"no {IMAGE_NAME} in {build_dir}; run 'tinygen build --board "
                           f"{board.name} --bench B' first (or pass the right --build)")
    target = check_target(board, pack)
    segments = _elf_load_segments(image)
    if not segments:
        raise TinygenError(f"{image} has nothing to load; rebuild it with 'tinygen build'")
    unique_id = _choose_probe(probe)

    from pyocd.core.helpers import ConnectHelper
    from pyocd.flash.file_programmer import FileProgrammer

    options = {"pack": str(pack)} if pack is not None else {}
    errors = _pyocd_error_types()
    try:
        session = ConnectHelper.session_with_chosen_probe(
            blocking=False, unique_id=unique_id, target_override=target, options=options)
        if session is None:
            raise TinygenError(f"debug probe {unique_id} went away; reconnect it and retry")
        with session:
            log.info("programming %s (%s) through probe %s", image, target, unique_id)
            FileProgrammer(session).program(str(image), file_format="elf")
            verified = 0
            session.target.reset_and_halt()
            for address, data in segments:
                read = bytes(session.target.read_memory_block8(address, len(data)))
                if read != data:
                    first = next(i for i, (a, b) in enumerate(zip(read, data)) if a != b)
                    raise TinygenError(
                        f"verify failed at 0x{address + first:08X}: flash differs from {image}; "
                        f"erase the chip with 'pyocd erase --chip -t {target}' and flash again")
                verified += len(data)
            session.target.reset()
    except errors as exc:
        raise TinygenError(f"pyocd could not program {board.name}: {exc}; check the USB cable "
                           f"and that no other debugger holds the probe") from exc
    log.info("verified %d bytes; %s is running", verified, board.name)
    return FlashResult(board.name, target, unique_id, image, verified)
