"""Raw protocol I/O with a started DUT (host process or QEMU), line by line.

``RawDut`` starts the firmware of a build folder with the runner's own
launcher (``tinygen.device.launch.start_dut``) and talks to it over the
pyserial URL it gives: a pty for the host board, QEMU's TCP serial port for
an emulated one. Unlike ``DutSession`` it checks nothing for the caller, so
a test can send malformed bytes and look at every line that comes back.
"""

from __future__ import annotations

import time
from pathlib import Path

import serial

from tinygen.boards import load_board
from tinygen.device.launch import start_dut

LINE_TIMEOUT_S = 30.0


class LineIO:
    """Line-by-line protocol I/O on ``self.port``; subclasses say whether the DUT still runs."""

    line_timeout = LINE_TIMEOUT_S
    port: serial.SerialBase
    pending: bytes

    def check_alive(self) -> None:
        raise NotImplementedError

    def write(self, data: bytes | str) -> None:
        self.port.write(data.encode() if isinstance(data, str) else data)

    def line(self, timeout: float | None = None) -> str:
        timeout = self.line_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            if time.monotonic() > deadline:
                raise AssertionError(f"no line within {timeout} s; partial {self.pending!r}")
            self.check_alive()
            self.pending += self.port.read(max(1, self.port.in_waiting))
        raw, self.pending = self.pending.split(b"\n", 1)
        assert raw.endswith(b"\r"), f"line not ended by CR LF: {raw!r}"
        return raw[:-1].decode("ascii")

    def until_ready(self, timeout: float | None = None) -> list[str]:
        lines = []
        while True:
            lines.append(self.line(timeout))
            if lines[-1] == "m-ready":
                return lines

    def command(self, text: str, timeout: float | None = None) -> list[str]:
        self.write(text + "%")
        return self.until_ready(timeout)

    def load(self, data: bytes, chunk: int = 31) -> list[str]:
        out = self.command(f"db load {len(data)}")
        assert out == [f"m-[Expecting {len(data)} bytes]", "m-ready"], out
        lines = []
        for i in range(0, len(data), chunk):
            lines += self.command("db " + data[i:i + chunk].hex())
        return lines


class RawDut(LineIO):
    """A running DUT and an open serial connection to it."""

    def __init__(self, board_name: str, build_dir: Path, log_path: Path | None = None):
        self.board = load_board(board_name)
        self.running = start_dut(self.board, Path(build_dir), log_path=log_path)
        try:
            self.port = serial.serial_for_url(self.running.url, timeout=0.2)
        except Exception:
            self.running.stop()
            raise
        self.pending = b""

    @property
    def emulated(self) -> bool:
        return self.board.is_emulated

    def close(self) -> None:
        try:
            self.port.close()
        finally:
            self.running.stop()

    def check_alive(self) -> None:
        assert self.running.running(), f"the DUT exited ({self.running.process.returncode})"
