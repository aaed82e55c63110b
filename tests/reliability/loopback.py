"""A loopback DUT written for the runner fuzz: a TCP peer that answers each
command with what a correct DUT would print, then bends that answer the way
a test script says (drop m-ready, insert garbage, cut a line short, ...).

It is not a DUT mock for the measurement tests: it exists to put arbitrary
DUT-side bytes in front of ``DutSession`` and see that every case ends in a
value or a named error. ``expected_lines(command)`` is the correct answer,
from the protocol facts (shared docs, facts section 4).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass

READY = b"m-ready\r\n"
BANNER = b"m-timestamp-mode-performance\r\nm-init-done\r\nm-ready\r\n"


@dataclass(frozen=True)
class Bend:
    """How to change one correct answer: ``kind`` and its arguments.

    kinds: ok | raw (send ``data`` instead) | insert (``data`` at line
    ``at``) | replace (line ``at`` by ``data``) | cut (send only the first
    ``at`` bytes) | drop_ready | split (send in pieces of ``at`` bytes,
    pausing ``pause`` s) | extra (``data`` after the answer, e.g. a stray
    line) | silent (nothing at all).
    """

    kind: str = "ok"
    data: bytes = b""
    at: int = 0
    pause: float = 0.0


class LoopbackDut:
    """Accepts one connection; answers command i with ``bends[i]`` applied."""

    def __init__(self, bends: list[Bend], *, name: str = "loopback", model: str = "kws01",
                 results: str = "0.250000,0.750000", boot: bool = True,
                 bend_for=None, wire=None):
        """``bend_for(command, index)``, if given, picks the bend instead of
        ``bends``; ``wire(bytes)`` transforms everything sent (e.g. a UART
        read at the wrong baud rate)."""
        self.bends = list(bends)
        self.bend_for = bend_for
        self.wire = wire or (lambda data: data)
        self.name = name
        self.model = model
        self.results = results
        self.boot = boot
        self.received: list[str] = []
        self._db_expected = 0
        self._db_received = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self._server.settimeout(10)
        self.url = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "LoopbackDut":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)

    # -- the correct DUT ----------------------------------------------------

    def expected_lines(self, command: str, index: int = 0) -> list[str]:
        """The correct answer to command number ``index`` (0-based); its
        name answer carries the number, so a late answer is recognisable."""
        words = command.split()
        if not words:
            return []
        if words == ["name"]:
            return [f"m-name-dut-[{self.name}#{index}]"]
        if words == ["profile"]:
            return ["m-profile-[tinygen loopback]", f"m-model-[{self.model}]"]
        if words[:2] == ["db", "load"] and len(words) == 3 and words[2].isdigit():
            self._db_expected, self._db_received = int(words[2]), 0
            return [f"m-[Expecting {self._db_expected} bytes]"]
        if words[0] == "db" and len(words) == 2 and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", words[1]):
            self._db_received += len(words[1]) // 2
            return ["m-load-done"] if self._db_received == self._db_expected else []
        if words[0] == "infer" and len(words) in (2, 3) and all(w.isdigit() for w in words[1:]):
            n, w = int(words[1]), int(words[2]) if len(words) == 3 else 10
            out = [f"m-warmup-start-{w}", "m-warmup-done"] if w else []
            return out + [f"m-infer-start-{n}", "m-lap-us-1000", f"m-lap-us-{1000 + 50 * n}",
                          "m-infer-done", f"m-results-[{self.results}]"]
        if words == ["results"]:
            return [f"m-results-[{self.results}]"]
        return [f"e-[Unknown command: {words[0][:20]}]"]

    def answer(self, command: str, bend: Bend, index: int = 0) -> list[tuple[bytes, float]]:
        """The (bytes, pause after) pieces to send for one command."""
        lines = [ln.encode() + b"\r\n" for ln in self.expected_lines(command, index)] + [READY]
        if bend.kind == "raw":
            return [(bend.data, 0.0)]
        if bend.kind == "silent":
            return []
        if bend.kind == "insert":
            lines.insert(min(bend.at, len(lines)), bend.data)
        elif bend.kind == "replace":
            lines[min(bend.at, len(lines) - 1)] = bend.data
        elif bend.kind == "drop_ready":
            lines = lines[:-1]
        elif bend.kind == "extra":
            lines.append(bend.data)
        blob = b"".join(lines)
        if bend.kind == "cut":
            return [(blob[:bend.at], 0.0)]
        if bend.kind == "split" and bend.at > 0:
            return [(blob[i:i + bend.at], bend.pause) for i in range(0, len(blob), bend.at)]
        return [(blob, 0.0)]

    # -- the connection -----------------------------------------------------

    def _run(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(0.02)
            try:
                if self.boot:
                    conn.sendall(self.wire(BANNER))
                self._serve(conn)
            except OSError:
                return

    def _serve(self, conn: socket.socket) -> None:
        pending = b""
        index = 0
        deadline = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                data = conn.recv(4096)
                if not data:
                    return
                pending += data
            except socket.timeout:
                pass
            while b"%" in pending:
                raw, pending = pending.split(b"%", 1)
                command = raw.decode("ascii", "replace")
                self.received.append(command)
                if self.bend_for is not None:
                    bend = self.bend_for(command, index)
                else:
                    bend = self.bends[index] if index < len(self.bends) else Bend()
                index += 1
                if bend.kind == "hangup":
                    return
                for piece, pause in self.answer(command, bend, index - 1):
                    conn.sendall(self.wire(piece))
                    if pause:
                        time.sleep(pause)


def misclocked(data: bytes, sent_baud: int, read_baud: int) -> bytes:
    """What a UART receiving at read_baud makes of data sent at sent_baud.

    A simulator of 8N1 framing (idle high, start bit low, 8 data bits LSB
    first, stop bit high): the receiver waits for a falling edge, samples
    each bit in its middle at its own rate, and keeps the byte even when the
    stop bit is wrong (a framing error), as most UART drivers deliver it.
    """
    bit_tx, bit_rx = 1.0 / sent_baud, 1.0 / read_baud
    frame_tx = 10 * bit_tx
    end = len(data) * frame_tx

    def level(t: float) -> int:
        if t < 0 or t >= end:
            return 1
        frame, offset = divmod(t, frame_tx)
        bit = int(offset / bit_tx)
        if bit == 0:
            return 0
        if bit == 9:
            return 1
        return (data[int(frame)] >> (bit - 1)) & 1

    out = bytearray()
    t, step = 0.0, bit_rx / 16
    while t < end:
        if level(t) == 1 or level(t - step) == 0:
            t += step
            continue
        value = 0
        for i in range(8):
            value |= level(t + (1.5 + i) * bit_rx) << i
        out.append(value)
        t += 9.5 * bit_rx
    return bytes(out)
