"""What a streaming wakeword (sww01) session writes: results.txt lines, validity,
tinygen's summary and the detection timeline picture.

``data["sww"]`` of a session (``results.json``) holds the run (see
``tinygen.runner.sww_run``): the stream played, the detections and processing
edges the interface board recorded, the scores, the duty cycle, the power.

The submission checker (v1.4) reads these lines from ``results.txt`` of
``sww/energy`` if present, else ``sww/performance``:

    Estimated throughput:\\s*([\\d\\.]+) inf\\./sec\\..*
    Accuracy: ([\\d]+) True positives, ([\\d]+) False negatives, ([\\d]+) False positives
    Average duty cycle:\\s*([\\d\\.]+)
    Power\\s+: ([\\d\\.]+) mW.*                     (energy)

Each line starts with its words (so ``re.match`` and ``re.search`` both find
it) and is written once; no line of tinygen's own matches any of them. The
checker wants TP + FN = 50 (the 50-word long test) and, in the closed
division, FN <= 8 and FP <= 8; it reports F1 as the accuracy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OFFICIAL_WORDS = 50            # sww_long_test.json: 1200 s, 50 words
MAX_FALSE_NEGATIVES = 8        # closed division quality target
MAX_FALSE_POSITIVES = 8
LONG_TEST = "sww_long_test.json"


def _qualified(text: str, invalid: str | None) -> str:
    return text + (f" (NOT VALID for submission: {invalid})" if invalid else "")


def throughput_line(inf_per_s: float, invalid: str | None = None) -> str:
    return _qualified(f"Estimated throughput: {inf_per_s:.3f} inf./sec.", invalid)


def accuracy_line(tp: int, fn: int, fp: int, invalid: str | None = None) -> str:
    return _qualified(f"Accuracy: {tp} True positives, {fn} False negatives, "
                      f"{fp} False positives", invalid)


def duty_cycle_line(duty: float, invalid: str | None = None) -> str:
    return _qualified(f"Average duty cycle: {duty:.4f}", invalid)


def power_line(mw: float, estimated: bool, invalid: str | None = None) -> str:
    text = f"Power         : {mw:.4f} mW."
    if estimated:
        text += " (estimated from the board's power: block, not measured)"
    return _qualified(text, invalid)


def official_lines(data: dict[str, Any], invalid: str | None) -> list[str]:
    """The sww lines the checker reads, for a session holding ``data["sww"]``."""
    sww = data.get("sww") or {}
    out: list[str] = []
    scores = sww.get("scores")
    duty = sww.get("duty")
    if duty:
        out.append(throughput_line(duty["estimated_throughput"], invalid))
    if scores:
        out.append(accuracy_line(scores["true_positives"], scores["false_negatives"],
                                 scores["false_positives"], invalid))
    if duty:
        out.append(duty_cycle_line(duty["duty_cycle"], invalid))
    power = sww.get("power") or {}
    if data.get("mode") == "energy" and power.get("power_mw") is not None:
        out.append(power_line(power["power_mw"], bool(power.get("estimated")), invalid))
    return out


def quality(scores: dict[str, Any]) -> dict[str, Any]:
    """The closed division's target: FN <= 8 and FP <= 8 (over the 50 words)."""
    fn, fp = scores["false_negatives"], scores["false_positives"]
    met = fn <= MAX_FALSE_NEGATIVES and fp <= MAX_FALSE_POSITIVES
    verdict = (f"{fn} false negatives (<= {MAX_FALSE_NEGATIVES}) and {fp} false positives "
               f"(<= {MAX_FALSE_POSITIVES}): {'met' if met else 'NOT met'}")
    return {"target_met": met, "target_verdict": verdict}


