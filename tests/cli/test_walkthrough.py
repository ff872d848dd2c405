"""The vendor guide's "Your first hour" walkthrough, run verbatim: every ``$ obsa …`` (and
``$ sed …``) line of its examples is run in a fresh directory, in order, and what it prints
must be what the guide shows — run ids, times and durations aside; an output shown as
``...`` is not compared. The guide's prose says what happens between two commands (two
bad edits, the values of the reference, a changed delay): :data:`EDITS` does exactly that
before the command it names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .guide import guide_steps

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## 7. Your first hour"


def _set(key: str, value: str) -> Callable[[Path], None]:
    """Edit ``key: <value>`` in my_bms.yaml in place (its line numbers unchanged)."""
    def edit(d: Path) -> None:
        path = d / "my_bms.yaml"
        text, n = re.subn(rf"^(\s*{key}:\s*)[^\s#]+", rf"\g<1>{value}",
                          path.read_text(encoding="utf-8"), count=1, flags=re.M)
        assert n == 1, f"{key} not in my_bms.yaml"
        path.write_text(text, encoding="utf-8")
    return edit


def _reference(d: Path) -> None:
    (d / "my_bms.yaml").write_text(
        (ROOT / "reference_impl" / "manifest_basic_protection.yaml").read_text(
            encoding="utf-8"), encoding="utf-8")


def _both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        for e in edits:
            e(d)
    return edit


def _keep(d: Path) -> None:
    (d / "my_bms.yaml.good").write_bytes((d / "my_bms.yaml").read_bytes())


def _undo(d: Path) -> None:
    (d / "my_bms.yaml.good").replace(d / "my_bms.yaml")


#: what the guide's prose says happens before a command (keyed by the command as shown)
EDITS: dict[str, Callable[[Path], None]] = {
    "obsa manifest check my_bms.yaml     # after two bad edits": _both(
        _keep, _set("charge_overcurrent_A", "8000.0"), _set("short_circuit_A", "80.0")),
    "obsa requirements --profile bmu_basic_protection": _undo,
    "obsa certify my_bms.yaml --out run-1.0 --no-html": _reference,
    "obsa certify my_bms.yaml --out run-1.1 --no-html": _set("cell_overvoltage_delay_s", "1.5"),
}

_VARYING = [
    (re.compile(r"\b[0-9a-f]{32}\b"), "<run id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"), "<time>"),
    (re.compile(r"\b\d+\.\d s, suites"), "<duration>, suites"),
]


def _normal(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, replacement in _VARYING:
            line = pattern.sub(replacement, line)
        out.append(line.rstrip())
    while out and not out[-1]:
        out.pop()
    return out


@pytest.mark.slow
def test_the_first_hour_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = guide_steps(SECTION)
    commands = [command for command, _ in steps]
    assert len(steps) >= 8 and all(c.startswith(("obsa ", "sed ")) for c in commands), commands
    assert set(EDITS) <= set(commands), "an edit names a command the guide no longer shows"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               MPLBACKEND="Agg", NO_COLOR="1")
    for command, shown in steps:
        if command in EDITS:
            EDITS[command](tmp_path)
        proc = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)
        assert "Traceback" not in proc.stderr, proc.stderr
        if shown == ["..."]:
            assert proc.returncode in (0, 1), (command, proc.stdout[-2000:], proc.stderr)
            continue
        printed = (proc.stdout + proc.stderr).splitlines()
        assert _normal(printed) == _normal(shown), f"$ {command}"
