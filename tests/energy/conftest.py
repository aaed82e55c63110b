"""Fixtures for the energy tests: energy-mode builds (good and faulty on purpose)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from energy_support import BENCH, BOARD  # noqa: E402

from tinygen.benches import get_bench  # noqa: E402
from tinygen.boards import load_board  # noqa: E402


def _need_tools() -> None:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed (bash scripts/setup.sh installs it)")
    try:
        from tinygen.device.launch import check_qemu
        check_qemu(load_board(BOARD))
    except Exception as exc:  # a TinygenError naming the install step
        pytest.skip(f"QEMU with b-l475e-iot01a is not available: {exc}")


@pytest.fixture(scope="session")
def energy_firmware(tmp_path_factory):
    """build(fault=0, mode="energy") -> build folder; fault adds TG_ENERGY_FAULT.

    Faulty firmware is made on purpose: the define goes into the generated
    tg_board.h, which the STM32L4 platform code includes first.
    """
    _need_tools()
    from tinygen.port.build import run_scons
    from tinygen.port.generate import generate_port

    built: dict[tuple[int, str], Path] = {}

    def build(fault: int = 0, mode: str = "energy") -> Path:
        key = (fault, mode)
        if key not in built:
            out = tmp_path_factory.mktemp(f"energy-{mode}-fault{fault}")
            port = generate_port(BOARD, BENCH, mode=mode, out_dir=out)
            if fault:
                header = port.src_dir / "tg_board.h"
                header.write_text(header.read_text() + f"\n#define TG_ENERGY_FAULT {fault}\n")
            run_scons(port, jobs=2)
            import json
            manifest = json.loads(port.manifest.read_text())
            manifest["fault"] = fault
            port.manifest.write_text(json.dumps(manifest, indent=2) + "\n")
            built[key] = Path(port.build_dir)
        return built[key]

    return build


@pytest.fixture(scope="module")
def host_dut(tmp_path_factory):
    """The host-built kws01 firmware running as a native process: the real
    DUT behind the interface-board simulators. One per test module."""
    if shutil.which("gcc") is None:
        pytest.skip("no host C compiler (gcc)")
    from tinygen.device.launch import start_dut
    from tinygen.port.build import build_firmware
    bench = get_bench("kws01")
    if not bench.model_path.is_file():
        pytest.skip("models/kws01.tflite is not in this checkout")
    out = tmp_path_factory.mktemp("host-kws")
    build_firmware("host", bench, out_dir=out)
    with start_dut(load_board("host"), out, log_path=out / "dut.log") as running:
        yield running.url
