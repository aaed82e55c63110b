"""Jetperch Joulescope JS220 / JS110 driver, through the ``joulescope`` package.

The package (PyPI ``joulescope``, v1 API) is imported only when a real
instrument is opened; without it the error says how to install it. The
DUT's supply runs through the Joulescope's current path and its timestamp
pin goes to general-purpose input 0 (set the Joulescope's IO voltage to
the DUT's). Samples (current, voltage, GPI0 as ``current_lsb``) are read
from the device's stream buffer while it streams; each ``bin_s`` of them
becomes one energy sample (sum of current x voltage / rate), and a
falling edge of GPI0 becomes an event at its bin.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from tinygen.device.emon.base import EnergyCapture, EnergyMonitorError

log = logging.getLogger(__name__)

IO_VOLTAGES = ("1.8V", "2.1V", "2.5V", "2.7V", "3.0V", "3.3V", "3.6V", "5.0V")


def _io_voltage(volts: float) -> str:
    """The Joulescope IO level closest to the DUT's supply (at least it)."""
    levels = [float(v[:-1]) for v in IO_VOLTAGES]
    best = min((lv for lv in levels if lv >= volts - 0.05), default=levels[-1])
    return f"{best:.1f}V"


class Joulescope:
    """One Joulescope; ``device`` overrides the scan (the simulator, or a
    device object you opened yourself)."""

    def __init__(self, model: str = "js220", serial: str | None = None, device=None,
                 timeout: float = 5.0, sample_rate: int = 1_000_000, bin_s: float = 0.001):
        self.name = model
        self.model = model
        self.serial = serial
        self.timeout = timeout
        self.sample_rate = sample_rate
        self.bin_s = bin_s
        self._device = device
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._capture: EnergyCapture | None = None
        self._error: str | None = None
        self.voltage: float | None = None
        self.version: str | None = None

    def open(self) -> "Joulescope":
        if self._device is None:
            try:
                import joulescope
            except ImportError as exc:
                raise EnergyMonitorError(
                    "the Joulescope driver needs the 'joulescope' package: "
                    "pip install joulescope (into tinygen's .venv)") from exc
            devices = [d for d in joulescope.scan(config="auto")
                       if self.model in str(d).lower() and (not self.serial or self.serial in str(d))]
            if not devices:
                raise EnergyMonitorError(
                    f"no {self.model.upper()} found"
                    + (f" with serial {self.serial}" if self.serial else "")
                    + "; plug it in (USB) and check its driver, or choose --emon")
            if len(devices) > 1:
                raise EnergyMonitorError(f"several {self.model.upper()}s: "
                                         f"{', '.join(map(str, devices))}; pick one with --emon-port SERIAL")
            self._device = devices[0]
        try:
            self._device.open()
        except Exception as exc:  # the package raises its own types
            raise EnergyMonitorError(f"cannot open {self._device}: {exc}") from exc
        return self

    def close(self) -> None:
        if self._device is None:
            return
        self._halt()
        try:
            self._device.close()
        except Exception as exc:
            log.warning("closing %s: %s", self._device, exc)

    def __enter__(self) -> "Joulescope":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def setup(self, voltage: float = 3.3) -> None:
        dev = self._device
        try:
            dev.parameter_set("sensor_power", "on")
            dev.parameter_set("source", "raw")
            dev.parameter_set("i_range", "auto")
            dev.parameter_set("sampling_frequency", self.sample_rate)
            dev.parameter_set("io_voltage", _io_voltage(voltage))
            # JS110: GPI0 replaces the current's least significant bit; the JS220
            # streams GPI0 on its own and the v1 API hands it back in the same field.
            dev.parameter_set("current_lsb", "gpi0")
        except Exception as exc:
            raise EnergyMonitorError(f"{dev} refused a setting: {exc}") from exc
        self.voltage = voltage
        info = getattr(dev, "info", None)
        if callable(info):
            try:
                self.version = str(info().get("fw", "")) or None
            except Exception:
                self.version = None

    def power_on(self) -> None:
        """The DUT's supply runs through the Joulescope: nothing to switch."""

    def start(self) -> None:
        self._capture = EnergyCapture(self.model, self.bin_s)
        # A fresh event per acquisition: a reader that outlived its join
        # timeout must not wake up again with the next one.
        self._stop = threading.Event()
        try:
            self._device.start()
        except Exception as exc:
            raise EnergyMonitorError(f"{self._device} did not start streaming: {exc}") from exc
        self._thread = threading.Thread(target=self._read_loop, name="joulescope-reader",
                                        daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        stop = self._stop
        capture = self._capture
        buf = self._device.stream_buffer
        per_bin = max(1, int(round(self.bin_s * self.sample_rate)))
        last_id = None
        carry_e = np.zeros(0)
        carry_g = np.zeros(0, dtype=np.uint8)
        prev_level = 1
        while True:
            stopping = stop.is_set()
            span = buf.sample_id_range
            if span is not None:
                start, end = span
                last_id = start if last_id is None else last_id
                if end > last_id:
                    data = buf.samples_get(last_id, end, fields=["current", "voltage", "current_lsb"])
                    last_id = end
                    sig = data["signals"]
                    energy = (np.asarray(sig["current"]["value"], dtype=np.float64) *
                              np.asarray(sig["voltage"]["value"], dtype=np.float64) / self.sample_rate)
                    gpi = np.asarray(sig["current_lsb"]["value"], dtype=np.uint8)
                    carry_e = np.concatenate([carry_e, np.nan_to_num(energy)])
                    carry_g = np.concatenate([carry_g, gpi])
            # An event's index is the number of complete bins before it, as the
            # LPM01A reports one between its samples. At the end, the last
            # partial bin's events count (it may hold the last one), its
            # energy does not (it is not a whole sample).
            whole = len(carry_e) if stopping else len(carry_e) // per_bin * per_bin
            if whole:
                e, g = carry_e[:whole], carry_g[:whole]
                carry_e, carry_g = carry_e[whole:], carry_g[whole:]
                base = len(capture.samples_j)
                levels = np.concatenate([[prev_level], g])
                falls = np.nonzero((levels[:-1] == 1) & (levels[1:] == 0))[0]
                prev_level = int(g[-1])
                full = whole // per_bin * per_bin
                if full:
                    bins = e[:full].reshape(-1, per_bin).sum(axis=1)
                    capture.samples_j.extend(bins.tolist())
                capture.events.extend(int(base + f // per_bin) for f in falls)
            if stopping:
                return
            time.sleep(0.01)

    def _halt(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=self.timeout)
            self._thread = None
            try:
                self._device.stop()
            except Exception as exc:
                log.warning("stopping %s: %s", self._device, exc)

    def stop(self, timeout: float | None = None) -> EnergyCapture:
        """Drain what was streamed, stop, and hand back the capture."""
        settle = getattr(self._device, "settle", None)
        if callable(settle):
            settle()
        self._halt()
        capture, self._capture = self._capture, None
        if capture is None:
            raise EnergyMonitorError("Joulescope stop without start")
        return capture
