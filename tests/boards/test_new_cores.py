"""Cores no emulator runs, compiled and size-checked: the Cortex-M23
(Armv8-M Baseline) and the Cortex-M85 (Armv8.1-M with Helium, like the
M55), each from a part file and a board file outside the checkout with
the platform template as its platform code. The stack line says where its
figure comes from: never "measured" for a board that never ran.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tinygen.boards import load_board, load_board_file, stack_measurement
from tinygen.paths import firmware_dir

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="needs arm-none-eabi-gcc")


def _board(tmp_path: Path, cpu: str, fpu: str, mve: bool) -> Path:
    part = {"part": f"acme-{cpu}", "vendor": "ACME", "family": "acme",
            "core": {"cpu": cpu, "fpu": fpu, "mve": mve}, "max_clock_hz": 100_000_000,
            "memory": [{"name": "FLASH", "kind": "flash", "base": 0x0, "size": "1M"},
                       {"name": "SRAM", "kind": "ram", "base": 0x20000000, "size": "256K"}],
            "uarts": [{"instance": "UART0", "base": 0x40000000, "driver": "external"}]}
    (tmp_path / "parts").mkdir(exist_ok=True)
    (tmp_path / "parts" / f"acme-{cpu}.yaml").write_text(yaml.safe_dump(part))
    name = f"acme_{cpu.replace('-', '_')}"
    board = {"name": name, "title": f"ACME {cpu} board", "vendor": "ACME",
             "family": "external", "chip": f"acme-{cpu}", "clock_hz": 100_000_000,
             "console": {"driver": "external", "instance": "UART0",
                         "baud": {"performance": 115200, "energy": 9600}},
             "timestamp": "systick", "flash": {"pyocd_target": "acme"},
             "platform": {"sources": [str(firmware_dir() / "platform" / "template" /
                                          "tg_platform_template.c")]}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(board))
    return path


@pytest.mark.parametrize("cpu, fpu, mve, arch, stack", [
    ("cortex-m23", "none", False, "v8-M.baseline", "an unmeasured default"),
    ("cortex-m85", "fpv5-d16", True, "v8.1-M.mainline", "closest emulated core, cortex-m55"),
])
def test_core_without_emulator_builds_and_fits(tmp_path, cpu, fpu, mve, arch, stack):
    from tinygen.port.build import build_firmware
    board = load_board_file(_board(tmp_path, cpu, fpu, mve))
    assert (board.cpu, board.mve) == (cpu, mve)
    built = build_firmware(board, "kws", out_dir=tmp_path / "build")
    assert built.size.flash_bytes < board.flash_bytes and built.size.ram_bytes < board.ram_bytes
    attributes = subprocess.run(["arm-none-eabi-readelf", "-A", str(built.elf)],
                                capture_output=True, text=True, check=True).stdout
    assert f"Tag_CPU_arch: {arch}" in attributes, attributes
    if mve:
        assert "Tag_MVE_arch: MVE Integer and FP" in attributes, attributes
        # The Helium kernels: the plan's mve target, compiled from firmware/kernels/mve/.
        assert built.port.engine.model.target == "mve"
        assert any(s.parent.name == "mve" for s in built.port.sources), built.port.sources
    assert stack in built.size.stack_note, built.size.stack_note


def test_a_real_board_never_claims_its_own_stack_measurement():
    mark, where = stack_measurement(load_board("nucleo_l4r5zi"))
    assert "nucleo_l4r5zi never ran it" in where and "mps2_an386" in where and mark
    mark, where = stack_measurement(load_board("mps3_an547"))
    assert where == "measured on this board's emulator" and mark >= 728
