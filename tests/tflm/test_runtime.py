"""Ports on the TFLM runtime, built from the pinned trees and verified end to end.

CI runs a representative subset (about 3 to 5 minutes on an idle 2-core
machine the first time, mostly compiling TFLM into the cache under the
system temp folder; seconds once cached):

    host, kws, reference kernels          verify --quick, bit-exact
    mps2_an386, kws, CMSIS-NN kernels     verify --quick, bit-exact (QEMU)

(vww on disco_l475vg_iot01a, whose single TFLM arena exceeds SRAM1, is
test_stack_and_layout.py's: the split layout.)

The full matrix (every bench x both kernel sets x host, disco_l475vg_iot01a,
mps2_an386, nucleo_l4r5zi; verify --quick where the board runs here) is
marked slow and runs only when asked:

    TINYGEN_SLOW=1 .venv/bin/python -m pytest tests/tflm -m slow
"""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import need_arm_cxx, need_host_cxx, tinygen
from tinygen.boards import load_board
from tinygen.port.build import build_firmware
from tinygen.port.tflm import ARENA_MARGIN_BYTES

VERIFY_PASSED = re.compile(r"(\d) of \1 checks passed")
BIT_EXACT = re.compile(r"PASS  golden outputs .*(int8 outputs bit-exact|MSE within print precision)"
                       r" with the TFLM oracle")


def verify(board: str, bench: str, tree, tmp_path, timeout: float = 2400):
    return tinygen("verify", "--board", board, "--bench", bench, "--quick", "--golden", "3",
                   "--runtime", "tflm", "--tflm", str(tree), "--build", str(tmp_path / "build"),
                   "--out", str(tmp_path / "session"), timeout=timeout)


def assert_passed(done) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert VERIFY_PASSED.search(done.stdout), done.stdout[-2000:]
    assert BIT_EXACT.search(done.stdout), done.stdout[-2000:]


def test_host_kws_reference_kernels_verify_bit_exact(tmp_path, ref_tree):
    need_host_cxx()
    done = verify("host", "kws", ref_tree, tmp_path)
    assert_passed(done)
    tflm = json.loads((tmp_path / "build" / "build.json").read_text())["tflm"]
    assert tflm["kernels"] == "reference"
    assert tflm["operators"] == ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D",
                                 "FULLY_CONNECTED", "SOFTMAX"]
    assert tflm["arena_measured_on"] == "host"
    assert tflm["arena_needed_bytes"] >= tflm["arena_used_bytes"]
    assert tflm["arena_bytes"] >= tflm["arena_needed_bytes"] + ARENA_MARGIN_BYTES
    model_h = (tmp_path / "build" / "src" / "model.h").read_text()
    assert f"#define TG_MODEL_ARENA_BYTES       {tflm['arena_bytes']}" in model_h
    glue = (tmp_path / "build" / "src" / "tflm_model.cc").read_text()
    assert "MicroMutableOpResolver<TG_TFLM_OPERATOR_KINDS>" in glue
    assert "#define TG_TFLM_OPERATOR_KINDS 5" in glue


def test_mps2_kws_cmsis_nn_verify_bit_exact(tmp_path, cmsisnn_tree):
    need_arm_cxx()
    done = verify("mps2_an386", "kws", cmsisnn_tree, tmp_path)
    assert_passed(done)
    tflm = json.loads((tmp_path / "build" / "build.json").read_text())["tflm"]
    assert tflm["kernels"] == "cmsis-nn"
    assert tflm["arena_measured_on"] == "qemu mps2-an386"
    assert "arm-none-eabi-g++" == tflm["compiler"]


BOARDS = ("host", "disco_l475vg_iot01a", "mps2_an386", "nucleo_l4r5zi")
BENCHES = ("kws", "vww", "ic", "ad")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TINYGEN_SLOW") != "1",
                    reason="full TFLM matrix: set TINYGEN_SLOW=1 to run it (tens of minutes)")
@pytest.mark.parametrize("tree", ["ref", "cmsisnn"], indirect=True)
@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("bench", BENCHES)
def test_every_bench_on_every_board(tmp_path, tree, board, bench):
    if board == "host":
        need_host_cxx()
    else:
        need_arm_cxx()
    b = load_board(board)
    if b.is_host or b.is_emulated:
        assert_passed(verify(board, bench, tree, tmp_path, timeout=3600))
    else:
        built = build_firmware(board, bench, out_dir=tmp_path / "b", runtime="tflm", tflm=tree)
        assert built.elf.is_file() and built.size.flash_bytes > 0
