"""Estimated core cycles of an emulated run, from QEMU's instruction trace.

QEMU counts instructions, not cycles: under ``-icount`` every instruction
takes the same virtual time. This module prices the instructions an
emulated inference really executed with the published timings of the
board's core, so a figure for the real board can say "estimated cycles"
instead of "one cycle per instruction".

How the stream is captured: QEMU runs the firmware with ``-d
in_asm,exec,nochain``. ``in_asm`` prints each translation block (a run of
guest instructions QEMU translates at once, ending at a branch) when it is
first translated, ``exec`` prints a line each time a block runs, and
``nochain`` makes every block run go through the logged path. So the log
is the exact sequence of executed blocks. Each block's instructions are
decoded from the toolchain's objdump of the ELF (QEMU's own disassembler
prints Helium and loop instructions as raw bytes).
``-dfilter`` leaves out the boot-time clock-check loop, which would
otherwise be most of the log.

How it is priced (``CoreTiming``): one pass over the block sequence counts
each distinct (previous block, block, branch taken) transition; each
distinct transition is then priced once, instruction by instruction, with
the instruction before it as context. The Cortex-M4 rules are those of its
Technical Reference Manual (instruction set summary and the load/store
timing section; Arm DDI 0439, the same text as the M3's DDI 0337):

- data processing, multiply, multiply-accumulate and the DSP instructions
  (SMLAD, SXTB16, ...) 1 cycle; SDIV/UDIV 2 to 12 (priced 7, the middle:
  the operands are not in the trace);
- a single load 2 cycles, 1 when it follows a single load whose result it
  does not use for its address ("LDR [any] are pipelined when possible");
  a store 1 cycle with an immediate offset (address phase now, data phase
  overlapping the next instruction), 2 with a register offset unless it
  follows a load; nothing is pipelined after a store;
- LDRD/STRD 3 cycles, never pipelined with neighbours; LDM/STM/PUSH/POP
  1 + N (N registers);
- any load or store whose address uses a register the preceding data
  processing instruction wrote: +1 ("no forwarding path");
- a branch 1 cycle, plus the pipeline refill P when taken (B, BL, BX,
  CBZ, POP {pc}, LDR pc, TBB 2 + P); the TRM gives P as 1 to 3 by the
  target's width and alignment and whether the fetch speculated early;
  priced 2, the middle;
- IT 1 cycle; an exception entry 12 cycles and its return 10.

Zero wait-state memory is assumed (the TRM's own basis): flash wait states
are a board property reported beside the figure as a range
(``flash_wait_states``), never added in.

The other cores are labelled with how much public fact backs them
(``CoreTiming.confidence``): the Cortex-M33 from Arm's pipeline
description (2-stage main pipeline, address generation in decode so a
load issues in 1 cycle with a 1-cycle load-use interlock, branches
resolved early); the Cortex-M7 from its dual-issue description (two
instructions per cycle when one of them is a single-cycle ALU operation
and they do not depend on each other, one memory access per cycle,
predicted branches); the Cortex-M55 as the M33 for scalar code plus
Helium beat timing (two 32-bit beats per cycle, so a 128-bit vector
instruction takes 2 cycles, and a memory instruction overlaps half of
its neighbour of the other kind). No instruction-timing table is public
for those cores, so their figures are rough.

Known limits: conditional instructions inside IT blocks are priced as if
executed; unaligned accesses, bus contention and the icount-expiry block
restarts (a handful per inference) are not modelled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

# -- instruction decoding ----------------------------------------------------

_REG_NAMES = {f"r{i}": i for i in range(16)}
_REG_NAMES.update(sb=9, sl=10, fp=11, ip=12, sp=13, lr=14, pc=15)
_CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls",
          "ge", "lt", "gt", "le", "al")

LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt",
         "ldrbt", "ldrht", "ldrsbt", "ldrsht", "lda", "ldab", "ldah", "ldaex", "ldaexb",
         "ldaexh", "pld", "pli"}
STORES = {"str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht",
          "stl", "stlb", "stlh", "stlex", "stlexb", "stlexh"}
DOUBLES = {"ldrd": "load", "strd": "store"}
MULTIPLES = {"ldm": "load", "ldmia": "load", "ldmfd": "load", "ldmdb": "load", "ldmea": "load",
             "pop": "load", "stm": "store", "stmia": "store", "stmea": "store",
             "stmdb": "store", "stmfd": "store", "push": "store"}
FP_MEMORY = {"vldr", "vstr", "vldm", "vldmia", "vldmdb", "vstm", "vstmia", "vstmdb",
             "vpush", "vpop"}
MVE_MEMORY = {"vldrb", "vldrh", "vldrw", "vldrd", "vstrb", "vstrh", "vstrw", "vstrd",
              "vld20", "vld21", "vld40", "vld41", "vld42", "vld43", "vst20", "vst21",
              "vst40", "vst41", "vst42", "vst43"}
BRANCHES = {"b", "bl", "blx", "bx", "cbz", "cbnz", "tbb", "tbh", "bxns", "blxns"}
LOOP_BRANCHES = {"le", "letp", "wls", "wlstp", "dls", "dlstp", "lctp"}
DIVIDES = {"sdiv", "udiv"}
MULS = {"mul", "mla", "mls", "smull", "umull", "smlal", "umlal", "umaal", "smmul", "smmulr",
        "smmla", "smmlar", "smmls", "smmlsr", "smlad", "smladx", "smlsd", "smlsdx", "smuad",
        "smuadx", "smusd", "smusdx", "smlald", "smlaldx", "smlsld", "smlsldx", "smlawb",
        "smlawt", "smulwb", "smulwt", "usad8", "usada8"}
MULS.update(f"smul{a}{b}" for a in "bt" for b in "bt")
MULS.update(f"smla{a}{b}" for a in "bt" for b in "bt")
MULS.update(f"smlal{a}{b}" for a in "bt" for b in "bt")
LONG_MULS = {"smull", "umull", "smlal", "umlal", "umaal", "smlald", "smlaldx", "smlsld",
             "smlsldx"}
LONG_MULS.update(f"smlal{a}{b}" for a in "bt" for b in "bt")
NO_DEST = {"cmp", "cmn", "tst", "teq", "nop", "dsb", "dmb", "isb", "wfi", "wfe", "sev",
           "bkpt", "svc", "cpsie", "cpsid", "msr", "vcmp", "vcmpe", "vmsr", "udf", "yield"}
ALU = {"add", "adc", "sub", "sbc", "rsb", "and", "orr", "orn", "eor", "bic", "mov", "mvn",
       "lsl", "lsr", "asr", "ror", "rrx", "adr", "addw", "subw", "movw", "movt", "ubfx", "sbfx",
       "bfi", "bfc", "clz", "rbit", "rev", "rev16", "revsh", "sxtb", "sxth", "uxtb", "uxth",
       "sxtab", "sxtah", "uxtab", "uxtah", "sxtb16", "uxtb16", "sxtab16", "uxtab16", "ssat",
       "usat", "ssat16", "usat16", "qadd", "qsub", "qdadd", "qdsub", "sel", "pkhbt", "pkhtb",
       "neg", "mrs", "csel", "csinc", "csinv", "csneg", "cset", "csetm", "cinc", "cinv",
       "cneg", "sdot"}
for _p in ("s", "q", "sh", "u", "uq", "uh"):
    ALU.update(f"{_p}{op}" for op in ("add8", "add16", "sub8", "sub16", "asx", "sax"))
KNOWN = (LOADS | STORES | set(DOUBLES) | set(MULTIPLES) | FP_MEMORY | MVE_MEMORY | BRANCHES
         | LOOP_BRANCHES | DIVIDES | MULS | NO_DEST | ALU)
_IT = re.compile(r"^it[te]{0,3}$")


def base_mnemonic(mnemonic: str) -> tuple[str, bool]:
    """The mnemonic without width, data type, condition or flag-setting
    suffix, and whether it carried a condition: 'bne.w' -> ('b', True)."""
    name = mnemonic.split(".", 1)[0]
    if name in KNOWN or _IT.match(name):
        return name, False
    for cond in _CONDS:
        if name.endswith(cond) and name[:-2] in KNOWN:
            return name[:-2], True
    if name.endswith("s") and name[:-1] in KNOWN:
        return name[:-1], False
    for cond in _CONDS:
        stem = name[:-2]
        if name.endswith(cond) and stem.endswith("s") and stem[:-1] in KNOWN:
            return stem[:-1], True
    return name, False


def _split_operands(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _regs(text: str) -> set[int]:
    return {_REG_NAMES[t] for t in re.findall(r"[a-z]+\d*", text) if t in _REG_NAMES}


def _reg_list(text: str) -> list[str]:
    """Registers of '{r4, r5-r7, lr}' (ranges expanded), or of '{d8-d15}'."""
    out = []
    for item in text.strip("{} ").split(","):
        item = item.strip()
        m = re.match(r"^([a-z]+)(\d+)-[a-z]+(\d+)$", item)
        if m:
            out += [f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(m.group(3)) + 1)]
        elif item:
            out.append(item)
    return out


@dataclass(frozen=True)
class Insn:
    """One guest instruction as the timing rules need it."""

    addr: int
    size: int
    text: str              # mnemonic and operands as QEMU printed them
    op: str                # base mnemonic: 'ldr', 'smlad', 'b', 'vldrb', ...
    # alu mul div load store ldrd strd ldm stm branch loop it fp fpmem mve mvemem sys
    kind: str
    conditional: bool = False
    dst: frozenset = frozenset()        # core registers written
    src: frozenset = frozenset()        # core registers read
    addr_regs: frozenset = frozenset()  # core registers forming a memory address
    count: int = 1                      # registers (words) moved by LDM/STM/VLDM, beats...
    reg_offset: bool = False            # memory address uses a register offset
    writes_pc: bool = False
    target: int | None = None           # direct branch target

    @property
    def end(self) -> int:
        return self.addr + self.size


_TARGET = re.compile(r"#(0x[0-9a-f]+|\d+)$")
_LABEL = re.compile(r"\b([0-9a-f]+) <[^>]*>$")      # objdump: '11002306 <th_load_tensor+0x2a>'
# objdump's architecture per core: it decodes Helium only when told the core has it.
OBJDUMP_ARCH = {"cortex-m4": "armv7e-m", "cortex-m7": "armv7e-m", "cortex-m33": "armv8-m.main",
                "cortex-m55": "armv8.1-m.main"}


def objdump_decoder(elf: Path, cpu: str, objdump: str = "arm-none-eabi-objdump"
                    ) -> dict[int, Insn]:
    """Every instruction of the image, decoded from the cross toolchain's
    disassembly. QEMU's own disassembler (capstone) prints Helium and the
    low-overhead loop instructions as raw bytes, so the blocks' contents
    are taken from here, QEMU's log giving only where each block starts
    and ends."""
    import subprocess

    try:
        done = subprocess.run([objdump, "-d", "-m", OBJDUMP_ARCH.get(cpu, "armv7e-m"), str(elf)],
                              capture_output=True, text=True, timeout=120, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise TinygenError(f"cannot disassemble {elf} with {objdump}: {exc}; install the "
                           "GNU Arm toolchain (arm-none-eabi-binutils)") from exc
    out: dict[int, Insn] = {}
    for line in done.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].endswith(":"):
            continue
        try:
            addr = int(parts[0].strip()[:-1], 16)
        except ValueError:
            continue
        raw = parts[1].split()
        if not raw or any(len(h) != 4 for h in raw) or parts[2].startswith("."):
            continue
        operands = parts[3].strip() if len(parts) > 3 else ""
        out[addr] = decode(addr, 2 * len(raw), parts[2].strip(), operands)
    return out


def decode(addr: int, size: int, mnemonic: str, operands: str) -> Insn:
    """An Insn from one disassembled instruction (objdump's or QEMU's syntax)."""
    op, conditional = base_mnemonic(mnemonic)
    ops = _split_operands(operands)
    common = dict(addr=addr, size=size, text=f"{mnemonic} {operands}".strip(), op=op,
                  conditional=conditional)
    if op in LOADS or op in STORES or op in DOUBLES:
        return _decode_single(op, ops, common)
    if op in MULTIPLES:
        return _decode_multiple(op, ops, common)
    if op in FP_MEMORY or op in MVE_MEMORY:
        return _decode_vector_memory(op, ops, common)
    if op in BRANCHES or op in LOOP_BRANCHES:
        return _decode_branch(op, operands, common)
    if _IT.match(op):
        return Insn(**common, kind="it")
    return _decode_data(op, ops, operands, common)


def _union(parts: Iterable[set[int]]) -> set[int]:
    return set().union(*parts)


def _decode_single(op: str, ops: list[str], common: dict) -> Insn:
    """LDR/STR and their byte, halfword, exclusive and doubleword forms."""
    mem = next((i for i, o in enumerate(ops) if o.startswith("[")), len(ops))
    address = ops[mem] if mem < len(ops) else ""
    after = ops[mem + 1:]                  # post-index offset
    addr_regs = _regs(address) | _union(_regs(a) for a in after)
    data = _union(_regs(r) for r in ops[:mem])
    writeback = address.endswith("!") or bool(after)
    base = _regs(address.split(",")[0])
    is_load = op in LOADS or DOUBLES.get(op) == "load"
    kind = op if op in DOUBLES else "load" if is_load else "store"
    dst = set() if op in ("pld", "pli") else (data if is_load else set())
    if writeback:
        dst |= base
    return Insn(**common, kind=kind, dst=frozenset(dst),
                src=frozenset(addr_regs | (set() if is_load else data)),
                addr_regs=frozenset(addr_regs), count=2 if op in DOUBLES else 1,
                reg_offset=len(_regs(address)) > 1 or any(_regs(a) for a in after),
                writes_pc=is_load and 15 in data)


def _decode_multiple(op: str, ops: list[str], common: dict) -> Insn:
    """LDM/STM/PUSH/POP."""
    if op in ("push", "pop"):
        base, lst = {13}, ops[0] if ops else ""
    else:
        base, lst = (_regs(ops[0]) if ops else set()), (ops[1] if len(ops) > 1 else "")
    regs = {_REG_NAMES[r] for r in _reg_list(lst) if r in _REG_NAMES}
    is_load = MULTIPLES[op] == "load"
    writeback = op in ("push", "pop") or (bool(ops) and ops[0].endswith("!"))
    dst = (regs if is_load else set()) | (base if writeback else set())
    return Insn(**common, kind="ldm" if is_load else "stm", dst=frozenset(dst),
                src=frozenset(base | (set() if is_load else regs)), addr_regs=frozenset(base),
                count=max(1, len(regs)), writes_pc=is_load and 15 in regs)


def _decode_vector_memory(op: str, ops: list[str], common: dict) -> Insn:
    """FP (VLDR/VSTR/VLDM/VPUSH...) and Helium (VLDRB/VSTRW/VLD4x...) memory
    instructions; ``count`` is 32-bit words (4 for a Helium vector);
    ``reg_offset`` marks the loads (they have no core destination)."""
    mem = next((i for i, o in enumerate(ops) if o.startswith("[")), None)
    if mem is not None:
        address = ops[mem]
        addr_regs = _regs(address)
        words = 4 if op in MVE_MEMORY else (
            2 if re.search(r"\bd\d+\b", ops[0] if ops else "") else 1)
    else:  # vpush/vpop/vldm r0!, {list}
        names = _reg_list(next((o for o in ops if o.startswith("{")), ""))
        addr_regs = {13} if op in ("vpush", "vpop") else (_regs(ops[0]) if ops else set())
        words = sum(2 if n.startswith("d") else 1 for n in names) or 1
        address = ops[0] if ops else ""
    writeback = (address.endswith("!") or op in ("vpush", "vpop")
                 or (mem is not None and mem + 1 < len(ops)))
    return Insn(**common, kind="mvemem" if op in MVE_MEMORY else "fpmem",
                dst=frozenset(addr_regs if writeback else set()), src=frozenset(addr_regs),
                addr_regs=frozenset(addr_regs), count=words,
                reg_offset=op.startswith("vld") or op == "vpop")


def _decode_branch(op: str, operands: str, common: dict) -> Insn:
    """Branches and the low-overhead loop instructions (DLS/WLS/LE)."""
    target = None
    if op not in ("bx", "blx", "tbb", "tbh"):
        m = _TARGET.search(operands)
        if m:
            target = int(m.group(1), 0)
        else:
            m = _LABEL.search(operands)
            target = int(m.group(1), 16) if m else None
    dst = {14} if op in ("bl", "blx", "blxns") or op in LOOP_BRANCHES else set()
    common["conditional"] = common["conditional"] or op in ("cbz", "cbnz") or op in LOOP_BRANCHES
    return Insn(**common, kind="loop" if op in LOOP_BRANCHES else "branch",
                dst=frozenset(dst), src=frozenset(_regs(operands)),
                writes_pc=op not in ("dls", "dlstp", "lctp"), target=target)


# Helium and FP instructions whose first operand is a core register they write.
_V_CORE_DST = {"vmov", "vmrs", "vaddv", "vaddva", "vmladav", "vmladava", "vmladavx",
               "vmladavax", "vmlav", "vmlava", "vmaxv", "vminv", "vmaxav", "vminav", "vabav",
               "vcvt", "vmlsdav", "vmlsdava"}
# ... and those writing a core register pair (the 64-bit accumulations).
_V_CORE_PAIR = ("vmlaldav", "vmlsldav", "vrmlaldavh", "vrmlsldavh", "vaddlv")


def _decode_data(op: str, ops: list[str], operands: str, common: dict) -> Insn:
    """Data processing, multiply, divide, system, FP and Helium arithmetic."""
    regs = [_regs(o) for o in ops]
    if op.startswith("v"):
        dst: set[int] = set()
        if regs and op.startswith(_V_CORE_PAIR):
            dst = regs[0] | (regs[1] if len(regs) > 2 else set())
        elif regs and op in _V_CORE_DST:
            dst = regs[0]
        return Insn(**common, kind="mve" if re.search(r"\bq\d+\b", operands) else "fp",
                    dst=frozenset(dst), src=frozenset(_union(regs)))
    if op in DIVIDES:
        kind = "div"
    elif op in MULS:
        kind = "mul"
    elif op in NO_DEST and op not in ("cmp", "cmn", "tst", "teq"):
        kind = "sys"
    else:
        kind = "alu"          # unknown mnemonics too: one cycle is the common case
    if op in NO_DEST or not regs:
        dst = set()
    elif op in LONG_MULS and len(regs) >= 2:
        dst = regs[0] | regs[1]
    else:
        dst = regs[0]
    if op in NO_DEST:
        src = _union(regs)
    else:
        src = _union(regs[1:])
        if op in LONG_MULS or op in ("mla", "mls", "bfi", "movt") or op.startswith(
                ("smla", "smmla", "smmls", "usada")):
            src |= dst        # accumulators and inserts read what they write
    return Insn(**common, kind=kind, dst=frozenset(dst), src=frozenset(src),
                writes_pc=15 in dst)


# -- core timing models ------------------------------------------------------

EXCEPTION = "exception"


_MEMORY_KINDS = frozenset({"load", "store", "ldrd", "strd", "ldm", "stm", "fpmem", "mvemem"})
_LOAD_KINDS = frozenset({"load", "ldrd", "ldm", "fpmem", "mvemem"})
_DATA_KINDS = frozenset({"alu", "mul", "div"})


@dataclass(frozen=True)
class CoreTiming:
    """One core's cycle costs, and the pricing loop that applies them.

    ``price(prev, insns, taken)`` returns cycles by category for the
    instructions ``insns`` run in order after ``prev`` (the instruction
    executed just before, or None), the last one a branch that was
    ``taken`` or not. The cores differ only by this table (Cortex-M4 from
    its TRM, Cortex-M33 from Arm's pipeline description); the Cortex-M55
    adds Helium beat timing (``CortexM55``), the Cortex-M7 dual issue
    (``CortexM7``).
    """

    core: str
    confidence: str
    basis: str
    refill: int = 2            # P: taken-branch pipeline refill
    divide: int = 7            # SDIV/UDIV: 2..12 by operands
    exception_entry: int = 12
    exception_return: int = 10
    load: int = 2              # a single load
    # a single load after a single load whose result it does not use for its
    # address (the M4's "LDR [any] are pipelined when possible"); None: never
    load_pipelined: int | None = 1
    store_reg_offset: int = 2  # a store with a register offset (1 when it follows a load)
    double: int = 3            # LDRD/STRD
    load_use_stall: int = 0    # the next instruction reads a loaded register
    vector: int = 1            # Helium data processing
    vector_memory: int = 1     # Helium load/store

    def price(self, prev: Insn | None, insns: list[Insn], taken: bool) -> Counter:
        out: Counter = Counter()
        last = len(insns) - 1
        for i, insn in enumerate(insns):
            k = insn.kind
            if (self.load_use_stall and prev is not None and prev.kind in _LOAD_KINDS
                    and prev.dst & insn.src):
                out["load-use stall"] += self.load_use_stall
            # address generation: no forwarding from a data-processing result
            if (k in _MEMORY_KINDS and prev is not None and prev.kind in _DATA_KINDS
                    and prev.dst & insn.addr_regs):
                out["address stall"] += 1
            if k == "load":
                cost = self.load
                if (self.load_pipelined is not None and prev is not None and prev.kind == "load"
                        and not prev.writes_pc and not (prev.dst & insn.addr_regs)):
                    cost = self.load_pipelined
                out["load"] += cost
            elif k == "store":
                cost = 1
                if insn.reg_offset and not (prev is not None and prev.kind == "load"
                                            and not (prev.dst & insn.addr_regs)):
                    cost = self.store_reg_offset
                out["store"] += cost
            elif k in ("ldrd", "strd"):
                out["ldrd/strd"] += self.double
            elif k in ("ldm", "stm"):
                out["ldm/stm"] += 1 + insn.count
            elif k == "fpmem":
                out["fp load/store"] += 1 + insn.count
            elif k == "mvemem":
                out["vector load/store"] += self.vector_memory_cost(insn)
            elif k in ("branch", "loop"):
                issue, refill = _branch_cost(insn, taken and i == last, self.refill)
                out["branch"] += issue
                out["branch refill"] += refill
            elif k == "div":
                out["divide"] += self.divide
            elif k == "mul":
                out["multiply/MAC"] += 1
            elif k == "fp":
                out["fp"] += _fp_cycles(insn)
            elif k == "mve":
                out["vector"] += self.vector
            elif k == "it":
                out["IT"] += 1
            else:
                out["ALU"] += 1
            # a load of pc, POP {pc} or a data-processing write to pc is a taken branch
            if insn.writes_pc and k not in ("branch", "loop"):
                out["branch refill"] += self.refill
            prev = insn
        return out

    def vector_memory_cost(self, insn: Insn) -> int:
        return self.vector_memory


def _branch_cost(insn: Insn, taken: bool, refill: int) -> tuple[int, int]:
    """(issue cycles, refill cycles) of a branch-like instruction."""
    if insn.op in ("tbb", "tbh"):
        return 2, refill
    if insn.kind == "loop":
        return 1, (refill if taken and insn.op in ("wls", "wlstp") else 0)
    return 1, (refill if taken else 0)


def _fp_cycles(insn: Insn) -> int:
    if insn.op in ("vdiv", "vsqrt"):
        return 14
    if insn.op in ("vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"):
        return 3
    return 1


_GATHER = re.compile(r"\[[^\]]*\bq\d+")
_ELEMENT_BITS = re.compile(r"\.[suif]?(8|16|32|64)\b")
# Helium instructions that write a core register (reductions, moves to core):
# what reads it next waits for the last beat.
_V_TO_CORE = tuple(_V_CORE_DST) + _V_CORE_PAIR


@dataclass(frozen=True)
class CortexM55(CoreTiming):
    """Scalar code as the Cortex-M33 table; Helium by its beats.

    Public facts (Armv8.1-M Architecture Reference Manual, the Cortex-M55
    product documentation): a Helium instruction is 4 beats of 32 bits; the
    Cortex-M55 executes 2 beats per cycle (dual beat), so a 128-bit vector
    instruction occupies its unit for 2 cycles; the architecture lets
    consecutive vector instructions overlap beat-wise, which on the M55
    pairs a memory instruction with an arithmetic one (separate units): the
    second starts while the first does its last 2 beats, saving 1 cycle.
    Estimated beyond those facts (no public timing table): two vector
    instructions of the same class do not overlap; a gather or scatter takes
    one cycle per element; a reduction or move to a core register delays an
    instruction that reads the register right after it by 1 cycle; scalar
    instructions do not overlap vector ones; a low-overhead loop end (LE)
    costs its 1-cycle issue, no refill."""

    def vector_memory_cost(self, insn: Insn) -> int:
        if _GATHER.search(insn.text):
            m = _ELEMENT_BITS.search(insn.text.split()[0])
            return 128 // int(m.group(1)) if m else 4
        return self.vector_memory

    def price(self, prev: Insn | None, insns: list[Insn], taken: bool) -> Counter:
        out = super().price(prev, insns, taken)
        before = prev
        for insn in insns:
            if before is not None:
                kinds = {before.kind, insn.kind}
                if kinds == {"mve", "mvemem"}:
                    out["beat overlap"] -= 1
                elif (before.kind == "mve" and before.op.startswith(_V_TO_CORE)
                      and before.dst & (insn.src | insn.addr_regs)):
                    out["vector-to-core stall"] += 1
            before = insn
        return out


class CortexM7(CoreTiming):
    """Dual issue: an instruction pairs with the next one when one of the
    two is a plain ALU operation, they do not depend on each other and at
    most one of them touches memory; loads have a 1-cycle load-use delay;
    taken branches are predicted (no refill counted)."""

    _MEMORY = frozenset({"load", "store", "ldrd", "strd", "ldm", "stm", "fpmem"})
    _ALONE = frozenset({"ldm", "stm", "div", "branch", "loop", "it"})

    def _pairs(self, first: Insn, second: Insn) -> bool:
        return ((first.kind == "alu" or second.kind == "alu")
                and not (first.kind in self._MEMORY and second.kind in self._MEMORY)
                and first.kind not in self._ALONE and second.kind not in self._ALONE - {"branch"}
                and not (first.kind == "mul" and second.kind == "mul")
                and not (first.dst & (second.src | second.addr_regs)))

    def price(self, prev: Insn | None, insns: list[Insn], taken: bool) -> Counter:
        out: Counter = Counter()
        paired = False
        for i, insn in enumerate(insns):
            k = insn.kind
            if prev is not None and prev.kind in ("load", "ldrd", "ldm", "fpmem") \
                    and prev.dst & (insn.src | insn.addr_regs):
                out["load-use stall"] += 1
            if k in ("ldm", "stm"):
                out["ldm/stm"] += (insn.count + 1) // 2 + 1
            elif k == "div":
                out["divide"] += self.divide
            elif k == "fp":
                out["fp"] += _fp_cycles(insn)
            else:
                out[_CATEGORY.get(k, "ALU")] += 1
            if paired:
                out["dual issue"] -= 1
                paired = False
            elif i + 1 < len(insns) and self._pairs(insn, insns[i + 1]):
                paired = True
            prev = insn
        return out


_CATEGORY = {"load": "load", "store": "store", "ldrd": "ldrd/strd", "strd": "ldrd/strd",
             "mul": "multiply/MAC", "fpmem": "fp load/store", "branch": "branch",
             "loop": "branch", "it": "IT", "mve": "vector", "mvemem": "vector load/store"}


_M33_SCALAR = dict(refill=1, load=1, load_pipelined=None, store_reg_offset=1, double=2,
                   load_use_stall=1)
CORE_TIMINGS: dict[str, CoreTiming] = {
    "cortex-m4": CoreTiming(
        "cortex-m4", "high",
        "Cortex-M4 TRM instruction timings (zero wait states; taken-branch refill P=2, "
        "TRM range 1-3; divide 7, TRM range 2-12)"),
    "cortex-m33": CoreTiming(
        "cortex-m33", "low",
        "Cortex-M33: no public timing table; Arm's pipeline description (loads 1 cycle + "
        "1-cycle load-use interlock, branches resolved early, P=1)",
        vector=2, vector_memory=2, **_M33_SCALAR),
    "cortex-m55": CortexM55(
        "cortex-m55", "low",
        "Cortex-M55: scalar as the M33 sketch; Helium by beats: 4 beats per vector instruction, "
        "2 per cycle (dual beat: 2 cycles), a memory and an arithmetic instruction in a row "
        "overlap by 1 cycle (public facts); gathers 1 cycle per element, 1-cycle wait on a "
        "reduction's core result, no other overlap (estimated)",
        vector=2, vector_memory=2, **_M33_SCALAR),
    "cortex-m7": CortexM7(
        "cortex-m7", "low",
        "Cortex-M7: dual-issue sketch from Arm's description (ALU pairs, one memory access "
        "per cycle, 1-cycle load-use, predicted branches)", refill=0),
}


def core_timing(cpu: str) -> CoreTiming:
    timing = CORE_TIMINGS.get(cpu)
    if timing is None:
        raise TinygenError(f"no cycle model for {cpu}; estimated cycles exist for "
                           + ", ".join(CORE_TIMINGS))
    return timing


# -- the executed block stream -------------------------------------------------

_IN = re.compile(r"^IN:\s*(\S*)")
_INSN = re.compile(r"^0x([0-9a-f]+):\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+(\S+)\s*(.*?)\s*$")
_EXEC = re.compile(r"^Trace \d+: (0x[0-9a-f]+) \[[0-9a-f]+/([0-9a-f]+)/")


@dataclass(frozen=True)
class Block:
    """A translation block: instructions QEMU ran as one unit."""

    pc: int
    function: str
    insns: tuple[Insn, ...]

    @property
    def last(self) -> Insn:
        return self.insns[-1]


def read_blocks(log_path: Path, decoder: dict[int, Insn] | None = None) -> Iterator[Block]:
    """The executed blocks, in order, from a '-d in_asm,exec,nochain' log.

    A block's instructions are printed once, when QEMU translates it, just
    before its first execution; later executions name it by the address of
    its host code, which is how they are matched to it.
    """
    by_host: dict[str, Block] = {}
    pending: list[Insn] | None = None
    function = ""
    with open(log_path, errors="replace") as lines:
        for line in lines:
            if line.startswith("Trace"):
                m = _EXEC.match(line)
                if not m:
                    continue
                host, pc = m.group(1), int(m.group(2), 16)
                if pending:
                    if pending[0].addr == pc:
                        by_host[host] = Block(pc, function, _redecode(pending, decoder))
                    pending = None
                block = by_host.get(host)
                if block is None or block.pc != pc:
                    raise TinygenError(f"{log_path}: block at 0x{pc:x} ran before QEMU printed "
                                       "its instructions; trace with -d in_asm,exec,nochain")
                yield block
            elif line.startswith("0x"):
                m = _INSN.match(line)
                if m and pending is not None:
                    size = 4 if m.group(3) else 2
                    pending.append(decode(int(m.group(1), 16), size, m.group(4), m.group(5)))
            elif line.startswith("IN:"):
                m = _IN.match(line)
                function = m.group(1) if m else ""
                pending = []


def _redecode(logged: list[Insn], decoder: dict[int, Insn] | None) -> tuple[Insn, ...]:
    """The block's instructions from the decoder, walking from its first
    address to its last logged one; the logged ones when the decoder lacks any."""
    if not decoder:
        return tuple(logged)
    out, addr, last = [], logged[0].addr, logged[-1].addr
    while addr <= last:
        insn = decoder.get(addr)
        if insn is None:
            return tuple(logged)
        out.append(insn)
        addr += insn.size
    return tuple(out)


@dataclass
class Window:
    """What part of the stream to price.

    ``entry``: the address of a function whose first call is priced, from
    its entry to its return (the instruction after the call); or, with
    ``end``, from the first block starting at ``entry`` to the first block
    starting at ``end``. Calls to a function in ``split_at`` start a new
    segment and are not priced themselves (the profiling build's
    per-operator timestamps).
    """

    entry: int
    end: int | None = None
    split_at: int | None = None


@dataclass
class Transitions:
    """How often each (previous block, block, taken) triple ran, by segment."""

    blocks: dict[tuple[int, int], Block] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)   # (segment, prev key, key, taken) -> n
    exceptions: Counter = field(default_factory=Counter)  # segment -> n
    segments: int = 1
    closed: bool = False
    entry: int | None = None
    return_to: int | None = None


def _key(block: Block) -> tuple[int, int]:
    return block.pc, len(block.insns)


def collect(blocks: Iterable[Block], window: Window, handlers: frozenset[int] = frozenset()
            ) -> Transitions:
    """Counts the priced window's block transitions (see ``Window``)."""
    out = Transitions()
    inside = False
    return_to: int | None = None
    skip_until: int | None = None
    segment = 0
    prev: Block | None = None        # last block run (priced or not)
    held: Block | None = None        # last priced block, waiting to learn if its branch was taken
    held_prev: tuple[int, int] | None = None
    before_held: tuple[int, int] | None = None
    segment_of_held = 0
    calls: list[int] = []            # return addresses of the calls under way (BL/BLX)
    for block in blocks:
        if calls and block.pc == calls[-1]:
            calls.pop()
        returns_to = calls[-1] if calls else (prev.last.end if prev is not None else None)
        if block.last.op in ("bl", "blx"):
            calls.append(block.last.end)
            del calls[:-64]
        if not inside:
            if block.pc == window.entry:
                inside = True
                if window.end is None:
                    # a tail call (B to the function) returns where the last call would
                    if returns_to is None:
                        raise TinygenError("the priced function ran before anything called it")
                    return_to = returns_to
                else:
                    return_to = window.end
                out.entry, out.return_to = block.pc, return_to
            else:
                prev = block
                continue
        elif skip_until is not None:
            if block.pc != skip_until:
                prev = block
                continue
            skip_until = None
        # the held block's branch was taken when control did not fall through
        if held is not None:
            exception = block.pc in handlers and block.pc != held.last.target
            taken = block.pc != held.last.end and not exception
            out.counts[(segment_of_held, before_held, _key(held), taken)] += 1
            if exception:
                out.exceptions[segment] += 1
            held = None
        if block.pc == return_to:
            out.closed = True
            break
        if window.split_at is not None and block.pc == window.split_at:
            skip_until = returns_to
            segment += 1
            out.segments = segment + 1
            prev = block
            held_prev = None
            continue
        out.blocks.setdefault(_key(block), block)
        held, segment_of_held = block, segment
        before_held = held_prev
        held_prev = _key(block)
        prev = block
    return out


@dataclass
class CycleEstimate:
    """Estimated cycles of a priced window, by category, function and segment."""

    core: str
    confidence: str
    basis: str
    instructions: int
    cycles: int
    by_category: dict[str, int]
    by_function: dict[str, tuple[int, int]]       # name -> (instructions, cycles)
    segments: list[tuple[int, int]]               # (instructions, cycles) per segment
    exceptions: int
    loads: int = 0                                # words read by load instructions

    @property
    def cpi(self) -> float:
        return self.cycles / self.instructions if self.instructions else 0.0

    def to_dict(self) -> dict:
        return {"core": self.core, "confidence": self.confidence, "basis": self.basis,
                "instructions": self.instructions, "cycles": self.cycles,
                "by_category": self.by_category,
                "by_function": {k: list(v) for k, v in self.by_function.items()},
                "segments": [list(s) for s in self.segments], "exceptions": self.exceptions,
                "loads": self.loads, "cpi": self.cpi}


def price(transitions: Transitions, timing: CoreTiming) -> CycleEstimate:
    """Prices every distinct transition once and sums by its count."""
    by_category: Counter = Counter()
    by_function: dict[str, list[int]] = {}
    segments = [[0, 0] for _ in range(transitions.segments)]
    blocks = transitions.blocks
    loads = 0
    for (segment, prev_key, key, taken), n in transitions.counts.items():
        block = blocks[key]
        loads += n * sum(i.count for i in block.insns if i.kind in ("load", "ldrd", "ldm")
                         or (i.kind in ("fpmem", "mvemem") and i.reg_offset))
        prev = blocks[prev_key].last if prev_key in blocks else None
        cost = timing.price(prev, list(block.insns), taken)
        cycles = sum(cost.values())
        for category, c in cost.items():
            by_category[category] += c * n
        f = by_function.setdefault(block.function or "?", [0, 0])
        f[0] += len(block.insns) * n
        f[1] += cycles * n
        segments[segment][0] += len(block.insns) * n
        segments[segment][1] += cycles * n
    per_exception = timing.exception_entry + timing.exception_return
    for segment, n in transitions.exceptions.items():
        by_category["exception entry/return"] += per_exception * n
        segments[segment][1] += per_exception * n
    instructions = sum(s[0] for s in segments)
    return CycleEstimate(
        timing.core, timing.confidence, timing.basis, instructions,
        sum(by_category.values()), {k: v for k, v in by_category.items() if v},
        {k: (v[0], v[1]) for k, v in sorted(by_function.items(), key=lambda kv: -kv[1][1])},
        [(s[0], s[1]) for s in segments], sum(transitions.exceptions.values()), loads)


# -- the firmware image --------------------------------------------------------

@dataclass(frozen=True)
class Image:
    """What the pricing needs from a firmware ELF."""

    symbols: dict[str, tuple[int, int]]      # function name -> (address, size)
    code: tuple[tuple[int, int], ...]         # executable sections (start, end)
    handlers: frozenset[int]                  # exception handler entry addresses

    def address(self, name: str) -> int:
        if name not in self.symbols:
            raise TinygenError(f"the firmware has no function {name}; is it a tinygen build?")
        return self.symbols[name][0]


def read_image(elf: Path) -> Image:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with open(elf, "rb") as f:
        image = ELFFile(f)
        symbols = {}
        for section in image.iter_sections():
            if isinstance(section, SymbolTableSection):
                for sym in section.iter_symbols():
                    if sym["st_info"]["type"] == "STT_FUNC" and sym["st_value"]:
                        symbols[sym.name] = (sym["st_value"] & ~1, sym["st_size"])
        code = tuple((s["sh_addr"], s["sh_addr"] + s["sh_size"]) for s in image.iter_sections()
                     if s["sh_flags"] & 0x4 and s["sh_size"])   # SHF_EXECINSTR
        entry = image.header["e_entry"] | 1
        handlers: set[int] = set()
        for section in image.iter_sections():
            if section["sh_type"] != "SHT_PROGBITS" or section["sh_size"] < 8:
                continue
            data = section.data()
            words = [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data) - 3, 4)]
            if len(words) > 1 and words[1] == entry:
                # the vector table: stack top, then handler addresses (Thumb bit set)
                handlers = {w & ~1 for w in words[2:256] if w & 1}
                break
    return Image(symbols, code, frozenset(handlers))


