"""The DUT's log filter-bank features for sww01, as a float32 numpy reference.

The pipeline is the reference DUT's (MLPerf Tiny sww_ref_l4r5zi, see the
shared facts, section 11), per hop of 512 samples over a window of 1024:

    int16 / 32768 -> pre-emphasis y[i] = x[i] - 0.96875 * x[i-1] (x[-1] is the
    raw last sample of the previous window: state carried between hops and
    never reset) -> periodic Hamming window -> 1024-point real FFT ->
    power = sqrt(re^2 + im^2)^2 / 1024 -> 40 mel filters (summed in order)
    -> max(., 1e-30) -> 10 log10 (double) -> +52 -> / 64 -> clip [0, 1]
    -> int8 = truncation of (x / input_scale - 128) in float32, no saturation
    (the int32 value wraps into int8 as the reference's cast does).

Every step is float32 with one rounding per operation, in the order the
firmware (firmware/stream/tg_features.c) does them, including the FFT: both
run the same radix-2 512-point complex FFT over the even/odd packed input
and the same split into the real spectrum, with the same twiddle tables
(generated here, written into the build as hex floats). So the firmware's
features equal these bit for bit unless the C library's double log10
differs from numpy's by an ulp at a float32 rounding boundary; verify counts
the int8 values whose float lies within rounding distance of a step.

The mel filter bank is TensorFlow's ``linear_to_mel_weight_matrix(40, 513,
16000, 0, 8000)`` in float32, as the reference training code defines it,
committed in mel_table.py; ``derive_mel_matrix`` rebuilds it with numpy and
the tests compare both with TensorFlow itself when it is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
WINDOW = 1024
HOP = 512
BINS = WINDOW // 2 + 1          # 513
MEL_FILTERS = 40
FRAMES = 30                     # feature frames in the model input
PREEMPHASIS = np.float32(0.96875)
POWER_OFFSET = np.float32(52.0)
LOG_FLOOR = np.float32(1e-30)
FFT_POINTS = WINDOW // 2        # the complex FFT over even/odd pairs
STEP_EPSILON = 1e-4             # "within rounding distance of a step", in int8 units

F32 = np.float32


def hamming_periodic() -> np.ndarray:
    """0.54 - 0.46 cos(2 pi n / 1024), n = 0..1023, computed in double, stored float32."""
    n = np.arange(WINDOW, dtype=np.float64)
    return (0.54 - 0.46 * np.cos(2.0 * np.pi * n / WINDOW)).astype(F32)


def fft_twiddles() -> tuple[np.ndarray, np.ndarray]:
    """cos and -sin of 2 pi k / 512, k = 0..255 (the complex FFT's W512^k)."""
    k = np.arange(FFT_POINTS // 2, dtype=np.float64)
    a = 2.0 * np.pi * k / FFT_POINTS
    return np.cos(a).astype(F32), (-np.sin(a)).astype(F32)


def split_twiddles() -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of 2 pi k / 1024, k = 0..512 (the real split)."""
    k = np.arange(BINS, dtype=np.float64)
    a = 2.0 * np.pi * k / WINDOW
    return np.cos(a).astype(F32), np.sin(a).astype(F32)


def bit_reverse(n: int = FFT_POINTS) -> np.ndarray:
    bits = n.bit_length() - 1
    idx = np.arange(n)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(bits):
        rev |= ((idx >> b) & 1) << (bits - 1 - b)
    return rev


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return F32(1127.0) * np.log(F32(1.0) + hz / F32(700.0))


def derive_mel_matrix() -> np.ndarray:
    """[513, 40] float32: TensorFlow's linear_to_mel_weight_matrix(40, 513,
    16000 Hz, 0 Hz, 8000 Hz) rebuilt step by step in float32 (HTK mel scale,
    triangles over the mel-spaced band edges, the DC bin zeroed). Within
    1e-5 of TensorFlow's (whose float32 log differs from numpy's)."""
    nyquist = F32(SAMPLE_RATE / 2.0)
    # tf.linspace: start + i * ((stop - start) / (num - 1)), the last is stop.
    step = nyquist / F32(BINS - 1)
    freqs = np.arange(BINS, dtype=F32) * step
    freqs[-1] = nyquist
    spec_mel = _hz_to_mel(freqs[1:])[:, None]
    lo, hi = _hz_to_mel(F32(0.0)), _hz_to_mel(nyquist)
    edge_step = (hi - lo) / F32(MEL_FILTERS + 1)
    edges = lo + np.arange(MEL_FILTERS + 2, dtype=F32) * edge_step
    edges[-1] = hi
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    lower_slopes = (spec_mel - lower) / (center - lower)
    upper_slopes = (upper - spec_mel) / (upper - center)
    weights = np.maximum(F32(0.0), np.minimum(lower_slopes, upper_slopes)).astype(F32)
    return np.vstack([np.zeros((1, MEL_FILTERS), F32), weights])


def tensorflow_mel_matrix() -> np.ndarray:
    """The filter bank from TensorFlow itself (needs TensorFlow)."""
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    return tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=MEL_FILTERS, num_spectrogram_bins=BINS, sample_rate=SAMPLE_RATE,
        lower_edge_hertz=0.0, upper_edge_hertz=SAMPLE_RATE / 2.0).numpy().astype(F32)


@lru_cache(maxsize=1)
def mel_matrix() -> np.ndarray:
    """[513, 40] float32: the committed TensorFlow filter bank (mel_table.py)."""
    from tinygen.plan import sww_mel_table as mel_table
    weights = np.array(mel_table.WEIGHTS, dtype=np.uint32).view(F32)
    m = np.zeros((BINS, MEL_FILTERS), F32)
    offset = 0
    for f, (start, length) in enumerate(zip(mel_table.STARTS, mel_table.LENGTHS)):
        m[start:start + length, f] = weights[offset:offset + length]
        offset += length
    return m


@dataclass(frozen=True)
class PackedMel:
    """The non-zero run of each filter: start bin, length, and all weights in a row."""

    starts: np.ndarray   # [40] int
    lengths: np.ndarray  # [40] int
    weights: np.ndarray  # [sum(lengths)] float32


@lru_cache(maxsize=1)
def packed_mel() -> PackedMel:
    m = mel_matrix()
    starts, lengths, weights = [], [], []
    for f in range(MEL_FILTERS):
        nz = np.nonzero(m[:, f])[0]
        start, end = int(nz[0]), int(nz[-1]) + 1
        starts.append(start)
        lengths.append(end - start)
        weights.append(m[start:end, f])
    return PackedMel(np.array(starts), np.array(lengths), np.concatenate(weights).astype(F32))


def _complex_fft(re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-order radix-2 decimation-in-time FFT of 512 points over the last
    axis, float32, the firmware's exact sequence of operations."""
    rev = bit_reverse()
    re, im = re[..., rev].copy(), im[..., rev].copy()
    wr_all, wi_all = fft_twiddles()
    lead = re.shape[:-1]
    half = 1
    while half < FFT_POINTS:
        stride = FFT_POINTS // (2 * half)
        wr, wi = wr_all[::stride][:half], wi_all[::stride][:half]
        r = re.reshape(*lead, -1, 2, half)
        i = im.reshape(*lead, -1, 2, half)
        ar, ai, br, bi = r[..., 0, :], i[..., 0, :], r[..., 1, :], i[..., 1, :]
        tr = br * wr - bi * wi
        ti = br * wi + bi * wr
        nr0, ni0 = ar + tr, ai + ti
        nr1, ni1 = ar - tr, ai - ti
        re = np.stack([nr0, nr1], axis=-2).reshape(*lead, FFT_POINTS)
        im = np.stack([ni0, ni1], axis=-2).reshape(*lead, FFT_POINTS)
        half *= 2
    return re, im


