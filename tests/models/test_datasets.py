"""tinygen dataset fetch / build on small sets generated here.

fetch: from a local folder, a file:// address and a local HTTP server that
honours Range (resume); build: ic01 from a CIFAR-style pickle, vww01 from
images, ad01 from WAV clips; each result read back by the runner's loader.
"""

from __future__ import annotations

import hashlib
import http.server
import pickle
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from tinygen.benches import get_bench
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.runner.dataset import load_dataset
from tinygen.zoo import dataset_build as db

KWS = get_bench("kws01")
KWS_NAMES = ["tst_000000_Stop_7.bin", "tst_000001_Left_2.bin", "tst_000002_Right_6.bin",
             "tst_000003_Up_8.bin", "tst_000004_On_5.bin"]


def _published_kws(folder: Path, names=KWS_NAMES) -> dict[str, bytes]:
    """An energyrunner-like datasets/kws01/ with a few feature files."""
    rng = np.random.default_rng(7)
    files = {n: rng.integers(0, 256, KWS.input_bytes, dtype=np.uint8).tobytes() for n in names}
    (folder / "kws01").mkdir(parents=True)
    for name, data in files.items():
        (folder / "kws01" / name).write_bytes(data)
    (folder / "kws01" / "y_labels.csv").write_text(
        "".join(f"{n},12,{n.rsplit('_', 1)[1][:-4]}\n" for n in names))
    return files


