"""One streaming wakeword (sww01) run: play a stream to the DUT and score it.

The sequence is the official runner's (``_ScriptStreamStep``): DUT ``stop``
(it may be idle), DUT ``start``, ``record_detections``, ``play`` (timeout =
stream length + 10 s on a real bench), wait 0.25 s, DUT ``stop`` (its
activation summary), then ``print_detections`` and ``print_dutycycle``. One
run gives all the figures: TP / FN / FP, the duty cycle and estimated
throughput, and in energy mode the power (an energy monitor between the
DUT's two timestamp pulses, or an *estimate* from the board's ``power:``
block on emulated boards).

On a simulated bench the pin times are QEMU virtual time; the duty cycle
at the board's clock is estimated from the processing time in instructions
(one cycle per instruction) and printed beside it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.runner.record import SessionRecord
from tinygen.runner.sww_report import plot_timeline, quality
from tinygen.runner.sww_score import (board_clock_duty, detection_stats, duty_cycle,
                                      estimated_power, measured_power_w, parse_detections,
                                      parse_dutycycle)
from tinygen.runner.sww_stream import StreamEntry, read_wav

log = logging.getLogger(__name__)

AFTER_PLAY_S = 0.25
SIM_PLAY_FACTOR = 30.0      # an emulated stream may run this many times slower than real time
TIMELINE = "timeline.png"


@dataclass
class StreamBench:
    iface: Any                 # StreamInterface (the driver)
    simulated: Any = None      # the SimulatedStreamBench, when simulated
    monitor: Any = None        # an energy monitor driver (energy mode, real bench)


@contextlib.contextmanager
def open_stream_bench(board: Board, build_dir: Path | None, stream: StreamEntry,
                      record: SessionRecord, *, interface_port: str | None, mode: str,
                      emon: str = "lpm01a", emon_port: str | None = None,
                      voltage: float = 3.3, timeout: float = 10.0) -> Iterator[StreamBench]:
    """The interface board (real, or SIMULATED around an emulated DUT) and, for a
    real energy run, the energy monitor powering the DUT."""
    from tinygen.device.sww_iface import StreamInterface

    with contextlib.ExitStack() as stack:
        sim = monitor = None
        if interface_port is None:
            if not board.is_emulated:
                raise TinygenError(f"{board.name}: the sww benchmark streams audio through the "
                                   "interface board; pass --interface-port (the H573I-DK)")
            if build_dir is None:
                raise TinygenError(f"{board.name} needs its sww build folder; pass --build")
            from tinygen.device.sim.sww_bench import simulated_stream_bench
            # The raw audio image QEMU reads (38 MB for the long test) is not
            # part of the session: a temporary folder, removed at the end.
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="tinygen-sww-"))
            sim = stack.enter_context(simulated_stream_bench(
                board, build_dir, stream.wav, Path(scratch), log_path=record.folder / "dut.log",
                play_timeout_s=stream.length_s * SIM_PLAY_FACTOR + 60.0))
            url = sim.interface_url
            record.note("SIMULATED interface board: plays the stream the emulated DUT was "
                        "started with; pin edges timed in QEMU virtual time")
        else:
            url = interface_port
            if mode == "energy":
                from tinygen.device.emon import open_monitor
                monitor = open_monitor(emon, emon_port, transcript=record.transcript,
                                       timeout=timeout)
                stack.enter_context(monitor)
                monitor.setup(voltage)
                monitor.power_on()
                record.data["emon"] = {"kind": emon, "port": emon_port,
                                       "version": getattr(monitor, "version", None),
                                       "simulated": False}
        iface = StreamInterface(url, timeout, transcript=record.transcript)
        stack.enter_context(iface)
        iface.wait_ready(timeout=max(timeout, 5.0))
        record.data["interface"] = {"kind": "h573", "port": url, "name": iface.board_name,
                                    "simulated": sim is not None}
        yield StreamBench(iface, sim, monitor)


def _progress_logger(bench: StreamBench, length_s: float):
    """A progress line about every 5 s: seconds played of the total, detections so far."""
    last = [0.0]

    def tick(wall_s: float) -> None:
        if wall_s - last[0] < 5.0:
            return
        last[0] = wall_s
        if bench.simulated is not None:
            played, found = bench.simulated.interface.progress()
            log.info("stream: %.1f of %.1f s played (virtual time), %d detections so far",
                     played, length_s, found)
        else:
            log.info("stream: %.0f of %.1f s played", min(wall_s, length_s), length_s)
    return tick


def run_stream(bench: StreamBench, board: Board, stream: StreamEntry, record: SessionRecord,
               mode: str, voltage: float | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """Play the stream, read back what the interface board recorded, score it."""
    iface = bench.iface
    sww: dict[str, Any] = {"stream": stream.to_dict(), "simulated_interface":
                           bench.simulated is not None,
                           "virtual_time": bench.simulated is not None}
    record.data["sww"] = sww
    record.save()
    iface.stop_detecting(timeout)
    if bench.monitor is not None:
        bench.monitor.start()
    started = time.monotonic()
    try:
        start_lines = iface.start_detecting(timeout)
        iface.record_detections()
        log.info("playing %s (%.1f s, %d words)%s", stream.wav.name, stream.length_s,
                 stream.words, " through the SIMULATED interface board"
                 if bench.simulated is not None else "")
        play_slack = (stream.length_s * (SIM_PLAY_FACTOR - 1) + 60.0
                      if bench.simulated is not None else 0.0)
        iface.play(stream.wav.name, stream.length_s + play_slack,
                   _progress_logger(bench, stream.length_s))
        time.sleep(AFTER_PLAY_S)
        stop_lines = iface.stop_detecting(timeout)
    finally:
        capture = bench.monitor.stop() if bench.monitor is not None else None
    sww["played_s"] = (bench.simulated.interface.progress()[0] if bench.simulated is not None
                       else stream.length_s)
    sww["wall_s"] = time.monotonic() - started
    sww["dut_start"] = start_lines
    sww["activations"] = activations(stop_lines)
    record.save()

    # Read both back before scoring either: a stream with no detection still
    # keeps its duty cycle, and the other way round.
    detections = parse_detections(iface.print_detections())
    starts, stops = parse_dutycycle(iface.print_dutycycle())
    errors: list[TinygenError] = []
    try:
        stats = detection_stats(detections, stream.windows)
        sww["scores"] = stats.to_dict()
        sww["quality"] = quality(sww["scores"])
        record.note(f"detections: {stats.counts[0]} TP, {stats.counts[1]} FN, "
                    f"{stats.counts[2]} FP")
    except TinygenError as exc:
        errors.append(exc)
    try:
        duty = duty_cycle(starts, stops)
    except TinygenError as exc:
        record.save()
        raise (errors[0] if errors else exc)
    sww["duty"] = duty.to_dict()
    if duty.irregular:
        log.warning("frame periods vary %.1f %% (more than 2 %%): min %.3f ms, max %.3f ms",
                    duty.period_spread * 100, 1e3 * min(b - a for a, b in zip(starts, starts[1:])),
                    1e3 * max(b - a for a, b in zip(starts, starts[1:])))
    duty_for_power = duty.duty_cycle
    if bench.simulated is not None and board.emulator is not None:
        # Every frame's exact instruction count, not the board's 10 us ticks.
        counts = bench.simulated.interface.processing_instructions() or \
            [duty.processing_s * 1e9 / (2 ** board.emulator.icount_shift)]
        instructions = sum(counts) / len(counts)
        sww["processing_instructions"] = instructions
        sww["processing_instructions_max"] = max(counts)
        sww["board_clock"] = board_clock_duty(instructions, board.clock_hz, duty.period_s)
        duty_for_power = sww["board_clock"]["duty_cycle"]
    sww["power"] = _power(board, mode, capture, duty_for_power, voltage)
    record.save()
    try:
        samples, rate = read_wav(stream.wav)
        plot_timeline(record.folder / TIMELINE, sww, samples, rate,
                      title=f"{board.name} sww01 {stream.wav.name}")
        sww["timeline_png"] = TIMELINE
    except (OSError, ValueError, TinygenError) as exc:
        log.warning("no timeline picture: %s", exc)
    record.save()
    if errors:
        raise errors[0]
    return sww


_ACTIVATIONS = re.compile(r"^m-activations-\[(.*)\]$")


def activations(lines: list[str]) -> dict[str, Any] | None:
    """The DUT's summary of the stream from ``stop``:
    ``m-activations-[hops=H,detections=D,overruns=O,max_hop_us=U]``."""
    for line in lines:
        m = _ACTIVATIONS.match(line)
        if m:
            out: dict[str, Any] = {"line": line}
            for part in m.group(1).split(","):
                key, _, value = part.partition("=")
                try:
                    out[key.strip()] = int(value)
                except ValueError:
                    out[key.strip()] = value.strip()
            return out
    return None


def _power(board: Board, mode: str, capture, duty: float, voltage: float | None) -> dict:
    if capture is not None:
        seconds = capture.window_seconds()
        watts = measured_power_w(capture.samples_j[capture.window()[0]:capture.window()[1]],
                                 seconds)
        return {"power_mw": watts * 1e3, "estimated": False, "monitor": capture.monitor,
                "seconds": seconds, "events": len(capture.events)}
    est = estimated_power(board, duty, voltage)
    if est is None:
        return {}
    return {"power_mw": est["estimated_power_mw"], "estimated": True, "basis": est["basis"],
            "run_power_mw": est["run_power_mw"], "duty_cycle": duty}
