"""Which kernel variant each layer runs: the one place that decides.

A kernel of firmware/kernels/<file>.c (the portable C, every core and the
host) may have variants with the same arguments in firmware/kernels/dsp/
(the DSP extension: Cortex-M4/M7/M33), mve/ (Helium: Cortex-M55) or host/
(host vector units), in a file of the same name, its function named with
the variant's suffix (tg_conv2d_s8 -> tg_conv2d_s8_dsp). A variant file may
add kernels of its own for that operator, with their own constants, which
ops.py offers per layer (KernelCall.dsp_kernel, e.g. the DSP pixel-pair
convolution) where the layer suits them.

The target (what the board's core runs: tinygen/port/aot.py kernel_target)
names the variants a build may use, best first. choose_variants settles
every layer once: the constants' layout, the kernel (KernelCall.function)
and the file it lives in (KernelCall.source). The generated model.c calls
exactly that function and the build compiles exactly those files; nothing
downstream (the compiler's defines, the templates, the C preprocessor)
chooses again.
"""

from __future__ import annotations

from collections.abc import Callable

from tinygen.ir import model as ir
from tinygen.plan.layout_mve import mve_layout
from tinygen.plan.ops import KERNEL_SOURCES as KERNEL_SOURCES_S8
from tinygen.plan.ops import KernelCall, fit_dsp_scratch, fit_stream_copies, take_dsp_upgrades
from tinygen.plan.ops import widen_stream_copies
from tinygen.plan.ops import fit_compact_copies
from tinygen.plan.ops_s16 import KERNEL_SOURCES_S16
from tinygen.plan.spatial import KERNEL_SOURCES as KERNEL_SOURCES_SPATIAL

# Kernel function -> its file under firmware/kernels/: the int8, spatial and int16x8 kernels.
KERNEL_SOURCES = {**KERNEL_SOURCES_S8, **KERNEL_SOURCES_SPATIAL, **KERNEL_SOURCES_S16}

# What a target's core runs, best variant first ("portable" is implied last).
# Helium cores also have the DSP extension: a kernel without an MVE variant
# takes its DSP one. The offered DSP-only kernels (pixel pairs, 3x3 ring)
# are for cores without Helium: the Helium ones are faster there.
TARGETS: dict[str, tuple[str, ...]] = {
    "portable": (),
    "dsp": ("dsp",),
    "mve": ("mve", "dsp"),
    "host": ("host",),
}


def _always(call: KernelCall) -> bool:
    return True


def _add_dsp(call: KernelCall) -> bool:
    """dsp/add_s8.c: inputs of the output's shape, every rescaling multiplier
    below one (right shifts only; the output's at least 1), the usual
    20-bit headroom, which keep its products within 32 bits."""
    p = call.params
    return (not p["shape"]["broadcast"] and p["in1_shift"] <= 0 and p["in2_shift"] <= 0
            and p["out_shift"] <= -1 and p["left_shift"] == 20)


# The DSP fully connected kernel's pass (dsp/tg_rows_dot_dsp.h) is about
# 0.5 KB of code, and saves at most a few thousand cycles on a classifier
# of few MACs: on DSP cores a model whose fully connected layers all have
# fewer MACs keeps the portable kernel (kws01's 64->12 layer, 768 MACs:
# 200 B less code on disco_l475vg_iot01a); with one larger layer the pass
# is linked anyway and every layer takes it (choose_variants).
FC_DSP_MIN_MACS = 4096