def power_spectrum(frames: np.ndarray) -> np.ndarray:
    """[..., 1024] float32 windowed frames -> [..., 513] power, sqrt(re^2+im^2)^2 / 1024."""
    zr, zi = _complex_fft(frames[..., 0::2], frames[..., 1::2])
    k = np.arange(BINS)
    kr = (FFT_POINTS - k) % FFT_POINTS
    k = k % FFT_POINTS
    a_r, a_i = zr[..., k], zi[..., k]
    b_r, b_i = zr[..., kr], zi[..., kr]
    half = F32(0.5)
    er = half * (a_r + b_r)
    ei = half * (a_i - b_i)
    orr = half * (a_r - b_r)
    oi = half * (a_i + b_i)
    c, s = split_twiddles()
    xr = er + (c * oi - s * orr)
    xi = ei - (c * orr + s * oi)
    mag = np.sqrt(xr * xr + xi * xi)
    return (mag * mag) * F32(1.0 / WINDOW)


def mel_energies(power: np.ndarray) -> np.ndarray:
    """[..., 513] -> [..., 40]: each packed filter summed in order, float32."""
    packed = packed_mel()
    out = np.zeros(power.shape[:-1] + (MEL_FILTERS,), F32)
    offset = 0
    for f in range(MEL_FILTERS):
        start, length = int(packed.starts[f]), int(packed.lengths[f])
        acc = np.zeros(power.shape[:-1], F32)
        for j in range(length):
            acc = acc + power[..., start + j] * packed.weights[offset + j]
        out[..., f] = acc
        offset += length
    return out


