"""A protocol session with a device under test (DUT).

The DUT speaks the MLPerf Tiny serial protocol (shared docs, facts section
4): the host ends every command with ``%``, the DUT answers with lines ending
in ``\\r\\n`` and closes every command with ``m-ready``. ``DutSession`` works
over any pyserial URL: ``socket://host:port`` (QEMU), ``/dev/pts/N`` (the
host DUT), ``/dev/ttyACM0`` or ``COM3`` (a real board's ST-LINK port).

Every line sent and received goes to the ``transcript`` callback as
``(direction, text)`` with direction ``">"`` (host to DUT) or ``"<"`` (DUT to
host); the runner time-stamps them into ``log.txt``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import serial

from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

try:  # termios calls (tcdrain on flush) raise their own error type on POSIX
    import termios
    _IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # Windows
    _IO_ERRORS = (serial.SerialException, OSError)

Transcript = Callable[[str, str], None]

READY = "m-ready"
DEFAULT_CHUNK_BYTES = 31        # the official host's db line size
ENERGY_CHUNK_BYTES = 26         # through the energy-mode interface board
MAX_LINE_CHARS = 4096           # a line longer than this is garbage, not protocol
MAX_COMMAND_CHARS = 80          # the harness's command buffer (EE_CMD_SIZE), '%' not counted
# What a busy DUT can queue (the STM32L4 receive ring, 256 bytes with its
# lost-input mark): longer lines are refused before sending, so nothing the
# host sends is lost; 81..254 characters still reach the harness, which
# answers them with an e- line (conformance probes send such lines).
MAX_SEND_CHARS = 254
# db lines on the way at once to an emulated DUT that tinygen started (at most
# MAX_SEND_CHARS bytes: three 31-byte lines): QEMU's UART takes a byte only
# when the guest has read the previous one, so nothing queued is lost, and
# the guest does not idle waiting for the host's next line (measured on
# mps3_an547, 27,648 bytes on a busy host: 15 to 40 % less time than line by line).
EMULATOR_LOAD_WINDOW = 3
RESYNC_QUIET_S = 0.1            # after a failed command: the line is quiet this long
BOOT_MARKERS = ("m-timestamp-mode-", "m-init-done")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RESULTS = re.compile(r"^m-results-\[(.*)\]$")
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")
_LAP = re.compile(r"^m-lap-us-(\d+)$")
_EXPECTING = re.compile(r"^m-\[Expecting (\d+) bytes\]$")


class DutError(TinygenError):
    """The DUT answered a command with an error or broke the protocol.

    ``command`` is the command text, ``lines`` what the DUT printed for it.
    """

    def __init__(self, message: str, command: str = "", lines: list[str] | None = None):
        super().__init__(message)
        self.command = command
        self.lines = list(lines or [])


class DutTimeout(DutError):
    """The DUT did not close a command with m-ready in time."""


class DutReset(DutError):
    """The DUT printed its boot banner in the middle of a command."""


class DutDisconnected(DutError):
    """The serial connection went away (process died, cable pulled)."""


@dataclass
class InferResult:
    """What one ``infer N W`` printed."""

    count: int
    warmup: int
    start_us: int | None          # DUT timestamps around the timed window
    end_us: int | None            # (None in energy mode: GPIO edges instead)
    values: list[float]
    lines: list[str] = field(default_factory=list)
    host_seconds: float = 0.0     # wall time the command took on the host

    @property
    def elapsed_us(self) -> int | None:
        if self.start_us is None or self.end_us is None:
            return None
        return self.end_us - self.start_us

    @property
    def seconds(self) -> float | None:
        elapsed = self.elapsed_us
        return None if elapsed is None else elapsed / 1e6

    @property
    def throughput(self) -> float | None:
        """Inferences per second from the DUT's own timestamps."""
        elapsed = self.elapsed_us
        if not elapsed or elapsed <= 0:
            return None
        return self.count * 1e6 / elapsed

    def to_dict(self) -> dict:
        return {
            "count": self.count,
            "warmup": self.warmup,
            "start_us": self.start_us,
            "end_us": self.end_us,
            "elapsed_us": self.elapsed_us,
            "throughput": self.throughput,
            "values": self.values,
            "host_seconds": self.host_seconds,
        }


