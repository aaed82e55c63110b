"""The CLI teaches through --help and fails on one line, without a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tinygen.cli import build_parser


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen", *args],
                          capture_output=True, text=True, timeout=120)


def test_top_level_help_shows_typical_use():
    proc = _run("--help")
    assert proc.returncode == 0
    assert "tinygen verify --board disco_l475vg_iot01a --bench kws" in proc.stdout


@pytest.mark.parametrize("command", sorted(build_parser()._subparsers._group_actions[0].choices))
def test_every_command_has_help_with_a_description(command):
    proc = _run(command, "--help")
    assert proc.returncode == 0, proc.stderr
    usage, _, rest = proc.stdout.partition("\n\n")
    assert f"tinygen {command}" in usage and len(rest.split()) > 10


def test_user_error_is_one_line_and_exit_1():
    proc = _run("boards", "--check", "/nonexistent/board.yaml")
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("tinygen: error: ")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
