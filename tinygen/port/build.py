"""Build a firmware image: generate the port, run SCons, report the size.

``build_firmware`` is what ``tinygen build`` and the tests call. The build
runs ``python -m SCons`` from this interpreter (SCons is a dependency),
with arm-none-eabi-gcc for MCU boards or the host's ``cc`` for the host
board, and writes ``size.json`` next to the image.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tinygen.benches import Benchmark
from tinygen.boards import Board
from tinygen.datafile import one_line
from tinygen.errors import TinygenError
from tinygen.port.firmware import _vendor_copy_dir, vendored_parts
from tinygen.port.generate import GeneratedPort, generate_port
from tinygen.port.manifest import read_manifest, write_manifest
from tinygen.port.size import SizeReport, size_report
from tinygen.port.streaming import StreamOptions
from tinygen.render import render
from tinygen.toolchain import require_tool

log = logging.getLogger(__name__)

BUILD_TIMEOUT_S = 900
_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")
_NO_FIT = re.compile(r"section [`'](\S+)' will not fit in region [`'](\w+)'")


@dataclass(frozen=True)
class BuildResult:
    port: GeneratedPort
    build_dir: Path
    image: Path               # firmware.elf (MCU) or the firmware executable (host)
    elf: Path | None
    bin: Path | None
    hex: Path | None
    map: Path
    executable: Path | None
    size: SizeReport
    size_json: Path
    log: Path

    def paths(self) -> dict[str, Path]:
        named = {"elf": self.elf, "bin": self.bin, "hex": self.hex, "map": self.map,
                 "executable": self.executable, "size": self.size_json, "log": self.log}
        return {k: v for k, v in named.items() if v is not None}


def vendor_paths_to_user(output: str, port: GeneratedPort) -> str:
    """Compiler output with the build folder's copies of a vendor's own
    platform files (platform/vendor/<hash>/) named by their real paths, so
    an error points at the file the user edits."""
    platform = port.board.platform
    if platform is None:
        return output
    folders = {p.parent for p in platform.sources} | set(platform.include_dirs)
    for folder in sorted(folders, key=lambda f: -len(str(f))):
        copy = _vendor_copy_dir(folder.resolve())
        for written in (str(Path(port.build_dir) / copy), str(copy)):
            output = output.replace(written + "/", f"{folder}/")
    return output


def _failure(output: str, port: GeneratedPort, log_path: Path) -> TinygenError:
    overflows = _OVERFLOW.findall(output)
    if overflows:
        what = ", ".join(f"{region} by {int(n)} bytes" for region, n in overflows)
        return TinygenError(
            f"the firmware does not fit on {port.board.name}: {what}; use a smaller model, "
            f"--opt Os, or a board with more memory (details in {log_path})"
        )
    no_fit = _NO_FIT.findall(output)
    if no_fit:
        section, region = no_fit[0]
        return TinygenError(f"section {section} does not fit in {region} on {port.board.name}; "
                            f"use a smaller model or a larger board (details in {log_path})")
    # A compiler's own "file:line:col: error:" first (a folder name may hold "error").
    errors = ([line for line in output.splitlines() if ": error:" in line]
              or [line for line in output.splitlines() if "error" in line.lower()])
    first = errors[0].strip() if errors else (output.strip().splitlines() or ["no output"])[-1]
    return TinygenError(f"firmware build failed: {first[:300]}; see {log_path}")


def run_scons(port: GeneratedPort, jobs: int | None = None, timeout: float = BUILD_TIMEOUT_S) -> Path:
    """Run the generated SConstruct; the log goes to build.log."""
    require_tool(port.toolchain.cc)
    if port.toolchain.objcopy:
        require_tool(port.toolchain.objcopy)
    jobs = jobs or os.cpu_count() or 1
    cmd = [sys.executable, "-m", "SCons", "-Q", f"-j{jobs}", "-C", str(port.build_dir)]
    log_path = port.build_dir / "build.log"
    log.info("building in %s", port.build_dir)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise TinygenError(f"the build did not finish within {timeout:g} s; see {log_path} "
                           "and rerun with -v") from exc
    output = vendor_paths_to_user(done.stdout + done.stderr, port)
    log_path.write_text(output)
    if done.returncode != 0:
        if "No module named SCons" in output:
            raise TinygenError("SCons is not installed in this Python; pip install scons "
                               "(or run 'bash scripts/setup.sh')")
        raise _failure(output, port, log_path)
    for line in done.stdout.splitlines():
        log.debug("%s", line)
    return log_path


def build_firmware(board: Board | str, bench: Benchmark | str, model_path: Path | str | None = None,
                   mode: str = "performance", opt: str = "O2",
                   out_dir: Path | str | None = None, jobs: int | None = None, *,
                   profile: bool = False, runtime: str = "tinygen", tflm: Path | str | None = None,
                   harness: Path | str | None = None,
                   stream: StreamOptions | None = None) -> BuildResult:
    """Generate, compile and link one firmware image, and measure it.

    runtime/tflm/harness/stream: see generate_port (TFLM runtime, external
    harness, a streaming benchmark's options).
    """
    port = generate_port(board, bench, model_path=model_path, mode=mode, opt=opt, out_dir=out_dir,
                         profile=profile, runtime=runtime, tflm=tflm, harness=harness, jobs=jobs,
                         stream=stream)
    log_path = run_scons(port, jobs=jobs)
    d = port.build_dir
    map_path = d / "firmware.map"
    if port.is_host:
        image = d / "firmware"
        objdump = require_tool("objdump")
        report = size_report(image, map_path, objdump)
        elf = bin_path = hex_path = None
        executable = image
    else:
        image = d / "firmware.elf"
        objdump = require_tool("arm-none-eabi-objdump")
        report = size_report(image, map_path, objdump,
                             flash_capacity=port.board.flash_bytes, ram_capacity=port.board.ram_bytes,
                             stack_note=port.engine.stack_note)
        elf, bin_path, hex_path, executable = image, d / "firmware.bin", d / "firmware.hex", None
    size_json = d / "size.json"
    size_json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    write_manifest(d, dataclasses.replace(
        read_manifest(d), size={"flash_bytes": report.flash_bytes, "ram_bytes": report.ram_bytes}))
    return BuildResult(port=port, build_dir=d, image=image, elf=elf, bin=bin_path, hex=hex_path,
                       map=map_path, executable=executable, size=report, size_json=size_json,
                       log=log_path)


# What a build folder holds that rebuilds it: the rest (obj/, images, logs,
# size.json) is output.
EXPORT_FILES = ("SConstruct", "Makefile")


def export_build(build_dir: Path | str, dest: Path | str) -> Path:
    """Copy the self-contained part of a build folder to dest.

    dest then rebuilds the same image with only the cross compiler and
    either SCons (python -m SCons -C dest) or make (make -C dest). It must
    not exist or be empty.
    """
    build_dir, dest = Path(build_dir), Path(dest)
    manifest = read_manifest(build_dir)
    folders = ["src"] + [p for p in vendored_parts() if (build_dir / p).is_dir()]
    missing = ([n for n in ("src", "harness") if not (build_dir / n).is_dir()]
               + [n for n in EXPORT_FILES if not (build_dir / n).is_file()])
    if missing:
        raise TinygenError(f"{build_dir} lacks {', '.join(missing)}: it was built by an older "
                           "tinygen; run 'tinygen build' again, then export")
    if not manifest.tools:
        raise TinygenError(f"{build_dir}/build.json names no compiler ('tools' is empty), so the "
                           "export could not say what rebuilds it; run 'tinygen build' again")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise TinygenError(f"{dest} exists and is not empty; export into a new or empty folder")
    # Sources, include folders and linker inputs (e.g. a vendor's linker script).
    named = manifest.sources + manifest.includes + [
        f for f in manifest.ldflags if not f.startswith("-")]
    outside = [p for p in named if Path(p).is_absolute()]
    # Whatever else the build files name by absolute path (e.g. a library in a cache).
    for line in _text_lines(build_dir / "Makefile"):
        if not line.lstrip().startswith("#"):
            outside += [t for t in re.findall(r"(?:^|[\s=])(/[^\s'\"]+)", line) if t not in outside]
    if outside:
        shown = ", ".join(one_line(p, 100) for p in outside[:3])
        raise TinygenError(f"{build_dir} compiles files outside its folder ({shown}"
                           f"{', ...' if len(outside) > 3 else ''}), so an export would not "
                           "rebuild on its own; copy them into the build folder in the generator")
    _check_export_files(build_dir, folders)
    dest.mkdir(parents=True, exist_ok=True)
    for name in folders:
        shutil.copytree(build_dir / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.o", ".*"))
    for name in EXPORT_FILES:
        shutil.copyfile(build_dir / name, dest / name)
    manifest = manifest.exported_copy()
    write_manifest(dest, manifest)
    (dest / "README.md").write_text(render("port/export/README.md.j2",
                                           manifest=manifest, is_host=manifest.board == "host"))
    return dest


MAX_EXPORT_BYTES = 256 * 1024 * 1024    # sources of a firmware; far above any real one


def _text_lines(path: Path) -> list[str]:
    """The lines of a build file, or none when it is not a readable file."""
    try:
        if not path.is_file():
            return []
        with path.open("rb") as f:
            raw = f.read(MAX_EXPORT_BYTES)
    except (OSError, ValueError):
        return []
    return raw.decode("utf-8", errors="replace").splitlines()


def _check_export_files(build_dir: Path, folders: list[str]) -> None:
    """What an export copies must be plain files and folders of a bounded
    size: a symbolic link (possibly a loop), a FIFO or a device in a build
    folder was not put there by tinygen, and the submission checker refuses
    links."""
    total = 0
    for name in folders + list(EXPORT_FILES):
        todo = [build_dir / name]
        for root, dirs, files in os.walk(build_dir / name, followlinks=False):
            todo += [Path(root) / entry for entry in dirs + files]
        for path in todo:
            try:
                info = path.lstat()
            except OSError as exc:
                raise TinygenError(f"cannot read {one_line(path, 200)} in the build folder: "
                                   f"{exc.strerror or exc}; rebuild with 'tinygen build'") from exc
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
                raise TinygenError(f"{one_line(path, 200)} in the build folder is {what}, which "
                                   "tinygen never writes there; rebuild with 'tinygen build'")
            total += info.st_size
            if total > MAX_EXPORT_BYTES:
                raise TinygenError(f"the sources in {one_line(build_dir, 200)} pass "
                                   f"{MAX_EXPORT_BYTES >> 20} MB, which no firmware's do; "
                                   "rebuild with 'tinygen build'")
