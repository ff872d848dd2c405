"""Random request and fault sequences against the reference components, with invariants as
the oracle (DESIGN.md §5: a seeded random scenario generator finds the sequences no one
wrote by hand).

Each example is a short list of segments — requests held for a random number of steps, a
quantity at a random value, a NaN or an invalid measurement — run on the 10 ms clock. The
invariants hold on every step whatever the sequence:

* contactors: no attempt starts less than precharge_retry_wait_s after the last one that
  ended without closing the path (timed out or abandoned); no more than
  precharge_max_attempts timed-out attempts without a successful closing or a fault reset in
  between; no close command rises while contactor_open_request is raised;
* supervisor: a latched fault clears only in a step with fault_reset_request raised, and
  never while its condition persists or its quantity is not validly measured; the deep
  discharge lockout never clears.

Examples are derandomized (reproducible in CI) and bounded to a few seconds in all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_helpers import DT, ContactorLoop, HvPlant, Stepper, nominal_safety_inputs

from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import PARAMETER_DEFAULTS
from reference_impl.interfaces import SafetySupervisorFault as F
from tests.faulty.reading_faults import NanCurrentResets, PrechargeRestartsOnRequest

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

CM = {k: float(v) for k, v in PARAMETER_DEFAULTS["contactor_manager"].items()}
SS = {k: float(v) for k, v in PARAMETER_DEFAULTS["safety_supervisor"].items()}


# ----------------------------------------------------------------------------- contactors
contactor_segment = st.tuples(
    st.booleans(),  # close_request
    st.sampled_from([False, False, False, True]),  # contactor_open_request
    st.sampled_from([False, False, False, True]),  # fault_reset_request
    st.integers(min_value=1, max_value=400),  # steps
)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(first, past-the-end) step indices of the True runs."""
    runs, start = [], None
    for k, f in enumerate([*flags, False]):
        if f and start is None:
            start = k
        elif not f and start is not None:
            runs.append((start, k))
            start = None
    return runs


@PROPERTY
@given(segments=st.lists(contactor_segment, min_size=1, max_size=12),
       precharges=st.sampled_from([False, False, True]))
def test_precharge_attempts_are_bounded_and_spaced(
        segments: list[tuple[bool, bool, bool, int]], precharges: bool) -> None:
    check_precharge_attempts(ContactorManager, segments, precharges)


def check_precharge_attempts(cls: type, segments: list[tuple[bool, bool, bool, int]],
                             precharges: bool) -> None:
    """The invariants of precharge attempts on one sequence (AssertionError: violated)."""
    loop = ContactorLoop(cls(), HvPlant(precharges=precharges))
    resets: list[int] = []
    for close, open_req, reset, steps in segments:
        if reset:
            resets.append(loop.k)
        loop.run(steps, close_request=close, contactor_open_request=open_req,
                 fault_reset_request=reset)
        loop.run(1, fault_reset_request=False)
    trace = loop.trace
    attempts = _runs([bool(o["precharge_close_cmd"]) for o in trace])
    closed_at = [k for k, o in enumerate(trace) if o["main_positive_close_cmd"]]
    wait_steps = round(CM["precharge_retry_wait_s"] / DT)
    timeout_steps = round(CM["precharge_timeout_s"] / DT)
    failed = 0
    for i, (start, end) in enumerate(attempts):
        if i:
            previous_start, previous_end = attempts[i - 1]
            succeeded = any(previous_start <= k < start for k in closed_at)
            if any(previous_start <= k < start for k in resets) or succeeded:
                failed = 0
            if not succeeded:
                assert start - previous_end >= wait_steps, (
                    f"attempt {i + 1} started {(start - previous_end) * DT:.2f} s after the "
                    f"last one ended without closing; wait {CM['precharge_retry_wait_s']} s")
        timed_out = end - start >= timeout_steps - 1 and not any(
            start <= k < end for k in closed_at)
        failed += timed_out
        assert failed <= CM["precharge_max_attempts"], (
            f"{failed} timed-out attempts without a successful closing or a reset")


@PROPERTY
@given(segments=st.lists(contactor_segment, min_size=1, max_size=12))
def test_no_close_command_rises_while_opening_is_requested(
        segments: list[tuple[bool, bool, bool, int]]) -> None:
    loop = ContactorLoop(ContactorManager(), HvPlant())
    for close, open_req, reset, steps in segments:
        loop.run(steps, close_request=close, contactor_open_request=open_req,
                 fault_reset_request=reset)
    names = ("main_positive_close_cmd", "main_negative_close_cmd", "precharge_close_cmd")
    requested = [bool(s) for s in _open_requests(segments)]
    for k in range(1, len(loop.trace)):
        if requested[k]:
            for n in names:
                assert not loop.trace[k][n], f"{n} closed at step {k} while opening is requested"


