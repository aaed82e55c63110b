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
