#!/usr/bin/env python3
"""Fuzz the model front end (reader, validator, planner, C generation) with mutated models.

Every mutant starts from a committed model (models/*.tflite) and gets one
to three mutations: structure-aware edits through the flatbuffer object API
(tensor shapes, types, scales, zero points, quantized dimensions, buffer
indices, operator codes, options and their fields, operator inputs and
outputs, operators removed, duplicated or swapped, graph inputs and
outputs, tensor names) or byte-level ones (flips, truncation). Each mutant
goes through what `tinygen inspect` and `tinygen build` do before the C
compiler: load_model, plan_model and the C sources' context. The outcome is
one of

  refused     a TinygenError with a one-line message (the wanted answer)
  accepted    planned and ready for C
  traceback   any other exception: a bug, listed by exception and place
  bad-message a refusal spanning lines or longer than 500 characters
  c-overflow  accepted, but a constant of its C does not fit its C type
              (a parameter beyond int32, a float that is no float32)
  hang        over --timeout seconds
  signal      the worker process died

A sample of the accepted mutants (--build-every N: every Nth accepted one)
is also compiled for the host (gcc, the kernels' host paths) and compared
with the TFLM oracle on random inputs: bit-exact, mismatch, tflm-refused
(TFLM's Prepare rejects a model tinygen accepted), or a crash of the
generated C ("host-signal") or of TFLM ("tflm-signal").

Mutant i of seed s is the same on every run (reproduce one with --only i);
a finding prints its index and the mutations made.

usage:
  .venv/bin/python benchmarks/fuzz_models.py --mutants 100000 --workers 2
  .venv/bin/python benchmarks/fuzz_models.py --mutants 300 --seed 1       # the CI smoke
  .venv/bin/python benchmarks/fuzz_models.py --only 1234 --seed 1 --save /tmp/m.tflite
"""

from __future__ import annotations

import argparse
import collections
import copy
import functools
import math
import multiprocessing
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "models"
# Small models are quicker to plan; every seed still gets a share.
SEED_WEIGHTS = {"kws01": 4, "ad01": 3, "ic01": 3, "vww01": 1, "ic02": 1}
MAX_MESSAGE = 500
FINDINGS = ("traceback", "bad-message", "hang", "signal", "c-overflow", "mismatch",
            "host-signal", "cc-failed")


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    return schema_py_generated


# ---- mutations -------------------------------------------------------------

_INTS = (0, 1, -1, 2, 3, -2, 7, 255, 256, 65536, (1 << 31) - 1, -(1 << 31))
_FLOATS = (0.0, -1.0, math.nan, math.inf, -math.inf, 1e30, 1e-30, 1e-45, 1.0, 1 / 256, 3e38)


def _pick_int(rng: random.Random, old: int | None = None) -> int:
    r = rng.random()
    if r < 0.4:
        return rng.choice(_INTS)
    if r < 0.7 and old is not None:
        return int(np.clip(old + rng.choice((-2, -1, 1, 2)), -(1 << 31), (1 << 31) - 1))
    return rng.randint(-300, 300)


# A mutant shares the seed model's objects until a mutation changes one:
# each mutation first takes its own copy of what it edits (_own), so the
# seed stays as it was and an object no mutation touched packs as its
# cached bytes (see _freeze).

def _own(items: list, i: int):
    """Item i of one of the mutant's lists, replaced by a copy of it."""
    obj = copy.copy(items[i])
    obj.__dict__.pop("Pack", None)      # packs itself again, as edited
    items[i] = obj
    return obj


def _tensor(m, rng):
    tensors = m.subgraphs[0].tensors
    i = rng.randrange(len(tensors))
    return i, _own(tensors, i)


def mut_shape(m, rng):
    i, t = _tensor(m, rng)
    shape = [int(d) for d in (t.shape if t.shape is not None else [])]
    r = rng.random()
    if r < 0.2 and shape:
        shape.pop(rng.randrange(len(shape)))
    elif r < 0.35:
        shape.insert(rng.randint(0, len(shape)), rng.choice((1, 2, 0)))
    elif shape:
        k = rng.randrange(len(shape))
        shape[k] = _pick_int(rng, shape[k])
    t.shape = np.array(shape, dtype=np.int32)
    return f"tensor {i} shape -> {shape}"


