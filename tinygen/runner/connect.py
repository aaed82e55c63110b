"""Reach the DUT: start it (host process, QEMU) or find a real board's port."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Iterator

from tinygen.benches import Benchmark, get_bench
from tinygen.boards import Board
from tinygen.device.ports import find_board_port
from tinygen.device.session import DutSession
from tinygen.errors import TinygenError
from tinygen.runner.record import SessionRecord

log = logging.getLogger(__name__)


def default_build_dir(board: Board, bench: Benchmark, mode: str = "performance") -> Path:
    """Where ``tinygen build`` puts a port by default (the firmware contract)."""
    from tinygen.port.generate import default_build_dir as port_default
    return port_default(board, bench, mode)


def _build_root() -> Path:
    from tinygen.paths import project_root
    return project_root() / "build"


def read_manifest(build_dir: Path) -> dict:
    path = Path(build_dir) / "build.json"
    if not path.is_file():
        raise TinygenError(f"{build_dir} holds no build.json; build the firmware first "
                           "(tinygen build --board ... --bench ...) or pass --build")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TinygenError(f"cannot read {path}: {exc}; rebuild the firmware") from exc


def manifest_bench(manifest: dict) -> Benchmark | None:
    bench = manifest.get("bench")
    if isinstance(bench, dict):
        bench = bench.get("id")
    return get_bench(bench) if isinstance(bench, str) else None


def find_build_dir(board: Board, bench: Benchmark | None, build: Path | None) -> Path:
    """--build, else the default folder for the bench, else the only one there is."""
    if build is not None:
        return Path(build)
    if bench is not None:
        return default_build_dir(board, bench)
    found = sorted(_build_root().glob(f"{board.name}-*-performance"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise TinygenError(f"no performance build of {board.name} under {_build_root()}; run "
                           f"'tinygen build --board {board.name} --bench B' or pass --build")
    raise TinygenError(f"several builds of {board.name} under {_build_root()} "
                       f"({', '.join(p.name for p in found)}); choose one with --bench or --build")


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
        try:
            from tinygen.device.launch import start_dut
        except ImportError as exc:
            raise TinygenError("this checkout has no DUT launcher (tinygen/device/launch.py); "
                               "pass --port to use a DUT you started yourself") from exc
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
            **({"chunk_bytes": chunk_bytes} if chunk_bytes else {}))
        with session:
            banner = session.wait_ready(timeout=max(timeout, 3.0))
            if record is not None:
                # m-timestamp-mode-performance / -energy, when the banner was seen.
                modes = [ln.rsplit("-", 1)[-1] for ln in banner
                         if ln.startswith("m-timestamp-mode-")]
                if modes:
                    record.data["timestamp_mode"] = modes[-1]
            yield session
