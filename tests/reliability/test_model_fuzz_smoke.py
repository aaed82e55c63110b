"""The CI smoke campaign of the model-file fuzzer (benchmarks/fuzz_models.py, issue 25).

A few hundred structure-aware mutants of the committed models, fixed seed,
through what inspect and build do before the C compiler: every one must be
refused in one line or accepted, with no traceback, hang or signal; a few
accepted ones are compiled for the host and must be bit-exact with TFLM.
The long campaign is a benchmark:
    .venv/bin/python benchmarks/fuzz_models.py --mutants 100000 --workers 2 --build-every 50
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE_MUTANTS = 300
SMOKE_SEED = 1

pytest.importorskip("tflite_micro")


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("tinygen_bench_fuzz_models",
                                                  ROOT / "benchmarks" / "fuzz_models.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fuzz = _fuzz_module()


def test_smoke_campaign_finds_nothing():
    camp = fuzz.run_campaign(SMOKE_MUTANTS, seed=SMOKE_SEED, workers=1, build_every=25,
                             inputs=2)
    assert camp.clean, fuzz.report(camp, SMOKE_SEED)
    assert camp.mutants == SMOKE_MUTANTS
    assert camp.outcomes["refused"] + camp.outcomes["accepted"] == SMOKE_MUTANTS
    # Both answers occur, and the accepted ones that were built match TFLM.
    assert camp.outcomes["refused"] > SMOKE_MUTANTS // 3 and camp.outcomes["accepted"] > 10
    assert camp.builds["bit-exact"] >= 2, fuzz.report(camp, SMOKE_SEED)


def test_mutants_are_reproducible_by_index():
    mutator = fuzz.Mutator()
    assert mutator.mutant(SMOKE_SEED, 17) == mutator.mutant(SMOKE_SEED, 17)
    assert mutator.mutant(SMOKE_SEED, 17)[0] != mutator.mutant(SMOKE_SEED, 18)[0]


def test_the_classifier_tells_refusals_tracebacks_and_hangs_apart(tmp_path, monkeypatch):
    """The campaign's instrument is live: each outcome is recognised."""
    good = ROOT / "models" / "kws01.tflite"
    assert fuzz.classify(good, timeout=60) == ("accepted", "")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model")
    assert fuzz.classify(junk, timeout=60)[0] == "refused"
    assert fuzz.classify(ROOT / "models" / "vww01.tflite", timeout=0.001)[0] == "hang"
    import tinygen.plan

    def broken(*args, **kwargs):
        raise KeyError(9)

    monkeypatch.setattr(tinygen.plan, "plan_model", broken)
    outcome, detail = fuzz.classify(good, timeout=60)
    assert outcome == "traceback" and detail.startswith("KeyError")
