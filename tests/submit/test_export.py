"""An exported build folder rebuilds the same image bytes without tinygen.

The export is copied to a fresh temporary folder and rebuilt there with
SCons and with make, from a clean environment (no PYTHONPATH, no
TINYGEN_ROOT, the fresh folder as working directory); no file of the export
and no command of either build names a path inside the tinygen checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinygen.cli import main
from tinygen.paths import project_root

IMAGES = {"mps2_an386": ("firmware.elf", "firmware.bin"), "host": ("firmware",)}


def _checkout_paths() -> set[str]:
    root = project_root()
    return {str(root), str(root.resolve())}


def _clean_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "LC_ALL": "C"}


def _rebuild(folder: Path, tool: str) -> str:
    if tool == "make":
        if shutil.which("make") is None:
            pytest.skip("make is not installed")
        cmd = ["make", "-j2"]
    else:
        cmd = [sys.executable, "-m", "SCons", "-j2"]
    done = subprocess.run(cmd, cwd=folder, env=_clean_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.mark.parametrize("board", sorted(IMAGES))
def test_export_rebuilds_bit_identically_elsewhere(board, firmware, tmp_path):
    build = firmware(board, "kws01")
    export = tmp_path / "export"
    assert main(["build", "--board", board, "--bench", "kws01", "--out", str(build),
                 "--model", str(_model(build)), "--export", str(export), "-j", "2"]) == 0
    assert sorted(p.name for p in export.iterdir()) == [
        "Makefile", "README.md", "SConstruct", "build.json", "harness", "kernels", "platform",
        "src"]
    checkout = _checkout_paths()
    for path in export.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not any(c in text for c in checkout), f"{path} names the checkout"
    for tool in ("scons", "make"):
        fresh = tmp_path / f"fresh-{tool}" / "code"
        shutil.copytree(export, fresh)
        output = _rebuild(fresh, tool)
        assert not any(c in output for c in checkout), output
        for image in IMAGES[board]:
            assert (fresh / image).read_bytes() == (build / image).read_bytes(), (tool, image)


def _model(build: Path) -> Path:
    import json
    return Path(json.loads((build / "build.json").read_text())["model"]["path"])


def test_export_refuses_a_folder_in_use(firmware, tmp_path, capsys):
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine\n")
    rc = main(["build", "--board", "host", "--bench", "kws01", "--out", str(tmp_path / "b"),
               "--export", str(used)])
    assert rc == 1
    assert "exists and is not empty; export into a new or empty folder" in capsys.readouterr().err
    assert (used / "keep.txt").read_text() == "mine\n"


def test_export_refuses_a_build_that_compiles_outside_its_folder(firmware, tmp_path):
    """A build naming files elsewhere (e.g. a third-party tree) would not rebuild on its own."""
    import json

    from tinygen.errors import TinygenError
    from tinygen.port.build import export_build

    build = tmp_path / "build"
    shutil.copytree(firmware("host", "kws01"), build)
    manifest = json.loads((build / "build.json").read_text())
    manifest["includes"].append("/opt/elsewhere/include")
    (build / "build.json").write_text(json.dumps(manifest))
    with pytest.raises(TinygenError, match=r"compiles files outside its folder \(/opt/elsewhere"):
        export_build(build, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_a_vendor_boards_own_platform_code_goes_into_the_export(firmware, tmp_path):
    """family: external: the vendor's C, headers and linker script are copied in too."""
    from tinygen.paths import boards_dir, firmware_dir

    vendor = tmp_path / "vendor"
    vendor.mkdir()
    # The vendor starts from the mps2 port: its UART code and the shipped
    # polled console around it (guarded for the shipped families) in one file.
    console = (firmware_dir() / "platform" / "common" / "tg_polled_console.c").read_text()
    guard = console.index("#if defined(TG_BOARD_FAMILY_MPS2)")
    console = console[:guard] + console[console.index("\n", console.index("\\\n", guard) + 2):]
    console = console[:console.rindex("#endif")]
    (vendor / "my_platform.c").write_text(
        (firmware_dir() / "platform" / "mps2" / "tg_mps2.c").read_text() + console)
    (vendor / "my_board.h").write_text("/* a vendor header beside the source */\n")
    shutil.copyfile(firmware("mps2_an386", "kws01") / "src" / "linker.ld", vendor / "my_board.ld")
    text = (boards_dir() / "mps2_an386.yaml").read_text()
    text = (text.replace("name: mps2_an386", "name: my_vendor_board")
                .replace("family: mps2", "family: external")
                .replace("driver: cmsdk-uart", "driver: external"))
    text += ("platform:\n  sources: [vendor/my_platform.c]\n  include_dirs: [vendor]\n"
             "  linker_script: vendor/my_board.ld\n")
    (tmp_path / "my_vendor_board.yaml").write_text(text)
    build, export = tmp_path / "build", tmp_path / "export"
    assert main(["build", "--board", str(tmp_path / "my_vendor_board.yaml"), "--bench", "kws01",
                 "--out", str(build), "--export", str(export), "-j", "2"]) == 0
    copied = {p.name for p in (export / "platform" / "vendor").rglob("*") if p.is_file()}
    assert copied == {"my_platform.c", "my_board.h", "my_board.ld"}
    vendor.rename(tmp_path / "vendor-gone")     # the vendor's folder is out of reach too
    fresh = tmp_path / "fresh"
    shutil.copytree(export, fresh)
    output = _rebuild(fresh, "make")
    assert str(tmp_path / "vendor") not in output and str(tmp_path / "vendor") not in (
        fresh / "Makefile").read_text()
    for image in IMAGES["mps2_an386"]:
        assert (fresh / image).read_bytes() == (build / image).read_bytes(), image
