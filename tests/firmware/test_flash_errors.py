"""Flashing and launching when something is missing: every error is one
line that names the fix. No probe is attached on CI machines, so the
pyocd paths run for real up to the point where a probe would be needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from platform_support import build_fixture, have_arm_gcc
from tinygen.boards import load_board
from tinygen.device.flash import check_target, flash_image, target_installed
from tinygen.device.launch import QEMU_ENV, start_dut
from tinygen.errors import TinygenError

needs_gcc = pytest.mark.skipif(not have_arm_gcc(), reason="arm-none-eabi-gcc not installed")


def probes_connected() -> bool:
    from pyocd.core.helpers import ConnectHelper

    return bool(ConnectHelper.get_all_connected_probes(blocking=False))


def tinygen(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def nucleo_build(tmp_path_factory):
    if not have_arm_gcc():
        pytest.skip("arm-none-eabi-gcc not installed")
    out = tmp_path_factory.mktemp("nucleo")
    done = build_fixture(load_board("nucleo_l4r5zi"), out)
    assert done.returncode == 0, done.stderr
    return out


def test_missing_target_pack_names_the_install_command(nucleo_build):
    board = load_board("nucleo_l4r5zi")
    if target_installed(board.pyocd_target):
        pytest.skip("the stm32l4r5zitx pack is installed here")
    with pytest.raises(TinygenError) as err:
        flash_image(board, nucleo_build)
    assert str(err.value) == ("pyocd target 'stm32l4r5zitx' is not installed; "
                              "run: pyocd pack install stm32l4r5zitx")


def test_missing_pack_file_is_named(tmp_path):
    with pytest.raises(TinygenError, match=r"CMSIS pack .* not found"):
        check_target(load_board("nucleo_l4r5zi"), tmp_path / "none.pack")


def test_no_probe_says_to_plug_the_board_in(nucleo_build):
    board = load_board("disco_l475vg_iot01a")  # pyocd target built in
    assert target_installed(board.pyocd_target)
    if probes_connected():
        pytest.skip("a debug probe is connected")
    with pytest.raises(TinygenError, match=r"no debug probe connected: plug .* 'pyocd list'"):
        flash_image(board, nucleo_build)


def test_unknown_probe_id_is_named(nucleo_build):
    with pytest.raises(TinygenError, match=r"no debug probe with unique id 'NOPE' connected"):
        flash_image(load_board("disco_l475vg_iot01a"), nucleo_build, probe="NOPE")


def test_emulated_only_board_cannot_be_flashed(nucleo_build):
    with pytest.raises(TinygenError, match=r"not a real board .*tinygen flash --board mps2_an386"):
        flash_image(load_board("mps2_an386"), nucleo_build)


def test_missing_image_names_the_build_command(tmp_path):
    with pytest.raises(TinygenError, match=r"no firmware.elf in .*tinygen build --board nucleo_l4r5zi"):
        flash_image(load_board("nucleo_l4r5zi"), tmp_path)


def test_cli_flash_error_is_one_line_and_exit_code_1(nucleo_build):
    if target_installed("stm32l4r5zitx"):
        pytest.skip("the stm32l4r5zitx pack is installed here")
    done = tinygen("flash", "--board", "nucleo_l4r5zi", "--build", str(nucleo_build))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "tinygen: error: pyocd target 'stm32l4r5zitx' is not installed; "
        "run: pyocd pack install stm32l4r5zitx"]


def test_cli_flash_without_probe_offers_the_emulator_for_disco(nucleo_build):
    if probes_connected():
        pytest.skip("a debug probe is connected")
    done = tinygen("flash", "--board", "disco_l475vg_iot01a", "--build", str(nucleo_build))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no debug probe connected" in done.stderr and "--emulate" in done.stderr


def test_cli_flash_without_build_names_the_build_command(tmp_path):
    done = tinygen("flash", "--board", "mps2_an386", "--build", str(tmp_path / "nothing"))
    assert done.returncode == 1
    assert "tinygen build --board mps2_an386" in done.stderr


def test_flash_help_teaches_the_time_mapping():
    done = tinygen("flash", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "-icount shift=S,align=off,sleep=off" in text
    assert "T * 1000 instructions" in text
    assert "pyocd pack install stm32l4r5zitx" in text
    assert "--emulate" in text


def test_missing_qemu_names_how_to_install(tmp_path, monkeypatch):
    (tmp_path / "firmware.elf").write_bytes(b"")
    monkeypatch.setenv(QEMU_ENV, str(tmp_path / "no-such-qemu"))
    with pytest.raises(TinygenError, match=r"QEMU not found .* install QEMU >= 9"):
        start_dut(load_board("mps2_an386"), tmp_path)


def test_qemu_without_the_machine_is_refused(tmp_path, monkeypatch):
    # An old QEMU (Debian 12 ships 7.2) has no b-l475e-iot01a machine.
    old = tmp_path / "qemu-system-arm"
    old.write_text("#!/bin/sh\n"
                   "case \"$1\" in\n"
                   "  --version) echo 'QEMU emulator version 7.2.0';;\n"
                   "  *) echo 'Supported machines are:'; echo 'mps2-an386  ARM MPS2 with AN386';;\n"
                   "esac\n")
    old.chmod(0o755)
    (tmp_path / "firmware.elf").write_bytes(b"")
    monkeypatch.setenv(QEMU_ENV, str(old))
    with pytest.raises(TinygenError, match=r"QEMU 7.2 .* has no machine 'b-l475e-iot01a'"):
        start_dut(load_board("disco_l475vg_iot01a"), tmp_path)


def test_real_only_board_cannot_be_started_here(tmp_path):
    with pytest.raises(TinygenError, match=r"real board .*tinygen flash --board nucleo_l4r5zi"):
        start_dut(load_board("nucleo_l4r5zi"), tmp_path)


def test_host_board_without_executable_names_the_build_command(tmp_path):
    with pytest.raises(TinygenError, match=r"no firmware executable .*tinygen build --board host"):
        start_dut(load_board("host"), tmp_path)
