"""Dataset parsing: the EEMBC layout and every way a dataset can be wrong."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from tinygen.benches import get_bench
from tinygen.errors import TinygenError
from tinygen.runner.dataset import load_dataset, random_stimuli

KWS = get_bench("kws")
IC = get_bench("ic")
AD = get_bench("ad")


def write_classifier(folder, bench, rows, sizes=None):
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (name, label) in enumerate(rows):
        size = (sizes or {}).get(name, bench.input_bytes)
        (folder / name).write_bytes(bytes((i + j) % 256 for j in range(size)))
        lines.append(f"{name},{bench.classes},{label}")
    (folder / "y_labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def write_ad(folder, files):
    """files: name -> (label, windows)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, (label, windows) in files.items():
        floats = np.arange(640 + 128 * (windows - 1), dtype="<f4")
        (folder / name).write_bytes(floats.tobytes())
        lines.append(f"{name},2,{label},2560,512")
    (folder / "y_labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_classifier_dataset_in_model_id_subfolder(tmp_path):
    write_classifier(tmp_path / "kws01", KWS, [("a.bin", 3), ("b.bin", 11)])
    ds = load_dataset(KWS, tmp_path)
    assert ds.folder == tmp_path / "kws01"
    assert [(f.name, f.label, f.windows) for f in ds.files] == [("a.bin", 3, 1), ("b.bin", 11, 1)]
    stims = ds.accuracy_stimuli()
    assert stims[1].data == (tmp_path / "kws01" / "b.bin").read_bytes()


def test_classifier_dataset_given_as_the_folder_itself(tmp_path):
    write_classifier(tmp_path, IC, [("x.bin", 9)])
    assert load_dataset(IC, tmp_path).files[0].label == 9


def test_performance_uses_the_first_five_files(tmp_path):
    write_classifier(tmp_path, KWS, [(f"s{i}.bin", i % 12) for i in range(8)])
    assert [s.name for s in load_dataset(KWS, tmp_path).performance_stimuli()] == \
        [f"s{i}.bin" for i in range(5)]


def test_ad01_sliding_windows(tmp_path):
    write_ad(tmp_path / "ad01", {"n.bin": (0, 4), "a.bin": (1, 1)})
    ds = load_dataset(AD, tmp_path)
    assert [f.windows for f in ds.files] == [4, 1]
    stims = ds.accuracy_stimuli()
    assert len(stims) == 5
    # Window w starts at 512*w bytes = float index 128*w.
    for w in range(4):
        first = struct.unpack("<f", stims[w].data[:4])[0]
        assert first == 128 * w and len(stims[w].data) == 2560
        assert stims[w].file == "n.bin" and stims[w].window == w
    perf = ds.performance_stimuli()
    assert [s.window for s in perf] == [0, 0]


def test_ad01_trailing_bytes_short_of_a_stride_are_ignored(tmp_path):
    write_ad(tmp_path, {"n.bin": (0, 2)})
    with open(tmp_path / "n.bin", "ab") as f:
        f.write(b"\0" * 8)
    assert load_dataset(AD, tmp_path).files[0].windows == 2


@pytest.mark.parametrize("content, message", [
    ("a.bin,12\n", "expected 3 fields"),
    ("a.bin,12,3,4\n", "expected 3 fields"),
    ("a.bin,10,3\n", "number of classes must be 12"),
    ("a.bin,12,12\n", "true class 12 is outside 0..11"),
    ("a.bin,12,-1\n", "true class -1 is outside"),
    ("a.bin,12,x\n", "true class 'x' is not a whole number"),
    ("missing.bin,12,1\n", "missing.bin does not exist"),
    ("../a.bin,12,1\n", "plain file name"),
    ("a.bin,12,1\na.bin,12,2\n", "listed twice"),
    ("\n\n", "no stimuli listed"),
    ("a.bin;12;1\n", "expected 3 fields"),
])
def test_classifier_dataset_errors(tmp_path, content, message):
    (tmp_path / "a.bin").write_bytes(b"\0" * KWS.input_bytes)
    (tmp_path / "y_labels.csv").write_text(content)
    with pytest.raises(TinygenError, match=message):
        load_dataset(KWS, tmp_path)


def test_wrong_stimulus_size_is_reported_with_the_line(tmp_path):
    write_classifier(tmp_path, KWS, [("a.bin", 1), ("b.bin", 2)], sizes={"b.bin": 489})
    with pytest.raises(TinygenError, match=r"line 2: b.bin has 489 bytes, kws01 stimuli have 490"):
        load_dataset(KWS, tmp_path)


def test_all_problems_in_one_error(tmp_path):
    (tmp_path / "y_labels.csv").write_text("a.bin,12,1\nb.bin,12,1\nc.bin,12,99\n")
    with pytest.raises(TinygenError, match=r"has 3 problems: line 1.*line 2.*line 3"):
        load_dataset(KWS, tmp_path)


@pytest.mark.parametrize("row, message", [
    ("n.bin,2,0,2560\n", "expected 5 fields"),
    ("n.bin,3,0,2560,512\n", "number of classes must be 2"),
    ("n.bin,2,2,2560,512\n", "label must be 0 .normal. or 1"),
    ("n.bin,2,0,2048,512\n", "window_bytes must be 2560"),
    ("n.bin,2,0,2560,0\n", "stride_bytes must be a positive multiple of 4"),
    ("n.bin,2,0,2560,510\n", "stride_bytes must be a positive multiple of 4"),
])
def test_ad01_row_errors(tmp_path, row, message):
    write_ad(tmp_path, {"n.bin": (0, 2)})
    (tmp_path / "y_labels.csv").write_text(row)
    with pytest.raises(TinygenError, match=message):
        load_dataset(AD, tmp_path)


@pytest.mark.parametrize("size", [2556, 2561, 100])
def test_ad01_file_size_errors(tmp_path, size):
    (tmp_path / "n.bin").write_bytes(b"\0" * size)
    (tmp_path / "y_labels.csv").write_text("n.bin,2,0,2560,512\n")
    with pytest.raises(TinygenError, match=f"n.bin has {size} bytes"):
        load_dataset(AD, tmp_path)


def test_missing_folder_and_missing_labels(tmp_path):
    with pytest.raises(TinygenError, match="does not exist"):
        load_dataset(KWS, tmp_path / "nope")
    with pytest.raises(TinygenError, match="no y_labels.csv"):
        load_dataset(KWS, tmp_path)


def test_random_stimuli_are_seeded_and_in_format():
    a = random_stimuli(AD, 5, seed=3, float_range=(-2.0, 1.0))
    b = random_stimuli(AD, 5, seed=3, float_range=(-2.0, 1.0))
    assert [s.data for s in a] == [s.data for s in b]
    values = np.frombuffer(a[0].data, dtype="<f4")
    assert len(a) == 5 and values.size == 640 and values.min() >= -2 and values.max() <= 1
    v = random_stimuli(get_bench("vww"), 2, seed=1)
    assert len(v[0].data) == 27648 and v[0].data != v[1].data


# ---- hostile datasets (issue 25): refused up front, one line each --------------

def _one_line_error(bench, folder) -> str:
    with pytest.raises(TinygenError) as exc:
        load_dataset(bench, folder)
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 2000
    return msg


def test_a_200kb_csv_field_is_a_problem_of_its_line(tmp_path):
    write_classifier(tmp_path, KWS, [("a.bin", 3)])
    with open(tmp_path / "y_labels.csv", "a") as f:
        f.write('"' + "x" * 200_000 + '",12,1\n')
    msg = _one_line_error(KWS, tmp_path)
    assert "line 2: not a CSV row" in msg


@pytest.mark.parametrize("label", ["\u0663", "1_2", "\uff11", " 1e1", "0x3"])
def test_labels_must_be_ascii_whole_numbers(tmp_path, label):
    write_classifier(tmp_path, KWS, [("a.bin", label)])
    assert "is not a whole number" in _one_line_error(KWS, tmp_path)


def test_a_fifo_is_not_reported_as_missing_and_is_never_opened(tmp_path):
    import os

    write_classifier(tmp_path, KWS, [("a.bin", 3), ("b.bin", 4)])
    (tmp_path / "b.bin").unlink()
    os.mkfifo(tmp_path / "b.bin")
    assert "b.bin is a FIFO, not a regular file" in _one_line_error(KWS, tmp_path)


def test_a_fifo_as_the_labels_file_is_refused_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "y_labels.csv")
    assert "y_labels.csv is a FIFO" in _one_line_error(KWS, tmp_path)


