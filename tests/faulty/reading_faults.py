"""Faulty modules for the readings of spec 0.2.0: each takes the other reading of a point the
text used to leave open (or reintroduces a defect a random-sequence test found in the
reference), on the reference component with that one detail changed.

``READING_CATALOGUE`` says which requirement each breaks; the pinning test cases in
``conformance/suite/test_readings.py`` must make it fail exactly that requirement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import SafetySupervisorFault

from .modules import Faulty, _f

_OVERCURRENT = int(SafetySupervisorFault.CHARGE_OVERCURRENT
                   | SafetySupervisorFault.DISCHARGE_OVERCURRENT)


class PrechargeRestartsOnRequest(ContactorManager):
    """A withdrawn close request (or an open request) forgets the precharge history: the
    retry wait and the count of failed attempts restart with the next close request, so a
    request dropped for one step after each timeout precharges without rest or end (the
    reference's defect before 0.2.0)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if inputs["contactor_open_request"] or not inputs["close_request"]:
            self._abort_s = None
            self._count_from_zero = True
        return super()._step(t, inputs)


class NanCurrentResets(SafetySupervisor):
    """A NaN current reading counts as zero when a reset request is judged: the over-current
    faults clear although the current is unknown (the reference's defect before 0.2.0)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        current = float(inputs["pack_current_A"])
        if inputs.get("fault_reset_request", False) and math.isnan(current):
            self._latched &= ~_OVERCURRENT
            out["safety_fault_flags"] = int(out["safety_fault_flags"]) & ~_OVERCURRENT
        return out


#: module → the requirements it must fail (and it must fail no other)
READING_CATALOGUE: tuple[Faulty, ...] = (
    _f("contactor_manager", PrechargeRestartsOnRequest, "OBSA-CONT-004"),
    _f("safety_supervisor", NanCurrentResets, "OBSA-SAFE-014"),
)
