"""SIMULATOR of the streaming wakeword interface board (not a driver).

It speaks the host side of the STM32H573I-DK interface firmware for sww01
(see ``tinygen.device.sww_iface``: ``play``, ``record_detections``,
``print_detections``, ``print_dutycycle``, ``ls``, ``dut <command>``) on a
TCP port, in front of an emulated DUT, so that the real driver runs
against it unchanged. What it cannot do is drive the DUT's I2S input: the
emulated DUT reads its audio from an image QEMU was started with and starts
it at the DUT's ``start`` command (the source delivers a 512-sample chunk
every 32 ms of virtual time). So here ``play <file>`` checks that the file
is the stream the DUT was started with, and answers when the DUT has
processed all of its hops.

Pin times are the emulated DUT's: edges of the detected and processing pins
come from a pin watcher (GDB write watchpoints on the GPIO registers,
``tinygen.device.qemu_pins``' mechanism) with two clocks. When an edge
happened is the DUT's own SysTick time (``dut_us``), the clock its emulated
audio source is paced by; QEMU's clocks cannot say it: QMP's instruction
count leaves out the WFI idle between frames (periods would come out as the
processing time alone), and each stop at a watchpoint lets QEMU warp its
virtual clock to the next timer deadline (measured: three edges 50
instructions apart in three successive milliseconds). How long a frame was
processed is its instruction count (no sleep inside a frame): a falling
edge of the processing pin is placed at its rising edge plus the
instructions in between, x 2**icount_shift ns. As the real board does,
detections are kept in ms since ``record_detections`` with a 10 ms debounce,
and the first 100 rising and falling edges of the processing pin in 10 us
ticks. Because the emulated
audio starts at the DUT's ``start``, frames the DUT processed before
``record_detections`` reached the simulator are kept, and the time origin
moved back to the first of them (scores are relative to the sync pulse, so
this changes nothing but the origin).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from tinygen.device.sim.iface import InterfaceBoardSimulator

log = logging.getLogger(__name__)

DETECTION_DEBOUNCE_NS = 10_000_000      # the board ignores a second pulse within 10 ms
DUTY_TICK_NS = 10_000                   # 10 us
DUTY_EDGES_KEPT = 100
FRAME_NS = 32_000_000                   # 512 samples at 16 kHz
STALL_S = 30.0                          # no new frame for this long (wall time): play ends
DETECTED, PROCESSING = "detected", "processing"
SIM_NAME = "tinyML Enhanced Interface Board (tinygen SIMULATOR, sww)"


@dataclass(frozen=True)
class SimEdge:
    pin: str
    level: int
    ns: int
    icount: int = 0


class StreamInterfaceSimulator(InterfaceBoardSimulator):
    """``wav_file`` (the name ``play`` must get) and ``hops`` (frames in the image)
    describe the stream the emulated DUT was started with."""

    def __init__(self, dut_url: str, wav_file: str, hops: int, kind: str = "h573",
                 play_timeout_s: float = 3600.0, connect_timeout: float = 10.0,
                 icount_shift: int = 0):
        self.wav_file = wav_file
        self.shift = icount_shift
        self.hops = hops
        self.play_timeout_s = play_timeout_s
        self._lock = threading.Lock()
        self._edges: list[SimEdge] = []          # since the DUT's last 'start'
        self._armed_at: int | None = None        # index into _edges where 'start' was forwarded
        self._origin_ns: int | None = None
        self._armed_ns: int | None = None        # virtual time of the DUT's 'start'
        self._counted = [-1, 0, 0]               # frames_done: [armed_at, edges seen, falls]
        self._now_ns = None
        self.playing = False
        super().__init__(dut_url, kind=kind, connect_timeout=connect_timeout)

    # -- wiring to the emulated DUT -------------------------------------------

    def attach(self, watcher) -> None:
        """Take pin edges (objects with name, level, icount, ns and the DUT's clock
        dut_us) from a pin watcher (``tinygen.device.sww_pins.StreamPinWatcher``)."""
        watcher.on_edge(lambda e: self.edge(
            e.name, e.level, e.icount,
            int(round(e.dut_us * 1000)) if getattr(e, "dut_us", None) is not None else e.ns))
        self._now_ns = getattr(watcher, "now_ns", None)

    def edge(self, name: str, level: int, icount: int, ns: int) -> None:
        with self._lock:
            self._edges.append(SimEdge(name, int(level), int(ns), int(icount)))

    # -- what the board recorded ------------------------------------------------

    def _recorded(self) -> list[SimEdge]:
        with self._lock:
            start = self._armed_at if self._armed_at is not None else len(self._edges)
            return self._edges[start:]

    def _origin(self, edges: list[SimEdge]) -> int:
        """``record_detections``'s virtual time, or the first edge if that was
        earlier or the watcher gives no clock."""
        if not edges:
            return self._origin_ns or 0
        first = min(e.ns for e in edges)
        return first if self._origin_ns is None else min(self._origin_ns, first)

    def detections_ms(self) -> list[int]:
        edges = self._recorded()
        origin = self._origin(edges)
        out: list[int] = []
        last = None
        for e in edges:
            if e.pin == DETECTED and e.level == 0:
                if last is not None and e.ns - last < DETECTION_DEBOUNCE_NS:
                    continue
                last = e.ns
                out.append((e.ns - origin) // 1_000_000)
        return out

    def duty_ticks(self) -> tuple[list[int], list[int]]:
        """Rising edges at their time; each falling edge at its rising edge plus
        the instructions the DUT executed in between."""
        edges = self._recorded()
        origin = self._origin(edges)
        rising: list[int] = []
        falling: list[int] = []
        start = None
        for e in edges:
            if e.pin != PROCESSING:
                continue
            if e.level == 1:
                start = e
                rising.append((e.ns - origin) // DUTY_TICK_NS)
            elif start is not None:
                stop_ns = start.ns + ((e.icount - start.icount) << self.shift)
                falling.append((stop_ns - origin) // DUTY_TICK_NS)
                start = None
        return rising[:DUTY_EDGES_KEPT], falling[:DUTY_EDGES_KEPT]

    def processing_instructions(self) -> list[int]:
        """Instructions of every processed frame since the DUT's start (exact; the
        board's print_dutycycle rounds to 10 us ticks and keeps 100 frames)."""
        out: list[int] = []
        start = None
        for e in self._recorded():
            if e.pin != PROCESSING:
                continue
            if e.level == 1:
                start = e
            elif start is not None:
                out.append(e.icount - start.icount)
                start = None
        return out

    def frames_done(self) -> int:
        """Processing pulses since the DUT's start (polled while playing: counted
        from where the last call stopped, not over the whole stream again)."""
        with self._lock:
            start = self._armed_at if self._armed_at is not None else len(self._edges)
            if self._counted[0] != start:
                self._counted = [start, start, 0]
            _, upto, done = self._counted
            done += sum(1 for e in self._edges[upto:] if e.pin == PROCESSING and e.level == 0)
            self._counted = [start, len(self._edges), done]
            return done

    def progress(self) -> tuple[float, int]:
        """(seconds of audio processed, detections so far without the sync pulse)."""
        return self.frames_done() * FRAME_NS / 1e9, max(0, len(self.detections_ms()) - 1)

    # -- the host's commands ----------------------------------------------------

    def _command(self, text: str) -> None:
        text = text.strip("\r\n")
        word, _, arg = text.partition(" ")
        if text == "name":
            self._send(SIM_NAME + "\r\nm-ready\r\n")
        elif word == "dut" and arg.strip() == "start":
            with self._lock:
                self._armed_at = len(self._edges)
                self._origin_ns = None
            self._armed_ns = self._now_ns() if self._now_ns else None
            super()._command(text)
        elif text == "record_detections":
            with self._lock:
                # The origin is the first edge recorded: the watcher's clock (the
                # DUT's SysTick) cannot be read while the DUT runs.
                self._origin_ns = None
                if self._armed_at is None:
                    self._armed_at = len(self._edges)
            self._send("Now recording detections\r\nm-ready\r\n")
        elif word == "play":
            self._play(arg.strip())
        elif text == "print_detections":
            body = "".join(f"{ms},\r\n" for ms in self.detections_ms())
            self._send("Detection Timestamps (ms)\r\n" + body + "m-ready\r\n")
        elif text == "print_dutycycle":
            rising, falling = self.duty_ticks()
            self._send("Duty cycle start times (s)\r\n" + "".join(f"{t}," for t in rising)
                       + "\r\nDuty cycle stop times (s)\r\n" + "".join(f"{t}," for t in falling)
                       + "m-ready\r\n")
        elif text == "ls":
            self._send(f"{self.wav_file}\r\nm-ready\r\n")
        else:
            super()._command(text)

    def _audio_over(self) -> bool:
        """The emulated source has delivered every chunk and then some: a DUT that
        dropped frames (overruns) will not reach ``hops`` processing pulses."""
        if self._now_ns is None or self._armed_ns is None:
            return False
        return self._now_ns() - self._armed_ns > (self.hops + 3) * FRAME_NS

    def _play(self, name: str) -> None:
        if name != self.wav_file:
            self._send(f"e-[cannot open {name}: the emulated DUT was started with "
                       f"{self.wav_file}]\r\nm-ready\r\n")
            return
        self.playing = True
        deadline = time.monotonic() + self.play_timeout_s
        done, moved = -1, time.monotonic()
        try:
            while time.monotonic() < deadline and not self._stop.is_set():
                frames = self.frames_done()
                if frames >= self.hops or self._audio_over():
                    break
                if frames != done:
                    done, moved = frames, time.monotonic()
                elif frames > 0 and time.monotonic() - moved > STALL_S:
                    break      # the DUT stopped processing (frames dropped, or it hung)
                time.sleep(0.05)
            else:
                log.warning("simulated play: the DUT processed %d of %d frames",
                            self.frames_done(), self.hops)
        finally:
            self.playing = False
        self._send("m-ready\r\n")
