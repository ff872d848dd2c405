"""The reference fault memory against the behaviour of the spec (OBSA-DIAG-*)."""

from __future__ import annotations

from typing import Any

import pytest

from reference_impl.component import ConfigurationError
from reference_impl.interfaces import (
    DTC_TABLE,
    FLAGS_SIGNALS,
    ContactorManagerFault,
    DiagnosticsInputs,
    DtcStatus,
)
from reference_impl.interfaces import SafetySupervisorFault as F
from reference_impl.services.diagnostics import Diagnostics

N = len(DTC_TABLE)
ROW = {(component, fault): i for i, (_dtc, component, fault, _bit, _sev) in enumerate(DTC_TABLE)}
OV = ROW["safety_supervisor", "cell_overvoltage"]
UV = ROW["safety_supervisor", "cell_undervoltage"]
WELD = ROW["contactor_manager", "main_positive_welded"]


def step(diag: Diagnostics, t: float, safety: int = 0, contactor: int = 0,
         reset: bool = False) -> dict[str, Any]:
    return diag.step(t, {"safety_fault_flags": safety, "contactor_fault_flags": contactor,
                         "fault_reset_request": reset})


def test_power_on_memory_is_empty_and_in_dtc_order(spec) -> None:
    out = step(Diagnostics(), 0.0)
    assert set(out) == {p.signal for p in spec.interfaces["diagnostics"].outputs}
    dtcs = sorted(f.dtc for itf in spec.interfaces.values() for f in itf.fault_codes)
    assert [row[0] for row in DTC_TABLE] == dtcs
    assert out["dtc_status"] == (DtcStatus.INACTIVE,) * len(dtcs)
    assert out["dtc_occurrences"] == (0,) * N
    assert out["dtc_first_time_s"] == (-1.0,) * N
    assert out["dtc_last_time_s"] == (-1.0,) * N
    assert all(type(v) is int for v in out["dtc_status"] + out["dtc_occurrences"])
    assert all(type(v) is float for v in out["dtc_first_time_s"] + out["dtc_last_time_s"])


def test_an_unchanged_memory_is_the_same_tuples_and_a_change_leaves_old_replies_alone() -> None:
    diag = Diagnostics()
    first = step(diag, 0.0)
    again = step(diag, 0.01)
    assert first is not again  # a new record every step ...
    assert all(again[k] is first[k] for k in first)  # ... of the very same tuples
    changed = step(diag, 0.02, safety=F.CELL_OVERVOLTAGE)
    assert changed["dtc_status"][OV] == DtcStatus.ACTIVE
    assert first["dtc_status"][OV] == DtcStatus.INACTIVE  # an earlier reply never changes
    assert step(diag, 0.03, safety=F.CELL_OVERVOLTAGE)["dtc_status"] is changed["dtc_status"]


def test_rising_edge_activates_counts_and_stamps() -> None:
    diag = Diagnostics()
    step(diag, 0.0)
    out = step(diag, 0.01, safety=F.CELL_OVERVOLTAGE)
    assert out["dtc_status"][OV] == DtcStatus.ACTIVE
    assert out["dtc_occurrences"][OV] == 1
    assert out["dtc_first_time_s"][OV] == out["dtc_last_time_s"][OV] == 0.01
    assert sum(out["dtc_occurrences"]) == 1
    out = step(diag, 0.5, safety=F.CELL_OVERVOLTAGE)  # held: no new occurrence
    assert out["dtc_occurrences"][OV] == 1


def test_falling_edge_stores_and_a_new_edge_counts_again() -> None:
    diag = Diagnostics()
    step(diag, 0.0, safety=F.CELL_OVERVOLTAGE)
    out = step(diag, 1.0)
    assert out["dtc_status"][OV] == DtcStatus.STORED
    out = step(diag, 5.0)
    assert out["dtc_status"][OV] == DtcStatus.STORED  # stays stored without a reset
    out = step(diag, 7.0, safety=F.CELL_OVERVOLTAGE)
    assert out["dtc_status"][OV] == DtcStatus.ACTIVE
    assert out["dtc_occurrences"][OV] == 2
    assert out["dtc_first_time_s"][OV] == 0.0
    assert out["dtc_last_time_s"][OV] == 7.0


def test_reset_clears_stored_keeps_active_and_history() -> None:
    diag = Diagnostics()
    step(diag, 0.0, safety=F.CELL_OVERVOLTAGE | F.CELL_UNDERVOLTAGE)
    step(diag, 1.0, safety=F.CELL_UNDERVOLTAGE)  # over-voltage healed: stored
    before = step(diag, 2.0, safety=F.CELL_UNDERVOLTAGE)
    out = step(diag, 3.0, safety=F.CELL_UNDERVOLTAGE, reset=True)
    assert out["dtc_status"][OV] == DtcStatus.INACTIVE
    assert out["dtc_status"][UV] == DtcStatus.ACTIVE
    for name in ("dtc_occurrences", "dtc_first_time_s", "dtc_last_time_s"):
        assert out[name] == before[name]


def test_contactor_faults_map_to_their_rows() -> None:
    diag = Diagnostics()
    out = step(diag, 0.25, contactor=ContactorManagerFault.MAIN_POSITIVE_WELDED)
    assert out["dtc_status"][WELD] == DtcStatus.ACTIVE
    assert DTC_TABLE[WELD][0] == 0x0202
    assert [i for i, s in enumerate(out["dtc_status"]) if s] == [WELD]


def test_every_fault_flags_signal_and_bit_maps_to_its_own_row() -> None:
    inputs = {}
    for signal, component in FLAGS_SIGNALS.items():
        if signal.endswith("_fault_flags") and signal in DiagnosticsInputs.__annotations__:
            inputs[signal] = sum(1 << bit for _d, owner, _f, bit, _s in DTC_TABLE
                                 if owner == component)
    assert {"safety_fault_flags", "contactor_fault_flags"} <= set(inputs)
    out = Diagnostics().step(0.0, inputs)
    assert out["dtc_status"] == (DtcStatus.ACTIVE,) * N
    assert out["dtc_occurrences"] == (1,) * N


def test_missing_flags_signal_is_ignored() -> None:
    diag = Diagnostics()
    out = diag.step(0.0, {"safety_fault_flags": F.CELL_OVERVOLTAGE})
    assert out["dtc_status"][OV] == DtcStatus.ACTIVE


def test_power_on_reset_erases_the_memory() -> None:
    diag = Diagnostics()
    step(diag, 0.0, safety=F.CELL_OVERVOLTAGE)
    diag.reset()
    out = step(diag, 1.0)
    assert out["dtc_occurrences"][OV] == 0
    assert out["dtc_status"][OV] == DtcStatus.INACTIVE


def test_outputs_are_snapshots() -> None:
    diag = Diagnostics()
    out = step(diag, 0.0, safety=F.CELL_OVERVOLTAGE)
    step(diag, 1.0)
    assert out["dtc_status"][OV] == DtcStatus.ACTIVE


def test_no_parameters() -> None:
    with pytest.raises(ConfigurationError):
        Diagnostics().configure({"debounce_s": 0.1})
