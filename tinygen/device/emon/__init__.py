"""Energy monitors: the instruments that power the DUT and sample its energy.

Each driver (``lpm01a.Lpm01a``, ``joulescope.Joulescope``) is the one a user
runs against the real instrument; CI runs the same drivers against the
simulators in ``tinygen.device.sim``. A driver hands back one
``EnergyCapture`` per acquisition: energy per sample period and the sample
positions at which the DUT's timestamp pin fell.
"""

from __future__ import annotations

from tinygen.device.emon.base import (DEFAULT_SUPPLY_V, MONITORS, EnergyCapture,
                                      EnergyMonitorError, TooFewTimestamps, supply_voltage)
from tinygen.device.emon.joulescope import Joulescope
from tinygen.device.emon.lpm01a import Lpm01a, find_lpm01a_port

__all__ = ["DEFAULT_SUPPLY_V", "MONITORS", "EnergyCapture", "EnergyMonitorError", "Joulescope",
           "Lpm01a", "TooFewTimestamps", "open_monitor", "supply_voltage"]


def open_monitor(kind: str, port: str | None, *, transcript=None, device=None,
                 timeout: float = 5.0):
    """A driver for ``kind`` (lpm01a, js220, js110), not yet opened."""
    if kind == "lpm01a":
        return Lpm01a(port or find_lpm01a_port(), timeout=timeout, transcript=transcript)
    if kind in ("js220", "js110"):
        return Joulescope(kind, serial=port, device=device, timeout=timeout)
    raise EnergyMonitorError(f"unknown energy monitor '{kind}'; use one of {', '.join(MONITORS)}")
