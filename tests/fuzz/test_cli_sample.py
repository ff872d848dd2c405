"""A sample of hostile inputs through the real commands, in child processes with a timeout:
``obsa spec validate DIR`` on mutated specs and ``obsa certify MANIFEST --out DIR`` on
manifests that must be refused (exit 2, a report.json saying ``refused``) — never a
traceback, never a hang. The in-process fuzzers cover the many cases; this checks that
the commands add nothing that breaks.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.manifest.helpers import REFERENCE_TEXT
from tests.spec.helpers import billion_laughs, copy_spec

from .mutations import mutate
from .test_spec_fuzz import output_problem, spec_files

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60
SPEC_SEEDS = (11, 42)

REFUSED_MANIFESTS = {
    # name: (old, new) in the reference manifest
    "alias bomb": ("obsa_manifest:", billion_laughs(9, prefix="b") + "obsa_manifest:"),
    "bad int tag": ("cell_count: 96", "cell_count: !!int xyz"),
    "sensors without cells": ("cell_count: 96", "cell_count: 1"),
    "microsecond timeout": ("timeout_s: 1.0", "timeout_s: 1.0e-6"),
}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance", *args]


def _run_all(commands: dict[str, list[str]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the commands side by side (each one mostly imports), each with the timeout."""
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE) for name, cmd in commands.items()}
    done = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n(no answer within {TIMEOUT_S} s)"
        done[name] = subprocess.CompletedProcess(commands[name], proc.returncode, out, err)
    return done


@pytest.mark.slow
def test_commands_refuse_hostile_inputs_cleanly(tmp_path: Path) -> None:
    commands: dict[str, list[str]] = {}
    for seed in SPEC_SEEDS:
        root = copy_spec(tmp_path / f"spec-{seed}")
        rel = random.Random(seed).choice(spec_files(root))
        raw, what = mutate((root / rel).read_text(encoding="utf-8"), seed)
        (root / rel).write_bytes(raw)
        commands[f"spec seed {seed} ({rel}: {what})"] = _command("spec", "validate", str(root))
    for name, (old, new) in REFUSED_MANIFESTS.items():
        assert old in REFERENCE_TEXT, f"fixture text {old!r} is gone from the reference manifest"
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        path.write_text(REFERENCE_TEXT.replace(old, new, 1), encoding="utf-8")
        commands[f"certify {name}"] = _command("certify", str(path), "--out",
                                               str(tmp_path / f"out-{path.stem}"))
    failures = []
    for name, run in _run_all(commands).items():
        if "Traceback" in run.stdout + run.stderr or "no answer within" in run.stderr:
            failures.append(f"{name}: {(run.stdout + run.stderr)[-800:]}")
        elif name.startswith("spec"):
            problem = output_problem(run.returncode, run.stdout, run.stderr)
            if problem:
                failures.append(f"{name}: {problem}")
        else:
            report = Path(run.args[-1]) / "report.json"
            outcome = json.loads(report.read_text())["outcome"] if report.is_file() else None
            issues = json.loads(report.read_text())["manifest_issues"] if outcome else []
            if run.returncode != 2 or outcome != "refused" or not issues:
                failures.append(f"{name}: exit {run.returncode}, outcome {outcome}: "
                                f"{(run.stdout + run.stderr)[-500:]}")
            elif not all(".yaml:" in i for i in issues):
                failures.append(f"{name}: an issue without a line: {issues}")
    assert not failures, "\n".join(failures)
