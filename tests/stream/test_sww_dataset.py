"""The sww dataset layout is checked before a run, every problem named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinygen.device.sww_audio import read_wav_left, write_wav
from tinygen.errors import TinygenError
from tinygen.runner.sww_dataset import load_streams


def _stream(folder, name="sww_short_test.json", seconds=3.0, windows=((0.5, 1.5),), wav="s.wav"):
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / wav, np.zeros(int(seconds * 16000), np.int16))
    (folder / name).write_text(json.dumps([{"wav_file": wav, "sample_rate": 16000,
                                            "length_sec": seconds,
                                            "detection_windows": [list(w) for w in windows]}]))


def test_official_layout_loads(tmp_path):
    _stream(tmp_path / "sww01", windows=((0.5, 1.5), (2.0, 2.5)))
    [test] = load_streams(tmp_path)
    assert test.words == 2 and test.length_sec == 3.0 and not test.is_long_test
    assert read_wav_left(test.wav_path).size == 48000


def test_problems_are_listed_with_the_fix(tmp_path):
    _stream(tmp_path, windows=((2.5, 4.0),))
    (tmp_path / "broken.json").write_text("[{")
    (tmp_path / "other.json").write_text(json.dumps([{"wav_file": "missing.wav", "sample_rate": 16000,
                                                      "length_sec": 1, "detection_windows": []}]))
    with pytest.raises(TinygenError) as err:
        load_streams(tmp_path)
    text = str(err.value)
    assert "3 problems" in text and "broken.json is not readable JSON" in text
    assert "missing.wav not found" in text and "not inside 0..3 s" in text


def test_no_json_names_the_layout(tmp_path):
    with pytest.raises(TinygenError, match="sww_data_dir"):
        load_streams(tmp_path)
