"""SIMULATOR of the ST LPM01A PowerShield's serial protocol (not a driver).

Byte-exact where the protocol is documented: commands end ``\\r\\n``;
each is answered ``PowerShield > ack <command>`` or
``PowerShield > error <command>`` followed by ``Error detail: ...``;
``version`` answers with the firmware revision; while acquiring (output
energy, ascii_dec, freq 1k) one sample line per millisecond of DUT time
(``2640-08`` = 2640e-08 J), ``event N ris`` when the timestamp pin falls
(eventsrc d7 fal), ``TimeStamp: SSSs MMMms, buff 00%`` every second;
``stop`` ends with ``Acquisition completed``.

Time is the emulated DUT's: samples are produced as the pin watcher
reports QEMU's instruction count, so a second of samples is a second of
virtual time, streamed in bursts rather than in real time.

Faults on request: ``firmware`` older than 1.0.6 answers ``error`` to
``pwr off`` (as old PowerShield firmware does); ``silent`` never answers.
"""

from __future__ import annotations

import logging
import socket
import threading

from tinygen.device.emon.lpm01a import PROMPT, format_sample
from tinygen.device.sim import LoadModel, accept_host, listen_local, shut_sockets

log = logging.getLogger(__name__)

FREQS = ("100k", "50k", "20k", "10k", "5k", "2k", "1k", "500", "200", "100", "50", "20",
         "10", "5", "2", "1")
SIMPLE = {
    "acqmode": ("dyn", "stat"), "funcmode": ("optim", "high"),
    "output": ("current", "energy"), "format": ("ascii_dec", "bin_hexa"),
    "trigsrc": ("sw", "d7"), "pwrend": ("on", "off"), "temp": ("degc", "degf", ""),
}


def _volts(arg: str) -> float | None:
    try:
        if arg.endswith("m"):
            return float(arg[:-1]) / 1000
        return float(arg)
    except ValueError:
        return None


