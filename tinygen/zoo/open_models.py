"""Open-division style models users bring, built untrained for testing (issue 26).

Two models with the operators of today's own tiny models, fed the closed
benchmarks' inputs so the whole flow (build, verify, run) takes them:

- ``conv_autoencoder``: a convolutional auto-encoder over ad01's input (5
  log-mel frames x 128 bins as a 5x128 image): strided and grouped
  convolutions down to a 5x16x4 code, up again with TRANSPOSE_CONV and a
  bilinear RESIZE, 640 outputs for ad01's reconstruction error.
- ``mobilenet_v3_person``: a MobileNetV3-small-like person detector on
  vww01's 96x96x3 input: hard-swish, inverted residual blocks with 3x3 and
  5x5 depthwise layers, squeeze-excite (global mean, 1x1 convolutions,
  logistic gate, broadcast MUL), residual ADDs, 2 classes.

Like tinygen.zoo.builders' models they are UNTRAINED (seeded weights,
batch norm set from one seeded batch) and their outputs mean nothing; the
committed files (models/open/) let tests and benchmarks run without
TensorFlow. Regenerate them with

    python -m tinygen.zoo.open_models models/open
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from tinygen.benches import get_bench
from tinygen.zoo.builders import (DEFAULT_SEED, REPRESENTATIVE_SAMPLES, _import_tensorflow,
                                  _Layers, _Seeds, convert_int8, representative_inputs,
                                  set_description)

DESCRIPTION_PREFIX = "tinygen untrained open-division model"


def _conv(L: _Layers, filters: int, kernel, strides=1, groups: int = 1,
          activation: str | None = None) -> Any:
    return L.keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", groups=groups,
                                 activation=activation, kernel_initializer=L.kernel_init(),
                                 bias_initializer=L.bias_init(), name=L.name("conv"))


def _conv_autoencoder(k: Any, L: _Layers) -> Any:
    bench = get_bench("ad01")
    inputs = k.Input(shape=bench.input_shape[1:], batch_size=1, name="input")
    x = k.layers.Reshape((5, 128, 1), name=L.name("frames"))(inputs)
    x = _conv(L, 16, (3, 5), (1, 2), activation="relu")(x)               # 5x64x16
    x = _conv(L, 32, 3, (1, 2), groups=4, activation="relu")(x)          # 5x32x32, grouped
    x = _conv(L, 32, 3, (1, 2), groups=8, activation="relu")(x)          # 5x16x32, grouped
    x = _conv(L, 4, 1, activation="relu")(x)                             # 5x16x4: the code
    x = k.layers.Conv2DTranspose(32, 3, strides=(1, 2), padding="same", activation="relu",
                                 kernel_initializer=L.kernel_init(),
                                 bias_initializer=L.bias_init(), name=L.name("tconv"))(x)
    x = k.layers.UpSampling2D((1, 2), interpolation="bilinear", name=L.name("up"))(x)  # 5x64x32
    x = _conv(L, 16, 3, groups=2, activation="relu")(x)                  # 5x64x16, grouped
    x = k.layers.Conv2DTranspose(1, (3, 5), strides=(1, 2), padding="same",
                                 kernel_initializer=L.kernel_init(),
                                 bias_initializer=L.bias_init(), name=L.name("tconv"))(x)
    outputs = k.layers.Reshape((640,), name=L.name("window"))(x)
    return k.Model(inputs, outputs, name="conv_autoencoder_untrained")


def _hard_swish(k: Any, L: _Layers, x: Any) -> Any:
    return k.layers.Activation("hard_swish", name=L.name("hswish"))(x)


def _act(k: Any, L: _Layers, x: Any, kind: str) -> Any:
    return _hard_swish(k, L, x) if kind == "hs" else L.relu()(x)


def _squeeze_excite(k: Any, L: _Layers, x: Any, squeezed: int) -> Any:
    s = k.layers.GlobalAveragePooling2D(keepdims=True, name=L.name("se_mean"))(x)
    s = _conv(L, squeezed, 1, activation="relu")(s)
    s = k.layers.Activation("sigmoid", name=L.name("se_gate"))(_conv(L, x.shape[-1], 1)(s))
    return k.layers.Multiply(name=L.name("se_mul"))([x, s])


def _bneck(k: Any, L: _Layers, x: Any, expand: int, out: int, kernel: int, stride: int,
           se: bool, act: str) -> Any:
    """MobileNetV3's inverted residual: expand, depthwise, (squeeze-excite), project."""
    y = x
    if expand != x.shape[-1]:
        y = _act(k, L, L.batch_norm()(_conv(L, expand, 1)(y)), act)
    y = k.layers.DepthwiseConv2D(kernel, strides=stride, padding="same",
                                 depthwise_initializer=L.kernel_init(),
                                 bias_initializer=L.bias_init(), name=L.name("dwconv"))(y)
    y = _act(k, L, L.batch_norm()(y), act)
    if se:
        y = _squeeze_excite(k, L, y, max(8, expand // 4))
    y = L.batch_norm()(_conv(L, out, 1)(y))
    if stride == 1 and out == x.shape[-1]:
        y = k.layers.Add(name=L.name("residual"))([x, y])
    return y


# (expand, out, kernel, stride, squeeze-excite, activation): MobileNetV3-small's
# first blocks, its last stage shortened.
MOBILENET_V3_BLOCKS = (
    (16, 16, 3, 2, True, "re"),
    (72, 24, 3, 2, False, "re"),
    (88, 24, 3, 1, False, "re"),
    (96, 40, 5, 2, True, "hs"),
    (240, 40, 5, 1, True, "hs"),
    (120, 48, 5, 1, True, "hs"),
    (144, 96, 5, 2, True, "hs"),
)


def _mobilenet_v3_person(k: Any, L: _Layers) -> Any:
    bench = get_bench("vww01")
    inputs = k.Input(shape=bench.input_shape[1:], batch_size=1, name="input")
    x = _hard_swish(k, L, L.batch_norm()(_conv(L, 16, 3, 2)(inputs)))   # 48x48x16
    for block in MOBILENET_V3_BLOCKS:
        x = _bneck(k, L, x, *block)                                      # ... 3x3x96
    x = _hard_swish(k, L, L.batch_norm()(_conv(L, 288, 1)(x)))
    x = k.layers.GlobalAveragePooling2D(keepdims=True, name=L.name("pool"))(x)
    x = _hard_swish(k, L, _conv(L, 128, 1)(x))
    x = k.layers.Flatten(name=L.name("flatten"))(_conv(L, bench.output_shape[-1], 1)(x))
    outputs = k.layers.Softmax(name=L.name("softmax"))(x)
    return k.Model(inputs, outputs, name="mobilenet_v3_person_untrained")


# name -> (builder, the bench whose input and output it takes, what it is)
OPEN_MODELS: dict[str, tuple[Callable[[Any, _Layers], Any], str, str]] = {
    "conv_autoencoder": (_conv_autoencoder, "ad01",
                         "convolutional auto-encoder 5x128 -> 5x16x4 -> 5x128 (strided and "
                         "grouped conv down, transpose conv and bilinear resize up)"),
    "mobilenet_v3_person": (_mobilenet_v3_person, "vww01",
                            "MobileNetV3-small-like person detector 96x96x3, 7 blocks, "
                            "hard-swish, squeeze-excite"),
}


def build_open_model(name: str, seed: int = DEFAULT_SEED) -> bytes:
    """The untrained int8 model `name` of OPEN_MODELS, as .tflite bytes."""
    builder, bench_id, what = OPEN_MODELS[name]
    bench = get_bench(bench_id)
    tf = _import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    model = builder(keras, _Layers(keras, _Seeds(seed)))
    model(representative_inputs(bench, REPRESENTATIVE_SAMPLES, seed + 1), training=True)
    samples = representative_inputs(bench, REPRESENTATIVE_SAMPLES, seed + 2)
    data = convert_int8(tf, model, samples)
    return set_description(data, f"{DESCRIPTION_PREFIX}: {name} ({what}) for {bench_id}'s "
                                 f"input, seed {seed}; weights are random, outputs are "
                                 "meaningless")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("models/open")
    out.mkdir(parents=True, exist_ok=True)
    for name in OPEN_MODELS:
        data = build_open_model(name)
        (out / f"{name}.tflite").write_bytes(data)
        print(f"{out / name}.tflite: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
