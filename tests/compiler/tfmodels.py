"""Small Keras models converted to int8 TFLite inside the tests.

Every builder is seeded and deterministic; ``ModelCache`` keeps converted
files for the whole test session so repeated specs cost nothing.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _tf():
    import tensorflow as tf  # slow import: only when a model is built
    return tf


def _keras():
    import keras
    return keras


def randomize_weights(model, rng: np.random.Generator, scale: float = 0.3) -> None:
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.normal(0.0, scale, w.shape).astype(np.float32)
                               for w in weights])


def convert(model, input_low: float, input_high: float, seed: int, *,
            int8_io: bool = True, quantize: bool = True, int16: bool = False,
            per_tensor: bool = False) -> bytes:
    tf = _tf()
    shape = [1, *model.inputs[0].shape[1:]]
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(24):
            yield [rng.uniform(input_low, input_high, size=shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        if int16:
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        else:
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if per_tensor:
            # One weight scale per tensor instead of per output channel.
            conv._experimental_disable_per_channel = True
        if int8_io and not int16:
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
    with warnings.catch_warnings():
        # Expected: int8 I/O makes the converter ask for input statistics.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        return conv.convert()


def single_op(spec: dict) -> tuple[object, float, float]:
    """A one-operator Keras model (plus what it needs) described by spec."""
    keras = _keras()
    L = keras.layers
    kind = spec["op"]
    act = spec.get("act")
    inp = keras.Input(shape=tuple(spec["shape"]), batch_size=spec.get("batch", 1))
    if kind == "conv":
        out = L.Conv2D(spec["filters"], spec["kernel"], strides=spec["stride"],
                       padding=spec["padding"], dilation_rate=spec["dilation"],
                       activation=act)(inp)
    elif kind == "dwconv":
        out = L.DepthwiseConv2D(spec["kernel"], strides=spec["stride"], padding=spec["padding"],
                                depth_multiplier=spec["dm"], dilation_rate=spec["dilation"],
                                activation=act)(inp)
    elif kind == "fc":
        out = L.Dense(spec["units"], activation=act)(inp)
    elif kind == "avgpool":
        out = L.AveragePooling2D(spec["pool"], strides=spec["stride"], padding=spec["padding"])(inp)
    elif kind == "maxpool":
        out = L.MaxPooling2D(spec["pool"], strides=spec["stride"], padding=spec["padding"])(inp)
    elif kind == "add":
        other = L.Conv2D(spec["shape"][-1], 1, activation=act)(inp)
        if spec.get("broadcast"):
            other = L.AveragePooling2D(tuple(spec["shape"][:2]))(other)
        out = keras.ops.add(inp, other)
        if act:
            out = L.Activation(act)(out)
    elif kind == "mul":
        other = L.Conv2D(spec["shape"][-1], 1, activation=act)(inp)
        if spec.get("broadcast"):
            other = L.AveragePooling2D(tuple(spec["shape"][:2]))(other)
        out = keras.ops.multiply(inp, other)
    elif kind == "const_operand":
        x = L.Conv2D(spec["shape"][-1], 1)(inp)
        rng = np.random.default_rng(spec["seed"])
        shape = spec["shape"][-1:] if spec.get("broadcast") else spec["shape"]
        const = rng.uniform(-2, 2, size=shape).astype(np.float32)
        fn = {"mul": keras.ops.multiply, "add": keras.ops.add,
              "sub": keras.ops.subtract}[spec["binary"]]
        out = fn(const, x) if spec.get("const_first") else fn(x, const)
    elif kind == "relu":
        # After a concatenation the converter cannot fuse the activation.
        a = L.Conv2D(spec["shape"][-1], 1)(inp)
        x = L.Concatenate()([a, inp])
        out = L.ReLU(max_value=spec["max_value"])(x)
    elif kind == "mean":
        x = L.Conv2D(spec["shape"][-1], 1)(inp) if spec.get("conv") else inp
        out = L.GlobalAveragePooling2D(keepdims=spec["keepdims"])(x)
    elif kind == "concat":
        a = L.Conv2D(spec["filters"], 1, activation=act)(inp)
        b = L.DepthwiseConv2D(3, padding="same")(inp)
        out = L.Concatenate(axis=spec["axis"])([a, b, inp] if spec["axis"] == -1 else [a, a])
    elif kind == "pad":
        x = L.Conv2D(spec["shape"][-1], 1)(inp) if spec.get("conv") else inp
        out = L.ZeroPadding2D(padding=spec["padding"])(x)
    elif kind in ("sigmoid", "tanh", "hard_swish"):
        x = L.Conv2D(spec["shape"][-1], 1)(inp) if spec.get("conv") else inp
        out = L.Activation(kind)(x)
    elif kind == "leaky_relu":
        x = L.Conv2D(spec["shape"][-1], 1)(inp) if spec.get("conv") else inp
        out = L.LeakyReLU(negative_slope=spec["alpha"])(x)
    elif kind == "sub":
        other = L.Conv2D(spec["shape"][-1], 1)(inp)
        if spec.get("broadcast"):
            other = L.AveragePooling2D(tuple(spec["shape"][:2]))(other)
        out = keras.ops.subtract(other, inp) if spec.get("swap") else keras.ops.subtract(inp, other)
        if act:
            out = L.Activation(act)(out)
    elif kind == "reduce_max":
        x = L.Conv2D(spec["shape"][-1], 1)(inp) if spec.get("conv") else inp
        out = keras.ops.max(x, axis=spec["axes"], keepdims=spec["keepdims"])
    elif kind == "elementwise_chain":
        # Every table and elementwise kernel in one model (one cross build per core).
        x = L.Conv2D(spec["shape"][-1], 1)(inp)
        g = L.Activation("sigmoid")(x)
        t = L.Activation("tanh")(L.LeakyReLU(negative_slope=spec["alpha"])(
            L.Activation("hard_swish")(x)))
        if spec.get("broadcast"):
            t = L.AveragePooling2D(tuple(spec["shape"][:2]))(t)
        out = keras.ops.max(keras.ops.subtract(g, t), axis=spec["axes"],
                            keepdims=spec["keepdims"])
    elif kind in SPATIAL_KINDS:
        out = _spatial_op(spec, inp)
    elif kind == "softmax":
        out = L.Softmax()(L.Dense(spec["units"])(inp) if spec.get("dense") else inp)
    else:
        raise ValueError(kind)
    model = keras.Model(inp, out)
    randomize_weights(model, np.random.default_rng(spec["seed"]), spec.get("wscale", 0.3))
    return model, spec["lo"], spec["hi"]


SPATIAL_KINDS = ("transpose_conv", "resize", "tile", "upsampling2d", "crop", "grouped_conv",
                 "spatial_chain")


def _resize(spec, x, size, method):
    """RESIZE_* with the coordinate rule of spec["rule"]: Keras' Resizing
    (half-pixel centres) or TF1's align-corners / asymmetric resizes."""
    tf, keras = _tf(), _keras()
    rule = spec.get("rule", "half_pixel")
    if rule == "half_pixel":
        return keras.layers.Resizing(*size, interpolation=method)(x)
    v1 = (tf.compat.v1.image.resize_bilinear if method == "bilinear"
          else tf.compat.v1.image.resize_nearest_neighbor)
    return keras.layers.Lambda(lambda t: v1(t, size, align_corners=rule == "align_corners"))(x)


