"""tinygen doctor finds the real tools, and names the fix when one is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tinygen.errors import TinygenError
from tinygen.toolchain import require_tool


def _doctor(env_path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_path is not None:
        env["PATH"] = env_path
    return subprocess.run([sys.executable, "-m", "tinygen", "doctor", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_doctor_passes_on_a_set_up_machine():
    proc = _doctor()
    report = json.loads(proc.stdout)
    by_name = {c["name"]: c for c in report["checks"]}
    assert proc.returncode == 0, proc.stdout
    assert by_name["qemu-system-arm"]["ok"] and "b-l475e-iot01a" in by_name["qemu-system-arm"]["detail"]
    assert by_name["arm-none-eabi-gcc"]["ok"]


def test_doctor_reports_a_missing_toolchain_with_its_install_command(tmp_path):
    proc = _doctor(env_path=str(tmp_path))  # an empty PATH: no compilers, no QEMU
    report = json.loads(proc.stdout)
    by_name = {c["name"]: c for c in report["checks"]}
    assert proc.returncode == 1 and report["ok"] is False
    assert not by_name["arm-none-eabi-gcc"]["ok"]
    assert "apt-get install gcc-arm-none-eabi" in by_name["arm-none-eabi-gcc"]["fix"]
    assert "bookworm-backports qemu-system-arm" in by_name["qemu-system-arm"]["fix"]


def test_doctor_rejects_an_old_qemu(tmp_path):
    fake_dir = tmp_path / "bin"
    fake_dir.mkdir()
    old = fake_dir / "qemu-system-arm"
    # A real executable reporting Debian 12's own QEMU version.
    old.write_text("#!/bin/sh\necho 'QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7)'\n")
    old.chmod(0o755)
    proc = _doctor(env_path=f"{fake_dir}:{os.environ['PATH']}")
    by_name = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert proc.returncode == 1
    assert "7.2.15" in by_name["qemu-system-arm"]["detail"] and ">= 9" in by_name["qemu-system-arm"]["detail"]


def test_require_tool_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TinygenError, match="apt-get install gcc-arm-none-eabi"):
        require_tool("arm-none-eabi-gcc")
