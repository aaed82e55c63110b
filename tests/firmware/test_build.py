"""tinygen build: every bench for the host and for nucleo_l4r5zi (real
arm-none-eabi-gcc, real SCons), in performance and energy mode, with the
size report checked against the ELF and the model; and the errors a user
can run into (tool missing, image too big, wrong model, bad options).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinygen.benches import BENCHMARKS, get_bench
from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.port.build import build_firmware
from tinygen.port.generate import generate_port

from test_harness_host import HostDut, model_for

BOARDS = ("host", "nucleo_l4r5zi")
MODES = ("performance", "energy")


def symbols(tool: str, image: Path) -> dict[str, str]:
    """Symbol name -> section name, from objdump -t."""
    out = subprocess.run([tool, "-t", str(image)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-2].startswith("0"):
            table[parts[-1]] = parts[-3]
    return table


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Built lazily, once each: (board, bench id, mode) -> BuildResult."""
    cache = {}
    base = tmp_path_factory.mktemp("builds")

    def get(board: str, bench: str, mode: str):
        key = (board, bench, mode)
        if key not in cache:
            model = model_for(bench, tmp_path_factory.getbasetemp())
            cache[key] = build_firmware(board, bench, model_path=model, mode=mode,
                                        out_dir=base / f"{board}-{bench}-{mode}")
        return cache[key]
    return get


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bench", [b.id for b in BENCHMARKS])
@pytest.mark.parametrize("board", BOARDS)
def test_build_writes_the_image_manifest_and_a_consistent_size_report(builds, board, bench, mode):
    result = builds(board, bench, mode)
    port = result.port
    d = result.build_dir
    assert (d / "SConstruct").is_file() and (d / "src" / "submitter_implemented.c").is_file()
    assert (d / "src" / "model.c").is_file() and (d / "src" / "tg_board.h").is_file()

    manifest = json.loads((d / "build.json").read_text())
    assert (manifest["board"], manifest["bench"], manifest["mode"], manifest["opt"]) == (board, bench, mode, "O2")
    assert manifest["model"]["sha256"] == hashlib.sha256(port.model_path.read_bytes()).hexdigest()
    for name in manifest["outputs"].values():
        assert (d / name).is_file(), name

    size = json.loads(result.size_json.read_text())
    assert size["flash_bytes"] == result.size.flash_bytes > 0
    assert sum(p["flash"] for p in size["parts"].values()) == size["flash_bytes"]
    assert sum(p["ram"] for p in size["parts"].values()) == size["ram_bytes"]
    parts = result.size.parts
    assert parts["weights"]["flash"] >= port.model.weight_bytes
    assert parts["harness"]["flash"] > 0 and parts["kernels"]["flash"] > 0
    assert parts["arena"]["ram"] >= port.model.arena_bytes
    text = result.size.table()
    for word in ("weights", "arena", "harness", "kernels", "platform", "libc", "total"):
        assert word in text

    if board == "host":
        assert result.executable and result.executable.stat().st_mode & 0o111
        return
    # ARM: the arena and the db buffer sit in their own sections, which the
    # board's linker script places; the image fits the board.
    assert size["flash_bytes"] <= size["flash_capacity"] and size["ram_bytes"] <= size["ram_capacity"]
    assert parts["arena"]["ram"] < port.model.arena_bytes + 16
    table = symbols("arm-none-eabi-objdump", result.elf)
    if port.placement.buffer_bytes:
        assert get_bench(bench).input_bytes <= parts["buffer"]["ram"] < get_bench(bench).input_bytes + 8
        assert table["ee_db_buffer"] == ".tg_buffer"
    else:
        # The db buffer is storage the port already has (the model's input
        # tensor, or the float input values): no RAM of its own.
        assert parts.get("buffer", {}).get("ram", 0) == 0 and "ee_db_buffer" not in table
    assert table["tg_arena"] == ".tg_arena"
    header = subprocess.run(["arm-none-eabi-readelf", "-h", "-A", str(result.elf)],
                            capture_output=True, text=True, check=True, timeout=60).stdout
    assert "ARM" in header and "Cortex-M4" in header.replace("7E-M", "Cortex-M4")
    assert "VFP registers" in header        # hard-float ABI: the board has an FPU
    image = result.bin.read_bytes()
    assert size["flash_bytes"] <= len(image) <= size["flash_bytes"] + 64
    assert f"m-timestamp-mode-{mode}".encode() in image
    # Only the energy image drives the timestamp GPIO.
    assert ("tg_energy_timestamp" in table) == (mode == "energy")
    assert result.hex.read_text().startswith(":")


