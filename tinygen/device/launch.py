"""Start a device under test that runs on this machine: QEMU or a host process.

``start_dut(board, build_dir)`` starts the firmware in ``build_dir`` and
returns a ``RunningDut`` whose ``url`` pyserial opens: ``socket://127.0.0.1:PORT``
for an emulated board, the ``/dev/pts/N`` path the host firmware printed for
the host board. Use it as a context manager, or call ``stop()``.

Emulated boards run under ``qemu-system-arm -icount shift=S,align=off,sleep=off``:
guest time is a pure function of the executed instruction count, each
instruction advancing the virtual clock by 2**S ns (S = the board's
``emulator.icount_shift``, 0 for every board shipped). The firmware's SysTick
counts the board's clock in that virtual time, so a difference of T us
between two ``m-lap-us`` stamps means T * 1000 / 2**S instructions. See
``time_mapping``.

The serial port is a TCP server with ``wait=on``: QEMU does not start the
guest before the first client connects, so the boot banner is never lost.
QEMU says on stderr when it listens; we wait for that line (with a timeout)
instead of probing the port, since a probe connection would be the one that
receives the banner.

``serve_pty(dut)`` offers the DUT as a serial device the official MLPerf
Tiny runner can open (it opens a plain device path, reads the reply to its
first 'name' as a line): the host firmware's own pseudo-terminal, or for an
emulated board a pseudo-terminal bridged to QEMU's socket. Either way the
boot banner is read first, so nothing stale waits for the client: an
unread banner made the runner take every reply for the previous command's.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

from tinygen.boards import Board
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

QEMU_ENV = "TINYGEN_QEMU"          # path of qemu-system-arm, to override PATH
QEMU_DEFAULT = "qemu-system-arm"
QEMU_MIN_VERSION = (9, 0)          # b-l475e-iot01a first appeared in QEMU 9.0
QEMU_INSTALL_HINT = ("install QEMU >= 9 (Debian 12: apt install -t bookworm-backports "
                     "qemu-system-arm) or set TINYGEN_QEMU to its path")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
_POLL_S = 0.02
_PORT_ATTEMPTS = 3
_LISTENING = "waiting for connection"
_PTY_LINE = re.compile(r"^TG_PTY=(\S+)\s*$", re.MULTILINE)
_VERSION = re.compile(r"version (\d+)\.(\d+)(?:\.(\d+))?")


@dataclass
class RunningDut:
    """A started DUT: its pyserial URL and the process behind it."""

    board: Board
    url: str
    process: subprocess.Popen
    log_path: Path
    command: list[str] = field(default_factory=list)

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Ends the process: terminate, then kill after ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", self.board.name, timeout)
                self.process.kill()
                self.process.wait(timeout=timeout)
        return self.process.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Waits for the process to end by itself (None: forever, e.g. until Ctrl-C)."""
        return self.process.wait(timeout=timeout)

    def __enter__(self) -> "RunningDut":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def time_mapping(board: Board) -> str:
    """How emulated time relates to instructions and to the real board."""
    if not board.is_emulated:
        return f"{board.name} runs in real time"
    shift = board.emulator.icount_shift
    ns = 2 ** shift
    mhz = board.clock_hz / 1e6
    return (f"QEMU -icount shift={shift}: every instruction advances virtual time by {ns} ns, so "
            f"1 us between two m-lap-us stamps = {1000 / ns:g} "
            f"instructions; SysTick ticks {mhz:g} MHz of virtual time. On the real {board.name} "
            f"({mhz:g} MHz) the same code needs about one cycle per instruction plus flash wait "
            f"and load/store stalls: real us ~= instructions / {mhz:g}")


def qemu_binary() -> str:
    """The qemu-system-arm to use, or a TinygenError saying how to install it."""
    name = os.environ.get(QEMU_ENV) or QEMU_DEFAULT
    path = shutil.which(name)
    if path is None:
        raise TinygenError(f"QEMU not found ({name}); {QEMU_INSTALL_HINT}")
    return path


