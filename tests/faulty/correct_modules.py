"""Correct modules that differ from the reference: the suite must certify every one.

A conformance suite may not encode the reference implementation's quirks (DESIGN §5, "fair
by construction"). Each module here is correct by the spec's text but made differently from
the reference: it trips inside the threshold tolerance the spec allows rather than exactly
at the declared level, or it is the reference run on a pack unlike the reference's (small,
single temperature sensor, LFP, the largest pack the dictionary's pack voltage allows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reference_impl.functions.safety import SafetySupervisor

#: how far inside each threshold tolerance of OBSA-SAFE-001…008 the conservative module
#: trips (the spec allows 5 mV, 1 A and 0.5 K): on the safe side, 60 % of the tolerance
CONSERVATIVE_MARGIN = {"voltage": 0.003, "current": 0.6, "temperature": 0.3}


class ConservativeSupervisor(SafetySupervisor):
    """Trips every MSL fault 60 % of the spec's threshold tolerance before the declared
    level (a designer's margin for sensor error), debounced as declared."""

    def reset(self) -> None:
        super().reset()
        for limit in self._limits:
            unit = next(k for k in CONSERVATIVE_MARGIN if k in limit.name)
            limit.msl -= CONSERVATIVE_MARGIN[unit]  # signed: towards the safe side


@dataclass(frozen=True)
class Variant:
    """A manifest derived from the reference's, and why it must certify."""

    name: str
    why: str
    edit: Callable[[dict[str, Any]], None]


def _components(**classes: str) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["adapter"]["components"].update(classes)

    return edit


def _currents(data: dict[str, Any], charge: tuple[float, float, float],
              discharge: tuple[float, float, float], hysteresis_A: float) -> None:
    """Current limits (MOL, RSL, MSL) for a small pack, with a rest current and a pack-voltage
    tolerance to match (1 V: above the worst case of the declared sensor errors)."""
    sup = data["configuration"]["safety_supervisor"]
    for direction, levels in (("charge", charge), ("discharge", discharge)):
        for level, value in zip(("mol", "rsl", "msl"), levels, strict=True):
            sup[f"{direction}_current_max_{level}_A"] = value
    sup.update(charge_current_max_hysteresis_A=hysteresis_A,
               discharge_current_max_hysteresis_A=hysteresis_A, rest_current_A=0.2,
               pack_voltage_tolerance_V=1.0)


def _small(data: dict[str, Any]) -> None:
    """A 12 V, 10 Ah four-cell pack with one temperature sensor, currents scaled to it."""
    data["pack"].update(cell_count=4, temperature_sensor_count=1, capacity_Ah=10.0)
    _currents(data, (10.0, 12.0, 15.0), (20.0, 25.0, 30.0), hysteresis_A=1.0)


def _lfp(data: dict[str, Any]) -> None:
    """A 16-cell LFP pack (Libre Solar LFP defaults, DOMAIN.md: 3.65 V / 2.5 V)."""
    data["pack"].update(chemistry="lfp", cell_count=16, temperature_sensor_count=4,
                        capacity_Ah=100.0)
    data["configuration"]["safety_supervisor"].update(
        cell_voltage_max_mol_V=3.55, cell_voltage_max_rsl_V=3.6, cell_voltage_max_msl_V=3.65,
        cell_voltage_min_mol_V=2.9, cell_voltage_min_rsl_V=2.8, cell_voltage_min_msl_V=2.6,
        deep_discharge_voltage_V=2.3)


def _high_rate(data: dict[str, Any]) -> None:
    """A 12-cell, 5 Ah power pack: discharge up to 20 C (a power tool or a race pack)."""
    data["pack"].update(cell_count=12, temperature_sensor_count=3, capacity_Ah=5.0)
    _currents(data, (20.0, 25.0, 30.0), (60.0, 80.0, 100.0), hysteresis_A=2.0)


def _large(data: dict[str, Any]) -> None:
    """The largest pack the manifest check accepts: 357 NMC cells (their full charge just
    inside the dictionary's 1500 V pack voltage), a temperature sensor per cell."""
    data["pack"].update(cell_count=357, temperature_sensor_count=357, capacity_Ah=200.0)


#: the timing parameters of the safety core, set to an end of their range by the variants
TIMINGS = {
    "safety_supervisor": ("cell_voltage_max_fault_delay_s", "cell_voltage_min_fault_delay_s",
                          "charge_current_max_fault_delay_s",
                          "discharge_current_max_fault_delay_s",
                          "charge_temperature_max_fault_delay_s",
                          "charge_temperature_min_fault_delay_s",
                          "discharge_temperature_max_fault_delay_s",
                          "discharge_temperature_min_fault_delay_s",
                          "cell_voltage_invalid_delay_s", "cell_temperature_invalid_delay_s",
                          "deep_discharge_delay_s", "insulation_fault_delay_s",
                          "plausibility_fault_delay_s", "cell_monitor_timeout_s",
                          "current_sensor_timeout_s"),
    "contactor_manager": ("precharge_timeout_s", "precharge_retry_wait_s", "opening_delay_s",
                          "contactor_feedback_timeout_s"),
}


def _timings(end: str) -> Callable[[dict[str, Any]], None]:
    """Every timing at the ``end`` ("min" or "max") of the spec's range, raised where the
    manifest check requires more (a sensor timeout above its sampling period, a
    plausibility delay of at least one cell-monitor cycle)."""

    def edit(data: dict[str, Any]) -> None:
        from conformance.spec import load_spec

        spec = load_spec()
        config = data["configuration"]
        cycle = float(config["cell_monitor"]["measurement_cycle_s"])
        for component, names in TIMINGS.items():
            params = {p.name: p for p in spec.interfaces[component].parameters}
            for name in names:
                rng = params[name].range
                assert rng is not None and rng.min is not None and rng.max is not None
                config[component][name] = float(getattr(rng, end))
        if end == "min":
            sup = config["safety_supervisor"]
            sup["plausibility_fault_delay_s"] = cycle
            sup["cell_monitor_timeout_s"] = 2 * cycle
            sup["current_sensor_timeout_s"] = 0.02

    return edit


#: a declaration in which no two limits share a delay or a hysteresis, as an AFE-based design
#: has them (separate over-/under-voltage and charge/discharge registers)
SEPARATE_LIMITS: dict[str, float] = {
    "cell_voltage_max_fault_delay_s": 2.0, "cell_voltage_min_fault_delay_s": 0.5,
    "cell_voltage_max_hysteresis_V": 0.1, "cell_voltage_min_hysteresis_V": 0.2,
    "charge_current_max_fault_delay_s": 0.32, "discharge_current_max_fault_delay_s": 0.05,
    "charge_current_max_hysteresis_A": 2.0, "discharge_current_max_hysteresis_A": 10.0,
    "charge_temperature_max_fault_delay_s": 2.0, "charge_temperature_min_fault_delay_s": 3.0,
    "discharge_temperature_max_fault_delay_s": 4.0,
    "discharge_temperature_min_fault_delay_s": 0.5,
    "charge_temperature_max_hysteresis_K": 2.0, "charge_temperature_min_hysteresis_K": 3.0,
    "discharge_temperature_max_hysteresis_K": 5.0, "discharge_temperature_min_hysteresis_K": 4.0,
    "cell_voltage_invalid_delay_s": 1.0, "cell_temperature_invalid_delay_s": 0.3,
}


def _separate_limits(data: dict[str, Any]) -> None:
    """Every limit with its own delay and hysteresis, and neither optional supervisor
    feature: no deep-discharge lockout, no insulation monitoring (their parameters left
    out, as a module without them has none)."""
    sup = data["configuration"]["safety_supervisor"]
    sup.update(SEPARATE_LIMITS)
    for name in ("deep_discharge_voltage_V", "deep_discharge_delay_s", "insulation_warning_ohm",
                 "insulation_error_ohm", "insulation_fault_delay_s"):
        del sup[name]
    data["features"] = [f for f in data["features"]
                        if f not in ("deep_discharge_lockout", "insulation_monitoring")]


VARIANTS: tuple[Variant, ...] = (
    Variant("conservative-thresholds", "trips inside the threshold tolerance, before the MSL",
            _components(safety_supervisor="tests.faulty.correct_modules:ConservativeSupervisor")),
    Variant("small-pack", "four cells, one temperature sensor", _small),
    Variant("lfp-pack", "LFP chemistry with its own limits", _lfp),
    Variant("large-pack", "357 cells and 357 temperature sensors, the largest accepted",
            _large),
    Variant("high-rate-pack", "a 5 Ah pack declared for 20 C", _high_rate),
    Variant("fastest-timings", "every delay and timeout at the lowest valid value",
            _timings("min")),
    Variant("slowest-timings", "every delay and timeout at the highest valid value",
            _timings("max")),
    Variant("separate-limits", "a delay and a hysteresis per limit, no deep-discharge "
            "lockout, no insulation monitoring", _separate_limits),
)
