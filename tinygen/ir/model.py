"""The model IR: plain dataclasses, no knowledge of C or of the file format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

# Fused activations, as TFLite names them.
ACT_NONE = "NONE"
ACT_RELU = "RELU"
ACT_RELU_N1_TO_1 = "RELU_N1_TO_1"
ACT_RELU6 = "RELU6"

PAD_SAME = "SAME"
PAD_VALID = "VALID"


@dataclass
class Quantization:
    """Affine quantization: real = scale * (q - zero_point).

    Per-tensor when ``scales`` has one entry, else per-channel along ``axis``.
    """

    scales: np.ndarray       # float32
    zero_points: np.ndarray  # int64
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def scale(self) -> float:
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0])


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str                       # numpy dtype name: int8, int32, float32, ...
    quant: Optional[Quantization] = None
    data: Optional[np.ndarray] = None  # constant tensors only

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.elements * np.dtype(self.dtype).itemsize


@dataclass
class Conv2DOptions:
    padding: str
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    activation: str


@dataclass
class DepthwiseConv2DOptions(Conv2DOptions):
    depth_multiplier: int = 1


@dataclass
class Pool2DOptions:
    padding: str
    stride_h: int
    stride_w: int
    filter_h: int
    filter_w: int
    activation: str


@dataclass
class FullyConnectedOptions:
    activation: str
    keep_num_dims: bool


@dataclass
class AddOptions:
    activation: str


@dataclass
class SoftmaxOptions:
    beta: float


@dataclass
class StridedSliceOptions:
    begin_mask: int
    end_mask: int
    ellipsis_mask: int
    new_axis_mask: int
    shrink_axis_mask: int
    offset: bool = False       # end counts from begin (TFLite schema 2.16+)


@dataclass
class PackOptions:
    axis: int
    values_count: int


@dataclass
class ConcatenationOptions:
    axis: int
    activation: str


@dataclass
class LeakyReluOptions:
    alpha: float


@dataclass
class TransposeConvOptions:
    padding: str
    stride_h: int
    stride_w: int
    activation: str


@dataclass
class ResizeOptions:
    """RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR."""
    align_corners: bool
    half_pixel_centers: bool


@dataclass
class NoOptions:
    pass


OperatorOptions = Union[
    Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions, FullyConnectedOptions,
    AddOptions, SoftmaxOptions, StridedSliceOptions, PackOptions,
    ConcatenationOptions, LeakyReluOptions, TransposeConvOptions, ResizeOptions, NoOptions,
]


@dataclass
class Operator:
    index: int
    kind: str                 # TFLite builtin name, e.g. "CONV_2D"
    inputs: list[int]         # tensor indices, -1 for an omitted optional input
    outputs: list[int]
    options: OperatorOptions = field(default_factory=NoOptions)


@dataclass
class Model:
    name: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    description: str = ""

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    @property
    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]
