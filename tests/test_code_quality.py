"""The house habits, checked: ruff and mypy are clean on the whole project."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: install the project with its dev extra "
                    "(pip install -e '.[dev]')")
    return path


def test_ruff_is_clean() -> None:
    proc = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_mypy_is_clean() -> None:
    proc = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_the_distributed_packages_are_marked_typed() -> None:
    """PEP 561: a vendor's type checker uses our hints only when the wheel ships py.typed.
    The wheel takes every file of the packages it lists (a wheel built from this tree holds
    conformance/py.typed and reference_impl/py.typed)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = config["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert "exclude" not in wheel
    for package in ("conformance", "reference_impl"):
        assert package in wheel["packages"]
        assert (ROOT / package / "py.typed").is_file(), f"{package}/py.typed is missing"
