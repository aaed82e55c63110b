"""The cycle model (tinygen.runner.cycles) prices a hand-derived loop exactly.

The loop is assembled with the real cross compiler, run under the real
QEMU with the block trace on, and priced from the log; the expected
figure is worked out by hand from the Cortex-M4 TRM rules, line by line.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tinygen.runner.cycles import (TRACE_FLAGS, Window, base_mnemonic, collect, core_timing,
                                   decode, objdump_decoder, price, read_blocks, read_image)

LOOP_S = """\
    .syntax unified
    .cpu cortex-m4
    .thumb
    .section .vectors, "a"
    .word 0x20010000
    .word reset
    .text
    .thumb_func
reset:
    ldr r1, =0x20000100
    movs r0, #0
    movs r2, #4
    b loop
loop:
    ldr r3, [r1]            @ 2  after a branch: not pipelined
    ldr r4, [r1, #4]        @ 1  pipelined: follows a load, address not from r3
    smlad r0, r3, r4, r0    @ 1
    add r5, r1, #8          @ 1
    ldr r6, [r5]            @ 3  2, +1: address from the add just before
    ldrd r3, r4, [r1, #12]  @ 3
    str r0, [r1, #20]       @ 1  immediate offset
    subs r2, #1             @ 1
    bne loop                @ 3 taken (1 + P, P = 2), 1 the last time
done:
    movs r0, #0x18          @ semihosting SYS_EXIT
    ldr r1, =0x20026
    bkpt 0xab
    .pool
"""
LINKER = "SECTIONS { . = 0; .vectors : { KEEP(*(.vectors)) } .text : { *(.text*) } }\n"
# Per pass: 2 + 1 + 1 + 1 + 3 + 3 + 1 + 1 + 3 = 16 cycles, 9 instructions;
# the last pass falls through the BNE: 14.
LOOP_CYCLES = 3 * 16 + 14
LOOP_INSTRUCTIONS = 4 * 9


def test_mnemonic_suffixes_come_off_only_when_what_is_left_is_an_instruction():
    assert base_mnemonic("bls") == ("b", True)
    assert base_mnemonic("bne.w") == ("b", True)
    assert base_mnemonic("bl") == ("bl", False)
    assert base_mnemonic("mls") == ("mls", False)
    assert base_mnemonic("smlal") == ("smlal", False)
    assert base_mnemonic("lsls") == ("lsl", False)
    assert base_mnemonic("movs") == ("mov", False)
    assert base_mnemonic("ldrmi") == ("ldr", True)


def test_decode_knows_what_forms_an_address():
    insn = decode(0, 4, "ldr", "r0, [r2], #4")
    assert insn.kind == "load" and insn.addr_regs == {2} and insn.dst == {0, 2}
    assert decode(0, 4, "ldrd", "fp, ip, [r3]").dst == {11, 12}
    pop = decode(0, 2, "pop", "{r4, r5, r6, pc}")
    assert pop.kind == "ldm" and pop.count == 4 and pop.writes_pc
    assert decode(0, 4, "umull", "r2, r1, fp, r4").dst == {1, 2}


needs_toolchain = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


def _run_traced(tmp_path, name: str, source: str):
    """Assembles `source` for the Cortex-M4, runs it on QEMU's mps2-an386
    with the instruction trace on: (elf, trace file, symbol addresses)."""
    (tmp_path / f"{name}.S").write_text(source)
    (tmp_path / f"{name}.ld").write_text(LINKER)
    elf = tmp_path / f"{name}.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib",
                    "-T", str(tmp_path / f"{name}.ld"), str(tmp_path / f"{name}.S"), "-o", str(elf)],
                   check=True, capture_output=True, text=True, timeout=60)
    trace = tmp_path / f"{name}.trace"
    subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                    "-serial", "none", "-semihosting-config", "enable=on,target=native",
                    "-icount", "shift=0", "-d", TRACE_FLAGS, "-D", str(trace),
                    "-kernel", str(elf)], check=True, capture_output=True, timeout=60)
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], check=True, capture_output=True,
                        text=True).stdout
    labels = {sym: int(addr, 16) for addr, _, sym in (line.split() for line in nm.splitlines())}
    return elf, trace, labels


@needs_toolchain
def test_a_hand_derived_loop_is_priced_exactly(tmp_path):
    elf, trace, labels = _run_traced(tmp_path, "loop", LOOP_S)
    window = Window(labels["loop"], end=labels["done"])
    blocks = read_blocks(trace, objdump_decoder(elf, "cortex-m4"))
    transitions = collect(blocks, window, read_image(elf).handlers)
    assert transitions.closed
    estimate = price(transitions, core_timing("cortex-m4"))
    assert estimate.instructions == LOOP_INSTRUCTIONS
    assert estimate.cycles == LOOP_CYCLES
    assert estimate.by_category["address stall"] == 4
    assert estimate.by_category["branch refill"] == 3 * 2


def test_load_addresses_and_sizes_come_from_the_registers_before_the_load():
    from tinygen.runner.cycles import load_address, load_bytes
    regs = {1: 0x1000, 2: 0x20, 13: 0x2000_0F00, 15: 0x102}
    assert load_address(decode(0, 4, "ldr", "r0, [r1], #4"), regs) == 0x1000       # post-index
    assert load_address(decode(0, 4, "ldr", "r0, [r1, #-8]"), regs) == 0xFF8
    assert load_address(decode(0, 4, "ldrb", "r0, [r1, r2, lsl #2]"), regs) == 0x1080
    assert load_address(decode(0, 2, "ldr", "r0, [pc, #8]"), regs) == 0x10C       # Align(pc+4, 4)
    assert load_address(decode(0, 2, "pop", "{r4, pc}"), regs) == 0x2000_0F00
    assert load_bytes(decode(0, 4, "ldrd", "r2, r3, [r1]")) == 8
    assert load_bytes(decode(0, 2, "ldm", "r1!, {r2, r3, r4}")) == 12
    assert load_bytes(decode(0, 4, "ldrsh.w", "r0, [r1]")) == 2
    assert load_bytes(decode(0, 4, "vldrb.s16", "q0, [r1], #8")) == 8              # widening: 8 lanes


SPLIT_S = """\
    .syntax unified
    .cpu cortex-m4
    .thumb
    .section .vectors, "a"
    .word 0x20010000
    .word reset
    .text
    .thumb_func
reset:
    bl invoke
done:
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
    .thumb_func
invoke:
    push {r4, lr}           @ 3  (1 + N)
    bl stamp                @ 3  taken (1 + P), then a segment per stamp
    movs r0, #1             @ 1  op 0
    adds r0, r0, #2         @ 1
    bl stamp                @ 3
    mul r0, r0, r0          @ 1  op 1
    bl stamp                @ 3
    pop {r4, pc}            @ 5  (1 + N + P)
    .thumb_func
stamp:
    nop                     @    not priced: the timestamp itself
    nop
    bx lr
    .pool
"""


@needs_toolchain
def test_profiling_stamps_split_the_window_and_are_not_priced(tmp_path):
    elf, trace, labels = _run_traced(tmp_path, "split", SPLIT_S)
    window = Window(labels["invoke"], split_at=labels["stamp"])
    blocks = read_blocks(trace, objdump_decoder(elf, "cortex-m4"))
    transitions = collect(blocks, window, read_image(elf).handlers)
    assert transitions.closed and transitions.return_to == labels["done"]
    estimate = price(transitions, core_timing("cortex-m4"))
    # (instructions, cycles): entry, op 0, op 1, exit; the stamps' own
    # instructions are left out, the BLs that call them are not.
    assert estimate.segments == [(2, 6), (3, 5), (2, 4), (1, 5)]


def _priced(cpu: str, lines: list[str]) -> tuple[int, dict]:
    """Cycles of straight-line code (objdump syntax 'mnemonic operands'), no branch taken."""
    insns = []
    for i, line in enumerate(lines):
        mnemonic, _, operands = line.partition(" ")
        insns.append(decode(4 * i, 4, mnemonic, operands.strip()))
    cost = core_timing(cpu).price(None, insns, False)
    return sum(cost.values()), dict(cost)


def test_the_m4_and_m33_differ_only_by_their_cost_tables():
    lines = ["ldr r3, [r1]", "ldr r4, [r1, #4]", "add r5, r3, r4", "ldr r6, [r5]",
             "ldrd r2, r3, [r1, #8]", "str r6, [r1, r2]"]
    # M4: 2, 1 (pipelined), 1, 2 + 1 (address from the add), 3, 2 (register offset)
    assert _priced("cortex-m4", lines)[0] == 12
    # M33: 1, 1, 1 + 1 (reads r4 loaded just before), 1 + 1 (address), 2, 1 + 1 (r2 loaded)
    cycles, by = _priced("cortex-m33", lines)
    assert cycles == 10 and by["load-use stall"] == 2 and by["address stall"] == 1


def test_the_m55_prices_helium_by_its_beats():
    lines = ["vldrb.u8 q0, [r0], #16",       # 2: 4 beats, 2 per cycle
             "vmladava.s8 r2, q0, q1",       # 2 - 1: overlaps the load (other unit)
             "vldrb.u8 q1, [r1]",            # 2 - 1
             "vldrb.u8 q2, [r1, #16]",       # 2: a second load does not overlap the first
             "vmladava.s8 r4, q1, q2",       # 2 - 1
             "adds r5, r4, #1",              # 1 + 1: waits for the reduction's core result
             "vldrb.s16 q3, [r0, q2]"]       # 8: a gather of 8 elements, one per cycle
    cycles, by = _priced("cortex-m55", lines)
    assert by["beat overlap"] == -3 and by["vector-to-core stall"] == 1
    assert by["vector load/store"] == 2 + 2 + 2 + 8
    assert cycles == 2 + 1 + 1 + 2 + 1 + 2 + 8
