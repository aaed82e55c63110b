"""tg_conv2d_3x3pair_s8_dsp (firmware/kernels/dsp/conv2d_3x3_s8.c) on the
Cortex-M4, bit-exact with TFLM.

One-layer 3x3 convolutions at stride 1 of 16-, 32- and 64-channel inputs
and at stride 2 of 16- and 32-channel ones (ic01's layers 1, 2, 4, 5, 8
and 9 in small) are compiled for mps2-an386 with the DSP kernel target, run
under QEMU and compared with the TFLM oracle (the machinery of
test_kernels_emulated.py). The cases cover what the kernel does by itself:
SAME borders (widened zero points around the image) and VALID windows, even
and odd output widths (a last single pixel), 4 to 20 output channels
(several channel blocks), no activation (the round-half-away fix of
negative accumulators), RELU6's bytewise clamp, two images, per-tensor and
per-channel scales; and the planner's refusal of other depths.
"""

from __future__ import annotations

import pytest

from test_kernels_emulated import _check
from tinygen.codegen import generate_model_sources


def _c3(shape, filters, padding="same", act="relu", seed=1, per_tensor=False, batch=1,
        lo=-1.0, hi=1.5, wscale=0.3, stride=1):
    return dict(op="conv", shape=shape, kernel=(3, 3), stride=stride, dilation=1, padding=padding,
                act=act, lo=lo, hi=hi, seed=seed, wscale=wscale, per_tensor=per_tensor,
                filters=filters, batch=batch)


def _chosen(tmp_path, spec, model_cache) -> bool:
    src = generate_model_sources(model_cache.single_op(spec), tmp_path / "probe",
                                 fit_scratch=False, layout="dsp")
    return "tg_conv2d_3x3pair_s8_dsp(" in src.model_c.read_text()


C3 = [
    # ic01's layers in small: SAME, even width, 16 -> 16, RELU and none.
    _c3((6, 8, 16), 16, seed=111),
    _c3((6, 8, 16), 16, act=None, seed=112, lo=-2.0, hi=2.0),
    # Odd width (a last single pixel), 4 channels, two images.
    _c3((5, 7, 16), 4, seed=113, batch=2, wscale=0.6),
    # VALID: no widened borders; 20 channels (5 blocks), per-tensor scales.
    _c3((5, 6, 16), 20, padding="valid", act=None, seed=114, per_tensor=True),
    # RELU6: the bytewise clamp; a one-pixel-wide output.
    _c3((4, 1, 16), 8, act="relu6", seed=115, lo=-3.0, hi=0.5, wscale=1.0),
    # 32 and 64 channels: kernel rows of 2 and 4 segments (ic01's layers 5, 9).
    _c3((5, 5, 32), 8, act=None, seed=117, wscale=0.2),
    _c3((4, 6, 64), 12, seed=118, wscale=0.15, batch=2),
    # Stride 2 (ic01's layers 4 and 8): rows of 5 input pixels; SAME with
    # even and odd inputs (odd: a leading pad), VALID, an odd output width.
    _c3((8, 8, 16), 8, seed=119, stride=2),
    _c3((7, 9, 16), 4, act=None, seed=120, stride=2, lo=-2.0, hi=2.0),
    _c3((7, 7, 32), 12, padding="valid", seed=121, stride=2, wscale=0.2, batch=2),
    _c3((6, 6, 32), 8, act="relu6", seed=122, stride=2, wscale=0.4),
]


@pytest.mark.parametrize("spec", C3, ids=lambda s: (f"s{s['stride']}-{s['shape']}-{s['padding']}"
                                                     f"-f{s['filters']}-{s['act']}-b{s['batch']}"))
def test_3x3pair_kernel_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    assert _chosen(tmp_path, spec, model_cache), "the 3x3 pixel-pair kernel was not chosen"
    _check(model_cache, tmp_path, spec, requant=(True,))


def test_3x3pair_kernel_is_not_offered_for_other_depths(model_cache, tmp_path):
    assert not _chosen(tmp_path, _c3((6, 6, 24), 8, seed=116), model_cache)
    assert not _chosen(tmp_path, _c3((6, 6, 64), 8, seed=116, stride=2), model_cache)
