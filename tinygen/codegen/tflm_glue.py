"""Stage 3, second backend: the glue that runs a model on TensorFlow Lite Micro.

Where the tinygen backend (``tinygen.codegen``) compiles the model into C,
this one leaves the model as data and generates what TFLM needs around it
(templates/tflm/):

    tflm_model.cc   the .tflite as an aligned C array, an op resolver holding
                    exactly the model's operators, the tensor arena, and
                    tg_model_init / tg_model_input / tg_model_output /
                    tg_model_invoke on TFLM's tensors (extern "C")
    model.h         the same TG_MODEL_* macros and functions the tinygen
                    backend's model.h offers, so submitter_implemented.c
                    (byte conversions, results format) is the same file for
                    both runtimes

The TFLM sources come from the user's tree (``--tflm DIR``), a standalone
tree as TFLM's exporter ``create_tflm_tree.py`` writes it, with reference or
CMSIS-NN kernels. ``load_tree`` checks it and says what it holds;
``library_sources`` picks the sources a model needs (TFLM's core plus the
kernels of its operators), so a build compiles tens of files, not hundreds.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from tinygen.codegen.facts import ModelFacts
from tinygen.errors import TinygenError
from tinygen.ir import load_model
from tinygen.ir.reader import read_tflite
from tinygen.plan import plan_model
from tinygen.render import render

log = logging.getLogger(__name__)

KERNELS_REFERENCE = "reference"
KERNELS_CMSIS_NN = "cmsis-nn"

_MICRO = "tensorflow/lite/micro"
_KERNELS = f"{_MICRO}/kernels"
_CMSIS_NN_KERNELS = f"{_KERNELS}/cmsis_nn"
_CMSIS_NN_SOURCE = "third_party/cmsis_nn/Source"
_MARKERS = (f"{_MICRO}/micro_interpreter.h", f"{_MICRO}/micro_mutable_op_resolver.h",
            "tensorflow/lite/schema/schema_generated.h")

# Includes and defines of a tree, as TFLM's Makefile uses them (TREE_INFO.md of
# the pinned trees lists the same); the release build strips error strings.
_INCLUDES = ("", "third_party/flatbuffers/include", "third_party/gemmlowp",
             "third_party/kissfft", "third_party/ruy")
_CMSIS_NN_INCLUDES = ("third_party/cmsis", "third_party/cmsis/CMSIS/Core/Include",
                      "third_party/cmsis_nn", "third_party/cmsis_nn/Include")
DEFINES = ("TF_LITE_STATIC_MEMORY", "TF_LITE_DISABLE_X86_NEON", "NDEBUG",
           "TF_LITE_STRIP_ERROR_STRINGS")
_CMSIS_NN_DEFINES = ("CMSIS_NN", "ARM_NN_ENABLE_F16=0", "ARM_NN_ENABLE_F32=0")

# Core sources a firmware never links: test and recording helpers.
_NOT_LINKED_PREFIXES = ("test_", "mock_", "fake_", "recording_")


@dataclass(frozen=True)
class TflmOperator:
    """How TFLM provides one builtin operator."""

    builtin: str                 # the .tflite name, e.g. CONV_2D
    method: str                  # MicroMutableOpResolver method, e.g. AddConv2D
    stems: tuple[str, ...]       # kernel sources (first one required), without .cc


def _op(builtin: str, method: str, stem: str, *extra: str) -> tuple[str, TflmOperator]:
    return builtin, TflmOperator(builtin, method, (stem, f"{stem}_common", *extra))


# The operators tinygen knows TFLM's sources for; the tree must hold the
# first stem (in kernels/ or, for CMSIS-NN trees, kernels/cmsis_nn/).
OPERATORS: dict[str, TflmOperator] = dict([
    _op("CONV_2D", "AddConv2D", "conv"),
    _op("DEPTHWISE_CONV_2D", "AddDepthwiseConv2D", "depthwise_conv"),
    _op("FULLY_CONNECTED", "AddFullyConnected", "fully_connected"),
    _op("AVERAGE_POOL_2D", "AddAveragePool2D", "pooling"),
    _op("MAX_POOL_2D", "AddMaxPool2D", "pooling"),
    _op("SOFTMAX", "AddSoftmax", "softmax"),
    _op("RESHAPE", "AddReshape", "reshape"),
    _op("ADD", "AddAdd", "add"),
    _op("MUL", "AddMul", "mul"),
    _op("QUANTIZE", "AddQuantize", "quantize"),
    _op("DEQUANTIZE", "AddDequantize", "dequantize"),
    _op("MEAN", "AddMean", "reduce"),
    _op("RELU", "AddRelu", "activations"),
    _op("RELU6", "AddRelu6", "activations"),
    _op("LOGISTIC", "AddLogistic", "logistic"),
    _op("TANH", "AddTanh", "tanh"),
    _op("HARD_SWISH", "AddHardSwish", "hard_swish"),
    _op("LEAKY_RELU", "AddLeakyRelu", "leaky_relu"),
    _op("SUB", "AddSub", "sub"),
    _op("REDUCE_MAX", "AddReduceMax", "reduce"),
    _op("PAD", "AddPad", "pad"),
    _op("CONCATENATION", "AddConcatenation", "concatenation"),
    _op("STRIDED_SLICE", "AddStridedSlice", "strided_slice"),
    _op("SHAPE", "AddShape", "shape"),
    _op("PACK", "AddPack", "pack"),
    _op("TRANSPOSE_CONV", "AddTransposeConv", "transpose_conv"),
    _op("RESIZE_BILINEAR", "AddResizeBilinear", "resize_bilinear"),
    _op("RESIZE_NEAREST_NEIGHBOR", "AddResizeNearestNeighbor", "resize_nearest_neighbor"),
])


@dataclass(frozen=True)
class TflmTree:
    """A TFLM source tree as create_tflm_tree.py exports it."""

    root: Path
    kernels: str                         # KERNELS_REFERENCE or KERNELS_CMSIS_NN
    sources: tuple[str, ...]             # every compilable source, relative to root

    @property
    def is_cmsis_nn(self) -> bool:
        return self.kernels == KERNELS_CMSIS_NN

    def include_dirs(self) -> list[Path]:
        rels = _INCLUDES + (_CMSIS_NN_INCLUDES if self.is_cmsis_nn else ())
        return [self.root / r if r else self.root for r in rels]

    def defines(self) -> list[str]:
        return list(DEFINES) + (list(_CMSIS_NN_DEFINES) if self.is_cmsis_nn else [])

    def fingerprint(self) -> str:
        """Identifies the tree's content cheaply (source names, sizes, times), not its
        location: the same tree unpacked elsewhere shares its compiled library."""
        h = hashlib.sha256(self.kernels.encode())
        for rel in self.sources:
            st = (self.root / rel).stat()
            h.update(f"{rel}:{st.st_size}:{int(st.st_mtime)}\n".encode())
        return h.hexdigest()[:16]


def _listed_sources(root: Path) -> list[str] | None:
    """TFLM_SOURCES.txt, when the tree ships one (the pinned trees do)."""
    listing = root / "TFLM_SOURCES.txt"
    if not listing.is_file():
        return None
    return [line.strip() for line in listing.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def _scanned_sources(root: Path) -> list[str]:
    """Every .cc and CMSIS-NN .c file; kissfft's .c files are #included, not compiled."""
    found = [p.relative_to(root).as_posix() for p in root.rglob("*.cc")]
    cmsis = root / _CMSIS_NN_SOURCE
    if cmsis.is_dir():
        found += [p.relative_to(root).as_posix() for p in cmsis.rglob("*.c")]
    return sorted(s for s in found if not s.endswith("_test.cc") and "/examples/" not in s)


