"""Helpers for the platform tests: build the platform fixture firmware
(tests/firmware/fixtures/platform/platform_main.c plus firmware/platform/)
with a direct arm-none-eabi-gcc call, and talk to it line by line.

The fixture has no harness and no model, so these tests prove the platform
layer on its own: startup, clocks, console, timestamp, placement.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import serial

from tinygen.boards import Board
from tinygen.paths import firmware_dir
from tinygen.port.ram_placement import plan_placement
from tinygen.render import render

FIXTURE = Path(__file__).parent / "fixtures" / "platform" / "platform_main.c"
ARM_GCC = "arm-none-eabi-gcc"
FPU_FLAGS = {
    "fpv4-sp-d16": ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "fpv5-sp-d16": ["-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"],
    "fpv5-d16": ["-mfloat-abi=hard", "-mfpu=fpv5-d16"],
}
LINE_TIMEOUT_S = 30.0


def render_port_headers(board: Board, out: Path, *, mode: str = "performance",
                        arena_bytes: int = 64, buffer_bytes: int = 64,
                        stack_bytes: int = 4096) -> None:
    """tg_board.h and linker.ld, rendered as the port generator renders them."""
    baud = board.console.baud_energy if mode == "energy" else board.console.baud_performance
    placement = plan_placement(board, arena_bytes, buffer_bytes, stack_bytes)
    context = {"board": board, "mode": mode, "baud": baud, "placement": placement}
    out.mkdir(parents=True, exist_ok=True)
    (out / "tg_board.h").write_text(render("port/tg_board.h.j2", **context))
    (out / "linker.ld").write_text(render("port/arm_linker.ld.j2", **context))


def build_fixture(board: Board, out: Path, *, mode: str = "performance",
                  arena_bytes: int = 64, buffer_bytes: int = 64,
                  planned_buffer_bytes: int | None = None,
                  extra_defines: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Compiles and links the fixture into out/firmware.elf (check returncode).

    The placement is planned for planned_buffer_bytes (default: the real
    buffer_bytes), to test what the linker does when the plan is wrong.
    """
    planned = buffer_bytes if planned_buffer_bytes is None else planned_buffer_bytes
    render_port_headers(board, out, mode=mode, arena_bytes=arena_bytes, buffer_bytes=planned)
    fw = firmware_dir() / "platform"
    sources = sorted((fw / "common").glob("*.c")) + sorted((fw / board.family).glob("*.c"))
    command = [
        ARM_GCC, f"-mcpu={board.cpu}", "-mthumb", *FPU_FLAGS.get(board.fpu, []),
        "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror",
        "-ffunction-sections", "-fdata-sections", "-nostartfiles",
        "--specs=nano.specs", "--specs=nosys.specs",
        f"-DFIXTURE_ARENA_BYTES={arena_bytes}", f"-DFIXTURE_BUFFER_BYTES={buffer_bytes}",
        *(f"-D{d}" for d in extra_defines),
        f"-I{out}", f"-I{fw}", f"-I{fw / 'common'}",
        *map(str, sources), str(FIXTURE),
        "-Wl,--gc-sections", "-T", str(out / "linker.ld"), f"-Wl,-Map={out / 'firmware.map'}",
        "-o", str(out / "firmware.elf"),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def have_arm_gcc() -> bool:
    return shutil.which(ARM_GCC) is not None


def symbol_address(elf: Path, name: str) -> int:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise AssertionError(f"{name} not in {elf}")


class FixtureConsole:
    """Line-oriented talk with the platform fixture over a pyserial URL."""

    def __init__(self, url: str):
        self.port = serial.serial_for_url(url, timeout=0.2)
        self.pending = b""

    def close(self) -> None:
        self.port.close()

    def read_exactly(self, n: int, timeout: float = LINE_TIMEOUT_S) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.pending) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.pending)} of {n} bytes: {self.pending!r}")
            self.pending += self.port.read(4096)
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def line(self, timeout: float = LINE_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.pending:
            if time.monotonic() > deadline:
                raise AssertionError(f"no line within {timeout} s; partial {self.pending!r}")
            self.pending += self.port.read(4096)
        raw, self.pending = self.pending.split(b"\r\n", 1)
        return raw.decode("ascii")

    def ask(self, command: str) -> dict[str, int]:
        """Sends a one-letter command; returns the key=value fields it printed."""
        self.port.write(command.encode())
        fields = {}
        for item in self.line().split():
            key, _, value = item.partition("=")
            fields[key] = int(value)
        return fields
