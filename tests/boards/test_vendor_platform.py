"""A vendor's own platform code, outside tinygen's firmware/ (family: external).

tests/boards/vendor_mps2/ plays a vendor: a stand-in SDK (a UART driver and
its header, reached through include_dirs and a define) and a small C file
implementing tg_platform.h on top of it, for the emulated MPS2 AN505. The
board file names those files; nothing of it lives in firmware/. It must
build, boot in QEMU and pass `verify --quick`. The same board with the
wrong clock_hz must fail the run by name (the boot clock check), since
no chip table knows a vendor's part.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tinygen.boards import load_board_file
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.paths import firmware_dir

VENDOR = Path(__file__).parent / "vendor_mps2"
BOARD = VENDOR / "acme_an505.yaml"
QUICK = ["--quick", "--min-seconds", "0.05", "--golden", "2", "--timeout", "60"]

needs_tools = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


def _vendor_copy(tmp_path: Path, **changes) -> Path:
    """The vendor folder copied elsewhere, with board keys changed."""
    dest = tmp_path / "vendor"
    shutil.copytree(VENDOR, dest)
    data = yaml.safe_load(BOARD.read_text())
    name = changes.pop("name", data["name"])
    data.update(name=name, **changes)
    path = dest / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_board_resolves_its_platform_files_relative_to_itself():
    board = load_board_file(BOARD)
    assert board.is_external and board.platform.common
    assert [p.name for p in board.platform.sources] == ["acme_platform.c", "acme_uart.c"]
    assert board.platform.include_dirs == ((VENDOR / "include").resolve(),)
    assert board.platform.defines == ("ACME_UART0_BASE=0x50200000u",)
    assert not any(firmware_dir() in p.parents for p in board.platform.sources)


@pytest.mark.parametrize("platform, key, fix", [
    ({"sources": ["missing.c"]}, "platform.sources", "matches no file"),
    ({"sources": ["include/acme_uart.h"]}, "platform.sources", "put headers in include_dirs"),
    ({"sources": ["acme_uart.c"], "defines": ["1BAD"]}, "platform.defines", "NAME=VALUE"),
    ({"sources": ["acme_uart.c"], "include": ["include"]}, "platform.include", "did you mean 'include_dirs'?"),
    ({"include_dirs": ["include"]}, "platform.sources", "list the C files"),
])
def test_wrong_platform_mapping_names_key_and_fix(tmp_path, platform, key, fix):
    path = _vendor_copy(tmp_path, platform=platform)
    with pytest.raises(TinygenError) as err:
        load_board_file(path)
    assert f"key '{key}'" in str(err.value) and fix in str(err.value), str(err.value)


@needs_tools
def test_template_platform_file_compiles_warning_free(tmp_path):
    """firmware/platform/template/tg_platform_template.c, the starting point
    the contract documents, builds as is with the project's warnings."""
    board = load_board_file(_vendor_copy(tmp_path, platform={
        "sources": [str(firmware_dir() / "platform" / "template" / "tg_platform_template.c")]}))
    from tinygen.port.generate import generate_port
    port = generate_port(board, "kws", out_dir=tmp_path / "gen")
    cc = ["arm-none-eabi-gcc", *port.toolchain.cflags, "-c", "-o", str(tmp_path / "t.o")]
    cc += [f"-I{d}" for d in port.include_dirs]
    done = subprocess.run(cc + [str(board.platform.sources[0])], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


@needs_tools
def test_out_of_tree_platform_builds_boots_and_passes_verify_quick(tmp_path, capsys):
    out = tmp_path / "session"
    rc = main(["verify", "--board", str(BOARD), "--bench", "kws", "--build",
               str(tmp_path / "build"), "--out", str(out), *QUICK])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    for name in ("handshake", "protocol conformance", "golden outputs", "latency"):
        assert f"PASS  {name}" in printed
    assert "tinygen acme_an505" in printed
    sources = (tmp_path / "build" / "build.json").read_text()
    assert "acme_platform.c" in sources and "tg_mps2.c" not in sources


@needs_tools
def test_wrong_clock_on_an_emulated_board_fails_the_run_by_name(tmp_path, capsys):
    """AN505's SysTick runs at 20 MHz under QEMU: a board file saying 25 MHz
    would report latencies 25 % off. The firmware measures at boot, against
    virtual time, and the run stops with one line naming clock_hz."""
    path = _vendor_copy(tmp_path, name="acme_wrong_clock", clock_hz=25_000_000)
    rc = main(["verify", "--board", str(path), "--bench", "ad", "--build",
               str(tmp_path / "build"), "--out", str(tmp_path / "s"), *QUICK])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 1
    assert f"{path}: key 'clock_hz'" in err and "set clock_hz: 20000000" in err, err
    assert "virtual time" in err


@needs_tools
def test_silent_emulated_board_says_what_the_board_file_claims(tmp_path, capsys):
    """A console base the machine does not have: nothing is printed. The
    error names the board file's console and memory, not just the port."""
    path = _vendor_copy(tmp_path, name="acme_silent",
                        console={"driver": "external", "instance": "UART0", "base": 0x50200000,
                                 "baud": {"performance": 115200, "energy": 9600}},
                        platform={"sources": ["acme_platform.c", "acme_uart.c"],
                                  "include_dirs": ["include"],
                                  "defines": ["ACME_UART0_BASE=0x50209000u"]})
    rc = main(["verify", "--board", str(path), "--bench", "ad", "--build",
               str(tmp_path / "build"), "--out", str(tmp_path / "s"), "--timeout", "4",
               "--quick"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 1
    assert "stayed silent" in err and "UART0" in err and "0x50200000" in err, err
    assert "CODE flash 0x10000000" in err and "dut.log" in err


@needs_tools
def test_vendor_linker_script_is_the_one_linked(tmp_path):
    """platform.linker_script replaces tinygen's generated one."""
    from tinygen.port.build import build_firmware
    from tinygen.port.generate import generate_port
    stock = generate_port(load_board_file(BOARD), "ad", out_dir=tmp_path / "stock")
    script = VENDOR / "acme_an505.ld"
    path = _vendor_copy(tmp_path, name="acme_own_ld", platform={
        "sources": ["acme_platform.c", "acme_uart.c"], "include_dirs": ["include"],
        "defines": ["ACME_UART0_BASE=0x50200000u"], "linker_script": "acme_an505.ld"})
    # The vendor's script: tinygen's, with the vector table's region renamed.
    text = (stock.src_dir / "linker.ld").read_text().replace("CODE", "ACME_CODE")
    (path.parent / script.name).write_text(text)
    result = build_firmware(str(path), "ad", out_dir=tmp_path / "b", jobs=2)
    # The build folder is self-contained: it links its copy of the vendor's script.
    flags = list(result.port.toolchain.ldflags)
    linked = tmp_path / "b" / flags[flags.index("-T") + 1]
    assert linked.name == script.name and linked.read_text() == text
    assert "ACME_CODE" in (tmp_path / "b" / "firmware.map").read_text()


@needs_tools
def test_a_compile_error_in_vendor_code_names_the_users_file(tmp_path):
    """The build compiles a copy (platform/vendor/<hash>/); the error must
    point at the file the vendor edits, and tg_board.h at the real board file."""
    from tinygen.port.build import build_firmware
    path = _vendor_copy(tmp_path, name="acme_broken")
    broken = path.parent / "acme_platform.c"
    broken.write_text(broken.read_text() + "\nint acme_broken(void) { return undeclared_x; }\n")
    board = load_board_file(path)
    with pytest.raises(TinygenError) as err:
        build_firmware(board, "ad", out_dir=tmp_path / "build")
    message = str(err.value)
    assert f"{broken}:" in message and "undeclared_x" in message, message
    assert "platform/vendor/" not in message
    assert f"{broken}:" in (tmp_path / "build" / "build.log").read_text()
    header = next((tmp_path / "build").rglob("tg_board.h")).read_text()
    assert f"Generated by tinygen from {path.resolve()};" in header
