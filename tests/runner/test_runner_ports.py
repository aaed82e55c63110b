"""Finding a real board's serial port by the USB ids in its board YAML."""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from tinygen.boards import load_board
from tinygen.device.ports import find_board_port, matching_ports
from tinygen.errors import TinygenError


def _port(device, vid=None, pid=None):
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    return info


PORTS = [_port("/dev/ttyS0"), _port("/dev/ttyACM0", 0x0483, 0x374B),
         _port("/dev/ttyUSB0", 0x10C4, 0xEA60)]


def test_the_stlink_port_is_found_by_vid_pid():
    assert find_board_port(load_board("disco_l475vg_iot01a"), PORTS) == "/dev/ttyACM0"


def test_any_of_the_board_ids_matches():
    ports = [_port("/dev/ttyACM3", 0x0483, 0x374E)]
    assert matching_ports(load_board("nucleo_l4r5zi").usb_ids, ports) == ["/dev/ttyACM3"]


def test_no_matching_port_names_the_fix():
    with pytest.raises(TinygenError, match="no serial port with USB id 0483:374b.*pass --port"):
        find_board_port(load_board("disco_l475vg_iot01a"), PORTS[:1])


def test_two_matching_ports_ask_for_port():
    ports = PORTS + [_port("/dev/ttyACM1", 0x0483, 0x374B)]
    with pytest.raises(TinygenError, match="several serial ports.*--port"):
        find_board_port(load_board("disco_l475vg_iot01a"), ports)


def test_board_without_usb_ids_asks_for_port():
    with pytest.raises(TinygenError, match="lists no usb_ids"):
        find_board_port(load_board("mps2_an386"), PORTS)