def mut_type(m, rng):
    i, t = _tensor(m, rng)
    t.type = rng.choice((0, 1, 2, 3, 4, 6, 7, 9, 10, 16, 17, 99, 127))
    return f"tensor {i} type -> {t.type}"


def _quant(m, rng):
    tensors = [(i, t) for i, t in enumerate(m.subgraphs[0].tensors)
               if t.quantization is not None and t.quantization.scale is not None]
    if not tensors:
        return None, None
    i, _ = rng.choice(tensors)
    t = _own(m.subgraphs[0].tensors, i)
    t.quantization = copy.copy(t.quantization)
    return i, t


def mut_scale(m, rng):
    i, t = _quant(m, rng)
    if t is None:
        return "no quantized tensor"
    q = t.quantization
    scales = np.array(q.scale, dtype=np.float32)
    r = rng.random()
    if r < 0.15 and len(scales) > 1:
        scales = scales[:-1]
    elif r < 0.25:
        scales = np.append(scales, scales[:1])
    else:
        k = rng.randrange(len(scales))
        new = rng.choice(_FLOATS) if rng.random() < 0.6 else float(scales[k]) * rng.choice(
            (1e-6, 1e-3, 0.5, 2.0, 1e3, 1e6, -1.0))
        with np.errstate(over="ignore"):
            scales[k] = np.float32(new)
    q.scale = scales
    return f"tensor {i} scales -> {scales[:4].tolist()}"


def mut_zero_point(m, rng):
    i, t = _quant(m, rng)
    if t is None or t.quantization.zeroPoint is None:
        return "no zero points"
    zps = np.array(t.quantization.zeroPoint, dtype=np.int64)
    r = rng.random()
    if r < 0.1 and len(zps) > 0:
        zps = zps[:-1]
    elif len(zps):
        k = rng.randrange(len(zps))
        zps[k] = rng.choice((-1000, 128, -129, 127, -128, 1 << 40, -(1 << 40), 1, -1,
                             rng.randint(-200, 200)))
    t.quantization.zeroPoint = zps
    return f"tensor {i} zero points -> {zps[:4].tolist()}"


def mut_quant_axis(m, rng):
    i, t = _quant(m, rng)
    if t is None:
        return "no quantized tensor"
    t.quantization.quantizedDimension = rng.choice((0, 1, 2, 3, 4, -1, 99))
    return f"tensor {i} quantized dimension -> {t.quantization.quantizedDimension}"


def mut_quant_drop(m, rng):
    i, t = _quant(m, rng)
    if t is None:
        return "no quantized tensor"
    t.quantization = None
    return f"tensor {i} quantization removed"


def mut_buffer(m, rng):
    i, t = _tensor(m, rng)
    n = len(m.buffers)
    t.buffer = rng.choice((0, n, n + 1, n + 1000, rng.randrange(n), (1 << 31) - 1))
    return f"tensor {i} buffer -> {t.buffer}"


def mut_buffer_data(m, rng):
    bufs = [(i, b) for i, b in enumerate(m.buffers) if b.data is not None and len(b.data)]
    if not bufs:
        return "no data"
    i, b = rng.choice(bufs)
    b = _own(m.buffers, i)
    data = np.array(b.data, dtype=np.uint8)
    r = rng.random()
    if r < 0.4:
        data = data[:rng.randrange(len(data))]
    elif r < 0.6:
        data = np.concatenate([data, data[:rng.randint(1, 8)]])
    else:
        k = rng.randrange(len(data))
        data[k] = rng.randrange(256)
        if rng.random() < 0.5:           # extreme int32 biases
            data[k:k + 4] = [0xFF, 0xFF, 0xFF, 0x7F][:len(data[k:k + 4])]
    b.data = data
    return f"buffer {i} data -> {len(data)} bytes"


def _op(m, rng):
    ops = m.subgraphs[0].operators
    i = rng.randrange(len(ops))
    return i, _own(ops, i)


