"""``obsa certify`` owns its run: ``--out`` checked before anything runs, one live run per
directory, the exit status from this run's own report, and stop signals that end in an
``interrupted`` report and 128 + N.
"""

from __future__ import annotations

import fcntl
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .runs import PLANTED_RUN_ID, ROOT, Run, certify, manifest_for, plant_old_report


def _refused_up_front(run: Run, says: str) -> None:
    assert run.exit_code == 2, run.output
    lines = run.output.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], run.output
    assert lines[0].startswith("obsa certify: --out ")
    assert run.leftovers == []


def test_out_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report"
    target.write_text("not a directory")
    _refused_up_front(certify("reference", target), "is a file; expected a directory")
    assert target.read_text() == "not a directory"


def test_out_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    _refused_up_front(certify("reference", tmp_path / "file" / "out"), "is under a file")


def test_out_cannot_be_written(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes through file modes: use a directory nobody can write
        target = Path("/sys/kernel")
    else:
        target = tmp_path / "read-only"
        target.mkdir()
        target.chmod(0o555)
    _refused_up_front(certify("reference", target), "cannot write in the directory")


def test_out_cannot_be_created() -> None:
    _refused_up_front(certify("reference", Path("/proc/obsa-no-such-dir/out")),
                      "cannot create the directory")


def test_a_directory_held_by_a_live_run_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    plant_old_report(out)
    with open(out / ".obsa-run.lock", "w") as lock:
        lock.write("pid 4242, run 0123abcd\n")
        lock.flush()
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        run = certify("reference", out)
    _refused_up_front(run, "another run is writing there (pid 4242, run 0123abcd)")
    assert (out / "report.json").read_text().count(PLANTED_RUN_ID) == 1  # left alone


def test_a_selection_pytest_cannot_use_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    plant_old_report(out)
    run = certify("reference", out, "--no-progress", "-k", "(")
    assert run.exit_code == 2, run.output
    assert "the suite could not run as asked" in run.output
    assert run.report is not None and run.report["run_id"] != PLANTED_RUN_ID


def test_a_run_without_its_own_report_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    """Whatever stops the suite before its report (here: a suite that writes none), the old
    report is gone and the status is 2, with the reason."""
    import pytest as pytest_module

    from conformance import certify as certify_module

    out = tmp_path / "out"
    plant_old_report(out)
    monkeypatch.setattr(pytest_module, "main", lambda args: 0)
    assert certify_module.run_certify("reference", out) == 2
    assert "ended without writing its report" in capsys.readouterr().err
    assert not (out / "report.json").exists()


def test_the_report_is_this_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    plant_old_report(out)
    run = certify("reference", out, "--no-progress", "-k", "test_reset_keeps_history")
    assert run.report is not None and run.report["run_id"] != PLANTED_RUN_ID
    assert len(run.report["run_id"]) == 32
    assert run.report["manifest_sha256"] and len(run.report["manifest_sha256"]) == 64
    files = run.report["module_files"]
    # the file of every component class of the reference (the whole BMS), and no other
    assert {"reference_impl/functions/safety.py", "reference_impl/functions/contactors.py",
            "reference_impl/services/diagnostics.py", "reference_impl/functions/soh.py",
            "reference_impl/hal/cell_monitor.py"} <= set(files)
    assert all(name.startswith("reference_impl/") and name.endswith(".py") for name in files)
    import hashlib

    safety = (ROOT / "reference_impl/functions/safety.py").read_bytes()
    assert files["reference_impl/functions/safety.py"] == hashlib.sha256(safety).hexdigest()
    assert not list(out.glob(".*.tmp"))  # every file was renamed into place


def test_in_process_mode_is_never_certified(tmp_path: Path) -> None:
    run = certify("reference", tmp_path / "out", "--no-progress", "--in-process", "-k",
                  "test_reset_keeps_history")
    assert run.report is not None and run.report["in_process"] is True
    assert run.report["outcome"] == "not-certified" and run.exit_code == 1
    assert "ran in process (debugging mode): never certified" in run.output


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, Path]]:
    """The slow module stopped by each stop signal (a module that signals the bench itself
    is in the hostile catalogue: that is its error, not a stop)."""
    base = tmp_path_factory.mktemp("signals")
    jobs = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        d = base / sig.name
        d.mkdir()
        plant_old_report(d / "out")
        manifest = manifest_for("tests.hostile.behaviours:SlowButCorrect", d)
        jobs[sig.name] = (manifest, d / "out", (sig, 0.3))
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(certify, m, out, send=send)
                   for name, (m, out, send) in jobs.items()}
        return {name: (f.result(), jobs[name][1]) for name, f in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name,status", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_stop_signal_writes_an_interrupted_report(stopped, name: str, status: int) -> None:
    run, out = stopped[name]
    assert run.exit_code == status, run.output[-3000:]
    report = run.report
    assert report is not None and report["run_id"] != PLANTED_RUN_ID
    assert report["outcome"] == "interrupted"
    assert report["interrupted_by"] == name
    not_run = [r for r in report["results"] if not r["test_case"]]
    assert not_run and all(r["verdict"] == "inconclusive" and "interrupted" in
                           r["evidence"]["message"] for r in not_run)
    assert any(r["test_case"] for r in report["results"])  # what ran is reported
    assert "Traceback" not in run.output, run.output[-3000:]
    assert run.leftovers == []
    assert not list(out.glob(".*.tmp"))


def test_a_module_that_kills_the_bench_still_ends_in_a_report(tmp_path: Path) -> None:
    """SIGKILL to the bench process cannot be caught: the guardian process of
    ``obsa certify`` writes the report of the interrupted run, kills what is left of the
    module and exits 128 + 9 — never a lost run, never a certificate."""
    out = tmp_path / "out"
    plant_old_report(out)
    run = certify(manifest_for("tests.hostile.behaviours:KillsTheBench", tmp_path), out,
                  "--no-progress")
    assert run.exit_code == 128 + signal.SIGKILL, run.output
    assert run.report is not None and run.report["run_id"] != PLANTED_RUN_ID, run.output
    assert run.report["outcome"] == "interrupted"
    assert "killed by SIGKILL" in run.output
    assert run.leftovers == []
