"""Reach the DUT: start it (host process, QEMU) or find a real board's port."""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path
from typing import Iterator

from tinygen.benches import Benchmark
from tinygen.boards import Board
from tinygen.device.launch import start_dut
from tinygen.device.ports import find_board_port
from tinygen.device.session import (EMULATOR_LOAD_WINDOW, DutDisconnected, DutSession,
                                    DutTimeout)
from tinygen.errors import TinygenError
from tinygen.port.manifest import BuildManifest
from tinygen.runner.record import SessionRecord

log = logging.getLogger(__name__)


def check_build(build_dir: Path, manifest: BuildManifest, board: Board, bench: Benchmark | None,
                mode: str) -> Benchmark | None:
    """The build's benchmark, after refusing a build for another board, benchmark
    or firmware mode (``mode``: the firmware the run needs, performance or energy)."""
    if manifest.board and manifest.board != board.name:
        raise TinygenError(f"{build_dir} holds a build for {manifest.board}, not {board.name}; "
                           f"pass --board {manifest.board}, or a build of {board.name} with "
                           f"--build (tinygen build --board {board.name} ...)")
    if mode == "energy" and manifest.mode != "energy":
        raise TinygenError(
            f"{build_dir} holds {manifest.mode}-mode firmware, which prints its timestamps as "
            "text and keeps the timestamp pin still; build it with --mode energy "
            f"(tinygen build --board {board.name} --bench B --mode energy)")
    if mode != "energy" and manifest.mode == "energy":
        raise TinygenError(f"{build_dir} holds energy-mode firmware (GPIO timestamps, 9600 "
                           "baud); use --mode energy, or build with --mode performance for "
                           "performance, accuracy and verify runs")
    built = manifest.benchmark
    if bench is not None and built is not None and built.id != bench.id:
        raise TinygenError(f"{build_dir} holds a {built.id} build, not {bench.id}; "
                           "pass the matching --build or --bench")
    return built


# Printed at boot by firmware/platform/common/tg_clock_check.c when the
# board file's clock_hz and the emulated machine's SysTick disagree.
_CLOCK_CHECK = re.compile(r"^e-\[tinygen clock check: clock_hz (\d+), machine (\d+)\]$")


def check_emulated_clock(board: Board, banner: list[str]) -> None:
    """Fails the run, naming the board file's clock_hz, when the firmware's
    boot check found the machine's clock differs from it."""
    for line in banner:
        m = _CLOCK_CHECK.match(line)
        if m:
            said, real = int(m.group(1)), int(m.group(2))
            machine = board.emulator.qemu_machine if board.emulator else "the emulator"
            nominal = nominal_clock_hz(real)
            raise TinygenError(
                f"{board.path or board.name}: key 'clock_hz': the board says {said} Hz but QEMU's "
                f"{machine} runs SysTick at about {real / 1e6:g} MHz (measured at boot against "
                f"virtual time), so every latency would be {abs(said - nominal) / nominal:.0%} "
                f"off; set clock_hz: {nominal}")


# The boot check counts SysTick against virtual time: within this of the true clock.
CLOCK_MEASURE_TOLERANCE = 5e-4


def nominal_clock_hz(measured: int) -> int:
    """The round clock a measurement stands for (167940000 -> 168000000): the
    coarsest of 1 MHz, 100 kHz, 10 kHz, 1 kHz steps within the boot check's
    precision, else the measurement itself."""
    for step in (1_000_000, 100_000, 10_000, 1_000):
        rounded = round(measured / step) * step
        if rounded and abs(rounded - measured) <= CLOCK_MEASURE_TOLERANCE * measured:
            return rounded
    return measured


def silent_emulated_board(board: Board, exc: Exception) -> str:
    """What to check when an emulated board never answers: its board file."""
    c = board.console
    memory = ", ".join(f"{r.name} {r.kind} 0x{r.base:08X} ({r.size // 1024} KiB)"
                       for r in board.memory)
    base = f"0x{c.base:08X}" if c.base is not None else "its default address"
    return (f"{board.name} (QEMU {board.emulator.qemu_machine}) stayed silent: {exc}. "
            f"The board file {board.path or ''} says the console is {c.instance} ({c.driver}) at "
            f"{base} and the memory is {memory}; check that these are the machine's own "
            "(a wrong UART base prints nothing, code or vector table outside the memory QEMU "
            "maps locks the core: see dut.log in the session folder for 'Lockup' or a fault)")


@contextlib.contextmanager
def dut_url(board: Board, build_dir: Path | None, port: str | None,
            record: SessionRecord | None = None) -> Iterator[str]:
    """A pyserial URL for the DUT, starting it when it is emulated or native."""
    if port:
        yield port
        return
    if board.is_host or board.is_emulated:
        if build_dir is None:
            raise TinygenError(f"{board.name} needs its firmware build folder; pass --build")
        log_path = record.folder / "dut.log" if record is not None else None
        with start_dut(board, Path(build_dir), log_path=log_path) as running:
            log.info("started %s: %s", board.name, running.url)
            yield running.url
        return
    yield find_board_port(board)


@contextlib.contextmanager
def open_session(board: Board, build_dir: Path | None, port: str | None,
                 record: SessionRecord | None, timeout: float = 10.0,
                 chunk_bytes: int | None = None, baud: int | None = None) -> Iterator[DutSession]:
    """A DutSession past the DUT's boot banner."""
    with dut_url(board, build_dir, port, record) as url:
        if record is not None:
            record.data["url"] = url
            record.note(f"connecting to {url}")
        session = DutSession(
            url, timeout=timeout, baudrate=baud or board.console.baud_performance,
            transcript=record.transcript if record is not None else None,
            load_window=EMULATOR_LOAD_WINDOW if board.is_emulated and not port else 1,
            **({"chunk_bytes": chunk_bytes} if chunk_bytes else {}))
        with session:
            try:
                banner = session.wait_ready(timeout=max(timeout, 3.0))
            except (DutTimeout, DutDisconnected) as exc:
                if board.is_emulated and not port:
                    raise TinygenError(silent_emulated_board(board, exc)) from exc
                raise
            check_emulated_clock(board, banner)
            if record is not None:
                # m-timestamp-mode-performance / -energy, when the banner was seen.
                modes = [ln.rsplit("-", 1)[-1] for ln in banner
                         if ln.startswith("m-timestamp-mode-")]
                if modes:
                    record.data["timestamp_mode"] = modes[-1]
            yield session