def validity_reasons(data: dict[str, Any]) -> list[str]:
    """Why an sww session's figures may not go into a submission (beyond the
    reasons every session has: status, emulated or host DUT)."""
    sww = data.get("sww")
    if sww is None:
        return []
    reasons: list[str] = []
    stream = sww.get("stream") or {}
    words = stream.get("words")
    if words is not None and words != OFFICIAL_WORDS:
        reasons.append(f"short test: the stream has {words} words; the score is taken over the "
                       f"{OFFICIAL_WORDS}-word long test ({LONG_TEST}, 1200 s) and the checker "
                       f"requires TP + FN = {OFFICIAL_WORDS}")
    played, length = sww.get("played_s"), stream.get("length_sec")
    if played is not None and length and played < length - 1.0:
        reasons.append(f"partial stream: {played:.1f} of {length:.1f} s were processed")
    if sww.get("scores") is None:
        reasons.append("no detections: the stream was not scored")
    if sww.get("duty") is None:
        reasons.append("no duty cycle: the processing pin's edges were not recorded")
    if sww.get("simulated_interface"):
        reasons.append("simulated instruments: the interface board was a simulator "
                       "(detections and edges timed with the emulated DUT's clock)")
    power = sww.get("power") or {}
    if data.get("mode") == "energy" and power.get("estimated"):
        reasons.append("estimated power: no energy monitor measured it")
    return reasons


def summary_lines(data: dict[str, Any]) -> list[str]:
    """tinygen's own lines about the stream (none matches a checker pattern)."""
    sww = data.get("sww") or {}
    out: list[str] = []
    stream = sww.get("stream") or {}
    if stream:
        out.append(f"Stream    : {stream.get('wav_file')} ({stream.get('length_sec', 0):.1f} s, "
                   f"{stream.get('words')} words) from {stream.get('json')}")
    if sww.get("played_s") is not None:
        out.append(f"Played    : {sww['played_s']:.1f} of {stream.get('length_sec', 0):.1f} s"
                   + (" through a SIMULATED interface board" if sww.get("simulated_interface")
                      else ""))
    act = sww.get("activations")
    if isinstance(act, dict) and "hops" in act:
        out.append(f"DUT       : {act['hops']} hops, {act.get('detections', '?')} detections, "
                   f"{act.get('overruns', '?')} overruns (audio chunks that came while a hop was "
                   f"still processed), longest hop {act.get('max_hop_us', '?')} us (its own clock)")
    scores = sww.get("scores")
    if scores:
        out.append(f"Detections: {len(scores.get('detections_ms', []))} pulses (the first is the "
                   f"sync); words found {scores['true_positives']}, missed "
                   f"{scores['false_negatives']}, false alarms {scores['false_positives']}; "
                   f"F1 {scores['f1']:.3f}")
        if scores.get("missed_words_s"):
            out.append("  missed words at " + ", ".join(f"{t:.2f}" for t in
                                                        scores["missed_words_s"]) + " s")
        if scores.get("false_positive_times_s"):
            out.append("  false alarms at " + ", ".join(f"{t:.2f}" for t in
                                                        scores["false_positive_times_s"]) + " s")
        q = sww.get("quality")
        if q:
            out.append(f"Quality target: {q['target_verdict']}")
    duty = sww.get("duty")
    if duty:
        base = (" (emulated: frame times from the DUT's SysTick milliseconds, processing "
                "from its instruction count)" if sww.get("virtual_time") else "")
        out.append(f"Processing: {duty['processing_s'] * 1e3:.3f} ms per frame every "
                   f"{duty['period_s'] * 1e3:.3f} ms{base} over {duty['frames']} frames; "
                   f"frame periods vary {duty['period_spread'] * 100:.2f} %"
                   + (" (more than 2 %: the official runner warns)" if duty["period_spread"] > 0.02
                      else ""))
    if sww.get("processing_instructions"):
        out.append(f"Instructions per frame: {sww['processing_instructions'] / 1e6:.4f} M mean, "
                   f"{sww.get('processing_instructions_max', 0) / 1e6:.4f} M max (emulated DUT)")
    board = sww.get("board_clock")
    if board:
        out.append(f"At the board's clock (estimated, one cycle per instruction): "
                   f"{board['processing_s'] * 1e3:.3f} ms per frame, duty cycle "
                   f"{board['duty_cycle']:.4f}, {board['estimated_throughput']:.1f} inf./sec."
                   + (" OVER the 32 ms budget: the real board would drop audio frames"
                      if board["duty_cycle"] > 1 else ""))
    for label, other in (sww.get("compare") or {}).items():
        board_duty = other.get("board_clock_duty_cycle")
        out.append(f"Compared build {label}: duty cycle {other['duty_cycle']:.4f}"
                   + (f", {other['processing_instructions'] / 1e6:.3f} M instructions per "
                      f"frame, {board_duty:.4f} at the board's clock (estimated)"
                      if board_duty is not None else ""))
    power = sww.get("power") or {}
    if power.get("power_mw") is not None:
        how = power.get("basis") or ("measured by " + str(power.get("monitor")))
        out.append(f"Mean power {power['power_mw']:.4f} mW ({how})")
    if sww.get("timeline_png"):
        out.append(f"Timeline  : {sww['timeline_png']}")
    return out


