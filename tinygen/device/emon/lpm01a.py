"""ST X-NUCLEO-LPM01A (PowerShield) driver.

USB virtual COM port at 3 686 400 baud; ASCII commands ending ``\\r\\n``;
every command is answered by a line ``ack <command> ...`` or
``error <command> ...`` (prefixed by the prompt ``PowerShield > ``).
The setup is the official runner's: ``htc``, ``lcd 1 "..."``, ``pwr off``,
``acqtime inf``, ``trigdelay 0``, ``trigsrc sw``, ``eventsrc d7 fal``,
``output energy``, ``format ascii_dec``, ``freq 1k``, ``volt <mV>m``; run
with ``pwr on nostatus`` and ``start``; end with ``stop``, ``pwr off``,
``hrc``. While acquiring it streams one energy sample per millisecond in
ASCII (``6409-07`` = 6409e-07 J), an ``event N ris`` line when the DUT's
timestamp pin (Arduino D7) falls, and a ``TimeStamp`` line every second;
``stop`` ends with ``Acquisition completed``.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from typing import Callable

import serial

from tinygen.device.emon.base import EnergyCapture, EnergyMonitorError
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

BAUD = 3_686_400
USB_IDS = ("0483:5740",)        # ST virtual COM port of the PowerShield
PROMPT = "PowerShield > "
SAMPLE_HZ = 1000
_SAMPLE = re.compile(r"^(\d{4})([+-]\d{2})$")
_EVENT = re.compile(r"^event (\d+) (ris|fal)$")
COMPLETED = "Acquisition completed"


def parse_sample(text: str) -> float | None:
    """``6409-07`` -> 6.409e-04; None if ``text`` is not a sample."""
    m = _SAMPLE.match(text)
    if not m:
        return None
    return int(m.group(1)) * 10.0 ** int(m.group(2))


_SAMPLES_LINE = re.compile(r"^(?:\d{4}[+-]\d{2}\s*)+$")


def parse_samples(text: str) -> list[float] | None:
    """All samples of a data line (the stream may put several on one line);
    None if ``text`` is not made of samples only."""
    if not _SAMPLES_LINE.match(text):
        return None
    return [parse_sample(tok) for tok in text.split()]


def format_sample(joules: float) -> str:
    """The LPM01A's ascii_dec form of one energy value (4 digits, exponent)."""
    if joules <= 0:
        return "0000+00"
    exponent = 0
    mantissa = joules
    while mantissa >= 9999.5:
        mantissa /= 10.0
        exponent += 1
    while mantissa < 999.5:
        mantissa *= 10.0
        exponent -= 1
    return f"{int(round(mantissa)):04d}{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def find_lpm01a_port(ports=None) -> str:
    from tinygen.device.ports import matching_ports
    found = matching_ports(USB_IDS, ports)
    if len(found) == 1:
        return found[0]
    if not found:
        raise EnergyMonitorError("no LPM01A found (USB id 0483:5740); plug its USB in, set its "
                                 "jumpers for host control, or pass --emon-port")
    raise EnergyMonitorError(f"several ST virtual COM ports ({', '.join(found)}); choose the "
                             "LPM01A with --emon-port")


