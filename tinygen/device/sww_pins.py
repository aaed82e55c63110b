"""Watching the streaming firmware's pins in QEMU (sww01): GDB write
watchpoints on the registers tinygen.port.sww_pins places them in, and
QMP's instruction count for the time of each edge."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tinygen.errors import TinygenError
from tinygen.port.sww_pins import StreamPins

@dataclass(frozen=True)
class StreamEdge:
    name: str
    level: int
    icount: int          # instructions executed so far (QMP query-replay)
    ns: int              # icount << shift: instruction time (idle WFI periods not counted)
    dut_us: float | None = None  # the DUT's own clock (SysTick), which paces the audio


SYST_CVR = 0xE000E018
SYST_RVR = 0xE000E014
SCB_ICSR = 0xE000ED04
ICSR_PENDSTSET = 1 << 26


def dut_clock_address(elf: Path) -> int | None:
    """Address of the SysTick millisecond count (tg_ms_count) in a firmware image."""
    import subprocess
    try:
        out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except OSError:
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "tg_ms_count":
            return int(parts[0], 16)
    return None


class StreamPinWatcher:
    """Edges of several named pins from QEMU (GDB write watchpoints + QMP icount,
    the mechanism of tinygen.device.qemu_pins; QEMU started with gdb_qmp_args)."""

    def __init__(self, gdb_port: int, qmp_port: int, pins: StreamPins, icount_shift: int = 0,
                 poll_s: float = 0.05, ms_count_addr: int | None = None):
        self.gdb_port, self.qmp_port = gdb_port, qmp_port
        self.pins = pins.all()
        self.shift = icount_shift
        self.poll_s = poll_s
        self.edges: list[StreamEdge] = []
        self.error: str | None = None
        self._listeners: list[Callable[[StreamEdge], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gdb = self._qmp = None
        self._levels: dict[str, int] = {}
        self._watch = sorted({a for p in self.pins for a in p.watch})
        self.ms_count_addr = ms_count_addr

    def _dut_us(self, gdb) -> float | None:
        """The DUT's SysTick time at the stop, as tg_timestamp_us computes it."""
        if self.ms_count_addr is None:
            return None
        lo = gdb.read_u32(self.ms_count_addr)
        hi = gdb.read_u32(self.ms_count_addr + 4)
        cvr = gdb.read_u32(SYST_CVR) & 0xFFFFFF
        reload = (gdb.read_u32(SYST_RVR) & 0xFFFFFF) + 1
        ms = (hi << 32) | lo
        if gdb.read_u32(SCB_ICSR) & ICSR_PENDSTSET:
            ms += 1
        position = 0 if cvr == 0 else reload - cvr
        return ms * 1000.0 + position * 1000.0 / reload

    def on_edge(self, fn: Callable[[StreamEdge], None]) -> None:
        self._listeners.append(fn)

    def start(self) -> "StreamPinWatcher":
        from tinygen.device.qemu_pins import GdbRemote, Qmp
        self._gdb = GdbRemote(self.gdb_port)
        self._qmp = Qmp(self.qmp_port)
        for address in self._watch:
            if self._gdb.request(f"Z2,{address:x},4") != "OK":
                raise TinygenError(f"QEMU refused a write watchpoint at 0x{address:08x}; "
                                   "the streaming pins cannot be observed")
        self._gdb.send("c")
        self._thread = threading.Thread(target=self._run, name="sww-pin-watcher", daemon=True)
        self._thread.start()
        return self

    def now_ns(self) -> int:
        with self._lock:
            return self._qmp.icount() << self.shift

    def edges_of(self, name: str) -> list[StreamEdge]:
        with self._lock:
            return [e for e in self.edges if e.name == name]

    def _run(self) -> None:
        gdb = self._gdb
        try:
            while not self._stop.is_set():
                reply = gdb.receive(timeout=self.poll_s)
                if reply is None:
                    continue
                if reply.startswith(("W", "X")):
                    self.error = f"the emulated DUT stopped ({reply})"
                    return
                if not reply.startswith("T") or "watch" not in reply:
                    if reply.startswith(("T", "S")):
                        gdb.send("c")
                    continue
                hit = next((a for a in self._watch if f"{a:x}" in reply.lower()), self._watch[0])
                gdb.request(f"z2,{hit:x},4")
                gdb.request("s")
                gdb.request(f"Z2,{hit:x},4")
                with self._lock:
                    icount = self._qmp.icount()
                dut_us = self._dut_us(gdb)
                values: dict[int, int] = {}
                for pin in self.pins:
                    if hit not in pin.watch:
                        continue
                    if pin.level_addr not in values:
                        values[pin.level_addr] = gdb.read_u32(pin.level_addr)
                    level = 1 if values[pin.level_addr] & pin.mask else 0
                    old = self._levels.get(pin.name)
                    self._levels[pin.name] = level
                    if old is not None and old != level:
                        edge = StreamEdge(pin.name, level, icount, icount << self.shift, dut_us)
                        with self._lock:
                            self.edges.append(edge)
                        for fn in self._listeners:
                            fn(edge)
                gdb.send("c")
        except (TinygenError, OSError) as exc:
            if not self._stop.is_set():
                self.error = str(exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for conn in (self._gdb, self._qmp):
            if conn is not None:
                conn.close()
