"""The MLPerf Tiny measurement procedures over a DutSession.

Performance (facts section 5): for each of 5 stimuli, download it, time a
short run, then run ``infer N W`` with N chosen so that the timed window
lasts at least ``min_seconds`` and holds at least ``min_inferences``;
throughput = N / (t_end - t_start) from the DUT's own timestamps; the score
is the median of the windows. Accuracy: one inference per stimulus, top-1
or AUC. Both write into a SessionRecord after every window or stimulus, so
Ctrl-C or a DUT fault keeps what was measured.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from statistics import median
from typing import Any

from tinygen.benches import METRIC_AUC, Benchmark
from tinygen.device.session import DutSession, InferResult
from tinygen.errors import TinygenError
from tinygen.runner.dataset import Dataset, Stimulus
from tinygen.runner.record import SessionRecord
from tinygen.runner.scoring import anomaly_scores, classifier_scores, metric_value

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PerformanceConfig:
    min_seconds: float = 10.0       # each timed window lasts at least this (DUT time)
    min_inferences: int = 10        # and holds at least this many inferences
    warmup: int = 10                # warm-up inferences before each window
    calibrate_seconds: float = 0.2  # the short timing run lasts at least this
    max_inferences: int = 10_000_000
    short: bool = False             # windows shortened on purpose (--quick)
    # --quick on an emulator: the five windows (and their warm-ups) should take
    # about this much wall-clock time; shorter windows if the emulator is slow.
    wall_budget_s: float | None = None
    # --quick on a slow emulator: windows that name the stimulus already in
    # the DUT's buffer run on it without downloading it again.
    reuse_loaded: bool = False


class Progress:
    """Logs 'i of n, elapsed, estimate' lines at most every few seconds."""

    def __init__(self, what: str, total: int, every: float = 2.0):
        self.what = what
        self.total = total
        self.every = every
        self.start = time.monotonic()
        self._last = -math.inf

    def step(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every and done != self.total:
            return
        self._last = now
        elapsed = now - self.start
        left = elapsed / done * (self.total - done) if done else float("nan")
        est = f", about {_duration(left)} left" if done and done < self.total else ""
        log.info("%s %d of %d, %s elapsed%s", self.what, done, self.total, _duration(elapsed), est)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def check_model(dut: DutSession, bench: Benchmark, record: SessionRecord | None = None) -> dict:
    """Name and profile; the model id must be the bench's before a long run."""
    name = dut.name()
    profile, model = dut.profile()
    info = {"name": name, "profile": profile, "model": model}
    if record is not None:
        record.data["dut"] = info
    if model != bench.id:
        raise TinygenError(
            f"the DUT runs model '{model}' but the benchmark is {bench.id}; build and flash "
            f"the {bench.id} firmware (tinygen build --bench {bench.short}) or pick the "
            "benchmark the DUT runs")
    return info


def _infer_timeout(host_seconds_per_inference: float, count: int, base: float) -> float:
    """Wall-clock budget for infer: generous, but never unbounded."""
    return base + 3.0 * host_seconds_per_inference * count


def _calibrate(dut: DutSession, cfg: PerformanceConfig, base_timeout: float) -> tuple[float, float]:
    """(DUT us per inference, host s per inference) from a short timing run."""
    n = 1
    host_per = base_timeout  # pessimistic until measured
    # A fraction of the window is enough to size it; short windows stay short.
    target_us = min(cfg.calibrate_seconds, cfg.min_seconds / 4) * 1e6
    while True:
        result = dut.infer(n, 0, timeout=_infer_timeout(host_per, n, base_timeout))
        if result.elapsed_us is None:
            raise TinygenError("the DUT printed no timestamps: it runs energy-mode firmware; "
                               "build with --mode performance for latency runs")
        host_per = max(result.host_seconds / n, 1e-6)
        slow = cfg.wall_budget_s is not None and result.host_seconds >= cfg.wall_budget_s / 20
        if result.elapsed_us >= target_us or n >= cfg.max_inferences or slow:
            return max(result.elapsed_us, 1) / n, host_per
        grow = target_us / max(result.elapsed_us, 1)
        grown = min(cfg.max_inferences, max(n * 2, math.ceil(n * min(grow * 1.2, 100))))
        if cfg.wall_budget_s is not None:
            # A slow emulator: the timing run stays within a slice of the budget.
            grown = min(grown, int(cfg.wall_budget_s / 20 / host_per))
            if grown <= n:
                return max(result.elapsed_us, 1) / n, host_per
        n = grown


