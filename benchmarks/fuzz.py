#!/usr/bin/env python3
"""Fuzz the benchmark harness with libFuzzer, ASan and UBSan, and print what it found.

For each port (kws01, vww01 and ad01 by default: their th_load_tensor and
th_results differ) this generates the real host port (tinygen's
generate_port), compiles the real harness, the generated
submitter_implemented.c and model.c and the real kernels with clang behind
the fuzzing platform of firmware/fuzz/fuzz_harness.c, and runs a libFuzzer
campaign seeded with firmware/fuzz/seeds/ and the dictionary
firmware/fuzz/harness.dict. It prints, per port: executions, executions per
second, coverage (edges reached of the edges instrumented, and libFuzzer's
features), corpus size, peak memory and the findings (crash, leak,
sanitizer report, timeout, out-of-memory), each with its reproducer file.

A finding makes the exit code 1; Ctrl-C stops the campaign, prints what it did
and exits 130. Reproduce one with
    build/fuzz/<port>/fuzz_harness build/fuzz/<port>/findings/crash-...

usage:
  .venv/bin/python benchmarks/fuzz.py --runs 3400000              # executions per port
  .venv/bin/python benchmarks/fuzz.py --seconds 600 --ports ad01  # a timed campaign
  .venv/bin/python benchmarks/fuzz.py --runs 2000000 --workers 2  # two processes per port
  .venv/bin/python benchmarks/fuzz.py --runs 20000 --seed 1 --fresh   # the CI smoke campaign

Needs clang and libFuzzer (Debian: clang, libclang-rt-dev; scripts/setup.sh --dev).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FUZZ_DIR = ROOT / "firmware" / "fuzz"
TARGET = FUZZ_DIR / "fuzz_harness.c"
SEEDS = FUZZ_DIR / "seeds"
DICTIONARY = FUZZ_DIR / "harness.dict"
DEFAULT_PORTS = ("kws01", "vww01", "ad01")
DEFAULT_WORK = ROOT / "build" / "fuzz"
CLANG = "clang"
# -march=native as the host port's own flags (port/flags.py HOST_SPEED_FLAGS):
# the port's kernel target (portable C or firmware/kernels/host/, whose AVX2
# vectors need it) was chosen for this CPU, so the fuzz target compiles the
# same kernels for it.
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-O2", "-march=native",
          "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
          "-fno-omit-frame-pointer"]
NO_FEEDBACK_CFLAGS = [f for f in CFLAGS if not f.startswith("-fsanitize=")] + [
    "-fsanitize=address,undefined"]
# Runs that take long by design are bounded by the fuzzing platform (see
# fuzz_harness.c); an input that still takes this long is a hang. The limit
# is wall-clock time (libFuzzer's alarm): every input of the seed corpus
# takes under 20 ms of CPU, but on a machine starved of CPU (measured: 99%
# CPU pressure, load 15 on 2 cores) inputs of 17 ms CPU were stalled past
# 10 s and reported as timeouts, so the limit leaves room for that.
INPUT_TIMEOUT_S = 60
MAX_LEN = 4096
FINDING_PREFIXES = ("crash-", "leak-", "timeout-", "oom-", "slow-unit-")

_FINAL = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
_DONE = re.compile(r"#(\d+)\s+(?:DONE|INITED|NEW|REDUCE|pulse)\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
_COUNTERS = re.compile(r"INFO: Loaded \d+ modules\s+\((\d+) inline 8-bit counters\)")
_INTERRUPTED = "libFuzzer: run interrupted"
_PROGRESS = re.compile(r"^fuzz_harness: progress (\d+) inputs", re.M)
PROGRESS_EVERY_S = 60
_SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|"
                        r"protocol violation")


class FuzzError(Exception):
    """The campaign could not be set up (no clang, build failure)."""


@dataclass
class CampaignResult:
    port: str
    executions: int = 0
    exec_per_second: int = 0
    seconds: float = 0.0
    edges_covered: int = 0
    edges_total: int = 0
    features: int = 0
    corpus: int = 0
    peak_rss_mb: int = 0
    exit_code: int = 0
    interrupted: bool = False    # stopped by Ctrl-C / SIGINT before its end
    findings: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    bounded_inputs: int = 0
    log: str = ""

    @property
    def clean(self) -> bool:
        """Ended (or was interrupted) with no finding."""
        return ((self.exit_code == 0 or self.interrupted) and not self.findings
                and not self.reports)


def find_clang() -> str:
    path = shutil.which(CLANG)
    if path is None:
        raise FuzzError("clang not found; install it with 'bash scripts/setup.sh --dev' "
                        "(Debian packages clang and libclang-rt-dev)")
    return path


def build_fuzzer(port_id: str, work: Path, jobs: int = 1) -> Path:
    """Generate the host port of port_id and link the fuzz target; returns its path."""
    from tinygen.benches import get_bench
    from tinygen.port.generate import generate_port

    clang = find_clang()
    bench = get_bench(port_id)
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    port = generate_port("host", bench, model_path=bench.model_path, out_dir=work / "port")
    # The build folder holds its own copies of firmware/ (harness/, platform/, kernels/).
    fw = port.build_dir
    skip = {fw / "harness" / "internally_implemented.c", fw / "harness" / "tg_main.c"}
    platform = fw / "platform"
    sources = [s for s in port.sources
               if s not in skip and platform not in s.parents]
    binary = work / "fuzz_harness"
    includes = [f"-I{d}" for d in port.include_dirs]
    # The kernels and model.c: sanitizers, no coverage feedback (see fuzz_harness.c).
    quiet = [s for s in sources if s.name == "model.c" or (fw / "kernels") in s.parents]
    objects = work / "obj"
    objects.mkdir(exist_ok=True)
    commands = []
    for source in quiet:
        obj = objects / (source.stem + ".o")
        commands.append([clang, *NO_FEEDBACK_CFLAGS, *includes, "-c", str(source), "-o", str(obj)])
    commands.append([clang, *CFLAGS, *includes, "-Wl,--wrap=tg_model_invoke,--wrap=th_load_tensor",
                     str(TARGET), *(str(s) for s in sources if s not in quiet),
                     *(str(objects / (s.stem + ".o")) for s in quiet), "-lm", "-o", str(binary)])
    log_text = ""
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        log_text += " ".join(command) + "\n" + done.stdout + done.stderr
        if done.returncode != 0:
            (work / "build.log").write_text(log_text)
            first = next((ln for ln in done.stderr.splitlines() if "error" in ln),
                         done.stderr[-300:])
            raise FuzzError(f"building the {port_id} fuzz target failed: {first}; "
                            f"see {work / 'build.log'}")
    (work / "build.log").write_text(log_text)
    return binary


def _executions_so_far(log: str) -> int:
    """The most executions the campaign's log shows yet (libFuzzer's #N lines and
    the target's progress lines)."""
    seen = [int(n) for n, *_ in _DONE.findall(log)] + [int(n) for n in _PROGRESS.findall(log)]
    return max(seen, default=0)