class Lpm01aSimulator:
    """Listens on 127.0.0.1:<port>; ``url`` is what the driver opens."""

    def __init__(self, load: LoadModel, firmware: str = "1.0.7", silent: bool = False,
                 board_id: str = "SIM-0000-0000"):
        self.load = load
        self.firmware = firmware
        self.silent = silent
        self.board_id = board_id
        self.commands: list[str] = []          # every command received, in order
        self.state = {"htc": False, "pwr": "off", "volt": 3.3, "freq": "100",
                      "output": "current", "format": "ascii_dec", "eventsrc": None}
        self._server = listen_local()
        self.port = self._server.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._conn: socket.socket | None = None
        self._lock = threading.RLock()
        self._acquiring = False
        self._t_ns = 0.0               # DUT time up to which samples were sent
        self._events = 0
        self._samples = 0
        self._now_ns = None            # callable giving the DUT's current time
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="lpm01a-sim", daemon=True)
        self._thread.start()

    # -- wiring to the emulated DUT -------------------------------------------

    def attach(self, watcher) -> None:
        """Take time and timestamp edges from a ``qemu_pins.PinWatcher``."""
        self._now_ns = watcher.now_ns
        watcher.on_tick(self.advance)
        watcher.on_edge(self.edge)

    def advance(self, now_ns: float) -> None:
        with self._lock:
            if not self._acquiring:
                return
            period = 1e9 / 1000
            out = []
            while self._t_ns + period <= now_ns:
                out.append(format_sample(self.load.energy_j(self._t_ns, self._t_ns + period)))
                self._t_ns += period
                self._samples += 1
                if self._samples % 1000 == 0:
                    s = self._samples // 1000
                    out.append(f"TimeStamp: {s:03d}s 000ms, buff 00%")
            if out:
                self._send_lines(out)

    def edge(self, edge) -> None:
        with self._lock:
            self.advance(edge.ns)
            if self._acquiring and edge.falling and self.state["eventsrc"] == "d7 fal":
                self._events += 1
                self._send_lines([f"event {self._events} ris"])

    # -- serial side ----------------------------------------------------------

    def _send_lines(self, lines: list[str]) -> None:
        if self._conn is None:
            return
        try:
            self._conn.sendall("".join(ln + "\r\n" for ln in lines).encode("ascii"))
        except OSError:
            self._conn = None

    def _serve(self) -> None:
        conn = accept_host(self._server)
        if conn is None:
            return
        self._conn = conn
        pending = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            while b"\r\n" in pending:
                raw, pending = pending.split(b"\r\n", 1)
                self._command(raw.decode("ascii", "replace").strip())
        with self._lock:
            self._conn = None

    def _ack(self, text: str, extra: str = "") -> None:
        self._send_lines([f"{PROMPT}ack {text}" + (f" {extra}" if extra else "")])

    def _error(self, text: str, detail: str) -> None:
        self._send_lines([f"{PROMPT}error {text}", f"Error detail: {detail}"])

    def _command(self, text: str) -> None:
        if not text:
            return
        self.commands.append(text)
        if self.silent:
            return
        word, _, arg = text.partition(" ")
        with self._lock:
            if self._acquiring and word != "stop":
                return self._error(text, "acquisition in progress, send 'stop' first")
            handler = getattr(self, f"_cmd_{word}", None)
            if handler is None:
                return self._error(text, "command not recognized")
            handler(text, arg.strip())

    def _old_firmware(self) -> bool:
        return tuple(int(p) for p in self.firmware.split(".")) < (1, 0, 6)

    def _cmd_htc(self, text, arg):
        self.state["htc"] = True
        self._ack(text)

    def _cmd_hrc(self, text, arg):
        self.state["htc"] = False
        self._ack(text)

    def _cmd_version(self, text, arg):
        self._ack(text, self.firmware)

    def _cmd_powershield(self, text, arg):
        self._ack(text, f"PowerShield present {self.board_id}")

    def _cmd_status(self, text, arg):
        self._ack(text, "ok")

    def _cmd_echo(self, text, arg):
        self._ack(text, arg)

    def _cmd_lcd(self, text, arg):
        line, _, rest = arg.partition(" ")
        if line not in ("1", "2") or not (rest.startswith('"') and rest.endswith('"')) \
                or len(rest) - 2 > 16:
            return self._error(text, "lcd <1|2> \"<up to 16 characters>\"")
        self._ack(text)

    def _cmd_volt(self, text, arg):
        if arg == "get":
            return self._ack(text, f"{int(self.state['volt'] * 1000)}m")
        v = _volts(arg)
        if v is None or not 1.8 <= v <= 3.3:
            return self._error(text, "voltage out of range [1800m; 3300m]")
        self.state["volt"] = v
        self._ack(text)

    def _cmd_freq(self, text, arg):
        if arg not in FREQS:
            return self._error(text, "frequency not in the list")
        self.state["freq"] = arg
        self._ack(text)

    def _cmd_acqtime(self, text, arg):
        if arg not in ("inf", "0") and _volts(arg.replace("u", "e-6")) is None:
            return self._error(text, "acquisition time out of range")
        self._ack(text)

    def _cmd_trigdelay(self, text, arg):
        self._ack(text)

    def _cmd_currthres(self, text, arg):
        self._ack(text)

    def _cmd_eventsrc(self, text, arg):
        if arg not in ("d7 fal", "d7 ris"):
            return self._error(text, "event source not supported")
        self.state["eventsrc"] = arg
        self._ack(text)

    def _simple(self, text, word, arg):
        if arg not in SIMPLE[word]:
            return self._error(text, f"{word}: one of {', '.join(SIMPLE[word])}")
        self.state[word] = arg
        self._ack(text)

    def _cmd_acqmode(self, text, arg):
        self._simple(text, "acqmode", arg)

    def _cmd_funcmode(self, text, arg):
        self._simple(text, "funcmode", arg)

    def _cmd_output(self, text, arg):
        self._simple(text, "output", arg)

    def _cmd_format(self, text, arg):
        self._simple(text, "format", arg)

    def _cmd_trigsrc(self, text, arg):
        self._simple(text, "trigsrc", arg)

    def _cmd_pwrend(self, text, arg):
        self._simple(text, "pwrend", arg)

    def _cmd_pwr(self, text, arg):
        parts = arg.split()
        if not parts or parts[0] not in ("on", "off", "auto", "get") or \
                (len(parts) > 1 and parts[1] not in ("nostatus", "status")):
            return self._error(text, "pwr <on|off|auto|get> [nostatus|status]")
        if parts[0] == "off" and self._old_firmware():
            return self._error(text, "command not supported by this firmware version")
        if parts[0] == "get":
            return self._ack(text, self.state["pwr"])
        self.state["pwr"] = parts[0]
        self._ack(text)

    def _cmd_start(self, text, arg):
        if self.state["output"] != "energy" or self.state["format"] != "ascii_dec" \
                or self.state["freq"] != "1k":
            # The simulator streams only what the official setup asks for.
            return self._error(text, "simulator supports output energy, ascii_dec, 1k only")
        self._ack(text)
        self._acquiring = True
        self._events = 0
        self._samples = 0
        self._t_ns = float(self._now_ns()) if self._now_ns else 0.0

    def _cmd_stop(self, text, arg):
        if self._acquiring and self._now_ns is not None:
            self.advance(float(self._now_ns()))
        self._acquiring = False
        self._ack(text)
        self._send_lines(["Acquisition completed"])

    def close(self) -> None:
        self._stop.set()
        shut_sockets(self._conn, self._server)
        self._thread.join(timeout=1.0)
