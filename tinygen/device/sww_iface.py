"""The streaming wakeword interface board (STM32H573I-DK, mlcommons interface firmware).

For sww01 the interface board also plays the audio: it streams a WAV from
its SD card to the DUT over I2S (the DUT is I2S slave, 16 kHz, 16-bit
stereo), timestamps the DUT's detected-pin pulses and its processing pin's
edges, and passes commands through to the DUT as for the other benches
(``tinygen.device.iface``). Host commands (``%``-terminated, each answered
up to ``m-ready``):

- ``play <file>``: streams the WAV; blocks until it has been played.
- ``record_detections``: resets the board's timer and starts recording
  (detections in ms, 10 ms debounce; processing edges in 10 us ticks, the
  first 100 of each).
- ``print_detections``: ``Detection Timestamps (ms)`` then one ``<ms>,``
  line per detection.
- ``print_dutycycle``: ``Duty cycle start times (s)``, the rising edges,
  ``Duty cycle stop times (s)``, the falling edges (comma separated, in
  10 us ticks; ``m-ready`` may end the last line).
- ``ls``: the WAV files on the SD card.
- ``dut <command>``: passthrough to the DUT (``[dut]: `` prefixed lines).

The runner's sequence (the official ``_ScriptStreamStep``): DUT ``stop``,
DUT ``start``, ``record_detections``, ``play`` (timeout = stream length +
10 s), wait 0.25 s, DUT ``stop``, ``print_detections``, ``print_dutycycle``.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from tinygen.device.iface import DUT_PREFIX, InterfacedDutSession, InterfaceError
from tinygen.device.session import READY, DutTimeout, _tail

log = logging.getLogger(__name__)

PLAY_SLACK_S = 10.0            # play's timeout is the stream length plus this (official)
AFTER_PLAY_S = 0.25            # the official runner waits this before stopping the DUT
PROGRESS_EVERY_S = 1.0

Progress = Callable[[float], None]     # called with the wall seconds since play started


class StreamInterface(InterfacedDutSession):
    """The H573 interface board driving a streaming wakeword DUT."""

    def board_lines(self, text: str, timeout: float, progress: Progress | None = None) -> list[str]:
        """Send a board command; its lines up to ``m-ready`` (which may end the last line).

        ``progress`` is called about once a second while waiting (``play``).
        """
        self.discard_input()
        self._write(text + "%", text)
        start = time.monotonic()
        deadline = start + timeout
        next_tick = start + PROGRESS_EVERY_S
        lines: list[str] = []
        while True:
            wait_until = min(deadline, next_tick) if progress else deadline
            line = self._read_line(wait_until, text, lines)
            now = time.monotonic()
            if line is None:
                if now >= deadline:
                    raise InterfaceError(
                        f"the interface board did not finish '{text}' within {timeout:g} s "
                        f"(received: {_tail(lines) if lines else 'nothing'}); check "
                        "--interface-port and that it runs the streaming interface firmware")
                if progress and now >= next_tick:
                    progress(now - start)
                    next_tick = now + PROGRESS_EVERY_S
                continue
            if line == READY:
                return lines
            if line.endswith(READY) and not line.startswith(DUT_PREFIX):
                head = line[: -len(READY)].strip()
                if head:
                    lines.append(head)
                return lines
            lines.append(line)

    # -- the board's own commands ---------------------------------------------

    def record_detections(self, timeout: float = 5.0) -> list[str]:
        return self.board_lines("record_detections", timeout)

    def play(self, wav_file: str, length_s: float, progress: Progress | None = None) -> list[str]:
        """Stream ``wav_file`` from the board's SD card; returns when it has been played."""
        lines = self.board_lines(f"play {wav_file}", length_s + PLAY_SLACK_S, progress)
        errors = [ln for ln in lines if ln.startswith("e-") or "rror" in ln]
        if errors:
            raise InterfaceError(f"the interface board could not play {wav_file}: {errors[0]}; "
                                 "check that the file is on its SD card ('ls')")
        return lines

    def print_detections(self, timeout: float = 10.0) -> list[str]:
        return self.board_lines("print_detections", timeout)

    def print_dutycycle(self, timeout: float = 10.0) -> list[str]:
        return self.board_lines("print_dutycycle", timeout)

    def ls(self, timeout: float = 10.0) -> list[str]:
        return self.board_lines("ls", timeout)

    # -- the DUT through the board --------------------------------------------

    def start_detecting(self, timeout: float = 10.0) -> list[str]:
        return self.command("start", timeout)

    def stop_detecting(self, timeout: float = 10.0) -> list[str]:
        """``stop``: the DUT ends the stream (or says it was idle) and prints its
        activation summary."""
        try:
            return self.command("stop", timeout)
        except DutTimeout:
            # The official runner waits 0.25 s after play because the DUT may
            # still be busy with its last frame: give it one more chance.
            time.sleep(AFTER_PLAY_S)
            return self.command("stop", timeout)