def parse_results_line(line: str) -> list[float]:
    """Parse ``m-results-[v0,v1,...]`` strictly into floats.

    Every value must be a plain decimal number (optionally with exponent);
    an empty list, blanks inside numbers, nan/inf or stray text are errors.
    """
    m = _RESULTS.match(line.strip("\r\n"))
    if not m:
        raise DutError(f"malformed results line {line!r}: expected m-results-[v0,v1,...]",
                       "results", [line])
    body = m.group(1)
    if not body:
        raise DutError(f"results line {line!r} holds no values", "results", [line])
    values = []
    for item in body.split(","):
        text = item.strip()
        if not _NUMBER_RE.match(text):
            raise DutError(f"results line {line!r}: {item!r} is not a number", "results", [line])
        value = float(text)
        if not math.isfinite(value):
            raise DutError(f"results line {line!r}: {item!r} is out of range", "results", [line])
        values.append(value)
    return values


def find_results(lines: list[str], command: str) -> list[float]:
    """The values of the one results line among ``lines``."""
    found = [ln for ln in lines if ln.startswith("m-results-")]
    if len(found) != 1:
        raise DutError(
            f"'{command}' printed {len(found)} results lines, expected exactly one",
            command, lines)
    return parse_results_line(found[0])


def parse_infer(lines: list[str], count: int, warmup: int) -> InferResult:
    """Timestamps and results of what ``infer N W`` printed, checked strictly."""
    text = f"infer {count} {warmup}"
    start_idx = next((i for i, ln in enumerate(lines) if ln.startswith("m-infer-start")), None)
    if start_idx is None or "m-infer-done" not in lines[start_idx:]:
        raise DutError(f"'{text}' did not print m-infer-start and m-infer-done "
                       f"(got {_tail(lines)})", text, lines)
    if lines[start_idx] != f"m-infer-start-{count}":
        raise DutError(f"'{text}' announced {lines[start_idx]!r}", text, lines)
    done_idx = lines.index("m-infer-done", start_idx)
    stamps = [int(m.group(1)) for m in (_LAP.match(ln) for ln in lines[start_idx:done_idx]) if m]
    if len(stamps) not in (0, 2):
        raise DutError(f"'{text}' printed {len(stamps)} timestamps in its timed window, "
                       "expected 2 (performance mode) or 0 (energy mode)", text, lines)
    start_us, end_us = (stamps[0], stamps[1]) if stamps else (None, None)
    if start_us is not None and end_us < start_us:
        raise DutError(f"'{text}': the DUT's clock ran backwards ({start_us} -> {end_us} us)",
                       text, lines)
    values = find_results(lines[done_idx:], text)
    return InferResult(count, warmup, start_us, end_us, values, lines)


