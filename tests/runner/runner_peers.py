"""Fault injectors: local TCP peers that misbehave on purpose.

These are not DUT mocks: they never speak the protocol correctly. They stand
for a dead, silent or noisy serial line so that the session's error paths
can be proven without hardware.
"""

from __future__ import annotations

import socket
import threading
import time


class Peer:
    """Accept one connection on 127.0.0.1 and run ``behaviour(conn)``."""

    def __init__(self, behaviour):
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self._server.settimeout(10)
        self.port = self._server.getsockname()[1]
        self.received = bytearray()
        self._behaviour = behaviour
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(0.05)
            self._behaviour(self, conn)

    def read_some(self, conn) -> bytes:
        try:
            data = conn.recv(4096)
        except socket.timeout:
            return b""
        except OSError:
            return b""
        self.received += data
        return data

    def wait(self, conn, seconds: float = 30.0) -> None:
        """Keep the line open, swallowing what the host sends."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.read_some(conn)

    def __enter__(self) -> "Peer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)


def silent(peer: Peer, conn) -> None:
    """Accepts the connection and never says anything."""
    peer.wait(conn)


def garbage(peer: Peer, conn) -> None:
    """Answers every byte it receives with binary noise."""
    deadline = time.monotonic() + 30
    while not peer.stopped and time.monotonic() < deadline:
        if peer.read_some(conn):
            conn.sendall(bytes([0xFF, 0x00, 0x9C, 0x81]) * 8 + b"\r\n")


def hangs_up(peer: Peer, conn) -> None:
    """Closes the connection as soon as the host sends anything."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if peer.read_some(conn):
            return


def reboots(peer: Peer, conn) -> None:
    """Answers the first command with a boot banner, as a board that reset would."""
    deadline = time.monotonic() + 30
    while not peer.stopped and time.monotonic() < deadline:
        if b"%" in peer.read_some(conn):
            conn.sendall(b"m-timestamp-mode-performance\r\nm-init-done\r\nm-ready\r\n")
            peer.wait(conn)
            return
