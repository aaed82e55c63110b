"""Watch an emulated board's energy timestamp pin from inside QEMU.

How: QEMU's GDB stub (``-gdb tcp:...``) with a write watchpoint on the GPIO
port's BSRR and ODR registers, plus QMP (``-qmp tcp:...``) for the
emulator's instruction counter (``query-replay`` reports it whenever
``-icount`` is on). Why this way in: every Debian/backports QEMU 10 build
has the GDB stub and QMP (no TCG plugin header is packaged, and the
``stm32l4x5_gpio*`` trace events carry only host wall time). Under
``-icount`` a stopped VM does not advance virtual time, so halting at each
pin write costs nothing in measured time.

A hit is reported with the PC on the store, before it executes: we
remove the watchpoint, single-step the store, read ODR (the pin level
after the store) and the instruction count, put the watchpoint back and
continue. QEMU starts with ``-S``, so no edge happens before we watch.

Times are QEMU's executed-instruction count times 2**icount_shift ns:
virtual time while the CPU runs (idle WFI periods between commands are
not counted, and timed windows contain none).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

GPIO_BASE = 0x48000000     # STM32L4 GPIOA; ports are 0x400 apart
GPIO_STRIDE = 0x400
ODR_OFFSET = 0x14
BSRR_OFFSET = 0x18
CONNECT_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 10.0
_PACKET = re.compile(rb"\$([^#]*)#[0-9a-fA-F]{2}")


@dataclass(frozen=True)
class PinEdge:
    """One change of the watched pin: its new level and when (QEMU time)."""

    level: int          # 0 = pulled low (a timestamp starts), 1 = released
    icount: int         # instructions executed so far
    ns: int             # icount * 2**shift: virtual nanoseconds

    @property
    def falling(self) -> bool:
        return self.level == 0


def _connect(port: int, what: str, timeout: float) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1.0)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise TinygenError(f"cannot reach QEMU's {what} on port {port}: {exc}; "
                                   "check that QEMU is running (see dut.log)") from exc
            time.sleep(0.05)


class GdbRemote:
    """The few GDB remote serial protocol packets we need, no-ack mode."""

    def __init__(self, port: int, timeout: float = CONNECT_TIMEOUT_S):
        self.sock = _connect(port, "GDB stub", timeout)
        self._buf = b""
        self._ack = True
        if self.request("QStartNoAckMode") == "OK":
            self._ack = False

    def send(self, data: str) -> None:
        checksum = sum(data.encode("ascii")) & 0xFF
        self.sock.sendall(f"${data}#{checksum:02x}".encode("ascii"))

    def receive(self, timeout: float | None = REPLY_TIMEOUT_S) -> str | None:
        """The next packet's payload; None when ``timeout`` passes first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            m = _PACKET.search(self._buf)
            if m:
                self._buf = self._buf[m.end():]
                if self._ack:
                    self.sock.sendall(b"+")
                return m.group(1).decode("ascii", "replace")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                return None
            if not chunk:
                raise TinygenError("QEMU closed its GDB stub connection (the emulator stopped)")
            self._buf += chunk

    def request(self, data: str) -> str:
        self.send(data)
        reply = self.receive()
        if reply is None:
            raise TinygenError(f"QEMU's GDB stub did not answer '{data}' within "
                               f"{REPLY_TIMEOUT_S:g} s")
        return reply

    def read_u32(self, address: int) -> int:
        reply = self.request(f"m{address:x},4")
        if len(reply) != 8:
            raise TinygenError(f"GDB stub could not read 0x{address:08x}: {reply!r}")
        return int.from_bytes(bytes.fromhex(reply), "little")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Qmp:
    """QEMU Machine Protocol: JSON lines, one command at a time."""

    def __init__(self, port: int, timeout: float = CONNECT_TIMEOUT_S):
        self.sock = _connect(port, "QMP socket", timeout)
        self.sock.settimeout(REPLY_TIMEOUT_S)
        self._file = self.sock.makefile("rwb")
        greeting = json.loads(self._file.readline() or b"{}")
        if "QMP" not in greeting:
            raise TinygenError(f"QEMU's QMP socket sent {greeting!r}, not a greeting")
        self.command("qmp_capabilities")

    def command(self, name: str) -> dict:
        self._file.write((json.dumps({"execute": name}) + "\n").encode())
        self._file.flush()
        while True:
            line = self._file.readline()
            if not line:
                raise TinygenError("QEMU closed its QMP socket (the emulator stopped)")
            reply = json.loads(line)
            if "error" in reply:
                raise TinygenError(f"QMP {name}: {reply['error'].get('desc')}")
            if "return" in reply:
                return reply["return"]

    def icount(self) -> int:
        return int(self.command("query-replay")["icount"])

    def close(self) -> None:
        try:
            self._file.close()
            self.sock.close()
        except OSError:
            pass


EdgeListener = Callable[[PinEdge], None]
TickListener = Callable[[int], None]