def dfilter_ranges(image: Image, leave_out: Iterable[str]) -> str:
    """QEMU -dfilter text: all code but the named functions."""
    holes = sorted(image.symbols[n] for n in leave_out if n in image.symbols)
    ranges = []
    for start, end in image.code:
        cur = start
        for hole, size in holes:
            if cur <= hole < end:
                if hole > cur:
                    ranges.append((cur, hole))
                cur = max(cur, hole + size)
        if cur < end:
            ranges.append((cur, end))
    return ",".join(f"0x{a:x}..0x{b - 1:x}" for a, b in ranges)


# -- one traced inference ------------------------------------------------------

TRACE_FLAGS = "in_asm,exec,nochain"
# Spins QEMU need not log: the boot-time check of the clock against virtual time.
QUIET_FUNCTIONS = ("tg_emulated_clock_check",)
INVOKE = "tg_model_invoke"
PROFILE_STAMP = "tg_profile_clock_us"


class TraceStopped(TinygenError):
    """A traced run stopped from another thread (TraceControl.stop)."""


class TraceControl:
    """Lets another thread stop a traced run: its QEMU, and the reading of its log."""

    def __init__(self):
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._dut = None

    def attach(self, dut) -> None:
        with self._lock:
            self._dut = dut
        if self.stopped.is_set():
            dut.stop()

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            dut = self._dut
        if dut is not None:
            dut.stop()

    def check(self) -> None:
        if self.stopped.is_set():
            raise TraceStopped("the traced run was stopped")


