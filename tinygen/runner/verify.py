"""Checks that a port is a correct MLPerf Tiny DUT: the body of ``tinygen verify``.

Each check returns a row (name, passed, detail) into the session record; a
failing check does not stop the others unless the DUT stopped answering.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from tinygen.benches import Benchmark
from tinygen.device.session import DutDisconnected, DutError, DutReset, DutSession, DutTimeout
from tinygen.errors import TinygenError
from tinygen.runner.dataset import Dataset, random_stimuli
from tinygen.runner.measure import PerformanceConfig, run_accuracy, run_performance
from tinygen.runner.oracle import Oracle, compare
from tinygen.runner.cycles import attach_cycle_estimate
from tinygen.runner.record import SessionRecord, check_word, instructions_text

log = logging.getLogger(__name__)

# Bigger than any DUT buffer tinygen or the official harness has.
OVERSIZE_LOAD = 1 << 24


# --quick on an emulated board: the latency windows take about this long in
# wall-clock time (shorter windows when the emulator is slow), so that verify
# --quick stays under a minute on every board. Under -icount every inference
# of a stimulus costs the same instructions, so short windows lose nothing.
QUICK_EMULATED_BUDGET_S = 10.0

# --quick on an emulated board: the golden check and the latency check's
# stimulus downloads take about this long in wall-clock time. Every byte
# crosses the emulated UART as two hex digits, each one turn of QEMU's main
# loop (about 50 us of host CPU, more on a busy host): vww01's 27,648-byte
# stimulus takes 3 s or more; an ic02 inference takes seconds on a slow
# core. When the requested stimuli would take longer, fewer golden stimuli
# are compared and the latency windows share stimuli, and the checks say so.
QUICK_LOAD_BUDGET_S = 12.0
QUICK_MIN_GOLDEN = 2

# --quick on an emulated board: how long the latency check waits, after its
# windows, for the estimated cycles' traced inference running beside the
# checks. A large model's trace (ic02: 100 M instructions, every block
# logged and priced) takes minutes; past this, the estimate is left out and
# the output says so.
QUICK_ESTIMATE_WAIT_S = 10.0

# The official latency score: the median of 5 windows, one per stimulus.
LATENCY_WINDOWS = 5

# The golden check's repeated run: 'infer 2 1' (3 inferences on one load).
REPEATED_INFERENCES = 2
REPEATED_WARMUP = 1


@dataclass
class VerifyConfig:
    golden: int = 5                 # random stimuli compared with the oracle
    seed: int = 0
    quick: bool = False             # short latency windows
    min_seconds: float = 10.0
    min_inferences: int = 10
    warmup: int = 10
    timeout: float = 10.0
    # tinygen's own harness answers every bad input with an e-[...] line; a
    # harness given with --harness (the official api/ one) is judged by what it
    # does (refused, no crash, m-ready, state unchanged), in its own wording.
    own_harness: bool = True
    # Runs the accuracy check; run_accuracy's signature (--jobs: runner.shard).
    accuracy_runner: Optional[Callable[..., dict]] = None
    # A cycles.BackgroundEstimate started with the session (emulated boards).
    cycle_estimate: Any = None


@dataclass(frozen=True)
class QuickLoads:
    """How --quick fits the golden and latency checks to a slow emulator."""

    golden: int                 # random stimuli compared with the oracle
    latency_stimuli: int        # distinct stimuli the latency windows run on
    load_seconds: float         # wall-clock time of one full download
    infer_seconds: float        # wall-clock time of one inference
    load_bytes: int

    def golden_note(self, asked: int) -> str:
        return (f"{self.golden} of the {asked} stimuli asked: --quick on this emulator, where "
                f"one stimulus takes {self.load_seconds + self.infer_seconds:.1f} s (its "
                f"{self.load_bytes}-byte download {self.load_seconds:.1f} s, its inference "
                f"{self.infer_seconds:.1f} s)")

    def latency_note(self, windows: int) -> str:
        return (f"{windows} windows over {self.latency_stimuli} "
                f"stimul{'us' if self.latency_stimuli == 1 else 'i'} (--quick on this emulator, "
                f"where one stimulus takes {self.load_seconds + self.infer_seconds:.1f} s, its "
                f"{self.load_bytes}-byte download {self.load_seconds:.1f} s)")


def plan_quick_loads(load_seconds: float, load_bytes: int, golden: int, windows: int,
                     budget: float | None = None, infer_seconds: float = 0.0
                     ) -> QuickLoads | None:
    """Fewer golden stimuli and latency downloads when the golden check (a
    download and an inference per stimulus, then 3 inferences on the last)
    and the latency downloads would exceed ``budget`` seconds (default
    QUICK_LOAD_BUDGET_S); None when they fit. At least QUICK_MIN_GOLDEN golden
    stimuli (or as many as asked) and one latency stimulus."""
    budget = QUICK_LOAD_BUDGET_S if budget is None else budget
    per_golden = load_seconds + infer_seconds
    repeat = (REPEATED_INFERENCES + REPEATED_WARMUP) * infer_seconds

    def golden_cost(n: int) -> float:
        return n * per_golden + repeat

    if per_golden <= 0 or golden_cost(golden) + windows * load_seconds <= budget:
        return None
    fit = int(max(0.0, budget / 2 - repeat) / per_golden)
    golden_n = min(golden, max(QUICK_MIN_GOLDEN, fit))
    room = budget - golden_cost(golden_n)
    latency_n = windows if load_seconds <= 0 else int(max(0.0, room) / load_seconds)
    latency_n = min(windows, max(1, latency_n))
    if golden_n == golden and latency_n == windows:
        return None
    return QuickLoads(golden_n, latency_n, load_seconds, infer_seconds, load_bytes)


class NotChecked(Exception):
    """A check that ran but cannot decide (e.g. a quality target over part of the set)."""


class Verifier:
    def __init__(self, dut: DutSession, bench: Benchmark, oracle: Oracle,
                 record: SessionRecord, cfg: VerifyConfig):
        self.dut = dut
        self.bench = bench
        self.oracle = oracle
        self.record = record
        self.cfg = cfg
        self.checks: list[dict[str, Any]] = record.data.setdefault("checks", [])
        self.dead: str | None = None   # set when the DUT stopped answering
        self.load_seconds: float | None = None   # the first full download, wall-clock
        self.infer_seconds: float = 0.0          # its inference, wall-clock

    def _add(self, name: str, passed: bool | None, detail: str) -> bool:
        """passed None: not decided (SKIP), which does not fail verify."""
        check = {"name": name, "passed": None if passed is None else bool(passed), "detail": detail}
        self.checks.append(check)
        log.info("%s  %s: %s", check_word(check), name, detail)
        self.record.note(f"check {name}: {check_word(check)} {detail}")
        self.record.save()
        return passed is not False

    def run_check(self, name: str, fn: Callable[[], str]) -> bool:
        """Run fn; its return value is the PASS detail, an exception a FAIL."""
        if self.dead:
            return self._add(name, False, f"not run: {self.dead}")
        log.info("checking %s ...", name)
        try:
            return self._add(name, True, fn())
        except NotChecked as exc:
            return self._add(name, None, str(exc))
        except (DutTimeout, DutDisconnected, DutReset) as exc:
            self.dead = str(exc)
            return self._add(name, False, str(exc))
        except TinygenError as exc:
            return self._add(name, False, str(exc))

    # -- the checks ---------------------------------------------------------

    def handshake(self) -> str:
        name = self.dut.name()
        profile, model = self.dut.profile()
        self.record.data["dut"] = {"name": name, "profile": profile, "model": model}
        if not name:
            raise TinygenError("name is empty")
        if model != self.bench.id:
            self.dead = f"the DUT runs {model}, not {self.bench.id}"
            raise TinygenError(f"model id {model!r} != {self.bench.id}")
        return f"name '{name}', profile '{profile}', model {model}"

    def _expect_error(self, text: str, what: str, truncates: bool = False) -> str:
        """Send bad input; return how the DUT refused it, raise if it did not.

        A timeout or a reboot (DutTimeout, DutReset) propagates: the DUT crashed
        or stopped answering. ``truncates``: ending the load at N bytes and
        ignoring the rest counts as a refusal from a foreign harness (the
        official harness does that with bytes beyond N).
        """
        try:
            # Bad input on purpose: past the host-side guards, the DUT must refuse it.
            lines = self.dut.command_unchecked(text)
        except DutTimeout:
            raise
        except DutError as exc:
            err = next((ln for ln in exc.lines if ln.startswith("e-")), None)
            if err is None:
                raise
            return f"{what}: {err}"
        if self.cfg.own_harness:
            raise TinygenError(f"{what}: accepted without an e-[...] line (got {lines})")
        # A foreign harness refuses in its own words: any line that is not an
        # ordinary m- message (the official one prints "Supplied buffer size N
        # exceeds maximum of M" for an oversize load).
        own_words = [ln for ln in lines if not ln.startswith("m-")]
        if own_words:
            return f"{what}: {own_words[0]!r} (the harness's own wording)"
        if truncates and "m-load-done" in lines:
            return f"{what}: load ended at N bytes, the rest ignored"
        raise TinygenError(f"{what}: accepted, no refusal in any wording (got {lines})")

    def quick_loads(self, windows: int) -> QuickLoads | None:
        """--quick on an emulated board whose downloads or inferences are slow: the plan."""
        if not (self.cfg.quick and self.record.data.get("emulation") and self.load_seconds):
            return None
        return plan_quick_loads(self.load_seconds, self.bench.input_bytes, self.cfg.golden,
                                windows, infer_seconds=self.infer_seconds)

    def protocol(self) -> str:
        stim = random_stimuli(self.bench, 1, seed=self.cfg.seed + 1000,
                              float_range=self.oracle.input_float_range)[0]
        started = time.monotonic()
        self.dut.load(stim.data)
        self.load_seconds = time.monotonic() - started
        first = self.dut.infer(1, 0)
        self.infer_seconds = first.host_seconds
        before = first.values
        seen = []
        seen.append(self._expect_error(f"db load {OVERSIZE_LOAD}", "oversize db load"))
        self.dut.command("db load 4")
        seen.append(self._expect_error("db 0a1", "odd hex digits"))
        self.dut.command("db load 4")
        seen.append(self._expect_error("db 0g1z", "non-hex digits"))
        self.dut.command("db load 2")
        seen.append(self._expect_error("db 0102030405", "bytes beyond N", truncates=True))
        seen.append(self._expect_error("name" + "x" * 96, "100-character line"))
        seen.append(self._expect_error("frobnicate", "unknown command"))
        seen.append(self._expect_error("infer 0 0", "infer 0"))
        after = self.dut.results()
        if after != before:
            raise TinygenError(f"'results' changed after bad input: {before} -> {after}")
        # The DUT still works: a fresh load and inference give the same answer.
        self.dut.load(stim.data)
        again = self.dut.infer(1, 0).values
        if again != before:
            raise TinygenError(f"a re-run of the same stimulus gave {again}, first {before}")
        if self.cfg.own_harness:
            return f"{len(seen)} bad inputs refused with e-[...] and m-ready; results unchanged"
        for line in seen:
            log.info("  %s", line)
        return (f"{len(seen)} bad inputs refused (judged by behaviour: the --harness words its "
                "own refusals), each followed by m-ready, no reset; results unchanged")

    def golden(self) -> str:
        plan = self.quick_loads(LATENCY_WINDOWS)
        if plan and plan.golden == self.cfg.golden:
            plan = None   # the latency windows were cut, not this check
        count = plan.golden if plan else self.cfg.golden
        if plan:
            log.info("golden outputs over %s", plan.golden_note(self.cfg.golden))
        stimuli = random_stimuli(self.bench, count, seed=self.cfg.seed,
                                 float_range=self.oracle.input_float_range)
        report = self.record.data.setdefault("golden", [])
        slowest = 0.0   # wall-clock seconds of one inference, for the repeated run's timeout
        for i, stim in enumerate(stimuli, start=1):
            self.dut.load(stim.data)
            result = self.dut.infer(1, 0)
            slowest = max(slowest, result.host_seconds or 0.0)
            problem = compare(self.oracle, stim.data, result.lines, result.values)
            report.append({"stimulus": stim.name, "values": result.values,
                           "oracle": self.oracle.expected(stim.data), "match": problem is None,
                           "problem": problem})
            log.info("golden stimulus %d of %d: %s", i, len(stimuli), problem or "match")
            if problem:
                raise TinygenError(f"stimulus {i} ({stim.name}): {problem}")
        # The official runner loads a stimulus once and runs 'infer N W'
        # over it: the last of several inferences on one load must give the
        # same answer (an engine that lets its first inference overwrite the
        # input tensor passes the single-inference checks above). The last
        # stimulus is still in the DUT's buffer: no second download.
        stim = stimuli[-1]
        runs = REPEATED_INFERENCES + REPEATED_WARMUP
        # several inferences in one command: on a slow emulator (ic02 on a
        # busy host) that is longer than --timeout, which bounds one of them
        result = self.dut.infer(REPEATED_INFERENCES, REPEATED_WARMUP,
                                timeout=self.cfg.timeout + 3.0 * slowest * runs)
        problem = compare(self.oracle, stim.data, result.lines, result.values)
        report.append({"stimulus": stim.name, "inferences": REPEATED_INFERENCES + REPEATED_WARMUP,
                       "values": result.values, "oracle": self.oracle.expected(stim.data),
                       "match": problem is None, "problem": problem})
        if problem:
            raise TinygenError(f"stimulus {len(stimuli)} ({stim.name}) after {runs} inferences "
                               f"on one load ('infer {REPEATED_INFERENCES} {REPEATED_WARMUP}'): "
                               f"{problem}")
        if self.bench.metric == "auc":
            what = "MSE within print precision"
        elif self.oracle.output.dtype == np.float32:
            # A float output (an int16x8 model's DEQUANTIZE) printed to 6
            # decimals: one step of its quantized value is far beyond that.
            what = "float outputs equal to print precision"
        else:
            what = "int8 outputs bit-exact"
        note = f" ({plan.golden_note(self.cfg.golden)})" if plan else ""
        return (f"{len(stimuli)} random stimuli: {what} with the TFLM oracle, "
                f"also after {runs} inferences on one load{note}")

    def latency(self, stimuli) -> str:
        emulated = self.record.data.get("emulation")
        plan = self.quick_loads(len(stimuli))
        if plan and plan.latency_stimuli < len(stimuli):
            log.info("latency: %s", plan.latency_note(len(stimuli)))
            stimuli = [stimuli[i % plan.latency_stimuli] for i in range(len(stimuli))]
        cfg = PerformanceConfig(min_seconds=self.cfg.min_seconds,
                                min_inferences=self.cfg.min_inferences,
                                warmup=self.cfg.warmup, short=self.cfg.quick,
                                wall_budget_s=QUICK_EMULATED_BUDGET_S
                                if self.cfg.quick and emulated else None,
                                reuse_loaded=plan is not None)
        wait = QUICK_ESTIMATE_WAIT_S if self.cfg.quick and emulated else 900.0
        perf = run_performance(self.dut, self.bench, stimuli, self.record, cfg,
                               base_timeout=self.cfg.timeout,
                               cycle_estimate=self.cfg.cycle_estimate, estimate_wait=wait)
        if plan:
            perf["quick_downloads"] = {"distinct_stimuli": plan.latency_stimuli,
                                       "load_seconds": plan.load_seconds,
                                       "load_bytes": plan.load_bytes}
        median = perf.get("median_throughput")
        if not median:
            raise TinygenError("no window measured")
        scaled = perf.get("scaled_for_emulator")
        if scaled:
            note = (f" (short windows of {scaled['min_seconds']:.3g} s, {scaled['warmup']} warm-up: "
                    f"--quick scaled to the emulator's {scaled['wall_seconds_per_dut_second']:.0f} s "
                    "per DUT second; not the official 10 s)")
        elif self.cfg.quick:
            note = f" (short windows of {cfg.min_seconds:g} s, not the official 10 s)"
        else:
            note = ""
        if plan and plan.latency_stimuli < len(stimuli):
            note += f"; {plan.latency_note(len(stimuli))}"
        if emulated:
            attach_cycle_estimate(self.record, self.bench, self.cfg.cycle_estimate, wait=wait)
            note += "; " + instructions_text(perf["latency_ms"], emulated)
            if emulated.get("cycles_left_out"):
                note += f" (estimated cycles left out by --quick: {emulated['cycles_left_out']})"
        clock = " of emulated virtual time" if emulated else ""
        return (f"median throughput {median:.3f} inf./sec., latency {perf['latency_ms']:.3f} ms"
                f"{clock} over {len(perf['windows'])} windows{note}")

    def accuracy(self, dataset: Dataset) -> str:
        runner = self.cfg.accuracy_runner or run_accuracy
        acc = runner(self.dut, self.bench, dataset, self.record, timeout=self.cfg.timeout)
        met, verdict = acc["target_met"], acc["target_verdict"]
        if met is None:
            raise NotChecked(verdict)
        if not met:
            raise TinygenError(verdict)
        return verdict


def run_checks(dut: DutSession, bench: Benchmark, oracle: Oracle, record: SessionRecord,
               cfg: VerifyConfig, dataset: Dataset | None = None) -> list[dict[str, Any]]:
    v = Verifier(dut, bench, oracle, record, cfg)
    start = time.monotonic()
    v.run_check("handshake", v.handshake)
    v.run_check("protocol conformance", v.protocol)
    v.run_check("golden outputs", v.golden)
    stimuli = (dataset.performance_stimuli(LATENCY_WINDOWS) if dataset
               else random_stimuli(bench, LATENCY_WINDOWS, seed=cfg.seed + 2000,
                                   float_range=oracle.input_float_range))
    v.run_check("latency", lambda: v.latency(stimuli))
    if dataset is not None:
        v.run_check("accuracy", lambda: v.accuracy(dataset))
    log.info("checks took %.1f s", time.monotonic() - start)
    return v.checks