# kernel -> {variant: when a layer can take it}. The variant's function is
# the kernel's name plus "_<variant>", in <variant>/<the kernel's file>.
VARIANTS: dict[str, dict[str, Callable[[KernelCall], bool]]] = {
    "tg_conv2d_s8": {"dsp": _always, "mve": _always, "host": _always},
    "tg_depthwise_conv2d_s8": {"dsp": _always, "mve": _always, "host": _always},
    "tg_fully_connected_s8": {"dsp": _always, "mve": _always, "host": _always},
    "tg_avg_pool2d_s8": {"dsp": _always, "mve": _always},
    "tg_max_pool2d_s8": {"mve": _always},
    "tg_mean_hw_s8": {"mve": _always},
    "tg_softmax_s8": {"mve": _always},
    "tg_add_s8": {"dsp": _add_dsp, "mve": _always},
    # Issue 26's spatial kernels (plan/spatial.py): SMLAD / VMLADAVA dot products.
    "tg_conv2d_grouped_s8": {"dsp": _always, "mve": _always},
    "tg_transpose_conv_s8": {"dsp": _always, "mve": _always},
    "tg_conv2d_s16": {"dsp": _always},
}
# Kernels a DSP variant file adds (ops.py offers them as KernelCall.dsp_kernel).
DSP_KERNEL_SOURCES = {
    "tg_conv2d_pairs_s8_dsp": "dsp/conv2d_s8.c",
    "tg_conv2d_triples_s8_dsp": "dsp/conv2d_triples_s8.c",
    "tg_conv2d_triples8_s8_dsp": "dsp/conv2d_triples_s8.c",
    "tg_conv2d_triples_ram_s8_dsp": "dsp/conv2d_triples_s8.c",
    "tg_conv2d_triples_copy_s8_dsp": "dsp/conv2d_triples_s8.c",
    "tg_conv2d_triples16_ram_s8_dsp": "dsp/conv2d_triples_s8.c",
    "tg_conv2d_triples8_ram_s8_dsp": "dsp/conv2d_triples_s8.c",
    "tg_conv2d_rgb3x3s2_s8_dsp": "dsp/conv2d_rgb_s8.c",
    "tg_conv2d_pw8_s8_dsp": "dsp/conv2d_narrow_s8.c",
    "tg_conv2d_pw16_s8_dsp": "dsp/conv2d_narrow_s8.c",
    "tg_depthwise3x3s1_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s2_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s1_ram_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s2_ram_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s1w6_ram_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s1w3_ram_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s2w3_ram_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_add_table_s8_dsp": "dsp/add_s8.c",
    "tg_conv2d_rgb3x3s1_s8_dsp": "dsp/conv2d_rgb_s8.c",
    "tg_depthwise3x3s1w5_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s1w5_ram_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s2w5_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s2w5_ram_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s1_halves_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s2_halves_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s1w5_halves_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_depthwise3x3s2w5_halves_s8_dsp": "dsp/depthwise_conv2d_s8.c",
    "tg_conv2d_3x3pair_s8_dsp": "dsp/conv2d_3x3_s8.c",
}


def target_name(target: str) -> str:
    """The target itself, checked; ValueError for an unknown one."""
    if target not in TARGETS:
        raise ValueError(f"unknown kernel target {target!r}; use one of {tuple(TARGETS)}")
    return target


def _drop_offer(call: KernelCall) -> None:
    call.dsp_kernel, call.dsp_arrays = None, {}
    call.scratch_bytes = call.portable_scratch


def _settle(call: KernelCall, variants: tuple[str, ...]) -> None:
    if call.kernel is None:                        # a view: no code
        return
    if call.dsp_kernel:                            # an offered kernel of a DSP variant file
        call.function, call.variant = call.dsp_kernel, "dsp"
        call.source = DSP_KERNEL_SOURCES[call.dsp_kernel]
        call.arrays, call.dsp_kernel, call.dsp_arrays = call.dsp_arrays, None, {}
        return
    offered = VARIANTS.get(call.kernel, {})
    for variant in variants:
        if variant in offered and offered[variant](call):
            call.function, call.variant = f"{call.kernel}_{variant}", variant
            call.source = f"{variant}/{KERNEL_SOURCES[call.kernel]}"
            return
    call.function, call.variant, call.source = call.kernel, "portable", KERNEL_SOURCES[call.kernel]


def choose_variants(m: ir.Model, calls: list[KernelCall], target: str,
                    arena_of: Callable[[list[KernelCall]], int] | None) -> list[KernelCall]:
    """Every call settled for target (TARGETS): its constants' layout, its
    function and source file. arena_of(calls) plans the arena and returns its
    size: with it, offered DSP kernels whose larger scratch would grow the
    arena are given up (ops.py fit_dsp_scratch); None keeps them all (tests
    of those kernels on one-layer models, where any scratch does)."""
    target = target_name(target)
    variants = TARGETS[target]
    if target != "dsp":
        # The offered kernels are for DSP cores without Helium only.
        for c in calls:
            if c.dsp_kernel:
                _drop_offer(c)
    if "mve" in variants:
        calls = mve_layout(m, calls)
    elif arena_of is not None and "dsp" in variants:
        fit_dsp_scratch(calls, arena_of)
        fit_stream_copies(calls, arena_of)
        fit_compact_copies(calls, arena_of)
        widen_stream_copies(calls, arena_of)
    if target == "dsp":
        take_dsp_upgrades(calls, arena_of)
    fc = [c for c in calls if c.kernel == "tg_fully_connected_s8"]
    small_fc = {id(c) for c in fc} if target == "dsp" and all(c.macs < FC_DSP_MIN_MACS
                                                                for c in fc) else set()
    for c in calls:
        _settle(c, () if id(c) in small_fc else variants)
    return calls


def variant_dirs(calls: list[KernelCall]) -> list[str]:
    """The variant folders of firmware/kernels/ the calls' sources are in."""
    return sorted({c.source.split("/")[0] for c in calls if c.source and "/" in c.source})
