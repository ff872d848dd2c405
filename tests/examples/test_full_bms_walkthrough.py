"""The vendor guide's whole-BMS walkthrough ("A whole BMS: one run, four profiles"), run as
written: the example's files are copied into a fresh directory, as its prose says, then every
``$ …`` line of its examples is run there, in order, and what a command prints must hold
every line the guide shows, in order (``...`` marks where the guide leaves lines out); run
ids, times, durations and the progress total aside.

The guide's two runs of the whole suite (a minute or two each) are left out: their outputs
are not compared here, and the runs after them use only what the ``-k`` runs wrote. What the
guide says of the balancing is checked on the reports: the vendor's first balancing fails
OBSA-BAL-004 and nothing else of the selection, the fixed one passes all of it. The manifest
the walk ends with is ``examples/full_bms/my_bms.yaml``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.guide import (
    DURATION_VARYING,
    excerpt_holds,
    guide_steps,
    out_dir,
    python_excerpts,
    run_walk,
    whole_suite,
)

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "vendor-guide.md"
SECTION = "## 10. A whole BMS: one run, four profiles"
EXAMPLE = ROOT / "examples" / "full_bms"
#: what the prose says to copy into the directory first
COPIED = [EXAMPLE / "my_balancing.py", EXAMPLE / "my_bms.sed"]
SELECTION = {f"OBSA-BAL-00{i}" for i in range(1, 8)}
"""The requirements ``-k balancing`` judges: the seven of test_balancing (BAL-008 is verified
by inspection)."""



def _holds(printed: list[str], shown: list[str]) -> str | None:
    return excerpt_holds(printed, shown, DURATION_VARYING)


def test_holds_reads_an_excerpt() -> None:
    assert _holds(["a", "b", "c"], ["a", "...", "c"]) is None
    assert _holds(["a", "b", "c"], ["c", "a"]) == "a"
    assert _holds(["x (3.1 s)"], ["x (2.0 s)"]) is None
    assert _holds(["[  2/210] x"], ["[  2/211] x"]) is None
    assert _holds(["[  2/210] x"], ["[  1/210] x"]) == "[1/N] x"


def test_the_code_the_guide_shows_is_the_example_s() -> None:
    """The guide's Python excerpts (the mistake and the fix) are verbatim in my_balancing.py."""
    code = python_excerpts(SECTION)
    source = (EXAMPLE / "my_balancing.py").read_text(encoding="utf-8")
    assert len(code) == 2
    for excerpt in code:
        assert excerpt in source, excerpt




def _verdicts(report_dir: Path) -> dict[str, set[str]]:
    """verdict -> the requirements with a result of that verdict: those of the selection,
    and any other that failed or erred (none should: the rest was not run)."""
    report: dict[str, Any] = json.loads((report_dir / "report.json").read_text(
        encoding="utf-8"))
    verdicts: dict[str, set[str]] = {}
    for result in report["results"]:
        if result["requirement"] in SELECTION or result["verdict"] in ("fail", "error"):
            verdicts.setdefault(result["verdict"], set()).add(result["requirement"])
    return verdicts


@pytest.mark.slow
def test_the_whole_bms_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = guide_steps(SECTION)
    commands = [command for command, _ in steps]
    whole = [c for c in commands if whole_suite(c)]
    balancing_runs = [c for c in commands if "certify" in c and "-k balancing" in c]
    assert len(whole) == 2 and len(balancing_runs) == 2, commands
    run_walk(steps, tmp_path, COPIED)

    first, fixed = (tmp_path / out_dir(c) for c in balancing_runs)
    assert _verdicts(first) == {"pass": SELECTION - {"OBSA-BAL-004"}, "fail": {"OBSA-BAL-004"}}
    assert _verdicts(fixed) == {"pass": SELECTION}
    ended = yaml.safe_load((tmp_path / "my_bms.yaml").read_text(encoding="utf-8"))
    kept = yaml.safe_load((EXAMPLE / "my_bms.yaml").read_text(encoding="utf-8"))
    assert ended == kept, "examples/full_bms/my_bms.yaml is no longer what the walk writes"