def _progress_line(port_id: str, logs: list[str], elapsed: float, runs: int | None,
                   seconds: float | None) -> str:
    done = sum(_executions_so_far(log) for log in logs)
    rate = done / elapsed if elapsed > 0 else 0.0
    cov = [c for log in logs for c in _DONE.findall(log)[-1:]]
    edges = (f", {max(int(c[1]) for c in cov)} edges, corpus {max(int(c[3]) for c in cov)}"
             if cov else "")
    goal_runs = runs * len(logs) if runs else None
    if goal_runs:
        left = (goal_runs - done) / rate if rate > 0 else None
        if seconds:
            left = min(left, seconds - elapsed) if left is not None else seconds - elapsed
        goal = f" of {goal_runs:,}"
    else:
        left, goal = (seconds - elapsed if seconds else None), ""
    eta = f", about {max(0, left) / 60:.0f} min left" if left is not None else ""
    return (f"  {port_id}: {done:,}{goal} executions in {elapsed / 60:.1f} min "
            f"({rate:,.0f}/s{edges}){eta}")


def _run_reporting(commands: list[list[str]], env: dict, log_paths: list[Path], wall: float,
                   port_id: str, runs: int | None, seconds: float | None,
                   every: float) -> tuple[list[str], list[int]]:
    """Runs the libFuzzer workers, each writing to its log, printing a progress line
    every `every` seconds; returns their logs and exit codes (-1: overran wall)."""
    started = time.monotonic()
    outs = [open(path, "w") for path in log_paths]
    try:
        procs = [subprocess.Popen(c, stdout=o, stderr=subprocess.STDOUT, env=env)
                 for c, o in zip(commands, outs)]
        codes: list[int | None] = [None] * len(procs)
        last_report = started
        while any(c is None for c in codes):
            try:
                time.sleep(0.2)
            except KeyboardInterrupt:
                # Ctrl-C: the workers stop too (libFuzzer prints its figures on
                # SIGINT), and what they did is still reported.
                for proc in procs:
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGINT)
                for proc in procs:
                    try:
                        proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=60)
            now = time.monotonic()
            for i, proc in enumerate(procs):
                if codes[i] is None:
                    codes[i] = proc.poll()
                    if codes[i] is None and now - started >= wall:
                        proc.kill()
                        proc.wait(timeout=60)
                        codes[i] = -1
            if every > 0 and now - last_report >= every and any(c is None for c in codes):
                last_report = now
                print(_progress_line(port_id, [p.read_text(errors="replace") for p in log_paths],
                                     now - started, runs, seconds), flush=True)
    finally:
        for o in outs:
            o.close()
    logs = []
    for path, code in zip(log_paths, codes):
        log = path.read_text(errors="replace")
        if code == -1:
            log += f"\nfuzz.py: the campaign itself overran {wall:g} s and was stopped (a hang)\n"
            path.write_text(log)
        logs.append(log)
    return logs, [int(c) for c in codes]


