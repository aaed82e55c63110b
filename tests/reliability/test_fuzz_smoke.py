"""The CI smoke campaign of the harness fuzz target (benchmarks/fuzz.py).

Builds the libFuzzer target (real harness, real generated port, real kernels,
ASan + UBSan) for kws01, vww01 and ad01 and runs a short campaign with a
fixed seed from the seed corpus alone; it must end with no crash, leak,
sanitizer report or hang. The long campaign is a benchmark:
    .venv/bin/python benchmarks/fuzz.py --runs 3400000
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE_RUNS = 2000
SMOKE_SEED = 1


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("tinygen_bench_fuzz",
                                                  ROOT / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _have_libfuzzer() -> bool:
    clang = shutil.which("clang")
    if clang is None:
        return False
    probe = subprocess.run([clang, "-print-file-name=libclang_rt.fuzzer-x86_64.a"],
                           capture_output=True, text=True, timeout=30)
    return Path(probe.stdout.strip()).is_file()


pytestmark = pytest.mark.skipif(not _have_libfuzzer(),
                                reason="needs clang with libFuzzer (scripts/setup.sh --dev: "
                                       "clang, libclang-rt-dev)")

fuzz = _fuzz_module()


@pytest.fixture(scope="module")
def fuzzers(tmp_path_factory):
    made = {}

    def get(port: str) -> tuple[Path, Path]:
        if port not in made:
            work = tmp_path_factory.mktemp(f"fuzz-{port}")
            made[port] = (fuzz.build_fuzzer(port, work), work)
        return made[port]

    return get


@pytest.mark.parametrize("port", fuzz.DEFAULT_PORTS)
def test_smoke_campaign_finds_nothing(port, fuzzers):
    binary, work = fuzzers(port)
    result = fuzz.run_campaign(port, binary, work, runs=SMOKE_RUNS, seed=SMOKE_SEED,
                               fresh=True, timeout=120)
    assert result.clean, (result.findings, result.reports, Path(result.log).read_text()[-3000:])
    assert result.executions == SMOKE_RUNS
    assert 0 < result.edges_covered <= result.edges_total


def test_long_run_by_design_is_bounded_by_the_fuzzing_platform(fuzzers):
    """infer 1000000000 0 is valid; the platform ends that input, it does not hang."""
    binary, work = fuzzers("ad01")
    session = work / "long-run.txt"
    session.write_bytes(b"name%infer 1000000000 0%name%")
    done = subprocess.run([str(binary), str(session)], capture_output=True, text=True,
                          timeout=60, env={"TG_FUZZ_STATS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "inputs 1, bounded by the inference budget 1" in done.stderr


def test_protocol_checker_traps_on_a_broken_promise(fuzzers, tmp_path):
    """The target's own checks are live: a seed run reports no violation, and
    every seed of the corpus runs clean through the ASan/UBSan build."""
    binary, _ = fuzzers("kws01")
    seeds = sorted((ROOT / "firmware" / "fuzz" / "seeds").iterdir())
    assert len(seeds) >= 8
    done = subprocess.run([str(binary), *map(str, seeds)], capture_output=True, text=True,
                          timeout=120, env={"TG_FUZZ_STATS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"inputs {len(seeds)}," in done.stderr
    assert "protocol violation" not in done.stderr
