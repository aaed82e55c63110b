"""The energy interface board: the host reaches the DUT through it.

In energy mode the DUT is powered by the energy monitor and electrically
isolated from the host: an interface board (the mlcommons STM32H573I-DK
"enhanced interface board", or EEMBC's Arduino UNO "IO manager") sits in
between. The host talks to the board at 115200 baud; commands end with
``%``. ``name%`` answers the board's name and ``m-ready``;
``dut <command>%`` answers ``m-dut-passthrough(<command>)`` and
``m-ready``, then forwards ``<command>%`` to the DUT at the DUT's energy
baud rate (9600) and relays each DUT line as ``[dut]: <line>`` up to
``[dut]: m-ready``. A host line through it holds at most 26 data bytes
per ``db`` command (the board's receive buffer).

``InterfacedDutSession`` is a ``DutSession`` whose commands go through
the board, so the protocol helpers (name, profile, load, infer) work
unchanged.
"""

from __future__ import annotations

import logging
import time

from tinygen.device.session import (BOOT_MARKERS, ENERGY_CHUNK_BYTES, READY, DutError,
                                    DutReset, DutSession, DutTimeout, _tail)
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

INTERFACES = ("h573", "arduino")
HOST_BAUD = 115200
DUT_PREFIX = "[dut]: "
QUIET_AFTER_BOOT_S = 0.5      # after a boot seen mid-command, before talking again
USB_IDS = {"h573": ("0483:374e",), "arduino": ("2341:0043", "2341:0001", "2a03:0043")}


class InterfaceError(TinygenError):
    """The interface board is missing, silent, or broke its framing."""


class InterfacedDutSession(DutSession):
    """A DUT reached through an interface board on ``url``."""

    def __init__(self, url: str, timeout: float = 10.0, *, kind: str = "h573",
                 transcript=None, chunk_bytes: int = ENERGY_CHUNK_BYTES,
                 connect_timeout: float = 10.0):
        if chunk_bytes > ENERGY_CHUNK_BYTES:
            raise TinygenError(f"--chunk-bytes {chunk_bytes}: at most {ENERGY_CHUNK_BYTES} "
                               "bytes per db line fit through the interface board")
        super().__init__(url, timeout, baudrate=HOST_BAUD, transcript=transcript,
                         chunk_bytes=chunk_bytes, connect_timeout=connect_timeout)
        self.kind = kind
        self.board_name: str | None = None

    def _board_command(self, text: str, timeout: float) -> list[str]:
        """Lines the board itself prints for ``text`` before its m-ready."""
        self.discard_input()
        self._write(text + "%", text)
        try:
            return self.read_until_ready(text, timeout, allow_boot=True)
        except DutTimeout as exc:
            raise InterfaceError(
                f"the interface board on {self.url} did not answer '{text}' within "
                f"{timeout:g} s (got {_tail(exc.lines)}); check --interface-port and that "
                "the board runs its interface firmware") from None

    def board_name_check(self, timeout: float = 5.0) -> str:
        lines = self._board_command("name", timeout)
        if not lines or lines[-1].startswith(DUT_PREFIX):
            raise InterfaceError(f"'name' to the interface board printed {lines}; is "
                                 "--interface-port the interface board, not the DUT?")
        self.board_name = lines[-1]
        return self.board_name

    def command(self, text: str, timeout: float | None = None) -> list[str]:
        timeout = self.timeout if timeout is None else timeout
        ack = self._board_command(f"dut {text}", min(timeout, 10.0))
        if ack != [f"m-dut-passthrough({text})"]:
            raise InterfaceError(f"the interface board answered 'dut {text}' with {ack}, "
                                 f"expected m-dut-passthrough({text})")
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            line = self._read_line(deadline, text, lines)
            if line is None:
                raise DutTimeout(
                    f"the DUT did not finish '{text}' through the interface board within "
                    f"{timeout:g} s (received: {_tail(lines)}); check the DUT's UART wiring "
                    "to the interface board and its 9600 baud energy-mode firmware",
                    text, lines)
            if not line.startswith(DUT_PREFIX):
                raise InterfaceError(f"the interface board printed {line!r} among the DUT's "
                                     f"lines for '{text}'")
            line = line[len(DUT_PREFIX):]
            if line == READY:
                break
            if line.startswith(BOOT_MARKERS):
                lines.append(line)
                raise DutReset(f"the DUT restarted during '{text}' (printed {line!r}); check "
                               "the energy monitor's supply to it", text, lines)
            lines.append(line)
        errors = [ln for ln in lines if ln.startswith("e-")]
        if errors:
            raise DutError(f"the DUT refused '{text}': {errors[0]}", text, lines)
        return lines

    def _drain_dut_lines(self, lines: list[str], timeout: float) -> None:
        """Read [dut]: lines up to the DUT's m-ready (the end of its banner)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._read_line(deadline, "boot", lines)
            if line is None or line == DUT_PREFIX + READY:
                return
            lines.append(line[len(DUT_PREFIX):] if line.startswith(DUT_PREFIX) else line)

    def wait_ready(self, timeout: float = 10.0, quiet: float = 0.5) -> list[str]:
        """The board answers its name and the DUT answers 'name' through it."""
        name = self.board_name_check(min(timeout, 5.0))
        log.info("interface board: %s", name)
        deadline = time.monotonic() + timeout
        booted: list[str] = []
        while True:
            try:
                return booted + self.command(
                    "name", timeout=max(0.5, min(3.0, deadline - time.monotonic())))
            except DutReset as exc:
                # The DUT was just powered: its banner came through with our
                # 'name'. Read the rest of the boot, then ask again.
                booted += exc.lines
                self._drain_dut_lines(booted, min(2.0, max(0.1, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    raise
                # The DUT still answers our 'name' after its banner; the board
                # drops what arrives between commands, so let that pass first
                # or it would come back as the answer to the next command.
                time.sleep(QUIET_AFTER_BOOT_S)
            except DutTimeout:
                if time.monotonic() >= deadline:
                    raise DutTimeout(f"the DUT did not answer 'name' through the interface board "
                                     f"within {timeout:g} s; check that it is powered (energy "
                                     "monitor 'pwr on') and flashed with energy-mode firmware",
                                     "name") from None
