"""Scoring of a streaming wakeword (sww01) run, as the official runner scores it.

The interface board timestamps the DUT's detected-pin pulses (milliseconds
since ``record_detections``) and the processing pin's rising and falling
edges (10 us ticks). From them:

- ``detection_stats``: the first detection is the DUT's sync pulse (first
  frame) and the time origin. A word (window ``[t0, t1]`` in seconds from
  the start of the WAV) is a true positive when a detection falls in
  ``[t0, t1 + 2 s]`` (the official code adds its 1 s delay twice; its README
  says + 1 s: we follow the code), and every detection in that span is
  used up; otherwise it is a false negative. The detections left are false
  positives after a 1 s debounce: walking them in order, each one removes
  the later ones at most 1000 ms after it.
- ``duty_cycle``: on-time = stop - start per frame, period = the distance
  of consecutive starts; duty cycle = mean on-time / mean period; the
  estimated throughput is 1 / mean on-time (inferences per second if the
  DUT did nothing but process frames).
- ``power``: the mean power over the stream from an energy monitor's
  samples, or an *estimate* from the board's ``power:`` block.

The comparisons and the float arithmetic follow the official code step for
step (milliseconds / 1000 against seconds, ``(t1 + 1) + 1``), so a
detection on a window's edge scores the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from tinygen.errors import TinygenError

TP_DELAY_S = 1.0              # added to t1 twice by the official code
DEBOUNCE_S = 1.0              # false positives closer than this to the previous one are dropped
DUTY_TICK_S = 10e-6           # the interface board prints processing edges in 10 us ticks
PERIOD_SPREAD_WARN = 0.02     # the official runner warns when periods vary more than 2 %
FRAME_PERIOD_S = 0.032        # 512 samples at 16 kHz
DETECTIONS_HEADER = "Detection Timestamps (ms)"
DUTY_START_HEADER = "Duty cycle start times (s)"
DUTY_STOP_HEADER = "Duty cycle stop times (s)"
READY = "m-ready"


@dataclass
class DetectionStats:
    """Words found, words missed (their t0, seconds) and false positives
    (seconds after the sync pulse), as ``calc_detection_stats`` returns them."""

    true_positives: list[float]
    false_negatives: list[float]
    false_positives: list[float]
    sync_ms: int
    detections_ms: list[int] = field(default_factory=list)

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.true_positives), len(self.false_negatives), len(self.false_positives)

    @property
    def f1(self) -> float:
        tp, fn, fp = self.counts
        return 2 * tp / (2 * tp + fn + fp) if tp else 0.0

    def to_dict(self) -> dict[str, Any]:
        tp, fn, fp = self.counts
        return {"true_positives": tp, "false_negatives": fn, "false_positives": fp,
                "f1": self.f1, "sync_ms": self.sync_ms,
                "true_positive_words_s": self.true_positives,
                "missed_words_s": self.false_negatives,
                "false_positive_times_s": self.false_positives,
                "detections_ms": self.detections_ms}


def detection_stats(detections_ms: Sequence[int], windows: Iterable[Sequence[float]],
                    tp_delay_s: float = TP_DELAY_S,
                    debounce_s: float = DEBOUNCE_S) -> DetectionStats:
    """TP / FN / FP of one stream (see the module's docstring)."""
    detections_ms = [int(d) for d in detections_ms]
    if not detections_ms:
        raise TinygenError("the interface board recorded no detection, not even the DUT's sync "
                           "pulse on its first frame; check the detected pin's wiring to the "
                           "interface board and that the DUT received the audio")
    sync = detections_ms[0]
    left = [d - sync for d in detections_ms[1:]]
    tps: list[float] = []
    fns: list[float] = []
    for t0, t1 in windows:
        stop = t1 + tp_delay_s
        stop = stop + tp_delay_s
        hits = [d for d in left if t0 <= d / 1000 <= stop]
        if hits:
            tps.append(t0)
            left = [d for d in left if not t0 <= d / 1000 <= stop]
        else:
            fns.append(t0)
    i = 0
    debounce_ms = int(debounce_s * 1000)
    while i < len(left):
        current = left[i]
        left = [d for d in left if not (current < d <= current + debounce_ms)]
        i += 1
    return DetectionStats(tps, fns, [d / 1000 for d in left], sync, detections_ms)


@dataclass
class DutyCycle:
    starts_s: list[float]
    stops_s: list[float]
    duty_cycle: float           # mean on-time / mean period
    period_s: float             # mean distance of consecutive starts
    processing_s: float         # mean on-time
    period_spread: float        # (max - min) / mean of the periods

    @property
    def throughput(self) -> float:
        """Estimated inferences per second: 1 / mean on-time."""
        return 1.0 / self.processing_s

    @property
    def irregular(self) -> bool:
        return self.period_spread > PERIOD_SPREAD_WARN

    def to_dict(self) -> dict[str, Any]:
        return {"duty_cycle": self.duty_cycle, "period_s": self.period_s,
                "processing_s": self.processing_s, "period_spread": self.period_spread,
                "estimated_throughput": self.throughput, "frames": len(self.starts_s),
                "start_times_s": self.starts_s, "stop_times_s": self.stops_s}


def duty_cycle(starts_s: Sequence[float], stops_s: Sequence[float]) -> DutyCycle:
    """Duty cycle, period and processing time from the processing pin's edges."""
    if len(starts_s) != len(stops_s):
        raise TinygenError(f"the interface board reported {len(starts_s)} processing starts and "
                           f"{len(stops_s)} stops; they must pair up (an edge was lost: run the "
                           "stream again)")
    if len(starts_s) < 2:
        raise TinygenError(f"the interface board reported {len(starts_s)} processing pulse(s); "
                           "a duty cycle needs at least 2 frames (check the processing pin's "
                           "wiring and that the DUT received audio)")
    on = [b - a for a, b in zip(starts_s, stops_s)]
    periods = [b - a for a, b in zip(starts_s, starts_s[1:])]
    mean_period = sum(periods) / len(periods)
    mean_on = sum(on) / len(on)
    if mean_on <= 0 or mean_period <= 0:
        raise TinygenError("the processing edges are not in time order (a stop before its "
                           "start); run the stream again")
    spread = (max(periods) - min(periods)) / mean_period
    return DutyCycle(list(starts_s), list(stops_s), mean_on / mean_period, mean_period,
                     mean_on, spread)


def duty_cycle_from_edges(edges: Iterable[tuple[int, float]]) -> DutyCycle:
    """Pair (level, seconds) edges of the processing pin: rising starts a frame."""
    starts: list[float] = []
    stops: list[float] = []
    for level, t in edges:
        if level:
            starts.append(t)
        elif starts and len(stops) < len(starts):
            stops.append(t)
    return duty_cycle(starts[:len(stops)], stops)


# -- what the interface board prints ------------------------------------------

def _body(lines: Sequence[str], header: str, what: str) -> list[str]:
    lines = [ln.strip() for ln in lines if ln.strip()]
    if not lines or header not in lines[0]:
        raise TinygenError(f"the interface board answered '{what}' with "
                           f"{lines[:2]!r}, not '{header}'; is it running the streaming "
                           "wakeword interface firmware?")
    return lines[1:]


def parse_detections(lines: Sequence[str]) -> list[int]:
    """``print_detections``: the header, then one ``<ms>,`` line per detection."""
    out = []
    for line in _body(lines, DETECTIONS_HEADER, "print_detections"):
        if line == READY:
            break
        for part in line.split(","):
            part = part.strip()
            if part:
                try:
                    out.append(int(part))
                except ValueError:
                    raise TinygenError(f"print_detections: {line!r} is not a time in ms") from None
    return out


_NUMBER = re.compile(r"^-?\d+(\.\d*)?$")


def parse_dutycycle(lines: Sequence[str]) -> tuple[list[float], list[float]]:
    """``print_dutycycle``: start times, then stop times, in seconds.

    The board prints integer 10 us ticks (older interface firmware printed
    seconds with a decimal point; both are read). ``m-ready`` may end the
    last line of numbers.
    """
    starts: list[float] = []
    stops: list[float] = []
    target = starts
    for line in _body(lines, DUTY_START_HEADER, "print_dutycycle"):
        if DUTY_STOP_HEADER in line:
            target = stops
            continue
        done = READY in line
        for part in line.replace(READY, "").split(","):
            part = part.strip()
            if not part:
                continue
            if not _NUMBER.match(part):
                raise TinygenError(f"print_dutycycle: {part!r} in {line!r} is not a time")
            target.append(float(part) if "." in part else int(part) * DUTY_TICK_S)
        if done:
            break
    return starts, stops


# -- power --------------------------------------------------------------------

def measured_power_w(samples_j: Sequence[float], seconds: float) -> float:
    """Mean power from an energy monitor's samples (joules each) over ``seconds``."""
    if seconds <= 0:
        raise TinygenError("the energy window has no length; the monitor saw no timestamps")
    return sum(samples_j) / seconds


def estimated_power(board, duty: float, voltage: float | None = None) -> dict[str, Any] | None:
    """An *estimate* from the board's ``power:`` block: run power x duty cycle.

    The block gives the run-mode current only; what the DUT draws while it
    waits for the next frame (sleep) is not in it and not counted, so the
    estimate is the processing part of the power.
    """
    power = board.power
    if power is None:
        return None
    volts = voltage or power.supply_v
    run_w = power.run_ua_per_mhz * 1e-6 * board.clock_hz / 1e6 * volts
    return {"estimated_power_mw": run_w * duty * 1e3, "run_power_mw": run_w * 1e3,
            "duty_cycle": duty, "voltage": volts,
            "basis": (f"estimated: {power.run_ua_per_mhz:g} uA/MHz x {board.clock_hz / 1e6:g} MHz"
                      f" x {volts:g} V (board power: block) x duty cycle {duty:.4f}; idle "
                      "current between frames not counted")}


def board_clock_duty(processing_instructions: float, clock_hz: float,
                     period_s: float = FRAME_PERIOD_S) -> dict[str, float]:
    """Duty cycle and throughput at the board's clock, one cycle per instruction
    (an estimate: flash wait states and stalls add to it)."""
    on_s = processing_instructions / clock_hz
    return {"processing_s": on_s, "duty_cycle": on_s / period_s,
            "estimated_throughput": 1.0 / on_s if on_s else float("inf")}