def scale_to_wall_budget(cfg: PerformanceConfig, us_per: float, host_per: float,
                         windows: int) -> tuple[PerformanceConfig, dict[str, Any] | None]:
    """Shorter windows (and warm-ups) when the DUT's time runs slower than the
    wall clock (an emulator) and ``cfg.wall_budget_s`` would be exceeded;
    (config, what was done or None)."""
    if cfg.wall_budget_s is None:
        return cfg, None
    wall_per_dut_s = host_per / (us_per / 1e6)
    per_window = cfg.wall_budget_s / max(windows, 1)
    needed = cfg.min_seconds * wall_per_dut_s + cfg.warmup * host_per
    if needed <= per_window:
        return cfg, None
    warmup = min(cfg.warmup, 1)
    inferences = min(cfg.min_inferences, 3)
    if (inferences + warmup) * host_per > per_window:
        # One inference alone takes seconds (ic02 on a slow core): under
        # -icount every inference costs the same, so one per window says it.
        inferences, warmup = 1, 0
    # half an inference short of N, so that the window is N inferences (not N + 1)
    floor_s = (inferences - 0.5) * us_per / 1e6
    seconds = max(floor_s, (per_window - warmup * host_per) / wall_per_dut_s)
    seconds = min(seconds, cfg.min_seconds)
    scaled = replace(cfg, min_seconds=seconds, warmup=warmup, min_inferences=inferences)
    what = {"wall_seconds_per_dut_second": wall_per_dut_s, "min_seconds_asked": cfg.min_seconds,
            "min_seconds": seconds, "warmup_asked": cfg.warmup, "warmup": warmup,
            "min_inferences": inferences, "wall_budget_s": cfg.wall_budget_s}
    log.info("--quick: the emulator runs 1 s of DUT time in %.0f s, so %d windows of %g s "
             "would take %.0f s; windows shortened to %.3g s of DUT time (at least %d "
             "inference%s), %d warm-up, to finish in about %.0f s",
             wall_per_dut_s, windows, cfg.min_seconds, needed * windows, seconds,
             inferences, "" if inferences == 1 else "s", warmup, cfg.wall_budget_s)
    return scaled, what


def _window_count(cfg: PerformanceConfig, us_per_inference: float) -> int:
    n = math.ceil(cfg.min_seconds * 1e6 / us_per_inference * 1.05)
    return int(min(cfg.max_inferences, max(cfg.min_inferences, n)))


