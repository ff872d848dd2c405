"""Faulty HMI APIs (OBSA-HMI-001 to 003): the reference with one realistic defect each, the
requirement each breaks, a correct API written otherwise that must pass
(:class:`ScheduledHmi`, declared with another refresh period), and the catalogue's area
"hmi" (:func:`area`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.component import TIME_EPS_S
from reference_impl.connectivity.hmi_api import HmiApi
from reference_impl.interfaces import DtcStatus

from .modules import Faulty

HMI = "hmi_api"
_INACTIVE = int(DtcStatus.INACTIVE)
_ACTIVE = int(DtcStatus.ACTIVE)


class EventDrivenHmi(HmiApi):
    """Takes a snapshot only when the safety state, the contactor state or a DTC status
    changes (an event-driven display): between events the numbers it serves grow old."""

    def reset(self) -> None:
        super().reset()
        self._key: tuple[Any, ...] | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        key = (int(inputs["safety_state"]), int(inputs["contactor_state"]),
               tuple(int(x) for x in np.asarray(inputs["dtc_status"])))
        if key != self._key:
            self._key = key
            self._take(t, inputs)
        return dict(self._served)


class LaggingCurrentHmi(HmiApi):
    """Serves the pack current of the step before the snapshot (copied before the inputs
    were refreshed): the snapshot mixes two instants."""

    def reset(self) -> None:
        super().reset()
        self._previous_A = 0.0

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        current = float(inputs["pack_current_A"])
        out = super()._step(t, {**inputs, "pack_current_A": self._previous_A})
        self._previous_A = current
        return out


class LaggingCellsHmi(HmiApi):
    """Serves the cell arrays of the step before the snapshot (a copy refreshed after the
    snapshot was built): the cell bars lag the rest of the snapshot by one step."""

    def reset(self) -> None:
        super().reset()
        self._cells: dict[str, Any] | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        now = {k: np.array(inputs[k], copy=True)
               for k in ("cell_voltage_V", "cell_temperature_degC")}
        out = super()._step(t, {**inputs, **(self._cells or now)})
        self._cells = now
        return out


class SinglePrecisionClockHmi(HmiApi):
    """Keeps the snapshot time in single precision (a float32 timestamp): far from the
    clock's start it names another instant than the one the snapshot was taken at."""

    def _take(self, t: float, inputs: Mapping[str, Any]) -> None:
        super()._take(t, inputs)
        self._served["hmi_snapshot_time_s"] = float(np.float32(t))


class ActiveCountsStored(HmiApi):
    """Counts every DTC that is not inactive as active: a stored DTC still counts."""

    def _take(self, t: float, inputs: Mapping[str, Any]) -> None:
        super()._take(t, inputs)
        status = self._served["hmi_dtc_status"]
        self._served["hmi_active_dtc_count"] = int(np.count_nonzero(status != _INACTIVE))


class DtcTableTruncated(HmiApi):
    """Serves the status of the first 16 DTCs only (a 32-bit field of 2-bit statuses); the
    others read inactive and are not counted."""

    SERVED = 16

    def _take(self, t: float, inputs: Mapping[str, Any]) -> None:
        super()._take(t, inputs)
        status = np.array(self._served["hmi_dtc_status"])
        status[self.SERVED:] = _INACTIVE
        status.flags.writeable = False
        self._served["hmi_dtc_status"] = status
        self._served["hmi_active_dtc_count"] = int(np.count_nonzero(status == _ACTIVE))


class ScheduledHmi(HmiApi):
    """A correct API written otherwise: the snapshots follow a fixed schedule (one every
    period from the first step, the next due time advanced by whole periods), not the time
    since the last snapshot."""

    def reset(self) -> None:
        super().reset()
        self._due_s = -math.inf

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._snapshot_s is None or t < self._snapshot_s:
            self._due_s = t
        if t >= self._due_s - TIME_EPS_S:
            self._take(t, inputs)
            while self._due_s <= t + TIME_EPS_S:
                self._due_s += self._period_s
        return dict(self._served)


def _slow_refresh(data: dict[str, Any]) -> None:
    data["configuration"].setdefault(HMI, {})["hmi_refresh_period_s"] = 0.35


def _faulty(cls: type, *breaks: str) -> Faulty:
    return Faulty(cls.__name__, HMI, cls, frozenset(breaks))


HMI_CATALOGUE: tuple[Faulty, ...] = (
    _faulty(EventDrivenHmi, "OBSA-HMI-001"),
    _faulty(LaggingCurrentHmi, "OBSA-HMI-002"),
    _faulty(LaggingCellsHmi, "OBSA-HMI-002"),
    # the age is measured from the rounded time, which may fall on either side of the true
    # one: OBSA-HMI-001 fails only when it falls a period or more before
    Faulty("SinglePrecisionClockHmi", HMI, SinglePrecisionClockHmi,
           frozenset({"OBSA-HMI-002"}), may_break=frozenset({"OBSA-HMI-001"})),
    _faulty(ActiveCountsStored, "OBSA-HMI-003"),
    _faulty(DtcTableTruncated, "OBSA-HMI-003"),
)
HMI_CORRECT: tuple[Faulty, ...] = (
    Faulty("ScheduledHmi", HMI, ScheduledHmi, frozenset(), edit=_slow_refresh),
)

def area() -> Any:
    """The area's entry of :data:`.full_bms_runs.AREAS` (an ``Area``)."""
    from .full_bms_runs import Area, lfp_200_cells, one_cell, twelve_cells_one_sensor

    return Area(
        select="hmi_api",
        faulty=HMI_CATALOGUE,
        correct=HMI_CORRECT,
        packs={"one cell": one_cell, "twelve cells one sensor": twelve_cells_one_sensor,
               "200 LFP cells": lfp_200_cells},
    )

