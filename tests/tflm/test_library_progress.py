"""The TFLM library build reports progress while it compiles (a first build
of a tree takes minutes and printed nothing before).

The build runs SCons with one 'CC src' / 'CXX src' line per compiled source;
a shell script printing such lines stands in for it here (a real library
build takes minutes on a loaded machine; tests/tflm/test_runtime.py runs it).
"""

from __future__ import annotations

import logging
import subprocess

import pytest

from tinygen.port import tflm

SCONS_LIKE = "echo 'CXX a.cc'; sleep 0.5; echo 'CC b.c'; sleep 0.5; echo 'AR lib.a'; sleep 0.5"


def test_build_output_is_counted_into_progress_lines(monkeypatch, caplog):
    monkeypatch.setattr(tflm, "PROGRESS_EVERY_S", 0.2)
    with caplog.at_level(logging.INFO, logger="tinygen.port.tflm"):
        code, output = tflm._run_with_progress(["sh", "-c", SCONS_LIKE], 2, timeout=60)
    assert code == 0 and output == "CXX a.cc\nCC b.c\nAR lib.a\n"
    progress = [r.getMessage() for r in caplog.records if "sources compiled" in r.getMessage()]
    assert progress[0].startswith("TFLM library: 0 of 2 sources compiled") or \
        progress[0].startswith("TFLM library: 1 of 2 sources compiled")
    assert progress[-1].startswith("TFLM library: 2 of 2 sources compiled")


def test_a_build_past_its_timeout_is_stopped(monkeypatch):
    monkeypatch.setattr(tflm, "PROGRESS_EVERY_S", 0.1)
    with pytest.raises(subprocess.TimeoutExpired):
        tflm._run_with_progress(["sh", "-c", "exec sleep 30"], 1, timeout=0.3)