def _checked(blocks: Iterable[Block], control: TraceControl | None, every: int = 65536
             ) -> Iterator[Block]:
    for i, block in enumerate(blocks):
        if control is not None and i % every == 0:
            control.check()
        yield block


def trace_args(image: Image, log_path: Path) -> tuple[str, ...]:
    return ("-d", TRACE_FLAGS, "-D", str(log_path),
            "-dfilter", dfilter_ranges(image, QUIET_FUNCTIONS))


def trace_inference(board, build_dir: Path, stimulus: bytes, log_path: Path,
                    timeout: float = 600.0, control: TraceControl | None = None) -> Path:
    """Runs one inference of the firmware in build_dir under QEMU with the
    block trace on; returns the log."""
    from tinygen.device.launch import start_dut
    from tinygen.device.session import EMULATOR_LOAD_WINDOW, DutSession

    if not board.is_emulated:
        raise TinygenError(f"{board.name} is not emulated; estimated cycles come from a "
                           "QEMU trace: use one of the emulated boards")
    image = read_image(Path(build_dir) / "firmware.elf")
    log_path = Path(log_path)
    log_path.unlink(missing_ok=True)
    # QEMU's own output beside the trace, not in the build's dut.log: the
    # trace may run while a session's DUT runs the same build.
    qemu_log = log_path.with_name(log_path.stem + "-qemu.log")
    try:
        with start_dut(board, build_dir, log_path=qemu_log,
                       extra_args=trace_args(image, log_path)) as dut, \
                DutSession(dut.url, timeout=timeout, load_window=EMULATOR_LOAD_WINDOW) as session:
            if control is not None:
                control.attach(dut)
            session.wait_ready(timeout=180, quiet=60)   # a traced boot is slow: wait for its banner
            session.load(stimulus)
            session.command("infer 1 0", timeout=timeout)
            # one more command: everything of the inference is in the log by now
            session.command("name", timeout=60)
    except TinygenError:
        if control is not None:
            control.check()   # stopped on purpose: say so, not the session error
        raise
    finally:
        qemu_log.unlink(missing_ok=True)
    return log_path


