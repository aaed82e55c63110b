"""verify --bench sww: prove a streaming build is a correct sww01 DUT, end to end in QEMU.

A test stream (the marvin clip at known times in low seeded noise) goes
through the emulated audio source; the firmware's hop log (a verify build,
log_hops > 0) gives each hop's int8 feature row and model output, the
pin watcher gives the detected and processing edges in virtual time.

Checks:
  handshake        name, profile (model sww01), stop when idle answers
                   m-stop-[idle] and the activation summary
  features         every int8 feature of every hop equals the Python
                   reference's (tinygen.plan.sww_features) over the stream.
                   "Exact" for float features: the int8 values must match,
                   except where the reference's float x / scale - 128 lies
                   within STEP_EPSILON of an integer (a truncation step),
                   where a last-ulp difference may move it across; those
                   are counted and reported, any other difference fails
  outputs          each hop's model output equals the TFLM oracle's on the
                   DUT's own 30-frame window, bit for bit
  pins             one processing pulse per hop, hops 32 ms apart in virtual
                   time; one sync pulse on the first hop and one detected pulse
                   per hop whose out[0] > 115, each inside its hop's
                   processing pulse and >= 1 us low
  budget           the longest hop's instructions against the 32 ms budget
                   at the board's clock (estimated: 1 instruction ~ 1 cycle);
                   over it is said loudly and left undecided (emulated boards
                   keep up in virtual time)
  scored           the stream scored with the official rules (the host
                   side's tinygen.runner.sww_score); judged for the official
                   model on the marvin clip: every word found, no false positive
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinygen.boards import Board
from tinygen.device.sww_audio import qemu_audio_args, read_wav_left, write_audio_image
from tinygen.device.sww_pins import StreamPinWatcher, dut_clock_address
from tinygen.errors import TinygenError
from tinygen.plan import sww_features as F
from tinygen.port.manifest import has_manifest, read_manifest
from tinygen.port.sww_build import hop_budget_cycles, inference_plan
from tinygen.port.sww_pins import DETECTION_THRESHOLD, stream_pins

_HOP = re.compile(r"^m-hop-(\d+)-\[([-\d,]+)\]-\[([-\d,]+)\]$")
_ACT = re.compile(r"^m-activations-\[(.*)\]$")
HOP_NS = 32_000_000


@dataclass
class Check:
    name: str
    ok: bool | None     # None: not decided (an estimate over budget on an emulated board)
    detail: str


@dataclass
class StreamRun:
    samples: np.ndarray
    hops: int
    rows: np.ndarray                    # [hops, 40] int8 from the DUT's log
    outputs: np.ndarray                 # [hops, 3] int8
    activations: dict[str, int]
    edges: list = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    handshake: list[str] = field(default_factory=list)


def test_stream(clip: Path | str | None, seconds: float = 3.0, at: tuple[float, ...] = (1.0,),
                noise: float = 30.0, seed: int = 20) -> np.ndarray:
    """int16 samples: the clip's left channel (or synthetic_word) at each time
    in `at`, over seeded noise."""
    word = (read_wav_left(clip) if clip is not None else synthetic_word()).astype(np.int32)
    rng = np.random.default_rng(seed)
    out = rng.normal(0.0, noise, int(seconds * F.SAMPLE_RATE))
    for t in at:
        start = int(t * F.SAMPLE_RATE)
        end = min(out.size, start + word.size)
        out[start:end] += word[:end - start]
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_stream(board: Board, build_dir: Path, samples: np.ndarray, work: Path,
               timeout_s: float = 300.0, hop_log: bool = True, transcript=None,
               qemu_args: tuple[str, ...] = ()) -> StreamRun:
    """Play samples into the emulated DUT once; read its log and its pins.
    ``transcript``: a DutSession transcript callback (SessionRecord.transcript);
    ``qemu_args``: more QEMU options (the cycle model's block trace)."""
    from tinygen.device.launch import start_dut
    from tinygen.device.qemu_pins import gdb_qmp_args
    from tinygen.device.session import DutSession

    image = write_audio_image(samples, work / "audio.raw")
    gdb_port, qmp_port = _free_port(), _free_port()
    extra = tuple(gdb_qmp_args(gdb_port, qmp_port) + qemu_audio_args(image.path)) + qemu_args
    with start_dut(board, build_dir, log_path=work / "dut.log", extra_args=extra) as dut:
        watcher = StreamPinWatcher(gdb_port, qmp_port, stream_pins(board),
                                   board.emulator.icount_shift,
                                   ms_count_addr=dut_clock_address(build_dir / "firmware.elf"))
        try:
            # QEMU starts its GDB stub once the serial client is there (wait=on).
            with DutSession(dut.url, timeout=30.0, transcript=transcript) as s:
                watcher.start()
                s.wait_ready(timeout=15.0)
                hand = s.command("name") + s.command("profile") + s.command("stop")
                lines = s.command("start")
                deadline = time.monotonic() + timeout_s
                while len([e for e in watcher.edges_of("processing") if e.level == 0]) < image.hops:
                    if watcher.error:
                        raise TinygenError(f"pin watcher: {watcher.error}")
                    if time.monotonic() > deadline:
                        raise TinygenError(f"the DUT processed {len(watcher.edges_of('processing')) // 2}"
                                           f" of {image.hops} hops within {timeout_s:.0f} s")
                    time.sleep(0.1)
                lines += s.command("stop")
                log_lines = s.command("log", timeout=60.0) if hop_log else []
        finally:
            watcher.stop()
    rows = np.zeros((image.hops, F.MEL_FILTERS), np.int8)
    outs = np.zeros((image.hops, 3), np.int8)
    seen = 0
    for ln in log_lines:
        m = _HOP.match(ln)
        if m and int(m.group(1)) < image.hops:
            rows[int(m.group(1))] = [int(v) for v in m.group(2).split(",")]
            outs[int(m.group(1))] = [int(v) for v in m.group(3).split(",")]
            seen += 1
    if hop_log and seen != image.hops:
        raise TinygenError(f"the DUT logged {seen} of {image.hops} hops; build it with "
                           f"log_hops >= {image.hops} (tinygen.port.sww_build.generate_stream_port)")
    act = {}
    for ln in lines:
        m = _ACT.match(ln)
        if m:
            act = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split(","))}
    return StreamRun(samples, image.hops, rows, outs, act, list(watcher.edges), lines + log_lines, hand)


