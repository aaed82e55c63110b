"""tg_conv2d_rgb3x3s2_s8_dsp and tg_conv2d_rgb3x3s1_s8_dsp
(firmware/kernels/dsp/conv2d_rgb_s8.c) on the Cortex-M4, bit-exact with TFLM.

One-layer 3x3 stride-2 convolutions of 3-channel inputs (the first layer of
vww01 in small) are compiled for mps2-an386 with the DSP kernel target, run
under QEMU and compared with the TFLM oracle (the machinery of
test_kernels_emulated.py). The cases cover what the kernel does by itself:
even and odd output widths (a last single pixel), SAME borders with and
without padding on the leading side (odd and even input sizes), VALID
windows that leave input columns unread, 4 to 16 output channels (several
channel blocks), two images, per-tensor and per-channel scales, the
bytewise clamp of RELU6 and the planner's refusal of layers it cannot take.
The stride-1 kernel (ic01's first layer) runs the same cases at stride 1:
its ring rows hold each input row widened twice, interleaved.
"""

from __future__ import annotations

import pytest

from test_kernels_emulated import _check
from tinygen.codegen import generate_model_sources


def _rgb(shape, filters, padding="same", act="relu", seed=1, per_tensor=False, batch=1,
         lo=-1.0, hi=1.5, wscale=0.5, stride=2):
    return dict(op="conv", shape=shape, kernel=(3, 3), stride=stride, dilation=1, padding=padding,
                act=act, lo=lo, hi=hi, seed=seed, wscale=wscale, per_tensor=per_tensor,
                filters=filters, batch=batch)


def _chosen(tmp_path, spec, model_cache) -> bool:
    src = generate_model_sources(model_cache.single_op(spec), tmp_path / "probe",
                                 fit_scratch=False, layout="dsp")
    return f"tg_conv2d_rgb3x3s{spec['stride']}_s8_dsp(" in src.model_c.read_text()


RGB = [
    # vww01's first layer in small: even input, SAME (no leading pad), 8 channels.
    _rgb((8, 8, 3), 8, seed=91),
    # Odd input: SAME pads one leading row and column; odd output width.
    _rgb((7, 9, 3), 4, seed=92, wscale=1.0),
    # VALID: the last input column is never read; 16 channels, two images.
    _rgb((9, 10, 3), 16, padding="valid", seed=93, batch=2, per_tensor=True),
    # RELU6: the bytewise clamp; a one-pixel-wide output.
    _rgb((6, 2, 3), 12, act="relu6", seed=94, lo=0.0, hi=6.0),
    _rgb((5, 13, 3), 8, act="relu6", seed=95, wscale=1.0, lo=-3.0, hi=0.5),
    # Rows of 72 bytes, word aligned: the LDM/STM widening (32 bytes a step),
    # then its C tail.
    _rgb((6, 24, 3), 8, seed=97),
]
RGB1 = [
    # ic01's first layer in small: SAME, even width, 16 channels.
    _rgb((6, 8, 3), 16, seed=101, stride=1),
    # Odd width (a last single pixel), 4 channels, two images.
    _rgb((5, 7, 3), 4, seed=102, stride=1, wscale=1.0, batch=2),
    # VALID: no padding; a one-pixel-wide output; RELU6's clamp.
    _rgb((4, 3, 3), 8, padding="valid", act="relu6", seed=103, stride=1, lo=0.0, hi=6.0),
    _rgb((7, 10, 3), 12, act="relu6", seed=104, stride=1, lo=-3.0, hi=0.5, per_tensor=True),
]


@pytest.mark.parametrize("spec", RGB + RGB1, ids=lambda s: (f"s{s['stride']}-{s['shape']}-{s['padding']}"
                                                             f"-f{s['filters']}-{s['act']}-b{s['batch']}"))
def test_rgb_first_layer_kernel_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    assert _chosen(tmp_path, spec, model_cache), "the first-layer kernel was not chosen"
    _check(model_cache, tmp_path, spec, requant=(True,))


def test_rgb_kernel_is_not_offered_without_a_lower_clamp(model_cache, tmp_path):
    # No activation: negative accumulators need the round-half-away fix the
    # kernel leaves out, so the layer keeps the general kernels (and still
    # meets the oracle).
    spec = _rgb((7, 7, 3), 8, act=None, seed=96)
    assert not _chosen(tmp_path, spec, model_cache)
    _check(model_cache, tmp_path, spec, requant=(True,))
