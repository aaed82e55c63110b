"""The Helium (MVE) kernels on the Cortex-M55, bit-exact with TFLM.

Random one-operator models (convolution, depthwise, fully connected, add) are
planned with the MVE constant layout (tinygen/plan/layout_mve.py), compiled
for the Cortex-M55 with TG_USE_MVE (as tinygen/port does for boards with
mve: true), linked with the bare-metal runner of test_kernels_emulated.py,
run under QEMU mps3-an547 (which emulates Helium) and compared with the TFLM
oracle. The runner prints the kernel variant it was built with, so a build
that silently fell back to the DSP or portable kernels fails. Every model
also runs with the generic requantization forced (fast_requant=False).

The random shapes are small (the paths for depths up to 32); the explicit
examples reach what they miss: longer rows (whole VMLADAVA chunks plus a
predicated tail), depthwise groups of 16 and 8 channels with a partial
group after them, interior pixels, several row blocks.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings

from test_kernels_emulated import SETTINGS, _inputs_header
from test_ops_oracle import add_specs, conv_specs, fc_specs
from tinygen.codegen import generate_model_sources
from tinygen.plan.layout_mve import blocked_rows_mve, depthwise_quant_mve

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS_PER_MODEL = 3
QEMU_TIMEOUT_S = 60
ARM_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-mcpu=cortex-m55", "-mthumb",
             "-mfloat-abi=hard", "-mfpu=fpv5-d16", "-DTG_USE_DSP=1", "-DTG_USE_MVE=1",
             "-ffunction-sections", "-fdata-sections"]

needs_m55 = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh installs both)")


def test_mve_rows_put_16_depth_positions_of_4_rows_together():
    rows = np.arange(6 * 20, dtype=np.int64).reshape(6, 20).astype(np.int8)
    flat = blocked_rows_mve(rows)
    # 2 blocks of 4 rows (2 padding rows), 2 chunks of 16 (12 padding bytes).
    assert flat.size == 8 * 32
    blocks = flat.reshape(2, 2, 4, 16)     # [block][chunk][row in block][byte]
    assert (blocks[1, 1, 1, :4] == rows[5, 16:]).all() and not blocks[1, 1, 1, 4:].any()
    assert (blocks[0, 0, 2] == rows[2, :16]).all() and not blocks[1, :, 2:].any()


def test_mve_depthwise_records_follow_the_even_odd_accumulators():
    quant = np.arange(20 * 4, dtype=np.int32)   # 20 channels (17 + padding to 4s)
    recs = depthwise_quant_mve(quant, 17).reshape(-1, 4)[:, 0] // 4
    assert list(recs) == [0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15, 16, 17, 18, 19]


def run_on_m55(tflite: Path, inputs: list[np.ndarray], out: Path,
               fast_requant: bool) -> list[np.ndarray]:
    """Outputs of the MVE build of tflite for each input, from QEMU mps3-an547."""
    src = generate_model_sources(tflite, out, fast_requant=fast_requant, layout="mve")
    (out / "tg_test_inputs.h").write_text(_inputs_header(inputs))
    elf = out / "model.elf"
    cmd = ["arm-none-eabi-gcc", *ARM_FLAGS, *[f"-I{d}" for d in src.include_dirs],
           str(FIXTURES / "qemu_model_main.c"), str(src.model_c),
           *[str(k) for k in src.kernel_sources],
           "-nostartfiles", "-nostdlib", "-Wl,--gc-sections",
           "-T", str(FIXTURES / "qemu_model_an547.ld"), "-lc", "-lgcc", "-o", str(elf)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
    done = subprocess.run(
        ["qemu-system-arm", "-M", "mps3-an547", "-nographic", "-monitor", "none",
         "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        capture_output=True, text=True, timeout=QEMU_TIMEOUT_S)
    lines = (done.stdout + done.stderr).splitlines()
    assert "variant mve" in lines, done.stdout[:200] + done.stderr[:400]
    hex_lines = lines[lines.index("variant mve") + 1:][:len(inputs)]
    outputs = [np.frombuffer(bytes.fromhex(h), dtype=np.int8) for h in hex_lines]
    assert len(outputs) == len(inputs), done.stdout[:200] + done.stderr[:400]
    return outputs


def _check(model_cache, tmp_path, spec):
    from tflite_micro.python.tflite_micro import runtime

    tflite = model_cache.single_op(spec)
    oracle = runtime.Interpreter.from_file(str(tflite))
    shape = oracle.get_input_details(0)["shape"]
    rng = np.random.default_rng(spec["seed"])
    inputs = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(INPUTS_PER_MODEL)]
    expected = []
    for x in inputs:
        oracle.set_input(x, 0)
        oracle.invoke()
        expected.append(np.asarray(oracle.get_output(0)).reshape(-1))
    for fast in (True, False):
        got = run_on_m55(tflite, inputs, tmp_path / f"fast{int(fast)}", fast)
        for i, (g, e) in enumerate(zip(got, expected)):
            diff = np.flatnonzero(g != e)
            assert diff.size == 0, (f"{spec} input {i} (fast requantization {fast}): {diff.size} "
                                    f"of {g.size} differ, first at {diff[0]}: "
                                    f"tinygen {g[diff[0]]} vs TFLM {e[diff[0]]}")


# 3x3x20 = 180 depth positions: 11 whole chunks of 16 and a tail of 4; 9
# filters: two whole row blocks and a partial one.
DEEP_CONV = dict(op="conv", shape=(6, 5, 20), kernel=(3, 3), stride=1, dilation=1,
                 padding="same", act="relu", lo=-2.0, hi=1.0, seed=11, wscale=0.3,
                 per_tensor=False, filters=9)


@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=conv_specs(depthwise=False))
@example(spec=DEEP_CONV)
# Pointwise, 24 deep: the two-chunk path with the input kept in registers.
@example(spec=dict(DEEP_CONV, shape=(4, 4, 24), kernel=(1, 1), padding="valid", act=None,
                   filters=6, seed=12))
def test_mve_conv2d_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


# 36 channels: two groups of 16, then a predicated group of 4; 26: 16, 8, 2.
WIDE_DW = dict(op="dwconv", shape=(7, 6, 36), kernel=(3, 3), stride=1, dilation=1,
               padding="same", act="relu6", lo=-1.0, hi=1.5, seed=21, wscale=0.3,
               per_tensor=False, dm=1)


@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=conv_specs(depthwise=True))
@example(spec=WIDE_DW)
@example(spec=dict(WIDE_DW, shape=(9, 8, 26), kernel=(2, 3), stride=2, act=None, seed=22))
@example(spec=dict(WIDE_DW, shape=(6, 6, 7), dm=3, dilation=2, padding="valid", seed=23))
def test_mve_depthwise_conv2d_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=fc_specs())
@example(spec=dict(op="fc", shape=(100,), units=19, act="relu", lo=-3.0, hi=2.0, seed=31,
                   wscale=0.3, per_tensor=True))
def test_mve_fully_connected_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


# 105 elements: 26 steps of 4 and a predicated tail of 1; broadcasts take the
# scalar path.
@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=add_specs())
@example(spec=dict(op="add", shape=(3, 5, 7), broadcast=False, act="relu", lo=-2.0, hi=3.0,
                   seed=41, wscale=0.5))
def test_mve_add_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)