def collect_trace(log_path: Path, elf: Path, *, split_at_stamps: bool = False,
                  window: Window | None = None, cpu: str = "cortex-m4",
                  control: TraceControl | None = None) -> Transitions:
    """The transitions of the first tg_model_invoke call (or ``window``) in
    a trace; with ``split_at_stamps`` one segment per profiling stamp."""
    image = read_image(elf)
    decoder = objdump_decoder(elf, cpu)
    if window is None:
        window = Window(image.address(INVOKE),
                        split_at=image.address(PROFILE_STAMP) if split_at_stamps else None)
    transitions = collect(_checked(read_blocks(log_path, decoder), control), window,
                          image.handlers)
    if not transitions.closed:
        raise TinygenError(f"{log_path}: the trace ends before the priced window does; was "
                           "the run cut short?")
    return transitions


def estimate_trace(log_path: Path, elf: Path, cpu: str, *, split_at_stamps: bool = False,
                   window: Window | None = None) -> CycleEstimate:
    """Estimated cycles of ``collect_trace``'s window."""
    return price(collect_trace(log_path, elf, split_at_stamps=split_at_stamps, window=window,
                               cpu=cpu), core_timing(cpu))


def trace_build(board, build_dir: Path, stimulus_bytes: bytes, *, split_at_stamps: bool = False,
                log_path: Path | None = None, keep_log: bool = False,
                control: TraceControl | None = None) -> Transitions:
    """The priced window's transitions of one traced inference of a build."""
    build_dir = Path(build_dir)
    log_path = Path(log_path) if log_path else build_dir / "cycles-trace.log"
    try:
        trace_inference(board, build_dir, stimulus_bytes, log_path, control=control)
        return collect_trace(log_path, build_dir / "firmware.elf", split_at_stamps=split_at_stamps,
                             cpu=board.cpu, control=control)
    finally:
        if not keep_log:
            log_path.unlink(missing_ok=True)