def check_features(run: StreamRun, input_scale: float) -> Check:
    ref = F.stream_features(run.samples, input_scale, hops=run.hops)
    margin = F.quantize_margin(ref.floats, input_scale)
    differ = ref.int8 != run.rows
    near = differ & (margin < F.STEP_EPSILON)
    bad = differ & ~near
    total = ref.int8.size
    # Values clipped to 0 or 1 sit exactly on a step but are exact in both.
    within = int(((margin < F.STEP_EPSILON) & (ref.floats > 0) & (ref.floats < 1)).sum())
    if bad.any():
        k, i = map(int, np.argwhere(bad)[0])
        return Check("features", False,
                     f"{int(bad.sum())} of {total} int8 features differ from the Python reference "
                     f"(first: hop {k} filter {i}: DUT {run.rows[k, i]}, reference {ref.int8[k, i]})")
    return Check("features", True,
                 f"{total} int8 features over {run.hops} hops equal the Python reference; "
                 f"{int(near.sum())} differ within rounding distance of a step "
                 f"({within} unclipped reference values lie within {F.STEP_EPSILON:g} of one)")


def check_outputs(run: StreamRun, model_path: Path) -> Check:
    from tinygen.benches import get_bench
    from tinygen.runner.oracle import Oracle
    oracle = Oracle(model_path, get_bench("sww01"))
    windows = F.model_windows(run.rows)
    wrong = []
    for k in range(run.hops):
        want = oracle.raw_output(windows[k].tobytes()).astype(np.int8)
        if not np.array_equal(want, run.outputs[k]):
            wrong.append((k, want.tolist(), run.outputs[k].tolist()))
    if wrong:
        k, want, got = wrong[0]
        return Check("outputs", False, f"{len(wrong)} of {run.hops} hops differ from the TFLM oracle "
                                       f"(first: hop {k}: DUT {got}, oracle {want})")
    detections = int((run.outputs[:, 0] > DETECTION_THRESHOLD).sum())
    return Check("outputs", True, f"{run.hops} hops bit-exact with the TFLM oracle on the DUT's "
                                  f"windows ({detections} above {DETECTION_THRESHOLD})")


def _pulses(edges, name: str, active: int) -> list[tuple]:
    """(start edge, end edge) of each pulse of a pin at its active level."""
    out, begin = [], None
    for e in edges:
        if e.name != name:
            continue
        if e.level == active:
            begin = e
        elif begin is not None:
            out.append((begin, e))
            begin = None
    return out


# The DUT's clock is QEMU's virtual clock, which jumps to the next SysTick
# deadline (<= 1 ms) whenever the watcher halts the guest at a pin write
# (-icount sleep=off treats the halted CPU as idle). Hop spacing is judged
# on it with that tolerance; on-times and ordering use the instruction
# count, which the halts do not disturb.
HOP_TOLERANCE_US = 2_500.0


