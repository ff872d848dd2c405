"""The read-only application interface of user interfaces and service tools (spec:
interfaces/hmi_api.yaml, requirements OBSA-HMI-001 to 004 and OBSA-REG-016).

Every hmi_refresh_period_s the API takes a snapshot of its inputs — the pack's state of
charge and health, voltage, current, safety and contactor state, current limits and the
status of every DTC — and serves it through the ``hmi_*`` outputs, with the time it was taken
(hmi_snapshot_time_s) and the number of active DTCs, until the next snapshot. A snapshot is
taken at one step: it mixes no instants (OBSA-HMI-002).

Timing. The first step after reset() takes a snapshot, whatever its time; a step takes the
next one once at least hmi_refresh_period_s has passed since the snapshot served (measured
from that snapshot's time, so that uneven steps or a late first step change nothing), so the
snapshot served is always younger than the period (OBSA-HMI-001 allows one step more).
Before the first snapshot — only between reset() and the first step — the outputs hold their
start values: hmi_snapshot_time_s −1, every other field 0, the cell arrays empty.

Inputs out of what the outputs can carry: the outputs have the ranges of the signals they
copy, so a snapshot field equals its input for every valid input. A number that is not finite
keeps the field's previous value (an element of a cell array likewise; a display shows the
last known value rather than NaN), a finite one outside the signal's range is clipped to it;
an enum value that is not a member of its enum (a DTC status included) likewise keeps the
previous value. The active-DTC count is that of the statuses served.

Read-only. The API has no command input: nothing it receives reaches another component. The
state-of-health and lifetime data of Regulation (EU) 2023/1542 (its other inputs) have no
output of the interface; :attr:`HmiApi.lifetime_data` serves them unchanged, as of the
snapshot, through a read-only mapping — what the transport (outside the interface) exposes to
the owner and to independent operators (OBSA-REG-016, a demonstration).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..component import TIME_EPS_S, Block
from ..interfaces import DTC_TABLE, SIGNAL_FORMAT, ContactorState, DtcStatus, SafetyState

COMPONENT = "hmi_api"

#: (output, input) of every float field of the snapshot
_NUMBERS = (
    ("hmi_pack_soc", "pack_soc"),
    ("hmi_soh_capacity", "soh_capacity"),
    ("hmi_pack_voltage_V", "pack_voltage_V"),
    ("hmi_pack_current_A", "pack_current_A"),
    ("hmi_charge_current_limit_A", "charge_current_limit_A"),
    ("hmi_discharge_current_limit_A", "discharge_current_limit_A"),
)
#: (output, input, the enum's values) of every enum field
_ENUMS = (
    ("hmi_safety_state", "safety_state", frozenset(int(v) for v in SafetyState)),
    ("hmi_contactor_state", "contactor_state", frozenset(int(v) for v in ContactorState)),
)
#: (output, input) of every array field (the cell arrays)
_ARRAYS = (
    ("hmi_cell_voltage_V", "cell_voltage_V"),
    ("hmi_cell_temperature_degC", "cell_temperature_degC"),
)
_DTC_VALUES = np.array(sorted(int(v) for v in DtcStatus))
_ACTIVE = int(DtcStatus.ACTIVE)
#: the Annex VII inputs (state of health and lifetime data) served by :attr:`lifetime_data`
LIFETIME_INPUTS = (
    "soh_capacity", "pack_capacity_Ah", "power_capability_W", "round_trip_efficiency",
    "self_discharge_current_A", "pack_resistance_ohm", "soce",
    "battery_manufacture_date_s", "battery_service_start_date_s", "charged_capacity_Ah",
    "discharged_capacity_Ah", "charged_energy_Wh", "discharged_energy_Wh",
    "equivalent_full_cycles", "deep_discharge_events", "time_above_temperature_max_s",
    "time_below_temperature_min_s", "charge_time_above_temperature_max_s",
    "charge_time_below_temperature_min_s",
)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class HmiApi(Block):
    """A snapshot of the pack's state every hmi_refresh_period_s, served until the next."""

    COMPONENT = COMPONENT

    def _setup(self, p: dict[str, Any]) -> None:
        self._period_s = float(p["hmi_refresh_period_s"])

    def reset(self) -> None:
        """No snapshot yet: every output at its start value."""
        self._snapshot_s: float | None = None
        self._served: dict[str, Any] = {
            "hmi_snapshot_time_s": -1.0,
            **{out: 0.0 for out, _ in _NUMBERS},
            **{out: 0 for out, _, _ in _ENUMS},
            "hmi_dtc_status": _read_only(np.zeros(len(DTC_TABLE), dtype=np.int64)),
            "hmi_active_dtc_count": 0,
            **{out: _read_only(np.zeros(0)) for out, _ in _ARRAYS},
        }
        self._lifetime: Mapping[str, Any] = MappingProxyType({})

    @property
    def lifetime_data(self) -> Mapping[str, Any]:
        """The state-of-health and lifetime inputs at the snapshot time, read-only."""
        return self._lifetime

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Take a snapshot at ``t`` (s) when the one served is a period old; serve it."""
        if (self._snapshot_s is None or t < self._snapshot_s
                or t - self._snapshot_s >= self._period_s - TIME_EPS_S):
            self._take(t, inputs)
        return dict(self._served)

    def _take(self, t: float, inputs: Mapping[str, Any]) -> None:
        served = self._served
        fresh: dict[str, Any] = {"hmi_snapshot_time_s": t}
        for out, signal in _NUMBERS:
            value = float(inputs[signal])
            if math.isfinite(value):
                low, high = SIGNAL_FORMAT[out][:2]
                fresh[out] = min(max(value, low), high)
            else:
                fresh[out] = served[out]
        for out, signal, members in _ENUMS:
            value = int(inputs[signal])
            fresh[out] = value if value in members else served[out]
        for out, signal in _ARRAYS:
            values = np.asarray(inputs[signal], dtype=float)
            low, high = SIGNAL_FORMAT[out][:2]
            before = served[out] if served[out].shape == values.shape else np.zeros(values.shape)
            fresh[out] = _read_only(np.where(np.isfinite(values),
                                             np.clip(values, low, high), before))
        status = np.asarray(inputs["dtc_status"], dtype=np.int64)
        previous = served["hmi_dtc_status"]
        if previous.shape != status.shape:
            previous = np.zeros(status.shape, dtype=np.int64)
        status = _read_only(np.where(np.isin(status, _DTC_VALUES), status, previous))
        fresh["hmi_dtc_status"] = status
        fresh["hmi_active_dtc_count"] = int(np.count_nonzero(status == _ACTIVE))
        self._served = fresh
        self._snapshot_s = t
        self._lifetime = MappingProxyType({name: inputs[name] for name in LIFETIME_INPUTS})