class PinWatcher:
    """Reports the energy pin's edges (and the passing time) from QEMU.

    ``start()`` connects, sets the watchpoints and lets the guest run; a
    background thread then delivers edges to ``on_edge`` listeners in order,
    and every ``tick_s`` of wall time the current instruction count to
    ``on_tick`` listeners (a monitor simulator streams samples up to it).
    """

    def __init__(self, gdb_port: int, qmp_port: int, gpio_port: int, pin: int,
                 icount_shift: int = 0, tick_s: float = 0.05,
                 probes: tuple[int, ...] = ()):
        self.gdb_port = gdb_port
        self.qmp_port = qmp_port
        self.bsrr = GPIO_BASE + GPIO_STRIDE * gpio_port + BSRR_OFFSET
        self.odr = GPIO_BASE + GPIO_STRIDE * gpio_port + ODR_OFFSET
        self.mask = 1 << pin
        self.shift = icount_shift
        self.tick_s = tick_s
        self.edges: list[PinEdge] = []
        self._edge_listeners: list[EdgeListener] = []
        self._tick_listeners: list[TickListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gdb: GdbRemote | None = None
        self._qmp: Qmp | None = None
        self._level: int | None = None
        self.error: str | None = None
        # Words read at the first pin write (the end of the firmware's init),
        # e.g. the console's baud divisor: address -> value.
        self.probe_addresses = probes
        self.probes: dict[int, int] = {}

    def on_edge(self, fn: EdgeListener) -> None:
        self._edge_listeners.append(fn)

    def on_tick(self, fn: TickListener) -> None:
        self._tick_listeners.append(fn)

    def start(self) -> "PinWatcher":
        self._gdb = GdbRemote(self.gdb_port)
        self._qmp = Qmp(self.qmp_port)
        for address in (self.bsrr, self.odr):
            reply = self._gdb.request(f"Z2,{address:x},4")
            if reply != "OK":
                raise TinygenError(f"QEMU refused a write watchpoint at 0x{address:08x} "
                                   f"({reply!r}); the pin cannot be observed")
        self._gdb.send("c")
        self._thread = threading.Thread(target=self._run, name="qemu-pin-watcher", daemon=True)
        self._thread.start()
        return self

    def now_ns(self) -> int:
        """The current virtual time (instructions * 2**shift)."""
        with self._lock:
            if self._qmp is None:
                raise TinygenError("the pin watcher is not running")
            return self._qmp.icount() << self.shift

    def edges_since(self, index: int) -> list[PinEdge]:
        with self._lock:
            return list(self.edges[index:])

    def _run(self) -> None:
        gdb = self._gdb
        last_tick = time.monotonic()
        try:
            while not self._stop.is_set():
                reply = gdb.receive(timeout=self.tick_s)
                if reply is not None and reply.startswith(("T", "S")) and "watch" not in reply:
                    gdb.send("c")  # a stop that is not ours: never leave the guest halted
                    continue
                if reply is None or not reply.startswith("T"):
                    if reply is not None and reply.startswith(("W", "X")):
                        self.error = f"the emulated DUT stopped ({reply})"
                        return
                    if time.monotonic() - last_tick >= self.tick_s and self._tick_listeners:
                        last_tick = time.monotonic()
                        ns = self.now_ns()
                        for fn in self._tick_listeners:
                            fn(ns)
                    continue
                # Stopped on the store: step over it with the watchpoint lifted.
                watched = self.bsrr if f"{self.bsrr:x}" in reply.lower() else self.odr
                gdb.request(f"z2,{watched:x},4")
                gdb.request("s")
                gdb.request(f"Z2,{watched:x},4")
                level = 1 if gdb.read_u32(self.odr) & self.mask else 0
                with self._lock:
                    icount = self._qmp.icount()
                if level != self._level:
                    edge = PinEdge(level, icount, icount << self.shift)
                    if self._level is None:  # the first write sets the idle level
                        self.probes = {a: gdb.read_u32(a) for a in self.probe_addresses}
                    else:
                        with self._lock:
                            self.edges.append(edge)
                        for fn in self._edge_listeners:
                            fn(edge)
                    self._level = level
                gdb.send("c")
        except (TinygenError, OSError) as exc:
            if not self._stop.is_set():
                self.error = str(exc)
                log.warning("pin watcher stopped: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for conn in (self._gdb, self._qmp):
            if conn is not None:
                conn.close()


def gdb_qmp_args(gdb_port: int, qmp_port: int) -> list[str]:
    """The QEMU options that make the pin observable; -S waits for the watcher."""
    # nodelay: each pin stop is a handful of tiny request/reply packets; with
    # Nagle every one of them waited for a delayed ACK (~40 ms).
    return ["-chardev", f"socket,id=tg-gdb,host=127.0.0.1,port={gdb_port},server=on,wait=off,"
                        "nodelay=on",
            "-gdb", "chardev:tg-gdb",
            "-chardev", f"socket,id=tg-qmp,host=127.0.0.1,port={qmp_port},server=on,wait=off,"
                        "nodelay=on",
            "-mon", "chardev=tg-qmp,mode=control", "-S"]
