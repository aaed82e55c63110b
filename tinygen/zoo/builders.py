"""Keras builders of the MLPerf Tiny reference architectures, converted to int8.

The models are UNTRAINED: weights come from seeded initializers and the
batch-norm statistics are set from one seeded batch of representative input,
so every activation is spread out rather than all zero. They have the exact
layer structure, shapes, operator set, parameter count and MAC count of the
reference architectures, which is what porting, latency and memory work needs;
their predictions mean nothing.

TensorFlow is imported lazily (``pip install -e '.[models]'``), so the rest of
tinygen works without it. Same bench and seed -> same ``.tflite`` bytes (with
the same TensorFlow version): every layer is named, every initializer and the
representative dataset are seeded.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import struct
import warnings
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from tinygen.benches import Benchmark, get_bench
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

DEFAULT_SEED = 20260101
# The committed models/ were built with this TensorFlow; another version may
# convert to different (equally valid) bytes.
BUILT_WITH_TENSORFLOW = "2.21.0"
REPRESENTATIVE_SAMPLES = 64
DESCRIPTION_PREFIX = "tinygen untrained reference architecture"


def _import_tensorflow() -> Any:
    # Quieten TensorFlow's C++ start-up chatter unless the user chose a level.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise TinygenError(
            "building models needs TensorFlow, which is not installed: "
            "run pip install -e '.[models]' in the tinygen checkout "
            f"({exc})"
        ) from None
    return tf


class _Seeds:
    """Hands out a distinct, reproducible seed per initializer."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.count = 0

    def next(self) -> int:
        self.count += 1
        return self.base + 7919 * self.count


@dataclass
class _Layers:
    """Named-layer factory: names make the converted bytes independent of
    how many models this process built before."""

    keras: Any
    seeds: _Seeds
    count: int = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}_{self.count}"

    def kernel_init(self) -> Any:
        return self.keras.initializers.HeNormal(seed=self.seeds.next())

    def bias_init(self) -> Any:
        # Non-zero biases: the converter drops an all-zero bias tensor, and the
        # reference models carry one on every layer.
        return self.keras.initializers.RandomUniform(-0.05, 0.05, seed=self.seeds.next())

    def batch_norm(self) -> Any:
        k = self.keras
        # momentum 0: the one calibration pass in training mode sets the moving
        # statistics to that batch's statistics (see _calibrate_batch_norm).
        return k.layers.BatchNormalization(
            momentum=0.0,
            gamma_initializer=k.initializers.RandomUniform(0.5, 1.5, seed=self.seeds.next()),
            beta_initializer=k.initializers.RandomUniform(0.0, 0.5, seed=self.seeds.next()),
            name=self.name("bn"),
        )

    def relu(self) -> Any:
        return self.keras.layers.ReLU(name=self.name("relu"))

    def conv(self, filters: int, kernel: tuple[int, int], strides: int = 1) -> Any:
        return self.keras.layers.Conv2D(
            filters, kernel, strides=strides, padding="same",
            kernel_initializer=self.kernel_init(), bias_initializer=self.bias_init(),
            name=self.name("conv"),
        )

    def depthwise(self, strides: int = 1) -> Any:
        return self.keras.layers.DepthwiseConv2D(
            (3, 3), strides=strides, padding="same",
            depthwise_initializer=self.kernel_init(), bias_initializer=self.bias_init(),
            name=self.name("dwconv"),
        )

    def dense(self, units: int) -> Any:
        return self.keras.layers.Dense(
            units, kernel_initializer=self.kernel_init(), bias_initializer=self.bias_init(),
            name=self.name("dense"),
        )


