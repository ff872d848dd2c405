"""The published standard, built once per test session for the tests that read it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_docs_build(out: Path, python: str = sys.executable,
                   cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess[str], float]:
    """``obsa docs build --out OUT`` as a user runs it; the process and its wall time."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    started = time.perf_counter()
    proc = subprocess.run([python, "-m", "conformance", "docs", "build", "--out", str(out)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    return proc, time.perf_counter() - started


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML of ``obsa docs build``; the build time is printed (never asserted)."""
    out = tmp_path_factory.mktemp("docs") / "html"
    proc, seconds = run_docs_build(out)
    print(f"\nobsa docs build: {seconds:.1f} s (target < 60 s) -> {out}")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return out


def install_wheel(base: Path) -> Path:
    """This tree as a wheel, installed in a fresh virtual environment under ``base`` whose
    dependencies are borrowed from this environment (a path file; no download, and not the
    editable install of this tree); returns its python."""
    import sysconfig
    import venv

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=base, env=env, capture_output=True, text=True,
                              timeout=600)

    built = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                 str(base / "dist"), str(ROOT)])
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (base / "dist").glob("obsa-*.whl")
    venv.EnvBuilder(with_pip=False).create(base / "venv")
    python = base / "venv" / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                   "['purelib'])"]).stdout.strip()
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n",
                                         encoding="utf-8")
    installed = run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                     "--no-deps", "--no-index", str(wheel)])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = run([str(python), "-c", "import conformance; print(conformance.__file__)"])
    assert where.stdout.startswith(purelib), where.stdout + where.stderr
    return python