def _open_requests(segments: list[tuple[bool, bool, bool, int]]) -> list[bool]:
    return [open_req for _c, open_req, _r, steps in segments for _ in range(steps)]


# ----------------------------------------------------------------------------- supervisor
MSL_OV = SS["cell_voltage_max_msl_V"]
HEALED_OV = MSL_OV - SS["cell_voltage_max_hysteresis_V"]
MSL_DOC = SS["discharge_current_max_msl_A"]
HEALED_DOC = MSL_DOC - SS["discharge_current_max_hysteresis_A"]

supervisor_segment = st.fixed_dictionaries({
    "cell_V": st.sampled_from([3.7, 3.7, MSL_OV + 0.05, HEALED_OV + 0.01, math.nan, 2.0]),
    "cell_valid": st.sampled_from([True, True, True, False]),
    "current_A": st.sampled_from([0.0, -50.0, -(MSL_DOC + 20.0), -(HEALED_DOC + 1.0),
                                  math.nan]),
    "reset": st.booleans(),
    "steps": st.integers(min_value=1, max_value=60),
})


def _inputs(seg: dict[str, Any]) -> dict[str, Any]:
    inputs = nominal_safety_inputs()
    v = inputs["cell_voltage_V"].copy()
    v[5] = seg["cell_V"]
    valid = inputs["cell_voltage_valid"].copy()
    valid[5] = seg["cell_valid"]
    pack_V = float(np.nansum(v)) if math.isfinite(seg["cell_V"]) else float(3.7 * len(v))
    inputs.update(cell_voltage_V=v, cell_voltage_valid=valid, pack_voltage_V=pack_V,
                  pack_current_A=seg["current_A"], fault_reset_request=seg["reset"])
    return inputs


def _healed(bit: int, inputs: dict[str, Any]) -> bool:
    """Whether the condition of a latched fault has cleared by its hysteresis, measured."""
    v, valid = inputs["cell_voltage_V"], inputs["cell_voltage_valid"]
    current = inputs["pack_current_A"]
    if bit == int(F.CELL_OVERVOLTAGE):
        return bool(np.all(valid) and np.all(np.isfinite(v)) and np.max(v) <= HEALED_OV)
    if bit == int(F.DISCHARGE_OVERCURRENT):
        return math.isfinite(current) and -current <= HEALED_DOC
    return True  # the other faults: only the reset request is checked


@PROPERTY
@given(segments=st.lists(supervisor_segment, min_size=1, max_size=10))
def test_latched_faults_clear_only_by_a_reset_once_healed(
        segments: list[dict[str, Any]]) -> None:
    check_latching(SafetySupervisor, segments)


def check_latching(cls: type, segments: list[dict[str, Any]]) -> None:
    """The latching invariants on one sequence (AssertionError: violated)."""
    sup = Stepper(cls(), nominal_safety_inputs())
    latched = 0
    for seg in segments:
        inputs = _inputs(seg)
        for _ in range(seg["steps"]):
            flags = int(sup.step(**inputs)["safety_fault_flags"])
            cleared = latched & ~flags
            for bit in (1 << b for b in range(16)):
                if not cleared & bit or bit == int(F.INSULATION_WARNING):
                    continue
                assert bit != int(F.DEEP_DISCHARGE), "the deep-discharge lockout cleared"
                assert inputs["fault_reset_request"], f"fault bit {bit:#x} cleared by itself"
                assert _healed(bit, inputs), (
                    f"fault bit {bit:#x} cleared by a reset while its condition persists or "
                    f"its quantity is invalid: {seg}")
            latched = flags & ~int(F.INSULATION_WARNING)


# ----------------------------------------------------------------------------- the oracle bites
def test_the_invariants_catch_a_precharge_restarted_by_the_request() -> None:
    """The reference's former defect: a request dropped for one step after each timeout."""
    timeout = round(CM["precharge_timeout_s"] / DT)
    segments = [(True, False, False, timeout + 10), (False, False, False, 1)] * 4
    check_precharge_attempts(ContactorManager, segments, precharges=False)
    with pytest.raises(AssertionError, match="after the last one ended without closing"):
        check_precharge_attempts(PrechargeRestartsOnRequest, segments, precharges=False)


def test_the_invariants_catch_a_reset_on_a_nan_current() -> None:
    """The reference's former defect: a NaN current reads as healed."""
    latch = {"cell_V": 3.7, "cell_valid": True, "current_A": -(MSL_DOC + 20.0), "reset": False,
             "steps": 30}
    nan_reset = dict(latch, current_A=math.nan, reset=True, steps=5)
    check_latching(SafetySupervisor, [latch, nan_reset])
    with pytest.raises(AssertionError, match="while its condition persists"):
        check_latching(NanCurrentResets, [latch, nan_reset])