def _spatial_op(spec, inp):
    """Issue 26's spatial operators, each after a 1x1 convolution when
    spec["conv"] (so its input quantization is the converter's, not the input's)."""
    keras = _keras()
    L = keras.layers
    kind = spec["op"]
    x = L.Conv2D(spec["shape"][-1], 1)(inp) if spec.get("conv") else inp
    if kind == "transpose_conv":
        return L.Conv2DTranspose(spec["filters"], spec["kernel"], strides=spec["stride"],
                                 padding=spec["padding"], activation=spec.get("act"),
                                 use_bias=spec.get("bias", True))(x)
    if kind == "resize":
        return _resize(spec, x, spec["size"], spec["method"])
    if kind == "tile":
        return keras.ops.tile(x, spec["multiples"])
    if kind == "upsampling2d":
        # Converts to RESHAPE -> rank-5 TILE -> RESHAPE per axis.
        return L.UpSampling2D(spec["factor"])(x)
    if kind == "crop":
        (t, b), (l, r) = spec["crop"]
        h, w = spec["shape"][:2]
        return x[:, t:h - b:spec["step"][0], l:w - r:spec["step"][1], :]
    if kind == "grouped_conv":
        return L.Conv2D(spec["filters"], spec["kernel"], strides=spec["stride"],
                        padding=spec["padding"], dilation_rate=spec["dilation"],
                        groups=spec["groups"], activation=spec.get("act"))(x)
    # spatial_chain: every TFLM-supported one in one model (one cross build per core).
    x = L.Conv2D(2 * spec["shape"][-1], 3, padding="same", groups=spec["shape"][-1],
                 activation="relu")(x)
    x = L.Conv2DTranspose(spec["filters"], 3, strides=2, padding=spec["padding"])(x)
    x = x[:, 1:-1, :, :]
    x = _resize(dict(spec, rule=spec["rule"]), x, spec["size"], "bilinear")
    return _resize(dict(spec, rule="half_pixel"), x, spec["size2"], "nearest")


def ds_cnn_like():
    keras = _keras()
    L = keras.layers
    inp = keras.Input(shape=(49, 10, 1), batch_size=1)
    x = L.Conv2D(16, (10, 4), strides=2, padding="same", activation="relu")(inp)
    for _ in range(2):
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.Conv2D(16, 1, activation="relu")(x)
    x = L.AveragePooling2D((25, 5))(x)
    x = L.Flatten()(x)
    out = L.Softmax()(L.Dense(12)(x))
    return keras.Model(inp, out), -3.0, 3.0


