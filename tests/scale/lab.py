"""A labgrid lab on loopback for the tests: coordinator, exporter, QEMU boards.

Everything listens on 127.0.0.1 only, every wait is bounded, and ``close()``
stops every process it started (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tinygen.boards import load_board
from tinygen.device.labgrid import lab_qemu_command
from tinygen.device.launch import _die_with_parent, check_qemu

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 20.0
EXPORTER = "lab-host"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.args[0]} did not listen on {port} within {timeout} s")


def labgrid_tool(name: str) -> str | None:
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name)


class Lab:
    """A coordinator and one exporter publishing emulated boards as places."""

    def __init__(self, folder: Path, board: str = "disco_l475vg_iot01a"):
        self.folder = folder
        self.board = load_board(board)
        self.procs: list[subprocess.Popen] = []
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "LG_COORDINATOR": self.address}
        self.places: dict[str, dict] = {}
        self._start("coordinator", [labgrid_tool("labgrid-coordinator"), "--listen", self.address])
        _wait_port(self.port, self.procs[-1], folder / "coordinator.log")

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        # Linux: the lab's processes get SIGTERM if the test process dies hard.
        proc = subprocess.Popen(command, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform.startswith("linux")
                                else None)
        log.close()
        self.procs.append(proc)
        return proc

    def add_qemu_board(self, place: str) -> None:
        """An emulated board the way a lab host runs one: halted, firmware via gdbstub."""
        serial, gdb = free_port(), free_port()
        proc = self._start(f"qemu-{place}", lab_qemu_command(check_qemu(self.board), self.board,
                                                             serial, gdb))
        _wait_port(gdb, proc, self.folder / f"qemu-{place}.log")
        self.places[place] = {"serial": serial, "gdb": gdb}

    def export(self) -> None:
        """Write exporter.yaml, start the exporter, create and match the places."""
        lines = []
        for place, ports in self.places.items():
            lines += [f"{place}:",
                      "  NetworkSerialPort:", "    host: 127.0.0.1", f"    port: {ports['serial']}",
                      "    speed: 115200", "    protocol: raw",
                      "  GDBServer:", "    host: 127.0.0.1", f"    port: {ports['gdb']}"]
        (self.folder / "exporter.yaml").write_text("\n".join(lines) + "\n")
        self._start("exporter", [labgrid_tool("labgrid-exporter"), "--coordinator", self.address,
                                 "--name", EXPORTER, "--hostname", "127.0.0.1", "exporter.yaml"])
        for place in self.places:
            self.client("-p", place, "create")
            self.client("-p", place, "add-match", f"{EXPORTER}/{place}/*")
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:   # the exporter registers its resources asynchronously
            out = self.client("resources", check=False).stdout
            if all(f"{EXPORTER}/{p}/GDBServer" in out for p in self.places):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the exporter published no resources: {out}; "
                                   f"{(self.folder / 'exporter.log').read_text()[-2000:]}")
            time.sleep(0.2)

    def client(self, *args: str, user: str | None = None, check: bool = True):
        env = dict(self.env, **({"LG_USERNAME": user} if user else {}))
        done = subprocess.run([labgrid_tool("labgrid-client"), "-x", self.address, *args],
                              env=env, capture_output=True, text=True, timeout=30)
        if check and done.returncode != 0:
            raise RuntimeError(f"labgrid-client {' '.join(args)}: {done.stdout}{done.stderr}")
        return done

    def holder(self, place: str) -> str | None:
        from tinygen.device.labgrid import LabClient

        with LabClient(self.address) as lab:
            return lab.holder(place)

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
