"""``tinygen verify --mode energy``: is an energy-mode port a correct energy DUT?

The timestamp pin is what an energy run measures by, so on emulated boards
its edges are taken from QEMU itself (``tinygen.device.qemu_pins``) with
their virtual times and checked against what the protocol requires:

- timestamp: 'timestamp' prints no time and gives exactly one low pulse
  of >= 1 us (energy-mode firmware, not performance-mode);
- interface framing: the DUT's console is set to 9600 baud (its UART
  divisor, read from the emulated chip), and a stimulus sent through the
  interface board in 26-byte db lines reads back byte for byte;
- timestamp pulses: each 'infer N W' gives one low pulse >= 1 us before
  and one after the timed inferences and none in between, and the window
  between them holds exactly N inferences (its length grows by one
  inference time per inference, with no warm-up or extra inference in it);
- golden outputs through the interface board (bit-exact with TFLM);
- energy: the energy procedure through the monitor driver (a simulator on
  emulated boards: the figure is labelled simulated) and, with a power:
  block, the *estimated* energy per inference.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from tinygen.benches import Benchmark
from tinygen.device.qemu_pins import PinEdge
from tinygen.errors import TinygenError
from tinygen.runner.dataset import random_stimuli
from tinygen.runner.cycles import attach_cycle_estimate
from tinygen.runner.energy import EnergyConfig, estimated_energy, run_energy
from tinygen.runner.oracle import Oracle
from tinygen.runner.record import SessionRecord
from tinygen.runner.verify import VerifyConfig, Verifier

log = logging.getLogger(__name__)

MIN_PULSE_NS = 1000                 # the protocol: held low >= 1 us
PULSE_RUNS = ((2, 1), (6, 3))       # (N, W) pairs: different N and W expose misplacement
HSI16_HZ = 16_000_000               # the STM32L4 console's kernel clock in tinygen's firmware


@dataclass
class EnergyVerifyConfig(VerifyConfig):
    energy_seconds: float = 10.0     # energy windows (short ones are said to be short)
    voltage: float = 3.3


def pulses(edges: list[PinEdge]) -> list[tuple[PinEdge, PinEdge | None]]:
    """(fall, rise) pairs in order; a fall without its rise yet gets None."""
    out: list[tuple[PinEdge, PinEdge | None]] = []
    for e in edges:
        if e.falling:
            out.append((e, None))
        elif out and out[-1][1] is None:
            out[-1] = (out[-1][0], e)
    return out


class EnergyVerifier(Verifier):
    def __init__(self, eb, bench: Benchmark, oracle: Oracle, record: SessionRecord,
                 cfg: EnergyVerifyConfig, board):
        super().__init__(eb.dut, bench, oracle, record, cfg)
        self.eb = eb
        self.board = board
        self.watcher = eb.bench.watcher if eb.bench is not None else None

    def _edges_during(self, fn) -> tuple[Any, list[PinEdge]]:
        if self.watcher is None:
            raise TinygenError("needs the emulated board's pin watcher (real boards: the "
                               "energy check counts the monitor's events instead)")
        start = len(self.watcher.edges)
        result = fn()
        # The VM halts at each pin write until the watcher has recorded it,
        # so by the DUT's m-ready every edge of the command is in.
        edges = self.watcher.edges_since(start)
        if self.watcher.error:
            raise TinygenError(f"pin watcher: {self.watcher.error}")
        return result, edges

    def timestamp(self) -> str:
        lines, edges = self._edges_during(lambda: self.dut.command("timestamp"))
        text = [ln for ln in lines if ln.startswith("m-lap-us-")]
        if text:
            raise TinygenError(f"'timestamp' printed {text[0]}: performance-mode firmware")
        found = pulses(edges)
        if len(found) != 1 or found[0][1] is None:
            raise TinygenError(f"'timestamp' gave {len(found)} low pulses, expected exactly 1")
        width = found[0][1].ns - found[0][0].ns
        if width < MIN_PULSE_NS:
            raise TinygenError(f"the timestamp pulse is {width} ns low, shorter than 1 us")
        return f"no text, one low pulse of {width / 1000:.3f} us (QEMU virtual time)"

    def framing(self) -> str:
        detail = []
        brr = self.eb.bench.uart_brr if self.eb.bench is not None else None
        if brr:
            lpuart = self.board.console.driver == "stm32-lpuart"
            baud = (256 if lpuart else 1) * HSI16_HZ / brr
            expected = self.board.console.baud_energy
            if abs(baud - expected) / expected > 0.02:
                raise TinygenError(f"the DUT's console runs at {baud:.0f} baud (divisor {brr}), "
                                   f"not the energy-mode {expected}")
            detail.append(f"DUT UART divisor {brr} = {baud:.0f} baud (energy mode {expected})")
        stim = random_stimuli(self.bench, 1, seed=self.cfg.seed + 3000,
                              float_range=self.oracle.input_float_range)[0]
        self.dut.load(stim.data)
        lines = self.dut.command("db print", timeout=max(self.cfg.timeout, 30.0))
        dumped = bytearray()
        for ln in lines:
            if ln.startswith("m-buffer-"):
                dumped += bytes(int(x, 16) for x in ln[len("m-buffer-"):].split("-") if x)
        if bytes(dumped[:len(stim.data)]) != stim.data:
            first = next((i for i, (a, b) in enumerate(zip(dumped, stim.data)) if a != b),
                         min(len(dumped), len(stim.data)))
            raise TinygenError(f"the buffer read back differs from the {len(stim.data)} bytes "
                               f"sent from byte {first} on ({len(dumped)} read back)")
        detail.append(f"{len(stim.data)} bytes in {self.dut.chunk_bytes}-byte db lines through "
                      f"the {self.eb.dut.kind} interface board read back exactly")
        return "; ".join(detail)

    def timestamp_pulses(self) -> str:
        stim = random_stimuli(self.bench, 1, seed=self.cfg.seed + 4000,
                              float_range=self.oracle.input_float_range)[0]
        self.dut.load(stim.data)
        windows = []
        for n, w in PULSE_RUNS:
            result, edges = self._edges_during(lambda: self.dut.infer(n, w, timeout=120.0))
            found = pulses(edges)
            if len(found) != 2:
                raise TinygenError(
                    f"'infer {n} {w}' gave {len(found)} low pulses, expected one before and one "
                    "after the timed inferences and none in between")
            for k, (fall, rise) in enumerate(found):
                if rise is None:
                    raise TinygenError(f"'infer {n} {w}': pulse {k + 1} never ended")
                if rise.ns - fall.ns < MIN_PULSE_NS:
                    raise TinygenError(f"'infer {n} {w}': pulse {k + 1} is {rise.ns - fall.ns} ns "
                                       "low, shorter than 1 us")
            windows.append((n, w, found[1][0].ns - found[0][0].ns,
                            min(r.ns - f.ns for f, r in found)))
        (n1, _, t1, _), (n2, _, t2, _) = windows
        per = (t2 - t1) / (n2 - n1)
        if per <= 0:
            raise TinygenError(f"the window did not grow with N ({t1} ns for {n1}, {t2} ns for {n2})")
        offset = t1 - n1 * per
        if abs(offset) > 0.25 * per:
            raise TinygenError(
                f"the pulses do not frame exactly N inferences: windows of {t1} ns (N={n1}) and "
                f"{t2} ns (N={n2}) leave {offset / per:+.2f} inference times outside N; a pulse "
                "is misplaced (before the warm-up, or after an extra inference)")
        self.record.data["pulses"] = {"windows": [
            {"count": n, "warmup": w, "window_ns": t, "min_pulse_ns": p} for n, w, t, p in windows],
            "ns_per_inference": per, "offset_inferences": offset / per}
        narrowest = min(p for *_, p in windows)
        return (f"infer {n1}/{n2}: one pulse before and after each window, none between, each "
                f">= {narrowest / 1000:.3f} us low; windows {t1 / 1e6:.3f} and {t2 / 1e6:.3f} ms "
                f"= N x {per / 1e6:.4f} ms ({offset / per:+.3f} inference outside) in QEMU "
                "virtual time")

    def energy(self) -> str:
        cfg = EnergyConfig(min_seconds=self.cfg.energy_seconds, warmup=self.cfg.warmup,
                           voltage=self.cfg.voltage, simulated=self.eb.simulated)
        stimuli = random_stimuli(self.bench, 5, seed=self.cfg.seed + 2000,
                                 float_range=self.oracle.input_float_range)
        energy = run_energy(self.dut, self.eb.monitor, self.bench, stimuli, self.record, cfg,
                            base_timeout=self.cfg.timeout)
        w = energy["windows"][len(energy["windows"]) // 2]
        figures = attach_cycle_estimate(self.record, self.bench) if self.watcher is not None else None
        est = estimated_energy(self.board, w["seconds"] / w["count"], self.cfg.voltage,
                               cycles=figures, emulated=self.watcher is not None)
        if est:
            energy["estimate"] = est
            self.record.save()
        what = "SIMULATED monitor" if self.eb.simulated else self.eb.monitor.name
        note = (f"; short windows of {cfg.min_seconds:g} s, not the official 10 s"
                if cfg.min_seconds < 10 else "")
        text = (f"median {energy['median_uj_per_inference']:.3f} uJ/inf. over "
                f"{len(energy['windows'])} windows ({what}{note})")
        if est:
            text += f"; estimated {est['estimated_uj_per_inference']:.3f} uJ/inf. from power:"
        return text


def run_energy_checks(eb, bench: Benchmark, oracle: Oracle, record: SessionRecord,
                      cfg: EnergyVerifyConfig, board) -> list[dict[str, Any]]:
    v = EnergyVerifier(eb, bench, oracle, record, cfg, board)
    started = time.monotonic()
    v.run_check("handshake", v.handshake)
    emulated = v.watcher is not None
    if emulated:
        v.run_check("timestamp", v.timestamp)
    v.run_check("interface framing", v.framing)
    if emulated:
        v.run_check("timestamp pulses", v.timestamp_pulses)
    v.run_check("golden outputs", v.golden)
    v.run_check("energy", v.energy)
    log.info("energy checks took %.1f s", time.monotonic() - started)
    return v.checks
