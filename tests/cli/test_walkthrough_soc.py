"""The vendor guide's state-estimation walkthrough ("From nothing to a certificate: a SoC
estimator"), run verbatim: the example's files are copied into a fresh directory, as its
prose says, then every ``$ …`` line of its examples is run there, in order. What a command
prints must hold every line the guide shows, in order (an excerpt: ``...`` marks where the
guide leaves lines out, e.g. the report's other requirements and pytest's failure details);
run ids, times, durations and the progress total (which grows with the suite) aside."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .guide import excerpt_holds, guide_steps, run_walk, whole_suite

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## 9. From nothing to a certificate: a SoC estimator"
EXAMPLE = ROOT / "examples" / "soc_estimator"
#: what the prose says to copy into the directory first
COPIED = [EXAMPLE / "soc_counter.py", EXAMPLE / "make_vector.py", EXAMPLE / "drive_log.csv",
          ROOT / "vectors" / "nmc-chen2020.ecm.json"]

_VARYING = [  # besides guide.RUN_VARYING: this section's durations
    (re.compile(r"\b\d+\.\d s, suites"), "<duration>, suites"),
]


def _holds(printed: list[str], shown: list[str]) -> str | None:
    return excerpt_holds(printed, shown, _VARYING)


def test_holds_reads_an_excerpt() -> None:
    assert _holds(["a", "b", "c"], ["a", "...", "c"]) is None
    assert _holds(["a", "b", "c"], ["c", "a"]) == "a"  # in the order shown
    assert _holds(["a", "b"], ["...", "c"]) == "c"
    assert _holds(["[  1/ 73] x"], ["[  1/ 80] x"]) is None
    assert _holds(["[  2/ 73] x"], ["[  1/ 73] x"]) == "[1/N] x"
    # a number's last printed digits may move between runs; its first eight may not
    assert _holds(["rmse 0.09742171523 <= 0.03"], ["rmse 0.09742171527 <= 0.03"]) is None
    assert _holds(["rmse 0.09742181527 <= 0.03"], ["rmse 0.09742171527 <= 0.03"]) == \
        "rmse 0.09742171527 <= 0.03"
    assert _holds(["rmse 0.0974217152 > 0.03"], ["rmse 0.0974217152 <= 0.03"]) == \
        "rmse 0.0974217152 <= 0.03"


@pytest.mark.slow
def test_the_state_estimation_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = guide_steps(SECTION)
    commands = [command for command, _ in steps]
    assert any("--vectors" in c for c in commands) and any("make_vector.py" in c
                                                          for c in commands), commands
    assert not any(whole_suite(c) for c in commands), commands  # run_walk would skip it
    run_walk(steps, tmp_path, COPIED, varying=_VARYING, timeout_s=600)