def load_tree(path: Path | str | None) -> TflmTree:
    """Check that path is an exported TFLM tree and describe it."""
    if path is None:
        raise TinygenError("--runtime tflm needs --tflm DIR: a TFLM source tree exported by "
                           "TFLM's create_tflm_tree.py (reference or CMSIS-NN kernels)")
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise TinygenError(f"TFLM tree {root} does not exist; pass --tflm DIR pointing at a tree "
                           "exported by tensorflow/lite/micro/tools/project_generation/"
                           "create_tflm_tree.py")
    missing = [m for m in _MARKERS if not (root / m).is_file()]
    if missing:
        raise TinygenError(f"{root} is not a TFLM tree (no {missing[0]}); pass --tflm DIR of the "
                           "folder create_tflm_tree.py wrote (it holds tensorflow/ and third_party/)")
    sources = _listed_sources(root) or _scanned_sources(root)
    absent = [s for s in sources if not (root / s).is_file()]
    if absent:
        raise TinygenError(f"{root}/TFLM_SOURCES.txt lists {absent[0]}, which the tree lacks; "
                           "re-export the tree")
    cmsis = any(s.startswith(_CMSIS_NN_KERNELS + "/") for s in sources)
    return TflmTree(root=root, kernels=KERNELS_CMSIS_NN if cmsis else KERNELS_REFERENCE,
                    sources=tuple(sources))


