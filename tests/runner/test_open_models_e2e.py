"""Open-division models (issue 26) verified end to end on the emulated B-L475E.

The committed untrained models of tinygen/zoo/open_models.py take the
closed benchmarks' inputs: the convolutional auto-encoder (grouped conv,
TRANSPOSE_CONV, RESIZE_BILINEAR) answers ad01's protocol and the
MobileNetV3-small-like person detector (hard-swish, squeeze-excite) vww01's.
`tinygen verify --quick` builds each for disco_l475vg_iot01a, runs it under
QEMU and compares its golden outputs with the TFLM oracle.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinygen.cli import main

OPEN_MODELS = Path(__file__).resolve().parents[2] / "models" / "open"


@pytest.mark.parametrize("name, bench", [
    ("conv_autoencoder", "ad"),
    # 5.6 M MACs: about 2 min of QEMU on a quiet machine, so slow; its
    # operators' kernels are in the quick suite through the auto-encoder and
    # tests/compiler (mobilenet_v3_block, the table kernels).
    pytest.param("mobilenet_v3_person", "vww", marks=pytest.mark.slow)])
def test_open_model_verifies_bit_exact_on_the_emulated_b_l475e(name, bench, tmp_path, capsys):
    out = tmp_path / "session"
    rc = main(["verify", "--board", "disco_l475vg_iot01a", "--bench", bench,
               "--model", str(OPEN_MODELS / f"{name}.tflite"), "--build", str(tmp_path / "build"),
               "--quick", "--golden", "2", "--min-seconds", "0.05", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "PASS  golden outputs" in printed
    res = json.loads((out / "results.json").read_text())
    assert all(g["match"] for g in res["golden"]) and len(res["golden"]) == 3