def test_energy_mode_host_firmware_prints_no_timestamps(builds):
    result = builds("host", "ad01", "energy")
    dut = HostDut(result.executable)
    try:
        assert [dut.line(), dut.line(), dut.line()] == ["m-timestamp-mode-energy", "m-init-done", "m-ready"]
        assert dut.command("timestamp") == ["m-ready"]
        assert dut.command("profile")[0].endswith(" host energy]")
        dut.load(bytes(2560))
        lines = dut.command("infer 2 1")
        assert lines[:4] == ["m-warmup-start-1", "m-warmup-done", "m-infer-start-2", "m-infer-done"]
        assert lines[4].startswith("m-results-[") and lines[5] == "m-ready"
    finally:
        dut.close()


def test_rebuild_without_changes_compiles_nothing(builds):
    result = builds("host", "kws01", "performance")
    again = build_firmware("host", "kws01", model_path=result.port.model_path,
                           out_dir=result.build_dir)
    assert "CC " not in again.log.read_text()
    assert again.size.flash_bytes == result.size.flash_bytes


def test_image_too_big_for_flash_says_by_how_many_bytes(tmp_path):
    yaml_text = load_board("nucleo_l4r5zi").path.read_text()
    small = tmp_path / "tiny_flash.yaml"
    small.write_text(yaml_text.replace("name: nucleo_l4r5zi", "name: tiny_flash")
                     .replace("size: 2M}", "size: 64K}"))
    with pytest.raises(TinygenError, match=r"does not fit on tiny_flash: FLASH by \d+ bytes") as err:
        build_firmware(str(small), "ad01", model_path=model_for("ad01", tmp_path),
                       out_dir=tmp_path / "b")
    overflow = int(str(err.value).split("FLASH by ")[1].split()[0])
    # 284 kB of weights cannot go in 64 KiB: the overflow is at least the difference.
    assert overflow >= 280_000 - 64 * 1024


def test_missing_cross_compiler_names_the_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TinygenError, match=r"arm-none-eabi-gcc' not found on PATH; install it"):
        build_firmware("nucleo_l4r5zi", "ad01", model_path=model_for("ad01", tmp_path),
                       out_dir=tmp_path / "b")


def test_model_for_another_bench_is_refused(tmp_path):
    with pytest.raises(TinygenError, match=r"640 elements but kws01 sends 490 bytes"):
        generate_port("host", "kws01", model_path=model_for("ad01", tmp_path), out_dir=tmp_path / "b")


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "turbo"}, "unknown mode 'turbo'"),
    ({"opt": "O9"}, "unknown optimization 'O9'"),
    ({"model_path": "/nonexistent/model.tflite"}, "model /nonexistent/model.tflite not found"),
])
def test_bad_options_are_refused_with_the_fix(tmp_path, kwargs, message):
    with pytest.raises(TinygenError, match=message):
        generate_port("host", "ad01", out_dir=tmp_path / "b", **kwargs)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen", *args], capture_output=True,
                          text=True, timeout=600)


def test_cli_help_teaches_the_options():
    out = run_cli("build", "--help")
    assert out.returncode == 0
    for word in ("--board", "--bench", "--model", "--mode", "--opt", "--out", "energy", "SConstruct",
                 "examples"):
        assert word in out.stdout


def test_cli_builds_and_prints_paths_and_size_table(tmp_path):
    out = run_cli("build", "--board", "host", "--bench", "ad", "--model",
                  str(model_for("ad01", tmp_path)), "--out", str(tmp_path / "b"))
    assert out.returncode == 0, out.stderr
    assert f"executable {tmp_path / 'b' / 'firmware'}" in " ".join(out.stdout.split())
    assert "weights" in out.stdout and "total" in out.stdout
    assert (tmp_path / "b" / "firmware").is_file()


