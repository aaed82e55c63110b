"""Loading firmware through GDB remote servers: QEMU's gdbstub (real) and, for a
chip with flash, a simulator of pyocd gdbserver's documented protocol."""

from __future__ import annotations

import pytest

from tinygen.device.gdbremote import _escape, elf_segments, load_image
from tinygen.errors import TinygenError

from gdb_flash_simulator import FLASH_START, FlashChipServer, _unescape
from runner_helpers import classifier_bench


def test_binary_escaping_round_trips_every_byte():
    data = bytes(range(256)) * 2
    escaped = _escape(data)
    assert not set(escaped) & {0x23, 0x24, 0x2A} and _unescape(escaped) == data


def test_flash_chip_is_programmed_with_vflash_packets_and_reset(scale_firmware):
    elf = scale_firmware("disco_l475vg_iot01a", classifier_bench()) / "firmware.elf"
    segments = elf_segments(elf)
    # The image exercises the escaping: it holds bytes GDB's framing reserves.
    assert any(b in data for _, data in segments for b in (b"#", b"$", b"}", b"*"))
    with FlashChipServer() as chip:
        result = load_image("127.0.0.1", chip.port, elf)
    assert result.flash_packets and result.bytes_verified == result.bytes_written
    for address, data in segments:
        assert bytes(chip.flash[address - FLASH_START:address - FLASH_START + len(data)]) == data
    assert chip.monitor == ["reset"] and chip.detached and chip.bad_checksums == 0


def test_a_missing_server_or_a_non_elf_image_is_one_error_naming_it(scale_firmware):
    import socket

    elf = scale_firmware("disco_l475vg_iot01a", classifier_bench()) / "firmware.elf"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TinygenError, match=rf"cannot reach the debug server 127.0.0.1:{port}"):
        load_image("127.0.0.1", port, elf)
    with pytest.raises(TinygenError, match="is not an ELF image"):
        load_image("127.0.0.1", port, __file__)
