"""The vendor guide's gateway walkthrough ("A telemetry gateway: the HMI API over HTTP"), run
as written: the example's files are copied into a fresh directory, as its prose says, then
every ``$ …`` line of its examples is run there, in order, and what a command prints must
hold every line the guide shows, in order (``...`` marks where the guide leaves lines out);
run ids, times, durations and the progress total aside.

The guide's run of the profile's whole suite (half a minute) is left out: its output is not
compared here. What the guide says of the service is checked on the reports: the vendor's
first service fails OBSA-HMI-007 and nothing else of the selection, the fixed one passes all
of it. The manifest the walk ends with is ``examples/telemetry_gateway/my_gateway.yaml``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.guide import (
    guide_steps,
    out_dir,
    python_excerpts,
    run_walk,
    whole_suite,
)

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## 11. A telemetry gateway: the HMI API over HTTP"
EXAMPLE = ROOT / "examples" / "telemetry_gateway"
#: what the prose says to copy into the directory first
COPIED = [EXAMPLE / "my_hmi.py", EXAMPLE / "my_gateway.sed"]
SELECTION = {f"OBSA-HMI-00{i}" for i in range(5, 10)}
"""The requirements ``-k hmi_http`` judges: the five of test_hmi_http."""





def _verdicts(report_dir: Path) -> dict[str, set[str]]:
    """verdict -> the requirements of the selection with that verdict, and any other that
    failed or erred (none should: the rest was not run)."""
    report: dict[str, Any] = json.loads((report_dir / "report.json").read_text(
        encoding="utf-8"))
    verdicts: dict[str, set[str]] = {}
    for result in report["results"]:
        if result["requirement"] in SELECTION or result["verdict"] in ("fail", "error"):
            verdicts.setdefault(result["verdict"], set()).add(result["requirement"])
    return verdicts


def test_the_code_the_guide_shows_is_the_example_s() -> None:
    code = python_excerpts(SECTION)
    source = (EXAMPLE / "my_hmi.py").read_text(encoding="utf-8")
    assert len(code) == 1
    assert code[0] in source, code[0]


@pytest.mark.slow
def test_the_gateway_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = guide_steps(SECTION)
    commands = [command for command, _ in steps]
    whole = [c for c in commands if whole_suite(c)]
    http_runs = [c for c in commands if "certify" in c and "-k hmi_http" in c]
    assert len(whole) == 1 and len(http_runs) == 2, commands
    run_walk(steps, tmp_path, COPIED)

    first, fixed = (tmp_path / out_dir(c) for c in http_runs)
    assert _verdicts(first) == {"pass": SELECTION - {"OBSA-HMI-007"}, "fail": {"OBSA-HMI-007"}}
    assert _verdicts(fixed) == {"pass": SELECTION}
    assert not (fixed / "module-stderr.log").exists()  # the service printed nothing
    ended = yaml.safe_load((tmp_path / "my_gateway.yaml").read_text(encoding="utf-8"))
    kept = yaml.safe_load((EXAMPLE / "my_gateway.yaml").read_text(encoding="utf-8"))
    assert ended == kept, ("examples/telemetry_gateway/my_gateway.yaml is no longer what the "
                           "walk writes")
