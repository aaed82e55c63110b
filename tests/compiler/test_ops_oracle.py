"""Property tests: every operator, random shapes and quantization, bit-exact with TFLM.

Each example builds a one-operator Keras model, converts it to int8 with a
random input range (so scales and zero points vary), compiles tinygen's C
for the host and compares outputs with the TFLM oracle on random inputs.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

INPUTS_PER_MODEL = 4

SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

acts = st.sampled_from([None, "relu", "relu6"])
seeds = st.integers(0, 2**16)


@st.composite
def input_range(draw):
    lo = draw(st.floats(-4.0, 0.0))
    hi = draw(st.floats(0.05, 4.0))
    return lo, hi


@st.composite
def conv_specs(draw, depthwise: bool):
    h, w = draw(st.integers(3, 12)), draw(st.integers(3, 12))
    c = draw(st.integers(1, 8))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = draw(st.integers(1, 2))
    stride = 1 if dilation > 1 else draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["same", "valid"]))
    if padding == "valid" and ((kh - 1) * dilation + 1 > h or (kw - 1) * dilation + 1 > w):
        padding = "same"
    lo, hi = draw(input_range())
    spec = dict(op="dwconv" if depthwise else "conv", shape=(h, w, c), kernel=(kh, kw),
                stride=stride, dilation=dilation, padding=padding, act=draw(acts),
                lo=lo, hi=hi, seed=draw(seeds), wscale=draw(st.sampled_from([0.05, 0.3, 1.0])),
                per_tensor=draw(st.booleans()))
    if depthwise:
        spec["dm"] = draw(st.integers(1, 3))
    else:
        spec["filters"] = draw(st.integers(1, 9))
    return spec


@st.composite
def fc_specs(draw):
    lo, hi = draw(input_range())
    return dict(op="fc", shape=(draw(st.integers(1, 48)),), units=draw(st.integers(1, 19)),
                act=draw(acts), lo=lo, hi=hi, seed=draw(seeds),
                wscale=draw(st.sampled_from([0.05, 0.3, 1.0])), per_tensor=draw(st.booleans()))


@st.composite
def pool_specs(draw, kind: str):
    h, w = draw(st.integers(2, 12)), draw(st.integers(2, 12))
    ph, pw = draw(st.integers(1, min(4, h))), draw(st.integers(1, min(4, w)))
    lo, hi = draw(input_range())
    return dict(op=kind, shape=(h, w, draw(st.integers(1, 6))), pool=(ph, pw),
                stride=draw(st.integers(1, 3)), padding=draw(st.sampled_from(["same", "valid"])),
                lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def add_specs(draw):
    lo, hi = draw(input_range())
    return dict(op="add", shape=(draw(st.integers(1, 8)), draw(st.integers(1, 8)),
                                 draw(st.integers(1, 6))),
                broadcast=draw(st.booleans()), act=draw(st.sampled_from([None, "relu"])),
                lo=lo, hi=hi, seed=draw(seeds), wscale=draw(st.sampled_from([0.1, 0.5, 2.0])))


@st.composite
def softmax_specs(draw):
    lo = draw(st.floats(-30.0, 0.0))
    hi = draw(st.floats(0.1, 30.0))
    return dict(op="softmax", shape=(draw(st.integers(2, 40)),), dense=draw(st.booleans()),
                units=draw(st.integers(2, 16)), lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def mean_specs(draw):
    lo, hi = draw(input_range())
    return dict(op="mean", shape=(draw(st.integers(1, 14)), draw(st.integers(1, 14)),
                                  draw(st.integers(1, 8))),
                keepdims=draw(st.booleans()), conv=draw(st.booleans()), lo=lo, hi=hi,
                seed=draw(seeds))


@st.composite
def concat_specs(draw):
    lo, hi = draw(input_range())
    return dict(op="concat", shape=(draw(st.integers(1, 8)), draw(st.integers(1, 8)),
                                    draw(st.integers(1, 6))),
                filters=draw(st.integers(1, 6)), axis=draw(st.sampled_from([-1, 1, 2])),
                act=draw(st.sampled_from([None, "relu"])), lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def pad_specs(draw):
    lo, hi = draw(input_range())
    pads = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(2))
    if not any(sum(p) for p in pads):
        pads = ((1, 0), pads[1])  # all-zero padding converts to no operator at all
    return dict(op="pad", shape=(draw(st.integers(1, 8)), draw(st.integers(1, 8)),
                                 draw(st.integers(1, 6))),
                padding=pads, conv=draw(st.booleans()), lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def mul_specs(draw):
    spec = draw(add_specs())
    spec["op"] = "mul"
    return spec


@st.composite
def const_operand_specs(draw):
    lo, hi = draw(input_range())
    return dict(op="const_operand", shape=(draw(st.integers(1, 6)), draw(st.integers(1, 6)),
                                           draw(st.integers(1, 6))),
                binary=draw(st.sampled_from(["add", "mul"])), broadcast=draw(st.booleans()),
                const_first=draw(st.booleans()), lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def relu_specs(draw):
    lo, hi = draw(input_range())
    return dict(op="relu", shape=(draw(st.integers(1, 6)), draw(st.integers(1, 6)),
                                  draw(st.integers(1, 6))),
                max_value=draw(st.sampled_from([None, 6.0])), lo=lo * 4, hi=hi * 4,
                seed=draw(seeds))


@st.composite
def unary_specs(draw, kind: str):
    """LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU: wide input ranges reach the saturated ends."""
    lo = draw(st.floats(-12.0, 0.0))
    hi = draw(st.floats(0.05, 12.0))
    spec = dict(op=kind, shape=(draw(st.integers(1, 6)), draw(st.integers(1, 6)),
                                draw(st.integers(1, 6))),
                conv=draw(st.booleans()), lo=lo, hi=hi, seed=draw(seeds))
    if kind == "leaky_relu":
        spec["alpha"] = draw(st.sampled_from([0.01, 0.1, 0.2, 0.3, 0.5, 0.9]))
    return spec


@st.composite
def sub_specs(draw):
    spec = draw(add_specs())
    # No fused RELU: a difference that is mostly negative gets so small an
    # output scale that TFLM's Prepare aborts (output multiplier >= 1).
    spec.update(op="sub", swap=draw(st.booleans()), act=None)
    return spec


@st.composite
def reduce_max_specs(draw):
    lo, hi = draw(input_range())
    axes = draw(st.sampled_from([[1, 2], [3], [1], [2, 3], [1, 2, 3]]))
    return dict(op="reduce_max", shape=(draw(st.integers(1, 7)), draw(st.integers(1, 7)),
                                        draw(st.integers(1, 6))),
                axes=axes, keepdims=draw(st.booleans()), conv=draw(st.booleans()),
                lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def elementwise_chain_specs(draw):
    """conv -> HARD_SWISH -> LEAKY_RELU -> TANH, LOGISTIC, SUB, REDUCE_MAX in one model."""
    lo, hi = draw(input_range())
    return dict(op="elementwise_chain", shape=(draw(st.integers(2, 7)), draw(st.integers(2, 7)),
                                               draw(st.integers(2, 6))),
                axes=draw(st.sampled_from([[1, 2], [3], [1], [2]])),
                keepdims=draw(st.booleans()), alpha=draw(st.sampled_from([0.05, 0.2, 0.6])),
                broadcast=draw(st.booleans()), lo=lo * 3, hi=hi * 3, seed=draw(seeds))


def _check(model_cache, compiler, spec):
    path = model_cache.single_op(spec)
    assert compiler.compare(path, INPUTS_PER_MODEL, seed=spec["seed"]) == INPUTS_PER_MODEL


@settings(max_examples=25, **SETTINGS)
@given(spec=conv_specs(depthwise=False))
def test_conv2d_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=25, **SETTINGS)
@given(spec=conv_specs(depthwise=True))
def test_depthwise_conv2d_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=15, **SETTINGS)
@given(spec=fc_specs())
def test_fully_connected_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=12, **SETTINGS)
@given(spec=pool_specs("avgpool"))
def test_average_pool_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=12, **SETTINGS)
@given(spec=pool_specs("maxpool"))
def test_max_pool_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=15, **SETTINGS)
@given(spec=add_specs())
def test_add_with_broadcasting_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=15, **SETTINGS)
@given(spec=softmax_specs())
def test_softmax_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=12, **SETTINGS)
@given(spec=mean_specs())
def test_mean_over_height_and_width_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=10, **SETTINGS)
@given(spec=concat_specs())
def test_concatenation_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=10, **SETTINGS)
@given(spec=pad_specs())
def test_zero_padding_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=12, **SETTINGS)
@given(spec=mul_specs())
def test_mul_with_broadcasting_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=12, **SETTINGS)
@given(spec=const_operand_specs())
def test_add_and_mul_with_a_constant_operand_match_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=10, **SETTINGS)
@given(spec=relu_specs())
def test_standalone_relu_and_relu6_match_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=4, **SETTINGS)
@given(spec=unary_specs("sigmoid"))
def test_logistic_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=4, **SETTINGS)
@given(spec=unary_specs("tanh"))
def test_tanh_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=4, **SETTINGS)
@given(spec=unary_specs("hard_swish"))
def test_hard_swish_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=4, **SETTINGS)
@given(spec=unary_specs("leaky_relu"))
def test_leaky_relu_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=5, **SETTINGS)
@given(spec=sub_specs())
def test_sub_with_broadcasting_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=5, **SETTINGS)
@given(spec=reduce_max_specs())
def test_reduce_max_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


def test_mobilenet_v3_block_matches_tflm(compiler):
    """The committed MobileNetV3-style block (hard-swish, squeeze-excite with a
    logistic gate and broadcast MUL, residual ADD): no TensorFlow needed."""
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "mobilenet_v3_block.tflite"
    assert compiler.compare(path, 6, seed=7) == 6


@settings(max_examples=4, **SETTINGS)
@given(spec=const_operand_specs())
def test_sub_of_a_constant_matches_tflm(model_cache, compiler, spec):
    """SUB with a constant first operand, per channel or full (x - constant
    after a convolution folds into its bias, so only constant - x stays SUB)."""
    spec.update(binary="sub", const_first=True)
    _check(model_cache, compiler, spec)


# ---- spatial operators (issue 26): transposed and grouped convolution,
# resize, tile, crop --------------------------------------------------------

@st.composite
def transpose_conv_specs(draw):
    lo, hi = draw(input_range())
    return dict(op="transpose_conv", shape=(draw(st.integers(1, 6)), draw(st.integers(1, 6)),
                                            draw(st.integers(1, 6))),
                filters=draw(st.integers(1, 6)),
                kernel=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
                stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                padding=draw(st.sampled_from(["same", "valid"])), act=draw(acts),
                bias=draw(st.booleans()), conv=draw(st.booleans()), lo=lo, hi=hi,
                seed=draw(seeds), wscale=draw(st.sampled_from([0.05, 0.3, 1.0])),
                per_tensor=draw(st.booleans()))


RESIZE_RULES = ["half_pixel", "align_corners", "asymmetric"]


@st.composite
def resize_specs(draw, method: str):
    lo, hi = draw(input_range())
    return dict(op="resize", method=method, rule=draw(st.sampled_from(RESIZE_RULES)),
                shape=(draw(st.integers(1, 7)), draw(st.integers(1, 7)), draw(st.integers(1, 5))),
                size=(draw(st.integers(1, 15)), draw(st.integers(1, 15))),
                conv=draw(st.booleans()), lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def tile_specs(draw):
    lo, hi = draw(input_range())
    multiples = [1] + [draw(st.integers(1, 3)) for _ in range(3)]
    if multiples == [1, 1, 1, 1]:
        multiples[2] = 2     # the converter drops a TILE by ones
    return dict(op="tile", shape=(draw(st.integers(1, 5)), draw(st.integers(1, 5)),
                                  draw(st.integers(1, 4))),
                multiples=multiples,
                conv=draw(st.booleans()), lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def crop_specs(draw):
    lo, hi = draw(input_range())
    h, w = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    top, left = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
    bottom, right = draw(st.integers(0, h - 1 - top)), draw(st.integers(0, w - 1 - left))
    return dict(op="crop", shape=(h, w, draw(st.integers(1, 5))),
                crop=((top, bottom), (left, right)),
                step=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
                conv=draw(st.booleans()), lo=lo, hi=hi, seed=draw(seeds))


@st.composite
def grouped_conv_specs(draw):
    lo, hi = draw(input_range())
    groups = draw(st.integers(2, 3))
    dilation = draw(st.integers(1, 2))
    spec = dict(op="grouped_conv", shape=(draw(st.integers(3, 8)), draw(st.integers(3, 8)),
                                          groups * draw(st.integers(1, 3))),
                groups=groups, filters=groups * draw(st.integers(1, 3)),
                kernel=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                stride=1 if dilation > 1 else draw(st.integers(1, 2)), dilation=dilation,
                padding=draw(st.sampled_from(["same", "valid"])), act=draw(acts),
                lo=lo, hi=hi, seed=draw(seeds), wscale=draw(st.sampled_from([0.05, 0.3, 1.0])),
                per_tensor=draw(st.booleans()))
    return spec


@st.composite
def spatial_chain_specs(draw):
    """1x1 conv -> grouped conv -> transpose conv -> crop -> bilinear -> nearest, one model."""
    lo, hi = draw(input_range())
    c = draw(st.integers(2, 3))
    return dict(op="spatial_chain", shape=(draw(st.integers(2, 5)), draw(st.integers(2, 5)), c),
                filters=draw(st.integers(1, 4)), padding=draw(st.sampled_from(["same", "valid"])),
                rule=draw(st.sampled_from(RESIZE_RULES)),
                size=(draw(st.integers(2, 9)), draw(st.integers(2, 9))),
                size2=(draw(st.integers(2, 11)), draw(st.integers(2, 11))),
                conv=True, lo=lo, hi=hi, seed=draw(seeds))


@settings(max_examples=8, **SETTINGS)
@given(spec=transpose_conv_specs())
def test_transpose_conv_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=6, **SETTINGS)
@given(spec=resize_specs("bilinear"))
def test_resize_bilinear_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=6, **SETTINGS)
@given(spec=resize_specs("nearest"))
def test_resize_nearest_neighbor_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=5, **SETTINGS)
@given(spec=tile_specs())
def test_tile_matches_tflite_reference(model_cache, compiler, spec):
    """TFLM has no TILE kernel: TensorFlow Lite's reference kernels are the oracle."""
    path = model_cache.single_op(spec)
    assert compiler.compare(path, INPUTS_PER_MODEL, seed=spec["seed"],
                            oracle="tflite") == INPUTS_PER_MODEL


def test_keras_upsampling2d_nearest_matches_tflite_reference(model_cache, compiler):
    """Keras' nearest UpSampling2D converts to rank-5 TILEs between RESHAPEs."""
    spec = dict(op="upsampling2d", shape=(3, 5, 2), factor=(2, 3), conv=True, lo=-1.0, hi=2.0,
                seed=5)
    path = model_cache.single_op(spec)
    assert compiler.compare(path, INPUTS_PER_MODEL, seed=5, oracle="tflite") == INPUTS_PER_MODEL


@settings(max_examples=6, **SETTINGS)
@given(spec=crop_specs())
def test_strided_slice_of_an_activation_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=6, **SETTINGS)
@given(spec=grouped_conv_specs())
def test_grouped_conv2d_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)