def mut_opcode(m, rng):
    i, op = _op(m, rng)
    if rng.random() < 0.5:
        op.opcodeIndex = rng.choice((len(m.operatorCodes), len(m.operatorCodes) + 5, -1,
                                     rng.randrange(len(m.operatorCodes))))
        return f"operator {i} opcode index -> {op.opcodeIndex}"
    code = _own(m.operatorCodes,
                op.opcodeIndex if 0 <= op.opcodeIndex < len(m.operatorCodes) else 0)
    code.builtinCode = code.deprecatedBuiltinCode = rng.choice(
        (0, 1, 2, 3, 4, 9, 17, 18, 19, 21, 22, 25, 32, 34, 40, 49, 60, 77, 83, 114, 127, 150, 200))
    return f"operator {i} code -> {code.builtinCode}"


def _options_classes(s):
    return {s.BuiltinOptions.Conv2DOptions: s.Conv2DOptionsT,
            s.BuiltinOptions.DepthwiseConv2DOptions: s.DepthwiseConv2DOptionsT,
            s.BuiltinOptions.Pool2DOptions: s.Pool2DOptionsT,
            s.BuiltinOptions.FullyConnectedOptions: s.FullyConnectedOptionsT,
            s.BuiltinOptions.SoftmaxOptions: s.SoftmaxOptionsT,
            s.BuiltinOptions.AddOptions: s.AddOptionsT,
            s.BuiltinOptions.ReshapeOptions: s.ReshapeOptionsT,
            s.BuiltinOptions.ConcatenationOptions: s.ConcatenationOptionsT}


def mut_options(m, rng):
    s = _schema()
    i, op = _op(m, rng)
    r = rng.random()
    if r < 0.15 or op.builtinOptions is None:
        op.builtinOptions, op.builtinOptionsType = None, 0
        return f"operator {i} options removed"
    if r < 0.3:
        kind, cls = rng.choice(sorted(_options_classes(s).items(), key=lambda kv: kv[0]))
        op.builtinOptionsType, op.builtinOptions = kind, cls()
        return f"operator {i} options -> {cls.__name__}"
    op.builtinOptions = copy.copy(op.builtinOptions)
    fields = sorted(vars(op.builtinOptions))
    if not fields:
        return f"operator {i} options have no fields"
    name = rng.choice(fields)
    old = getattr(op.builtinOptions, name)
    if isinstance(old, float):
        new = rng.choice(_FLOATS)
    elif isinstance(old, bool):
        new = not old
    else:
        new = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, -1, 100, 4096, 70000, (1 << 31) - 1)) \
            if "Type" not in name else rng.randrange(4)
        if name in ("padding", "fusedActivationFunction", "weightsFormat"):
            new = rng.randrange(8)
    setattr(op.builtinOptions, name, new)
    return f"operator {i} option {name} -> {new}"


def mut_operands(m, rng):
    i, op = _op(m, rng)
    n = len(m.subgraphs[0].tensors)
    side = "inputs" if rng.random() < 0.6 else "outputs"
    values = [int(v) for v in getattr(op, side)]
    r = rng.random()
    if r < 0.2 and values:
        values.pop(rng.randrange(len(values)))
    elif r < 0.35:
        values.append(rng.randrange(n))
    elif values:
        k = rng.randrange(len(values))
        values[k] = rng.choice((-1, -2, -n, n, n + 3, rng.randrange(n), values[k] + 1))
    setattr(op, side, np.array(values, dtype=np.int32))
    return f"operator {i} {side} -> {values}"


def mut_operators(m, rng):
    ops = m.subgraphs[0].operators
    r = rng.random()
    i = rng.randrange(len(ops))
    if r < 0.4 and len(ops) > 1:
        ops.pop(i)
        return f"operator {i} removed"
    if r < 0.7 and len(ops) > 1:
        j = rng.randrange(len(ops))
        ops[i], ops[j] = ops[j], ops[i]
        return f"operators {i} and {j} swapped"
    ops.insert(rng.randrange(len(ops) + 1), copy.deepcopy(ops[i]))
    return f"operator {i} duplicated"