def test_fetch_from_a_local_folder_writes_the_set_and_says_it_is_partial(tmp_path, capsys):
    files = _published_kws(tmp_path / "mirror")
    assert main(["dataset", "fetch", "--bench", "kws", "--url", str(tmp_path / "mirror"),
                 "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    got = tmp_path / "out" / "kws01"
    assert {n: (got / n).read_bytes() for n in KWS_NAMES} == files
    assert "5 fetched, 0 already complete" in out
    assert "UNPINNED" in out
    assert "5 of the official 1000 files: a partial set" in out
    sums = (got / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(files[KWS_NAMES[0]]).hexdigest()}  {KWS_NAMES[0]}" in sums
    assert len(load_dataset(KWS, tmp_path / "out").files) == 5


def test_fetch_from_file_url_keeps_complete_files_and_checks_a_sha256_list(tmp_path, capsys):
    files = _published_kws(tmp_path / "mirror")
    url = (tmp_path / "mirror").as_uri()
    sums = tmp_path / "pins.sha256"
    sums.write_text("".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in files.items()))
    out = tmp_path / "out"
    assert main(["dataset", "fetch", "--bench", "kws01", "--url", url, "-o", str(out),
                 "--sha256", str(sums)]) == 0
    capsys.readouterr()
    # A second run fetches only what is missing or wrong.
    (out / "kws01" / KWS_NAMES[1]).unlink()
    (out / "kws01" / KWS_NAMES[2]).write_bytes(b"\0" * KWS.input_bytes)
    assert main(["dataset", "fetch", "--bench", "kws", "--url", url, "-o", str(out),
                 "--sha256", str(sums)]) == 0
    printed = capsys.readouterr().out
    assert "2 fetched, 3 already complete; every file matched its pinned sha256" in printed
    assert (out / "kws01" / KWS_NAMES[2]).read_bytes() == files[KWS_NAMES[2]]


def test_a_file_that_does_not_match_its_pin_is_not_kept(tmp_path):
    from tinygen.zoo.datasets import fetch_dataset

    _published_kws(tmp_path / "mirror")
    sums = tmp_path / "pins.sha256"
    sums.write_text("".join(f"{'0' * 64}  {n}\n" for n in KWS_NAMES))
    with pytest.raises(TinygenError, match="checksum mismatch"):
        fetch_dataset(KWS, tmp_path / "out", base=str(tmp_path / "mirror"), sums_path=sums)
    assert not (tmp_path / "out" / "kws01" / KWS_NAMES[0]).exists()
    assert not list((tmp_path / "out" / "kws01").glob("*.part"))


def test_labels_that_contradict_the_kws_file_names_are_refused(tmp_path, capsys):
    _published_kws(tmp_path / "mirror")
    labels = tmp_path / "mirror" / "kws01" / "y_labels.csv"
    labels.write_text(labels.read_text().replace("tst_000000_Stop_7.bin,12,7",
                                                 "tst_000000_Stop_7.bin,12,3"))
    assert main(["dataset", "fetch", "--bench", "kws", "--url", str(tmp_path / "mirror"),
                 "-o", str(tmp_path / "out")]) == 1
    assert "class 3, its name says 7" in capsys.readouterr().err
    assert not (tmp_path / "out" / "kws01" / KWS_NAMES[0]).exists()


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files and honours 'Range: bytes=N-' (206), as GitHub's raw server does."""

    ranges: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        wanted = self.headers.get("Range")
        start = 0
        if wanted:
            type(self).ranges.append(wanted)
            start = int(wanted.split("=")[1].rstrip("-"))
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


def test_an_interrupted_download_resumes_over_http(tmp_path, capsys):
    files = _published_kws(tmp_path / "mirror")
    handler = lambda *a, **k: _RangeHandler(*a, directory=str(tmp_path / "mirror"), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = tmp_path / "out" / "kws01"
        out.mkdir(parents=True)
        first = KWS_NAMES[0]
        (out / f"{first}.part").write_bytes(files[first][:200])   # a broken earlier run
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert main(["dataset", "fetch", "--bench", "kws", "--url", url,
                     "-o", str(tmp_path / "out")]) == 0
    finally:
        server.shutdown()
        server.server_close()
    assert _RangeHandler.ranges == ["bytes=200-"]
    assert (out / first).read_bytes() == files[first]
    assert not (out / f"{first}.part").exists()
    assert "5 fetched" in capsys.readouterr().out


def test_fetch_of_a_set_that_is_not_published_names_build(tmp_path, capsys):
    assert main(["dataset", "fetch", "--bench", "ad", "-o", str(tmp_path)]) == 1
    assert "'tinygen dataset build --bench ad --source PATH'" in capsys.readouterr().err


# -- build ----------------------------------------------------------------------

def _cifar_batch(path: Path, count: int = 30) -> tuple[np.ndarray, list[str], list[int]]:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
    names = [f"thing_s_{i:06d}.png" for i in range(count)]
    labels = [i % 10 for i in range(count)]
    with open(path, "wb") as f:
        pickle.dump({b"data": data, b"filenames": [n.encode() for n in names],
                     b"labels": labels, b"batch_label": b"testing batch 1 of 1"}, f)
    return data, names, labels


def test_ic01_build_writes_hwc_images_with_the_official_names(tmp_path, capsys):
    batches = tmp_path / "cifar-10-batches-py"
    batches.mkdir()
    data, names, labels = _cifar_batch(batches / "test_batch")
    chosen = [7, 2, 19]
    official = tmp_path / "y_labels.csv"
    official.write_text("".join(f"{names[i][:-4]}.bin,10,{labels[i]}\n" for i in chosen))
    assert main(["dataset", "build", "--bench", "ic", "--source", str(batches),
                 "--labels", str(official), "-o", str(tmp_path / "sets")]) == 0
    printed = capsys.readouterr().out
    assert "3 stimuli built" in printed and "byte-identical" in printed
    assert "3 of the official 200 files: a partial set" in printed
    got = (tmp_path / "sets" / "ic01" / "thing_s_000002.bin").read_bytes()
    image = data[2].reshape(3, 32, 32)   # planar
    assert got[:3] == bytes([image[0, 0, 0], image[1, 0, 0], image[2, 0, 0]])   # R G B of pixel (0,0)
    assert got[3 * 33:3 * 33 + 3] == bytes(image[:, 1, 1])                     # pixel (1,1)
    ds = load_dataset(get_bench("ic01"), tmp_path / "sets")
    assert [(f.name, f.label) for f in ds.files] == [(f"{names[i][:-4]}.bin", labels[i]) for i in chosen]


def test_ic01_labels_from_another_batch_are_refused(tmp_path):
    batch = tmp_path / "test_batch"
    _, names, labels = _cifar_batch(batch)
    official = tmp_path / "y_labels.csv"
    official.write_text(f"{names[0][:-4]}.bin,10,{(labels[0] + 1) % 10}\n")
    with pytest.raises(TinygenError, match="do not belong together"):
        db.build_dataset(get_bench("ic01"), batch, official, tmp_path / "sets")


def test_vww01_build_finds_images_by_coco_id_and_resizes_to_96(tmp_path):
    from PIL import Image

    src = tmp_path / "coco" / "person"
    src.mkdir(parents=True)
    Image.new("RGB", (96, 96), (10, 20, 30)).save(src / "COCO_val2014_000000000042.png")
    Image.new("L", (160, 120), 200).save(src / "COCO_val2014_000000343218.png")
    official = tmp_path / "y_labels.csv"
    official.write_text("000000343218.bin, 2, 1\n000000000042.bin, 2, 0\n")
    report = db.build_dataset(get_bench("vww01"), tmp_path / "coco", official, tmp_path / "sets")
    assert report.files == 2 and not report.exact
    folder = tmp_path / "sets" / "vww01"
    assert (folder / "000000000042.bin").read_bytes() == bytes([10, 20, 30]) * 96 * 96
    assert (folder / "000000343218.bin").read_bytes() == bytes([200]) * 3 * 96 * 96
    assert (folder / "y_labels.csv").read_text() == official.read_text()
    assert len(load_dataset(get_bench("vww01"), tmp_path / "sets").files) == 2


def test_vww01_missing_images_are_named(tmp_path):
    (tmp_path / "coco").mkdir()
    official = tmp_path / "y_labels.csv"
    official.write_text("000000000007.bin, 2, 1\n")
    with pytest.raises(TinygenError, match="first COCO id 000000000007"):
        db.build_dataset(get_bench("vww01"), tmp_path / "coco", official, tmp_path / "sets")


def _wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.round(samples * 32767).astype("<i2").tobytes())


def test_mel_filters_are_triangles_of_unit_area():
    filters = db.mel_filterbank(16_000, 1024, 128)
    assert filters.shape == (128, 513)
    bin_hz = 16_000 / 1024
    areas = filters.sum(axis=1) * bin_hz
    wide = filters.astype(bool).sum(axis=1) >= 8   # enough bins to integrate
    assert np.allclose(areas[wide], 1.0, rtol=0.05)
    peaks = filters.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0)                  # centres rise with the band


