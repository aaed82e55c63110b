"""The incremental streaming plan: which models fit, how many MACs a hop
costs, and (slow) the same outputs as the full window over a long stream."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygen.benches import get_bench
from tinygen.codegen import generate_model_sources
from tinygen.stream.incremental import plan, step_code


def _model_c(bench: str, tmp_path: Path) -> str:
    generate_model_sources(get_bench(bench).model_path, tmp_path, layout="default")
    return (tmp_path / "model.c").read_text()


def test_sww01_fits_and_drops_to_46k_macs_per_hop(tmp_path):
    inc, why = plan(_model_c("sww", tmp_path))
    assert inc is not None, why
    assert inc.full_macs == 826_368 and inc.step_macs == 46_040
    assert [l.fields["k_h"] for l in inc.layers if l.kind == "DW"] == [3, 5, 10, 15]
    code = step_code(inc)
    assert "void tg_model_stream_step(const int8_t *window, int8_t *out)" in code
    # The model's own kernels and weights, on one output row.
    assert "tg_op3_filter" in code and "tg_sp6.in_h = 15;" in code and "tg_sp7.out_h = 1;" in code


def test_a_model_off_the_pattern_runs_the_full_window_and_says_why(tmp_path):
    inc, why = plan(_model_c("kws", tmp_path))
    assert inc is None
    # kws01's first layer is a 10x4 convolution: no per-row form.
    assert why == "op 0: only pointwise (1x1) convolutions run per row"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_long_stream_gives_the_same_outputs_both_ways(tmp_path):
    from tinygen.boards import load_board
    from tinygen.stream.port import build_stream_firmware
    from tinygen.stream.verify import hops_for, run_stream, test_stream
    board = load_board("mps2_an386")
    seconds = 10.0
    samples = test_stream(None, seconds, (1.0, 4.0, 7.0))
    outputs = {}
    for incremental in (False, True):
        out = tmp_path / f"inc{int(incremental)}"
        build_stream_firmware(board, get_bench("sww").model_path, out_dir=out,
                              log_hops=hops_for(seconds) + 1, incremental=incremental)
        outputs[incremental] = run_stream(board, out, samples, out / "run")
    full, inc = outputs[False], outputs[True]
    assert full.hops == inc.hops == 312
    assert (full.rows == inc.rows).all() and (full.outputs == inc.outputs).all()
