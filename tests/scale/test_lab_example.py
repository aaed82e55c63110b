"""The example lab description is what labgrid reads and what tinygen needs."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tinygen.boards import load_board
from tinygen.device.labgrid import GDB_CLASS, SERIAL_CLASS, lab_qemu_command

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lab"


def test_exporter_yaml_loads_in_labgrid_with_a_console_and_a_debug_server_per_place():
    config = pytest.importorskip("labgrid.remote.config", reason="labgrid is not installed")
    data = config.ResourceConfig(str(EXAMPLE / "exporter.yaml")).data
    assert set(data) == {"nucleo-1", "disco-emu-1"}
    for group, resources in data.items():
        consoles = [c for c in resources if c in (SERIAL_CLASS, "USBSerialPort")]
        assert len(consoles) == 1, group
        assert set(resources[GDB_CLASS]) >= {"host", "port"}, group
    assert data["disco-emu-1"][SERIAL_CLASS]["protocol"] == "raw"


def test_places_script_matches_every_exporter_group():
    text = (EXAMPLE / "places.sh").read_text()
    assert "for place in nucleo-1 disco-emu-1; do" in text
    assert 'add-match "lab-host/$place/*"' in text


def test_qemu_board_script_runs_the_command_tinygen_documents():
    board = load_board("disco_l475vg_iot01a")
    script = (EXAMPLE / "qemu-board.sh").read_text()
    body = script.split("exec ", 1)[1].replace("\\\n", " ")
    body = body.replace('"$host"', "127.0.0.1").replace("$host", "127.0.0.1")
    body = body.replace("$serial", "5000").replace("$gdb", "5001")
    assert shlex.split(body) == lab_qemu_command("qemu-system-arm", board, 5000, 5001)