def run_performance(dut: DutSession, bench: Benchmark, stimuli: list[Stimulus],
                    record: SessionRecord, cfg: PerformanceConfig = PerformanceConfig(),
                    base_timeout: float = 20.0, cycle_estimate: Any = None,
                    estimate_wait: float = 900.0) -> dict[str, Any]:
    """Median throughput over one window per stimulus (normally 5).
    ``cycle_estimate``: a ``cycles.BackgroundEstimate`` already under way,
    waited for at most ``estimate_wait`` seconds after the windows."""
    perf: dict[str, Any] = {
        "min_seconds": cfg.min_seconds, "min_inferences": cfg.min_inferences,
        "warmup": cfg.warmup, "short_windows": cfg.short, "windows": [],
        "stimuli": len(stimuli),
    }
    record.data["performance"] = perf
    progress = Progress("performance window", len(stimuli), every=0.0)
    us_per = host_per = None
    loaded: Stimulus | None = None
    for i, stim in enumerate(stimuli, start=1):
        record.note(f"performance window {i} of {len(stimuli)}: {stim.name}")
        if not (cfg.reuse_loaded and stim is loaded):
            dut.load(stim.data)
            loaded = stim
        if us_per is None:
            us_per, host_per = _calibrate(dut, cfg, base_timeout)
            perf["calibration_us_per_inference"] = us_per
            log.info("timing run: %.3f ms per inference on the DUT", us_per / 1000)
            cfg, scaled = scale_to_wall_budget(cfg, us_per, host_per, len(stimuli))
            if scaled:
                perf["scaled_for_emulator"] = scaled
                perf.update(min_seconds=cfg.min_seconds, warmup=cfg.warmup,
                            min_inferences=cfg.min_inferences)
        count = _window_count(cfg, us_per)
        expected = host_per * (count + cfg.warmup)
        if expected > 5.0:
            # The DUT says nothing until the window ends: say how long that is.
            log.info("performance window %d of %d: %d inferences + %d warm-up, about %s of "
                     "wall-clock time", i, len(stimuli), count, cfg.warmup, _duration(expected))
        for _attempt in range(3):
            result = dut.infer(count, cfg.warmup,
                               timeout=_infer_timeout(host_per, count + cfg.warmup, base_timeout))
            if result.elapsed_us is None:
                raise TinygenError("the DUT printed no timestamps: it runs energy-mode firmware; "
                                   "build with --mode performance for latency runs")
            host_per = max(result.host_seconds / (count + cfg.warmup), 1e-6)
            if result.elapsed_us >= cfg.min_seconds * 1e6 or count >= cfg.max_inferences:
                break
            # The window came out short (timing run was noisy): grow and redo.
            us_per = result.elapsed_us / count
            count = _window_count(cfg, us_per * 0.95)
        perf["windows"].append(_window(stim, result))
        _summarise_performance(perf)
        record.save()
        progress.step(i, force=True)
    # An emulated latency is instructions: price one traced inference of the
    # same firmware so the summary's board time is in estimated cycles.
    from tinygen.runner.cycles import attach_cycle_estimate
    attach_cycle_estimate(record, bench, cycle_estimate, wait=estimate_wait)
    return perf


def _window(stim: Stimulus, result: InferResult) -> dict[str, Any]:
    return {
        "stimulus": stim.name, "count": result.count, "warmup": result.warmup,
        "start_us": result.start_us, "end_us": result.end_us,
        "seconds": result.seconds, "throughput": result.throughput,
        "latency_ms": 1000.0 / result.throughput if result.throughput else None,
        "values": result.values, "host_seconds": result.host_seconds,
    }


def _summarise_performance(perf: dict[str, Any]) -> None:
    rates = [w["throughput"] for w in perf["windows"] if w["throughput"]]
    if rates:
        perf["median_throughput"] = median(rates)
        perf["latency_ms"] = 1000.0 / perf["median_throughput"]
        perf["complete"] = len(rates) == perf["stimuli"]


def new_accuracy(bench: Benchmark, dataset: Dataset, total: int) -> dict[str, Any]:
    """The accuracy section of a session before its first inference."""
    return {
        "metric": bench.metric, "target": bench.target, "total": total,
        "official_total": bench.accuracy_stimuli or None,
        "official_files": bench.accuracy_files or None,
        "measured": 0, "files": len(dataset.files), "inferences": [],
    }


def inference_entry(stim: Stimulus, result: InferResult) -> dict[str, Any]:
    """One stimulus' entry in the accuracy section (also for --jobs runs)."""
    return {"stimulus": stim.name, "file": stim.file, "window": stim.window,
            "label": stim.label, "values": result.values}


