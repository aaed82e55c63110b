"""sww01 results.txt speaks the checker's wording: its four regexes (quoted in the
facts file) find each figure exactly once, and TP + FN = 50 over a 50-word stream."""

from __future__ import annotations

import re

import numpy as np

from tinygen.runner.record import session_validity, summary_text
from tinygen.runner.sww_report import plot_timeline, quality
from tinygen.runner.sww_score import detection_stats, duty_cycle

THROUGHPUT = r"Estimated throughput:\s*([\d\.]+) inf\./sec\..*"
ACCURACY = r"Accuracy: ([\d]+) True positives, ([\d]+) False negatives, ([\d]+) False positives"
DUTY = r"Average duty cycle:\s*([\d\.]+)"
POWER = r"Power\s+: ([\d\.]+) mW.*"


def _found(pattern: str, text: str) -> list[tuple]:
    """Matches with re.match and with re.search must agree (the lines start with the words)."""
    by_match = [m.groups() for m in (re.match(pattern, ln) for ln in text.splitlines()) if m]
    by_search = [m.groups() for m in (re.search(pattern, ln) for ln in text.splitlines()) if m]
    assert by_match == by_search
    return by_match


def _session(words: int, mode: str = "performance", runs_as: str = "real",
             power: dict | None = None) -> dict:
    windows = [[5.0 * k + 1.0, 5.0 * k + 1.5] for k in range(words)]
    # Sync at 2000 ms; every word but the last two found 0.3 s after its start;
    # two false alarms 1.5 s apart (not debounced) after the words.
    hits = [2000 + int((w[0] + 0.3) * 1000) for w in windows[:-2]]
    end = int(windows[-1][1] * 1000) + 2000 + 5000
    stats = detection_stats([2000] + hits + [end, end + 1500], windows)
    starts = [0.002 + 0.032 * k for k in range(100)]
    duty = duty_cycle(starts, [s + 0.008 for s in starts])
    return {"mode": mode, "status": "complete", "board": "nucleo_l4r5zi", "bench": "sww01",
            "runs_as": runs_as, "started": "2026-12-06T10:00:00.000000Z",
            "sww": {"stream": {"json": "d/sww_long_test.json", "wav_file": "long.wav",
                               "length_sec": 5.0 * words + 5, "words": words,
                               "detection_windows": windows},
                    "played_s": 5.0 * words + 5, "scores": stats.to_dict(),
                    "quality": quality(stats.to_dict()), "duty": duty.to_dict(),
                    "power": power or {}}}


def test_fifty_word_session_parses_with_the_checker_regexes():
    text = summary_text(_session(50))
    # 0.008 s on every 0.032 s: duty 0.25, throughput 125 inf./s.
    assert _found(THROUGHPUT, text) == [("125.000",)]
    assert _found(ACCURACY, text) == [("48", "2", "2")]
    assert _found(DUTY, text) == [("0.2500",)]
    assert _found(POWER, text) == []
    tp, fn, fp = map(int, _found(ACCURACY, text)[0])
    assert tp + fn == 50
    assert "Validity  : valid for submission" in text
    assert "Quality target: 2 false negatives (<= 8) and 2 false positives (<= 8): met" in text


def test_energy_session_writes_the_power_line_once():
    data = _session(50, mode="energy", power={"power_mw": 25.6123, "monitor": "lpm01a"})
    text = summary_text(data)
    assert _found(POWER, text) == [("25.6123",)]
    assert session_validity(data)["valid"]


def test_short_stream_is_not_valid_and_says_why():
    data = _session(10)
    text = summary_text(data)
    reasons = session_validity(data)["reasons"]
    assert any(r.startswith("short test: the stream has 10 words") for r in reasons)
    # The figure still parses, with the reason after it.
    line = next(ln for ln in text.splitlines() if ln.startswith("Accuracy:"))
    assert re.match(ACCURACY, line) and "(NOT VALID for submission: short test)" in line


def test_emulated_estimated_power_is_labelled():
    data = _session(50, mode="energy", runs_as="emulated",
                    power={"power_mw": 6.6, "estimated": True, "basis": "estimated: x"})
    data["sww"]["simulated_interface"] = True
    text = summary_text(data)
    line = next(ln for ln in text.splitlines() if re.match(POWER, ln))
    assert "estimated" in line and "NOT VALID" in line
    reasons = " | ".join(session_validity(data)["reasons"])
    assert "estimated power" in reasons and "simulated instruments" in reasons
    assert "emulated board" in reasons


def test_timeline_picture_is_written(tmp_path):
    data = _session(5)
    path = tmp_path / "timeline.png"
    noise = (np.random.default_rng(0).standard_normal(16000 * 30) * 300).astype(np.int16)
    plot_timeline(path, data["sww"], noise, 16000, title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
