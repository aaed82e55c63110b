"""Accuracy runs spread over several DUTs (``--jobs N``), merged into one session.

The dataset's stimuli are split into N contiguous shards, one per DUT
(emulated boards or host processes started for the run, or real boards of
the same kind on a list of ports). Each DUT works through its own shard on
its own thread; a DUT that runs out of work takes stimuli from the tail of
the longest remaining shard, so a slow DUT does not hold the run up. Every
result is stored at its stimulus' index, so the merged ``inferences`` list is
in dataset order and the scores are computed exactly as for a single-DUT run:
the session differs only in timing and in the ``dut`` each inference names.

A DUT that stops answering (timeout, lost connection, reset) is dropped: the
stimulus it was on goes back to its shard and the others finish that shard
("reruns" in results.json, a note in log.txt and a warning); a DUT with
nothing left to do stays until no other DUT is on a stimulus, so even the
last stimulus of a DUT lost at the very end is rerun. A DUT that
answers with a protocol error stops the whole run, as in a single-DUT run:
that is a port bug, not a lost device.

Performance mode never comes here: the rules measure one device.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from tinygen.benches import Benchmark, get_bench
from tinygen.boards import Board
from tinygen.device.launch import start_dut
from tinygen.device.session import DutDisconnected, DutReset, DutSession, DutTimeout
from tinygen.errors import TinygenError
from tinygen.runner.dataset import Dataset
from tinygen.runner.measure import check_model, inference_entry, new_accuracy, score_accuracy
from tinygen.runner.record import SessionRecord

log = logging.getLogger(__name__)

MAX_JOBS = 64
SAVE_EVERY_S = 2.0
PROGRESS_EVERY_S = 2.0
_JOIN_POLL_S = 0.2
_IDLE_POLL_S = 0.05
# A DUT that does one of these has gone away; anything else is a port bug.
_LOST = (DutTimeout, DutDisconnected, DutReset)


def split_ports(port: str | None) -> list[str]:
    """``--port a,b,c`` as a list (pyserial URLs hold no commas)."""
    if not port:
        return []
    ports = [p.strip() for p in port.split(",") if p.strip()]
    if len(set(ports)) != len(ports):
        raise TinygenError(f"--port lists a port twice ({port}); give each DUT once")
    return ports


def check_jobs(jobs: int | None, ports: list[str]) -> int:
    """How many DUTs serve the run: --jobs, or the number of ports given."""
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise TinygenError(f"--jobs must be 1 to {MAX_JOBS}, got {jobs}")
    if ports:
        if jobs not in (None, len(ports)):
            raise TinygenError(f"--jobs {jobs} but {len(ports)} DUT port(s) or place(s) given; "
                               "each is one DUT: drop --jobs or list as many")
        return len(ports)
    return jobs or 1


def split_evenly(total: int, parts: int) -> list[range]:
    """``parts`` contiguous ranges covering 0..total, sizes differing by at most one."""
    bounds = [total * k // parts for k in range(parts + 1)]
    return [range(bounds[k], bounds[k + 1]) for k in range(parts)]


@dataclass
class Dut:
    """One DUT serving a share of the run."""

    index: int                      # 1-based, as logs and results.json say it
    url: str
    session: DutSession
    assigned: range = range(0)
    served: int = 0
    status: str = "ready"           # ready, running, done, lost, stopped
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        first = self.assigned.start if len(self.assigned) else None
        last = self.assigned.stop - 1 if len(self.assigned) else None
        return {"dut": self.index, "url": self.url, "assigned": len(self.assigned),
                "first": first, "last": last, "served": self.served,
                "status": self.status, "error": self.error}


class _LockedTranscript:
    """One log.txt for every DUT: lines tagged [dutK], written under a lock."""

    def __init__(self, record: SessionRecord | None, lock: threading.Lock):
        self.record = record
        self.lock = lock

    def for_dut(self, index: int) -> Callable[[str, str], None] | None:
        if self.record is None:
            return None

        def write(direction: str, text: str) -> None:
            with self.lock:
                self.record.transcript(f"[dut{index}] {direction}", text)
        return write


@contextlib.contextmanager
def open_duts(board: Board, build_dir: Path | None, ports: list[str], jobs: int,
              record: SessionRecord | None, *, timeout: float = 10.0,
              chunk_bytes: int | None = None, baud: int | None = None,
              first: DutSession | None = None) -> Iterator[list[Dut]]:
    """``jobs`` DUTs past their boot banner (check them with ``check_duts``).

    With ``ports`` the DUTs are those ports; otherwise host and emulated
    boards are started from ``build_dir`` (QEMU's or the process's output in
    the session folder as dut-K.log). ``first``, an open session, becomes
    DUT 1 (``tinygen verify`` ran its other checks on it).
    """
    lock = threading.Lock()
    tagged = _LockedTranscript(record, lock)
    with contextlib.ExitStack() as stack:
        duts: list[Dut] = []
        if first is not None:
            duts.append(Dut(1, first.url, first))
            # From now on several threads write log.txt: DUT 1's lines too go
            # through the lock, tagged. (DutSession keeps its callback private.)
            untagged = first._transcript
            first._transcript = tagged.for_dut(1) or untagged
            stack.callback(setattr, first, "_transcript", untagged)
        urls = list(ports)
        if first is not None and urls and urls[0] == first.url:
            urls = urls[1:]
        if not urls:
            if not (board.is_host or board.is_emulated):
                raise TinygenError(f"{board.name} is a real board: --jobs needs one port per "
                                   "DUT, e.g. --port /dev/ttyACM0,/dev/ttyACM1")
            if build_dir is None:
                raise TinygenError(f"{board.name} needs its firmware build folder; pass --build")
            for k in range(len(duts) + 1, jobs + 1):
                log_path = (record.folder if record else Path(build_dir)) / f"dut-{k}.log"
                running = stack.enter_context(start_dut(board, Path(build_dir), log_path=log_path))
                log.info("started DUT %d of %d: %s", k, jobs, running.url)
                urls.append(running.url)
        for url in urls:
            k = len(duts) + 1
            if record is not None:
                record.note(f"DUT {k}: connecting to {url}")
            session = DutSession(url, timeout=timeout,
                                 baudrate=baud or board.console.baud_performance,
                                 transcript=tagged.for_dut(k),
                                 **({"chunk_bytes": chunk_bytes} if chunk_bytes else {}))
            stack.enter_context(session)
            session.wait_ready(timeout=max(timeout, 3.0))
            duts.append(Dut(k, url, session))
        if record is not None:
            record.data["duts"] = [{"dut": d.index, "url": d.url} for d in duts]
        yield duts


def check_duts(duts: list[Dut], bench: Benchmark | None,
               record: SessionRecord | None = None) -> Benchmark:
    """Every DUT runs the same model: ``bench``, or the first DUT's when None."""
    if bench is None:
        bench = get_bench(duts[0].session.profile()[1])
    for dut in duts:
        try:
            check_model(dut.session, bench, record if dut.index == 1 else None)
        except TinygenError as exc:
            raise TinygenError(f"DUT {dut.index} ({dut.url}): {exc}") from exc
    return bench


