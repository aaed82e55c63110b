"""A SIMULATED energy bench around an emulated DUT.

Starts QEMU with the pin watcher's GDB stub and QMP socket, the interface
board simulator on the DUT's serial port, and an energy-monitor simulator
fed by the DUT's real timestamp-pin edges. The drivers then open
``bench.interface_url`` and ``bench.emon_url`` (or ``bench.emon_device``
for the Joulescope) exactly as they would open real instruments.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tinygen.boards import Board
from tinygen.device.emon import supply_voltage
from tinygen.device.qemu_pins import PinWatcher, gdb_qmp_args
from tinygen.device.sim import LoadModel
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

DEFAULT_RUN_UA_PER_MHZ = 100.0   # without a power: block, a typical Cortex-M4 run current


@dataclass
class SimulatedBench:
    board: Board
    watcher: PinWatcher
    interface_url: str
    interface: object
    load: LoadModel
    emon_url: str | None = None
    emon_device: object | None = None
    simulators: list = field(default_factory=list)

    @property
    def uart_brr(self) -> int | None:
        return self.watcher.probes.get(self.board.console.base + 0x0C) \
            if self.board.console.base is not None else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def board_load(board: Board, voltage: float | None = None) -> LoadModel:
    """The simulated DUT's power from the board's power: block."""
    power = board.power
    ua_per_mhz = power.run_ua_per_mhz if power else DEFAULT_RUN_UA_PER_MHZ
    volts = supply_voltage(board, voltage)
    return LoadModel(active_w=ua_per_mhz * 1e-6 * board.clock_hz / 1e6 * volts)


@contextlib.contextmanager
def simulated_bench(board: Board, build_dir: Path, emon: str, interface: str = "h573",
                    log_path: Path | None = None, voltage: float | None = None,
                    lpm01a_firmware: str = "1.0.7", emon_silent: bool = False
                    ) -> Iterator[SimulatedBench]:
    if not board.is_emulated or board.energy_gpio is None or board.family != "stm32l4":
        raise TinygenError(f"{board.name} is not an emulated STM32L4 board with an energy_gpio "
                           "pin; the simulated energy bench watches the STM32L4 GPIO registers "
                           "(or use real instruments with --emon-port and --interface-port)")
    from tinygen.device.launch import start_dut
    from tinygen.device.sim.iface import InterfaceBoardSimulator
    gdb_port, qmp_port = _free_port(), _free_port()
    ports = "ABCDEFGHIJK"
    load = board_load(board, voltage)
    with start_dut(board, build_dir, log_path=log_path,
                   extra_args=tuple(gdb_qmp_args(gdb_port, qmp_port))) as running:
        sims: list = []
        watcher = None
        try:
            iface = InterfaceBoardSimulator(running.url, kind=interface)
            sims.append(iface)
            probes = (board.console.base + 0x0C,) if board.console.base is not None else ()
            watcher = PinWatcher(gdb_port, qmp_port, ports.index(board.energy_gpio.port),
                                 board.energy_gpio.number, board.emulator.icount_shift,
                                 probes=probes)
            bench = SimulatedBench(board, watcher, iface.url, iface, load, simulators=sims)
            if emon == "lpm01a":
                from tinygen.device.sim.lpm01a import Lpm01aSimulator
                sim = Lpm01aSimulator(load, firmware=lpm01a_firmware, silent=emon_silent)
                sim.attach(watcher)
                sims.append(sim)
                bench.emon_url = sim.url
            elif emon in ("js220", "js110"):
                from tinygen.device.sim.joulescope import JoulescopeSimulator
                sim = JoulescopeSimulator(load, model=emon, volts=supply_voltage(board, voltage))
                sim.attach(watcher)
                bench.emon_device = sim
            elif emon is not None:
                raise TinygenError(f"unknown energy monitor '{emon}'")
            watcher.start()
            banner = iface.wait_for_boot()
            if "m-ready" not in banner:
                raise TinygenError(f"the emulated DUT printed no boot banner within 10 s "
                                   f"(got {banner[-3:]}); see the QEMU log {log_path}")
            log.info("simulated bench: %s, interface board %s (simulated), %s monitor "
                     "(simulated, %.2f mW load)", board.name, interface, emon,
                     load.active_w * 1e3)
            yield bench
        finally:
            if watcher is not None:
                watcher.stop()
            for sim in reversed(sims):
                sim.close()
