"""SIMULATORS of the energy-measurement instruments, for emulated boards and CI.

Nothing here is a driver: these play the instruments that cannot be had in
CI, speaking their documented protocols so that the real drivers in
``tinygen.device.emon`` and ``tinygen.device.iface`` can be run against
them unchanged:

- ``lpm01a.Lpm01aSimulator``: the ST LPM01A's serial command set and
  replies, its ASCII energy stream, ``event N ris`` lines and
  ``TimeStamp`` lines, on a TCP port (pyserial ``socket://``).
- ``iface.InterfaceBoardSimulator``: the interface board between host and
  DUT (H573 "enhanced" board or the Arduino IO manager): ``name``,
  ``dut <command>%`` passthrough with ``[dut]: `` prefixed replies.
- ``joulescope.JoulescopeSimulator``: an object with the subset of the
  ``joulescope`` package's device API the driver uses.

They live in the package (not in tests/) because ``tinygen run`` and
``tinygen verify`` start them for emulated boards, just as they start QEMU.
The DUT is never simulated: the energy monitors are driven by the emulated
DUT's real timestamp-pin edges (``tinygen.device.qemu_pins``), and their
energy is a model (``LoadModel``: supply voltage x run current), so every
energy figure from them is labelled "simulated".
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass


def listen_local() -> socket.socket:
    """A listening TCP socket on a free loopback port: the serial port a
    simulated instrument offers (pyserial's ``socket://127.0.0.1:PORT``)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    return server


def accept_host(server: socket.socket) -> socket.socket | None:
    """The host's connection (None once the simulator is closed). Small
    replies would otherwise wait ~40 ms each for a delayed ACK (Nagle)."""
    try:
        conn, _ = server.accept()
    except OSError:
        return None
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def shut_sockets(*sockets: socket.socket | None) -> None:
    """Shuts and closes each open socket, ignoring peers already gone."""
    for s in sockets:
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@dataclass(frozen=True)
class LoadModel:
    """The simulated DUT's power draw: constant active power with a small,
    deterministic ripple (so windows differ a little, as on a bench)."""

    active_w: float
    ripple: float = 0.01

    def power_w(self, t_ns: float) -> float:
        # Two incommensurate slow sines: +-ripple, a pure function of time.
        phase = t_ns * 1e-9
        return self.active_w * (1.0 + self.ripple * 0.5 * (math.sin(2 * math.pi * 0.7 * phase) +
                                                            math.sin(2 * math.pi * 3.1 * phase)))

    def energy_j(self, t0_ns: float, t1_ns: float) -> float:
        """Energy over [t0, t1): midpoint rule, exact enough for 1 ms samples."""
        return self.power_w((t0_ns + t1_ns) / 2) * (t1_ns - t0_ns) * 1e-9
