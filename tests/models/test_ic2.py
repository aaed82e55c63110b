"""ic2 (MLPerf Tiny v1.4, the larger ResNet): registry, fetch, committed
untrained model, and an end-to-end verify on the host DUT, bit-exact with
the TFLM oracle. (tests/boards runs it bit-exact on emulated M33 and M55.)"""

from __future__ import annotations

import json

from tinygen.benches import get_bench
from tinygen.cli import main
from tinygen.paths import models_dir
from tinygen.zoo.stats import model_stats_file

OFFICIAL = ("benchmark/training/image_classification/trained_models/"
            "pretrainedResnet_large_int8.tflite")


def test_ic2_is_the_v14_large_resnet_with_its_pinned_file():
    bench = get_bench("ic2")
    assert (bench.id, bench.short) == ("ic02", "ic2")
    assert bench.official_path == OFFICIAL
    assert bench.official_sha256 == (
        "dc27dcd823f5665533352f7da516b0c9bc6f089914b8283782e55961b3423fcf")
    assert bench.input_shape == get_bench("ic01").input_shape == (1, 32, 32, 3)
    assert bench.input_bytes == 3072 and bench.target == 0.91


def test_committed_ic02_has_the_large_resnet_macs():
    stats = model_stats_file(models_dir() / "ic02.tflite")
    assert abs(stats.macs - 76_500_000) <= 0.01 * 76_500_000


def test_fetch_asks_for_the_pinned_file_and_refuses_other_bytes(file_server, tmp_path, capsys):
    bench = get_bench("ic2")
    file_server.files["/" + OFFICIAL] = (models_dir() / "ic02.tflite").read_bytes()
    dest = tmp_path / "ic2.tflite"
    # The committed untrained model is not the official file: its sha256 differs.
    assert main(["model", "fetch", "--bench", "ic2", "--url", file_server.base,
                 "-o", str(dest)]) == 1
    err = capsys.readouterr().err
    assert bench.official_sha256 in err or "sha256" in err
    assert not dest.exists()


def test_ic2_verify_quick_on_host_is_bit_exact(tmp_path, capsys):
    out = tmp_path / "session"
    rc = main(["verify", "--board", "host", "--bench", "ic2", "--build", str(tmp_path / "b"),
               "--quick", "--min-seconds", "0.3", "--golden", "2", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "PASS  golden outputs" in printed and "bit-exact" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["dut"]["model"] == "ic02" and all(g["match"] for g in results["golden"])