def model_operators(model_path: Path) -> list[str]:
    """The model's builtin operators, in order of first use."""
    seen: list[str] = []
    for op in read_tflite(Path(model_path)).operators:
        if op.kind not in seen:
            seen.append(op.kind)
    return seen


def resolve_operators(tree: TflmTree, builtins: list[str]) -> list[TflmOperator]:
    """The TFLM operators for a model; errors name the operator the tree lacks."""
    resolver_h = (tree.root / _MICRO / "micro_mutable_op_resolver.h").read_text()
    available = set(tree.sources)
    ops = []
    for name in builtins:
        op = OPERATORS.get(name)
        if op is None:
            raise TinygenError(
                f"operator {name} has no TFLM kernel known to tinygen's TFLM backend "
                f"(it knows {', '.join(sorted(OPERATORS))}); convert the model without it "
                "or use --runtime tinygen")
        main = op.stems[0]
        candidates = [f"{_CMSIS_NN_KERNELS}/{main}.cc", f"{_KERNELS}/{main}.cc"]
        if not any(c in available for c in candidates) or f" {op.method}(" not in resolver_h:
            raise TinygenError(
                f"the TFLM tree {tree.root} lacks operator {name} ({_KERNELS}/{main}.cc or "
                f"MicroMutableOpResolver::{op.method}); export a tree from a TFLM version "
                "that has it")
        ops.append(op)
    return ops


def library_sources(tree: TflmTree, ops: list[TflmOperator]) -> list[str]:
    """The tree's sources a firmware running these operators links."""
    chosen = []
    for rel in tree.sources:
        name = rel.rsplit("/", 1)[-1]
        if rel.startswith("signal/") or rel.startswith("third_party/"):
            continue
        if rel.startswith(_KERNELS + "/"):
            continue
        if name.startswith(_NOT_LINKED_PREFIXES):
            continue
        chosen.append(rel)
    available = set(tree.sources)
    wanted = ["kernel_util"] + [s for op in ops for s in op.stems]
    for stem in dict.fromkeys(wanted):
        cmsis, ref = f"{_CMSIS_NN_KERNELS}/{stem}.cc", f"{_KERNELS}/{stem}.cc"
        if cmsis in available:
            chosen.append(cmsis)
        elif ref in available:
            chosen.append(ref)
    if tree.is_cmsis_nn:
        chosen += [s for s in tree.sources if s.startswith(_CMSIS_NN_SOURCE + "/")]
    return chosen


@dataclass
class TflmSources:
    model_cc: Path
    model_h: Path
    tree: TflmTree
    operators: list[TflmOperator]
    library_sources: list[str]
    arena_bytes: int
    model_bytes: int
    macs: int
    input_elements: int
    output_elements: int
    input_is_float: bool
    output_is_float: bool
    kernel_sources: tuple = ()       # tinygen kernels: none, TFLM brings its own
    persistent_bytes: int = 0        # > 0: split layout (see generate_tflm_sources)
    facts: ModelFacts | None = None  # what model.h states