def run_campaign(port_id: str, binary: Path, work: Path, *, runs: int | None = None,
                 seconds: float | None = None, seed: int = 1, fresh: bool = False,
                 timeout: float | None = None, workers: int = 1,
                 progress_every: float = PROGRESS_EVERY_S) -> CampaignResult:
    """One libFuzzer campaign of runs executions (or seconds) per worker; its figures
    and findings. workers > 1 runs that many libFuzzer processes side by side on one
    corpus (seeds seed, seed + 1, ...; each one reads the corpus when it starts and adds
    what it finds); their executions add up. While it runs, a progress line is printed
    every progress_every seconds (0: none)."""
    work = Path(work)
    corpus = work / "corpus"
    findings = work / "findings"
    if fresh:
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(findings, ignore_errors=True)
    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in findings.iterdir()}
    commands = []
    for k in range(max(1, workers)):
        args = [str(binary), f"-seed={seed + k}", f"-max_len={MAX_LEN}",
                f"-timeout={INPUT_TIMEOUT_S}", f"-dict={DICTIONARY}", "-print_final_stats=1",
                "-detect_leaks=1", "-rss_limit_mb=2048", f"-artifact_prefix={findings}/"]
        if runs is not None:
            args.append(f"-runs={runs}")
        if seconds is not None:
            args.append(f"-max_total_time={max(1, int(seconds))}")
        commands.append(args + [str(corpus), str(SEEDS)])
    logs_at = ([work / "campaign.log"] if len(commands) == 1 else
               [work / f"campaign-{k}.log" for k in range(len(commands))])
    env = {"TG_FUZZ_STATS": "1", "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1", "PATH": "/usr/bin:/bin"}
    started = time.monotonic()
    wall = timeout if timeout is not None else (
        (seconds or 0) * 2 + 600 if seconds else 24 * 3600)
    logs, codes = _run_reporting(commands, env, logs_at, wall, port_id, runs, seconds,
                                 progress_every)
    result = CampaignResult(port=port_id, exit_code=next((c for c in codes if c != 0), 0),
                            log=", ".join(str(p) for p in logs_at),
                            seconds=time.monotonic() - started)
    result.interrupted = any(_INTERRUPTED in log for log in logs)
    for log in logs:
        stats = {k: int(v) for k, v in _FINAL.findall(log)}
        result.executions += stats.get("number_of_executed_units", 0)
        result.exec_per_second += stats.get("average_exec_per_sec", 0)
        result.peak_rss_mb = max(result.peak_rss_mb, stats.get("peak_rss_mb", 0))
        progress = _DONE.findall(log)
        if progress:
            _, cov, ft, corp = progress[-1]
            result.edges_covered = max(result.edges_covered, int(cov))
            result.features = max(result.features, int(ft))
            result.corpus = max(result.corpus, int(corp))
        counters = _COUNTERS.search(log)
        result.edges_total = max(result.edges_total, int(counters.group(1)) if counters else 0)
        bounded = re.search(r"bounded by the inference budget (\d+)", log)
        result.bounded_inputs += int(bounded.group(1)) if bounded else 0
        result.reports = sorted(set(result.reports) |
                                {m.group(0) for m in _SANITIZER.finditer(log)})
    result.findings = sorted(str(findings / p.name) for p in findings.iterdir()
                             if p.name not in before and p.name.startswith(FINDING_PREFIXES))
    return result