def estimate_inference(board, build_dir: Path, stimulus_bytes: bytes, *,
                       log_path: Path | None = None, split_at_stamps: bool = False,
                       keep_log: bool = False, control: TraceControl | None = None
                       ) -> CycleEstimate:
    """Estimated cycles of one inference of the firmware in build_dir."""
    transitions = trace_build(board, build_dir, stimulus_bytes, split_at_stamps=split_at_stamps,
                              log_path=log_path, keep_log=keep_log, control=control)
    return price(transitions, core_timing(board.cpu))


# -- flash bytes read ------------------------------------------------------------

@dataclass
class FlashReads:
    """Data read by the priced window's load instructions, by memory kind."""

    flash_bytes: int = 0
    flash_accesses: int = 0       # load instructions that read flash
    ram_bytes: int = 0
    unknown: int = 0              # loads whose address could not be worked out
    # Flash bytes by the address of the load that read them: which code
    # reads flash (the image's map or symbols name the functions).
    flash_by_pc: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(flash_bytes=self.flash_bytes, flash_accesses=self.flash_accesses,
                    ram_bytes=self.ram_bytes, unknown=self.unknown)


_ADDRESS = re.compile(r"\[([a-z0-9]+)(?:,\s*(#-?(?:0x)?[0-9a-f]+|-?[a-z0-9]+)"
                      r"(?:,\s*lsl #(\d+))?)?\](!?)")
