"""Hostile modules certified through the real CLI: none can fake a certificate, hang the
run or outlive it.

Every module here is the reference safety supervisor plus one attack (tests/hostile/
behaviours.py, tests/hostile/at_import/). Each is certified in a fresh process with an
old certified report planted in ``--out``; the runs go in parallel and select two short
test cases (one with the supervisor in the loop, one without). For each: the exit status
is 1 (judged and not certified), report.json is complete and from this run, the verdicts
and the error message are the expected ones, no traceback is printed, and no process the
run started is left.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from .runs import (
    DIAG_CASE,
    PLANTED_RUN_ID,
    SELECTION,
    SS_CASE,
    Run,
    certify,
    manifest_for,
    plant_old_report,
)

B = "tests.hostile.behaviours"
AT_IMPORT = "tests.hostile.at_import"


@dataclass(frozen=True)
class Hostile:
    name: str
    ref: str
    ss: str  # expected verdict of the supervisor's test case
    diag: str  # expected verdict of the diagnostics test case (no supervisor in the loop)
    says: str = ""  # what the supervisor's verdict message must say
    memory_limit_MB: int | None = None


HOSTILE: tuple[Hostile, ...] = (
    Hostile("exit_0_at_import", f"{AT_IMPORT}.exit_0:Module", "error", "error",
            "exited with status 0 during start-up"),
    Hostile("system_exit_at_import", f"{AT_IMPORT}.system_exit:Module", "error", "error",
            "raised SystemExit: 0"),
    Hostile("keyboard_interrupt_at_import", f"{AT_IMPORT}.keyboard_interrupt:Module", "error",
            "error",
            "raised KeyboardInterrupt"),
    Hostile("base_exception_at_import", f"{AT_IMPORT}.base_exception:Module", "error", "error",
            "LicenceRevoked: no seat available"),
    Hostile("loop_at_import", f"{AT_IMPORT}.loops:Module", "error", "error",
            "no reply within the timeout of 5 s"),
    Hostile("exit_0_in_init", f"{B}:ExitInInit", "error", "error",
            "exited with status 0 during start-up"),
    Hostile("loop_in_init", f"{B}:LoopsInInit", "error", "error",
            "no reply within the timeout of 5 s"),
    Hostile("exit_0_in_step", f"{B}:ExitInStep", "error", "pass",
            "exited with status 0 during safety_supervisor.step"),
    Hostile("system_exit_in_step", f"{B}:SystemExitInStep", "error", "pass",
            "raised SystemExit: 0"),
    Hostile("keyboard_interrupt_in_step", f"{B}:KeyboardInterruptInStep", "error", "pass",
            "raised KeyboardInterrupt"),
    Hostile("base_exception_in_step", f"{B}:BaseExceptionInStep", "error", "pass",
            "raised Meltdown: core breach"),
    Hostile("disarms_timer_and_blocks", f"{B}:DisarmsTimerAndBlocks", "error", "pass",
            "no reply within the timeout of 0.5 s"),
    Hostile("kills_itself", f"{B}:KillsItself", "error", "pass", "was killed by SIGKILL"),
    Hostile("stops_itself", f"{B}:StopsItself", "error", "pass", "no reply within"),
    Hostile("memory_hog", f"{B}:MemoryHog", "error", "pass", "raised MemoryError",
            memory_limit_MB=1024),
    Hostile("non_daemon_thread", f"{B}:NonDaemonThread", "error", "pass", "no reply within"),
    Hostile("grandchild", f"{B}:SpawnsGrandchild", "pass", "pass"),
    Hostile("grandchild_own_group", f"{B}:DetachedGrandchild", "pass", "pass"),
    Hostile("grandchild_own_session", f"{B}:SessionGrandchild", "pass", "pass"),
    Hostile("stdout_flood", f"{B}:FloodsStdout", "pass", "pass"),
    Hostile("fake_replies_on_stdout", f"{B}:FakesReplies", "fail", "pass"),
    Hostile("tampers_with_inputs", f"{B}:TampersWithInputs", "fail", "pass"),
    Hostile("kills_parent", f"{B}:KillsParent", "error", "pass",
            "the module sent SIGTERM to the bench"),
)


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every selected hostile module's certification, in parallel (``-k`` selects)."""
    selected = {item.callspec.params["hostile"].name for item in request.session.items
                if "hostile" in getattr(getattr(item, "callspec", None), "params", {})}
    base = tmp_path_factory.mktemp("hostile")
    jobs = {}
    for h in HOSTILE:
        if h.name not in selected:
            continue
        d = base / h.name
        d.mkdir()
        out = d / "out"
        plant_old_report(out)
        options: dict = {"startup_timeout_s": 5}
        if h.memory_limit_MB:
            options["memory_limit_MB"] = h.memory_limit_MB
        manifest = manifest_for(h.ref, d, timeout_s=0.5, options=options)
        jobs[h.name] = (manifest, out)
    with ThreadPoolExecutor(max_workers=max(4, 2 * (os.cpu_count() or 2))) as pool:
        futures = {name: pool.submit(certify, m, out, "--no-progress", "-k", SELECTION)
                   for name, (m, out) in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.name)
def test_hostile_module_cannot_fake_hang_or_outlive_the_run(runs: dict[str, Run],
                                                            hostile: Hostile) -> None:
    run = runs[hostile.name]
    tail = run.output[-3000:]
    assert run.report is not None, tail
    assert run.report["run_id"] != PLANTED_RUN_ID, "the exit status came from an old report"
    assert run.exit_code == 1, tail  # judged: never certified (two test cases selected)
    assert run.report["outcome"] == "not-certified"
    assert run.report["in_process"] is False
    assert "Traceback" not in run.output, tail
    verdicts = run.verdicts()
    assert verdicts[SS_CASE] == {hostile.ss}, (verdicts[SS_CASE], run.messages(SS_CASE))
    assert verdicts[DIAG_CASE] == {hostile.diag}, (verdicts[DIAG_CASE],
                                                   run.messages(DIAG_CASE))
    if hostile.says:
        assert all(hostile.says in m for m in run.messages(SS_CASE)), run.messages(SS_CASE)
    assert run.leftovers == [], f"processes left behind: {run.leftovers}"
    if hostile.name == "stdout_flood":  # the flood landed in the bounded stderr capture
        log = run.out / "module-stderr.log"
        assert 0 < log.stat().st_size <= 64 * 1024 and "xxxx" in log.read_text()
