"""pyproject.toml in the form current setuptools accepts without warnings."""

from __future__ import annotations

import pytest

from tinygen.paths import project_root


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    # A TOML table ({text = ...}) makes setuptools >= 77 print a deprecation
    # warning at every pip install; the SPDX string needs setuptools >= 77.
    tomllib = pytest.importorskip("tomllib", reason="tomllib is Python 3.11+")
    data = tomllib.loads((project_root() / "pyproject.toml").read_text())
    assert data["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in data["build-system"]["requires"]


def test_editable_install_is_a_plain_path_entry_without_the_import_hook_warning() -> None:
    # setuptools installs a flat-layout checkout editable through an import
    # hook and emits "Editable installation" (pip >= 25 shows it as a
    # BuildBackendWarning) unless the package root is named and every package
    # sits under it; then it writes a .pth with the checkout, silently.
    # Measured with pip 26.3 and setuptools 84.2.1: the warning without
    # package-dir, none with it. Here setuptools' own criteria are applied.
    tomllib = pytest.importorskip("tomllib", reason="tomllib is Python 3.11+")
    editable = pytest.importorskip("setuptools.command.editable_wheel")
    from setuptools import find_packages

    root = project_root()
    data = tomllib.loads((root / "pyproject.toml").read_text())
    package_dir = data["tool"]["setuptools"]["package-dir"]
    assert package_dir == {"": "."}
    include = data["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(where=str(root), include=include)
    assert "tinygen" in packages and "tinygen.cli" in packages
    assert all(p == "tinygen" or p.startswith("tinygen.") for p in packages)
    assert editable._simple_layout(packages, package_dir, str(root))
