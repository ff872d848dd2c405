"""The vendor guide's CAN walkthrough ("A cell monitor board on the CAN bus"), run as written:
the example's files are copied into a fresh directory, as its prose says, then every
``$ …`` line of its examples is run there, in order — the two certifications of the whole
profile too (seconds each: the node runs in simulated time) — and what a command prints must
hold every line the guide shows, in order (``...`` marks where the guide leaves lines out);
run ids, times, durations and the progress total aside.

What the guide says of the node is checked on the reports: the vendor's first node fails
OBSA-CAN-004 and nothing else of the profile, the fixed one is certified on all of it. The
manifest the walk ends with is ``examples/cmu_can_node/my_cmu.yaml``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.spec.loader import load_spec
from tests.cli.guide import guide_steps, out_dir, python_excerpts, run_walk, whole_suite

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## 12. A cell monitor board on the CAN bus"
EXAMPLE = ROOT / "examples" / "cmu_can_node"
#: what the prose says to copy into the directory first
COPIED = [EXAMPLE / "my_cmu.py", EXAMPLE / "my_cmu.sed"]


def _profile() -> set[str]:
    """The requirements of cmu_can that a test judges."""
    spec = load_spec()
    return {rid for rid, r in spec.requirements.items()
            if "cmu_can" in r.profiles and r.verification == "test"}


def _verdicts(report_dir: Path) -> dict[str, set[str]]:
    """verdict -> the requirements with that verdict."""
    report: dict[str, Any] = json.loads((report_dir / "report.json").read_text(
        encoding="utf-8"))
    verdicts: dict[str, set[str]] = {}
    for result in report["results"]:
        verdicts.setdefault(result["verdict"], set()).add(result["requirement"])
    return verdicts


def _outcome(report_dir: Path) -> str:
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return str(report["outcome"])


def test_the_code_the_guide_shows_is_the_example_s() -> None:
    """The guide's Python excerpts (the mistake and the fix) are verbatim in my_cmu.py."""
    code = python_excerpts(SECTION)
    source = (EXAMPLE / "my_cmu.py").read_text(encoding="utf-8")
    assert len(code) == 2
    for excerpt in code:
        assert excerpt in source, excerpt


@pytest.mark.slow
def test_the_cmu_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = guide_steps(SECTION)
    commands = [command for command, _ in steps]
    certifications = [c for c in commands if "certify" in c]
    assert len(certifications) == 2 and all(whole_suite(c) for c in certifications), commands
    run_walk(steps, tmp_path, COPIED, whole_suites=True)

    first, fixed = (tmp_path / out_dir(c) for c in certifications)
    profile = _profile()
    assert len(profile) == 10, sorted(profile)
    assert _verdicts(first) == {"pass": profile - {"OBSA-CAN-004"}, "fail": {"OBSA-CAN-004"}}
    assert _verdicts(fixed) == {"pass": profile}
    assert _outcome(first) == "not-certified" and _outcome(fixed) == "certified"
    assert not (fixed / "module-stderr.log").exists()  # the node printed nothing
    ended = yaml.safe_load((tmp_path / "my_cmu.yaml").read_text(encoding="utf-8"))
    kept = yaml.safe_load((EXAMPLE / "my_cmu.yaml").read_text(encoding="utf-8"))
    assert ended == kept, ("examples/cmu_can_node/my_cmu.yaml is no longer what the walk "
                           "writes")
