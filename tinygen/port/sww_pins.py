"""Where the streaming firmware's pins are on each board (sww01).

The reference DUT (NUCLEO-L4R5ZI) signals on PB8 (wakeword detected: idles
high, a ~1 us low pulse per detection and one on the first hop as a sync),
PE9 (processing: high while a hop is processed) and PF13 (the energy
timestamp). STM32L4 boards use PB8 and PE9 and their own energy_gpio pin;
the MPS2/MPS3 machines have no GPIO and use bits of the FPGAIO LED register
instead. ``config_header`` writes the choice into the build
(tg_stream_config.h) and ``stream_pins`` tells a watcher
(tinygen.device.sww_pins) what to look at.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.render import render

GPIO_BASES = {"stm32l4": 0x48000000}
FPGAIO_LED = {"mps2-an386": 0x40028000, "mps3-an547": 0x59302000}
STM32_DETECTED = ("B", 8)
STM32_PROCESSING = ("E", 9)
PORTS = "ABCDEFGHIJK"
DETECTION_THRESHOLD = 115


@dataclass(frozen=True)
class PinSpec:
    name: str
    watch: tuple[int, ...]     # register addresses whose writes may change the pin
    level_addr: int            # read after a write: the pin is (value & mask) != 0
    mask: int


@dataclass(frozen=True)
class StreamPins:
    detected: PinSpec
    processing: PinSpec
    timestamp: PinSpec | None

    def all(self) -> tuple[PinSpec, ...]:
        return tuple(p for p in (self.detected, self.processing, self.timestamp) if p)


def _gpio_pin(name: str, base: int, port: str, pin: int) -> PinSpec:
    port_base = base + 0x400 * PORTS.index(port)
    return PinSpec(name, (port_base + 0x18, port_base + 0x14), port_base + 0x14, 1 << pin)


def stream_pins(board: Board) -> StreamPins:
    """The board's detected, processing and (energy) timestamp pins."""
    if board.family in GPIO_BASES:
        base = GPIO_BASES[board.family]
        ts = None
        if board.energy_gpio is not None:
            ts = _gpio_pin("timestamp", base, board.energy_gpio.port, board.energy_gpio.number)
        return StreamPins(_gpio_pin("detected", base, *STM32_DETECTED),
                          _gpio_pin("processing", base, *STM32_PROCESSING), ts)
    if board.family == "mps2" and board.chip in FPGAIO_LED:
        reg = FPGAIO_LED[board.chip]
        return StreamPins(PinSpec("detected", (reg,), reg, 1), PinSpec("processing", (reg,), reg, 2),
                          None)
    raise TinygenError(f"{board.name} has no streaming pins in tinygen (stm32l4 boards and the "
                       "MPS2 AN386 / MPS3 AN547 machines have); use one of those for sww")


def config_header(board: Board, log_hops: int = 0, features_only: bool = False,
                  incremental: bool = False) -> str:
    """tg_stream_config.h for the build (templates/stream/tg_stream_config.h.j2)."""
    stm32 = pins = None
    if board.family in GPIO_BASES and not board.is_host:
        stm32 = {"detected_port": PORTS.index(STM32_DETECTED[0]), "detected_pin": STM32_DETECTED[1],
                 "detected_name": f"P{STM32_DETECTED[0]}{STM32_DETECTED[1]}",
                 "processing_port": PORTS.index(STM32_PROCESSING[0]),
                 "processing_pin": STM32_PROCESSING[1],
                 "processing_name": f"P{STM32_PROCESSING[0]}{STM32_PROCESSING[1]}"}
    elif not board.is_host:
        pins = stream_pins(board)
    return render("stream/tg_stream_config.h.j2", board=board, pins=pins, stm32=stm32,
                  log_hops=int(log_hops), features_only=features_only, incremental=incremental,
                  threshold=DETECTION_THRESHOLD)
