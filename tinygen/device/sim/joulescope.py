"""SIMULATOR of a Joulescope as the ``joulescope`` package presents it (not a driver).

An object with the subset of the v1 device API the driver uses:
``open``, ``close``, ``parameter_set``, ``parameter_get``, ``start``,
``stop``, ``info`` and ``stream_buffer`` (``sample_id_range`` and
``samples_get(start, stop, fields)`` returning
``{'signals': {name: {'value': array, 'units': ...}}}``). Samples are
produced on the emulated DUT's clock: current = the load's power /
voltage, GPI0 (``current_lsb``) = the timestamp pin's level at each
sample instant, so a pulse shorter than a sample period can be missed,
as on the real instrument.
"""

from __future__ import annotations

import bisect
import threading

import numpy as np

from tinygen.device.sim import LoadModel

PARAMETERS = {"sensor_power": ("off", "on"), "source": ("off", "raw"),
              "i_range": ("auto", "10 A", "2 A", "180 mA", "18 mA", "1.8 mA", "off"),
              "current_lsb": ("normal", "gpi0", "gpi1"), "voltage_lsb": ("normal", "gpi0", "gpi1"),
              "io_voltage": ("1.8V", "2.1V", "2.5V", "2.7V", "3.0V", "3.3V", "3.6V", "5.0V")}
RATES = (2_000_000, 1_000_000, 500_000, 200_000, 100_000, 50_000, 20_000, 10_000, 5_000,
         2_000, 1_000)


class _StreamBuffer:
    def __init__(self, owner: "JoulescopeSimulator"):
        self._owner = owner

    @property
    def sample_id_range(self):
        o = self._owner
        with o._lock:
            return (0, o._produced) if o._streaming or o._produced else None

    def samples_get(self, start, stop, fields=None):
        o = self._owner
        with o._lock:
            t = o._t0_ns + (np.arange(start, stop, dtype=np.float64) * 1e9 / o.rate)
            levels = np.array([o._level_at(x) for x in t], dtype=np.uint8) if len(t) < 64 else \
                o._levels_at(t)
        volts = np.full(len(t), o.volts, dtype=np.float32)
        power = np.array([o.load.power_w(x) for x in t[:: max(1, len(t) // 64) or 1]])
        # The ripple is slow: interpolate the power between a few evaluations.
        if len(t) > 1 and len(power) > 1:
            xs = t[:: max(1, len(t) // 64) or 1]
            power = np.interp(t, xs, power)
        elif len(t):
            power = np.full(len(t), o.load.power_w(t[0]))
        current = (np.asarray(power) / o.volts).astype(np.float32)
        signals = {"current": {"value": current, "units": "A"},
                   "voltage": {"value": volts, "units": "V"},
                   "current_lsb": {"value": levels, "units": ""}}
        return {"time": {"samples": {"value": stop - start, "units": "samples"}},
                "signals": {k: signals[k] for k in (fields or signals)}}


class JoulescopeSimulator:
    """Driven by a ``qemu_pins.PinWatcher``: attach() before start()."""

    def __init__(self, load: LoadModel, model: str = "js220", volts: float = 3.3):
        self.load = load
        self.model = model
        self.volts = volts
        self.params = {"sampling_frequency": 1_000_000, "sensor_power": "off"}
        self.rate = 1_000_000
        self.stream_buffer = _StreamBuffer(self)
        self.opened = False
        self._lock = threading.RLock()
        self._streaming = False
        self._produced = 0
        self._t0_ns = 0.0
        self._edge_ns: list[float] = []
        self._edge_level: list[int] = []
        self._now_ns = None

    def __str__(self) -> str:
        return f"{self.model.upper()}-SIMULATOR"

    def attach(self, watcher) -> None:
        self._now_ns = watcher.now_ns
        watcher.on_tick(self._advance)
        watcher.on_edge(self._edge)

    def _edge(self, edge) -> None:
        with self._lock:
            self._edge_ns.append(float(edge.ns))
            self._edge_level.append(edge.level)
            self._advance(edge.ns)

    def _level_at(self, t_ns: float) -> int:
        i = bisect.bisect_right(self._edge_ns, t_ns)
        return 1 if i == 0 else self._edge_level[i - 1]

    def _levels_at(self, t):
        idx = np.searchsorted(np.asarray(self._edge_ns), t, side="right")
        table = np.concatenate([[1], np.asarray(self._edge_level, dtype=np.uint8)])
        return table[idx].astype(np.uint8)

    def _advance(self, now_ns: float) -> None:
        with self._lock:
            if self._streaming:
                self._produced = max(self._produced,
                                     int((now_ns - self._t0_ns) * self.rate / 1e9))

    def settle(self) -> None:
        """Bring the stream up to the DUT's present time (the driver calls it at stop)."""
        if self._now_ns is not None:
            self._advance(float(self._now_ns()))

    # -- the joulescope device API subset --------------------------------------

    def open(self, *args, **kwargs) -> None:
        self.opened = True

    def close(self, *args, **kwargs) -> None:
        self.opened = False
        self._streaming = False

    def info(self) -> dict:
        return {"fw": "simulator", "model": self.model}

    def parameter_set(self, name, value) -> None:
        if name == "sampling_frequency":
            if int(value) not in RATES:
                raise ValueError(f"sampling_frequency {value} not in {RATES}")
            self.rate = int(value)
        elif name in PARAMETERS and value not in PARAMETERS[name]:
            raise ValueError(f"{name}: {value!r} not in {PARAMETERS[name]}")
        self.params[name] = value

    def parameter_get(self, name):
        return self.params.get(name)

    def start(self, stop_fn=None, duration=None, contiguous_duration=None) -> None:
        if not self.opened:
            raise RuntimeError("device not open")
        if self.params.get("sensor_power") != "on":
            raise RuntimeError("sensor_power is off")
        with self._lock:
            self._t0_ns = float(self._now_ns()) if self._now_ns else 0.0
            self._produced = 0
            self._streaming = True

    def stop(self) -> bool:
        with self._lock:
            was, self._streaming = self._streaming, False
        return was