def _io_description(tensor) -> dict:
    is_float = tensor.dtype == "float32"
    if not is_float and tensor.dtype != "int8":
        raise TinygenError(f"model tensor '{tensor.name}' is {tensor.dtype}; the TFLM glue handles "
                           "int8 or float32 model inputs and outputs; convert with int8 I/O")
    quant = tensor.quant
    return {"elements": tensor.elements, "is_float": int(is_float),
            "scale": quant.scale if quant is not None and not is_float else 1.0,
            "zero_point": quant.zero_point if quant is not None and not is_float else 0}


def _model_macs(model_path: Path) -> int:
    """MACs as tinygen's planner counts them (0 when tinygen cannot plan the model)."""
    try:
        return plan_model(load_model(model_path)).macs
    except TinygenError:
        return 0


def _byte_rows(data: bytes, per_line: int = 20) -> str:
    rows = (", ".join(f"0x{b:02x}" for b in data[i:i + per_line])
            for i in range(0, len(data), per_line))
    return ",\n".join("    " + r for r in rows)


def generate_tflm_sources(model_path: Path | str, out_dir: Path | str, tree: TflmTree,
                          arena_bytes: int, *, bare_metal: bool,
                          probe: bool = False, persistent_bytes: int = 0) -> TflmSources:
    """Write tflm_model.cc and model.h for the model into out_dir.

    ``bare_metal`` adds the C++ support a firmware without libstdc++'s heap
    needs. ``probe`` also writes tflm_probe.cc, the arena measurement (see
    tinygen.port.tflm): a main that sets up the interpreter, prints
    ``tflm-arena-used <bytes>`` and stops. ``persistent_bytes`` > 0 makes
    the split layout: TFLM's persistent data in an array of that size,
    ``arena_bytes`` for the planned tensors only, the graph's inputs kept
    live through the inference.
    """
    model_path = Path(model_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = read_tflite(model_path)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise TinygenError(f"{model_path.name} has {len(model.inputs)} inputs and "
                           f"{len(model.outputs)} outputs; the benchmark API feeds one input "
                           "and reports one output")
    ops = resolve_operators(tree, model_operators(model_path))
    data = model_path.read_bytes()
    inp = _io_description(model.input_tensors[0])
    out = _io_description(model.output_tensors[0])
    macs = _model_macs(model_path)
    ctx = dict(model_name=model_path.stem, model_sha256=hashlib.sha256(data).hexdigest(),
               model_bytes=len(data), model_rows=_byte_rows(data), operators=ops,
               arena_bytes=arena_bytes, tree=tree, input=inp, output=out, macs=macs,
               probe=probe, bare_metal=bare_metal, split=persistent_bytes > 0,
               persistent_bytes=persistent_bytes)
    model_cc, model_h = out_dir / "tflm_model.cc", out_dir / "model.h"
    model_h.write_text(render("tflm/model.h.j2", **ctx))
    model_cc.write_text(render("tflm/tflm_model.cc.j2", **ctx))
    if probe:
        (out_dir / "tflm_probe.cc").write_text(render("tflm/tflm_probe.cc.j2", **ctx))
    log.debug("wrote %s (%d operator kinds, arena %d bytes)", model_cc, len(ops), arena_bytes)
    return TflmSources(
        model_cc=model_cc, model_h=model_h, tree=tree, operators=ops,
        library_sources=library_sources(tree, ops), arena_bytes=arena_bytes,
        persistent_bytes=persistent_bytes, model_bytes=len(data), macs=macs,
        input_elements=inp["elements"],
        output_elements=out["elements"], input_is_float=bool(inp["is_float"]),
        output_is_float=bool(out["is_float"]),
        facts=ModelFacts(
            input_elements=inp["elements"], input_is_float=bool(inp["is_float"]),
            input_scale=inp["scale"], input_zero_point=inp["zero_point"],
            output_elements=out["elements"], output_is_float=bool(out["is_float"]),
            output_scale=out["scale"], output_zero_point=out["zero_point"],
            arena_bytes=arena_bytes, macs=macs, ops=0,
            extra_before=(("RUNTIME_TFLM", "1"),),
            extra_after=(("FLATBUFFER_BYTES", str(len(data))),)))
