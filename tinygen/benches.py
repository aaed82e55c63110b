"""The MLPerf Tiny closed-division benchmarks (v1.4: kws, vww, ic, ic2, ad, sww), as data.

Facts come from the public benchmark (see shared docs): the byte format the
host sends, the conversion the DUT applies in th_load_tensor, the output
the DUT reports in th_results, the quality target and the dataset layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any

from tinygen.datafile import show
from tinygen.errors import TinygenError
from tinygen.paths import models_dir

# How the DUT turns the bytes the host sent into the input tensor.
INPUT_INT8 = "int8"                  # copy as is
INPUT_UINT8_OFFSET = "uint8-minus-128"  # int8 = byte - 128
INPUT_FLOAT32_QUANTIZE = "float32-le-quantize"  # quantize with the input scale/zero point

# What th_results prints.
OUTPUT_PROBABILITIES = "probabilities"  # m-results-[p0,p1,...] dequantized
OUTPUT_MSE = "reconstruction-mse"       # m-results-[mse] vs the float input

METRIC_TOP1 = "top1"
METRIC_AUC = "auc"
METRIC_DETECTIONS = "detections"   # sww: true/false positives over a stream

SCENARIO_SINGLE = "single-stream"
SCENARIO_STREAMING = "streaming"

OFFICIAL_REPO_COMMIT = "1afd2c9820f795965a6134facd0b4dfae41ef23f"
OFFICIAL_RAW_BASE = "https://raw.githubusercontent.com/mlcommons/tiny"


@dataclass(frozen=True)
class Benchmark:
    id: str                   # model id the DUT reports: kws01
    short: str                # kws
    title: str
    architecture: str
    input_shape: tuple[int, ...]
    input_format: str
    input_bytes: int          # bytes the host sends for one inference
    output_shape: tuple[int, ...]
    output_format: str
    metric: str
    target: float             # top-1 fraction or AUC
    accuracy_stimuli: int     # inferences over the official accuracy set
    paper_macs: int
    paper_params: int
    official_path: str        # path in mlcommons/tiny
    official_sha256: str
    # ad01 only: the sliding window over a stimulus file.
    window_bytes: int | None = None
    stride_bytes: int | None = None
    # sww01 only: a stream scored by detections (closed division: at most
    # fn_max false negatives and fp_max false positives over the long test
    # of long_test_words words).
    scenario: str = SCENARIO_SINGLE
    fn_max: int | None = None
    fp_max: int | None = None
    long_test_words: int | None = None
    # Files in the official accuracy set (EEMBC energyrunner datasets/<id>/),
    # and how many of them each label has (label order 0, 1, ...).
    accuracy_files: int = 0
    accuracy_label_files: tuple[int, ...] = ()

    @property
    def classes(self) -> int | None:
        return self.output_shape[-1] if self.metric == METRIC_TOP1 else None

    @property
    def input_elements(self) -> int:
        return prod(self.input_shape)

    @property
    def model_path(self) -> Path:
        """The committed, untrained reference-architecture model."""
        return models_dir() / f"{self.id}.tflite"

    @property
    def official_url(self) -> str:
        return f"{OFFICIAL_RAW_BASE}/{OFFICIAL_REPO_COMMIT}/{self.official_path}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "short": self.short,
            "title": self.title,
            "architecture": self.architecture,
            "input_shape": list(self.input_shape),
            "input_dtype": "int8",
            "input_format": self.input_format,
            "input_bytes": self.input_bytes,
            "output_shape": list(self.output_shape),
            "output_format": self.output_format,
            "metric": self.metric,
            "target": self.target,
            "accuracy_stimuli": self.accuracy_stimuli,
            "accuracy_files": self.accuracy_files,
            "accuracy_label_files": list(self.accuracy_label_files),
            "paper_macs": self.paper_macs,
            "paper_params": self.paper_params,
            "official_url": self.official_url,
            "official_sha256": self.official_sha256,
            "window_bytes": self.window_bytes,
            "stride_bytes": self.stride_bytes,
            "scenario": self.scenario,
            **({"fn_max": self.fn_max, "fp_max": self.fp_max,
                "long_test_words": self.long_test_words}
               if self.scenario == SCENARIO_STREAMING else {}),
        }

    @property
    def is_streaming(self) -> bool:
        return self.scenario == SCENARIO_STREAMING


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        id="kws01", short="kws", title="Keyword spotting (12 classes)",
        architecture="DS-CNN small",
        input_shape=(1, 49, 10, 1), input_format=INPUT_INT8, input_bytes=490,
        output_shape=(1, 12), output_format=OUTPUT_PROBABILITIES,
        metric=METRIC_TOP1, target=0.90, accuracy_stimuli=1000,
        paper_macs=2_660_000, paper_params=38_600,
        official_path="benchmark/training/keyword_spotting/trained_models/kws_ref_model.tflite",
        official_sha256="aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae",
        accuracy_files=1000,
    ),
    Benchmark(
        id="vww01", short="vww", title="Visual wake words (person / no person)",
        architecture="MobileNetV1 alpha 0.25, 96x96",
        input_shape=(1, 96, 96, 3), input_format=INPUT_UINT8_OFFSET, input_bytes=27_648,
        output_shape=(1, 2), output_format=OUTPUT_PROBABILITIES,
        metric=METRIC_TOP1, target=0.80, accuracy_stimuli=1000,
        paper_macs=7_490_000, paper_params=208_100,
        official_path="benchmark/training/visual_wake_words/trained_models/vww_96_int8.tflite",
        official_sha256="597a384c8c2c8a1276f04702f25013b7838f2f814f1ca7c174d295b73e3d6b7b",
        accuracy_files=1000, accuracy_label_files=(500, 500),   # no person, person
    ),
    Benchmark(
        id="ic01", short="ic", title="Image classification (CIFAR-10)",
        architecture="ResNet-8",
        input_shape=(1, 32, 32, 3), input_format=INPUT_UINT8_OFFSET, input_bytes=3_072,
        output_shape=(1, 10), output_format=OUTPUT_PROBABILITIES,
        metric=METRIC_TOP1, target=0.85, accuracy_stimuli=200,
        paper_macs=12_500_000, paper_params=78_700,
        official_path="benchmark/training/image_classification/trained_models/pretrainedResnet_quant.tflite",
        official_sha256="3c002613d1b2475eb51dd78dfb85a546c8ae658dee71cf6ade43b022fe205415",
        accuracy_files=200, accuracy_label_files=(20,) * 10,
    ),
    # MLPerf Tiny v1.4: the larger ResNet (stacks 40/80/160, same layout as
    # ResNet-8), same CIFAR-10 input bytes as ic01. The firmware reports
    # model id ic02 (EE_MODEL_VERSION_IC02); results go to the folder ic2.
    Benchmark(
        id="ic02", short="ic2", title="Image classification (CIFAR-10), larger ResNet",
        architecture="ResNet-8 large (stacks 40/80/160)",
        input_shape=(1, 32, 32, 3), input_format=INPUT_UINT8_OFFSET, input_bytes=3_072,
        output_shape=(1, 10), output_format=OUTPUT_PROBABILITIES,
        metric=METRIC_TOP1, target=0.91, accuracy_stimuli=200,
        # No published parameter count: this is the layer list's (conv
        # channels as in the official file), 76.5 M MACs is published.
        paper_macs=76_500_000, paper_params=480_330,
        official_path="benchmark/training/image_classification/trained_models/pretrainedResnet_large_int8.tflite",
        official_sha256="dc27dcd823f5665533352f7da516b0c9bc6f089914b8283782e55961b3423fcf",
        accuracy_files=200, accuracy_label_files=(20,) * 10,
    ),
    Benchmark(
        id="ad01", short="ad", title="Anomaly detection (ToyADMOS car)",
        architecture="FC auto-encoder 640-128x4-8-128x4-640",
        input_shape=(1, 640), input_format=INPUT_FLOAT32_QUANTIZE, input_bytes=2_560,
        output_shape=(1, 640), output_format=OUTPUT_MSE,
        # 248 files (140 normal, 108 anomaly), each the 200 central frames of
        # a clip's log-mel spectrogram: 196 windows of 5 frames per file.
        metric=METRIC_AUC, target=0.85, accuracy_stimuli=248 * 196,
        paper_macs=264_000, paper_params=270_000,
        official_path="benchmark/training/anomaly_detection/trained_models/ad01_int8.tflite",
        official_sha256="87cf24194ef93d1d9b11a591d805526b98008e351655d29883c825c9c106ba24",
        window_bytes=2_560, stride_bytes=512,
        accuracy_files=248, accuracy_label_files=(140, 108),
    ),
)


# The streaming benchmark (MLPerf Tiny v1.3+): audio in, features and an
# inference every 32 ms hop on the DUT, detections scored on the host. Kept
# apart from BENCHMARKS, whose members all answer the per-inference protocol
# (db load / infer / results); get_bench finds both.
SWW01 = Benchmark(
    id="sww01", short="sww", title="Streaming wakeword (marvin)",
    architecture="1D DS-CNN over time (depthwise 3/5/10/15 + pointwise 128)",
    input_shape=(1, 30, 1, 40), input_format=INPUT_INT8, input_bytes=1_200,
    output_shape=(1, 3), output_format=OUTPUT_PROBABILITIES,
    metric=METRIC_DETECTIONS, target=0.0, accuracy_stimuli=50,
    paper_macs=826_368, paper_params=46_883,  # counted from the official file
    official_path="benchmark/training/streaming_wakeword/trained_models/str_ww_ref_model.tflite",
    official_sha256="3af8550895ba7d5c584277102b5075c52dcfa63ba9d2b2240f37c4e6abd5dd2b",
    scenario=SCENARIO_STREAMING, fn_max=8, fp_max=8, long_test_words=50,
)
STREAMING_BENCHMARKS: tuple[Benchmark, ...] = (SWW01,)
ALL_BENCHMARKS: tuple[Benchmark, ...] = BENCHMARKS + STREAMING_BENCHMARKS


def get_bench(name: str) -> Benchmark:
    """A benchmark by id (kws01) or short name (kws), case-insensitive."""
    key = name.strip().lower()
    for bench in ALL_BENCHMARKS:
        if key in (bench.id, bench.short):
            return bench
    known = ", ".join(f"{b.short} ({b.id})" for b in ALL_BENCHMARKS)
    raise TinygenError(f"unknown benchmark {show(name)}; known benchmarks: {known}")


def bench_names() -> list[str]:
    return [b.short for b in ALL_BENCHMARKS] + [b.id for b in ALL_BENCHMARKS]
