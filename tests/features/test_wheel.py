"""The Gherkin suite ships in the wheel: built from this tree, installed into a fresh
virtual environment, and run from another directory — by ``obsa certify --suite gherkin``
and by behave on the installed feature files.

The fresh environment holds only the wheel; the libraries it needs are borrowed from this
project's environment through a path file (no download, and nothing of this source tree:
the project's own editable install is not visible there, which the test checks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its python."""
    base = tmp_path_factory.mktemp("wheel")
    build = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                  str(base / "dist"), str(ROOT)], cwd=base)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (base / "dist").glob("obsa-*.whl")
    venv.EnvBuilder(with_pip=False).create(base / "venv")
    python = base / "venv" / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                    "['purelib'])"], cwd=base).stdout.strip()
    # the dependencies, from this environment's site-packages (its .pth files, among them
    # the editable install of this tree, are not processed from a path line)
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n",
                                         encoding="utf-8")
    install = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], cwd=base)
    assert install.returncode == 0, install.stdout + install.stderr
    where = _run([str(python), "-c", "import conformance, reference_impl; "
                  "print(conformance.__file__); print(reference_impl.__file__)"], cwd=base)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(purelib) for line in where.stdout.split()), where.stdout
    return python


@pytest.mark.slow
def test_installed_wheel_runs_the_gherkin_suite(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "somewhere else"
    elsewhere.mkdir()
    obsa = installed.parent / "obsa"
    # the safety core's and the SoH estimator's scenarios: the closed loop and the replay of
    # shipped vectors, from the wheel's own data (the whole reference takes a minute)
    proc = _run([str(obsa), "certify", "reference", "--out", "report", "--suite", "gherkin",
                 "--no-html", "--in-process", "-k", "contactor or soh"], cwd=elsewhere)
    report = json.loads((elsewhere / "report" / "report.json").read_text(encoding="utf-8"))
    judged = {r["requirement"]: r["verdict"] for r in report["results"] if r["case"]}
    assert report["suites"] == ["gherkin"], proc.stdout[-3000:] + proc.stderr[-3000:]
    assert judged and set(judged.values()) == {"pass"}, proc.stdout[-3000:]
    assert "the Gherkin suite" in proc.stdout


@pytest.mark.slow
def test_installed_features_run_under_behave(installed: Path, tmp_path: Path) -> None:
    located = _run([str(installed), "-c", "from conformance.paths import features_dir; "
                    "print(features_dir())"], cwd=tmp_path)
    features = Path(located.stdout.strip())
    assert features.is_dir() and "site-packages" in str(features), located
    assert sorted(p.name for p in features.glob("*.feature")) == sorted(
        p.name for p in (ROOT / "features").glob("*.feature"))
    proc = _run([str(installed), "-m", "behave", str(features), "-D", "module=reference",
                 "-D", "report=out", "-D", "in_process=yes", "-f", "plain", "--tags",
                 "OBSA-SAFE-001"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    judged = {r["requirement"]: r["verdict"] for r in report["results"] if r["case"]}
    assert judged == {"OBSA-SAFE-001": "pass"}
