"""Seeded fuzzing of the spec: one file of a copy of ``spec/`` is mutated per case, and
``obsa spec validate`` must answer 0, 1 (every issue located: file, line, field) or 2
(could not read) — never a traceback, an internal error or a hang.

Cases run in-process through :func:`conformance.spec.validate.run_validate`, the
function the command calls. A failure prints the seed, the file and the mutation.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from tests.spec.helpers import copy_spec, validate

from .mutations import Hang, mutate, time_limit

SEED = 7_130_000
CHUNKS = 4
PER_CHUNK = 25  # 100 mutated specs, each fully validated (~0.1 s each)
CASE_LIMIT_S = 10.0


def spec_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.yaml"))


def output_problem(code: int, out: str, err: str) -> str | None:
    """Why the command's answer is not a clean verdict; None when it is."""
    if "Traceback" in out + err or "internal error" in out + err:
        return f"crashed (exit {code}): {(out + err)[-600:]}"
    lines = out.splitlines()
    if code == 0:
        return None if lines and lines[-1].endswith(", valid") else f"exit 0 but: {out[-300:]}"
    if code == 1:
        issues = lines[:-1]  # the last line is the summary
        if not issues:
            return f"exit 1 without an issue: {out[-300:]}"
        for line in issues:
            file, _, rest = line.partition(":")
            number = rest.split(":", 1)[0]
            if not file.endswith(".yaml") or not number.isdigit():
                return f"issue without file and line: {line[:300]}"
        return None
    if code == 2:
        return None if "cannot read" in err and out == "" else f"exit 2 but: {err[-300:]}"
    return f"exit {code}: {(out + err)[-300:]}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_specs_give_located_verdicts(tmp_path: Path, chunk: int) -> None:
    root = copy_spec(tmp_path)
    files = spec_files(root)
    failures: list[str] = []
    codes: Counter[int] = Counter()
    for i in range(PER_CHUNK):
        seed = SEED + chunk * PER_CHUNK + i
        rel = random.Random(seed).choice(files)
        original = (root / rel).read_text(encoding="utf-8")
        raw, what = mutate(original, seed)
        (root / rel).write_bytes(raw)
        try:
            with time_limit(CASE_LIMIT_S):
                code, out, err = validate(root, quiet=False)
            problem = output_problem(code, out, err)
            codes[code] += 1
        except Hang as exc:
            problem = str(exc)
        except Exception as exc:  # the point of the test: report it with its seed
            problem = f"raised {type(exc).__name__}: {str(exc)[:300]}"
        if problem:
            failures.append(f"seed {seed} ({rel}: {what}): {problem}")
        (root / rel).write_text(original, encoding="utf-8")
    assert not failures, "\n".join(failures)
    assert codes[1] > PER_CHUNK // 2, codes  # the mutations do break things
