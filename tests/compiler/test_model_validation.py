"""Corrupted and inconsistent models are refused in one line before planning (issue 25).

Each test edits a committed model (models/*.tflite) through the flatbuffer
object API the way an independent fuzzing campaign did, and runs
`tinygen inspect` on it: every one of the campaign's findings (tracebacks,
a hang, models accepted that then misbehaved in the kernels, the C compiler
or the TFLM oracle) must now end in one line and exit status 1.
"""

from __future__ import annotations

import math
from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from tinygen.cli import main
from tinygen.codegen import generate_model_sources
from tinygen.errors import TinygenError

MODELS = Path(__file__).resolve().parents[2] / "models"


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    return schema_py_generated


def _load(name: str):
    return _schema().ModelT.InitFromPackedBuf((MODELS / f"{name}.tflite").read_bytes(), 0)


def _save(model, tmp_path: Path, name: str = "mutant") -> Path:
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(bytes(builder.Output()))
    return path


def _refused(path: Path, capsys, *words: str) -> str:
    """inspect exits 1 with one line naming the problem."""
    assert main(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinygen: error:"), err
    assert len(lines[0]) < 500
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _ops(model):
    return model.subgraphs[0].operators


def _tensors(model):
    return model.subgraphs[0].tensors


# kws01: input 0 -> CONV_2D 0 [0, 20, 19] -> 21 ... AVERAGE_POOL_2D 9 -> 30,
# FULLY_CONNECTED 10 [30, 2, 1] -> 31, SOFTMAX 11 31 -> 32 (graph output).

def test_the_committed_models_pass(capsys):
    for path in sorted(MODELS.glob("*.tflite")):
        assert main(["inspect", str(path)]) == 0, capsys.readouterr().err


def test_an_operator_reading_its_own_output_is_refused_not_a_hang(tmp_path, capsys):
    m = _load("kws01")
    _ops(m)[11].inputs = np.array([32], dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, "operator 11 (SOFTMAX)", "not written by an earlier")


def test_a_removed_operator_is_refused(tmp_path, capsys):
    m = _load("kws01")
    del _ops(m)[4]
    _refused(_save(m, tmp_path), capsys, "operator 4 (DEPTHWISE_CONV_2D)",
             "not written by an earlier operator")


def test_operators_out_of_order_are_refused(tmp_path, capsys):
    m = _load("kws01")
    ops = _ops(m)
    ops[2], ops[3] = ops[3], ops[2]
    _refused(_save(m, tmp_path), capsys, "operator 2", "out of execution order")


def test_a_tensor_written_twice_is_refused(tmp_path, capsys):
    m = _load("kws01")
    _ops(m)[3].outputs = np.array([22], dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, "operator 3", "already written")


@pytest.mark.parametrize("inputs, words", [
    ([21], "has 1 inputs, expected 2 to 3"),
    ([21, 18, 17, 16], "has 4 inputs"),
    ([21, -2, 17], "refer to tensor -2"),
    ([-1, 18, 17], "first input omitted"),
])
def test_operand_counts_and_indices_are_checked_per_kind(tmp_path, capsys, inputs, words):
    m = _load("kws01")
    _ops(m)[1].inputs = np.array(inputs, dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, words)


def test_an_operator_without_outputs_is_refused_before_folding(tmp_path, capsys):
    m = _load("kws01")
    _ops(m)[11].outputs = np.array([], dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, "operator 11 (SOFTMAX)", "0 outputs")


def test_missing_options_are_refused(tmp_path, capsys):
    m = _load("kws01")
    _ops(m)[0].builtinOptions, _ops(m)[0].builtinOptionsType = None, 0
    _refused(_save(m, tmp_path), capsys, "operator 0 (CONV_2D)", "has no Conv2DOptions")


def test_options_of_the_wrong_kind_are_refused(tmp_path, capsys):
    s = _schema()
    m = _load("kws01")
    _ops(m)[9].builtinOptionsType = s.BuiltinOptions.SoftmaxOptions
    _ops(m)[9].builtinOptions = s.SoftmaxOptionsT()
    _refused(_save(m, tmp_path), capsys, "operator 9 (AVERAGE_POOL_2D)", "has no Pool2DOptions")


@pytest.mark.parametrize("op, field, value, words", [
    (0, "strideH", 0, "stride 0"),
    (2, "strideW", -3, "stride -3"),
    (1, "dilationHFactor", 0, "dilation 0"),
    (1, "dilationWFactor", 1 << 30, "dilation 1073741824"),
    (9, "filterHeight", 0, "window size 0"),
    (9, "filterWidth", 70000, "window size 70000"),
    (9, "strideW", 70000, "stride 70000"),
])
def test_option_ranges_are_checked(tmp_path, capsys, op, field, value, words):
    m = _load("kws01")
    setattr(_ops(m)[op].builtinOptions, field, value)
    _refused(_save(m, tmp_path), capsys, f"operator {op}", words)


def test_a_window_larger_than_its_input_is_refused(tmp_path, capsys):
    m = _load("kws01")
    _ops(m)[9].builtinOptions.filterHeight = 30    # VALID over 25 rows
    _refused(_save(m, tmp_path), capsys, "operator 9", "window larger than its")


@pytest.mark.parametrize("scale, words", [
    (0.0, "zero, negative or not finite"),
    (-0.5, "zero, negative or not finite"),
    (math.nan, "not finite (nan)"),
    (math.inf, "not finite (inf)"),
    (1e30, "outside [1e-12, 1e+12]"),
    (1e-30, "outside [1e-12, 1e+12]"),
])
def test_activation_scales_are_range_checked(tmp_path, capsys, scale, words):
    m = _load("kws01")
    _tensors(m)[21].quantization.scale = np.array([scale], dtype=np.float32)
    _refused(_save(m, tmp_path), capsys, "operator 0 (CONV_2D)", words)


def test_a_weight_scale_giving_an_accumulator_overflow_is_refused(tmp_path, capsys):
    """Scales of 1e30 reached the kernels as a left shift that overflowed int32."""
    m = _load("ad01")
    q = _tensors(m)[20].quantization          # FC 0 weights, per channel
    q.scale = (q.scale * np.float32(1e6)).astype(np.float32)
    _refused(_save(m, tmp_path), capsys, "operator 0 (FULLY_CONNECTED)", "beyond int32")


def test_a_tiny_weight_scale_is_refused(tmp_path, capsys):
    m = _load("ad01")
    q = _tensors(m)[20].quantization
    q.scale = np.full(len(q.scale), 1e-20, dtype=np.float32)
    _refused(_save(m, tmp_path), capsys, "operator 0 (FULLY_CONNECTED)", "scale outside")


@pytest.mark.parametrize("zp", [-1000, 1 << 40, 128])
def test_activation_zero_points_outside_int8_are_refused(tmp_path, capsys, zp):
    m = _load("kws01")
    _tensors(m)[22].quantization.zeroPoint = np.array([zp], dtype=np.int64)
    _refused(_save(m, tmp_path), capsys, f"zero point {zp} outside the int8 range")


def test_per_channel_scales_must_match_the_channels(tmp_path, capsys):
    m = _load("kws01")
    q = _tensors(m)[20].quantization           # CONV 0 filter, 64 channels
    q.scale, q.zeroPoint = q.scale[:10], q.zeroPoint[:10]
    _refused(_save(m, tmp_path), capsys, "operator 0 (CONV_2D)", "10 scales for 64 channels")


def test_scales_and_zero_points_must_pair(tmp_path, capsys):
    m = _load("kws01")
    q = _tensors(m)[20].quantization
    q.zeroPoint = q.zeroPoint[:3]
    _refused(_save(m, tmp_path), capsys, "64 scales and 3 zero points")


def test_a_per_channel_activation_is_refused(tmp_path, capsys):
    m = _load("kws01")
    q = _tensors(m)[23].quantization
    q.scale, q.zeroPoint = np.repeat(q.scale, 2), np.repeat(q.zeroPoint, 2)
    _refused(_save(m, tmp_path), capsys, "quantized per tensor")


@pytest.mark.parametrize("beta", [1e-30, 0.0, -1.0, math.nan])
def test_softmax_beta_that_aborted_the_tflm_oracle_is_refused(tmp_path, capsys, beta):
    m = _load("kws01")
    _ops(m)[11].builtinOptions.beta = beta
    _refused(_save(m, tmp_path), capsys, "operator 11 (SOFTMAX)", "beta")


@pytest.mark.parametrize("code", [99, 16, 10])
def test_unknown_or_unsupported_type_codes_are_refused(tmp_path, capsys, code):
    m = _load("kws01")
    _tensors(m)[23].type = code
    _refused(_save(m, tmp_path), capsys, "expected int8")


def test_weights_of_the_wrong_rank_are_refused(tmp_path, capsys):
    m = _load("ad01")
    _tensors(m)[18].shape = np.array([128, 128, 1], dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, "operator 1 (FULLY_CONNECTED)", "rank 3", "expected 2")


@pytest.mark.parametrize("shape, words", [([], "rank 0"), ([1, 25, 5, 0], "empty dimension")])
def test_rank_zero_and_zero_depth_activations_are_refused(tmp_path, capsys, shape, words):
    m = _load("kws01")
    _tensors(m)[22].shape = np.array(shape, dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, words)


def test_a_graph_output_no_operator_writes_is_refused_by_inspect_and_build(tmp_path, capsys):
    """inspect accepted it, then build died with KeyError in the C generator."""
    m = _load("kws01")
    m.subgraphs[0].outputs = np.array([9], dtype=np.int32)    # a bias constant
    path = _save(m, tmp_path)
    _refused(path, capsys, "graph output", "not written by any operator")
    with pytest.raises(TinygenError):
        generate_model_sources(path, tmp_path / "out")


def test_a_fully_connected_output_too_big_for_its_rows_is_refused(tmp_path, capsys):
    """[1,65536] made SOFTMAX write 65,536 bytes into a 12-byte buffer."""
    m = _load("kws01")
    _tensors(m)[31].shape = np.array([1, 65536], dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, "operator 10 (FULLY_CONNECTED)",
             "differs from the computed 1 rows of 12")


def test_a_buffer_index_out_of_range_is_refused_not_taken_as_no_data(tmp_path, capsys):
    """Taken as "no data", it made the TFLM oracle crash verify with SIGSEGV."""
    m = _load("kws01")
    _tensors(m)[20].buffer = len(m.buffers) + 5
    _refused(_save(m, tmp_path), capsys, "refers to buffer")


def test_an_operator_code_index_out_of_range_is_refused(tmp_path, capsys):
    m = _load("kws01")
    _ops(m)[3].opcodeIndex = len(m.operatorCodes) + 2
    _refused(_save(m, tmp_path), capsys, "operator 3 has operator code")


def test_a_corrupted_tensor_name_is_printed_on_one_line(tmp_path, capsys):
    m = _load("kws01")
    _tensors(m)[21].name = b"evil\nname\r\x1b[31m" + b"x" * 5000
    _tensors(m)[21].quantization.scale = np.array([0.0], dtype=np.float32)
    line = _refused(_save(m, tmp_path), capsys, "evil?name??[31m")
    assert "\x1b" not in line and len(line) < 500


def test_a_bias_driving_the_accumulator_out_of_int32_is_refused(tmp_path, capsys):
    """Such constants overflowed in the generated C instead of being refused."""
    m = _load("ad01")
    bias = np.frombuffer(bytes(m.buffers[_tensors(m)[19].buffer].data), dtype="<i4").copy()
    bias[5] = (1 << 31) - 1
    m.buffers[_tensors(m)[19].buffer].data = np.frombuffer(bias.tobytes(), dtype=np.uint8)
    _refused(_save(m, tmp_path), capsys, "operator 0 (FULLY_CONNECTED)", "channel 5",
             "beyond int32")


def test_non_zero_weight_zero_points_are_refused(tmp_path, capsys):
    m = _load("kws01")
    q = _tensors(m)[18].quantization                 # DEPTHWISE 1 filter
    q.zeroPoint = np.full(len(q.scale), 3, dtype=np.int64)
    _refused(_save(m, tmp_path), capsys, "operator 1", "non-zero zero point")


def test_a_depthwise_quantized_dimension_other_than_3_is_refused(tmp_path, capsys):
    m = _load("kws01")
    _tensors(m)[18].quantization.quantizedDimension = 0
    _refused(_save(m, tmp_path), capsys, "operator 1", "along dimension 0, expected 3")


def test_a_depth_multiplier_disagreeing_with_the_filter_is_refused(tmp_path, capsys):
    """Found by benchmarks/fuzz_models.py (seed 3, mutant 257): accepted, and the
    output differed from TFLM, which loops over the option's multiplier."""
    m = _load("kws01")
    _ops(m)[5].builtinOptions.depthMultiplier = 4096
    _refused(_save(m, tmp_path), capsys, "operator 5 (DEPTHWISE_CONV_2D)",
             "depth multiplier 4096")


def test_a_constant_read_as_an_activation_is_refused(tmp_path, capsys):
    """The kernels would read it from the arena, where its data never is."""
    m = _load("ad01")
    _ops(m)[1].inputs = np.array([19, 18, 17], dtype=np.int32)   # FC 0's bias as input
    _refused(_save(m, tmp_path), capsys, "operator 1 (FULLY_CONNECTED)",
             "reads a constant as its input activation")


def test_a_constant_graph_input_is_refused(tmp_path, capsys):
    m = _load("kws01")
    buf = _schema().BufferT()
    buf.data = np.zeros(49 * 10, dtype=np.uint8)
    m.buffers.append(buf)
    _tensors(m)[0].buffer = len(m.buffers) - 1
    _refused(_save(m, tmp_path), capsys, "graph input", "holds constant data")


def test_a_corrupt_shape_of_many_dimensions_gives_a_short_message(tmp_path, capsys):
    """Found by benchmarks/fuzz_models.py (seed 11, mutant 508): the refusal
    printed all 40 dimensions of a flipped shape."""
    m = _load("kws01")
    _tensors(m)[22].shape = np.array([64, -15302] + [7] * 40, dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, "has rank 42, more than 8")


def test_an_output_scale_tflm_cannot_quantize_relu6_with_is_refused(tmp_path, capsys):
    """Found by benchmarks/fuzz_models.py (seed 11): accepted, while TFLM's Prepare
    refused it (no_integer_overflow_from_quantization)."""
    m = _load("kws01")
    _ops(m)[0].builtinOptions.fusedActivationFunction = 3          # RELU6
    _tensors(m)[21].quantization.scale = np.array([1e-11], dtype=np.float32)
    _refused(_save(m, tmp_path), capsys, "operator 0 (CONV_2D)", "RELU6 bounds beyond int32")


def test_scales_without_zero_points_are_refused(tmp_path, capsys):
    """Found by benchmarks/fuzz_models.py (seed 11, mutant 19736): zero points
    were taken as 0 while TFLM read past its empty vector and refused the model."""
    m = _load("kws01")
    _tensors(m)[23].quantization.zeroPoint = np.array([], dtype=np.int64)
    _refused(_save(m, tmp_path), capsys, "has 1 scales and no zero points")


def test_a_logistic_output_quantization_tflm_does_not_assume_is_refused(tmp_path, capsys):
    """TFLM's int8 LOGISTIC writes scale 1/256, zero point -128 whatever the
    tensor says; another output quantization would silently disagree."""
    fixture = Path(__file__).parent / "fixtures" / "mobilenet_v3_block.tflite"
    model = _schema().ModelT.InitFromPackedBuf(fixture.read_bytes(), 0)
    codes = [c.builtinCode for c in model.operatorCodes]
    logistic = next(op for op in _ops(model)
                    if codes[op.opcodeIndex] == _schema().BuiltinOperator.LOGISTIC)
    _tensors(model)[logistic.outputs[0]].quantization.zeroPoint = [0]
    _refused(_save(model, tmp_path), capsys, "LOGISTIC", "needs 0.00390625 and -128")


@pytest.mark.parametrize("field, value, words", [
    ("params", 1 << 31, "parameter .* = 2147483648 is beyond int32"),
    ("params", -(1 << 31) - 1, "is beyond int32"),
    ("params", math.inf, "is no float32"),
    ("arena", 1 << 32, "arena bytes 4294967296 is beyond int32"),
])
def test_a_constant_the_c_cannot_hold_is_refused_before_the_compiler(tmp_path, field, value,
                                                                     words):
    """The last check before the C compiler (issue 25: a model failed in the
    compiler on an overflowing generated constant instead of being refused):
    whatever reaches C fits its C type, or write_sources refuses in one line."""
    from tinygen.codegen import write_sources
    from tinygen.ir import load_model
    from tinygen.plan import plan_model

    plan = plan_model(load_model(Path(__file__).parents[2] / "models" / "kws01.tflite"))
    if field == "params":
        call = plan.calls[0]
        key = next(k for k, v in call.params.items() if isinstance(v, int))
        call.params[key] = value
    else:
        plan.memory.arena_bytes = value
    with pytest.raises(TinygenError, match=words) as err:
        write_sources(plan, tmp_path)
    assert "\n" not in str(err.value) and "re-export it" in str(err.value)
    assert not (tmp_path / "model.c").exists()


# ---- the spatial operators (issue 26) ---------------------------------------
# models/open/conv_autoencoder: RESHAPE 0, CONV_2D 1, grouped CONV_2D 2 and 3
# (4 and 8 groups), CONV_2D 4, TRANSPOSE_CONV 5, RESIZE_BILINEAR 6, grouped
# CONV_2D 7, TRANSPOSE_CONV 8, RESHAPE 9.
OPEN_MODELS = MODELS / "open"


def _load_open(name: str):
    return _schema().ModelT.InitFromPackedBuf((OPEN_MODELS / f"{name}.tflite").read_bytes(), 0)


def test_the_committed_open_models_pass(capsys):
    for path in sorted(OPEN_MODELS.glob("*.tflite")):
        assert main(["inspect", str(path)]) == 0, capsys.readouterr().err


def test_a_transpose_conv_whose_output_shape_operand_disagrees_is_refused(tmp_path, capsys):
    m = _load_open("conv_autoencoder")
    shape = _tensors(m)[_ops(m)[5].inputs[0]]
    m.buffers[shape.buffer].data = np.array([1, 5, 33, 32], dtype="<i4").view(np.uint8)
    _refused(_save(m, tmp_path), capsys, "operator 5 (TRANSPOSE_CONV)",
             "differs from its output-shape operand [1, 5, 33, 32]")


def test_a_grouped_conv_whose_groups_do_not_divide_the_input_is_refused(tmp_path, capsys):
    m = _load_open("conv_autoencoder")
    _tensors(m)[_ops(m)[2].inputs[1]].shape = np.array([32, 3, 4, 3], dtype=np.int32)
    _refused(_save(m, tmp_path), capsys, "operator 2 (CONV_2D)",
             "filter depth 3 does not split input depth 16")


def test_a_resize_with_both_coordinate_rules_is_refused(tmp_path, capsys):
    m = _load_open("conv_autoencoder")
    _ops(m)[6].builtinOptions.alignCorners = True
    _refused(_save(m, tmp_path), capsys, "operator 6 (RESIZE_BILINEAR)",
             "both align_corners and half_pixel_centers")


def test_a_resize_that_would_rescale_is_refused(tmp_path, capsys):
    """TFLM copies resized values unscaled: another output quantization would
    silently disagree with the float model."""
    m = _load_open("conv_autoencoder")
    _tensors(m)[_ops(m)[6].outputs[0]].quantization.scale = np.array([0.5], dtype=np.float32)
    _refused(_save(m, tmp_path), capsys, "operator 6 (RESIZE_BILINEAR)",
             "different input and output quantization")


def test_an_add_output_multiplier_that_aborted_the_tflm_oracle_is_refused(tmp_path, capsys):
    """Fuzz mutant 241632 (seed 25): ic02's ADD 3 given an output scale of
    3.3e-8 makes its output multiplier 3.3; TFLM's ADD Prepare aborts at 1
    or more (SIGABRT in the oracle), so tinygen refuses it as SUB already was."""
    m = _load("ic02")
    _tensors(m)[24].quantization.scale = [3.315973629014479e-08]
    _refused(_save(m, tmp_path), capsys, "operator 3 (ADD)", "output requantization multiplier 3.3")
