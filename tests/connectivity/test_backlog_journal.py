"""The reference telemetry's backlog in the non-volatile store (OBSA-CONN-007): restored at
power-up, erased by reset(), untouched while the link is up and the backlog empty, bounded,
and read up to a line cut while written."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reference_impl.connectivity.backlog_journal import JournaledBacklog
from reference_impl.connectivity.telemetry import JOURNAL, Telemetry
from reference_impl.services.nvm import NVM_VARIABLE

PARAMS = {"publish_period_s": 1.0, "buffer_capacity_records": 20}


def _inputs(k: int, up: bool) -> dict[str, Any]:
    return {"pack_soc": 0.5, "soh_capacity": 0.9, "pack_voltage_V": 350.0 + k % 7,
            "pack_current_A": 10.0, "charge_current_limit_A": 50.0,
            "discharge_current_limit_A": 100.0, "cell_voltage_V": np.full(4, 3.7),
            "cell_temperature_degC": np.full(2, 25.0), "safety_state": 0,
            "contactor_state": 0, "uplink_connected": up}


def _run(tel: Telemetry, first: int, last: int, up: bool) -> list[dict[str, Any]]:
    """Step at 0.1 s from step ``first`` to ``last`` − 1: the outputs of each step."""
    return [tel.step(k * 0.1, _inputs(k, up)) for k in range(first, last)]


def _powered_up() -> Telemetry:
    tel = Telemetry()
    tel.configure(PARAMS)
    return tel


@pytest.fixture
def nvm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(NVM_VARIABLE, str(tmp_path))
    return tmp_path


def test_the_backlog_survives_a_restart_and_drains_in_order(nvm: Path) -> None:
    tel = _powered_up()
    _run(tel, 0, 30, up=True)
    down = _run(tel, 30, 95, up=False)  # 7 records sampled, none published
    buffered = [r["telemetry_record_time_s"] for r in tel.buffered()]
    assert down[-1]["telemetry_backlog_records"] == len(buffered) == 7
    restarted = _powered_up()  # the power cut: a new instance, configured, not reset
    assert [r["telemetry_record_time_s"] for r in restarted.buffered()] == buffered
    out = _run(restarted, 95, 130, up=True)
    stamps = [o["telemetry_record_time_s"] for o in out if o["telemetry_record_published"]]
    assert stamps[:7] == buffered
    assert stamps == sorted(set(stamps))
    assert out[-1]["telemetry_backlog_records"] == 0


def test_reset_is_a_new_gateway(nvm: Path) -> None:
    tel = _powered_up()
    _run(tel, 0, 50, up=False)
    tel.reset()
    assert list(_powered_up().buffered()) == []


def test_nothing_is_written_while_the_link_is_up_and_the_backlog_empty(nvm: Path) -> None:
    tel = _powered_up()
    _run(tel, 0, 5, up=True)
    journal = nvm / JOURNAL
    before = journal.stat()
    _run(tel, 5, 300, up=True)
    after = journal.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert journal.read_text() == "N 0\n"


def test_an_overflow_keeps_the_journal_bounded_and_the_count(nvm: Path) -> None:
    tel = _powered_up()
    out = _run(tel, 0, 600, up=False)  # 60 records into 20
    assert out[-1]["telemetry_dropped_records"] == 40
    lines = (nvm / JOURNAL).read_text().count("\n")
    assert lines <= 2 * PARAMS["buffer_capacity_records"] + 8
    restarted = _powered_up()
    assert len(list(restarted.buffered())) == 20
    assert _run(restarted, 600, 601, up=False)[0]["telemetry_dropped_records"] == 41


def test_a_line_cut_while_written_is_not_read(nvm: Path) -> None:
    tel = _powered_up()
    _run(tel, 0, 35, up=False)  # 4 records
    with open(nvm / JOURNAL, "a", encoding="utf-8") as f:
        f.write('R {"telemetry_record_time_s": 3.5, "telem')
    backlog = JournaledBacklog.restore(nvm / JOURNAL, 20)
    assert len(backlog) == 4
    assert backlog.problem is not None and "without a newline" in backlog.problem
    assert JOURNAL in backlog.problem
    backlog.close()
    assert len(list(_powered_up().buffered())) == 4  # the journal rewritten clean


def test_a_line_that_is_no_change_stops_the_reading_and_says_where(nvm: Path) -> None:
    (nvm / JOURNAL).write_text('N 2\nR {"a": 1}\nX\nR {"a": 2}\n', encoding="utf-8")
    backlog = JournaledBacklog.restore(nvm / JOURNAL, 20)
    assert list(backlog) == [{"a": 1}] and backlog.dropped == 2
    assert backlog.problem is not None and "line 3" in backlog.problem
    assert "expected a change N, R, P, T or C, found 'X'" in backlog.problem
    backlog.close()


def test_without_a_store_the_backlog_is_in_memory_only(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NVM_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    tel = _powered_up()
    _run(tel, 0, 50, up=False)
    assert type(tel._buffer) is deque
    assert list(tmp_path.iterdir()) == []
