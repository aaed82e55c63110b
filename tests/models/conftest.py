"""A local HTTP server for the fetch tests: real sockets, real urllib."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest


@dataclass
class FileServer:
    """Serves ``files`` (URL path -> bytes); anything else is a 404.

    ``truncate`` paths announce their full length but send only half of it
    and hang up; ``stall`` paths accept the request and never answer;
    ``trickle`` paths send 1 KiB every 0.1 s.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    truncate: set[str] = field(default_factory=set)
    stall: set[str] = field(default_factory=set)
    trickle: set[str] = field(default_factory=set)
    base: str = ""
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path in state.stall:
                state.release.wait(timeout=10)
                return
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404, "File not found")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in state.trickle:
                for start in range(0, len(body), 1024):
                    if state.release.wait(timeout=0.1):
                        return
                    self.wfile.write(body[start:start + 1024])
                    self.wfile.flush()
                return
            if self.path in state.truncate:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
