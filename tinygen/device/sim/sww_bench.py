"""A SIMULATED streaming wakeword bench around an emulated DUT.

Starts QEMU with the stream's audio image (ARM semihosting), the GDB stub
and QMP socket of the pin watcher, a watcher of the DUT's detected and
processing pins, and the interface board simulator on the DUT's serial
port. The driver (``tinygen.device.sww_iface.StreamInterface``) then opens
``bench.interface_url`` exactly as it opens the real board.

The DUT side: the audio image and semihosting arguments
(``tinygen.device.sww_audio``), the pin addresses (``tinygen.port.sww_pins``)
and the multi-pin watcher (``tinygen.device.sww_pins``).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.port.manifest import read_manifest

log = logging.getLogger(__name__)


@dataclass
class SimulatedStreamBench:
    board: Board
    interface_url: str
    interface: object          # the StreamInterfaceSimulator
    watcher: object
    hops: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _image(build_dir: Path) -> Path:
    return Path(build_dir) / read_manifest(build_dir).image_name


@contextlib.contextmanager
def simulated_stream_bench(board: Board, build_dir: Path, wav: Path, work_dir: Path,
                           log_path: Path | None = None, play_timeout_s: float = 3600.0
                           ) -> Iterator[SimulatedStreamBench]:
    if not board.is_emulated:
        raise TinygenError(f"{board.name} is not emulated; on a real bench pass "
                           "--interface-port (the H573 interface board)")
    from tinygen.device.sww_audio import qemu_audio_args, write_audio_image
    from tinygen.device.sww_pins import StreamPinWatcher, dut_clock_address
    from tinygen.port.sww_pins import stream_pins
    from tinygen.device.launch import start_dut
    from tinygen.device.qemu_pins import gdb_qmp_args
    from tinygen.device.sim.sww_iface import StreamInterfaceSimulator

    image = write_audio_image(wav, Path(work_dir) / "audio.raw")
    gdb_port, qmp_port = _free_port(), _free_port()
    extra = tuple(qemu_audio_args(image.path)) + tuple(gdb_qmp_args(gdb_port, qmp_port))
    with start_dut(board, build_dir, log_path=log_path, extra_args=extra) as running:
        sim = watcher = None
        try:
            sim = StreamInterfaceSimulator(running.url, wav.name, image.hops,
                                           play_timeout_s=play_timeout_s,
                                           icount_shift=board.emulator.icount_shift)
            clock = dut_clock_address(_image(build_dir))
            if clock is None:
                raise TinygenError(f"{_image(build_dir)} has no tg_ms_count (the DUT's SysTick "
                                   "clock): its pin edges cannot be timed; rebuild it with "
                                   "'tinygen build --bench sww'")
            watcher = StreamPinWatcher(gdb_port, qmp_port, stream_pins(board),
                                       board.emulator.icount_shift, ms_count_addr=clock)
            sim.attach(watcher)
            watcher.start()
            banner = sim.wait_for_boot()
            if "m-ready" not in banner:
                raise TinygenError(f"the emulated DUT printed no boot banner within 10 s "
                                   f"(got {banner[-3:]}); see the QEMU log {log_path}")
            log.info("simulated sww bench: %s, interface board SIMULATED, %d hops of audio",
                     board.name, image.hops)
            yield SimulatedStreamBench(board, sim.url, sim, watcher, image.hops)
        finally:
            if watcher is not None:
                watcher.stop()
            if sim is not None:
                sim.close()
