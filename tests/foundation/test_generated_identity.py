"""Reshaping the generator must not change what it writes.

tests/foundation/data/generated_sources.json holds the sha256 of every file
the port generator writes (src/, SConstruct, Makefile) for the committed
models on disco_l475vg_iot01a, mps2_an386 and host, recorded with the
tinygen of commit 4ab7aab (before the engine contract and the typed
manifest). benchmarks/image_identity.py --against COMMIT compares the
compiled images as well. A change meant to alter the generated code
records the digests again:

    .venv/bin/python benchmarks/image_identity.py --sources-only \\
        --record tests/foundation/data/generated_sources.json
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).parent / "data" / "generated_sources.json"


def _identity_script():
    spec = importlib.util.spec_from_file_location("image_identity",
                                                  ROOT / "benchmarks" / "image_identity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_sources_are_byte_identical_to_the_recorded_ones(tmp_path):
    identity = _identity_script()
    recorded = json.loads(RECORDED.read_text())
    now = identity.run_worker(list(identity.BOARDS), list(identity.BENCHES), tmp_path,
                              sources_only=True, jobs=1)
    assert set(now) == set(recorded) and len(now) == 12
    lines = identity.compare(recorded, now)
    assert all(": identical (" in line for line in lines), "\n".join(lines)
