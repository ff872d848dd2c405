"""The FMU example end to end: the reference safety core as three FMUs (built here with
pythonfmu, examples/fmu_safety_core) is certified by ``obsa certify``, with the verdicts
of the reference run in process; an FMU failing in doStep gets error verdicts with the
reason, in a complete report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.manifest import safety_core_manifest_path
from conformance.spec import load_spec

from .fmu_build import EXAMPLE, ROOT, build_crashing_contactor_manager, build_example

pytest.importorskip("fmpy")
pytest.importorskip("pythonfmu")


def certify(manifest: Path | str, out: Path, *extra: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(manifest),
                           "--out", str(out), "--no-progress", "--no-html", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    report = out / "report.json"
    assert report.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.returncode, json.loads(report.read_text())


def verdicts(report: dict) -> dict[tuple[str, str], str]:
    return {(r["requirement"], r["test_case"]): r["verdict"] for r in report["results"]}


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """The example's folder as a user has it after building: manifest.yaml and build/."""
    folder = tmp_path_factory.mktemp("fmu_example")
    shutil.copyfile(EXAMPLE / "manifest.yaml", folder / "manifest.yaml")
    build_example(folder / "build")
    return folder


@pytest.fixture(scope="module")
def fmu_run(example) -> tuple[int, dict]:
    return certify(example / "manifest.yaml", example / "out")


@pytest.mark.slow
def test_the_example_fmus_are_certified(fmu_run, example):
    code, report = fmu_run
    assert report["outcome"] == "certified", [
        (r["requirement"], r["verdict"], r["evidence"]["message"]) for r in report["results"]
        if r["verdict"] != "pass"]
    assert code == 0
    assert report["in_process"] is False
    hashed = {Path(name).name for name in report["module_files"]}
    assert hashed == {"safety_supervisor.fmu", "contactor_manager.fmu", "diagnostics.fmu"}


@pytest.mark.slow
def test_same_verdicts_as_the_reference_in_process(fmu_run, tmp_path):
    """The transport adds nothing and loses nothing: every test case judges every
    requirement the same whether the reference runs in process or as FMUs."""
    _, as_fmus = fmu_run
    _, in_process = certify(str(safety_core_manifest_path()), tmp_path / "ref", "--in-process")
    assert verdicts(as_fmus) == verdicts(in_process)
    assert as_fmus["summary"] == in_process["summary"]


@pytest.mark.slow
def test_an_fmu_failing_in_do_step_gets_error_verdicts_in_a_complete_report(example):
    folder = example / "crashing"
    folder.mkdir()
    build_crashing_contactor_manager(folder / "contactor_manager.fmu", "raise", 0.05)
    text = (example / "manifest.yaml").read_text()
    text = text.replace("build/contactor_manager.fmu", "crashing/contactor_manager.fmu")
    text = text.replace("build/", "../build/").replace("crashing/", "")
    (folder / "manifest.yaml").write_text(text)
    code, report = certify(folder / "manifest.yaml", folder / "out")
    assert code == 1 and report["outcome"] == "not-certified"
    errors = [r["evidence"]["message"] for r in report["results"] if r["verdict"] == "error"]
    # the first: where and why; the later ones were not called after the fmi2Fatal, and say so
    first = "contactor_manager.fmu: fmi2DoStep (from t=0.05 s to 0.06 s) returned fatal; " \
        "the FMU logged: fatal: "
    assert any("contactor_manager.step: " in message and first in message
               for message in errors), errors[:3]
    for message in errors:
        assert "deliberate failure at t=0.06 s" in message, message
    # complete: every requirement of the profile for the three components has its verdict
    spec = load_spec()
    in_scope = {r.id for r in spec.requirements.values() if "bmu_safety_core" in r.profiles
                and r.component in ("safety_supervisor", "contactor_manager", "diagnostics")}
    assert {r["requirement"] for r in report["results"]} == in_scope
    assert (folder / "out" / "junit.xml").is_file()
