"""The sww stream builder: words where the JSON says, the official layout, the same bytes
for the same options."""

from __future__ import annotations

import hashlib
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.runner.sww_stream import (SCORING_SPAN_S, StreamSpec, build_stream, load_clip,
                                       load_stream, read_wav, word_span, write_wav)

from runner_helpers import REFERENCE

MARVIN = REFERENCE / "sww01_marvin_617de221_0.wav"


@pytest.fixture
def clip(tmp_path) -> Path:
    """The official marvin clip when ../shared has it, else a synthetic 'word': a
    0.4 s tone burst at 0.3 s in a 1 s clip (its span is then known exactly)."""
    if MARVIN.is_file():
        return MARVIN
    t = np.arange(16000) / 16000
    word = np.where((t >= 0.3) & (t < 0.7), 12000 * np.sin(2 * np.pi * 440 * t), 0)
    path = tmp_path / "word.wav"
    write_wav(path, word.astype(np.int16), channels=2)
    return path


def test_word_span_of_a_tone_burst(tmp_path):
    # 0.3 s .. 0.7 s of a 1 s clip: 20 ms blocks 15 .. 34 are loud.
    t = np.arange(16000) / 16000
    word = np.where((t >= 0.3) & (t < 0.7), 12000 * np.sin(2 * np.pi * 440 * t), 0)
    assert word_span(word.astype(np.int16)) == (0.3, 0.7)


def test_stream_puts_each_word_inside_its_window(clip, tmp_path):
    spec = StreamSpec(words=10, noise_dbfs=-60.0, word_gain_db=(0.0, 0.0), seed=3)
    stream = build_stream([clip], tmp_path, "ten", spec)
    samples, rate = read_wav(stream.wav)
    c = load_clip(clip)
    assert rate == 16000 and len(stream.windows) == 10
    assert len(samples) == int(stream.length_s * 16000)
    for t0, t1 in stream.windows:
        assert t1 - t0 == pytest.approx(c.offset_s - c.onset_s, abs=1e-6)
        start = int(round((t0 - c.onset_s) * 16000))
        placed = samples[start:start + len(c.samples)].astype(np.int32)
        # The clip is in the stream at full gain, over noise 60 dB down (RMS 33 LSB).
        assert np.abs(placed - c.samples).max() < 400
    gaps = np.diff([w[0] for w in stream.windows])
    assert gaps.min() >= len(c.samples) / 16000 + SCORING_SPAN_S


def test_json_is_the_official_layout(clip, tmp_path):
    stream = build_stream([clip], tmp_path, "three", StreamSpec(words=3))
    entries = json.loads(stream.json.read_text())
    assert isinstance(entries, list) and len(entries) == 1
    assert set(entries[0]) == {"wav_file", "sample_rate", "length_sec", "detection_windows"}
    assert entries[0]["wav_file"] == "three.wav" and entries[0]["sample_rate"] == 16000
    with wave.open(str(stream.wav)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 16000)
    loaded = load_stream(tmp_path, "three")
    assert loaded.windows == stream.windows and loaded.length_s == stream.length_s


def test_same_options_same_bytes(clip, tmp_path):
    a = build_stream([clip], tmp_path / "a", "s", StreamSpec(words=4, seed=7))
    b = build_stream([clip], tmp_path / "b", "s", StreamSpec(words=4, seed=7))
    c = build_stream([clip], tmp_path / "c", "s", StreamSpec(words=4, seed=8))
    digest = [hashlib.sha256(x.wav.read_bytes()).hexdigest() for x in (a, b, c)]
    assert digest[0] == digest[1] != digest[2]
    assert a.json.read_text() == b.json.read_text()


def test_fifty_word_long_test_from_the_cli(clip, tmp_path, capsys):
    assert main(["sww-stream", "--clip", str(clip), "--words", "50", "--length", "400",
                 "--out", str(tmp_path / "sww01"), "--name", "sww_long_test"]) == 0
    entry = load_stream(tmp_path)
    assert entry.words == 50 and entry.length_s == 400.0
    assert entry.json.name == "sww_long_test.json"
    assert "50 words" in capsys.readouterr().out


def test_too_short_a_length_names_what_is_needed(clip, tmp_path):
    with pytest.raises(TinygenError, match="at least"):
        build_stream([clip], tmp_path, "x", StreamSpec(words=20, length_s=30.0))


def test_a_json_naming_a_missing_wav_is_refused(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps([{"wav_file": "gone.wav", "sample_rate": 16000,
                                                  "length_sec": 1.0,
                                                  "detection_windows": []}]))
    with pytest.raises(TinygenError, match="gone.wav"):
        load_stream(tmp_path / "s.json")
