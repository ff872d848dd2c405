"""Steps of the basic protection's scenarios (area PROT).

The limit family (OBSA-PROT-001 … 006) finds its case from the limit parameters the sentence
names and checks the directions, the rate, the lead and the switch against the case's
table of limits; the release step checks its table the same way."""

from __future__ import annotations

import re
from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when, when_runs
from conformance.suite.test_protection import HELD_OFF_S, LIMITS, OTHER_DIRECTION_A, PROT

CASES = "test_protection"
SWEPT = re.compile(r"\b(up|down) across the declared (\w+)")


def _direction(upper: bool) -> str:
    return "up" if upper else "down"


@when("{quantity} is swept {sweeps} at {rate:g} {unit} per second, starting {lead:g} s before "
      "the limit, on {where}, until the {switch} switch is commanded off")
def limit_sweep(context: Any, quantity: str, sweeps: str, rate: float, unit: str, lead: float,
                where: str, switch: str) -> None:
    """The limit family: the requirement whose limits are exactly the ones the sentence
    sweeps across, in the directions it says."""
    said = set(SWEPT.findall(sweeps))
    if not said:
        raise SuiteError(f"'{sweeps}' names no declared limit swept up or down")
    rids = [rid for rid in dict.fromkeys(lim.rid for lim in LIMITS)
            if {(_direction(lim.upper), lim.limit) for lim in LIMITS if lim.rid == rid} == said]
    if not rids:
        raise SuiteError(f"no test case sweeps exactly {sorted(said)}; the case's limits: "
                         + ", ".join(f"{lim.rid} {_direction(lim.upper)} {lim.limit}"
                                     for lim in LIMITS))
    for lim in (x for x in LIMITS if x.rid == rids[0]):
        if (rate, lead, switch) != (lim.rate, lim.margin / lim.rate, lim.direction):
            raise SuiteError(f"the test case sweeps {lim.limit} at {lim.rate:g} {unit}/s from "
                             f"{lim.margin / lim.rate:g} s before it and watches the "
                             f"{lim.direction} switch; the scenario says {rate:g}, {lead:g} s "
                             f"and {switch}")
    run_case(context, f"{CASES}::test_limit_switches_its_direction_off[{rids[0]}]")


def _amount(cell: str) -> float:
    """The number of a table cell such as "0.04 V" or "0.02 V/s"."""
    try:
        return float(cell.split()[0])
    except (ValueError, IndexError):
        raise SuiteError(f"'{cell}' is no amount") from None


@when("on one seeded channel each, a measurement is held beyond the declared limit until its "
      "switch is off, then swept back at the rate below through the declared hysteresis and "
      "past it:")
def release_with_hysteresis(context: Any) -> None:
    """The release case: its table's limits, switches, amounts and rates are the case's."""
    if context.table is None:
        raise SuiteError("the step needs its table of limits")
    by_limit = {lim.limit: lim for lim in LIMITS}
    params = context.obsa.params(PROT)
    expected = {"cell_overvoltage_V", "cell_undervoltage_V", "charge_temperature_max_degC"}
    seen = set()
    for row in context.table:
        lim = by_limit.get(row["limit"])
        if lim is None or row["hysteresis"] not in params:
            raise SuiteError(f"{row['limit']} / {row['hysteresis']}: no limit and hysteresis "
                             f"of the {PROT}")
        said = (_amount(row["held beyond by"]), row["switch"], _amount(row["swept back at"]))
        case = (2 * lim.margin, lim.direction, lim.rate)
        if said != case:
            raise SuiteError(f"the test case holds {lim.limit} {case[0]:g} beyond, watches the "
                             f"{case[1]} switch and sweeps back at {case[2]:g}/s; the scenario "
                             f"says {said}")
        seen.add(lim.limit)
    if seen != expected:
        raise SuiteError(f"the test case releases {sorted(expected)}; the table has "
                         f"{sorted(seen)}")
    run_case(context, f"{CASES}::test_voltage_and_temperature_faults_release_with_hysteresis")


@when("the charge current is demanded 20 A above the declared charge_overcurrent_A until the "
      "charge switch is off, then the demand is gone for {held:g} s without a reset, then comes "
      "a fault_reset_request pulse and 0.5 s more; likewise, on a fresh bench, the discharge "
      "current 20 A above the declared discharge_overcurrent_A")
def overcurrent_held_until_reset(context: Any, held: float) -> None:
    if held != HELD_OFF_S:
        raise SuiteError(f"the test case waits {HELD_OFF_S:g} s for the reset; the scenario "
                         f"says {held:g} s")
    run_case(context, f"{CASES}::test_overcurrent_faults_stay_until_reset")


@when("a discharge current of 1.5 times the declared short_circuit_A is demanded from a pack "
      "discharging {base:g} A, until the discharge switch is commanded off (at most 0.5 s), "
      "then the demand is gone and {held:g} s pass without a reset")
def short_circuit(context: Any, base: float, held: float) -> None:
    if (base, held) != (OTHER_DIRECTION_A, HELD_OFF_S):
        raise SuiteError(f"the test case discharges {OTHER_DIRECTION_A:g} A before the short and "
                         f"waits {HELD_OFF_S:g} s; the scenario says {base:g} A and {held:g} s")
    run_case(context, f"{CASES}::test_short_circuit_is_cut_at_once")


#: the one-off scenarios: each sentence → the test case it runs
ONE_OFF: dict[str, str] = {
    ('the sense wire of one seeded cell voltage channel opens, then, on a fresh bench, that of '
     'one seeded temperature sensor'):
        f"{CASES}::test_invalid_measurement_switches_both_off",
}
when_runs(ONE_OFF)