class Lpm01a:
    """The PowerShield over a pyserial URL; use as a context manager."""

    name = "lpm01a"

    def __init__(self, url: str, timeout: float = 5.0,
                 transcript: Callable[[str, str], None] | None = None):
        self.url = url
        self.timeout = timeout
        self._transcript = transcript
        self._port: serial.SerialBase | None = None
        self._messages: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._capture: EnergyCapture | None = None
        self._reader: threading.Thread | None = None
        self._closing = threading.Event()
        self._read_error: str | None = None
        self.version: str | None = None
        self.voltage: float | None = None

    # -- connection ---------------------------------------------------------

    def open(self) -> "Lpm01a":
        try:
            self._port = serial.serial_for_url(self.url, baudrate=BAUD, timeout=0.05,
                                               write_timeout=self.timeout)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise EnergyMonitorError(f"cannot open the LPM01A at {self.url}: {exc}; check "
                                     "--emon-port and that its USB cable is in") from exc
        self._reader = threading.Thread(target=self._read_loop, name="lpm01a-reader",
                                        daemon=True)
        self._reader.start()
        return self

    def close(self) -> None:
        if self._port is None:
            return
        try:
            # The official teardown; a monitor that stopped answering gets one try.
            if self._capture is not None:
                self.stop(timeout=2.0)
            for text in ("pwr off", "hrc"):
                self.command(text, timeout=2.0)
        except TinygenError as exc:
            log.warning("LPM01A teardown: %s", exc)
        finally:
            self._closing.set()
            if self._reader is not None:
                self._reader.join(timeout=1.0)
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
            self._port = None

    def __enter__(self) -> "Lpm01a":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- line I/O -----------------------------------------------------------

    def _note(self, direction: str, text: str) -> None:
        if self._transcript is not None:
            self._transcript(f"pm{direction}", text)

    def _read_loop(self) -> None:
        pending = b""
        while not self._closing.is_set():
            try:
                chunk = self._port.read(max(1, self._port.in_waiting or 1))
            except (serial.SerialException, OSError) as exc:
                self._read_error = str(exc)
                return
            if not chunk:
                continue
            pending += chunk
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                self._line(raw.decode("ascii", "replace").strip("\r"))

    def _line(self, text: str) -> None:
        while text.startswith(PROMPT.strip()):
            text = text[len(PROMPT.strip()):].lstrip()
        if not text:
            return
        values = parse_samples(text)
        with self._lock:
            capture = self._capture
            if capture is not None and values is not None:
                capture.samples_j.extend(values)
                return
            if capture is not None and _EVENT.match(text):
                capture.events.append(len(capture.samples_j))
                self._note("<", text)
                return
            if capture is not None and text.startswith("TimeStamp"):
                return
        self._note("<", text)
        self._messages.put(text)

    def _send(self, text: str) -> None:
        if self._port is None:
            raise EnergyMonitorError("the LPM01A is not open")
        self._note(">", text)
        try:
            self._port.write((text + "\r\n").encode("ascii"))
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise EnergyMonitorError(f"lost the LPM01A at {self.url}: {exc}") from exc

    def _wait_for(self, want: Callable[[str], bool], what: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EnergyMonitorError(
                    f"the LPM01A at {self.url} did not answer '{what}' within {timeout:g} s "
                    f"(got {seen[-3:] or 'nothing'}); check that it is powered, on this port, "
                    "and in host-control mode (press its reset button)"
                    + (f"; read error: {self._read_error}" if self._read_error else ""))
            try:
                line = self._messages.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            seen.append(line)
            if want(line):
                return seen

    def command(self, text: str, timeout: float | None = None) -> str:
        """Send one command; the text after ``ack <command>``, or a named error."""
        while not self._messages.empty():
            self._messages.get_nowait()
        self._send(text)
        lines = self._wait_for(
            lambda ln: ln.startswith(("ack", "error")) and text in ln, text,
            self.timeout if timeout is None else timeout)
        reply = lines[-1]
        if reply.startswith("error"):
            detail = self._error_detail()
            hint = (" (firmware older than 1.0.6 refuses 'pwr off': update the PowerShield "
                    "firmware with ST's STM32CubeMonitor-Power)" if text == "pwr off" else "")
            raise EnergyMonitorError(f"the LPM01A refused '{text}': {reply}"
                                     + (f" ({detail})" if detail else "") + hint)
        return reply.split(text, 1)[1].strip()

    def _error_detail(self) -> str:
        try:
            line = self._messages.get(timeout=0.2)
        except queue.Empty:
            return ""
        return line.replace("Error detail:", "").strip()

    # -- the procedure ------------------------------------------------------

    def setup(self, voltage: float = 3.3) -> None:
        if not 1.8 <= voltage <= 3.3:
            raise TinygenError(f"--voltage {voltage:g} is outside the LPM01A's 1.8-3.3 V")
        self.command("htc")
        self.version = self.command("version") or None
        self.command('lcd 1 "tinygen"')
        self.command(f'lcd 2 "{voltage:>14.2f}V "')
        self.command("pwr off")
        for text in ("acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                     "output energy", "format ascii_dec", "freq 1k"):
            self.command(text)
        self.command(f"volt {int(round(voltage * 1000))}m")
        self.voltage = voltage

    def power_on(self) -> None:
        self.command("pwr on nostatus")

    def start(self) -> None:
        with self._lock:
            self._capture = EnergyCapture(self.name, 1.0 / SAMPLE_HZ)
        self.command("start")

    def stop(self, timeout: float | None = None) -> EnergyCapture:
        """End the acquisition; every sample streamed before the end is kept."""
        self._send("stop")
        self._wait_for(lambda ln: COMPLETED in ln, "stop", self.timeout if timeout is None
                       else timeout)
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is None:
            raise EnergyMonitorError("LPM01A stop without start")
        return capture
