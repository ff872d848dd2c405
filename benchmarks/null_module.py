"""A null module for the benchmarks: the safety core's three components, each replying
with one fixed, valid record (the HV path closed, no fault, an empty fault memory).

With it in the loop, what remains is the bench's own cost: the plant, the transport,
reply validation and trace recording (benchmarks/closed_loop.py compares it with the
plant alone). ``step`` returns a new dict of the same values each time, as a module does.
"""

from __future__ import annotations

from typing import Any

from reference_impl.interfaces import DTC_TABLE, ContactorState, DtcStatus, SafetyState

_N = len(DTC_TABLE)


class _Null:
    REPLY: dict[str, Any] = {}

    def configure(self, parameters: dict[str, Any]) -> None:
        pass

    def reset(self) -> None:
        pass

    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        return dict(self.REPLY)


class NullSafetySupervisor(_Null):
    REPLY = {"safety_state": int(SafetyState.NORMAL), "safety_warning_flags": 0,
             "safety_request_flags": 0, "safety_fault_flags": 0,
             "charge_current_limit_A": 100.0, "discharge_current_limit_A": 200.0,
             "contactor_open_request": False}


class NullContactorManager(_Null):
    REPLY = {"main_positive_close_cmd": True, "main_negative_close_cmd": True,
             "precharge_close_cmd": False, "contactor_state": int(ContactorState.CLOSED),
             "precharge_attempts": 1, "contactor_fault_flags": 0}


class NullDiagnostics(_Null):
    REPLY = {"dtc_status": [int(DtcStatus.INACTIVE)] * _N, "dtc_occurrences": [0] * _N,
             "dtc_first_time_s": [-1.0] * _N, "dtc_last_time_s": [-1.0] * _N}


COMPONENTS = {"safety_supervisor": "null_module:NullSafetySupervisor",
              "contactor_manager": "null_module:NullContactorManager",
              "diagnostics": "null_module:NullDiagnostics"}
