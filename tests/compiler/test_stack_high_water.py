"""The stack the build reserves stays above what the firmware really uses.

A profiling build paints the stack at reset and reports the deepest point
it reached (m-profile-stack-BYTES) after an inference and the results print.
That point is the thread's deepest plus the frames of any interrupt that
landed near it (SysTick every millisecond, the console's receive interrupt):
at most tinygen.port.aot.EXCEPTION_STACK_BYTES. Under QEMU the mark must not
exceed the measured figure the stack size was derived from by more than
those frames, and the reserve must hold both with the stated margin free.
The image's own frames bound what the painting may miss: its thread, from
the reset handler along every call, never goes deeper than the mark, and the
interrupt handlers' frames fit EXCEPTION_STACK_BYTES. The same build shows
the harness's db buffer living in the model's input tensor (no RAM of its
own).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.runner.profile import parse_stack, stimulus
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession
from tinygen.port.build import build_firmware
from tinygen.boards import MEASURED_MODEL_STACK_BYTES
from tinygen.port.aot import (EXCEPTION_STACK_BYTES, MODEL_STACK_FACTOR, STACK_BYTES,
                              STACK_MARGIN_BYTES, STACK_MEASURED_BYTES, model_stack_bytes)

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")

_FUNCTION = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
_BRANCH = re.compile(r"^b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)?(\.[nw])?$")


def _frames(elf: Path) -> dict[str, tuple[int, set[str], set[str]]]:
    """Per function of the image: (bytes its prologue takes: pushes, VPUSH,
    SP subtractions), the functions it calls (BL), the functions it branches
    to (tail calls), by arm-none-eabi-objdump. Stack taken any other way
    (SUB SP by a register) or an indirect call fails: its depth is unknown."""
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], check=True,
                             capture_output=True, text=True).stdout
    frames: dict[str, tuple[int, set[str], set[str]]] = {}
    name = None
    for line in listing.splitlines():
        m = _FUNCTION.match(line)
        if m:
            name = m.group(1)
            frames[name] = (0, set(), set())
            continue
        fields = line.split("\t")
        if name is None or len(fields) < 3:
            continue
        op, args = fields[2].strip(), fields[3].strip() if len(fields) > 3 else ""
        size, calls, tails = frames[name]
        target = re.search(r"<([^>+]+)", args)
        pushes = op in ("push", "push.w", "vpush") or (op in ("stmdb", "stmdb.w")
                                                      and args.startswith("sp!"))
        if pushes:
            regs = args[args.index("{") + 1:args.index("}")].split(",")
            for r in regs:
                lo, _, hi = r.strip().partition("-")
                n = int(hi[1:]) - int(lo[1:]) + 1 if hi else 1
                size += n * (8 if lo.startswith("d") else 4)
        elif op.startswith("sub") and args.startswith("sp,"):
            assert "#" in args, f"{name}: {op} {args}"
            size += int(re.search(r"#(\d+)", args).group(1))
        elif op in ("bl", "blx") or (op == "bx" and args != "lr"):
            assert target, f"{name}: indirect call {op} {args}"
            calls.add(target.group(1))
        elif _BRANCH.match(op) and target and target.group(1) != name:
            tails.add(target.group(1))
        frames[name] = (size, calls, tails)
    return frames


def _deepest(frames, name: str, seen: tuple[str, ...] = ()) -> int:
    """The most stack a call of name takes, down its deepest call."""
    assert name not in seen, f"recursion: {seen + (name,)}"
    size, calls, tails = frames[name]
    below = max((_deepest(frames, c, seen + (name,)) for c in calls), default=0)
    return max(size + below, max((_deepest(frames, t, seen + (name,)) for t in tails), default=0))


@pytest.mark.parametrize("board_name", ["disco_l475vg_iot01a"])
def test_painted_stack_high_water_mark_leaves_the_margin_free(tmp_path, board_name):
    board, bench = load_board(board_name), get_bench("kws")
    built = build_firmware(board, bench, out_dir=tmp_path, profile=True)
    # The committed kws01 model reserves twice its own mark (boards.py
    # MEASURED_MODEL_STACK_BYTES), under the board-wide STACK_BYTES.
    mark = MEASURED_MODEL_STACK_BYTES[board_name]["kws01"]
    assert built.port.placement.stack_bytes == MODEL_STACK_FACTOR * mark < STACK_BYTES
    assert built.size.parts.get("buffer", {}).get("ram", 0) == 0
    with start_dut(board, tmp_path) as dut, DutSession(dut.url, timeout=120) as session:
        session.wait_ready(timeout=60)
        session.load(stimulus(bench, 3))
        lines = session.command("infer 1 0", timeout=300)
    used = parse_stack(lines)
    assert used is not None, lines[-5:]
    # By the image's frames: the thread (kws01: 568 B, the results printing)
    # within the mark; SysTick with the FPU's extended frame, preempted by
    # the console's interrupt with a basic one, within EXCEPTION_STACK_BYTES.
    frames = _frames(built.elf)
    assert _deepest(frames, "tg_reset_handler") <= mark
    systick, console = _deepest(frames, "tg_systick_handler"), _deepest(frames, "tg_irq_dispatch")
    assert (104 + 4 + systick) + (32 + 4 + console) <= EXCEPTION_STACK_BYTES
    # The marks are the lowest painted over SysTick phases; this run's may
    # hold an interrupt's frames on top (kws01: 600 B or 672-680 B).
    assert 0 < used <= mark + EXCEPTION_STACK_BYTES, f"stack high-water mark {used} B"
    assert mark <= STACK_MEASURED_BYTES
    # The doubled mark and the board-wide margin each hold the thread's
    # deepest point with the worst nesting of interrupts on top.
    assert mark + EXCEPTION_STACK_BYTES <= MODEL_STACK_FACTOR * mark
    assert EXCEPTION_STACK_BYTES <= STACK_MARGIN_BYTES
    assert used + EXCEPTION_STACK_BYTES <= built.port.placement.stack_bytes


def test_only_the_committed_model_at_o2_takes_its_own_stack_figure(tmp_path):
    board, bench = load_board("disco_l475vg_iot01a"), get_bench("kws")
    assert model_stack_bytes(board, bench, bench.model_path, "O2") == 1200
    assert model_stack_bytes(board, bench, bench.model_path, "O0") == STACK_BYTES
    assert model_stack_bytes(board, bench, bench.model_path, "O2", own_harness=False) == STACK_BYTES
    other = tmp_path / "kws01.tflite"
    data = bytearray(bench.model_path.read_bytes())
    data[-1] ^= 0xFF                   # another model, as far as the stack goes
    other.write_bytes(bytes(data))
    assert model_stack_bytes(board, bench, other, "O2") == STACK_BYTES
    assert model_stack_bytes(load_board("mps2_an386"), get_bench("vww"),
                             get_bench("vww").model_path, "O2") == STACK_BYTES