def print_table(results: list[CampaignResult]) -> None:
    head = (f"{'port':<7} {'executions':>12} {'exec/s':>8} {'edges':>13} {'features':>9} "
            f"{'corpus':>7} {'rss MB':>7} {'bounded':>9}  findings")
    print(head)
    print("-" * len(head))
    for r in results:
        edges = f"{r.edges_covered}/{r.edges_total}"
        found = ", ".join(Path(f).name for f in r.findings) or (
            ("none (interrupted)" if r.interrupted else "none") if r.clean
            else f"exit {r.exit_code}")
        print(f"{r.port:<7} {r.executions:>12,} {r.exec_per_second:>8,} {edges:>13} "
              f"{r.features:>9} {r.corpus:>7} {r.peak_rss_mb:>7} {r.bounded_inputs:>9}  {found}")
        for rep in r.reports:
            print(f"        report: {rep} (see {r.log})")
    total = sum(r.executions for r in results)
    print("-" * len(head))
    verdict = ("no crash, leak, sanitizer report or hang" if all(r.clean for r in results)
               else "FINDINGS above")
    if any(r.interrupted for r in results):
        verdict += " (interrupted before its end)"
    print(f"total   {total:>12,} executions over {len(results)} ports, "
          f"{sum(r.seconds for r in results):.0f} s; {verdict}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="\n".join(__doc__.split("\n\n")[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ports", default=",".join(DEFAULT_PORTS),
                   help="comma-separated model ids (default kws01,vww01,ad01)")
    p.add_argument("--runs", type=int, help="executions per port")
    p.add_argument("--seconds", type=float,
                   help="seconds per port (with --runs: whichever comes first)")
    p.add_argument("--seed", type=int, default=1, help="libFuzzer seed (default 1)")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK,
                   help=f"build and corpus folder (default {DEFAULT_WORK.relative_to(ROOT)})")
    p.add_argument("--fresh", action="store_true",
                   help="start from the seed corpus only (forget earlier campaigns)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--workers", type=int, default=1,
                   help="libFuzzer processes per port, side by side on one corpus (default 1); "
                        "--runs counts per worker")
    p.add_argument("--progress-every", type=float, default=PROGRESS_EVERY_S, metavar="SECONDS",
                   help=f"print a progress line this often (default {PROGRESS_EVERY_S}; 0: never)")
    args = p.parse_args(argv)
    if args.runs is None and args.seconds is None:
        args.runs = 100_000
    results = []
    try:
        for port in [x.strip() for x in args.ports.split(",") if x.strip()]:
            work = args.work / port
            binary = build_fuzzer(port, work)
            print(f"fuzzing {port}: {binary}", flush=True)
            results.append(run_campaign(port, binary, work, runs=args.runs,
                                        seconds=args.seconds, seed=args.seed, fresh=args.fresh,
                                        workers=args.workers,
                                        progress_every=args.progress_every))
            if results[-1].interrupted:
                break
    except FuzzError as exc:
        print(f"fuzz.py: {exc}", file=sys.stderr)
        return 2
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    if not all(r.clean for r in results):
        return 1
    return 130 if any(r.interrupted for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