def log_features(mel: np.ndarray) -> np.ndarray:
    """max 1e-30, 10 log10 in double (stored float32), +52, x 1/64, clip [0, 1]."""
    floored = np.maximum(mel, LOG_FLOOR)
    db = (10.0 * np.log10(floored.astype(np.float64))).astype(F32)
    x = (db + POWER_OFFSET) * F32(1.0 / 64.0)
    return np.clip(x, F32(0.0), F32(1.0))


def quantize(features: np.ndarray, input_scale: float) -> np.ndarray:
    """int8 = (int8)(int32) truncation of the float32 x / scale - 128 (wraps, no saturation)."""
    v = features.astype(F32) / F32(input_scale) - F32(128.0)
    return np.trunc(v).astype(np.int32).astype(np.int8)


def quantize_margin(features: np.ndarray, input_scale: float) -> np.ndarray:
    """How far (in int8 units) each x / scale - 128 lies from the nearest
    step where truncation changes its value (an integer)."""
    v = (features.astype(F32) / F32(input_scale) - F32(128.0)).astype(np.float64)
    return np.abs(v - np.round(v))


@dataclass(frozen=True)
class StreamFeatures:
    floats: np.ndarray   # [hops, 40] float32 after the clip
    int8: np.ndarray     # [hops, 40] the model input rows
    state: int           # the pre-emphasis state after the last hop (raw int16)


def stream_features(samples: np.ndarray, input_scale: float, state: int = 0,
                    hops: int | None = None) -> StreamFeatures:
    """Features of every hop of a stream, as the DUT computes them after `start`.

    Hop k covers samples (k-1)*512 .. (k+1)*512 (zeros before the stream);
    ``state`` is the raw sample the pre-emphasis starts from (0 after boot).
    """
    samples = np.asarray(samples, dtype=np.int16)
    n = samples.size // HOP if hops is None else hops
    padded = np.concatenate([np.zeros(HOP, np.int16), samples[:n * HOP]])
    idx = np.arange(n)[:, None] * HOP + np.arange(WINDOW)[None, :]
    raw = padded[idx]                                  # [hops, 1024] int16
    prev = np.concatenate([[state], raw[:-1, -1]]).astype(np.int16) if n else np.zeros(0, np.int16)
    x = raw.astype(F32) / F32(32768.0)
    px = prev.astype(F32) / F32(32768.0)
    scaled = PREEMPHASIS * x
    y = np.empty_like(x)
    y[:, 0] = x[:, 0] - PREEMPHASIS * px
    y[:, 1:] = x[:, 1:] - scaled[:, :-1]
    windowed = y * hamming_periodic()
    feats = log_features(mel_energies(power_spectrum(windowed)))
    last = int(raw[-1, -1]) if n else state
    return StreamFeatures(feats, quantize(feats, input_scale), last)


def model_windows(rows: np.ndarray) -> np.ndarray:
    """[hops, 40] int8 rows -> [hops, 1, 30, 1, 40]: the model input at each hop
    (the newest row last; int8 zeros before the stream, as the DUT's `start` sets)."""
    rows = np.asarray(rows, dtype=np.int8)
    padded = np.concatenate([np.zeros((FRAMES - 1, MEL_FILTERS), np.int8), rows])
    idx = np.arange(rows.shape[0])[:, None] + np.arange(FRAMES)[None, :]
    return padded[idx].reshape(rows.shape[0], 1, FRAMES, 1, MEL_FILTERS)
