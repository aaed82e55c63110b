"""Flash bytes read per inference (tinygen.runner.cycles.flash_reads).

A hand-written program, assembled with the real cross compiler and run under
the real QEMU with the log flash_reads asks for, reads known bytes from flash
and RAM inside and outside its window: count_flash_reads must sum exactly
the bytes worked out by hand, load form by load form.

Then ad01 end to end (its committed model, built for mps2_an386, one
inference traced under QEMU through the DUT protocol): a chain of fully
connected layers at batch 1 uses each weight and requantization record
once, so the inference reads every constant byte of the image's model
once: no fewer bytes than the model's constants, and no more than those
plus a small allowance per operator for literal-pool words and parameter
fields (FLASH_ALLOWANCE_PER_OP).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tinygen.runner.cycles import (count_flash_reads, flash_trace_args, objdump_decoder)

needs_toolchain = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="needs arm-none-eabi-gcc and qemu-system-arm")

READS_S = """\
    .syntax unified
    .cpu cortex-m4
    .thumb
    .section .vectors, "a"
    .word 0x20010000
    .word reset
    .text
    .thumb_func
reset:
    ldr r2, =0x20000100
    ldr r3, =table          @ outside the window: not counted
    ldr r4, [r3]            @ outside the window: not counted
    bl window
done:
    movs r0, #0x18          @ semihosting SYS_EXIT
    ldr r1, =0x20026
    bkpt 0xab
    .thumb_func
window:
    push {r4-r6, lr}        @ RAM (the stack)
    ldr r3, =table          @ 4: the literal pool is in flash
    ldrb r4, [r3, #1]       @ 1
    ldrsh r4, [r3, #2]      @ 2
    ldrd r4, r5, [r3, #4]   @ 8
    ldm r3!, {r4, r5, r6}   @ 12, r3 = table + 12
    ldr r4, [r3], #4        @ 4,  r3 = table + 16
    movs r0, #1
    ldr r4, [r3, r0, lsl #2]  @ 4
    str r4, [r2]
    ldr r4, [r2]            @ RAM
    ldrd r4, r5, [r2]       @ RAM
    movs r0, #3
loop:
    ldrb r4, [r3, r0]       @ 1, three times
    subs r0, #1
    bne loop
    pop {r4-r6, pc}         @ RAM
    .pool
    .align 2
table:
    .word 1, 2, 3, 4, 5, 6, 7, 8
"""
LINKER = "SECTIONS { . = 0; .vectors : { KEEP(*(.vectors)) } .text : { *(.text*) } }\n"
# In the window: 4 + 1 + 2 + 8 + 12 + 4 + 4 + 3 * 1 bytes from flash (9
# loads), push and pop excepted 2 loads of 4 + 8 bytes from RAM.
FLASH_BYTES, FLASH_ACCESSES = 38, 10
RAM_BYTES = 12 + 16
MPS2_FLASH = [(0x0000_0000, 0x0040_0000)]


@needs_toolchain
def test_a_hand_written_window_reads_the_flash_bytes_worked_out_by_hand(tmp_path):
    (tmp_path / "reads.S").write_text(READS_S)
    (tmp_path / "reads.ld").write_text(LINKER)
    elf = tmp_path / "reads.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib",
                    "-T", str(tmp_path / "reads.ld"), str(tmp_path / "reads.S"), "-o", str(elf)],
                   check=True, capture_output=True, text=True, timeout=60)
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], check=True, capture_output=True,
                        text=True).stdout
    labels = {sym: int(addr, 16) for addr, _, sym in (line.split() for line in nm.splitlines())}
    insns = objdump_decoder(elf, "cortex-m4")
    loads = {a: i for a, i in insns.items() if i.kind in ("load", "ldrd", "ldm")}
    log = tmp_path / "reads.log"
    subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                    "-serial", "none", "-semihosting-config", "enable=on,target=native",
                    "-icount", "shift=0",
                    *flash_trace_args(set(loads) | {labels["window"], labels["done"]}, log),
                    "-kernel", str(elf)], check=True, capture_output=True, timeout=60)
    reads = count_flash_reads(log, loads, labels["window"], labels["done"], MPS2_FLASH)
    assert (reads.flash_bytes, reads.flash_accesses) == (FLASH_BYTES, FLASH_ACCESSES)
    assert reads.ram_bytes == RAM_BYTES and reads.unknown == 0
    # Every flash byte is put down to the load that read it: the loop's LDRB thrice.
    assert reads.flash_by_pc[labels["loop"]] == 3
    assert sum(reads.flash_by_pc.values()) == FLASH_BYTES


# Literal-pool words (the addresses of each call's arrays and parameters) and
# the parameter fields a kernel reads from its const record, per operator.
FLASH_ALLOWANCE_PER_OP = 64


@needs_toolchain
def test_ad01_reads_each_constant_byte_once(tmp_path):
    from tinygen.benches import get_bench
    from tinygen.boards import load_board
    from tinygen.ir import load_model
    from tinygen.port.build import build_firmware
    from tinygen.runner.cycles import flash_reads, stimulus, trace_build

    from runner_helpers import model_path

    bench, board, path = get_bench("ad01"), load_board("mps2_an386"), model_path("ad01")
    built = build_firmware(board, bench, model_path=path, out_dir=tmp_path / "b")
    weights = built.size.parts["weights"]["flash"]
    ops = len(load_model(path).operators)
    data = stimulus(bench, 1)
    transitions = trace_build(board, tmp_path / "b", data)
    reads = flash_reads(board, tmp_path / "b", data, transitions)
    assert reads.unknown == 0
    assert weights <= reads.flash_bytes <= weights + FLASH_ALLOWANCE_PER_OP * ops
