"""SIMULATOR of the energy interface board (host <-> board <-> DUT), not a driver.

Host side: a TCP port (pyserial ``socket://``; the real board is a USB
serial port at 115200 baud). Commands end with ``%``. ``name`` answers
the board's name and ``m-ready``; ``dut <command>`` answers
``m-dut-passthrough(<command>)`` and ``m-ready``, sends ``<command>%`` to
the DUT and relays each DUT line as ``[dut]: <line>`` up to and including
``[dut]: m-ready``. Unknown commands answer ``m-ready`` alone. DUT lines
that arrive outside a command (the boot banner) are not forwarded; the
simulator keeps them in ``unsolicited``.

The board's receive buffer holds ``buffer_chars`` characters of one host
command (64 for the Arduino's serial buffer): a longer command loses its
tail, which is why db lines through it carry at most 26 bytes.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import serial

from tinygen.device.sim import accept_host, listen_local, shut_sockets

log = logging.getLogger(__name__)

NAMES = {"h573": "tinyML Enhanced Interface Board",
         "arduino": "EEMBC IO Manager (tinygen simulator)"}
BUFFER_CHARS = 64
DUT_REPLY_TIMEOUT_S = 600.0


class InterfaceBoardSimulator:
    def __init__(self, dut_url: str, kind: str = "h573", buffer_chars: int = BUFFER_CHARS,
                 connect_timeout: float = 10.0):
        self.kind = kind
        self.buffer_chars = buffer_chars
        self.unsolicited: list[str] = []
        self.forwarded: list[str] = []        # every command passed to the DUT
        self._dut = self._open_dut(dut_url, connect_timeout)
        self._dut_pending = b""
        self._server = listen_local()
        self.url = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._conn: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="iface-sim", daemon=True)
        self._thread.start()

    @staticmethod
    def _open_dut(url: str, timeout: float) -> serial.SerialBase:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return serial.serial_for_url(url, baudrate=9600, timeout=0.05)
            except (serial.SerialException, OSError):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def _dut_line(self, deadline: float) -> str | None:
        while b"\n" not in self._dut_pending:
            try:
                waiting = self._dut.in_waiting
                if waiting or time.monotonic() < deadline:
                    self._dut_pending += self._dut.read(max(1, waiting))
            except (serial.SerialException, OSError):
                return None
            if b"\n" in self._dut_pending:
                break
            if time.monotonic() >= deadline or self._stop.is_set():
                return None
        raw, self._dut_pending = self._dut_pending.split(b"\n", 1)
        return raw.rstrip(b"\r").decode("ascii", "replace")

    def _drain_unsolicited(self) -> None:
        while True:
            line = self._dut_line(time.monotonic() + 0.0)
            if line is None:
                return
            self.unsolicited.append(line)

    def wait_for_boot(self, timeout: float = 10.0) -> list[str]:
        """Read the DUT's boot banner up to its m-ready (call before the host
        connects): afterwards no command of the host meets the banner."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._dut_line(deadline)
            if line is None:
                return list(self.unsolicited)
            self.unsolicited.append(line)
            if line == "m-ready":
                return list(self.unsolicited)

    def _send(self, text: str) -> None:
        if self._conn is not None:
            try:
                self._conn.sendall(text.encode("ascii", "replace"))
            except OSError:  # the host went away; nothing to tell it
                self._conn = None

    def _serve(self) -> None:
        conn = accept_host(self._server)
        if conn is None:
            return
        self._conn = conn
        conn.settimeout(0.05)
        pending = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                pending += chunk
            except socket.timeout:
                self._drain_unsolicited()
                continue
            except OSError:
                break
            while b"%" in pending:
                raw, pending = pending.split(b"%", 1)
                self._command(raw.decode("ascii", "replace")[: self.buffer_chars])

    def _command(self, text: str) -> None:
        text = text.strip("\r\n")
        if text == "name":
            self._send(NAMES.get(self.kind, self.kind) + "\r\nm-ready\r\n")
            return
        if text.startswith("dut "):
            command = text[4:]
            self._send(f"m-dut-passthrough({command})\r\nm-ready\r\n")
            self._drain_unsolicited()
            self.forwarded.append(command)
            try:
                self._dut.write((command + "%").encode("ascii", "replace"))
                self._dut.flush()
            except (serial.SerialException, OSError):
                return
            deadline = time.monotonic() + DUT_REPLY_TIMEOUT_S
            while True:
                line = self._dut_line(deadline)
                if line is None:
                    return
                self._send(f"[dut]: {line}\r\n")
                if line == "m-ready":
                    return
        self._send("m-ready\r\n")

    def close(self) -> None:
        self._stop.set()
        shut_sockets(self._conn, self._server)
        self._thread.join(timeout=2.0)
        try:
            self._dut.close()
        except (serial.SerialException, OSError):
            pass
