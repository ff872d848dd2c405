"""Seeded fuzzing of the module manifest: every mutation of the reference manifest is either
refused with a located message or accepted and then runnable on the bench — never a
traceback, never a hang.

Cases run in-process through :func:`conformance.manifest.load_manifest`, the function
``obsa certify`` calls. A failure prints the seed and the mutation; replay it with
``mutate(REFERENCE_TEXT, seed)``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conformance.bench import BenchConfigError
from conformance.manifest import Manifest, load_manifest
from conformance.session import Certification
from conformance.spec import Spec, load_spec
from conformance.spec.source import Issue
from tests.manifest.helpers import REFERENCE_TEXT

from .mutations import Hang, mutate, time_limit

SEED = 20_261_130
CHUNKS = 8
PER_CHUNK = 40  # 320 manifests
CASE_LIMIT_S = 5.0
LONGEST_MESSAGE = 3000  # a message quotes what it found, cut short (a value may be 64 kB)


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def issue_problem(issue: Issue, file: str) -> str | None:
    """Why ``issue`` is not a located message for a person; None when it is."""
    if issue.file != file:
        return f"names the file {issue.file!r}, not {file!r}: {issue}"
    if issue.line is None and not issue.field:
        return f"has neither a line nor a field: {issue}"
    if "internal error" in issue.message or "Traceback" in issue.message:
        return f"is a crash, not a refusal: {issue}"
    if len(str(issue)) > LONGEST_MESSAGE:
        return f"is {len(str(issue))} characters long: {str(issue)[:200]}…"
    return None


def judge(path: Path, manifest: Manifest | None, issues: list[Issue], spec: Spec,
          out: Path) -> str | None:
    """None when the outcome is a located refusal, or an acceptance the bench can run."""
    if issues:
        for issue in issues:
            problem = issue_problem(issue, str(path))
            if problem:
                return problem
        return None
    if manifest is None:
        return "neither a manifest nor an issue"
    cert = Certification(manifest_path=path, out_dir=out, spec=spec, manifest=manifest)
    try:
        cert._bench()
    except BenchConfigError as exc:
        return f"accepted, but the bench cannot run it: {exc}"
    return None


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_manifests_are_refused_located_or_run(tmp_path: Path, spec: Spec,
                                                      chunk: int) -> None:
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    for i in range(PER_CHUNK):
        seed = SEED + chunk * PER_CHUNK + i
        raw, what = mutate(REFERENCE_TEXT, seed)
        path = tmp_path / f"manifest-{seed}.yaml"
        path.write_bytes(raw)
        try:
            with time_limit(CASE_LIMIT_S):
                manifest, issues = load_manifest(path, spec)
                problem = judge(path, manifest, issues, spec, tmp_path / "out")
        except Hang as exc:
            problem = str(exc)
        except Exception as exc:  # the point of the test: report it with its seed
            problem = f"raised {type(exc).__name__}: {str(exc)[:300]}"
        else:
            outcomes["refused" if issues else "accepted"] += 1
        if problem:
            failures.append(f"seed {seed} ({what}): {problem}")
        path.unlink()
    assert not failures, "\n".join(failures)
    assert outcomes["refused"] > PER_CHUNK // 2, outcomes  # the mutations do break things