def test_ad01_build_writes_the_central_200_frames_of_the_log_mel_spectrogram(tmp_path, capsys):
    rate = 16_000
    t = np.arange(int(8.5 * rate)) / rate
    clips = tmp_path / "ToyCar" / "test"
    clips.mkdir(parents=True)
    _wav(clips / "normal_id_01_00000003.wav", 0.5 * np.sin(2 * np.pi * 1000.0 * t))
    _wav(clips / "anomaly_id_01_00000003.wav", np.zeros_like(t))
    official = tmp_path / "y_labels.csv"
    official.write_text("normal_id_01_00000003_hist_librosa.bin,2,0,2560,512\n"
                        "anomaly_id_01_00000003_hist_librosa.bin,2,1,2560,512\n")
    assert main(["dataset", "build", "--bench", "ad", "--source", str(tmp_path / "ToyCar"),
                 "--labels", str(official), "-o", str(tmp_path / "sets")]) == 0
    printed = capsys.readouterr().out
    assert "not byte-identical" in printed
    assert "2 of the official 248 files: a partial set" in printed
    folder = tmp_path / "sets" / "ad01"
    tone = np.frombuffer((folder / "normal_id_01_00000003_hist_librosa.bin").read_bytes(), "<f4")
    silence = np.frombuffer((folder / "anomaly_id_01_00000003_hist_librosa.bin").read_bytes(), "<f4")
    assert tone.size == silence.size == 200 * 128
    frames = tone.reshape(200, 128)
    centres = db._mel_to_hz(np.linspace(0, db._hz_to_mel(np.array([8000.0]))[0], 130))[1:-1]
    assert set(frames.argmax(axis=1)) == {int(np.argmin(np.abs(centres - 1000.0)))}
    assert np.allclose(silence, 10 * np.log10(np.finfo(np.float64).eps))
    ds = load_dataset(get_bench("ad01"), tmp_path / "sets")
    assert [f.windows for f in ds.files] == [196, 196]


def test_ad01_clip_too_short_for_the_official_frames_is_refused(tmp_path):
    _wav(tmp_path / "normal_id_01_00000000.wav", np.zeros(16_000))
    official = tmp_path / "y_labels.csv"
    official.write_text("normal_id_01_00000000_hist_librosa.bin,2,0,2560,512\n")
    with pytest.raises(TinygenError, match="frames 50..249"):
        db.build_dataset(get_bench("ad01"), tmp_path, official, tmp_path / "sets")


def test_ic02_is_built_from_ic01s_published_labels(tmp_path):
    batches = tmp_path / "cifar-10-batches-py"
    batches.mkdir()
    _, names, labels = _cifar_batch(batches / "test_batch")
    published = tmp_path / "energyrunner" / "datasets" / "ic01"
    published.mkdir(parents=True)
    (published / "y_labels.csv").write_text(f"{names[4][:-4]}.bin,10,{labels[4]}\n")
    assert main(["dataset", "build", "--bench", "ic2", "--source", str(batches),
                 "--url", str(published.parent), "-o", str(tmp_path / "sets")]) == 0
    ds = load_dataset(get_bench("ic02"), tmp_path / "sets")
    assert [f.name for f in ds.files] == [f"{names[4][:-4]}.bin"]


def test_a_bench_without_a_stimulus_set_is_refused_by_name(tmp_path, capsys):
    assert main(["dataset", "fetch", "--bench", "sww", "-o", str(tmp_path)]) == 1
    assert "sww01 has no EEMBC stimulus set" in capsys.readouterr().err
