"""The committed untrained models: shapes, dtypes, operators, size, and that
the TFLM oracle runs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygen.benches import BENCHMARKS, INPUT_UINT8_OFFSET, OUTPUT_PROBABILITIES, Benchmark
from tinygen.zoo.stats import model_stats, model_stats_file

REFERENCE_MODELS = Path(__file__).resolve().parents[3] / "shared" / "reference-models"
OFFICIAL_FILES = {
    "ic01": REFERENCE_MODELS / "ic01_resnet8_int8.tflite",
    "ad01": REFERENCE_MODELS / "ad01_fc_autoencoder_int8.tflite",
}

CLASSIFIER_CORE = {"CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"}
EXPECTED_OPS = {
    "kws01": (CLASSIFIER_CORE | {"DEPTHWISE_CONV_2D"}, {"RESHAPE"}),
    "vww01": (CLASSIFIER_CORE | {"DEPTHWISE_CONV_2D"}, {"RESHAPE"}),
    "ic01": (CLASSIFIER_CORE | {"ADD"}, {"RESHAPE"}),
    "ic02": (CLASSIFIER_CORE | {"ADD"}, {"RESHAPE"}),
    "ad01": ({"FULLY_CONNECTED"}, {"RESHAPE"}),
}


def _conv(k_h: int, k_w: int, c_in: int, c_out: int, out_hw: int) -> tuple[int, int]:
    """(params, MACs) of a convolution with bias."""
    return k_h * k_w * c_in * c_out + c_out, out_hw * k_h * k_w * c_in * c_out


def _dw(c: int, out_hw: int) -> tuple[int, int]:
    return 9 * c + c, out_hw * 9 * c


def _fc(n_in: int, n_out: int) -> tuple[int, int]:
    return n_in * n_out + n_out, n_in * n_out


def _architecture_layers(bench_id: str) -> list[tuple[int, int]]:
    """The reference layer list, written out independently of the builders."""
    if bench_id == "kws01":
        hw = 25 * 5
        layers = [_conv(10, 4, 1, 64, hw)]
        for _ in range(4):
            layers += [_dw(64, hw), _conv(1, 1, 64, 64, hw)]
        return layers + [_fc(64, 12)]
    if bench_id == "vww01":
        layers = [_conv(3, 3, 3, 8, 48 * 48)]
        c, size = 8, 48
        for out_c, stride in [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2),
                              (128, 1), (128, 1), (128, 1), (128, 1), (128, 1),
                              (256, 2), (256, 1)]:
            size //= stride
            layers += [_dw(c, size * size), _conv(1, 1, c, out_c, size * size)]
            c = out_c
        return layers + [_fc(256, 2)]
    if bench_id in ("ic01", "ic02"):
        # ic02 (v1.4 larger ResNet): the same layout with 40/80/160 channels,
        # as the official file's convolutions have.
        f = 16 if bench_id == "ic01" else 40
        layers = [_conv(3, 3, 3, f, 1024), _conv(3, 3, f, f, 1024), _conv(3, 3, f, f, 1024)]
        for c_in, c, hw in ((f, 2 * f, 256), (2 * f, 4 * f, 64)):
            layers += [_conv(3, 3, c_in, c, hw), _conv(3, 3, c, c, hw), _conv(1, 1, c_in, c, hw)]
        return layers + [_fc(4 * f, 10)]
    if bench_id == "ad01":
        widths = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640]
        return [_fc(a, b) for a, b in zip(widths, widths[1:])]
    raise AssertionError(bench_id)


@pytest.fixture(params=[b.id for b in BENCHMARKS])
def bench(request: pytest.FixtureRequest) -> Benchmark:
    return next(b for b in BENCHMARKS if b.id == request.param)


def test_committed_model_exists_and_says_untrained(bench: Benchmark) -> None:
    assert bench.model_path.is_file(), f"{bench.model_path} missing: run tinygen model build"
    stats = model_stats_file(bench.model_path)
    assert "untrained" in stats.description
    assert bench.id in stats.description


def test_input_and_output_match_the_bench(bench: Benchmark) -> None:
    stats = model_stats_file(bench.model_path)
    assert stats.input_shapes == (bench.input_shape,)
    assert stats.output_shapes == (bench.output_shape,)
    assert stats.input_dtypes == ("int8",)
    assert stats.output_dtypes == ("int8",)


def test_operator_set_is_the_reference_one(bench: Benchmark) -> None:
    required, optional = EXPECTED_OPS[bench.id]
    ops = set(model_stats_file(bench.model_path).ops)
    assert required <= ops, f"missing {required - ops}"
    assert ops <= required | optional, f"unexpected {ops - required - optional}"


def test_params_and_macs_equal_the_reference_layer_list(bench: Benchmark) -> None:
    layers = _architecture_layers(bench.id)
    stats = model_stats_file(bench.model_path)
    assert stats.params == sum(p for p, _ in layers)
    # kws01 pools 24x5 of the 25x5 map like the reference; pooling is no MAC.
    assert stats.macs == sum(m for _, m in layers)


def test_macs_close_to_the_paper(bench: Benchmark) -> None:
    macs = model_stats_file(bench.model_path).macs
    assert abs(macs - bench.paper_macs) <= 0.02 * bench.paper_macs


@pytest.mark.parametrize("bench_id", ["vww01", "ic01", "ad01"])
def test_params_close_to_the_paper(bench_id: str) -> None:
    # kws01 is left out: its 38.6 k "params" figure is not a parameter count
    # of the DS-CNN layer list (see models/README.md); the layer-list test
    # above pins its count exactly.
    b = next(x for x in BENCHMARKS if x.id == bench_id)
    params = model_stats_file(b.model_path).params
    assert abs(params - b.paper_params) <= 0.03 * b.paper_params


@pytest.mark.parametrize("bench_id", sorted(OFFICIAL_FILES))
def test_same_size_and_operators_as_the_official_model(bench_id: str) -> None:
    official = OFFICIAL_FILES[bench_id]
    if not official.is_file():
        pytest.skip(f"official model not present at {official}")
    b = next(x for x in BENCHMARKS if x.id == bench_id)
    ours = model_stats_file(b.model_path)
    theirs = model_stats_file(official)
    assert (ours.params, ours.macs) == (theirs.params, theirs.macs)
    assert set(ours.ops) - {"RESHAPE"} == set(theirs.ops) - {"RESHAPE"}
    assert ours.input_shapes == theirs.input_shapes
    assert ours.output_shapes == theirs.output_shapes


@pytest.mark.parametrize("bench_id", [b.id for b in BENCHMARKS
                                      if b.input_format == INPUT_UINT8_OFFSET])
def test_image_inputs_are_bytes_minus_128(bench_id: str) -> None:
    """The DUT feeds byte - 128: the model reads it as the byte value
    (scale 1, zero point -128), like the official ic01."""
    from tflite_micro.python.tflite_micro import runtime

    bench = next(b for b in BENCHMARKS if b.id == bench_id)
    it = runtime.Interpreter.from_file(str(bench.model_path))
    q = it.get_input_details(0)["quantization_parameters"]
    assert list(q["zero_points"]) == [-128]
    assert float(q["scales"][0]) == pytest.approx(1.0)


def test_runs_in_the_tflm_oracle_and_reacts_to_its_input(bench: Benchmark) -> None:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_file(str(bench.model_path))
    details = it.get_input_details(0)
    assert tuple(details["shape"]) == bench.input_shape
    assert details["dtype"] == np.int8
    out_q = it.get_output_details(0)["quantization_parameters"]
    rng = np.random.default_rng(7)
    outputs = []
    for _ in range(3):
        x = rng.integers(-128, 128, size=bench.input_shape, dtype=np.int8)
        it.set_input(x, 0)
        it.invoke()
        y = it.get_output(0)
        assert y.shape == bench.output_shape
        assert y.dtype == np.int8
        outputs.append(y.copy())
        if bench.output_format == OUTPUT_PROBABILITIES:
            probs = (y.astype(np.float64) - out_q["zero_points"][0]) * out_q["scales"][0]
            # Each int8 probability is off by at most one step of 1/256.
            assert abs(probs.sum() - 1.0) <= bench.output_shape[-1] / 256 + 1e-6
    # Untrained, but alive: different inputs give different outputs.
    assert any(not np.array_equal(outputs[0], o) for o in outputs[1:])


def test_stats_reject_garbage() -> None:
    from tinygen.errors import TinygenError

    with pytest.raises(TinygenError):
        model_stats(b"this is not a flatbuffer")


def test_inspect_tells_the_user_the_model_is_untrained(capsys) -> None:
    from tinygen.cli import main

    bench = next(b for b in BENCHMARKS if b.id == "ad01")
    assert main(["inspect", str(bench.model_path)]) == 0
    assert "untrained" in capsys.readouterr().out
