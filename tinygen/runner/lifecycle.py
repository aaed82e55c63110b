"""One session from start to end, the same for every command that reaches a DUT.

``tinygen run`` (performance, accuracy, energy), ``verify`` (performance-
and energy-mode firmware) and ``profile`` each open their session folder
with ``recorded_session``: it records where the DUT is, and however the
work ends it leaves the folder saying so: ``interrupted`` after Ctrl-C,
``failed`` with the error after a fault (both raised on to the CLI, which
prints one line), else the status the work set (``passed``/``failed`` for
verify) or ``complete``.

The options that say how to reach a DUT (``DutOptions``) and the energy
bench (``EnergyOptions``) are typed here once, for every command.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tinygen.benches import Benchmark
from tinygen.boards import Board
from tinygen.device.labgrid import acquired_places, flash_place, split_places
from tinygen.errors import TinygenError
from tinygen.runner.dataset import Dataset, load_dataset
from tinygen.runner.record import SessionRecord, default_session_dir, session_facts
from tinygen.runner.shard import check_jobs, split_ports

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DutOptions:
    """Where the DUT is and how to talk to it (--port, --place, --jobs, ...)."""

    port: str | None = None          # a serial port or pyserial URL; several comma separated
    place: str | None = None         # labgrid place(s), comma separated
    jobs: int | None = None          # accuracy: DUTs sharing the dataset
    timeout: float = 10.0            # seconds a protocol command may take
    chunk_bytes: int | None = None   # bytes per 'db' line
    baud: int | None = None          # real serial ports

    @property
    def reached(self) -> str | None:
        """What reaches a DUT tinygen does not start (a port or a labgrid place)."""
        return self.port or self.place


@dataclass(frozen=True)
class EnergyOptions:
    """The energy bench: monitor, interface board, supply voltage."""

    emon: str = "lpm01a"
    emon_port: str | None = None
    interface: str = "h573"
    interface_port: str | None = None
    voltage: float | None = None     # None: the board's power: supply_v (device.emon)

    @property
    def instruments_given(self) -> bool:
        """A real monitor or interface board was named (no simulators)."""
        return self.emon_port is not None or self.interface_port is not None


def session_folder(out: Path | None, board: Board, bench: Benchmark | None, mode: str) -> Path:
    """--out as given, else sessions/<time>-<board>-<bench>-<mode>."""
    return out if out is not None else default_session_dir(
        board.name, bench.id if bench else "dut", mode)


def measured_anything(data: dict[str, Any]) -> bool:
    """Whether a session holds a figure (a window, an inference, a check)."""
    perf, acc, energy = data.get("performance"), data.get("accuracy"), data.get("energy")
    return bool((perf or {}).get("windows") or (acc or {}).get("measured")
                or (energy or {}).get("windows") or data.get("checks") or data.get("rows"))


@contextlib.contextmanager
def recorded_session(folder: Path, facts: dict[str, Any]) -> Iterator[SessionRecord]:
    """The session folder for the work in the ``with`` block, ended however it ends.

    Ctrl-C finishes it ``interrupted``, a TinygenError ``failed`` with the
    message (both re-raised); otherwise it keeps the status the work set
    with ``record.finish`` or finishes ``complete``.
    """
    with SessionRecord(folder) as record:
        record.data.update(facts)
        log.info("session folder: %s", record.folder)
        try:
            yield record
        except KeyboardInterrupt:
            record.finish("interrupted", "stopped by Ctrl-C")
            log.info("interrupted; %s", _what_is_kept(record, "before Ctrl-C"))
            raise
        except TinygenError as exc:
            record.finish("failed", str(exc))
            log.info("%s", _what_is_kept(record, "before the error"))
            raise
        if record.data.get("status") == "running":
            record.finish("complete")


def _what_is_kept(record: SessionRecord, when: str) -> str:
    if measured_anything(record.data):
        return f"what was measured {when} is in {record.folder}"
    return f"nothing was measured; the transcript is in {record.folder / 'log.txt'}"


def dataset_for(bench: Benchmark | None, path: Path | None) -> Dataset | None:
    """The --dataset folder read and checked, once the benchmark is known."""
    if path is None or bench is None:
        return None
    return load_dataset(bench, checked_dataset_path(path))


def checked_dataset_path(path: Path) -> Path:
    """--dataset names a folder; a file there (a .bin, y_labels.csv) is a common slip."""
    path = Path(path)
    if path.is_file():
        raise TinygenError(f"--dataset {path} is a file; pass the folder that holds "
                           f"y_labels.csv and the stimulus files (e.g. --dataset {path.parent})")
    return path


def reach_duts(opts: DutOptions, board: Board, build_dir: Path | None,
               stack: contextlib.ExitStack, record: SessionRecord | None = None) -> list[str]:
    """The DUTs' serial URLs given by --port or --place (empty: start them here).

    Places are acquired into ``stack`` (released when it closes) and flashed
    with ``build_dir`` when one is known.
    """
    if not opts.place:
        return split_ports(opts.port)
    if opts.port:
        raise TinygenError("--place and --port both say where the DUT is; give one")
    places = stack.enter_context(acquired_places(split_places(opts.place)))
    urls, emulated = [], set()
    for place in places:
        if record is not None:
            record.note(f"labgrid place {place.name} acquired as {place.holder} on "
                        f"{place.coordinator}: console {place.serial_url}")
        if build_dir is not None:
            done = flash_place(place, board, build_dir)
            log.info("%s", done.text)
            emulated.add(done.emulated)
            if record is not None:
                record.note(done.text)
        urls.append(place.serial_url)
    if len(emulated - {None}) > 1:
        raise TinygenError(f"places {opts.place} mix emulated and real boards; one run "
                           "measures one kind of DUT")
    if record is not None:
        record.data["places"] = [{"place": p.name, "url": p.serial_url, "holder": p.holder,
                                  "coordinator": p.coordinator} for p in places]
        # Where the DUT runs decides how its time reads (virtual under QEMU).
        real = False in emulated or (None in emulated and not board.is_emulated)
        record.data.update(session_facts(board, record.data.get("mode", "performance"),
                                         urls[0] if real else None, opts.baud))
    return urls


def jobs_for(opts: DutOptions, ports: list[str]) -> int:
    """How many DUTs serve the run: --jobs, or one per port or place."""
    return check_jobs(opts.jobs, ports)
