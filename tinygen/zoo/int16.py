"""An int16x8 keyword-spotting model: kws01's DS-CNN converted with 16-bit
activations and 8-bit weights (TFLite's EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8).

UNTRAINED like the other zoo models (tinygen/zoo/builders.py): seeded
initializers, batch-norm statistics from one seeded batch. The graph keeps
the converter's float32 input and output (QUANTIZE to int16 after the
input, DEQUANTIZE after the softmax), so the kws01 harness feeds it as it
feeds any float-input model: each int8 feature byte as a float. The
representative data is therefore kws01's feature distribution mapped onto
the int8 range.

The committed copy is tests/compiler/fixtures/kws01_s16.tflite (so tests
need no TensorFlow); regenerate it with ``python -m tinygen.zoo.int16 PATH``.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from tinygen.benches import get_bench
from tinygen.zoo.builders import (DEFAULT_SEED, REPRESENTATIVE_SAMPLES, _ARCHITECTURES,
                                  _calibrate_batch_norm, _import_tensorflow, _Layers, _Seeds,
                                  representative_inputs, set_description)

DESCRIPTION = ("tinygen untrained kws01 DS-CNN, int16 activations x int8 weights, seed {seed}; "
               "weights are random, outputs are meaningless")


def int8_features(count: int, seed: int) -> np.ndarray:
    """kws01-like features as the DUT receives them: whole numbers in -128..127
    (as float32), the MFCC-like spread mapped linearly onto the int8 range."""
    x = representative_inputs(get_bench("kws01"), count, seed).astype(np.float64)
    lo, hi = np.percentile(x, 0.5), np.percentile(x, 99.5)
    return np.clip(np.round((x - lo) / (hi - lo) * 255.0 - 128.0), -128, 127).astype(np.float32)


def build_kws_s16(seed: int = DEFAULT_SEED) -> bytes:
    tf = _import_tensorflow()
    import keras

    bench = get_bench("kws01")
    keras.utils.set_random_seed(seed)
    model = _ARCHITECTURES["kws01"](keras, _Layers(keras, _Seeds(seed)), bench)
    _calibrate_batch_norm(model, int8_features(REPRESENTATIVE_SAMPLES, seed + 1))
    samples = int8_features(REPRESENTATIVE_SAMPLES, seed + 2)

    def dataset() -> Iterator[list[np.ndarray]]:
        for i in range(samples.shape[0]):
            yield [samples[i:i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = converter.convert()
    return set_description(data, DESCRIPTION.format(seed=seed))


if __name__ == "__main__":
    Path(sys.argv[1]).write_bytes(build_kws_s16())
