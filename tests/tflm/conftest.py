"""Fixtures for the TFLM runtime and external-harness tests.

The TFLM trees come from <repo>/../shared/third_party (pinned exports of
TFLM's create_tflm_tree.py); they are unpacked outside the repository, into
<system temp>/tinygen-tflm-trees/, and the TFLM library cache lives in
<system temp>/tinygen-tflm-cache/, so a second run reuses both. Tests that
need a tree skip, saying why, when the tarballs are absent.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from tinygen.paths import project_root

TREES = {"ref": "tflm-tree-ref-90b983c", "cmsisnn": "tflm-tree-cmsisnn-90b983c"}
HARNESS_DIR = Path(__file__).parent / "api_harness"


def third_party_dir() -> Path:
    """<repo>/../shared/third_party (one level further up from a git worktree)."""
    root = project_root()
    for base in (root.parent, root.parent.parent):
        if (base / "shared" / "third_party").is_dir():
            return base / "shared" / "third_party"
    return root.parent / "shared" / "third_party"


def _unpack(name: str) -> Path:
    tarball = third_party_dir() / f"{name}.tar.gz"
    if not tarball.is_file():
        pytest.skip(f"TFLM tree {tarball} is absent (the pinned trees live in ../shared/third_party)")
    base = Path(tempfile.gettempdir()) / "tinygen-tflm-trees"
    base.mkdir(parents=True, exist_ok=True)
    done = base / f"{name}.unpacked"
    with open(base / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.is_file():
            shutil.rmtree(base / name, ignore_errors=True)
            with tarfile.open(tarball) as tar:
                tar.extractall(base, filter="data")
            done.write_text(str(tarball) + "\n")
    return base / name


@pytest.fixture(scope="session", autouse=True)
def tflm_cache():
    """The library cache under the system temp, shared by every test run here."""
    folder = Path(tempfile.gettempdir()) / "tinygen-tflm-cache"
    old = os.environ.get("TINYGEN_TFLM_CACHE")
    os.environ["TINYGEN_TFLM_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("TINYGEN_TFLM_CACHE", None)
    else:
        os.environ["TINYGEN_TFLM_CACHE"] = old


@pytest.fixture(scope="session")
def ref_tree() -> Path:
    return _unpack(TREES["ref"])


@pytest.fixture(scope="session")
def cmsisnn_tree() -> Path:
    return _unpack(TREES["cmsisnn"])


@pytest.fixture(scope="session")
def tree(request) -> Path:
    return _unpack(TREES[request.param])


def cxx_works(cmd: str, *flags: str) -> bool:
    if shutil.which(cmd) is None:
        return False
    done = subprocess.run([cmd, *flags, "-std=c++17", "-x", "c++", "-fsyntax-only", "-"],
                          input="#include <cstdint>\n#include <new>\n", capture_output=True,
                          text=True, timeout=60, check=False)
    return done.returncode == 0


def need_arm_cxx() -> None:
    if not cxx_works("arm-none-eabi-g++", "-mcpu=cortex-m4", "-mthumb"):
        pytest.skip("arm-none-eabi-g++ with C++ headers is missing "
                    "(apt-get install libstdc++-arm-none-eabi-newlib)")
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is missing (the arena probe and the emulated boards need it)")


def need_host_cxx() -> None:
    if not cxx_works("c++"):
        pytest.skip("a host C++ compiler (g++) is missing: apt-get install g++")


def tinygen(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "tinygen", *args], capture_output=True,
                          text=True, timeout=timeout, check=False, cwd=project_root())
