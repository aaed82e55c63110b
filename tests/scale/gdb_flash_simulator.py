"""A simulator of a GDB remote server for a chip with flash, as pyocd gdbserver is.

Named a simulator on purpose: no probe and board can be had in the tests.
It follows GDB's documented remote protocol for what a loader uses:
qSupported, a qXfer memory map with a flash region (blocksize property),
m/M for RAM, vFlashErase/vFlashWrite/vFlashDone for flash (erase to 0xFF,
writes only to erased bytes, committed at vFlashDone), qRcmd and D.
M into flash is refused, as a real flash controller would not take it.
"""

from __future__ import annotations

import socket
import threading

FLASH_START, FLASH_SIZE, BLOCK = 0x08000000, 0x100000, 0x800
RAM_START, RAM_SIZE = 0x20000000, 0x18000
MEMORY_MAP = (
    '<?xml version="1.0"?><memory-map>'
    f'<memory type="flash" start="0x{FLASH_START:x}" length="0x{FLASH_SIZE:x}">'
    f'<property name="blocksize">0x{BLOCK:x}</property></memory>'
    f'<memory type="ram" start="0x{RAM_START:x}" length="0x{RAM_SIZE:x}"/>'
    '</memory-map>').encode()


def _unescape(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] == 0x7D:
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


class FlashChipServer:
    def __init__(self):
        self.flash = bytearray(b"\xff" * FLASH_SIZE)
        self.ram = bytearray(RAM_SIZE)
        self.pending: dict[int, int] = {}
        self.erased_blocks: set[int] = set()
        self.monitor: list[str] = []
        self.detached = False
        self.bad_checksums = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(10)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "FlashChipServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.close()
        self._thread.join(5)

    def _serve(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            buf = b""
            while not self.detached:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while True:
                    start = buf.find(b"$")
                    end = buf.find(b"#", start + 1)
                    if start < 0 or end < 0 or len(buf) < end + 3:
                        break
                    payload, checksum = buf[start + 1:end], buf[end + 1:end + 3]
                    buf = buf[end + 3:]
                    if b"%02x" % (sum(payload) & 0xFF) != checksum:
                        self.bad_checksums += 1
                        conn.sendall(b"-")
                        continue
                    reply = self._handle(payload)
                    conn.sendall(b"+$" + reply + b"#" + b"%02x" % (sum(reply) & 0xFF))

    def _memory(self, address: int, length: int):
        if FLASH_START <= address and address + length <= FLASH_START + FLASH_SIZE:
            return self.flash, address - FLASH_START, True
        if RAM_START <= address and address + length <= RAM_START + RAM_SIZE:
            return self.ram, address - RAM_START, False
        return None, 0, False

    def _handle(self, p: bytes) -> bytes:
        if p.startswith(b"qSupported"):
            return b"PacketSize=4000;qXfer:memory-map:read+"
        if p == b"?":
            return b"S05"
        if p.startswith(b"qXfer:memory-map:read::"):
            offset, length = (int(x, 16) for x in p.split(b"::")[1].split(b","))
            chunk = MEMORY_MAP[offset:offset + length]
            return (b"l" if offset + length >= len(MEMORY_MAP) else b"m") + chunk
        if p.startswith(b"m"):
            address, length = (int(x, 16) for x in p[1:].split(b","))
            mem, off, _ = self._memory(address, length)
            return mem[off:off + length].hex().encode() if mem is not None else b"E14"
        if p.startswith(b"M"):
            head, data = p[1:].split(b":", 1)
            address, length = (int(x, 16) for x in head.split(b","))
            mem, off, is_flash = self._memory(address, length)
            if mem is None or is_flash:
                return b"E0e"
            mem[off:off + length] = bytes.fromhex(data.decode())
            return b"OK"
        if p.startswith(b"vFlashErase:"):
            address, length = (int(x, 16) for x in p[12:].split(b","))
            if address % BLOCK or length % BLOCK:
                return b"E03"
            for block in range(address, address + length, BLOCK):
                self.erased_blocks.add(block)
                self.flash[block - FLASH_START:block - FLASH_START + BLOCK] = b"\xff" * BLOCK
            return b"OK"
        if p.startswith(b"vFlashWrite:"):
            head, _, data = p[12:].partition(b":")
            address = int(head, 16)
            for i, byte in enumerate(_unescape(data)):
                a = address + i
                if a - a % BLOCK not in self.erased_blocks:
                    return b"E04"
                self.pending[a] = byte
            return b"OK"
        if p == b"vFlashDone":
            for a, byte in self.pending.items():
                self.flash[a - FLASH_START] = byte
            self.pending.clear()
            return b"OK"
        if p.startswith(b"qRcmd,"):
            self.monitor.append(bytes.fromhex(p[6:].decode()).decode())
            return b"OK"
        if p == b"D":
            self.detached = True
            return b"OK"
        return b""