def _ds_cnn(k: Any, L: _Layers, bench: Benchmark) -> Any:
    """DS-CNN small: conv 64 10x4 /2, four depthwise-separable blocks of 64."""
    inputs = k.Input(shape=bench.input_shape[1:], batch_size=1, name="input")
    x = L.relu()(L.batch_norm()(L.conv(64, (10, 4), strides=2)(inputs)))
    for _ in range(4):
        x = L.relu()(L.batch_norm()(L.depthwise()(x)))
        x = L.relu()(L.batch_norm()(L.conv(64, (1, 1))(x)))
    # The reference pools (49 // 2, 10 // 2) = 24x5 over the 25x5 map.
    x = k.layers.AveragePooling2D(pool_size=(24, 5), name=L.name("avgpool"))(x)
    x = k.layers.Flatten(name=L.name("flatten"))(x)
    x = L.dense(bench.output_shape[-1])(x)
    outputs = k.layers.Softmax(name=L.name("softmax"))(x)
    return k.Model(inputs, outputs, name="kws01_ds_cnn_small_untrained")


def _mobilenet_v1(k: Any, L: _Layers, bench: Benchmark) -> Any:
    """MobileNetV1 alpha 0.25: conv 8 /2, 13 depthwise-separable blocks."""
    alpha = 0.25
    inputs = k.Input(shape=bench.input_shape[1:], batch_size=1, name="input")
    x = L.relu()(L.batch_norm()(L.conv(int(32 * alpha), (3, 3), strides=2)(inputs)))
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
              (1024, 2), (1024, 1)]
    for filters, stride in blocks:
        x = L.relu()(L.batch_norm()(L.depthwise(strides=stride)(x)))
        x = L.relu()(L.batch_norm()(L.conv(int(filters * alpha), (1, 1))(x)))
    x = k.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name=L.name("avgpool"))(x)
    x = k.layers.Flatten(name=L.name("flatten"))(x)
    x = L.dense(bench.output_shape[-1])(x)
    outputs = k.layers.Softmax(name=L.name("softmax"))(x)
    return k.Model(inputs, outputs, name="vww01_mobilenet_v1_025_untrained")


def _resnet8(k: Any, L: _Layers, bench: Benchmark) -> Any:
    """ResNet-8: conv F, then stacks of F, 2F /2, 4F /2 with residual ADDs.

    F = 16 for ic01 (12.5 M MACs); F = 40 for ic02, the v1.4 larger ResNet
    (its official file's convolutions have 40, 40, 40, 80, 80, 80, 160, 160,
    160 output channels: 76.5 M MACs)."""
    base = 40 if bench.id == "ic02" else 16
    inputs = k.Input(shape=bench.input_shape[1:], batch_size=1, name="input")
    x = L.relu()(L.batch_norm()(L.conv(base, (3, 3))(inputs)))
    for filters, stride in ((base, 1), (2 * base, 2), (4 * base, 2)):
        y = L.relu()(L.batch_norm()(L.conv(filters, (3, 3), strides=stride)(x)))
        y = L.batch_norm()(L.conv(filters, (3, 3))(y))
        if stride != 1:
            # The shortcut changes shape with a strided 1x1 convolution.
            x = L.conv(filters, (1, 1), strides=stride)(x)
        x = L.relu()(k.layers.Add(name=L.name("add"))([x, y]))
    x = k.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name=L.name("avgpool"))(x)
    x = k.layers.Flatten(name=L.name("flatten"))(x)
    x = L.dense(bench.output_shape[-1])(x)
    outputs = k.layers.Softmax(name=L.name("softmax"))(x)
    return k.Model(inputs, outputs, name=f"{bench.id}_resnet8_untrained")


def _fc_autoencoder(k: Any, L: _Layers, bench: Benchmark) -> Any:
    """FC auto-encoder 640-128x4-8-128x4-640, each hidden layer BN + ReLU."""
    inputs = k.Input(shape=bench.input_shape[1:], batch_size=1, name="input")
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = L.relu()(L.batch_norm()(L.dense(units)(x)))
    outputs = L.dense(bench.output_shape[-1])(x)
    return k.Model(inputs, outputs, name="ad01_fc_autoencoder_untrained")