# -- the timeline picture ----------------------------------------------------

def envelope(samples, rate: int, block_s: float = 0.02):
    """Peak amplitude per block (the audio's outline), as (times, values)."""
    import numpy as np
    block = max(1, int(rate * block_s))
    n = len(samples) // block
    if n == 0:
        return np.zeros(0), np.zeros(0)
    peaks = np.abs(np.asarray(samples[:n * block], dtype=np.float64).reshape(n, block)).max(axis=1)
    return np.arange(n) * block / rate, peaks / 32768.0


def plot_timeline(path: Path, sww: dict[str, Any], samples=None, rate: int = 16000,
                  title: str = "") -> None:
    """Audio envelope, word windows (and their +2 s scoring span), detections
    (found words green, false alarms red) and processing pulses, all in seconds
    from the start of the stream (the DUT's sync pulse)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    stream = sww.get("stream") or {}
    scores = sww.get("scores") or {}
    duty = sww.get("duty") or {}
    length = float(stream.get("length_sec") or 1.0)
    fig = Figure(figsize=(12, 4.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if samples is not None:
        t, env = envelope(samples, rate)
        ax.fill_between(t, -env, env, color="0.6", lw=0, label="audio envelope")
    for k, (t0, t1) in enumerate(stream.get("detection_windows") or []):
        ax.axvspan(t0, t1, color="tab:blue", alpha=0.25, label="word" if k == 0 else None)
        ax.axvspan(t1, t1 + 2.0, color="tab:blue", alpha=0.08,
                   label="scoring span (+2 s)" if k == 0 else None)
    sync = scores.get("sync_ms", 0)
    fps = set(round(x, 3) for x in scores.get("false_positive_times_s") or [])
    first_tp = first_fp = True
    for d in (scores.get("detections_ms") or [])[1:]:
        ts = (d - sync) / 1000
        is_fp = round(ts, 3) in fps
        ax.axvline(ts, color="tab:red" if is_fp else "tab:green", lw=0.6,
                   label=("false alarm" if first_fp else None) if is_fp else
                   ("detection" if first_tp else None))
        first_fp, first_tp = (False, first_tp) if is_fp else (first_fp, False)
    starts = duty.get("start_times_s") or []
    stops = duty.get("stop_times_s") or []
    for k, (a, b) in enumerate(zip(starts, stops)):
        ax.broken_barh([(a - sync / 1000, max(b - a, 1e-4))], (-1.25, 0.12), color="tab:orange",
                       label="processing (recorded frames)" if k == 0 else None)
    ax.set_xlim(0, length + 2.0)
    ax.set_ylim(-1.3, 1.1)
    ax.set_xlabel("seconds from the sync pulse (start of the stream)"
                  + (", the emulated DUT's own clock" if sww.get("virtual_time") else ""))
    ax.set_yticks([])
    tp, fn, fp = (scores.get("true_positives"), scores.get("false_negatives"),
                  scores.get("false_positives"))
    ax.set_title((title + ": " if title else "")
                 + (f"{tp} TP, {fn} FN, {fp} FP" if scores else "not scored (no detection)")
                 + (" (SIMULATED interface board)" if sww.get("simulated_interface") else ""),
                 fontsize=9)
    ax.legend(loc="upper right", fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path)