class ShardedAccuracy:
    """One accuracy run over several DUTs; ``run()`` returns the accuracy record."""

    def __init__(self, duts: list[Dut], bench: Benchmark, dataset: Dataset,
                 record: SessionRecord, timeout: float = 20.0):
        if not duts:
            raise TinygenError("no DUT to run on")
        self.duts = duts
        self.bench = bench
        self.dataset = dataset
        self.record = record
        self.timeout = timeout
        self.stimuli = dataset.accuracy_stimuli()
        self.results: list[dict[str, Any] | None] = [None] * len(self.stimuli)
        self.owner: list[int] = [0] * len(self.stimuli)   # DUT each stimulus was given to
        self.queues: dict[int, collections.deque[int]] = {}
        self.reruns: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.in_flight = 0              # stimuli some DUT is on right now
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.acc: dict[str, Any] = new_accuracy(bench, dataset, len(self.stimuli))

    # -- work distribution ----------------------------------------------------

    def _assign(self) -> None:
        for dut, share in zip(self.duts, split_evenly(len(self.stimuli), len(self.duts))):
            dut.assigned = share
            self.queues[dut.index] = collections.deque(share)
            for i in share:
                self.owner[i] = dut.index

    def _next(self, dut: Dut) -> int | None:
        """The DUT's next stimulus: its own shard first, then the longest other one's tail.

        With every shard empty it waits while another DUT is on a stimulus:
        should that DUT be lost, its stimulus comes back and this one takes it.
        """
        while True:
            with self.lock:
                own = self.queues[dut.index]
                longest = max(self.queues.values(), key=len)
                if own or longest:
                    self.in_flight += 1
                    return own.popleft() if own else longest.pop()
                if self.in_flight == 0:
                    return None
            if self.stop.wait(_IDLE_POLL_S):
                return None

    def _serve(self, dut: Dut) -> None:
        dut.status = "running"
        while not self.stop.is_set():
            i = self._next(dut)
            if i is None:
                dut.status = "done"
                return
            stim = self.stimuli[i]
            try:
                dut.session.load(stim.data, timeout=self.timeout)
                result = dut.session.infer(1, 0, timeout=self.timeout)
            except _LOST as exc:
                with self.lock:
                    self.queues[dut.index].appendleft(i)
                    self.in_flight -= 1
                    dut.status, dut.error = "lost", str(exc)
                if not self.stop.is_set():
                    log.warning("DUT %d (%s) stopped answering at %s: %s; its unfinished "
                                "stimuli go to the other DUTs", dut.index, dut.url, stim.name, exc)
                    self.record.note(f"DUT {dut.index} lost at {stim.name}: {exc}; its "
                                     "unfinished stimuli are rerun on the other DUTs")
                return
            except BaseException as exc:  # a port bug or Ctrl-C: the whole run stops
                with self.lock:
                    self.queues[dut.index].appendleft(i)
                    self.in_flight -= 1
                    if self.failure is None and not self.stop.is_set():
                        self.failure = exc
                    dut.status, dut.error = "stopped", str(exc)
                self.stop.set()
                return
            entry = {**inference_entry(stim, result), "dut": dut.index}
            with self.lock:
                self.results[i] = entry
                self.in_flight -= 1
                dut.served += 1
                owner = next(d for d in self.duts if d.index == self.owner[i])
                if owner is not dut and owner.status == "lost":
                    self.reruns.append({"stimulus": stim.name, "from_dut": owner.index,
                                        "served_by": dut.index})
        dut.status = "stopped"

    # -- the record -------------------------------------------------------------

    def _publish(self) -> None:
        """Merged results in dataset order, scored like a single-DUT run; then saved."""
        with self.lock:
            done = [r for r in self.results if r is not None]
            shards = [d.summary() for d in self.duts]
            reruns = list(self.reruns)
        self.acc["inferences"] = done
        self.acc["measured"] = len(done)
        self.acc["jobs"] = len(self.duts)
        self.acc["shards"] = shards
        lost = [s for s in shards if s["status"] == "lost"]
        self.acc["reruns"] = {"count": len(reruns), "lost_duts": [s["dut"] for s in lost],
                              "stimuli": reruns}
        score_accuracy(self.bench, self.dataset, self.acc)
        self.record.save()

    def _progress(self, started: float) -> None:
        with self.lock:
            served = [(d.index, d.served, d.status) for d in self.duts]
        done = sum(s for _, s, _ in served)
        elapsed = time.monotonic() - started
        left = elapsed / done * (len(self.stimuli) - done) if done else math.nan
        per = ", ".join(f"dut{k} {n}" + ("" if st in ("running", "done") else f" {st}")
                        for k, n, st in served)
        est = f", about {_duration(left)} left" if done and done < len(self.stimuli) else ""
        log.info("accuracy stimulus %d of %d (%s), %s elapsed%s", done, len(self.stimuli),
                 per, _duration(elapsed), est)

    # -- the run ------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self.record.data["accuracy"] = self.acc
        self._assign()
        self.record.note(f"accuracy over {len(self.duts)} DUTs: " + ", ".join(
            f"DUT {d.index} stimuli {d.assigned.start}..{d.assigned.stop - 1}"
            for d in self.duts if len(d.assigned)))
        threads = [threading.Thread(target=self._serve, args=(d,), name=f"dut{d.index}",
                                    daemon=True) for d in self.duts]
        started = time.monotonic()
        for t in threads:
            t.start()
        saved = shown = started
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(_JOIN_POLL_S / len(threads))
                now = time.monotonic()
                if now - shown >= PROGRESS_EVERY_S:
                    self._progress(started)
                    shown = now
                if now - saved >= SAVE_EVERY_S:
                    self._publish()
                    saved = now
        except BaseException:
            # Ctrl-C: let every DUT finish the command it is in (each is bounded
            # by its timeout), then keep what was measured.
            self.stop.set()
            for t in threads:
                t.join(self.timeout * 2 + 5)
            raise
        finally:
            self._publish()
        self._progress(started)
        if self.failure is not None:
            raise self.failure
        missing = sum(r is None for r in self.results)
        if missing:
            lost = "; ".join(f"DUT {d.index}: {d.error}" for d in self.duts if d.error)
            raise TinygenError(f"every DUT stopped answering with {missing} of "
                               f"{len(self.stimuli)} stimuli left ({lost}); what was measured "
                               "is in the session folder")
        if self.reruns:
            lost_ids = sorted({r["from_dut"] for r in self.reruns})
            log.warning("%d stimuli of lost DUT(s) %s were rerun on the others",
                        len(self.reruns), ", ".join(map(str, lost_ids)))
        return self.acc


def run_accuracy_sharded(duts: list[Dut], bench: Benchmark, dataset: Dataset,
                         record: SessionRecord, timeout: float = 20.0) -> dict[str, Any]:
    """run_accuracy over several DUTs; the same record apart from timing and ``dut``."""
    return ShardedAccuracy(duts, bench, dataset, record, timeout).run()


def sharded_accuracy_runner(board: Board, build_dir: Path | None, ports: list[str], jobs: int,
                            *, chunk_bytes: int | None = None, baud: int | None = None):
    """A drop-in for ``run_accuracy(dut, bench, dataset, record, timeout)`` that adds
    ``jobs - 1`` DUTs to the one given (for ``tinygen verify --jobs``)."""

    def run(dut: DutSession, bench: Benchmark, dataset: Dataset, record: SessionRecord,
            timeout: float = 20.0) -> dict[str, Any]:
        with open_duts(board, build_dir, ports, jobs, record, timeout=timeout,
                       chunk_bytes=chunk_bytes, baud=baud, first=dut) as duts:
            check_duts(duts[1:], bench)
            return run_accuracy_sharded(duts, bench, dataset, record, timeout)
    return run


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"
