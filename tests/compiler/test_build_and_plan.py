"""Generated C builds warning-free for Cortex-M4; the memory plan is sound."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import COMMITTED_MODELS, REFERENCE_MODELS
from hostlib import ARM_CFLAGS, BUILD_TIMEOUT_S
from tinygen.codegen import generate_model_sources, kernels_dir
from tinygen.ir import load_model
from tinygen.plan import plan_model


def _models(model_cache):
    paths = [model_cache.whole(n) for n in ("ds_cnn_like", "resnet_like", "mobilenet_like")]
    paths.append(model_cache.whole("fc_autoencoder", float_io=True))
    paths += [p for p in sorted(COMMITTED_MODELS.glob("*.tflite"))]
    paths += [p for p in sorted(REFERENCE_MODELS.glob("*.tflite"))] if REFERENCE_MODELS.is_dir() else []
    return paths


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="no arm-none-eabi-gcc")
def test_generated_model_and_kernels_compile_for_cortex_m4(model_cache, tmp_path):
    for i, path in enumerate(_models(model_cache)):
        src = generate_model_sources(path, tmp_path / f"m{i}", layout="dsp")
        for c in [src.model_c, *src.kernel_sources]:
            obj = tmp_path / f"m{i}" / (c.stem + ".o")
            cmd = ["arm-none-eabi-gcc", *ARM_CFLAGS, '-DTG_ARENA_ATTR=__attribute__((section(".tg_arena")))',
                   *[f"-I{d}" for d in src.include_dirs], "-c", str(c), "-o", str(obj)]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
            assert done.returncode == 0, f"{path.name}: {c.name}: {done.stderr}"
            assert obj.stat().st_size > 0


# The cores each folder of firmware/kernels/ is compiled for (tinygen/plan/variants.py).
M55_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-mcpu=cortex-m55", "-mthumb",
              "-mfloat-abi=hard", "-mfpu=fpv5-d16"]
VARIANT_COMPILERS = {
    "": (("gcc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]),
         ("arm-none-eabi-gcc", ARM_CFLAGS)),
    "dsp": (("arm-none-eabi-gcc", ARM_CFLAGS), ("arm-none-eabi-gcc", M55_CFLAGS)),
    "mve": (("arm-none-eabi-gcc", M55_CFLAGS),),
    "host": (("gcc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-march=native"]),),
}


@pytest.mark.parametrize("folder", sorted(VARIANT_COMPILERS))
def test_every_kernel_source_compiles_for_its_cores(tmp_path, folder):
    sources = sorted((kernels_dir() / folder).glob("*.c"))
    assert sources
    for c in sources:
        for cc, flags in VARIANT_COMPILERS[folder]:
            if shutil.which(cc) is None:
                continue
            done = subprocess.run([cc, *flags, f"-I{kernels_dir()}", "-c", str(c),
                                   "-o", str(tmp_path / "k.o")],
                                  capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
            assert done.returncode == 0, f"{cc} {folder}/{c.name}: {done.stderr}"


def test_every_kernel_variant_folder_is_a_target_variant():
    """A folder of firmware/kernels/ is a variant some target uses, and every
    variant function the planner can pick is declared in tg_kernels.h (or,
    int16x8, tg_kernels_s16.h)."""
    from tinygen.plan.variants import DSP_KERNEL_SOURCES, KERNEL_SOURCES, TARGETS, VARIANTS
    folders = {d.name for d in kernels_dir().iterdir() if d.is_dir() and any(d.glob("*.c"))}
    assert folders <= {v for vs in TARGETS.values() for v in vs}
    # the int8 kernels' header and the int16x8 ones'
    header = "".join((kernels_dir() / h).read_text() for h in ("tg_kernels.h", "tg_kernels_s16.h"))
    for kernel, variants in VARIANTS.items():
        for v in variants:
            assert f"void {kernel}_{v}(" in header
            assert (kernels_dir() / v / KERNEL_SOURCES[kernel]).is_file(), (kernel, v)
    for kernel, source in DSP_KERNEL_SOURCES.items():
        assert f"void {kernel}(" in header and (kernels_dir() / source).is_file()


def _check_plan(plan):
    """Live buffers never share bytes, except an input and the output of the
    operator it dies at, at no less than the distance its access order needs."""
    mem = plan.memory
    if not mem.overlaps:
        assert mem.lower_bound_bytes <= mem.arena_bytes
    for b in mem.buffers:
        assert b.offset >= 0 and b.offset + b.size <= mem.arena_bytes
    for i, a in enumerate(mem.buffers):
        for j in range(i + 1, len(mem.buffers)):
            b = mem.buffers[j]
            if a.first <= b.last and b.first <= a.last:
                if a.offset + a.size <= b.offset or b.offset + b.size <= a.offset:
                    continue
                if (i, j) in mem.overlaps:
                    assert a.last == b.first and a.offset - b.offset >= mem.overlaps[(i, j)], (a, b)
                else:
                    assert (j, i) in mem.overlaps, (a, b)
                    assert b.last == a.first and b.offset - a.offset >= mem.overlaps[(j, i)], (a, b)


def test_memory_plan_overlaps_live_buffers_only_where_access_order_allows(model_cache):
    for path in _models(model_cache):
        _check_plan(plan_model(load_model(path)))
        _check_plan(plan_model(load_model(path), keep_inputs_alive=False))


def test_graph_input_stays_alive_for_the_whole_graph_by_default(model_cache):
    path = model_cache.whole("mobilenet_like")
    model = load_model(path)
    kept, reused = plan_model(model), plan_model(model, keep_inputs_alive=False)
    steps = len(kept.calls)
    buf = next(b for b in kept.memory.buffers if model.inputs[0] in b.tensors)
    assert (buf.first, buf.last) == (0, steps - 1)
    buf = next(b for b in reused.memory.buffers if model.inputs[0] in b.tensors)
    assert buf.last == 0
    assert reused.memory.arena_bytes <= kept.memory.arena_bytes


def test_repeated_inference_on_one_loaded_input_gives_the_same_output(model_cache, compiler):
    import numpy as np

    host = compiler.host_model(model_cache.whole("resnet_like"))
    x = np.random.default_rng(5).integers(-128, 128, host.src.input_elements, dtype=np.int8)
    host.set_input(x)
    host.invoke()
    first = host.output()
    for _ in range(3):
        host.invoke()
        np.testing.assert_array_equal(host.output(), first)


def test_reshape_is_a_view_not_a_copy(model_cache):
    model = load_model(model_cache.whole("open_batch_flatten"))
    plan = plan_model(model)
    reshape = next(c for c in plan.calls if c.kind == "RESHAPE")
    assert reshape.kernel is None
    offsets = plan.memory.tensor_offsets
    assert offsets[reshape.output] == offsets[reshape.inputs[0]]


def test_model_header_declares_the_agreed_api(model_cache, tmp_path):
    src = generate_model_sources(model_cache.whole("ds_cnn_like"), tmp_path)
    header, body = src.model_h.read_text(), src.model_c.read_text()
    for macro in ("INPUT_ELEMENTS", "INPUT_IS_FLOAT", "INPUT_SCALE", "INPUT_ZERO_POINT",
                  "OUTPUT_ELEMENTS", "OUTPUT_IS_FLOAT", "OUTPUT_SCALE", "OUTPUT_ZERO_POINT",
                  "ARENA_BYTES", "MACS"):
        assert f"#define TG_MODEL_{macro} " in header
    assert f"#define TG_MODEL_INPUT_ELEMENTS    {49 * 10}" in header
    assert f"#define TG_MODEL_ARENA_BYTES       {src.arena_bytes}" in header
    for decl in ("void tg_model_init(void);", "void *tg_model_input(void);",
                 "const void *tg_model_output(void);", "void tg_model_invoke(void);"):
        assert decl in header
    assert ("static uint8_t tg_arena[TG_MODEL_ARENA_BYTES] __attribute__((aligned(16))) "
            "TG_ARENA_ATTR;") in body


def test_inspect_reports_layers_macs_and_memory(model_cache, capsys):
    from tinygen.cli import main

    path = model_cache.whole("resnet_like")
    capsys.readouterr()              # the converter's own printing, when it ran here
    assert main(["inspect", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    plan = plan_model(load_model(path))
    assert info["macs"] == sum(layer["macs"] for layer in info["operators"]) == plan.macs
    assert info["arena_bytes"] == plan.memory.arena_bytes
    assert info["lower_bound_bytes"] == plan.memory.lower_bound_bytes
    # Overlapping an output with the input it consumes can beat the bound.
    assert info["lower_bound_bytes"] <= info["arena_bytes"] or plan.memory.overlaps
    assert [layer["op"] for layer in info["operators"]].count("ADD") == 2
    conv = info["operators"][0]
    assert conv["op"] == "CONV_2D" and conv["macs"] == 16 * 16 * 8 * 3 * 3 * 3
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert "no-overlap bound" in text and "MACs" in text and "ADD" in text


def test_inspect_for_a_board_shows_the_kernels_build_calls(capsys, tmp_path):
    """--board plans for the board's core exactly as the build does: the
    generated model.c of the same target calls the kernels inspect names."""
    from tinygen.boards import load_board
    from tinygen.cli import main
    from tinygen.paths import models_dir
    from tinygen.port.aot import kernel_target

    path = models_dir() / "kws01.tflite"
    assert main(["inspect", str(path), "--board", "disco_l475vg_iot01a", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["target"] == kernel_target(load_board("disco_l475vg_iot01a")) == "dsp"
    assert info["board"]["name"] == "disco_l475vg_iot01a"
    plan = plan_model(load_model(path), layout="dsp")
    assert info["arena_bytes"] == plan.memory.arena_bytes
    assert [layer["function"] for layer in info["operators"]] == [c.function for c in plan.calls]
    assert any(layer["variant"] == "dsp" for layer in info["operators"])
    generate_model_sources(path, tmp_path, layout="dsp")
    body = (tmp_path / "model.c").read_text()
    for layer in info["operators"]:
        if layer["function"]:
            assert f"{layer['function']}(" in body
    assert main(["inspect", str(path), "--board", "disco_l475vg_iot01a"]) == 0
    text = capsys.readouterr().out
    assert "kernel" in text and "of its largest RAM region" in text
    # Portable planning without --board: no DSP kernel named.
    assert main(["inspect", str(path), "--json"]) == 0
    portable = json.loads(capsys.readouterr().out)
    assert portable["target"] == "portable" and "board" not in portable
    assert all(layer["variant"] != "dsp" for layer in portable["operators"])


def test_inspect_refuses_an_unknown_board(capsys):
    from tinygen.cli import main
    from tinygen.paths import models_dir

    assert main(["inspect", str(models_dir() / "kws01.tflite"), "--board", "no_such_board"]) == 1
    captured = capsys.readouterr()
    assert "unknown board 'no_such_board'" in captured.err
    assert "supported" not in captured.out      # the model is fine: no operator table


def test_overlap_gaps_follow_the_kernels_access_order():
    """1x1 conv 8 -> 16 channels over P = 20 pixels: output pixel p ends at
    16(p+1), later pixels read from 8(p+1) on, and the last pixel is read
    into scratch before it is written, so the input may start 8(P-1) bytes
    after the output (the two regions end 8 bytes apart)."""
    from tinygen.plan.memory import input_gaps
    from tinygen.plan.ops import KernelCall

    params = dict(batches=1, in_h=4, in_w=5, in_c=8, out_h=4, out_w=5, out_c=16, k_h=1, k_w=1,
                  stride_h=1, stride_w=1, pad_h=0, pad_w=0)
    call = KernelCall(0, "CONV_2D", "tg_conv2d_s8", "tg_conv_params", params, [1], 2)
    assert input_gaps(call) == {1: 8 * 19}
    dw = KernelCall(0, "DEPTHWISE_CONV_2D", "tg_depthwise_conv2d_s8", "tg_conv_params",
                    dict(params, out_c=8, k_h=3, k_w=3, pad_h=1, pad_w=1), [1], 2)
    # Channel by channel, so pixel p's own window counts: output pixel (1, 1),
    # the 7th, still reads input pixel (0, 0): 7 * 8 bytes.
    assert input_gaps(dw) == {1: 56}