def mobilenet_like():
    keras = _keras()
    L = keras.layers
    inp = keras.Input(shape=(32, 32, 3), batch_size=1)
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu6")(inp)
    for filters, stride in ((16, 1), (24, 2), (24, 1)):
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu6")(x)
        x = L.Conv2D(filters, 1, activation="relu6")(x)
    x = L.AveragePooling2D(8)(x)
    x = L.Flatten()(x)
    out = L.Softmax()(L.Dense(2)(x))
    return keras.Model(inp, out), 0.0, 1.0


def resnet_like():
    keras = _keras()
    L = keras.layers
    inp = keras.Input(shape=(16, 16, 3), batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    y = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = L.Conv2D(8, 3, padding="same")(y)
    x = L.Activation("relu")(L.Add()([x, y]))
    y = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    y = L.Conv2D(16, 3, padding="same")(y)
    s = L.Conv2D(16, 1, strides=2)(x)
    x = L.Activation("relu")(L.Add()([s, y]))
    x = L.MaxPooling2D(2)(x)
    x = L.AveragePooling2D(4)(x)
    x = L.Flatten()(x)
    out = L.Softmax()(L.Dense(10)(x))
    return keras.Model(inp, out), -1.0, 1.0


def fc_autoencoder():
    keras = _keras()
    L = keras.layers
    inp = keras.Input(shape=(80,), batch_size=1)
    x = inp
    for units in (32, 32, 8, 32, 32):
        x = L.Dense(units, activation="relu")(x)
    return keras.Model(inp, L.Dense(80)(x)), -4.0, 2.0


def open_batch_flatten():
    """Batch size left open: Flatten converts to SHAPE/STRIDED_SLICE/PACK/RESHAPE."""
    keras = _keras()
    L = keras.layers
    inp = keras.Input(shape=(8, 8, 4))
    x = L.Conv2D(8, 3, activation="relu")(inp)
    x = L.Flatten()(x)
    return keras.Model(inp, L.Softmax()(L.Dense(6)(x))), -1.0, 1.0


def mobilenet_v3_block():
    """A MobileNetV3-small-like stem and block: hard-swish, a depthwise layer,
    squeeze-excite (global mean, 1x1 convolutions, logistic gate, broadcast
    multiply), a projection with a residual ADD, then the classifier."""
    keras = _keras()
    L = keras.layers
    inp = keras.Input(shape=(32, 32, 3), batch_size=1)   # ic01's input: verify --bench ic
    x = L.Activation("hard_swish")(L.Conv2D(16, 3, strides=2, padding="same")(inp))
    y = L.Activation("hard_swish")(L.DepthwiseConv2D(3, padding="same")(x))
    se = L.GlobalAveragePooling2D(keepdims=True)(y)
    se = L.Conv2D(8, 1, activation="relu")(se)
    se = L.Activation("sigmoid")(L.Conv2D(16, 1)(se))
    y = L.Multiply()([y, se])
    y = L.Conv2D(16, 1)(y)
    x = L.Add()([x, y])
    x = L.Activation("hard_swish")(L.Conv2D(24, 1)(x))
    x = L.GlobalAveragePooling2D()(x)
    out = L.Softmax()(L.Dense(10)(x))
    return keras.Model(inp, out), -1.0, 1.0


WHOLE_MODELS: dict[str, Callable] = {
    "mobilenet_v3_block": mobilenet_v3_block,
    "ds_cnn_like": ds_cnn_like,
    "mobilenet_like": mobilenet_like,
    "resnet_like": resnet_like,
    "fc_autoencoder": fc_autoencoder,
    "open_batch_flatten": open_batch_flatten,
}


class ModelCache:
    """Converted .tflite files, built once per session under root."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def get(self, key: str, build: Callable[[], bytes]) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        path = self.root / f"{digest}.tflite"
        if not path.exists():
            path.write_bytes(build())
        return path

    def single_op(self, spec: dict) -> Path:
        def build() -> bytes:
            _keras().utils.set_random_seed(spec["seed"])
            model, lo, hi = single_op(spec)
            return convert(model, lo, hi, spec["seed"], per_tensor=spec.get("per_tensor", False),
                           int16=spec.get("int16", False))
        return self.get(repr(sorted(spec.items())), build)

    def whole(self, name: str, *, seed: int = 1, float_io: bool = False) -> Path:
        def build() -> bytes:
            _keras().utils.set_random_seed(seed)
            model, lo, hi = WHOLE_MODELS[name]()
            randomize_weights(model, np.random.default_rng(seed), 0.25)
            return convert(model, lo, hi, seed, int8_io=not float_io)
        return self.get(f"whole:{name}:{seed}:{float_io}", build)


if __name__ == "__main__":
    # Regenerates the committed fixtures (needs TensorFlow; the tests do not):
    # python tests/compiler/tfmodels.py
    fixtures = Path(__file__).parent / "fixtures"
    for name in ("mobilenet_v3_block",):
        _keras().utils.set_random_seed(1)
        model, lo, hi = WHOLE_MODELS[name]()
        randomize_weights(model, np.random.default_rng(1), 0.25)
        (fixtures / f"{name}.tflite").write_bytes(convert(model, lo, hi, 1))
