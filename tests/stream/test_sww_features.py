"""The Python reference of sww01's DUT features: each step against an
independent computation (numpy's FFT, TensorFlow's filter bank) and the
quirks the reference DUT has (state carried, truncation that wraps)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.plan import sww_features as F


def test_power_spectrum_matches_numpy_rfft():
    x = np.random.default_rng(1).normal(size=(4, F.WINDOW)).astype(np.float32)
    ours = F.power_spectrum(x).astype(np.float64)
    ref = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2 / F.WINDOW
    assert ours.shape == (4, F.BINS)
    assert np.max(np.abs(ours - ref)) <= 1e-5 * ref.max()


def test_hamming_is_periodic():
    w = F.hamming_periodic().astype(np.float64)
    assert w[0] == pytest.approx(0.08) and w[F.WINDOW // 2] == pytest.approx(1.0)
    # Periodic (period N, as the reference DUT's table), not the symmetric
    # window of training (period N - 1, which ends on 0.08 again).
    n = np.arange(F.WINDOW)
    assert np.allclose(w, 0.54 - 0.46 * np.cos(2 * np.pi * n / F.WINDOW), atol=1e-7)
    assert w[1] == pytest.approx(w[-1], abs=1e-7) and abs(w[-1] - 0.08) > 5e-6


def test_committed_mel_table_is_tensorflows():
    mel = F.mel_matrix()
    assert mel.shape == (F.BINS, F.MEL_FILTERS) and mel.dtype == np.float32
    assert np.count_nonzero(mel[0]) == 0          # the DC bin is zeroed
    assert np.abs(F.derive_mel_matrix() - mel).max() < 1e-5
    pytest.importorskip("tensorflow")
    assert np.array_equal(F.tensorflow_mel_matrix(), mel)


def test_quantize_truncates_and_wraps_like_the_reference_cast():
    scale = 0.003701042616739869
    x = np.array([0.0, 0.5, 0.9438, 1.0], np.float32)
    q = F.quantize(x, scale)
    v = x / np.float32(scale) - np.float32(128)
    assert q[0] == -128 and q[1] == int(np.trunc(v[1]))
    assert q[3] == np.int8(np.int32(np.trunc(v[3])) - 256)   # 142 wraps to -114


def test_pre_emphasis_state_is_carried_not_reset():
    rng = np.random.default_rng(3)
    samples = rng.integers(-3000, 3000, 4 * F.HOP).astype(np.int16)
    first = F.stream_features(samples[:2 * F.HOP], 1 / 255)
    assert first.state == int(samples[2 * F.HOP - 1])     # the raw last sample
    # A second stream after it starts from that state, not from 0: only its
    # first hop (whose window starts with the zeros `start` writes) differs.
    fresh = F.stream_features(samples, 1 / 255)
    carried = F.stream_features(samples, 1 / 255, state=first.state)
    assert np.array_equal(fresh.floats[1:], carried.floats[1:])
    assert not np.array_equal(fresh.floats[0], carried.floats[0])


def test_model_windows_start_with_int8_zeros_and_slide_by_one_row():
    rows = np.arange(5 * F.MEL_FILTERS, dtype=np.int64).reshape(5, F.MEL_FILTERS).astype(np.int8)
    w = F.model_windows(rows)
    assert w.shape == (5, 1, F.FRAMES, 1, F.MEL_FILTERS)
    assert np.all(w[0, 0, :-1] == 0) and np.array_equal(w[0, 0, -1, 0], rows[0])
    assert np.array_equal(w[4, 0, -5:, 0], rows)
