"""What the energy monitor drivers share: the capture, the errors, the supply default.

Kept apart from the package's ``open_monitor`` so that the drivers import
it and the package imports the drivers, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tinygen.errors import TinygenError

MONITORS = ("lpm01a", "js220", "js110")
DEFAULT_SUPPLY_V = 3.3   # the DUT's supply when neither --voltage nor its board's power: says


def supply_voltage(board, given: float | None = None) -> float:
    """The DUT's supply in an energy run: ``given`` (--voltage), else the
    board's ``power: supply_v``, else 3.3 V."""
    if given:
        return given
    return board.power.supply_v if board.power is not None else DEFAULT_SUPPLY_V


class EnergyMonitorError(TinygenError):
    """The energy monitor is missing, silent, or refused a command."""


class TooFewTimestamps(TinygenError):
    """An acquisition holds fewer than the two timestamp events a window needs."""


@dataclass
class EnergyCapture:
    """One acquisition: energy per sample and where the timestamp events fell."""

    monitor: str
    period_s: float                  # one sample's integration time
    samples_j: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)   # sample index at each event
    notes: list[str] = field(default_factory=list)    # monitor lines that were not data

    def window(self) -> tuple[int, int]:
        """Sample range between the last two events (the official rule)."""
        if len(self.events) < 2:
            raise TooFewTimestamps(
                f"Too few timestamps: the {self.monitor} saw {len(self.events)} timestamp "
                "event(s) in this window, 2 are needed; check the wire from the DUT's "
                "timestamp pin (Arduino D7) to the monitor's event input and that the DUT "
                "runs energy-mode firmware")
        return self.events[-2], self.events[-1]

    def window_energy_j(self) -> float:
        start, end = self.window()
        return float(sum(self.samples_j[start:end]))

    def window_seconds(self) -> float:
        start, end = self.window()
        return (end - start) * self.period_s
