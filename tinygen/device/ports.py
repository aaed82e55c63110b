"""Find a real board's serial port by the USB ids in its board YAML."""

from __future__ import annotations

import logging

from serial.tools import list_ports

from tinygen.boards import Board
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)


def matching_ports(usb_ids: tuple[str, ...] | list[str], ports=None) -> list[str]:
    """Device names of the serial ports whose VID:PID is one of ``usb_ids``."""
    wanted = {u.lower() for u in usb_ids}
    ports = list_ports.comports() if ports is None else ports
    found = []
    for p in ports:
        if p.vid is None or p.pid is None:
            continue
        if f"{p.vid:04x}:{p.pid:04x}" in wanted:
            found.append(p.device)
    return sorted(found)


def find_board_port(board: Board, ports=None) -> str:
    """The one serial port of ``board``; an error naming the fix otherwise."""
    if not board.usb_ids:
        raise TinygenError(
            f"board {board.name} lists no usb_ids to find its serial port by; "
            "pass --port (e.g. /dev/ttyACM0 or COM3)")
    found = matching_ports(board.usb_ids, ports)
    if not found:
        raise TinygenError(
            f"no serial port with USB id {' or '.join(board.usb_ids)} ({board.name}) is "
            "connected; plug the board's ST-LINK USB in or pass --port")
    if len(found) > 1:
        raise TinygenError(
            f"several serial ports match {board.name}: {', '.join(found)}; "
            "choose one with --port")
    log.info("using serial port %s for %s", found[0], board.name)
    return found[0]
