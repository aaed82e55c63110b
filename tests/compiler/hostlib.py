"""Build generated model sources into a host shared library and run them.

Shared by the compiler tests and benchmarks/host_vs_tflm.py.
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np

from tinygen.codegen import ModelSources
from tinygen.port.flags import host_vector_kernels

# -march=native as in tinygen's host build, so on AVX2 hosts the plan's
# "host" target (firmware/kernels/host/, host_target) is what the tests check.
HOST_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-march=native",
               "-ffp-contract=off", "-fPIC", "-shared"]
ARM_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-mcpu=cortex-m4", "-mthumb",
              "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
BUILD_TIMEOUT_S = 300


def host_target() -> str:
    """The kernel target for gcc with HOST_CFLAGS, as tinygen's host build
    decides it (tinygen/port/flags.py host_vector_kernels)."""
    return "host" if host_vector_kernels("gcc", tuple(HOST_CFLAGS)) else "portable"


def build_shared(src: ModelSources, lib: Path, extra: list[str] | None = None) -> Path:
    cmd = ["gcc", *HOST_CFLAGS, *(extra or []), *[f"-I{d}" for d in src.include_dirs],
           str(src.model_c), *[str(k) for k in src.kernel_sources], "-o", str(lib)]
    subprocess.run(cmd, check=True, timeout=BUILD_TIMEOUT_S, capture_output=True, text=True)
    return lib


class HostModel:
    """A compiled model loaded with ctypes; cflags are added after HOST_CFLAGS
    (benchmarks/host_vs_tflm.py passes the host build's)."""

    def __init__(self, src: ModelSources, lib: Path, cflags: list[str] | None = None):
        self._load(src, build_shared(src, lib, cflags))

    @classmethod
    def prebuilt(cls, src: ModelSources, lib: Path) -> HostModel:
        """The model of a library built already (benchmarks/fuzz_models.py
        links model.c with kernel objects it compiled once)."""
        model = cls.__new__(cls)
        model._load(src, lib)
        return model

    def _load(self, src: ModelSources, lib: Path) -> None:
        self.src = src
        self.lib = ctypes.CDLL(str(lib))
        self.lib.tg_model_input.restype = ctypes.c_void_p
        self.lib.tg_model_output.restype = ctypes.c_void_p
        self.lib.tg_model_init()
        self.in_dtype = np.float32 if src.input_is_float else np.int8
        self.out_dtype = np.float32 if src.output_is_float else np.int8

    def set_input(self, x: np.ndarray) -> None:
        flat = np.ascontiguousarray(x, dtype=self.in_dtype).reshape(-1)
        assert flat.size == self.src.input_elements
        ctypes.memmove(self.lib.tg_model_input(), flat.ctypes.data, flat.nbytes)

    def invoke(self) -> None:
        self.lib.tg_model_invoke()

    def output(self) -> np.ndarray:
        n = self.src.output_elements
        size = n * np.dtype(self.out_dtype).itemsize
        raw = ctypes.string_at(self.lib.tg_model_output(), size)
        return np.frombuffer(raw, dtype=self.out_dtype).copy()

    def run(self, x: np.ndarray) -> np.ndarray:
        self.set_input(x)
        self.invoke()
        return self.output()