_REGS_LINE = re.compile(r"R(\d\d)=([0-9a-f]{8})")
_MEM_SIZE = {"b": 1, "h": 2, "w": 4, "d": 8}


def load_bytes(insn: Insn) -> int:
    """Bytes one execution of a load instruction reads."""
    op = insn.op
    if insn.kind == "ldm":
        return 4 * insn.count
    if insn.kind == "ldrd":
        return 8
    if insn.kind == "mvemem":
        mem = _MEM_SIZE.get(op[4:5], 4) if op.startswith("vldr") else 4
        m = re.search(r"\.[su](\d+)", insn.text)
        lanes = 128 // int(m.group(1)) if m else 16 // mem
        return mem * lanes
    if insn.kind == "fpmem":
        return 4 * insn.count
    if op.startswith(("ldrb", "ldrsb", "ldab", "ldrexb")):
        return 1
    if op.startswith(("ldrh", "ldrsh", "ldah", "ldrexh")):
        return 2
    return 4


def load_address(insn: Insn, regs: dict[int, int]) -> int | None:
    """The first address a load reads, from the registers before it ran."""
    if insn.kind == "ldm":
        base = regs.get(next(iter(insn.addr_regs))) if insn.addr_regs else None
        if base is None:
            return None
        return base - 4 * insn.count if insn.op in ("ldmdb", "ldmea") else base
    m = _ADDRESS.search(insn.text)
    if not m:
        return None
    base_name, offset, shift, _ = m.groups()
    if base_name not in _REG_NAMES:
        return None
    base_reg = _REG_NAMES[base_name]
    base = (regs[15] + 4) & ~3 if base_reg == 15 else regs.get(base_reg)
    if base is None:
        return None
    if offset is None:
        return base
    if offset.startswith("#"):
        value = int(offset[1:], 0)
    else:
        negative = offset.startswith("-")
        name = offset.lstrip("-")
        if name not in _REG_NAMES or _REG_NAMES[name] not in regs:
            return None
        value = regs[_REG_NAMES[name]] << int(shift or 0)
        value = -value if negative else value
    return (base + value) & 0xFFFFFFFF


