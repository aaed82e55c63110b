"""Layers whose streams the planner copies into RAM read them from flash once.

The DSP pointwise kernels of narrow inputs (tg_conv2d_pw8_s8_dsp,
tg_conv2d_pw16_s8_dsp) and the first-layer kernels
(tg_conv2d_rgb3x3s{1,2}_s8_dsp) copy their stream of weights and records
into scratch once per layer and run every pixel pair from the copy. Each
one-layer model here is compiled for mps2-an386 with the DSP kernel target,
run bare-metal under QEMU (bit-exact with TFLM, test_kernels_emulated.py's
machinery), then run again with the log tinygen.runner.cycles.flash_reads
asks for: the loads of one tg_model_invoke must read from flash no fewer
bytes than the stream the planner made and no more than that plus
PARAMS_ALLOWANCE (the call's parameter record and literal-pool words),
where reading the stream per pixel pair would read it many times over
(every case has 12 or more pairs).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from kernel_oracle import assert_bit_exact, oracle_cases
from test_kernels_emulated import run_on_qemu
from tinygen.ir import load_model
from tinygen.plan import plan_model
from tinygen.runner.cycles import count_flash_reads, flash_trace_args, objdump_decoder

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh installs both)")

# tg_conv_params (a few dozen int32 fields; the kernels read some) and the
# words of the call's literal pool, in bytes.
PARAMS_ALLOWANCE = 256
MPS2_FLASH = [(0x0000_0000, 0x0040_0000)]    # CODE in fixtures/qemu_model.ld


def _spec(shape, filters, kernel, stride, seed):
    return dict(op="conv", shape=shape, kernel=kernel, stride=stride, dilation=1,
                padding="same", act="relu", lo=-1.0, hi=1.5, seed=seed, wscale=0.5,
                per_tensor=False, filters=filters, batch=1)


CASES = {
    "tg_conv2d_pw8_s8_dsp": _spec((6, 8, 8), 16, (1, 1), 1, 121),
    "tg_conv2d_pw16_s8_dsp": _spec((6, 4, 16), 32, (1, 1), 1, 122),
    "tg_conv2d_rgb3x3s2_s8_dsp": _spec((12, 12, 3), 8, (3, 3), 2, 123),
    "tg_conv2d_rgb3x3s1_s8_dsp": _spec((6, 8, 3), 16, (3, 3), 1, 124),
}


def _invoke_window(elf) -> tuple[int, int]:
    """tg_model_invoke's address and the return address of the runner's call."""
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], check=True, capture_output=True,
                        text=True).stdout
    symbols = (line.split() for line in nm.splitlines())
    entry = next(int(f[0], 16) for f in symbols if len(f) == 3 and f[2] == "tg_model_invoke")
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], check=True,
                         capture_output=True, text=True).stdout
    call = re.search(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{4} ?)+)\s+bl\s+[0-9a-f]+ <tg_model_invoke>",
                     dis, re.M)
    assert call, "the runner does not call tg_model_invoke"
    return entry & ~1, int(call.group(1), 16) + 2 * len(call.group(2).split())


@pytest.mark.parametrize("kernel", list(CASES))
def test_a_copied_stream_is_read_from_flash_once(model_cache, tmp_path, kernel):
    spec = CASES[kernel]
    tflite = model_cache.single_op(spec)
    plan = plan_model(load_model(tflite), fit_scratch=False, layout="dsp")
    (call,) = plan.calls
    assert call.function == kernel
    stream = call.arrays["stream"].nbytes
    inputs, expected = oracle_cases(tflite, spec["seed"])
    assert_bit_exact(run_on_qemu(tflite, inputs, tmp_path, True), expected, kernel)

    elf = tmp_path / "model.elf"
    entry, return_to = _invoke_window(elf)
    loads = {a: i for a, i in objdump_decoder(elf, "cortex-m4").items()
             if i.kind in ("load", "ldrd", "ldm")}
    log = tmp_path / "flash.log"
    subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                    "-serial", "none", "-semihosting-config", "enable=on,target=native",
                    *flash_trace_args(set(loads) | {entry, return_to}, log),
                    "-kernel", str(elf)], check=True, capture_output=True, timeout=120)
    reads = count_flash_reads(log, loads, entry, return_to, MPS2_FLASH)
    assert reads.unknown == 0
    assert stream <= reads.flash_bytes <= stream + PARAMS_ALLOWANCE, (stream, reads.flash_bytes)