def test_symlinks_to_devices_and_symlink_loops_are_named(tmp_path):
    write_classifier(tmp_path, KWS, [("a.bin", 3), ("dev.bin", 4), ("loop.bin", 5)])
    for name in ("dev.bin", "loop.bin"):
        (tmp_path / name).unlink()
    (tmp_path / "dev.bin").symlink_to("/dev/zero")
    (tmp_path / "loop.bin").symlink_to(tmp_path / "loop.bin")
    msg = _one_line_error(KWS, tmp_path)
    assert "dev.bin is a character device" in msg
    assert "loop.bin is a symbolic link loop" in msg


def test_a_nan_in_an_ad01_stimulus_is_refused_up_front(tmp_path):
    write_ad(tmp_path, {"n.bin": (0, 2), "a.bin": (1, 1)})
    floats = np.fromfile(tmp_path / "a.bin", dtype="<f4")
    floats[100] = np.nan
    floats[200] = np.inf
    floats.tofile(tmp_path / "a.bin")
    msg = _one_line_error(AD, tmp_path)
    assert "a.bin holds 2 NaN or infinite values (first at float 100)" in msg


def test_control_characters_in_names_are_printed_safely(tmp_path):
    write_classifier(tmp_path, KWS, [("a.bin", 3)])
    with open(tmp_path / "y_labels.csv", "a") as f:
        f.write("evil\x1b[31m\x07name.bin,12,1\n")
    msg = _one_line_error(KWS, tmp_path)
    assert "\x1b" not in msg and "\x07" not in msg and "evil?[31m?name.bin does not exist" in msg