def count_flash_reads(log_path: Path, loads: dict[int, Insn], entry: int, return_to: int,
                      flash: list[tuple[int, int]]) -> FlashReads:
    """Sums the bytes each logged load read, between the window's entry and
    its return, from a one-instruction-per-block '-d cpu' log."""
    out = FlashReads()
    inside = False
    pc: int | None = None
    regs: dict[int, int] = {}
    with open(log_path, errors="replace") as lines:
        for line in lines:
            if line.startswith("Trace"):
                m = _EXEC.match(line)
                pc = int(m.group(2), 16) if m else None
                regs = {}
                if pc == entry:
                    inside = True
                elif pc == return_to and inside:
                    break
            elif line.startswith("R") and pc is not None:
                regs.update((int(r), int(v, 16)) for r, v in _REGS_LINE.findall(line))
                if "R15=" in line and inside and pc in loads:
                    insn = loads[pc]
                    address = load_address(insn, regs)
                    size = load_bytes(insn)
                    if address is None:
                        out.unknown += 1
                    elif any(lo <= address < hi for lo, hi in flash):
                        out.flash_bytes += size
                        out.flash_accesses += 1
                        out.flash_by_pc[pc] = out.flash_by_pc.get(pc, 0) + size
                    else:
                        out.ram_bytes += size
    return out


def flash_trace_args(pcs: Iterable[int], log_path: Path) -> tuple[str, ...]:
    """QEMU options of the log count_flash_reads reads: one instruction per
    block, the registers before each of the given instructions."""
    return ("-accel", "tcg,one-insn-per-tb=on", "-d", "exec,nochain,cpu", "-D", str(log_path),
            "-dfilter", ",".join(f"0x{pc:x}..0x{pc:x}" for pc in sorted(pcs)))


def flash_reads(board, build_dir: Path, stimulus_bytes: bytes, transitions: Transitions,
                log_path: Path | None = None) -> FlashReads:
    """Bytes the window's loads read from the board's flash regions: a second
    run, one instruction per block, logging the registers before each load."""
    build_dir = Path(build_dir)
    loads = {i.addr: i for b in transitions.blocks.values() for i in b.insns
             if i.kind in ("load", "ldrd", "ldm") or (i.kind in ("fpmem", "mvemem")
                                                        and i.reg_offset)}
    if transitions.entry is None or transitions.return_to is None:
        raise TinygenError("no priced window to count flash reads in")
    log_path = Path(log_path) if log_path else build_dir / "flash-trace.log"
    log_path.unlink(missing_ok=True)
    args = flash_trace_args(set(loads) | {transitions.entry, transitions.return_to}, log_path)
    from tinygen.device.launch import start_dut
    from tinygen.device.session import DutSession

    with start_dut(board, build_dir, extra_args=args) as dut, \
            DutSession(dut.url, timeout=1800) as session:
        session.wait_ready(timeout=600, quiet=300)
        session.load(stimulus_bytes)
        session.command("infer 1 0", timeout=1800)
        session.command("name", timeout=60)
    flash = [(r.base, r.base + r.size) for r in board.regions("flash")]
    try:
        return count_flash_reads(log_path, loads, transitions.entry, transitions.return_to, flash)
    finally:
        log_path.unlink(missing_ok=True)


# -- real-board figures ----------------------------------------------------------

def board_figures(board, estimate: CycleEstimate) -> dict:
    """What a session records: the estimate per instruction, and the flash
    wait-state range at the board's clock."""
    wait = board.flash_wait_states
    return {"core": estimate.core, "confidence": estimate.confidence, "basis": estimate.basis,
            "instructions": estimate.instructions, "cycles": estimate.cycles,
            "cycles_per_instruction": estimate.cpi, "loads": estimate.loads,
            "flash_wait_states": wait,
            # upper end: every load word read from flash, none hidden by its cache
            "flash_upper_cycles": estimate.cycles + wait * estimate.loads}


