"""Finding the external tools tinygen drives, with install hints.

`tinygen doctor` reports on all of them; later stages call `require_tool`
so that a missing tool fails with the same one-line fix.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
from dataclasses import dataclass

from tinygen.errors import TinygenError

QEMU_MIN_MAJOR = 9
SETUP_HINT = "run 'bash scripts/setup.sh' from the tinygen checkout"

INSTALL_HINTS = {
    "arm-none-eabi-gcc": "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi (or " + SETUP_HINT + ")",
    "arm-none-eabi-objcopy": "apt-get install binutils-arm-none-eabi (or " + SETUP_HINT + ")",
    "arm-none-eabi-size": "apt-get install binutils-arm-none-eabi (or " + SETUP_HINT + ")",
    "qemu-system-arm": "on Debian 12: apt-get install -t bookworm-backports qemu-system-arm "
                       "(QEMU >= 9; or " + SETUP_HINT + ")",
    "cc": "apt-get install gcc",
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str          # version or what was found
    fix: str = ""        # how to fix when not ok
    required: bool = True


def require_tool(name: str) -> str:
    """The path of an executable on PATH, or a TinygenError naming the fix."""
    path = shutil.which(name)
    if path is None:
        hint = INSTALL_HINTS.get(name, SETUP_HINT)
        raise TinygenError(f"'{name}' not found on PATH; install it: {hint}")
    return path


def _version_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not run: {exc}"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "(no version output)"


def qemu_version(path: str) -> tuple[int, int, int] | None:
    m = re.search(r"version (\d+)\.(\d+)\.?(\d*)", _version_line([path, "--version"]))
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def qemu_machines(path: str) -> set[str]:
    try:
        out = subprocess.run([path, "-M", "help"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {line.split()[0] for line in out.splitlines()[1:] if line.strip()}


def check_executable(name: str, required: bool = True) -> Check:
    path = shutil.which(name)
    if path is None:
        return Check(name, False, "not found on PATH", INSTALL_HINTS.get(name, SETUP_HINT), required)
    return Check(name, True, f"{_version_line([path, '--version'])} ({path})", required=required)


def check_newlib() -> Check:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        return Check("newlib (arm)", False, "no arm-none-eabi-gcc to ask",
                     INSTALL_HINTS["arm-none-eabi-gcc"])
    out = subprocess.run(
        [gcc, "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
         "-print-file-name=libc_nano.a"],
        capture_output=True, text=True, timeout=20, check=False,
    ).stdout.strip()
    if out and out != "libc_nano.a":
        return Check("newlib (arm)", True, out)
    return Check("newlib (arm)", False, "libc_nano.a not found",
                 "apt-get install libnewlib-arm-none-eabi")


def check_qemu(machines: tuple[str, ...]) -> Check:
    path = shutil.which("qemu-system-arm")
    if path is None:
        return Check("qemu-system-arm", False, "not found on PATH", INSTALL_HINTS["qemu-system-arm"])
    version = qemu_version(path)
    if version is None or version[0] < QEMU_MIN_MAJOR:
        shown = ".".join(map(str, version)) if version else "unknown"
        return Check("qemu-system-arm", False,
                     f"version {shown} at {path}; emulated boards need >= {QEMU_MIN_MAJOR}",
                     INSTALL_HINTS["qemu-system-arm"])
    have = qemu_machines(path)
    missing = [m for m in machines if m not in have]
    detail = f"{'.'.join(map(str, version))} ({path})"
    if missing:
        return Check("qemu-system-arm", False, f"{detail} lacks machine(s) {', '.join(missing)}",
                     INSTALL_HINTS["qemu-system-arm"])
    return Check("qemu-system-arm", True, f"{detail}, machines: {', '.join(machines)}")


def check_module(module: str, label: str, fix: str, required: bool = True) -> Check:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # a broken install raises more than ImportError
        return Check(label, False, f"cannot import {module}: {exc}", fix, required)
    version = getattr(mod, "__version__", None) or "installed"
    return Check(label, True, str(version), required=required)


def check_distribution(distribution: str, module: str, label: str, fix: str,
                       required: bool = True) -> Check:
    """Presence by package metadata, for packages too slow to import (TensorFlow)."""
    if importlib.util.find_spec(module) is None:
        return Check(label, False, f"{distribution} not installed", fix, required)
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = "installed"
    return Check(label, True, version, required=required)


def check_pyocd_targets(targets: tuple[str, ...]) -> Check:
    """Real boards need pyocd to know their target (built in, or from a pack)."""
    try:
        from pyocd.target import TARGET
        from pyocd.target.pack.pack_target import ManagedPacks
        known = set(TARGET) | {t.part_number.lower() for t in ManagedPacks.get_installed_targets()}
    except Exception as exc:
        return Check("pyocd targets", False, f"cannot ask pyocd: {exc}", "pip install pyocd", False)
    missing = [t for t in targets if t.lower() not in known]
    if missing:
        return Check("pyocd targets", False, f"missing {', '.join(missing)} (needed to flash real boards)",
                     "; ".join(f"pyocd pack install {t}" for t in missing), required=False)
    return Check("pyocd targets", True, ", ".join(targets), required=False)