def check_pins(run: StreamRun, board: Board) -> tuple[Check, Check]:
    proc = _pulses(run.edges, "processing", 1)
    det = _pulses(run.edges, "detected", 0)
    want_det = 1 + int((run.outputs[:, 0] > DETECTION_THRESHOLD).sum())
    problems = []
    if len(proc) != run.hops:
        problems.append(f"{len(proc)} processing pulses for {run.hops} hops")
    starts = [a.dut_us for a, _ in proc if a.dut_us is not None]
    gaps = np.diff(starts) if len(starts) > 1 else np.array([HOP_NS / 1000.0])
    if len(gaps) and (np.abs(gaps - HOP_NS / 1000.0) > HOP_TOLERANCE_US).any():
        problems.append(f"hop starts {gaps.min() / 1e3:.2f}..{gaps.max() / 1e3:.2f} ms apart, not 32")
    if len(det) != want_det:
        problems.append(f"{len(det)} detected pulses, expected {want_det} (sync + out[0] > 115)")
    hop_of = []
    for a, b in det:
        inside = [k for k, (p0, p1) in enumerate(proc) if p0.icount <= a.icount and b.icount <= p1.icount]
        wide = a.dut_us is None or b.dut_us - a.dut_us >= 1.0
        if not inside or not wide:
            problems.append(f"a detected pulse at instruction {a.icount:,} is outside a hop or "
                            "shorter than 1 us")
            break
        hop_of.append(inside[0])
    expected_hops = [0] + [k for k in range(run.hops) if run.outputs[k, 0] > DETECTION_THRESHOLD]
    if not problems and hop_of != expected_hops:
        problems.append(f"detected pulses on hops {hop_of}, expected {expected_hops}")
    on = [b.icount - a.icount for a, b in proc]
    spacing = (f"{gaps.min() / 1e3:.2f}..{gaps.max() / 1e3:.2f} ms apart" if len(starts) > 1
               else "spacing not measured")
    pins = Check("pins", not problems,
                 "; ".join(problems) if problems else
                 f"{len(proc)} processing pulses, starts {spacing} (DUT clock); sync + "
                 f"{want_det - 1} detection pulses inside the right hops")
    budget = hop_budget_cycles(board)
    worst = max(on) if on else 0
    mean = int(np.mean(on)) if on else 0
    text = (f"per hop {mean:,} instructions mean, {worst:,} max (features + inference), "
            f"budget {budget:,} cycles = 32 ms at {board.clock_hz / 1e6:g} MHz: "
            f"duty cycle {mean / budget:.1%} (estimated, 1 instruction ~ 1 cycle)")
    if worst > budget:
        # The emulated DUT keeps up in virtual time (the pins check); the
        # estimate says the real board at its clock would not: not decided
        # here, said loudly.
        return pins, Check("budget", None, "OVER BUDGET (estimated): " + text
                           + "; the full-window inference does not fit this clock")
    return pins, Check("budget", True, text)


