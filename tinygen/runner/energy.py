"""The MLPerf Tiny energy procedure over an interfaced DUT and an energy monitor.

Same windows as performance: for each of 5 stimuli, download it (26
bytes per db line through the interface board), then ``infer N W`` with N
chosen so that the timed window lasts >= 10 s and holds >= 10
inferences. The DUT pulls its timestamp pin low before and after the
timed inferences; the monitor marks both as events. The window's energy is
the sum of the samples between the last two events, its time their
distance; energy per inference = energy / N; the score is the median of
the windows' uJ per inference ("Median energy cost is X uJ/inf.").

The DUT gives no clock in energy mode: the timing run that sizes N uses
the monitor's own event times. Each window keeps its raw samples
(``energy_window_<i>.csv``) and a trace picture with the events marked
(``energy_window_<i>.png``) in the session folder.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from tinygen.benches import Benchmark
from tinygen.device.emon import EnergyCapture
from tinygen.device.session import DutSession
from tinygen.errors import TinygenError
from tinygen.port.manifest import locate_build, read_manifest
from tinygen.runner.dataset import Stimulus
from tinygen.runner.record import SessionRecord

log = logging.getLogger(__name__)

OFFICIAL_SECONDS = 10.0
OFFICIAL_INFERENCES = 10
OFFICIAL_WINDOWS = 5
HOST_SLACK = 10.0          # infer timeout: this many times the host time measured so far


@dataclass(frozen=True)
class EnergyConfig:
    min_seconds: float = OFFICIAL_SECONDS
    min_inferences: int = OFFICIAL_INFERENCES
    warmup: int = 10
    voltage: float = 3.3
    calibrate_seconds: float = 0.5   # the timing run lasts at least this (monitor time)
    max_inferences: int = 10_000_000
    simulated: bool = False          # the monitor is a simulator: say so everywhere


def performance_firmware_check(dut: DutSession) -> None:
    """Energy-mode firmware prints no time for 'timestamp': refuse one that does."""
    lines = dut.command("timestamp")
    laps = [ln for ln in lines if ln.startswith("m-lap-us-")]
    if laps:
        raise TinygenError(
            f"the DUT runs performance-mode firmware (it answered 'timestamp' with {laps[0]}, "
            "energy-mode firmware pulls its timestamp pin instead); build and flash it with "
            "--mode energy (tinygen build ... --mode energy)")


def _capture_window(dut: DutSession, monitor, count: int, warmup: int,
                    timeout: float) -> tuple[EnergyCapture, Any]:
    monitor.start()
    try:
        result = dut.infer(count, warmup, timeout=timeout)
    finally:
        capture = monitor.stop()
    return capture, result


def check_events(capture: EnergyCapture, what: str) -> None:
    capture.window()  # raises TooFewTimestamps
    if len(capture.events) != 2:
        raise TinygenError(
            f"{what}: the {capture.monitor} saw {len(capture.events)} timestamp events, expected "
            "2 consecutive ones (one before and one after the timed inferences); check that "
            "nothing else drives the timestamp pin and that the firmware pulses it only in "
            "th_timestamp")


def run_energy(dut: DutSession, monitor, bench: Benchmark, stimuli: list[Stimulus],
               record: SessionRecord, cfg: EnergyConfig = EnergyConfig(),
               base_timeout: float = 20.0, estimate: dict | None = None) -> dict[str, Any]:
    """Median uJ per inference over one window per stimulus (normally 5)."""
    energy: dict[str, Any] = {
        "monitor": monitor.name, "monitor_version": getattr(monitor, "version", None),
        "simulated": cfg.simulated, "voltage": cfg.voltage,
        "min_seconds": cfg.min_seconds, "min_inferences": cfg.min_inferences,
        "warmup": cfg.warmup, "stimuli": len(stimuli), "windows": [],
    }
    if estimate:
        energy["estimate"] = estimate
    record.data["energy"] = energy
    s_per = None
    host_per = base_timeout
    for i, stim in enumerate(stimuli, start=1):
        record.note(f"energy window {i} of {len(stimuli)}: {stim.name}")
        dut.load(stim.data)
        if s_per is None:
            s_per, host_per = _calibrate(dut, monitor, cfg, base_timeout)
            energy["calibration_s_per_inference"] = s_per
            log.info("timing run: %.3f ms per inference (monitor events)", s_per * 1e3)
        count = _count(cfg, s_per)
        for _attempt in range(3):
            # Generous: an emulated DUT on a busy machine slows down by several
            # times between the short timing run and the long window.
            timeout = base_timeout + HOST_SLACK * host_per * (count + cfg.warmup)
            capture, result = _capture_window(dut, monitor, count, cfg.warmup, timeout)
            host_per = max(result.host_seconds / (count + cfg.warmup), 1e-6)
            check_events(capture, f"window {i}")
            seconds = capture.window_seconds()
            if seconds >= cfg.min_seconds or count >= cfg.max_inferences:
                break
            s_per = seconds / count
            count = _count(cfg, s_per * 0.95)
        window = _window(i, stim, capture, count, result.values)
        window.update(_save_window(record.folder, i, capture, window, cfg.simulated))
        energy["windows"].append(window)
        _summarise(energy, cfg)
        record.save()
        log.info("energy window %d of %d: %.3f uJ/inf over %.3f s", i, len(stimuli),
                 window["uj_per_inference"], window["seconds"])
    return energy


def _calibrate(dut, monitor, cfg: EnergyConfig, base_timeout: float) -> tuple[float, float]:
    n = 1
    host_per = base_timeout
    target = min(cfg.calibrate_seconds, cfg.min_seconds / 4)
    while True:
        capture, result = _capture_window(dut, monitor, n, 0,
                                          base_timeout + HOST_SLACK * host_per * n)
        check_events(capture, "timing run")
        host_per = max(result.host_seconds / n, 1e-6)
        seconds = capture.window_seconds()
        if seconds >= target or n >= cfg.max_inferences:
            return max(seconds, capture.period_s) / n, host_per
        grow = target / max(seconds, capture.period_s)
        n = min(cfg.max_inferences, max(n * 2, math.ceil(n * min(grow * 1.2, 100))))


def _count(cfg: EnergyConfig, s_per: float) -> int:
    n = math.ceil(cfg.min_seconds / s_per * 1.05)
    return int(min(cfg.max_inferences, max(cfg.min_inferences, n)))


def _window(i: int, stim: Stimulus, capture: EnergyCapture, count: int,
            values: list[float]) -> dict[str, Any]:
    joules = capture.window_energy_j()
    seconds = capture.window_seconds()
    start, end = capture.window()
    return {
        "window": i, "stimulus": stim.name, "count": count,
        "energy_j": joules, "seconds": seconds,
        "power_w": joules / seconds if seconds > 0 else None,
        "uj_per_inference": joules / count * 1e6,
        "events": list(capture.events), "samples": len(capture.samples_j),
        "event_samples": [start, end], "sample_period_s": capture.period_s,
        "values": values,
    }


def _summarise(energy: dict[str, Any], cfg: EnergyConfig) -> None:
    per = [w["uj_per_inference"] for w in energy["windows"]]
    energy["median_uj_per_inference"] = median(per)
    windows = energy["windows"]
    validity = {
        "windows": len(windows),
        "five_windows": len(windows) >= OFFICIAL_WINDOWS,
        "ten_seconds": all(w["seconds"] >= OFFICIAL_SECONDS for w in windows),
        "ten_inferences": all(w["count"] >= OFFICIAL_INFERENCES for w in windows),
        "consecutive_events": all(len(w["events"]) == 2 for w in windows),
        "real_instruments": not cfg.simulated,
    }
    validity["valid"] = all(v for k, v in validity.items() if k != "windows")
    energy["validity"] = validity


def validity_text(validity: dict[str, Any]) -> str:
    if validity.get("valid"):
        return "valid for submission (5 windows, each >= 10 s and >= 10 inferences, 2 events)"
    why = []
    if not validity.get("five_windows"):
        why.append(f"{validity.get('windows', 0)} of 5 windows")
    if not validity.get("ten_seconds"):
        why.append("a window shorter than 10 s")
    if not validity.get("ten_inferences"):
        why.append("a window with fewer than 10 inferences")
    if not validity.get("consecutive_events"):
        why.append("events not consecutive")
    if not validity.get("real_instruments"):
        why.append("simulated instruments")
    return "NOT valid for submission: " + ", ".join(why)


def _save_window(folder: Path, i: int, capture: EnergyCapture, window: dict[str, Any],
                 simulated: bool) -> dict[str, str]:
    csv_path = folder / f"energy_window_{i}.csv"
    with open(csv_path, "w", encoding="utf-8") as out:
        out.write(f"# {capture.monitor}{' (simulated)' if simulated else ''}: energy per "
                  f"sample of {capture.period_s:g} s; events at samples "
                  f"{' '.join(map(str, capture.events))}\n")
        out.write("sample,time_s,energy_j\n")
        for k, e in enumerate(capture.samples_j):
            out.write(f"{k},{k * capture.period_s:.6f},{e:.6e}\n")
    png_path = folder / f"energy_window_{i}.png"
    plot_window(png_path, capture, window, simulated)
    return {"samples_csv": csv_path.name, "trace_png": png_path.name}


def plot_window(path: Path, capture: EnergyCapture, window: dict[str, Any],
                simulated: bool) -> None:
    """Power over time with the timestamp events marked, as the official viewer."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    period = capture.period_s
    t = [k * period for k in range(len(capture.samples_j))]
    p_mw = [e / period * 1e3 for e in capture.samples_j]
    fig = Figure(figsize=(9, 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(t, p_mw, lw=0.8, color="tab:blue", label="power")
    start, end = window["event_samples"]
    ax.axvspan(start * period, end * period, color="tab:green", alpha=0.12,
               label=f"timed window: {window['count']} inferences")
    for n, ev in enumerate(capture.events, start=1):
        ax.axvline(ev * period, color="tab:red", lw=1.2, ls="--",
                   label="timestamp events" if n == 1 else None)
        ax.annotate(f"event {n}", (ev * period, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", color="tab:red", fontsize=8)
    ax.set_xlabel(f"time since start of acquisition (s){' - DUT virtual time' if simulated else ''}")
    ax.set_ylabel("power (mW)")
    label = " (SIMULATED monitor)" if simulated else ""
    ax.set_title(f"Energy window {window['window']} ({window['stimulus']}){label}: "
                 f"{window['uj_per_inference']:.3f} uJ/inf, {window['seconds']:.3f} s, "
                 f"{(window['power_w'] or 0) * 1e3:.3f} mW", fontsize=9)
    top = max(p_mw) if p_mw else 1.0
    ax.set_ylim(0, top * 1.25 if top > 0 else 1.0)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def estimated_energy(board, s_per_inference: float, voltage: float | None = None,
                     cycles: dict | None = None, emulated: bool = False) -> dict | None:
    """An *estimate* from the board's power: block (datasheet run current).

    In an ``emulated`` run ``s_per_inference`` is virtual time (instructions);
    ``cycles`` (tinygen.runner.cycles.board_figures of the same firmware)
    turns it into the real board's estimated time first. Without it an
    emulated run gets no estimate: virtual seconds are not board seconds.
    """
    power = board.power
    if power is None or not s_per_inference or (emulated and not cycles):
        return None
    seconds, how = s_per_inference, ""
    if emulated:
        from tinygen.runner.cycles import board_seconds

        instructions = s_per_inference * 1e9 / 2 ** board.emulator.icount_shift
        seconds = board_seconds(instructions, cycles, board.clock_hz)[0]
        how = (f" (estimated cycles: {instructions / 1e6:.3f} M emulated instructions x "
               f"{cycles['cycles_per_instruction']:.2f} cycles per instruction, "
               f"{cycles['core']} timings, zero flash wait states)")
    volts = voltage or power.supply_v
    watts = power.run_ua_per_mhz * 1e-6 * board.clock_hz / 1e6 * volts
    return {
        "estimated_uj_per_inference": watts * seconds * 1e6,
        "estimated_power_w": watts, "seconds_per_inference": seconds,
        "basis": (f"estimated: {power.run_ua_per_mhz:g} uA/MHz x {board.clock_hz / 1e6:g} MHz x "
                  f"{volts:g} V (board power: block) x {seconds * 1e3:.3f} ms per "
                  f"inference{how}"),
    }


def energy_summary_lines(energy: dict[str, Any]) -> list[str]:
    """The results.txt block for an energy run."""
    out: list[str] = []
    sim = " (SIMULATED monitor: energy is a model, not a measurement)" if energy.get("simulated") else ""
    out.append(f"Energy monitor: {energy.get('monitor')}{sim}, supply {energy.get('voltage'):g} V")
    for w in energy.get("windows", []):
        out.append(f"Energy results for window {w['window']} ({w['stimulus']}):")
        out.append(f"  # Inferences : {w['count']:>12d}")
        out.append(f"  Runtime      : {w['seconds']:>12.3f} sec.")
        out.append(f"  Energy       : {w['energy_j'] * 1e6:>12.3f} uJ")
        out.append(f"  Power        : {(w['power_w'] or 0) * 1e3:>12.3f} mW")
        out.append(f"  Energy/Inf.  : {w['uj_per_inference']:>12.3f} uJ/inf.")
    # The official "Median energy cost is ..." line is written once, at the top
    # of results.txt (record.official_lines); nothing here may match it.
    if energy.get("median_uj_per_inference") is not None:
        out.append(f"Median of {len(energy.get('windows', []))} windows: "
                   f"{energy['median_uj_per_inference']:.3f} uJ per inference"
                   + (" (simulated)" if energy.get("simulated") else ""))
    if energy.get("validity"):
        out.append("Energy windows: " + validity_text(energy["validity"]) + ".")
    est = energy.get("estimate")
    if est:
        out.append(f"Estimated energy (not measured): {est['estimated_uj_per_inference']:.3f} "
                   f"uJ/inf. ({est['basis']}).")
    return out


# -- reaching the bench: simulated around an emulated DUT, or real instruments --


def find_energy_build(board, bench: Benchmark | None, build: Path | None) -> Path:
    """--build, else build/<board>-<bench>-energy, else the only energy build."""
    folder = locate_build(board, bench, build, "energy")
    manifest = read_manifest(folder)
    mode = manifest.mode
    if mode != "energy":
        raise TinygenError(
            f"{folder} holds {mode}-mode firmware, which prints its timestamps as text and "
            "keeps the timestamp pin still; build it with --mode energy "
            f"(tinygen build --board {board.name} --bench B --mode energy)")
    built = manifest.benchmark
    if bench is not None and built is not None and built.id != bench.id:
        raise TinygenError(f"{folder} holds a {built.id} build, not {bench.id}; pass the "
                           "matching --build or --bench")
    return folder


@dataclass
class EnergyBench:
    dut: Any
    monitor: Any
    simulated: bool
    bench: Any = None          # the SimulatedBench, when simulated


def open_energy_bench(board, build_dir: Path | None, *, emon: str, emon_port: str | None,
                      interface: str, interface_port: str | None, record: SessionRecord,
                      voltage: float, timeout: float = 10.0, chunk_bytes: int | None = None,
                      sim_options: dict | None = None):
    """A context manager giving an EnergyBench: monitor set up and powering the
    DUT, the DUT answering through the interface board."""
    import contextlib

    from tinygen.device.emon import open_monitor
    from tinygen.device.iface import InterfacedDutSession

    @contextlib.contextmanager
    def _bench():
        with contextlib.ExitStack() as stack:
            simulated = interface_port is None and emon_port is None and board.is_emulated
            sim = None
            if simulated:
                from tinygen.device.sim.bench import simulated_bench
                if build_dir is None:
                    raise TinygenError(f"{board.name} needs its energy build folder; pass --build")
                sim = stack.enter_context(simulated_bench(
                    board, build_dir, emon, interface, log_path=record.folder / "dut.log",
                    voltage=voltage, **(sim_options or {})))
                iface_url, mon_url, device = sim.interface_url, sim.emon_url, sim.emon_device
                record.note(f"SIMULATED bench: interface board {interface} and {emon} are "
                            "simulators driven by the emulated DUT's timestamp pin")
            else:
                iface_url = interface_port or _find_interface(interface)
                mon_url, device = emon_port, None
            monitor = open_monitor(emon, mon_url, transcript=record.transcript, device=device,
                                   timeout=timeout)
            stack.enter_context(monitor)
            monitor.setup(voltage)
            monitor.power_on()
            record.data["emon"] = {"kind": emon, "port": mon_url or str(device),
                                   "version": getattr(monitor, "version", None),
                                   "simulated": simulated}
            dut = InterfacedDutSession(iface_url, timeout, kind=interface,
                                       transcript=record.transcript,
                                       **({"chunk_bytes": chunk_bytes} if chunk_bytes else {}))
            stack.enter_context(dut)
            banner = dut.wait_ready(timeout=max(timeout, 5.0))
            if "m-timestamp-mode-performance" in banner:
                raise TinygenError("the DUT's banner says m-timestamp-mode-performance: it runs "
                                   "performance-mode firmware; build and flash it with --mode energy")
            record.data["interface"] = {"kind": interface, "port": iface_url,
                                        "name": dut.board_name, "simulated": simulated}
            performance_firmware_check(dut)
            # The banner may not come through the board; 'timestamp' answered
            # without a time, which only energy-mode firmware does.
            record.data["timestamp_mode"] = "energy"
            yield EnergyBench(dut, monitor, simulated, sim)

    return _bench()


def _find_interface(kind: str) -> str:
    from tinygen.device.iface import USB_IDS
    from tinygen.device.ports import matching_ports
    found = matching_ports(USB_IDS[kind])
    if len(found) == 1:
        return found[0]
    raise TinygenError(f"{'no' if not found else 'several'} {kind} interface board port(s) found; "
                       "pass --interface-port (e.g. /dev/ttyACM1)")
