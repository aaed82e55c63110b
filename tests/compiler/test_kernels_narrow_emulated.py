"""tg_conv2d_pw8_s8_dsp and tg_conv2d_pw16_s8_dsp
(firmware/kernels/dsp/conv2d_narrow_s8.c) on the Cortex-M4, bit-exact with
TFLM.

One-layer pointwise convolutions of 8- and 16-channel inputs (vww01's
8 -> 16 and 16 -> 32 layers in small) are compiled for mps2-an386 with the DSP kernel target, run under
QEMU and compared with the TFLM oracle (the machinery of
test_kernels_emulated.py): even and odd pixel counts (a last single pixel),
4 to 32 output channels, two images, per-tensor and per-channel scales,
the bytewise clamp of RELU6, and the planner's refusal of layers it cannot
take.
"""

from __future__ import annotations

import pytest

from test_kernels_emulated import _check
from tinygen.codegen import generate_model_sources


def _pw(shape, filters, act="relu", seed=1, per_tensor=False, batch=1, lo=-1.0, hi=1.5,
        wscale=0.5, stride=1):
    return dict(op="conv", shape=shape, kernel=(1, 1), stride=stride, dilation=1,
                padding="valid", act=act, lo=lo, hi=hi, seed=seed, wscale=wscale,
                per_tensor=per_tensor, filters=filters, batch=batch)


def _chosen(tmp_path, spec, model_cache) -> bool:
    src = generate_model_sources(model_cache.single_op(spec), tmp_path / "probe",
                                 fit_scratch=False, layout="dsp")
    text = src.model_c.read_text()
    return "tg_conv2d_pw8_s8_dsp(" in text or "tg_conv2d_pw16_s8_dsp(" in text


PW8 = [
    _pw((6, 6, 8), 16, seed=101),
    _pw((3, 5, 8), 4, seed=102, wscale=1.0),
    _pw((5, 3, 8), 32, seed=103, batch=2, per_tensor=True),
    _pw((1, 1, 8), 8, act="relu6", seed=104, lo=0.0, hi=6.0),
    _pw((4, 7, 8), 12, act="relu6", seed=105, lo=-3.0, hi=0.5, wscale=1.0),
    # 16 output channels (the unrolled pass): a last single pixel, two images, the clamp.
    _pw((3, 5, 8), 16, act="relu6", seed=111, lo=-3.0, hi=0.5, wscale=1.0),
    _pw((2, 5, 8), 16, seed=112, batch=2),
    _pw((4, 4, 16), 32, seed=108),
    _pw((3, 5, 16), 4, seed=109, batch=2, per_tensor=True, wscale=1.0),
    _pw((2, 3, 16), 8, act="relu6", seed=110, lo=-3.0, hi=0.5),
    # 32 output channels (the pass with the immediate step): a last single pixel, the clamp.
    _pw((3, 5, 16), 32, act="relu6", seed=113, lo=-3.0, hi=0.5, wscale=1.0),
]


@pytest.mark.parametrize("spec", PW8, ids=lambda s: (f"{s['shape']}-f{s['filters']}"
                                                      f"-{s['act']}-b{s['batch']}"))
def test_pw8_kernel_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    assert _chosen(tmp_path, spec, model_cache), "the 8-channel pointwise kernel was not chosen"
    _check(model_cache, tmp_path, spec, requant=(True,))


@pytest.mark.parametrize("spec", [_pw((5, 5, 8), 8, act=None, seed=106),
                                  _pw((5, 5, 8), 8, seed=107, stride=2)],
                         ids=["no-activation", "stride-2"])
def test_pw8_kernel_is_not_offered_where_it_does_not_apply(model_cache, tmp_path, spec):
    assert not _chosen(tmp_path, spec, model_cache)
    _check(model_cache, tmp_path, spec, requant=(True,))