def test_cli_error_is_one_line_and_exit_code_1(tmp_path):
    out = run_cli("build", "--board", "no_such_board", "--bench", "ad", "--out", str(tmp_path))
    assert out.returncode == 1
    # Progress lines may come first; the error is one line, the last.
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("tinygen: error: unknown board 'no_such_board'")
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("bench", [b.id for b in BENCHMARKS])
def test_generated_port_needs_only_the_standard_harness_api(builds, bench):
    """submitter_implemented.o may call no harness function beyond the
    benchmark's ee_* API, so it links against any harness written to it."""
    result = builds("nucleo_l4r5zi", bench, "performance")
    obj = result.build_dir / "obj" / "src" / "submitter_implemented.o"
    out = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    undefined = {line.split()[-1] for line in out.splitlines() if line.strip()}
    harness_calls = {name for name in undefined if name.startswith("ee_")}
    assert harness_calls <= {"ee_serial_callback", "ee_serial_command_parser_callback",
                             "ee_benchmark_initialize", "ee_infer", "ee_get_buffer"}
    assert "ee_get_buffer" in harness_calls
    # Everything else comes from the model, the platform API or the printer.
    others = {n for n in undefined - harness_calls if not n.startswith(("tg_", "__"))}
    assert others <= {"memcpy", "memset", "strlen", "strncmp", "strncpy", "strcat", "strtok", "atoi"}


def test_os_build_is_smaller_in_code_than_o2(builds, tmp_path):
    o2 = builds("nucleo_l4r5zi", "kws01", "performance")
    os_ = build_firmware("nucleo_l4r5zi", "kws01", model_path=o2.port.model_path, opt="Os",
                         out_dir=tmp_path / "os")
    assert json.loads(os_.port.manifest.read_text())["opt"] == "Os"
    assert "-Os" in json.loads(os_.port.manifest.read_text())["cflags"]
    code = lambda r: r.size.parts["harness"]["flash"] + r.size.parts["kernels"]["flash"]
    assert code(os_) < code(o2)
    assert os_.size.parts["weights"] == o2.size.parts["weights"]


def test_engine_is_link_time_optimized_and_the_size_report_keeps_its_parts(builds):
    """On MCU boards the model and the kernels are compiled with -flto, so
    the link can specialise the kernels to the model's constant records;
    the harness and platform are not. The size report still charges the
    optimized partition to its parts (from the image's DWARF information):
    the weights are exactly the model's arrays, the partition's code is the
    kernels', and 'other' keeps only padding."""
    result = builds("nucleo_l4r5zi", "kws01", "performance")
    manifest = json.loads(result.port.manifest.read_text())
    assert "-flto" in manifest["ldflags"]
    lto_sources = manifest["lto_cflags"]["sources"]
    # nucleo_l4r5zi is a DSP core: its plan compiles the DSP variants (the
    # convolutions' kernel file is the one plan/variants.py chose per layer).
    assert "src/model.c" in lto_sources
    assert [s for s in lto_sources if s.startswith("kernels/dsp/conv2d")]
    assert not [s for s in lto_sources if s.startswith(("harness/", "platform/"))]
    assert ".ltrans" in (result.port.build_dir / "firmware.map").read_text()
    out = subprocess.run(["arm-none-eabi-nm", "-S", "-t", "d", str(result.elf)],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    arrays = sum(int(f[1]) for f in (line.split() for line in out.splitlines())
                 if len(f) == 4 and f[3].startswith("tg_op"))
    parts = result.size.parts
    assert parts["weights"]["flash"] == arrays
    assert parts["kernels"]["flash"] > 2000 and parts["harness"]["flash"] > 2000
    assert parts.get("other", {"flash": 0})["flash"] < 64


def test_debug_builds_are_not_link_time_optimized(tmp_path):
    port = generate_port("nucleo_l4r5zi", "kws01", opt="O0", out_dir=tmp_path / "o0")
    manifest = json.loads(port.manifest.read_text())
    assert "-flto" not in manifest["ldflags"] and manifest["lto_cflags"]["flags"] == []