def mut_graph_io(m, rng):
    sg = m.subgraphs[0]
    n = len(sg.tensors)
    side = rng.choice(("inputs", "outputs"))
    values = [int(v) for v in getattr(sg, side)]
    r = rng.random()
    if r < 0.2:
        values = []
    elif r < 0.4:
        values.append(rng.randrange(n))
    else:
        values = [rng.choice((rng.randrange(n), n, -1, values[0] if values else 0))]
    setattr(sg, side, np.array(values, dtype=np.int32))
    return f"graph {side} -> {values}"


def mut_name(m, rng):
    i, t = _tensor(m, rng)
    t.name = rng.choice((b"a\nb\rc\x1b[31mred", b"\xff\xfe\x00bad", b"x" * 5000, b"",
                         "n\u202ee\u0000".encode()))
    return f"tensor {i} name -> {len(t.name)} bytes"


STRUCTURE = (mut_shape, mut_type, mut_scale, mut_scale, mut_zero_point, mut_quant_axis,
             mut_quant_drop, mut_buffer, mut_buffer_data, mut_opcode, mut_options, mut_options,
             mut_operands, mut_operands, mut_operators, mut_graph_io, mut_name)


def _pack(model, size: int = 1 << 16) -> bytes:
    import flatbuffers
    builder = flatbuffers.Builder(size)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _put(blob: bytes, at: int, builder) -> int:
    """Pack, for an object of the seed model no mutation changed: its bytes,
    packed once, copied in. Flatbuffer offsets are relative and alignment is
    counted from the buffer's end, so the bytes can go anywhere the builder
    is 8-aligned; `at` is the table's offset from the end of `blob`."""
    builder.Prep(8, len(blob))
    builder.head -= len(blob)
    builder.Bytes[builder.head:builder.head + len(blob)] = blob
    return builder.Offset() - len(blob) + at


def _freeze(obj) -> None:
    """Cache an object's packed bytes: its Pack copies them from then on
    (_own drops that for a copy about to be edited)."""
    import flatbuffers
    builder = flatbuffers.Builder(1024)
    at = obj.Pack(builder)
    builder.Prep(8, 0)               # the blob's length is a multiple of 8
    obj.Pack = functools.partial(_put, bytes(builder.Bytes[builder.Head():]), at)


def _fresh(model):
    """A mutant of `model`: its own lists, the seed's objects in them."""
    m = copy.copy(model)
    m.operatorCodes, m.buffers = list(model.operatorCodes), list(model.buffers)
    m.subgraphs = [copy.copy(sg) for sg in model.subgraphs]
    for sg in m.subgraphs:
        sg.tensors, sg.operators = list(sg.tensors), list(sg.operators)
    return m


