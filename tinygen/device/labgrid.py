"""Boards in a device lab, reached through labgrid (``--place NAME``).

labgrid (https://labgrid.readthedocs.io) splits a lab into a *coordinator*
(one per lab, gRPC, ``labgrid-coordinator``), *exporters* on the hosts the
boards hang off (``labgrid-exporter exporter.yaml`` publishes each board's
resources) and *places*: named sets of resources that a client *acquires*
for the time of a run and *releases* afterwards, so two users never drive
the same board.

A tinygen place holds

- ``NetworkSerialPort`` (host, port, speed, protocol): the DUT's console.
  labgrid's exporter publishes a USB serial port (``USBSerialPort``) through
  ser2net as one (protocol ``rfc2217``); an emulated board's QEMU console
  (``-serial tcp:HOST:PORT,server=on``) is exported as one with protocol
  ``raw``.
- ``GDBServer`` (host, port, optional ``reset``): how the firmware gets on
  the board. ``pyocd gdbserver`` for a real board's probe, QEMU's gdbstub
  (``-gdb tcp:HOST:PORT -S``) for an emulated one; see
  ``tinygen.device.gdbremote``. A place without one runs whatever it was
  flashed with.

``acquired_places`` acquires, yields the places' endpoints and releases in
every case the process can still act on: normal end, a fault, Ctrl-C and
SIGTERM (turned into KeyboardInterrupt while a place is held). A process
killed with SIGKILL cannot release; the next client is told who holds the
place and how to free it. The coordinator's address comes from
``LG_COORDINATOR`` (labgrid's own variable; default 127.0.0.1:20408); the
holder is ``host/user`` as labgrid says it (``LG_HOSTNAME``, ``LG_USERNAME``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tinygen.boards import Board
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

COORDINATOR_ENV = "LG_COORDINATOR"
DEFAULT_PORT = 20408
DEFAULT_COORDINATOR = f"127.0.0.1:{DEFAULT_PORT}"
SERIAL_CLASS = "NetworkSerialPort"
GDB_CLASS = "GDBServer"
RPC_TIMEOUT_S = 15.0
INSTALL_HINT = "pip install labgrid (or bash scripts/setup.sh --dev)"


class PlaceHeld(TinygenError):
    """The place is acquired by someone else; ``holder`` says who (host/user)."""

    def __init__(self, message: str, place: str, holder: str):
        super().__init__(message)
        self.place = place
        self.holder = holder


@dataclass(frozen=True)
class LabPlace:
    """An acquired place: where its console and its debug server are."""

    name: str
    serial_url: str
    speed: int
    gdb: tuple[str, int] | None
    gdb_reset: str | None
    holder: str
    coordinator: str


def coordinator_address(address: str | None = None) -> str:
    address = address or os.environ.get(COORDINATOR_ENV) or DEFAULT_COORDINATOR
    return address if ":" in address.rsplit("]", 1)[-1] else f"{address}:{DEFAULT_PORT}"


def split_places(text: str | None) -> list[str]:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    if len(set(names)) != len(names):
        raise TinygenError(f"--place lists a place twice ({text}); give each place once")
    return names


def _holder_text(place: Any) -> str:
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(place.changed)) if place.changed else "?"
    return f"{place.acquired} (since {since})"


class LabClient:
    """A short-lived labgrid client session.

    It runs on labgrid's event loop for this thread (``ensure_event_loop``),
    which is never closed: grpc.aio binds its completion queue to the first
    loop it sees, so a loop per session would leave it calling a closed one.
    """

    def __init__(self, address: str | None = None, timeout: float = RPC_TIMEOUT_S):
        try:
            from labgrid.remote.client import ClientSession, ensure_event_loop
        except ImportError as exc:
            raise TinygenError(f"--place needs labgrid; {INSTALL_HINT}") from exc
        self.address = coordinator_address(address)
        self.timeout = timeout
        self.loop = ensure_event_loop()
        async def make():  # grpc.aio binds its channel to the loop running it
            return ClientSession(self.address, self.loop)

        self.session = self.loop.run_until_complete(make())
        try:
            self._run(self.session.start(), "connecting")
        except BaseException:
            self.close()
            raise
        self.me = f"{self.session.gethostname()}/{self.session.getuser()}"

    def _run(self, coro, what: str):
        try:
            return self.loop.run_until_complete(asyncio.wait_for(coro, self.timeout))
        except asyncio.TimeoutError:
            raise TinygenError(f"the labgrid coordinator {self.address} did not answer "
                               f"({what}) within {self.timeout:g} s; check {COORDINATOR_ENV} "
                               "and that labgrid-coordinator runs") from None
        except Exception as exc:
            if type(exc).__module__.startswith(("labgrid", "grpc")):
                raise TinygenError(f"labgrid coordinator {self.address}, {what}: "
                                   f"{_grpc_details(exc)}; check {COORDINATOR_ENV} and that "
                                   "labgrid-coordinator runs") from exc
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if getattr(self.session, "pump_task", None) is not None:
                self.loop.run_until_complete(asyncio.wait_for(self.session.stop(), 5.0))
            self.loop.run_until_complete(asyncio.wait_for(self.session.close(), 5.0))

    def __enter__(self) -> "LabClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def place(self, name: str):
        places = self.session.places
        if name not in places:
            known = ", ".join(sorted(places)) or "none"
            raise TinygenError(f"the labgrid coordinator {self.address} has no place '{name}' "
                               f"(places: {known}); create it (labgrid-client -p {name} create, "
                               "see README 'Device labs')")
        return places[name]

    def acquire(self, name: str) -> LabPlace:
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2

        place = self.place(name)
        if place.acquired:
            raise self._held(place)
        try:
            self.session.check_matches(place)
        except Exception as exc:
            raise TinygenError(f"place '{name}': {exc}; is the lab's exporter running?") from exc
        try:
            self._run(self.session.stub.AcquirePlace(pb2.AcquirePlaceRequest(placename=name)),
                      f"acquiring {name}")
        except TinygenError:
            self._run(self.session.sync_with_coordinator(), "reading places")
            place = self.place(name)
            if place.acquired and place.acquired != self.me:
                raise self._held(place) from None
            raise
        self._run(self.session.sync_with_coordinator(), "reading places")
        log.info("acquired labgrid place %s on %s as %s", name, self.address, self.me)
        try:
            return self._endpoints(self.place(name))
        except BaseException:
            self.release(name)
            raise

    def _held(self, place) -> PlaceHeld:
        holder = _holder_text(place)
        mine = place.acquired == self.me
        hint = ("an earlier run of yours that was killed still holds it; if it is gone, release "
                f"it: labgrid-client -x {self.address} -p {place.name} release"
                if mine else
                f"wait for it to be released, or if that run is gone: labgrid-client -x "
                f"{self.address} -p {place.name} release --kick")
        return PlaceHeld(f"labgrid place '{place.name}' is held by {holder}; {hint}",
                         place.name, place.acquired)

    def _endpoints(self, place) -> LabPlace:
        resources = self.session.get_target_resources(place)
        serial = [r for (_, cls), r in resources.items() if cls == SERIAL_CLASS]
        gdb = [r for (_, cls), r in resources.items() if cls == GDB_CLASS]
        if len(serial) != 1:
            raise TinygenError(
                f"place '{place.name}' has {len(serial)} {SERIAL_CLASS} resources, tinygen needs "
                "exactly one (the DUT's console); fix the place's matches (labgrid-client -p "
                f"{place.name} add-match EXPORTER/GROUP/{SERIAL_CLASS})")
        if len(gdb) > 1:
            raise TinygenError(f"place '{place.name}' has {len(gdb)} {GDB_CLASS} resources; keep one")
        s = serial[0].args
        protocol = s.get("protocol", "rfc2217")
        if protocol not in ("raw", "rfc2217"):
            raise TinygenError(f"place '{place.name}': serial protocol '{protocol}' is neither "
                               "raw nor rfc2217")
        scheme = "socket" if protocol == "raw" else "rfc2217"
        g = gdb[0].args if gdb else None
        return LabPlace(
            name=place.name, serial_url=f"{scheme}://{s['host']}:{s['port']}",
            speed=int(s.get("speed", 115200)),
            gdb=(g["host"], int(g["port"])) if g else None, gdb_reset=g.get("reset") if g else None,
            holder=self.me, coordinator=self.address)

    def release(self, name: str) -> None:
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2

        self._run(self.session.sync_with_coordinator(), "reading places")
        place = self.session.places.get(name)
        if place is None or not place.acquired:
            log.warning("labgrid place %s was already released", name)
            return
        if place.acquired != self.me:
            log.warning("labgrid place %s is now held by %s, not us; leaving it", name,
                        place.acquired)
            return
        self._run(self.session.stub.ReleasePlace(pb2.ReleasePlaceRequest(placename=name)),
                  f"releasing {name}")
        log.info("released labgrid place %s", name)

    def holder(self, name: str) -> str | None:
        """Who holds the place (host/user), or None when it is free."""
        return self.place(name).acquired or None


def _grpc_details(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    text = details() if callable(details) else str(exc)
    return (text or type(exc).__name__).splitlines()[0]


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a place is held, SIGTERM unwinds like Ctrl-C so the place is released."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def acquired_places(names: list[str], address: str | None = None) -> Iterator[list[LabPlace]]:
    """Acquire every place (all or none), yield their endpoints, release them all."""
    held: list[str] = []
    with _sigterm_as_interrupt():
        try:
            with LabClient(address) as client:
                places = []
                for name in names:
                    places.append(client.acquire(name))
                    held.append(name)
            yield places
        finally:
            if held:
                _release(held, address)


def _release(names: list[str], address: str | None) -> None:
    # A fresh session: the one that acquired may be long idle, and this also
    # runs after Ctrl-C. SIGINT is ignored meanwhile so a second Ctrl-C
    # cannot leave a place held.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        with LabClient(address) as client:
            for name in names:
                try:
                    client.release(name)
                except TinygenError as exc:
                    log.error("could not release labgrid place %s: %s", name, exc)
    except TinygenError as exc:
        log.error("could not release labgrid places %s: %s; release them with labgrid-client "
                  "-p NAME release", ", ".join(names), exc)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class PlaceFlash:
    text: str                 # one line saying what was done
    emulated: bool | None     # QEMU behind the place (None: not flashed, unknown)


def flash_place(place: LabPlace, board: Board, build_dir: Path) -> PlaceFlash:
    """Put build_dir/firmware.elf on the place's board.

    A debug server with a flash memory map is a real chip (pyOCD); one
    without is QEMU, which writes its flash like RAM.
    """
    if place.gdb is None:
        log.warning("place %s has no %s resource: the board keeps the firmware it has",
                    place.name, GDB_CLASS)
        return PlaceFlash(f"place {place.name}: not flashed (no {GDB_CLASS}); using the "
                          "firmware it runs", None)
    from tinygen.device.gdbremote import load_image

    image = Path(build_dir) / ("firmware.elf")
    if board.is_host:
        raise TinygenError("the host board runs on this machine; drop --place")
    result = load_image(place.gdb[0], place.gdb[1], image, reset=place.gdb_reset)
    kind = "real board, flash programmed" if result.flash_packets else "emulated board"
    return PlaceFlash(f"place {place.name}: loaded and verified {result.bytes_verified} bytes of "
                      f"{image} through {result.address} ({kind}); the board is running",
                      not result.flash_packets)


def lab_qemu_command(qemu: str, board: Board, serial_port: int, gdb_port: int,
                     host: str = "127.0.0.1") -> list[str]:
    """How a lab host runs an emulated board for a place: halted (-S), waiting
    for firmware on its gdbstub, console on a TCP port that clients may leave
    and rejoin (wait=off). Time is virtual (-icount), as for 'tinygen flash'."""
    shift = board.emulator.icount_shift
    return [
        qemu, "-M", board.emulator.qemu_machine, "-nographic", "-monitor", "none",
        "-icount", f"shift={shift},align=off,sleep=off",
        "-serial", f"tcp:{host}:{serial_port},server=on,wait=off,nodelay=on",
        "-gdb", f"tcp:{host}:{gdb_port}", "-S",
    ]