def check_scored(run: StreamRun, windows: list[tuple[float, float]], official: bool) -> Check:
    """The stream scored as the official runner scores it (sync pulse as the
    origin, [t0, t1 + 2 s], 1 s debounce), from the detected pin's edges on
    the DUT's clock. Decided only for the official model on the marvin clip:
    every word found, no false positive."""
    try:
        from tinygen.runner.sww_score import detection_stats
    except ImportError:
        return Check("scored", None, "not checked: the sww scorer (tinygen.runner.sww_score) is "
                                     "not in this checkout")
    falls = [e for e in run.edges if e.name == "detected" and e.level == 0 and e.dut_us is not None]
    if not falls:
        return Check("scored", False, "no detected pulse (not even the sync pulse) was seen")
    stats = detection_stats([int(e.dut_us // 1000) for e in falls], windows)
    tp, fn, fp = stats.counts
    text = f"{tp} true positives, {fn} false negatives, {fp} false positives over {len(windows)} words"
    if not official:
        return Check("scored", None, text + " (not judged: not the official model on the marvin clip)")
    return Check("scored", tp == len(windows) and fp == 0, text)


def check_handshake(run: StreamRun) -> Check:
    text = " | ".join(run.handshake)
    ok = (any(ln.startswith("m-name-dut-[") for ln in run.handshake)
          and "m-model-[sww01]" in run.handshake and "m-stop-[idle]" in run.handshake
          and any(_ACT.match(ln) for ln in run.handshake)
          and run.activations.get("hops") == run.hops)
    return Check("handshake", ok, text if not ok else
                 f"name, profile (sww01), stop when idle; summary {run.activations}; "
                 + run.handshake[-1])


def verify_stream(board: Board, build_dir: Path, model_path: Path, input_scale: float,
                  clip: Path | None, work: Path, seconds: float = 3.0,
                  at: tuple[float, ...] = (1.0,), transcript=None) -> list[Check]:
    import hashlib
    from tinygen.benches import get_bench
    samples = test_stream(clip, seconds, at)
    word_s = (read_wav_left(clip).size if clip is not None else synthetic_word().size) / F.SAMPLE_RATE
    windows = [(t, t + word_s) for t in at]
    official = (clip is not None and hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
                == get_bench("sww01").official_sha256)
    run = run_stream(board, build_dir, samples, work, transcript=transcript)
    run.handshake.append(f"stream: {seconds:g} s, "
                         + (f"marvin clip {clip.name}" if clip else "synthetic word (no official clip)")
                         + f" at {', '.join(f'{t:g}' for t in at)} s")
    pins, budget = check_pins(run, board)
    outputs = check_outputs(run, model_path)
    outputs.detail += f"; {inference_plan(build_dir)}"
    return [check_handshake(run), check_features(run, input_scale), outputs, pins, budget,
            check_scored(run, windows, official)]


QUICK_SECONDS = 3.0
FULL_SECONDS = 10.0
CLIP_NAME = "sww01_marvin_617de221_0.wav"


def default_clip() -> Path | None:
    """The official marvin clip from ../shared/reference-models (beside the
    checkout or its worktree folder), or None: it is not part of the project."""
    from tinygen.paths import project_root
    root = project_root()
    for folder in (root.parent / "shared" / "reference-models",
                   root.parent.parent / "shared" / "reference-models"):
        if (folder / CLIP_NAME).is_file():
            return folder / CLIP_NAME
    return None


def synthetic_word(seed: int = 7, seconds: float = 0.8) -> np.ndarray:
    """A seeded stand-in for a spoken word when the official clip is absent:
    a gliding harmonic tone under a smooth envelope (its features move through
    the whole range; it is no wakeword)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * F.SAMPLE_RATE)) / F.SAMPLE_RATE
    f0 = 140.0 + 60.0 * np.sin(2 * np.pi * 1.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / F.SAMPLE_RATE
    voice = sum(np.sin(h * phase) / h for h in range(1, 12))
    env = np.sin(np.pi * t / seconds) ** 2
    return (6000.0 * env * voice + rng.normal(0, 200.0, t.size)).astype(np.int16)


def hops_for(seconds: float) -> int:
    return int(seconds * F.SAMPLE_RATE) // F.HOP


def _as_dict(c: Check) -> dict:
    return {"name": c.name, "passed": c.ok, "detail": c.detail}


def run_stream_verify(args, board: Board, bench) -> tuple[list[dict], object]:
    """tinygen verify --bench sww: build a logging streaming firmware, stream, check."""
    from tinygen.runner.lifecycle import recorded_session, session_folder
    from tinygen.runner.record import session_facts
    from tinygen.port.sww_build import build_stream_firmware, input_scale

    if not board.is_emulated:
        raise TinygenError(f"verify --bench sww needs an emulated board (QEMU feeds the audio "
                           f"and watches the pins); {board.name} is not one. On a real bench "
                           "use tinygen run --bench sww with the interface board")
    if args.mode != "performance":
        raise TinygenError("verify --bench sww checks the performance-mode streaming firmware; "
                           "drop --mode energy")
    seconds = QUICK_SECONDS if args.quick else FULL_SECONDS
    at = (1.0,) if args.quick else (1.0, 4.5, 7.5)
    from tinygen.paths import project_root
    out_dir = args.build or project_root() / "build" / f"{board.name}-sww01-verify"
    if args.no_build:
        build_dir = Path(out_dir)
        stream = read_manifest(build_dir).stream if has_manifest(build_dir) else None
        if stream is None or stream.log_hops < hops_for(seconds):
            raise TinygenError(f"{build_dir} is not a verify build of sww with a hop log of "
                               f">= {hops_for(seconds)} hops; drop --no-build (verify builds it)")
    else:
        result = build_stream_firmware(board, args.model, opt=args.opt, out_dir=out_dir,
                                       log_hops=hops_for(seconds) + 1)
        build_dir = Path(result.build_dir)
    scale = input_scale(build_dir)
    # The model the firmware was built from (build.json), so --no-build checks the right one.
    built = read_manifest(build_dir).model.path
    model = Path(built) if built else (Path(args.model) if args.model else bench.model_path)
    if args.model and Path(args.model).resolve() != model.resolve():
        raise TinygenError(f"{build_dir} was built from {model}, not {args.model}; drop --no-build")
    facts = {**session_facts(board, "verify", None, None), "bench": bench.id,
             "model": str(model), "build": str(build_dir), "quick": args.quick,
             "stream": {"seconds": seconds, "marvin_at_s": list(at)}}
    # The runner's session lifecycle: Ctrl-C -> interrupted, a fault -> failed.
    with recorded_session(session_folder(args.out, board, bench, "verify"), facts) as record:
        checks = [_as_dict(c) for c in verify_stream(board, build_dir, model, scale,
                                                     default_clip(), build_dir / "verify",
                                                     seconds, at, record.transcript)]
        record.data["checks"] = checks
        passed = all(c["passed"] is not False for c in checks)
        record.finish("passed" if passed else "failed")
    return checks, record