def _str_ww(k: Any, L: _Layers, bench: Benchmark) -> Any:
    """sww01's 1D DS-CNN over time: four blocks of a VALID depthwise
    convolution along the 30 frames (kernels 3, 5, 10, 15) and a pointwise
    convolution + BN + ReLU (128, 128, 128, 32 channels), then dense 3 and
    softmax; the layer list of the official str_ww_ref_model.tflite."""
    inputs = k.Input(shape=bench.input_shape[1:], batch_size=1, name="input")
    x = inputs
    for kernel, filters in ((3, 128), (5, 128), (10, 128), (15, 32)):
        x = k.layers.DepthwiseConv2D(
            (kernel, 1), padding="valid", depthwise_initializer=L.kernel_init(),
            bias_initializer=L.bias_init(), name=L.name("dwconv"))(x)
        x = k.layers.Conv2D(
            filters, (1, 1), padding="valid", kernel_initializer=L.kernel_init(),
            bias_initializer=L.bias_init(), name=L.name("conv"))(x)
        x = L.relu()(L.batch_norm()(x))
    x = k.layers.Reshape((x.shape[-1],), name=L.name("reshape"))(x)
    x = L.dense(bench.output_shape[-1])(x)
    outputs = k.layers.Softmax(name=L.name("softmax"))(x)
    return k.Model(inputs, outputs, name="sww01_str_ww_untrained")


_ARCHITECTURES: Mapping[str, Callable[[Any, _Layers, Benchmark], Any]] = MappingProxyType({
    "kws01": _ds_cnn,
    "vww01": _mobilenet_v1,
    "ic01": _resnet8,
    "ic02": _resnet8,
    "ad01": _fc_autoencoder,
    "sww01": _str_ww,
})


def representative_inputs(bench: Benchmark, count: int, seed: int) -> np.ndarray:
    """Seeded float32 inputs shaped and ranged like the bench's real input.

    kws01: MFCC-like features (a large negative energy coefficient, smaller
    higher ones). vww01/ic01/ic02: uint8 images as 0..255 floats, so the converter
    picks input scale 1 and zero point -128 (int8 = byte - 128, as the DUT
    converts). ad01: log-mel-like dB values, 5 frames x 128 bins.
    """
    rng = np.random.default_rng(seed)
    shape = (count, *bench.input_shape[1:])
    if bench.id == "kws01":
        coeff = np.arange(bench.input_shape[2], dtype=np.float64)
        mean = np.where(coeff == 0, -200.0, 10.0 / (1.0 + coeff))
        std = np.where(coeff == 0, 40.0, 12.0 / (1.0 + 0.5 * coeff))
        x = rng.normal(mean[:, None], std[:, None], size=shape)
    elif bench.id in ("vww01", "ic01", "ic02"):
        # Smooth random shapes plus pixel noise, clipped into the byte range;
        # the clip makes 0 and 255 appear so the input scale is exactly 1.
        base = rng.uniform(0, 255, size=(count, 1, 1, 3))
        ramp = np.linspace(-1.0, 1.0, bench.input_shape[1])
        grad = rng.uniform(-150, 150, size=(count, 1, 1, 3)) * ramp[None, :, None, None]
        noise = rng.normal(0, 60, size=shape)
        x = np.clip(np.round(base + grad + noise), 0, 255)
    elif bench.id == "ad01":
        bins = 128
        frames = bench.input_shape[1] // bins
        profile = np.linspace(-20.0, -60.0, bins)
        level = rng.normal(0.0, 6.0, size=(count, 1, 1))
        x = profile[None, None, :] + level + rng.normal(0.0, 5.0, size=(count, frames, bins))
        x = x.reshape(shape)
    elif bench.id == "sww01":
        # Log filter-bank energies as the DUT computes them: (10 log10(p) +
        # 52) / 64 clipped to [0, 1]; the clip makes 0 and 1 appear, so the
        # input scale is 1/255 (the official file's is 0.0037, max 0.944).
        bins = np.linspace(0.75, 0.35, bench.input_shape[3])
        level = rng.normal(0.0, 0.15, size=(count, 1, 1, 1))
        x = np.clip(bins[None, None, None, :] + level + rng.normal(0.0, 0.12, size=shape), 0.0, 1.0)
    else:  # pragma: no cover - _ARCHITECTURES and BENCHMARKS agree
        raise TinygenError(f"no representative data for {bench.id}")
    return x.astype(np.float32)