def run_accuracy(dut: DutSession, bench: Benchmark, dataset: Dataset,
                 record: SessionRecord, timeout: float = 20.0) -> dict[str, Any]:
    """One inference per stimulus (per window for ad01); top-1 or AUC."""
    stimuli = dataset.accuracy_stimuli()
    acc = new_accuracy(bench, dataset, len(stimuli))
    record.data["accuracy"] = acc
    progress = Progress("accuracy stimulus", len(stimuli))
    saved = time.monotonic()
    try:
        for i, stim in enumerate(stimuli, start=1):
            dut.load(stim.data, timeout=timeout)
            result = dut.infer(1, 0, timeout=timeout)
            acc["inferences"].append(inference_entry(stim, result))
            acc["measured"] = i
            progress.step(i)
            if i % 25 == 0 or time.monotonic() - saved > 2.0:
                score_accuracy(bench, dataset, acc)
                record.save()
                saved = time.monotonic()
    finally:
        # Also after Ctrl-C or a DUT fault: score what was measured.
        score_accuracy(bench, dataset, acc)
        record.save()
    return acc


def score_accuracy(bench: Benchmark, dataset: Dataset, acc: dict[str, Any]) -> None:
    """Fill the scores from what was measured so far (also after a fault)."""
    done = acc["inferences"]
    if bench.metric == METRIC_AUC:
        windows: dict[str, list[float]] = {}
        for inf in done:
            windows.setdefault(inf["file"], []).append(inf["values"][0])
        # A file counts only when all its windows were measured.
        labels = {f.name: f.label for f in dataset.files
                  if len(windows.get(f.name, [])) == f.windows}
        scores = anomaly_scores(labels, windows)
        acc.update(auc=scores["auc"], auc_note=scores["auc_note"], file_scores=scores["file_scores"])
    else:
        scores = classifier_scores([d["label"] for d in done], [d["values"] for d in done],
                                   bench.classes)
        for d, p in zip(done, scores.get("predictions", [])):
            d["predicted"] = p
        acc.update(top1=scores["top1"], auc=scores["auc"], auc_note=scores["auc_note"])
    acc["target_met"], acc["target_verdict"] = quality_verdict(bench, acc)


def quality_verdict(bench: Benchmark, acc: dict[str, Any]) -> tuple[bool | None, str]:
    """(met, what to say): the quality target is judged only over the full set.

    The targets are defined over the official accuracy set (1000 stimuli for
    kws01 and vww01, 200 for ic01, 248 files for ad01): a score over fewer
    stimuli or files, or over part of the given set, says "not checked: N of
    M ..." and met is None.
    """
    name = "AUC" if bench.metric == METRIC_AUC else "top-1"
    value = metric_value(bench, acc)
    measured, total = acc.get("measured", 0), acc.get("total", 0)
    official = bench.accuracy_stimuli or None
    whole = official or total
    files, official_files = acc.get("files", 0), bench.accuracy_files or None
    partial = measured < max(whole, total)
    if bench.metric == METRIC_AUC and official_files:
        # ad01 counts files (a file's score is the mean over its windows,
        # however many the conversion gave it).
        partial = measured < total or files < official_files
        done = len(acc.get("file_scores") or {}) if measured else 0
        count = f"{done} of the official {official_files} files"
    else:
        count = f"{measured} of {whole} stimuli"
    if value is None:
        note = acc.get("auc_note") or "no inferences"
        return None, f"not checked: {name} undefined ({note}) over {count}"
    shown = f"{value:.3f}" if bench.metric == METRIC_AUC else f"{value * 100:.1f}%"
    target = target_text(bench)
    if partial:
        return None, (f"not checked: {count} ({name} {shown}; the "
                      f"target {target} is defined over the full official set)")
    met = value >= bench.target
    word = ">=" if met else "below"
    if bench.metric == METRIC_AUC and official_files:
        scope = f"over the official {official_files} files"
    else:
        scope = f"over the official {official} stimuli" if official else f"over the {total} stimuli given"
    return met, f"{name} {shown} {word} target {target} {scope}"


def target_text(bench: Benchmark) -> str:
    """The quality target as its metric is shown: top-1 in percent, AUC as a fraction."""
    return f"{bench.target:g}" if bench.metric == METRIC_AUC else f"{bench.target * 100:g}%"