def _run_quick(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TinygenError(f"cannot run {command[0]}: {exc}; {QEMU_INSTALL_HINT}") from exc
    return done.stdout + done.stderr


def check_qemu(board: Board) -> str:
    """Checks QEMU exists, is recent enough and has the board's machine."""
    qemu = qemu_binary()
    match = _VERSION.search(_run_quick([qemu, "--version"]))
    if not match:
        raise TinygenError(f"{qemu} did not report a version; {QEMU_INSTALL_HINT}")
    version = (int(match.group(1)), int(match.group(2)))
    machine = board.emulator.qemu_machine
    machines = _run_quick([qemu, "-machine", "help"])
    if not re.search(rf"^{re.escape(machine)}\s", machines, re.MULTILINE):
        raise TinygenError(
            f"QEMU {version[0]}.{version[1]} at {qemu} has no machine '{machine}' for "
            f"{board.name}; {QEMU_INSTALL_HINT}")
    if version < QEMU_MIN_VERSION:
        log.warning("QEMU %d.%d is older than %d.%d; emulation may differ",
                    *version, *QEMU_MIN_VERSION)
    return qemu


def qemu_command(qemu: str, board: Board, elf: Path, port: int) -> list[str]:
    shift = board.emulator.icount_shift
    return [
        qemu, "-M", board.emulator.qemu_machine, "-kernel", str(elf),
        "-nographic", "-monitor", "none",
        "-icount", f"shift={shift},align=off,sleep=off",
        # nodelay: the guest UART sends byte by byte; with Nagle each reply
        # waited ~40 ms for the host's delayed ACK (a 2560-byte load took 5.6 s, now 0.9 s).
        "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on",
    ]


def _die_with_parent() -> None:
    """In the child before exec (Linux): get SIGTERM when the parent dies, so a
    crashed test or runner never leaves QEMU waiting for a client forever."""
    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _spawn(command: list[str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as sink:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def _wait_for(process: subprocess.Popen, log_path: Path, pattern: re.Pattern | str,
              timeout: float) -> re.Match | str | None:
    """Polls the log until pattern shows; None if the process ended first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = log_path.read_text(errors="replace")
        except OSError:
            text = ""
        if isinstance(pattern, str):
            if pattern in text:
                return pattern
        else:
            match = pattern.search(text)
            if match:
                return match
        if process.poll() is not None:
            return None
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(_POLL_S)


def _start_qemu(board: Board, build_dir: Path, log_path: Path, timeout: float,
                extra_args: tuple[str, ...] = ()) -> RunningDut:
    elf = build_dir / "firmware.elf"
    if not elf.is_file():
        raise TinygenError(f"no firmware.elf in {build_dir}; run 'tinygen build --board "
                           f"{board.name} --bench B' first (or pass the right --build)")
    qemu = check_qemu(board)
    for attempt in range(_PORT_ATTEMPTS):
        port = _free_port()
        command = qemu_command(qemu, board, elf, port) + list(extra_args)
        log.debug("starting %s", " ".join(command))
        process = _spawn(command, log_path)
        dut = RunningDut(board, f"socket://127.0.0.1:{port}", process, log_path, command)
        try:
            found = _wait_for(process, log_path, _LISTENING, timeout)
        except TimeoutError:
            dut.stop()
            raise TinygenError(f"QEMU did not open its serial port within {timeout:.0f} s "
                               f"({_tail(log_path)}); see {log_path}") from None
        if found:
            log.info("QEMU %s listening on %s", board.emulator.qemu_machine, dut.url)
            return dut
        reason = _tail(log_path)
        if "in use" in reason and attempt + 1 < _PORT_ATTEMPTS:
            continue  # another program took the port between probe and bind
        raise TinygenError(f"QEMU exited with code {process.returncode} before the guest "
                           f"started: {reason or 'no output'}; see {log_path}")
    raise AssertionError("unreachable")


def _start_host(board: Board, build_dir: Path, log_path: Path, timeout: float) -> RunningDut:
    exe = build_dir / "firmware"
    if not exe.is_file() or not os.access(exe, os.X_OK):
        raise TinygenError(f"no firmware executable in {build_dir}; run 'tinygen build "
                           f"--board {board.name} --bench B' first (or pass the right --build)")
    command = [str(exe)]
    process = _spawn(command, log_path)
    dut = RunningDut(board, "", process, log_path, command)
    try:
        found = _wait_for(process, log_path, _PTY_LINE, timeout)
    except TimeoutError:
        dut.stop()
        raise TinygenError(f"{exe} did not print TG_PTY=... within {timeout:.0f} s; "
                           f"see {log_path}") from None
    if not found:
        raise TinygenError(f"{exe} exited with code {process.returncode} before printing its "
                           f"pty: {_tail(log_path) or 'no output'}")
    dut.url = found.group(1)
    log.info("host DUT running as pid %d on %s", process.pid, dut.url)
    return dut


def start_dut(board: Board, build_dir: Path, *, log_path: Path | None = None,
              timeout: float = START_TIMEOUT_S, extra_args: tuple[str, ...] = ()) -> RunningDut:
    """Starts the firmware in build_dir on QEMU (emulated board) or natively (host).

    QEMU's or the host process's own output goes to log_path (default
    build_dir/dut.log). The result is a context manager that stops the DUT.
    ``extra_args`` go to QEMU's command line (the energy pin watcher's
    GDB stub, QMP socket and -S).
    """
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise TinygenError(f"build folder {build_dir} does not exist; run 'tinygen build "
                           f"--board {board.name} --bench B' first")
    log_path = Path(log_path) if log_path else build_dir / "dut.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if board.is_host:
        return _start_host(board, build_dir, log_path, timeout)
    if board.is_emulated:
        return _start_qemu(board, build_dir, log_path, timeout, tuple(extra_args))
    raise TinygenError(f"{board.name} is a real board and cannot be started here; flash it "
                       f"with 'tinygen flash --board {board.name}' and use its serial port")


BANNER_TIMEOUT_S = 10.0
_BANNER_END = b"m-ready"


@dataclass
class PtyEndpoint:
    """A serial device path for clients that open plain device files."""

    path: str
    banner: list[str]                  # the boot lines read before any client came
    _stop: threading.Event | None = None
    _thread: threading.Thread | None = None
    _fds: tuple[int, ...] = ()
    _sock: socket.socket | None = None

    def close(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT_S)
        if self._sock is not None:
            self._sock.close()
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = ()

    def __enter__(self) -> "PtyEndpoint":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _banner_lines(data: bytes) -> list[str]:
    return [ln.strip() for ln in data.decode("ascii", "replace").splitlines() if ln.strip()]


def _read_banner_from_socket(sock: socket.socket, timeout: float) -> bytes:
    """What the guest prints up to and including m-ready (or until timeout)."""
    deadline = time.monotonic() + timeout
    got = b""
    while _BANNER_END not in got:
        left = deadline - time.monotonic()
        if left <= 0:
            log.warning("no m-ready from the DUT within %.0f s; bridging anyway", timeout)
            break
        sock.settimeout(min(left, 0.5))
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            raise TinygenError("QEMU closed the serial connection during boot; see its log")
        got += chunk
    # The line ends after m-ready: take the rest of it (\r\n) too.
    end = time.monotonic() + 0.2
    while not got.endswith(b"\n") and time.monotonic() < end:
        sock.settimeout(0.05)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            break
        got += chunk
    return got


def _relay(master: int, sock: socket.socket, stop: threading.Event) -> None:
    """Copies bytes both ways until stop is set or QEMU closes the socket."""
    sock.setblocking(False)
    os.set_blocking(master, False)
    with selectors.DefaultSelector() as sel:
        sel.register(master, selectors.EVENT_READ, "pty")
        sel.register(sock, selectors.EVENT_READ, "socket")
        while not stop.is_set():
            for key, _ in sel.select(timeout=0.2):
                try:
                    if key.data == "pty":
                        data = os.read(master, 4096)
                        if data:
                            sock.sendall(data)
                    else:
                        data = sock.recv(4096)
                        if not data:
                            log.info("QEMU closed its serial port; the bridge stops")
                            return
                        _write_all(master, data, stop)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    log.warning("serial bridge stopped: %s", exc)
                    return


def _write_all(fd: int, data: bytes, stop: threading.Event) -> None:
    while data and not stop.is_set():
        try:
            done = os.write(fd, data)
        except BlockingIOError:
            time.sleep(0.005)
            continue
        data = data[done:]


def serve_pty(dut: RunningDut, timeout: float = BANNER_TIMEOUT_S) -> PtyEndpoint:
    """A pseudo-terminal for the DUT, its boot banner already read.

    Host board: the firmware's own pty; tinygen opens it once (which boots
    the firmware), reads the banner up to m-ready and closes it again; the
    firmware keeps running for the next client. Emulated board: a new pty
    pair whose far end is bridged to QEMU's serial socket by a thread; the
    banner is read from the socket before the bridge starts. The bridge
    keeps its own descriptor of the terminal open, so a client may close
    and reopen it. Stop it with close() (or use it as a context manager).
    """
    if dut.board.is_host:
        from tinygen.device.session import DutSession, DutTimeout

        try:
            with DutSession(dut.url, timeout=timeout) as session:
                banner = session.wait_ready(timeout=timeout)
        except DutTimeout as exc:
            log.warning("the DUT did not end its boot banner with m-ready: %s", exc)
            banner = []
        return PtyEndpoint(dut.url, banner)
    if not dut.url.startswith("socket://"):
        raise TinygenError(f"cannot bridge {dut.url} to a pseudo-terminal; start the board "
                           "with 'tinygen flash' first")
    host, _, port = dut.url[len("socket://"):].rpartition(":")
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError as exc:
        raise TinygenError(f"cannot connect to QEMU's serial port {dut.url}: {exc}; is the "
                           "emulator still running?") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        banner = _banner_lines(_read_banner_from_socket(sock, timeout))
        master, slave = os.openpty()
    except BaseException:
        sock.close()
        raise
    # Raw: no echo, no line editing, no CR/LF translation before a client sets its own mode.
    tty.setraw(slave)
    stop = threading.Event()
    thread = threading.Thread(target=_relay, args=(master, sock, stop),
                              name="tinygen-pty-bridge", daemon=True)
    thread.start()
    path = os.ttyname(slave)
    log.info("serial bridge %s <-> %s", path, dut.url)
    return PtyEndpoint(path, banner, stop, thread, (master, slave), sock)
