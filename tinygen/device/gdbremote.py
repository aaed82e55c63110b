"""Load a firmware image through a GDB remote-protocol server over TCP.

A debug server that speaks GDB's remote serial protocol is how a lab exports
a board's debug port over the network: QEMU's gdbstub (``-gdb tcp:...``) for
an emulated board started halted (``-S``), ``pyocd gdbserver`` for a real
board whose probe hangs off the lab host. The image's loadable segments are
written, read back and compared, the target is reset through the server's
monitor command and left running.

Writes go as ``M`` packets (QEMU writes its flash like any memory), or, when
the server publishes a memory map with flash regions (pyOCD does), as
``vFlashErase`` / ``vFlashWrite`` / ``vFlashDone`` for the segments in flash.
Every read has a timeout; a server that does not answer is a TinygenError.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
QEMU_RESET = "system_reset"     # QEMU's monitor: reset, reloading SP and PC from the vectors
PYOCD_RESET = "reset"           # pyocd gdbserver's monitor
_DEFAULT_PACKET = 0x400          # bytes per packet when the server does not say (PacketSize)
_HEADER = 32                     # room for 'Maddress,length:' and the framing


@dataclass(frozen=True)
class FlashRegion:
    start: int
    length: int
    blocksize: int


@dataclass(frozen=True)
class LoadResult:
    address: str
    image: Path
    bytes_written: int
    bytes_verified: int
    flash_packets: bool          # True when written with vFlash* (a real flash)


def _checksum(payload: bytes) -> bytes:
    return b"%02x" % (sum(payload) & 0xFF)


def _escape(data: bytes) -> bytes:
    """Binary data for vFlashWrite: '#', '$', '}' and '*' are escaped as '}' x^0x20."""
    out = bytearray()
    for b in data:
        if b in (0x23, 0x24, 0x7D, 0x2A):
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


class GdbRemote:
    """One connection to a GDB remote server; use as a context manager."""

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT_S):
        self.address = f"{host}:{port}"
        self.timeout = timeout
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise TinygenError(f"cannot reach the debug server {self.address}: {exc}; check the "
                               "lab's exporter and that its QEMU or pyocd gdbserver runs") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self.features: dict[str, str] = {}

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "GdbRemote":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _recv_more(self, deadline: float, what: str) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TinygenError(f"the debug server {self.address} did not answer {what!r} within "
                               f"{self.timeout:g} s; is another debugger attached?")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            data = None
        except OSError as exc:
            raise TinygenError(f"lost the debug server {self.address}: {exc}") from exc
        if data == b"":
            raise TinygenError(f"the debug server {self.address} closed the connection during "
                               f"{what!r}")
        if data:
            self._buf += data

    def _reply(self, what: str, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            start = self._buf.find(b"$")
            end = self._buf.find(b"#", start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0 and len(self._buf) >= end + 3:
                payload = self._buf[start + 1:end]
                self._buf = self._buf[end + 3:]
                self.sock.sendall(b"+")
                return payload
            self._recv_more(deadline, what)

    def packet(self, payload: bytes | str, timeout: float | None = None) -> bytes:
        """Send one packet, return the reply's payload (acks skipped)."""
        data = payload.encode("latin-1") if isinstance(payload, str) else payload
        self.sock.sendall(b"$" + data + b"#" + _checksum(data))
        what = data[:24].decode("latin-1", "replace")
        reply = self._reply(what, timeout)
        if reply.startswith(b"E") and len(reply) == 3:
            raise TinygenError(f"the debug server {self.address} refused {what!r} ({reply.decode()})")
        return reply

    def handshake(self) -> None:
        reply = self.packet("qSupported:swbreak+").decode("latin-1")
        for item in reply.split(";"):
            key, _, value = item.partition("=")
            self.features[key.rstrip("+-")] = value or item[-1:]
        self.packet("?")   # halts nothing; makes the server report its stop state

    def monitor(self, command: str, timeout: float | None = None) -> str:
        """``monitor COMMAND`` (qRcmd); the server's console output, decoded."""
        out = []
        self.sock.sendall(self._framed("qRcmd," + command.encode().hex()))
        while True:
            reply = self._reply(f"monitor {command}", timeout)
            if reply.startswith(b"O") and reply != b"OK":
                out.append(bytes.fromhex(reply[1:].decode()).decode("latin-1", "replace"))
                continue
            if reply == b"" or (reply.startswith(b"E") and len(reply) == 3):
                raise TinygenError(f"the debug server {self.address} does not know "
                                   f"'monitor {command}' ({reply.decode() or 'unsupported'})")
            return "".join(out)

    def _framed(self, payload: str) -> bytes:
        data = payload.encode("latin-1")
        return b"$" + data + b"#" + _checksum(data)

    def flash_regions(self) -> list[FlashRegion]:
        if self.features.get("qXfer:memory-map:read") != "+":
            return []
        xml, offset = b"", 0
        while True:
            reply = self.packet(f"qXfer:memory-map:read::{offset:x},800")
            xml += reply[1:]
            offset += len(reply) - 1
            if reply[:1] == b"l" or len(reply) <= 1:
                break
        regions = []
        for m in re.finditer(rb'<memory\s+type="flash"\s+start="(\w+)"\s+length="(\w+)"\s*>(.*?)</memory>',
                             xml, re.S):
            block = re.search(rb'name="blocksize"\s*>\s*(\w+)\s*<', m.group(3))
            regions.append(FlashRegion(int(m.group(1), 0), int(m.group(2), 0),
                                       int(block.group(1), 0) if block else 0x800))
        return regions

    @property
    def _step(self) -> int:
        """Data bytes per M/m packet: two hex digits each, inside the server's PacketSize."""
        try:
            size = int(self.features.get("PacketSize", ""), 16)
        except ValueError:
            size = _DEFAULT_PACKET
        return max(16, (size - _HEADER) // 2)

    def write_memory(self, address: int, data: bytes) -> None:
        step = self._step
        for off in range(0, len(data), step):
            chunk = data[off:off + step]
            reply = self.packet(f"M{address + off:x},{len(chunk):x}:{chunk.hex()}")
            if reply != b"OK":
                raise TinygenError(f"the debug server {self.address} did not write "
                                   f"0x{address + off:08X} (answered {reply[:40]!r})")

    def read_memory(self, address: int, length: int) -> bytes:
        out = bytearray()
        step = self._step
        while len(out) < length:
            n = min(step, length - len(out))
            reply = self.packet(f"m{address + len(out):x},{n:x}")
            try:
                out += bytes.fromhex(reply.decode("latin-1"))
            except ValueError:
                raise TinygenError(f"the debug server {self.address} answered a memory read "
                                   f"with {reply[:40]!r}") from None
        return bytes(out)

    def flash_write(self, regions: list[FlashRegion], segments: list[tuple[int, bytes]]) -> None:
        """Erase the blocks the segments touch, write them, commit (vFlashDone)."""
        for start, data in segments:
            region = next(r for r in regions if r.start <= start < r.start + r.length)
            first = region.start + (start - region.start) // region.blocksize * region.blocksize
            end = start + len(data)
            last = region.start + -(-(end - region.start) // region.blocksize) * region.blocksize
            self.packet(f"vFlashErase:{first:x},{last - first:x}", timeout=self.timeout * 6)
            for off in range(0, len(data), 1024):
                chunk = data[off:off + 1024]
                reply = self.packet(f"vFlashWrite:{start + off:x}:".encode() + _escape(chunk),
                                    timeout=self.timeout * 3)
                if reply != b"OK":
                    raise TinygenError(f"the debug server {self.address} did not program "
                                       f"0x{start + off:08X} (answered {reply[:40]!r})")
        reply = self.packet("vFlashDone", timeout=self.timeout * 6)
        if reply != b"OK":
            raise TinygenError(f"the debug server {self.address} failed to commit the flash "
                               f"(answered {reply[:40]!r})")

    def detach(self) -> None:
        """Leave the target running (QEMU and pyOCD resume on detach)."""
        reply = self.packet("D")
        if reply != b"OK":
            raise TinygenError(f"the debug server {self.address} did not let the target run "
                               f"(detach answered {reply[:40]!r})")


def elf_segments(image: Path) -> list[tuple[int, bytes]]:
    """(load address, bytes) of every PT_LOAD segment with file contents."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    segments = []
    try:
        with open(image, "rb") as stream:
            for seg in ELFFile(stream).iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0:
                    segments.append((seg["p_paddr"], seg.data()[: seg["p_filesz"]]))
    except ELFError as exc:
        raise TinygenError(f"{image} is not an ELF image ({exc}); rebuild it with "
                           "'tinygen build'") from exc
    return segments


def load_image(host: str, port: int, image: Path, *, reset: str | None = None,
               timeout: float = DEFAULT_TIMEOUT_S) -> LoadResult:
    """Write ``image`` through the server at host:port, verify it, reset, detach."""
    image = Path(image)
    if not image.is_file():
        raise TinygenError(f"no {image.name} at {image}; build the firmware first (tinygen build)")
    segments = elf_segments(image)
    if not segments:
        raise TinygenError(f"{image} has nothing to load; rebuild it with 'tinygen build'")
    with GdbRemote(host, port, timeout) as gdb:
        gdb.handshake()
        regions = gdb.flash_regions()
        in_flash = [s for s in segments
                    if any(r.start <= s[0] < r.start + r.length for r in regions)]
        others = [s for s in segments if s not in in_flash]
        log.info("loading %s through %s (%d segments%s)", image, gdb.address, len(segments),
                 ", flash programmed with vFlash packets" if in_flash else "")
        for address, data in others:
            gdb.write_memory(address, data)
        if in_flash:
            gdb.flash_write(regions, in_flash)
        verified = 0
        for address, data in segments:
            read = gdb.read_memory(address, len(data))
            if read != data:
                first = next(i for i, (a, b) in enumerate(zip(read, data)) if a != b)
                raise TinygenError(f"verify failed at 0x{address + first:08X} through "
                                   f"{gdb.address}: the target differs from {image}; flash again")
            verified += len(data)
        gdb.monitor(reset or (PYOCD_RESET if regions else QEMU_RESET))
        gdb.detach()
    written = sum(len(d) for _, d in segments)
    return LoadResult(f"{host}:{port}", image, written, verified, bool(in_flash))
