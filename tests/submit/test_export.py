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