class Mutator:
    """Deterministic mutants: mutant(seed, index) is the same on every run."""

    def __init__(self, seeds: Path = SEEDS):
        self.seeds = {p.stem: p.read_bytes() for p in sorted(Path(seeds).glob("*.tflite"))}
        self.names = sorted(self.seeds)
        self.weights = [SEED_WEIGHTS.get(n, 1) for n in self.names]
        self._models: dict = {}

    def _unpacked(self, name: str):
        """The seed model in the flatbuffer object API, unpacked once, its
        tensors, buffers, operators and operator codes packed once."""
        if name not in self._models:
            model = _schema().ModelT.InitFromPackedBuf(self.seeds[name], 0)
            for obj in (*model.operatorCodes, *model.buffers,
                        *(x for sg in model.subgraphs for x in (*sg.tensors, *sg.operators))):
                _freeze(obj)
            self._models[name] = model
        return self._models[name]

    def mutant(self, seed: int, index: int) -> tuple[bytes, str, list[str]]:
        """(model bytes, seed model, mutations made)."""
        rng = random.Random(f"{seed}:{index}")
        name = rng.choices(self.names, self.weights)[0]
        raw = self.seeds[name]
        if rng.random() < 0.15:
            data = bytearray(raw)
            if rng.random() < 0.3:
                cut = rng.randrange(len(data))
                return bytes(data[:cut]), name, [f"truncated at {cut}"]
            done = []
            for _ in range(rng.randint(1, 16)):
                k = rng.randrange(len(data))
                data[k] = rng.randrange(256) if rng.random() < 0.5 else data[k] ^ (1 << rng.randrange(8))
                done.append(f"byte {k}")
            return bytes(data), name, ["flipped " + ", ".join(done)]
        model = _fresh(self._unpacked(name))
        done = [rng.choice(STRUCTURE)(model, rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        try:
            return _pack(model, len(raw) + 4096), name, done
        except Exception as exc:   # a value the flatbuffer cannot hold: the file stays as it was
            return raw, name, done + [f"(not packable: {type(exc).__name__}; seed model kept)"]


# ---- evaluation ------------------------------------------------------------

class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in
    tinygen (the reader turns flatbuffer errors into refusals) swallows it."""


def _on_alarm(signum, frame):
    raise Hang()


def _where(exc: BaseException) -> str:
    """Innermost frame in tinygen of a traceback (file:line), else the innermost."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/tinygen/" in f.filename]
    f = (ours or frames or [None])[-1]
    if f is None:
        return "?"
    return f"{Path(f.filename).relative_to(ROOT) if str(f.filename).startswith(str(ROOT)) else f.filename}:{f.lineno}"


def front_end(path: Path):
    """What inspect and build do before the C compiler. Returns the plan."""
    from tinygen.codegen import c_constant_problem, render_context
    from tinygen.ir import load_model
    from tinygen.plan import plan_model

    plan = plan_model(load_model(path))
    # write_sources refuses these in one line; reaching it is still a
    # finding: the validator or planner should have refused the model.
    overflow = c_constant_problem(render_context(plan))
    if overflow:
        raise COverflow(overflow)
    return plan


class COverflow(Exception):
    """A value the generated C would hold in a type too small for it (the
    C compiler fails on it, -Werror=overflow, or it wraps)."""


def classify(path: Path, timeout: float) -> tuple[str, str]:
    """(outcome, detail) of the front end on one file."""
    from tinygen.errors import TinygenError

    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        front_end(path)
        return "accepted", ""
    except TinygenError as exc:
        text = str(exc)
        if "\n" in text or "\r" in text or len(text) > MAX_MESSAGE:
            return "bad-message", text[:200].encode("unicode_escape").decode()
        return "refused", text
    except Hang:
        return "hang", ""
    except COverflow as exc:
        return "c-overflow", str(exc)
    except RecursionError as exc:
        return "traceback", f"RecursionError at {_where(exc)}"
    except Exception as exc:
        return "traceback", f"{type(exc).__name__} at {_where(exc)}: {str(exc)[:120]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def build_and_compare(path: Path, work: Path, inputs: int, stage) -> tuple[str, str]:
    """Host build of an accepted model against the TFLM oracle."""
    import subprocess

    sys.path.insert(0, str(ROOT / "tests" / "compiler"))
    from hostlib import HostModel
    from tflite_micro.python.tflite_micro import runtime
    from tinygen.codegen import generate_model_sources

    stage("generate")
    src = generate_model_sources(path, work)
    stage("cc")
    try:
        host = HostModel(src, work / "libmodel.so")
    except subprocess.CalledProcessError as exc:
        return "cc-failed", (exc.stderr or "")[-300:]
    stage("tflm")
    try:
        oracle = runtime.Interpreter.from_file(str(path))
    except Exception as exc:     # TFLM's Prepare refuses it
        return "tflm-refused", str(exc)[:200]
    detail = oracle.get_input_details(0)
    rng = np.random.default_rng(0)
    for i in range(inputs):
        if detail["dtype"] == np.float32:
            x = rng.uniform(-2, 2, size=detail["shape"]).astype(np.float32)
        else:
            x = rng.integers(-128, 128, size=detail["shape"], dtype=np.int8)
        stage("tflm")
        try:
            oracle.set_input(x, 0)
            oracle.invoke()
        except Exception as exc:
            return "tflm-refused", str(exc)[:200]
        want = np.asarray(oracle.get_output(0)).reshape(-1)
        stage("host")
        got = host.run(x)
        if got.dtype != want.dtype or not np.array_equal(got, want):
            return "mismatch", f"input {i}: {int(np.sum(got != want)) if got.shape == want.shape else 'shape'} outputs differ"
    return "bit-exact", ""


def _scratch() -> Path:
    """A worker's folder: in memory where there is /dev/shm (each mutant is
    written and read back once; a disk under load made that a fifth of the
    time per mutant)."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="fuzz-models-",
                                 dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))


def _worker(conn, seeds: Path, seed: int, timeout: float, inputs: int, work: Path) -> None:
    import logging
    logging.disable(logging.CRITICAL)
    mutator = Mutator(seeds)
    path = work / "mutant.tflite"
    while True:
        job = conn.recv()
        if job is None:
            return
        index, build = job
        data, name, done = mutator.mutant(seed, index)
        path.write_bytes(data)
        outcome, detail = classify(path, timeout)
        # One message per mutant unless a build follows (then "done" ends it).
        building = build and outcome == "accepted"
        conn.send(("front", outcome, detail, name, done, building))
        if building:
            try:
                result = build_and_compare(path, work / f"b{index}", inputs,
                                           lambda s: conn.send(("stage", s)))
            except Exception as exc:
                result = ("traceback", f"build: {type(exc).__name__} at {_where(exc)}: {str(exc)[:120]}")
            finally:        # a long campaign would fill the disk with builds
                shutil.rmtree(work / f"b{index}", ignore_errors=True)
            conn.send(("build",) + result)
            conn.send(("done",))


@dataclass
class Campaign:
    mutants: int = 0
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    builds: collections.Counter = field(default_factory=collections.Counter)
    places: collections.Counter = field(default_factory=collections.Counter)
    examples: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not any(self.outcomes[k] for k in FINDINGS) and not any(
            self.builds[k] for k in FINDINGS)

    def note(self, kind: str, where: str, index: int, name: str, done) -> None:
        key = f"{kind}: {where}"
        self.places[key] += 1
        self.examples.setdefault(key, (index, name, done))


def run_campaign(mutants: int, seed: int = 1, workers: int = 1, first: int = 0,
                 timeout: float = 20.0, build_every: int = 0, inputs: int = 3,
                 seeds: Path = SEEDS, progress: float = 0.0, seconds: float = 0.0) -> Campaign:
    """Mutants first .. first + mutants - 1; stops early after `seconds` (0: no
    limit) or on Ctrl-C, with the counts so far."""
    ctx = multiprocessing.get_context("fork")
    camp = Campaign()
    start = time.monotonic()
    todo = iter(range(first, first + mutants))
    slots: list = [None] * workers   # (process, conn, index, build, stage, started, info)
    folders: list = [None] * workers  # each worker's; removed here, even if it was killed

    def spawn(k: int):
        if folders[k] is not None:
            shutil.rmtree(folders[k], ignore_errors=True)
        folders[k] = _scratch()
        a, b = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(b, seeds, seed, timeout, inputs, folders[k]),
                        daemon=True)
        p.start()
        b.close()
        slots[k] = [p, a, None, False, "", 0.0, None]

    def give(k: int) -> bool:
        if seconds and time.monotonic() - start > seconds:
            return False
        index = next(todo, None)
        if index is None:
            return False
        slot = slots[k]
        slot[2], slot[4], slot[5], slot[6] = index, "front end", time.monotonic(), None
        # Built if accepted: every build_every-th accepted mutant, roughly.
        slot[3] = bool(build_every) and camp.outcomes["accepted"] % build_every == 0
        slot[1].send((index, slot[3]))
        return True

    for k in range(workers):
        spawn(k)
    busy = [give(k) for k in range(workers)]
    try:
        _loop(camp, slots, busy, give, spawn, timeout, workers, progress, start)
    except KeyboardInterrupt:
        print("interrupted: the counts so far", flush=True)
    for p, conn, *_ in slots:
        try:
            conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        p.join(5)
        if p.is_alive():
            p.kill()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    camp.seconds = time.monotonic() - start
    return camp


def _loop(camp, slots, busy, give, spawn, timeout, workers, progress, start) -> None:
    last_print = start
    while any(busy):
        # Wake on the first message of any worker (a poll per worker in turn
        # left a finished worker idle while another one was polled).
        ready = set(wait([slots[k][1] for k in range(workers) if busy[k]], 0.25))
        for k in range(workers):
            if not busy[k]:
                continue
            p, conn, index, _, stage, started, info = slots[k]
            hard = timeout * 3 + (0 if stage == "front end" else 600)
            msg = None
            if conn in ready:
                try:
                    msg = conn.recv()
                except EOFError:
                    msg = None
            if msg is not None:
                if msg[0] == "stage":
                    slots[k][4] = msg[1]
                elif msg[0] == "front":
                    _, outcome, detail, name, done, building = msg
                    slots[k][6] = (name, done)
                    camp.mutants += 1
                    camp.outcomes[outcome] += 1
                    if outcome in FINDINGS:
                        camp.note(outcome, detail, index, name, done)
                    if building:
                        slots[k][4] = "build"
                    else:
                        busy[k] = give(k)
                elif msg[0] == "build":
                    camp.builds[msg[1]] += 1
                    if msg[1] in FINDINGS or msg[1] == "tflm-refused":
                        name, done = slots[k][6]
                        camp.note(f"build {msg[1]}", msg[2][:160], index, name, done)
                elif msg[0] == "done":
                    busy[k] = give(k)
                continue
            if not p.is_alive() or time.monotonic() - started > hard:
                died = p.exitcode
                if p.is_alive():
                    p.kill()
                p.join()
                name, done = info or ("?", [])
                if stage == "front end":
                    kind = "hang" if died is None else "signal"
                    camp.mutants += 1
                    camp.outcomes[kind] += 1
                    camp.note(kind, f"exit {died}", index, name, done)
                else:
                    kind = {"host": "host-signal", "tflm": "tflm-signal"}.get(stage, "signal")
                    camp.builds[kind] += 1
                    camp.note(f"build {kind}", f"exit {died} in {stage}", index, name, done)
                spawn(k)
                busy[k] = give(k)
        now = time.monotonic()
        if progress and now - last_print > progress:
            last_print = now
            print(f"  {camp.mutants} mutants, {dict(camp.outcomes)}, builds {dict(camp.builds)}",
                  flush=True)


def report(camp: Campaign, seed: int) -> str:
    lines = [f"{camp.mutants} mutants (seed {seed}) in {camp.seconds:.0f} s "
             f"({camp.mutants / max(camp.seconds, 1e-9):.1f}/s)"]
    for kind in ("refused", "accepted") + FINDINGS:
        lines.append(f"  {kind:12s} {camp.outcomes[kind]}")
    if camp.builds:
        lines.append("  accepted mutants built for the host and run against TFLM:")
        for kind, count in sorted(camp.builds.items()):
            lines.append(f"    {kind:12s} {count}")
    if camp.places:
        lines.append("  findings (kind: place -> count, first mutant):")
        for key, count in camp.places.most_common():
            index, name, done = camp.examples[key]
            lines.append(f"    {key} -> {count}, mutant {index} of {name}: {'; '.join(done)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutants", type=int, default=1000)
    ap.add_argument("--first", type=int, default=0, help="index of the first mutant")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per mutant")
    ap.add_argument("--build-every", type=int, default=0,
                    help="build every Nth accepted mutant for the host against TFLM (0: none)")
    ap.add_argument("--inputs", type=int, default=3, help="random inputs per built mutant")
    ap.add_argument("--progress", type=float, default=60.0, help="seconds between progress lines")
    ap.add_argument("--seconds", type=float, default=0.0,
                    help="stop after this long with the counts so far (0: no limit)")
    ap.add_argument("--only", type=int, help="run one mutant and print its outcome")
    ap.add_argument("--save", type=Path, help="with --only: write the mutant there")
    args = ap.parse_args(argv)
    if args.only is not None:
        data, name, done = Mutator().mutant(args.seed, args.only)
        path = args.save or Path(tempfile.mkdtemp()) / "mutant.tflite"
        path.write_bytes(data)
        print(f"mutant {args.only} of {name}: {'; '.join(done)} -> {path}")
        print(*classify(path, args.timeout))
        return 0
    camp = run_campaign(args.mutants, args.seed, args.workers, args.first, args.timeout,
                        args.build_every, args.inputs, progress=args.progress,
                        seconds=args.seconds)
    print(report(camp, args.seed))
    return 0 if camp.clean else 1


if __name__ == "__main__":
    sys.exit(main())
