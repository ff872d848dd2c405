"""PNG files only on request; duration_s is the wall time the user of ``obsa certify`` waited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.cli import build_parser
from conformance.report import PNG_DIR, read_json, render_html, wall, write_all
from conformance.report.panels import figures
from conformance.report.plots import png_name, write_pngs

from .test_html_page import Page, _report_of_many_cases
from .test_report_writers import sample_report

ONE_CASE = "test_close_through_precharge"


# ---------------------------------------------------------------------------- png
def test_write_pngs_draws_every_plot_of_the_page(tmp_path):
    report = _report_of_many_cases()
    paths = write_pngs(report, tmp_path / PNG_DIR)
    assert [p.name for p in paths] == [png_name(k, f.test_case)
                                       for k, f in enumerate(figures(report))]
    assert [p.name for p in paths] == ["00-a.py-test_pass.png", "01-b.py-test_fail.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)


def test_png_names_are_safe_file_names():
    assert png_name(3, "../../etc/passwd") == "03-etc-passwd.png"
    assert png_name(12, "t.py::test_x[a/b <c>]") == "12-t.py-test_x-a-b-c.png"
    assert png_name(0, "::") == "00-trace.png"


def test_certify_has_a_png_option():
    parser = build_parser()
    assert parser.parse_args(["certify", "reference", "--out", "x", "--png"]).png is True
    assert parser.parse_args(["certify", "reference", "--out", "x"]).png is False


PAUSE_S = 5.0
"""The second run's process waits this long before the command starts: its report must
count it (duration_s runs from the start of the process, not of the suite)."""


def _certify(out: Path, *extra: str, pause_s: float = 0.0) -> tuple[subprocess.CompletedProcess,
                                                                   float]:
    """Run ``obsa certify`` on one test case; return the process and how long the command
    itself ran, as the process measured it after its pause."""
    args = ["certify", "reference", "--out", str(out), "--no-progress", "-k", ONE_CASE, *extra]
    code = (f"import sys, time; time.sleep({pause_s}); start = time.monotonic()\n"
            "from conformance.cli import main\n"
            f"status = main({args!r}); print(time.monotonic() - start); sys.exit(status)")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          capture_output=True, text=True, timeout=300)
    return proc, float(proc.stdout.split()[-1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One test case certified with --png, then again into the same directory without."""
    out = tmp_path_factory.mktemp("certify")
    with_png = _certify(out, "--png")
    pngs = sorted(p.name for p in (out / PNG_DIR).glob("*.png"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    without = _certify(out, pause_s=PAUSE_S)
    return out, with_png, pngs, report, without


def test_certify_png_exports_the_plots_of_its_report(runs):
    out, (proc, _), pngs, report, _ = runs
    assert proc.returncode == 1, proc.stderr[-2000:]  # a partial run is never certified
    cases = {r["test_case"] for r in report["results"] if r["evidence"]["channels"]}
    assert cases and len(pngs) == len(cases)
    assert "matplotlib" in proc.stderr  # -X importtime: asked for, so loaded


def test_a_run_without_png_never_loads_matplotlib_and_drops_old_pngs(runs):
    out, _, _, _, (proc, _) = runs
    assert proc.returncode == 1, proc.stderr[-2000:]
    imported = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert imported and not [line for line in imported if "matplotlib" in line]
    assert not list((out / PNG_DIR).glob("*.png"))


def test_the_run_s_page_carries_every_traced_test_case(runs):
    out = runs[0]
    report = read_json(out / "report.json")
    data = Page((out / "report.html").read_text(encoding="utf-8")).data()
    assert [c["test_case"] for c in data] == [f.test_case for f in figures(report)]
    assert data and all(c["panels"] and c["t_s"] for c in data)


def test_duration_counts_from_the_start_of_the_process(runs):
    out, _, _, _, (proc, command_s) = runs
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    # the command ran command_s after a pause of PAUSE_S; timed from the command's (or the
    # suite's) start the report would say less than command_s
    assert report["duration_s"] > command_s
    assert report["duration_s"] < 2 * PAUSE_S + command_s  # nothing from before the process


# ---------------------------------------------------------------------------- wall time
def test_process_start_is_found_before_the_first_import():
    code = ("import time; time.sleep(0.5); from conformance.report.wall import process_started;"
            " print(time.monotonic() - process_started())")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) >= 0.5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_fork_s_start_is_its_fork_not_its_parent_s_start():
    code = ("import os, sys, time; from conformance.report.wall import process_started\n"
            "time.sleep(1.0)\n"
            "if os.fork() == 0:\n"
            "    print(time.monotonic() - process_started(), flush=True); os._exit(0)\n"
            "os.wait()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) < 1.0  # the parent's second of sleep is not the child's


def test_write_all_stamps_the_waited_time_in_every_file(tmp_path):
    report = sample_report()
    with wall.timing(time.monotonic() - 100.0):
        write_all(report, tmp_path)
    assert 100.0 <= report.duration_s < 1000  # the summary line reads it from here
    assert json.loads((tmp_path / "report.json").read_text())["duration_s"] == report.duration_s
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.get("time") == f"{report.duration_s:.3f}"
    assert f"{report.duration_s:.1f} s" in (tmp_path / "report.html").read_text()
    assert wall.waited_s() is None  # the clock stops with its command


def test_without_a_running_command_the_run_s_duration_stays(tmp_path):
    report = sample_report()
    write_all(report, tmp_path)
    assert report.duration_s == 12.5
    assert json.loads((tmp_path / "report.json").read_text())["duration_s"] == 12.5
    assert "12.5 s" in render_html(report, plots=False)