def stimulus(bench, seed: int = 1) -> bytes:
    """A random input of the benchmark's size and format."""
    import numpy as np

    from tinygen.benches import INPUT_FLOAT32_QUANTIZE

    rng = np.random.default_rng(seed)
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        return rng.uniform(-2.0, 2.0, bench.input_elements).astype("<f4").tobytes()
    return rng.integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()


# The figures of a build's traced inference, kept beside its firmware: the
# trace (a boot, a stimulus download and an inference with every block
# logged, then the log priced) takes tens of seconds on a slow emulator and
# gives the same figures for the same image, stimulus and pricing rules.
ESTIMATE_CACHE = "cycles.json"


def _estimate_key(board, build_dir: Path, bench, seed: int) -> dict:
    elf = Path(build_dir) / "firmware.elf"
    return {"firmware_sha256": hashlib.sha256(elf.read_bytes()).hexdigest(),
            "board": board.name, "bench": bench.id, "seed": seed,
            # the pricing rules are this module: a change to them re-prices
            "rules_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}


def _cached_figures(path: Path, key: dict) -> dict | None:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    figures = saved.get("figures")
    return figures if isinstance(figures, dict) else None


def estimate_build(board, build_dir: Path, bench, seed: int = 1,
                   control: TraceControl | None = None) -> dict | None:
    """``board_figures`` of one traced inference of the build, or None (with
    a warning) when it cannot be had: an estimate never fails a session.
    Kept in the build folder (``cycles.json``) for the same image."""
    build_dir = Path(build_dir)
    try:
        key = _estimate_key(board, build_dir, bench, seed)
    except OSError as exc:
        log.warning("no cycle estimate for %s: %s", build_dir, exc)
        return None
    cache = build_dir / ESTIMATE_CACHE
    figures = _cached_figures(cache, key)
    if figures is not None:
        log.info("estimated cycles of this firmware from %s (traced earlier)", cache)
        return figures
    try:
        estimate = estimate_inference(board, build_dir, stimulus(bench, seed), control=control)
    except TraceStopped:
        log.debug("cycle estimate of %s stopped", build_dir)
        return None
    except (TinygenError, OSError) as exc:
        log.warning("no cycle estimate for %s: %s", build_dir, exc)
        return None
    figures = board_figures(board, estimate)
    try:
        cache.write_text(json.dumps({"key": key, "figures": figures}, indent=1) + "\n")
    except OSError as exc:
        log.debug("cycle estimate not kept in %s: %s", cache, exc)
    return figures


class BackgroundEstimate:
    """``estimate_build`` on its own thread, started before a session's
    checks so that its traced QEMU run overlaps them (a second emulator
    process: on two free cores the trace costs no wall-clock time)."""

    def __init__(self, board, build_dir: Path, bench, seed: int = 1):
        self._figures: dict | None = None
        self._done = threading.Event()
        self._control = TraceControl()
        self.timed_out = False
        self._thread = threading.Thread(target=self._run, args=(board, Path(build_dir), bench, seed),
                                        name="cycle-estimate", daemon=True)
        self._thread.start()

    def _run(self, board, build_dir: Path, bench, seed: int) -> None:
        try:
            self._figures = estimate_build(board, build_dir, bench, seed, control=self._control)
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def figures(self, timeout: float = 900.0) -> dict | None:
        """The figures once the trace is done; None if it failed, or is not
        done within ``timeout`` seconds (then it is stopped)."""
        if not self._done.is_set():
            log.info("waiting for the cycle estimate's traced inference (at most %.0f s) ...",
                     timeout)
        if not self._done.wait(timeout):
            self.timed_out = True
            self.stop()
            return None
        return self._figures

    def stop(self, timeout: float = 30.0) -> None:
        """Stops the traced run (its QEMU, the reading of its log) and waits for the thread."""
        self._control.stop()
        self._thread.join(timeout)


def board_seconds(instructions: float, figures: dict, clock_hz: int) -> tuple[float, float]:
    """Estimated real-board seconds for an instruction count: (zero flash
    wait states, every load word read from flash uncached). The upper end is
    loose: it counts RAM loads too (benchmarks/firmware_size_speed.py
    measures the flash bytes an inference really reads)."""
    cpi = figures["cycles_per_instruction"]
    upper = figures["flash_upper_cycles"] / figures["cycles"] if figures["cycles"] else 1.0
    low = instructions * cpi / clock_hz
    return low, low * upper


def estimate_text(instructions: float, figures: dict, clock_hz: int) -> str:
    """'N M estimated cycles ... = T ms at F MHz' for one inference."""
    low, high = board_seconds(instructions, figures, clock_hz)
    text = (f"real-board estimate {instructions * figures['cycles_per_instruction'] / 1e6:.3f} M "
            f"cycles (estimated: {figures['core']} timings, {figures['confidence']} confidence, "
            f"{figures['cycles_per_instruction']:.2f} cycles per instruction) = {low * 1e3:.3f} ms "
            f"at {clock_hz / 1e6:g} MHz with zero-wait memory")
    if figures["flash_wait_states"]:
        text += (f"; the part's {figures['flash_wait_states']} flash wait states at this clock "
                 f"make it {low * 1e3:.3f} to {high * 1e3:.3f} ms (the upper end as if every "
                 "load word, RAM ones too, read flash past its cache)")
    return text


def attach_cycle_estimate(record, bench, pending: BackgroundEstimate | None = None,
                          wait: float = 900.0) -> dict | None:
    """Adds ``board_figures`` of the session's firmware to the record's
    emulation facts (``emulation["cycles"]``), once per session; from
    ``pending`` when the trace was started in the background, waiting for
    it at most ``wait`` seconds (then ``emulation["cycles_left_out"]`` says why)."""
    from tinygen.boards import load_board

    data = record.data
    emulation = data.get("emulation")
    build = data.get("build") or (data.get("firmware") or {}).get("build")
    if not emulation or not build or not data.get("board"):
        return None
    if emulation.get("cycles") is None:
        if pending is not None:
            emulation["cycles"] = pending.figures(wait)
            if pending.timed_out:
                emulation["cycles_left_out"] = (
                    f"its traced inference was not done {wait:.0f} s after the latency "
                    "windows (verify without --quick waits for it)")
                log.info("estimated cycles left out: %s", emulation["cycles_left_out"])
        else:
            try:
                board = load_board(data["board"])
            except TinygenError as exc:
                log.warning("no cycle estimate: %s", exc)
                return None
            emulation["cycles"] = estimate_build(board, Path(build), bench)
        record.save()
    return emulation["cycles"]


def operator_cycles(board, build_dir: Path, stimulus_bytes: bytes, ops: int
                    ) -> tuple[list[int], CycleEstimate]:
    """Estimated cycles of each operator of a profiling build (-DTG_PROFILE=1),
    whose per-operator timestamp calls split the trace; the timestamp
    calls themselves are not priced. The few instructions before the first
    and after the last timestamp go to the first and the last operator."""
    estimate = estimate_inference(board, build_dir, stimulus_bytes, split_at_stamps=True)
    segments = [c for _, c in estimate.segments]
    if len(segments) != ops + 2:
        raise TinygenError(f"the profiling trace has {len(segments) - 1} timestamps for {ops} "
                           "operators; is it a profiling build of this model?")
    per_op = segments[1:-1]
    per_op[0] += segments[0]
    per_op[-1] += segments[-1]
    return per_op, estimate
