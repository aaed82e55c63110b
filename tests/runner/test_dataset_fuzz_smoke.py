"""The CI smoke campaign of the dataset fuzzer (benchmarks/fuzz_datasets.py, issue 25).

Mutants of kws01, vww01, ic01 and ad01 datasets (labels rows, stimulus files,
FIFOs, links, NaN floats, oversized labels), fixed seed, through what
`tinygen run --dataset` does before the DUT: each must be read whole and
right or refused in one line; no traceback, no hang. The long campaign:
    .venv/bin/python benchmarks/fuzz_datasets.py --mutants 100000 --seed 1
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMOKE_MUTANTS = 300
SMOKE_SEED = 1


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("tinygen_bench_fuzz_datasets",
                                                  ROOT / "benchmarks" / "fuzz_datasets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fuzz = _fuzz_module()


def test_smoke_campaign_finds_nothing():
    counts, found = fuzz.campaign(SMOKE_MUTANTS, SMOKE_SEED)
    assert not found, found
    assert sum(counts.values()) == SMOKE_MUTANTS
    # Both answers occur: the instrument sees accepted sets and refusals.
    assert counts["ok"] > 10 and counts["refused"] > SMOKE_MUTANTS // 2, counts


def test_dataset_mutants_are_reproducible_by_index(tmp_path):
    seeds = fuzz.make_seeds(tmp_path / "seeds")
    first = fuzz.one(seeds, tmp_path / "m", SMOKE_SEED, 17)
    again = fuzz.one(seeds, tmp_path / "m", SMOKE_SEED, 17)
    assert first[0] == again[0] and first[2] == again[2]


def test_the_checker_tells_refusals_and_wrong_stimuli_apart(tmp_path):
    """The campaign's instrument is live: a good set is ok, a broken one refused."""
    seeds = fuzz.make_seeds(tmp_path / "seeds")
    assert fuzz.check("kws01", seeds["kws01"]) == ("ok", "")
    (seeds["kws01"] / "kws01" / "stim_000.bin").write_bytes(b"short")
    outcome, detail = fuzz.check("kws01", seeds["kws01"])
    assert outcome == "refused" and "stim_000.bin has 5 bytes" in detail