class DutSession:
    """A protocol session over a pyserial URL; use it as a context manager.

    ``timeout`` is the default time a command may take to end in m-ready.
    """

    def __init__(self, url: str, timeout: float = 5.0, *, baudrate: int = 115200,
                 transcript: Transcript | None = None,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 connect_timeout: float = 10.0, load_window: int = 1):
        if not 1 <= chunk_bytes <= 37:
            raise TinygenError(f"db chunk of {chunk_bytes} bytes does not fit an 80-character "
                               "line; use 1 to 37 bytes")
        self.url = url
        self.timeout = timeout
        self.baudrate = baudrate
        self.chunk_bytes = chunk_bytes
        self.connect_timeout = connect_timeout
        # db lines sent ahead of their m-ready during a load: 1 (the official
        # host's pacing) for a DUT whose receive queue can overflow; more only
        # where nothing sent can be lost (QEMU holds unread bytes in the socket).
        self.load_window = max(1, load_window)
        self._transcript = transcript
        self._port: serial.SerialBase | None = None
        self._pending = b""
        # Set when a command failed before its m-ready: the rest of its answer
        # may still be on the way and must not be read as the next one's.
        self._unsettled = False

    # -- connection -------------------------------------------------------

    def open(self) -> "DutSession":
        if self._port is not None:
            return self
        deadline = time.monotonic() + self.connect_timeout
        last: Exception | None = None
        while True:
            try:
                port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                             timeout=0.05, write_timeout=self.timeout,
                                             do_not_open=True)
                port.open()
                break
            except (serial.SerialException, OSError, ValueError) as exc:
                last = exc
                # A refused socket may be an emulator still starting; a missing
                # device node will not appear by waiting.
                if not self.url.startswith("socket://") or time.monotonic() >= deadline:
                    raise TinygenError(
                        f"cannot open the DUT's serial port {self.url}: {_reason(last)}; "
                        "check the port name (tinygen run --port) and that nothing else "
                        "holds it open") from exc
                time.sleep(0.1)
        self._port = port
        self._pending = b""
        self._unsettled = False
        log.debug("opened %s", self.url)
        return self

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except _IO_ERRORS:
                pass
            self._port = None

    def __enter__(self) -> "DutSession":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- line I/O -----------------------------------------------------------

    def _note(self, direction: str, text: str) -> None:
        if self._transcript is not None:
            self._transcript(direction, text)

    def _port_or_fail(self) -> serial.SerialBase:
        if self._port is None:
            raise TinygenError("the DUT session is not open; use 'with DutSession(url) as dut:'")
        return self._port

    def _write(self, text: str, command: str) -> None:
        port = self._port_or_fail()
        self._note(">", text)
        try:
            port.write(text.encode("ascii"))
            port.flush()
        except serial.SerialTimeoutException as exc:
            raise DutTimeout(f"the DUT did not accept '{command}' within {self.timeout:g} s "
                             "(flow control stuck?); reset the board", command) from exc
        except _IO_ERRORS as exc:
            raise DutDisconnected(f"lost the connection to the DUT while sending '{command}': "
                                  f"{_reason(exc)}; check that it is still running", command) from exc

    def _read_line(self, deadline: float, command: str, lines: list[str]) -> str | None:
        """The next line without its line ending, or None at the deadline."""
        port = self._port_or_fail()
        while True:
            nl = self._pending.find(b"\n")
            if nl >= 0:
                raw, self._pending = self._pending[:nl], self._pending[nl + 1:]
                return self._decode(raw.rstrip(b"\r"), command, lines)
            if len(self._pending) > MAX_LINE_CHARS:
                raw, self._pending = self._pending, b""
                self._garbage(raw, command, lines, f"over {MAX_LINE_CHARS} bytes without a line end")
            if time.monotonic() >= deadline:
                return None
            try:
                chunk = port.read(max(1, port.in_waiting or 1))
            except _IO_ERRORS as exc:
                raise DutDisconnected(
                    f"lost the connection to the DUT during '{command}': {_reason(exc)}; "
                    f"received before that: {_tail(lines)}", command, lines) from exc
            if chunk:
                self._pending += chunk

    def _decode(self, raw: bytes, command: str, lines: list[str]) -> str:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            self._garbage(raw, command, lines, "non-ASCII bytes")
        if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in text):
            self._garbage(raw, command, lines, "control characters")
        self._note("<", text)
        return text

    def _garbage(self, raw: bytes, command: str, lines: list[str], why: str) -> None:
        self._note("<", f"<garbage {raw[:80]!r}>")
        raise DutError(
            f"garbage on the serial line during '{command}' ({why}: {raw[:40]!r}); "
            "check the baud rate and that the port belongs to the DUT", command, lines)

    def discard_input(self) -> list[str]:
        """Drop (but log) anything received that no command asked for.

        Everything pending goes, a partial line too: bytes that arrived before
        a command was sent cannot be part of its answer. After a command that
        failed before its m-ready, wait until the line has been quiet for
        RESYNC_QUIET_S (at most the command timeout), so that the rest of the
        failed answer is not read as the next command's (the official runner,
        given one stray line, reads every later answer one command late).
        """
        port = self._port_or_fail()
        quiet_until = time.monotonic() + RESYNC_QUIET_S if self._unsettled else 0.0
        give_up = time.monotonic() + max(self.timeout, RESYNC_QUIET_S)
        while True:
            try:
                # pyserial's socket:// reports at most 1 byte waiting: read on
                # until nothing is, or a stray line is only half dropped.
                waiting = port.in_waiting
                if waiting:
                    self._pending += port.read(waiting)
                    if time.monotonic() < give_up:
                        continue
                elif quiet_until:
                    got = port.read(1)
                    if got:
                        self._pending += got
                        quiet_until = time.monotonic() + RESYNC_QUIET_S
            except _IO_ERRORS as exc:
                raise DutDisconnected(f"lost the connection to the DUT: {_reason(exc)}; "
                                      "check that it is still running") from exc
            now = time.monotonic()
            if not quiet_until or now >= quiet_until or now >= give_up:
                break
        self._unsettled = False
        stale = []
        while self._pending:
            raw, sep, self._pending = self._pending.partition(b"\n")
            text = raw.rstrip(b"\r").decode("ascii", "replace")
            self._note("<", text if sep else f"<partial line {raw[:80]!r}>")
            stale.append(text)
        if stale:
            log.debug("discarded unsolicited input: %s", stale)
        return stale

    def read_until_ready(self, command: str, timeout: float | None = None,
                         allow_boot: bool = False) -> list[str]:
        """Lines up to (not including) the next ``m-ready``."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            line = self._read_line(deadline, command, lines)
            if line is None:
                got = _tail(lines) if lines else "nothing"
                raise DutTimeout(
                    f"the DUT did not finish '{command}' within {timeout:g} s "
                    f"(received: {got}); check that it runs the tinygen/MLPerf Tiny "
                    "firmware and is not stuck", command, lines)
            if line == READY:
                return lines
            if not allow_boot and line.startswith(BOOT_MARKERS):
                lines.append(line)
                raise DutReset(
                    f"the DUT restarted during '{command}' (printed {line!r}); "
                    "check its power and the log for a crash", command, lines)
            lines.append(line)

    def command(self, text: str, timeout: float | None = None) -> list[str]:
        """Send ``text%`` and return the lines the DUT printed before m-ready.

        Raises ``DutError`` (lines kept on it) if one of them is an ``e-`` line.
        """
        _check_command(text)
        return self.command_unchecked(text, timeout)

    def command_unchecked(self, text: str, timeout: float | None = None) -> list[str]:
        """``command`` without the host-side limits (80 characters, printable):
        for checks that the DUT itself refuses such input (verify's protocol
        conformance), never for measurements."""
        self.discard_input()
        self._write(text + "%", text)
        try:
            lines = self.read_until_ready(text, timeout)
        except DutError:
            self._unsettled = True
            raise
        errors = [ln for ln in lines if ln.startswith("e-")]
        if errors:
            raise DutError(f"the DUT refused '{text}': {errors[0]}", text, lines)
        return lines

    # -- protocol helpers ---------------------------------------------------

    def wait_ready(self, timeout: float = 10.0, quiet: float = 0.5) -> list[str]:
        """Wait for the boot banner to end in m-ready.

        If the DUT says nothing for ``quiet`` seconds, its banner went out
        before we connected: ask its name and wait for that m-ready instead.
        """
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        first = self._read_line(min(deadline, time.monotonic() + quiet), "boot", lines)
        if first is not None:
            lines.append(first)
            if first == READY:
                return lines
            rest = self.read_until_ready("boot", max(0.1, deadline - time.monotonic()),
                                         allow_boot=True)
            return lines + rest
        self._write("name%", "name")
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise DutTimeout("", "name", [])
                got = self.read_until_ready("name", remaining, allow_boot=True)
            except DutTimeout as exc:
                lines += exc.lines
                raise DutTimeout(
                    f"the DUT sent no boot banner and did not answer 'name' within {timeout:g} s "
                    f"(received: {_tail(lines)}); check the port, the baud rate and that "
                    "the firmware is flashed and running", "name", lines) from None
            lines += got + [READY]
            # The banner's own m-ready may come first; the answer has the name.
            if any(ln.startswith("m-name-") for ln in got):
                return lines

    def name(self) -> str:
        lines = self.command("name")
        for line in lines:
            m = re.match(r"^m-name-dut-\[(.*)\]$", line)
            if m:
                return m.group(1)
        raise DutError(f"'name' printed no m-name-dut-[...] line (got {_tail(lines)})",
                       "name", lines)

    def profile(self) -> tuple[str, str]:
        """(firmware profile string, model id) from ``profile``."""
        lines = self.command("profile")
        prof = model = None
        for line in lines:
            m = re.match(r"^m-profile-\[(.*)\]$", line)
            if m:
                prof = m.group(1)
            m = re.match(r"^m-model-\[(.*)\]$", line)
            if m:
                model = m.group(1)
        if prof is None or model is None:
            raise DutError(f"'profile' did not print m-profile-[...] and m-model-[...] "
                           f"(got {_tail(lines)})", "profile", lines)
        return prof, model

    def load(self, data: bytes, chunk_bytes: int | None = None,
             timeout: float | None = None) -> None:
        """Download ``data`` into the DUT's buffer (``db load`` + ``db`` lines)."""
        chunk = chunk_bytes or self.chunk_bytes
        if not data:
            raise TinygenError("nothing to load: the stimulus is empty")
        lines = self.command(f"db load {len(data)}", timeout)
        expecting = [m for m in (_EXPECTING.match(ln) for ln in lines) if m]
        if not expecting or int(expecting[0].group(1)) != len(data):
            raise DutError(f"'db load {len(data)}' was not acknowledged with "
                           f"m-[Expecting {len(data)} bytes] (got {_tail(lines)})",
                           f"db load {len(data)}", lines)
        texts = ["db " + data[offset:offset + chunk].hex() for offset in range(0, len(data), chunk)]
        if self.load_window == 1:
            for i, text in enumerate(texts):
                self._check_load_answer(self.command(text, timeout), i, texts, len(data), chunk)
            return
        # Windowed: up to load_window lines on the way, so the DUT finds the
        # next line waiting when it answers one (an emulator then never idles
        # between lines); each answer is still read and checked in order.
        # Never more on the way than a busy DUT's receive queue holds
        # (MAX_SEND_CHARS): the STM32 boards' interrupt fills a 256-byte ring.
        sent = 0
        for i, text in enumerate(texts):
            while (sent < len(texts) and sent - i < self.load_window
                   and sum(len(t) + 1 for t in texts[i:sent + 1]) <= MAX_SEND_CHARS):
                _check_command(texts[sent])
                self._write(texts[sent] + "%", texts[sent])
                sent += 1
            try:
                lines = self.read_until_ready(text, timeout)
                errors = [ln for ln in lines if ln.startswith("e-")]
                if errors:
                    raise DutError(f"the DUT refused '{text}': {errors[0]}", text, lines)
                self._check_load_answer(lines, i, texts, len(data), chunk)
            except DutError:
                # the answers to the lines sent after this one are still coming
                self._unsettled = True
                raise

    @staticmethod
    def _check_load_answer(lines: list[str], i: int, texts: list[str], size: int,
                           chunk: int) -> None:
        last = i == len(texts) - 1
        done = "m-load-done" in lines
        if done and not last:
            raise DutError(f"the DUT reported m-load-done after {min(size, (i + 1) * chunk)} of "
                           f"{size} bytes", texts[i], lines)
        if last and not done:
            raise DutError(f"the DUT did not report m-load-done after all {size} bytes "
                           f"(got {_tail(lines)})", texts[i], lines)

    def infer(self, count: int, warmup: int = 10, timeout: float | None = None) -> InferResult:
        """Run ``infer N W`` and parse its timestamps and results line."""
        text = f"infer {count} {warmup}"
        started = time.monotonic()
        lines = self.command(text, timeout)
        result = parse_infer(lines, count, warmup)
        result.host_seconds = time.monotonic() - started
        return result

    def results(self, timeout: float | None = None) -> list[float]:
        lines = self.command("results", timeout)
        return find_results(lines, "results")


def _check_command(text: str) -> None:
    """A command the DUT can receive whole: printable ASCII, no '%', and short
    enough to wait in a busy DUT's receive queue (the harness itself takes
    MAX_COMMAND_CHARS and refuses longer ones with an e- line)."""
    if len(text) > MAX_SEND_CHARS:
        raise TinygenError(f"command of {len(text)} characters is longer than a DUT can queue "
                           f"({MAX_SEND_CHARS}; the harness takes {MAX_COMMAND_CHARS}); split the "
                           "data (db lines of at most 37 bytes)")
    if any(not (" " <= c <= "~") or c == "%" for c in text):
        raise TinygenError(f"command {text!r} holds '%' or a non-printable character; the "
                           "protocol carries printable ASCII only, '%' ends a command")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None)
    if not text and len(exc.args) == 2 and isinstance(exc.args[1], str):
        text = exc.args[1]  # termios.error(errno, message)
    text = text or str(exc) or type(exc).__name__
    return text.splitlines()[0]


def _tail(lines: list[str], keep: int = 4) -> str:
    if not lines:
        return "nothing"
    shown = lines[-keep:]
    prefix = f"... {len(lines) - keep} more, " if len(lines) > keep else ""
    return prefix + " | ".join(repr(s) for s in shown)
