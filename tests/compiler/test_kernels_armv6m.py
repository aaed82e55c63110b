"""The portable kernels on Armv6-M (Cortex-M0), bit-exact with TFLM.

Armv6-M has no unaligned loads and stores (they fault), no 64-bit multiply
instruction (SMULL/UMULL: GCC calls libgcc's __aeabi_lmul instead) and no
DSP extension. Random one-operator models, built for -mcpu=cortex-m0 with
soft float, linked with the bare-metal runner (fixtures/qemu_model_main.c)
and run under QEMU microbit (nRF51822) must give TFLM's outputs byte for
byte; a misaligned access would stop the run with a HardFault (no output),
and the image is checked to hold no instruction Armv6-M lacks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings

from kernel_oracle import assert_bit_exact, oracle_cases, run_bare_metal
from test_kernels_emulated import SETTINGS
from test_ops_oracle import add_specs, conv_specs, fc_specs, pool_specs, softmax_specs
from tinygen.codegen import write_sources
from tinygen.ir import load_model
from tinygen.plan import plan_model

M0_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-mcpu=cortex-m0", "-mthumb",
            "-mfloat-abi=soft", "-ffunction-sections", "-fdata-sections"]
# Instructions of Armv7-M and later an Armv6-M image must not hold.
NOT_V6M = re.compile(r"\t(smull|umull|smlal|umlal|sdiv|udiv|ldrd|strd|ssat|usat|sxtb16|smlad|"
                     r"cbz|cbnz|it[te]*)\b")

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh installs both)")


def _check(model_cache, tmp_path: Path, spec) -> None:
    tflite = model_cache.single_op(spec)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    plan = plan_model(load_model(tflite), fit_scratch=False)
    src = write_sources(plan, tmp_path)
    got = run_bare_metal(src, inputs, tmp_path, flags=M0_FLAGS, machine="microbit",
                         linker_script="qemu_model_microbit.ld", variant="portable")
    assert_bit_exact(got, expected, f"{spec} on cortex-m0")
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / "model.elf")],
                             capture_output=True, text=True, check=True).stdout
    found = NOT_V6M.search(listing)
    assert found is None, f"an Armv7-M instruction in the Armv6-M image: {found.group(0)!r}"


@settings(max_examples=3, **SETTINGS)
@given(spec=conv_specs(depthwise=False))
def test_conv2d_on_cortex_m0_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@settings(max_examples=3, **SETTINGS)
@given(spec=conv_specs(depthwise=True))
def test_depthwise_conv2d_on_cortex_m0_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@settings(max_examples=3, **SETTINGS)
@given(spec=fc_specs())
def test_fully_connected_on_cortex_m0_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@settings(max_examples=2, **SETTINGS)
@given(spec=pool_specs("avgpool"))
def test_average_pool_on_cortex_m0_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@settings(max_examples=2, **SETTINGS)
@given(spec=add_specs())
def test_add_on_cortex_m0_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@settings(max_examples=2, **SETTINGS)
@given(spec=softmax_specs())
def test_softmax_on_cortex_m0_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)
