"""The incremental streaming plan: which models fit, how many MACs a hop
costs, and (slow) the same outputs as the full window over a long stream."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygen.benches import get_bench
from tinygen.codegen import generate_model_sources
from tinygen.ir import load_model
from tinygen.plan import plan_model
from tinygen.plan.streaming import plan_streaming


def _calls(bench: str):
    return plan_model(load_model(get_bench(bench).model_path), layout="dsp").calls


def test_sww01_fits_and_drops_to_46k_macs_per_hop():
    inc, why = plan_streaming(_calls("sww"))
    assert inc is not None, why
    assert inc.full_macs == 826_368 and inc.step_macs == 46_040
    assert inc.window_rows == (3, 5, 10, 15)
    # Each block keeps as many rows of its output as the next block reads.
    assert [b.ring_rows for b in inc.blocks] == [5, 10, 15, 0]


def test_the_step_is_rendered_into_model_c_from_the_plan(tmp_path):
    sources = generate_model_sources(get_bench("sww").model_path, tmp_path, layout="dsp",
                                     streaming=True)
    assert sources.stream is not None and sources.stream.step_macs == 46_040
    code = (tmp_path / "model.c").read_text()
    assert "void tg_model_stream_step(const int8_t *window, int8_t *out)" in code
    # The model's own kernels and weights (the plan's variant: a DSP triples
    # kernel for this pointwise layer, the int8-patch form that fits the
    # arena), on one output row.
    assert "tg_conv2d_triples8_s8_dsp(&tg_sp3, tg_dw1, tg_op3_stream," in code
    assert "tg_sp6.in_h = 15;" in code and "tg_sp7.out_h = 1;" in code
    # A build that is not streaming gets no step.
    plain = generate_model_sources(get_bench("sww").model_path, tmp_path / "plain", layout="dsp")
    assert plain.stream is None and "tg_model_stream_step" not in plain.model_c.read_text()


def test_a_model_off_the_pattern_runs_the_full_window_and_says_why():
    inc, why = plan_streaming(_calls("kws"))
    assert inc is None
    # kws01's first layer is a 10x4 convolution: no per-row form.
    assert why == "op 0: only pointwise (1x1) convolutions run per row"


def test_the_port_records_which_inference_runs_and_why(tmp_path):
    from tinygen.port.manifest import read_manifest
    from tinygen.port.sww_build import generate_stream_port, inference_plan
    port = generate_stream_port("mps2_an386", get_bench("sww").model_path, out_dir=tmp_path / "inc",
                                log_hops=7)
    assert port.stream.incremental and read_manifest(port.build_dir).stream.log_hops == 7
    assert inference_plan(port.build_dir).startswith("incremental: 46,040 MACs per hop")
    assert "#define TG_SWW_INCREMENTAL 1" in (port.src_dir / "tg_stream_config.h").read_text()
    full = generate_stream_port("mps2_an386", get_bench("sww").model_path, out_dir=tmp_path / "full",
                                incremental=False)
    assert inference_plan(full.build_dir) == "full-window inference every hop (826,368 MACs)"
    assert "tg_model_stream_step" not in (full.src_dir / "model.c").read_text()
    assert "#define TG_SWW_INCREMENTAL 0" in (full.src_dir / "tg_stream_config.h").read_text()


def test_a_model_without_a_step_runs_the_full_window_and_the_build_says_why(caplog):
    from tinygen.port.streaming import StreamOptions, stream_entry
    _, why = plan_streaming(_calls("kws"))
    entry = stream_entry(StreamOptions(), None, why, 826_368)
    assert not entry.incremental and entry.note == why
    assert entry.plan == "full-window inference every hop (826,368 MACs)"
    assert f"sww: full-window inference every hop: {why}" in caplog.text


def test_stream_options_are_for_streaming_benchmarks_only(tmp_path):
    from tinygen.errors import TinygenError
    from tinygen.port.generate import generate_port
    from tinygen.port.streaming import StreamOptions
    with pytest.raises(TinygenError, match="not a streaming benchmark"):
        generate_port("mps2_an386", "kws01", out_dir=tmp_path, stream=StreamOptions(log_hops=3))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_long_stream_gives_the_same_outputs_both_ways(tmp_path):
    from tinygen.boards import load_board
    from tinygen.port.sww_build import build_stream_firmware
    from tinygen.runner.sww_verify import hops_for, run_stream, test_stream
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