def _calibrate_batch_norm(model: Any, batch: np.ndarray) -> None:
    # One pass in training mode with momentum 0 stores each batch-norm layer's
    # input statistics as its moving mean/variance: each channel then leaves
    # the BN as N(beta, gamma^2), so activations neither vanish nor explode.
    model(batch, training=True)


def set_description(tflite_bytes: bytes, description: str) -> bytes:
    """Point the model's description at a new string appended to the file.

    Every other byte stays where the converter put it (buffer alignment
    included): flatbuffer offsets point forward, so a string placed after the
    end is reachable from the description field; the old string is left
    unreferenced.
    """
    import tflite

    model = tflite.Model.GetRootAsModel(tflite_bytes, 0)
    field = model._tab.Offset(10)  # vtable slot of Model.description
    if not field:
        log.warning("converted model has no description field; left as is")
        return tflite_bytes
    field_pos = model._tab.Pos + field
    out = bytearray(tflite_bytes)
    out += b"\0" * (-len(out) % 4)
    string_pos = len(out)
    text = description.encode("utf-8")
    out += struct.pack("<I", len(text)) + text + b"\0"
    out += b"\0" * (-len(out) % 4)
    struct.pack_into("<I", out, field_pos, string_pos - field_pos)
    return bytes(out)


def description_for(bench: Benchmark, seed: int) -> str:
    return (f"{DESCRIPTION_PREFIX}: {bench.id} {bench.architecture}, seed {seed}; "
            "weights are random, outputs are meaningless")


def convert_int8(tf: Any, model: Any, samples: np.ndarray) -> bytes:
    """The Keras `model` as a full-int8 .tflite (int8 input and output),
    its activation ranges calibrated on `samples` (one batch row each)."""

    def dataset() -> Iterator[list[np.ndarray]]:
        for i in range(samples.shape[0]):
            yield [samples[i:i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # Keras prints its SavedModel export summary on stdout; keep stdout for
    # the command's own output and pass that text to the debug log instead.
    # Its "statistics for quantized inputs" warning is expected: int8 input
    # ranges come from the representative dataset.
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        data = converter.convert()
    log.debug("%s", chatter.getvalue())
    return data


def build_model(bench_name: str, seed: int = DEFAULT_SEED) -> bytes:
    """The untrained int8 reference-architecture model of a bench, as bytes."""
    bench = get_bench(bench_name)
    tf = _import_tensorflow()
    try:
        import keras
    except ImportError as exc:
        raise TinygenError(
            f"building models needs Keras, which did not import ({exc}): "
            "run pip install -e '.[models]' in the tinygen checkout"
        ) from None

    keras.utils.set_random_seed(seed)
    layers = _Layers(keras, _Seeds(seed))
    model = _ARCHITECTURES[bench.id](keras, layers, bench)
    calib = representative_inputs(bench, REPRESENTATIVE_SAMPLES, seed + 1)
    _calibrate_batch_norm(model, calib)
    samples = representative_inputs(bench, REPRESENTATIVE_SAMPLES, seed + 2)
    log.info("converting %s (%s, untrained, seed %d) to int8", bench.id,
             bench.architecture, seed)
    data = convert_int8(tf, model, samples)
    return set_description(data, description_for(bench, seed))
