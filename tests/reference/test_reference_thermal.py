"""The reference thermal manager against OBSA-THERM-001 … 006.

Every check runs on several pack sizes (cells, temperature sensors), on the spec defaults and
on other declared parameter sets, at the nominal 1 s step and at a fast 10 ms step started
late (the time rule); every reply is validated with the suite's compiled outputs check. The
defect subclasses at the end are plausible wrong implementations that the checks must catch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from reference_helpers import reply_check, unchecked

from conformance.spec import load_spec
from reference_impl.component import ConfigurationError
from reference_impl.functions.limits import extremes
from reference_impl.functions.thermal import ThermalManager
from reference_impl.interfaces import PARAMETER_DEFAULTS
from reference_impl.interfaces import ThermalManagerFault as F

COMPONENT = "thermal_manager"
SPEC = load_spec()
DEFAULTS: dict[str, Any] = dict(PARAMETER_DEFAULTS[COMPONENT])

#: Declared parameter sets: the defaults and three others (wide, narrow, odd values).
PARAMETER_SETS = {
    "defaults": {},
    "wide": {"cooling_on_temperature_degC": 50.0, "cooling_off_temperature_degC": 42.0,
             "heating_on_temperature_degC": -10.0, "heating_off_temperature_degC": 0.0,
             "temperature_spread_limit_K": 15.0},
    "narrow": {"cooling_on_temperature_degC": 30.5, "cooling_off_temperature_degC": 30.0,
               "heating_on_temperature_degC": 20.0, "heating_off_temperature_degC": 20.5,
               "temperature_spread_limit_K": 1.0},
    "odd": {"cooling_on_temperature_degC": 37.3, "cooling_off_temperature_degC": 31.7,
            "heating_on_temperature_degC": 2.3, "heating_off_temperature_degC": 8.9,
            "temperature_spread_limit_K": 4.2},
}
#: (cells, temperature sensors)
PACKS = [(1, 1), (12, 4), (96, 32)]
#: (step s, first step time s): the nominal step from an ordinary time, a fast bench step
#: from past 2^24 s
CLOCKS = [(1.0, 37.0), (0.01, 2.0**24 + 0.5)]

CASES = [(name, pack, clock) for name in PARAMETER_SETS for pack in PACKS for clock in CLOCKS]
CASE_IDS = [f"{name}-{pack[0]}c{pack[1]}s-dt{clock[0]}" for name, pack, clock in CASES]

ON_DELAY_S = 1.0  # acceptance on_delay_s / set_delay_s: one nominal step
THRESHOLD_K = 0.5  # acceptance *_threshold_error_K


def params_of(name: str) -> dict[str, Any]:
    return {**DEFAULTS, **PARAMETER_SETS[name]}


class Bench:
    """One thermal manager (class ``cls``) stepped on a clock, every reply validated."""

    def __init__(self, cls: type[ThermalManager], name: str, pack: tuple[int, int],
                 clock: tuple[float, float]) -> None:
        self.p = params_of(name)
        self.component = cls()
        self.component.configure(PARAMETER_SETS[name])
        self.cells, self.sensors = pack
        self.dt, self.t0 = clock
        self.check = reply_check(COMPONENT, self.cells, self.sensors)
        self.k = 0
        p = self.p
        #: a temperature that asks for nothing
        self.mid = (p["heating_off_temperature_degC"] + p["cooling_off_temperature_degC"]) / 2

    @property
    def steps_per_nominal(self) -> int:
        return max(1, round(ON_DELAY_S / self.dt))

    def temps(self, hot: float | None = None, cold: float | None = None,
              base: float | None = None) -> np.ndarray:
        """All sensors at ``base`` (default mid); the last at ``hot``, the first at ``cold``."""
        values = np.full(self.sensors, self.mid if base is None else base)
        if cold is not None:
            values[0] = cold
        if hot is not None:
            values[-1] = hot
        return values

    def step(self, temps: np.ndarray, valid: np.ndarray | None = None,
             safety_state: int = 0) -> dict[str, Any]:
        inputs = {
            "cell_temperature_degC": np.array(temps, dtype=float),
            "cell_temperature_valid": (np.ones(self.sensors, dtype=bool) if valid is None
                                       else np.array(valid, dtype=bool)),
            "safety_state": safety_state,
        }
        out = self.component.step(self.t0 + self.k * self.dt, inputs)
        self.check(out)
        self.k += 1
        return out

    def hold(self, temps: np.ndarray, steps: int | None = None, **kw: Any) -> dict[str, Any]:
        """Step the same temperatures for one nominal step (or ``steps``); the last reply."""
        out: dict[str, Any] = {}
        for _ in range(steps or self.steps_per_nominal):
            out = self.step(temps, **kw)
        return out


def ramp(threshold: float, below: int, above: int) -> list[float]:
    """0.1 K steps (the signal's resolution) through ``threshold``, which is hit exactly."""
    return [threshold + 0.1 * k for k in range(-below, above + 1)]


def first_index(outs: list[dict[str, Any]], key: str, value: Any) -> int:
    for i, out in enumerate(outs):
        if out[key] == value:
            return i
    raise AssertionError(f"{key} never became {value}")


# ------------------------------------------------------------------------------- checks
# Each check drives one case and raises AssertionError on a violation; the tests run them on
# the reference, the defect tests on the defects.
def check_cooling_on(cls: type[ThermalManager], name: str, pack: tuple[int, int],
                     clock: tuple[float, float]) -> None:
    """OBSA-THERM-001: raised when the highest valid temperature reaches cooling_on."""
    b = Bench(cls, name, pack, clock)
    on = b.p["cooling_on_temperature_degC"]
    assert not b.hold(b.temps())["cooling_request"]
    values = ramp(on, below=15, above=8)
    outs = [b.step(b.temps(hot=v)) for v in values]
    i = first_index(outs, "cooling_request", True)
    rise = values[i]
    # acceptance: on_threshold_error_K, on_delay_s (here: in the very step it is reached)
    assert abs(rise - on) <= THRESHOLD_K, (rise, on)
    assert rise == on, f"cooling raised at {rise} °C, the threshold is reached at {on} °C"
    assert all(o["cooling_request"] for o in outs[i:])
    # a jump across the threshold is answered within one nominal step
    b2 = Bench(cls, name, pack, clock)
    b2.hold(b2.temps())
    outs = [b2.step(b2.temps(hot=on)) for _ in range(b2.steps_per_nominal)]
    assert outs[-1]["cooling_request"] and outs[0]["cooling_request"]


def check_cooling_off(cls: type[ThermalManager], name: str, pack: tuple[int, int],
                      clock: tuple[float, float]) -> None:
    """OBSA-THERM-002: kept until the highest valid temperature falls to cooling_off."""
    b = Bench(cls, name, pack, clock)
    on, off = b.p["cooling_on_temperature_degC"], b.p["cooling_off_temperature_degC"]
    assert b.hold(b.temps(hot=on + 1.0))["cooling_request"]
    values = [v for v in ramp(off, below=8, above=round((on - off) / 0.1) + 5)][::-1]
    outs = [b.step(b.temps(hot=v)) for v in values]
    i = first_index(outs, "cooling_request", False)
    fall = values[i]
    assert abs(fall - off) <= THRESHOLD_K, (fall, off)
    assert fall == off, f"cooling withdrawn at {fall} °C, the off threshold is {off} °C"
    assert not any(o["cooling_request"] for o in outs[i:])
    # below on again: still withdrawn (the hysteresis works both ways)
    up = [b.step(b.temps(hot=v)) for v in ramp(off, 0, round((on - off) / 0.1) - 1)]
    assert not any(o["cooling_request"] for o in up)
    assert b.step(b.temps(hot=on))["cooling_request"]


def check_heating_on(cls: type[ThermalManager], name: str, pack: tuple[int, int],
                     clock: tuple[float, float]) -> None:
    """OBSA-THERM-003: raised when the lowest valid temperature falls to heating_on."""
    b = Bench(cls, name, pack, clock)
    on = b.p["heating_on_temperature_degC"]
    assert not b.hold(b.temps())["heating_request"]
    values = ramp(on, below=8, above=15)[::-1]
    outs = [b.step(b.temps(cold=v)) for v in values]
    i = first_index(outs, "heating_request", True)
    rise = values[i]
    assert abs(rise - on) <= THRESHOLD_K, (rise, on)
    assert rise == on, f"heating raised at {rise} °C, the threshold is reached at {on} °C"
    assert all(o["heating_request"] for o in outs[i:])
    b2 = Bench(cls, name, pack, clock)
    b2.hold(b2.temps())
    outs = [b2.step(b2.temps(cold=on)) for _ in range(b2.steps_per_nominal)]
    assert outs[-1]["heating_request"] and outs[0]["heating_request"]


def check_heating_off(cls: type[ThermalManager], name: str, pack: tuple[int, int],
                      clock: tuple[float, float]) -> None:
    """OBSA-THERM-004: kept until the lowest valid temperature rises to heating_off."""
    b = Bench(cls, name, pack, clock)
    on, off = b.p["heating_on_temperature_degC"], b.p["heating_off_temperature_degC"]
    assert b.hold(b.temps(cold=on - 1.0))["heating_request"]
    values = ramp(off, below=round((off - on) / 0.1) + 5, above=8)
    outs = [b.step(b.temps(cold=v)) for v in values]
    i = first_index(outs, "heating_request", False)
    fall = values[i]
    assert abs(fall - off) <= THRESHOLD_K, (fall, off)
    assert fall == off, f"heating withdrawn at {fall} °C, the off threshold is {off} °C"
    assert not any(o["heating_request"] for o in outs[i:])
    down = [b.step(b.temps(cold=v)) for v in ramp(off, round((off - on) / 0.1) - 1, 0)[::-1]]
    assert not any(o["heating_request"] for o in down)
    assert b.step(b.temps(cold=on))["heating_request"]


def check_never_both(cls: type[ThermalManager], name: str, pack: tuple[int, int],
                     clock: tuple[float, float]) -> None:
    """OBSA-THERM-005: never both requests in one step; cooling wins, heating resumes."""
    b = Bench(cls, name, pack, clock)
    p = b.p
    hot, cold = p["cooling_on_temperature_degC"] + 1.0, p["heating_on_temperature_degC"] - 1.0
    simultaneous = 0
    if b.sensors > 1:
        out = b.hold(b.temps(hot=hot, cold=cold))
        simultaneous += out["cooling_request"] and out["heating_request"]
        assert out["cooling_request"], "both due: cooling is requested"
        out = b.step(b.temps(cold=cold))  # the hot sensor back at mid
        assert not out["cooling_request"] and out["heating_request"]
        out = b.step(b.temps(hot=hot, cold=cold))
        simultaneous += out["cooling_request"] and out["heating_request"]
    rng = np.random.default_rng(5)
    low, high = p["heating_on_temperature_degC"] - 3.0, p["cooling_on_temperature_degC"] + 3.0
    for _ in range(400):
        temps = np.round(rng.uniform(low, high, b.sensors), 1)
        if rng.random() < 0.3:  # push the pack to both ends at once
            temps[rng.integers(b.sensors)] = high
            temps[rng.integers(b.sensors)] = low
        valid = rng.random(b.sensors) > 0.1
        out = b.step(temps, valid=valid, safety_state=int(rng.integers(0, 5)))
        simultaneous += out["cooling_request"] and out["heating_request"]
    assert simultaneous == 0  # acceptance simultaneous_requests == 0


def check_spread(cls: type[ThermalManager], name: str, pack: tuple[int, int],
                 clock: tuple[float, float]) -> None:
    """OBSA-THERM-006: warning while the spread is above the limit, not latched."""
    b = Bench(cls, name, pack, clock)
    limit = b.p["temperature_spread_limit_K"]
    if b.sensors == 1:  # one sensor: no spread, wherever it reads
        for v in (-40.0, 0.0, 60.0, 100.0):
            assert b.step(np.array([v]))["thermal_fault_flags"] == 0
        return
    # the coldest at 0 °C, so that the spread is the hottest temperature, exactly
    base = limit / 2
    assert b.hold(b.temps(cold=0.0, hot=limit, base=base))["thermal_fault_flags"] == 0
    values = ramp(limit, below=10, above=10)
    outs = [b.step(b.temps(cold=0.0, hot=v, base=base)) for v in values]
    i = first_index(outs, "thermal_fault_flags", int(F.TEMPERATURE_SPREAD))
    set_at = values[i]
    assert abs(set_at - limit) <= THRESHOLD_K, (set_at, limit)
    assert set_at > limit and set_at - limit <= 0.1 + 1e-9, (set_at, limit)
    assert all(o["thermal_fault_flags"] == F.TEMPERATURE_SPREAD for o in outs[i:])
    # not latched: back to the limit clears it in the step
    assert b.step(b.temps(cold=0.0, hot=limit, base=base))["thermal_fault_flags"] == 0
    # a jump is answered within one nominal step
    outs = [b.step(b.temps(cold=0.0, hot=limit + 1.0, base=base))
            for _ in range(b.steps_per_nominal)]
    assert outs[-1]["thermal_fault_flags"] == F.TEMPERATURE_SPREAD
    # the spread is taken over valid sensors only
    valid = np.ones(b.sensors, dtype=bool)
    valid[0] = False
    out = b.step(b.temps(cold=-50.0), valid=valid)
    assert out["thermal_fault_flags"] == 0


def check_valid_only(cls: type[ThermalManager], name: str, pack: tuple[int, int],
                     clock: tuple[float, float]) -> None:
    """OBSA-THERM-001/003 name the *valid* temperatures: an open or shorted sensor (reading
    the end of the range, or NaN) starts neither the fan nor the heater."""
    b = Bench(cls, name, pack, clock)
    invalid = np.ones(b.sensors, dtype=bool)
    invalid[-1] = False
    out = b.hold(b.temps(hot=150.0), valid=invalid)
    assert not out["cooling_request"] and not out["heating_request"]
    invalid = np.ones(b.sensors, dtype=bool)
    invalid[0] = False
    out = b.hold(b.temps(cold=-50.0), valid=invalid)
    assert not out["cooling_request"] and not out["heating_request"]
    # a request in progress is withdrawn when its sensor fails (nothing valid calls for it)
    assert b.hold(b.temps(hot=b.p["cooling_on_temperature_degC"]))["cooling_request"]
    out = b.step(b.temps(hot=b.p["cooling_on_temperature_degC"]),
                 valid=np.zeros(b.sensors, dtype=bool))
    assert not out["cooling_request"] and not out["heating_request"]
    assert out["thermal_fault_flags"] == 0
    if b.sensors > 1:  # a NaN reading flagged valid is ignored as well
        out = b.step(b.temps(hot=float("nan")))
        assert not out["cooling_request"] and not out["heating_request"]


CHECKS: dict[str, Callable[..., None]] = {
    "OBSA-THERM-001": check_cooling_on,
    "OBSA-THERM-002": check_cooling_off,
    "OBSA-THERM-003": check_heating_on,
    "OBSA-THERM-004": check_heating_off,
    "OBSA-THERM-005": check_never_both,
    "OBSA-THERM-006": check_spread,
    "valid-only": check_valid_only,
}


@pytest.mark.parametrize("requirement", list(CHECKS))
@pytest.mark.parametrize(("name", "pack", "clock"), CASES, ids=CASE_IDS)
def test_reference_meets(requirement: str, name: str, pack: tuple[int, int],
                         clock: tuple[float, float]) -> None:
    CHECKS[requirement](ThermalManager, name, pack, clock)


def test_every_tested_requirement_has_a_check() -> None:
    assert not unchecked(COMPONENT, CHECKS)


def test_thresholds_must_be_ordered() -> None:
    """OBSA-THERM-007 (inspection): an unordered declaration is refused at configure."""
    for bad in ({"cooling_off_temperature_degC": 41.0},
                {"heating_off_temperature_degC": 4.0},
                {"heating_off_temperature_degC": 36.0, "cooling_off_temperature_degC": 35.0},
                {"cooling_on_temperature_degC": 35.0}):
        with pytest.raises(ConfigurationError, match="strictly increasing"):
            ThermalManager().configure(bad)


def test_reset_forgets_the_requests() -> None:
    b = Bench(ThermalManager, "defaults", (12, 4), (1.0, 0.0))
    assert b.step(b.temps(hot=45.0))["cooling_request"]
    b.component.reset()
    assert not b.step(b.temps(hot=38.0))["cooling_request"]  # inside the hysteresis band


def test_safety_state_does_not_change_the_requests() -> None:
    outs = {}
    for state in range(5):
        b = Bench(ThermalManager, "odd", (12, 4), (1.0, 0.0))
        outs[state] = [b.step(b.temps(hot=h, cold=c), safety_state=state)
                       for h, c in ((40.0, 20.0), (33.0, 1.0), (30.0, 5.0), (30.0, 10.0))]
    assert all(o == outs[0] for o in outs.values())


# ------------------------------------------------------------------------------ defects
def _hot_cold(inputs: Any, use_all: bool = False) -> tuple[float, float]:
    valid = (np.ones(len(inputs["cell_temperature_valid"]), dtype=bool) if use_all
             else inputs["cell_temperature_valid"])
    hottest, coldest, _, _ = extremes(inputs["cell_temperature_degC"], valid)
    return hottest, coldest


class CoolingWithoutHysteresis(ThermalManager):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["cooling_request"] = _hot_cold(inputs)[0] >= self._cooling_on
        return out


class CoolingStrictlyAbove(ThermalManager):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if not self._cooling_due or _hot_cold(inputs)[0] == self._cooling_on:
            self._cooling_due = _hot_cold(inputs)[0] > self._cooling_on
            out["cooling_request"] = self._cooling_due
        return out


class CoolingOneKelvinEarly(ThermalManager):
    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._cooling_on -= 1.0


class CoolingOffAtTheOnThreshold(ThermalManager):
    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._cooling_off = self._cooling_on - 0.1


class HeatingWithoutHysteresis(ThermalManager):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["heating_request"] = (_hot_cold(inputs)[1] <= self._heating_on
                                  and not out["cooling_request"])
        return out


class HeatingOnTheHottest(ThermalManager):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        hottest = _hot_cold(inputs)[0]
        self._heating_due = (hottest < self._heating_off if self._heating_due
                             else hottest <= self._heating_on)
        out["heating_request"] = self._heating_due and not out["cooling_request"]
        return out


class HeatingOffOneKelvinLate(ThermalManager):
    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._heating_off += 1.0


class BothAtOnce(ThermalManager):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["heating_request"] = self._heating_due
        return out


class SpreadLatched(ThermalManager):
    def reset(self) -> None:
        super().reset()
        self._latched = 0

    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        self._latched |= out["thermal_fault_flags"]
        out["thermal_fault_flags"] = self._latched
        return out


class SpreadAtTheLimit(ThermalManager):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        hottest, coldest = _hot_cold(inputs)
        spread = hottest - coldest if hottest >= coldest else 0.0
        out["thermal_fault_flags"] = int(F.TEMPERATURE_SPREAD) if spread >= \
            self._spread_limit_K else 0
        return out


class SpreadLimitFixedAt10K(ThermalManager):
    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._spread_limit_K = 10.0


class InvalidSensorsCount(ThermalManager):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        return super()._step(t, {**inputs, "cell_temperature_valid":
                                 np.ones(len(inputs["cell_temperature_valid"]), dtype=bool)})


class ReactsOneSecondLate(ThermalManager):
    """Updates its outputs only every 2 s of seen time (slower than the nominal step)."""

    def reset(self) -> None:
        super().reset()
        self._last: tuple[float, dict[str, Any]] | None = None

    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        if self._last is not None and t - self._last[0] < 2.0:
            return dict(self._last[1])
        out = super()._step(t, inputs)
        self._last = (t, out)
        return dict(out)


DEFECTS = [
    (CoolingWithoutHysteresis, "OBSA-THERM-002"),
    (CoolingStrictlyAbove, "OBSA-THERM-001"),
    (CoolingOneKelvinEarly, "OBSA-THERM-001"),
    (CoolingOffAtTheOnThreshold, "OBSA-THERM-002"),
    (HeatingWithoutHysteresis, "OBSA-THERM-004"),
    (HeatingOnTheHottest, "OBSA-THERM-003"),
    (HeatingOffOneKelvinLate, "OBSA-THERM-004"),
    (BothAtOnce, "OBSA-THERM-005"),
    (SpreadLatched, "OBSA-THERM-006"),
    (SpreadAtTheLimit, "OBSA-THERM-006"),
    (SpreadLimitFixedAt10K, "OBSA-THERM-006"),
    (InvalidSensorsCount, "valid-only"),
    (ReactsOneSecondLate, "OBSA-THERM-001"),
    (ReactsOneSecondLate, "OBSA-THERM-006"),
]


@pytest.mark.parametrize(("defect", "requirement"), DEFECTS,
                         ids=[f"{d.__name__}-{r}" for d, r in DEFECTS])
def test_defect_is_caught(defect: type[ThermalManager], requirement: str) -> None:
    caught = 0
    for name, pack, clock in CASES:
        try:
            CHECKS[requirement](defect, name, pack, clock)
        except AssertionError:
            caught += 1
    assert caught, f"{defect.__name__} passes every {requirement} case"
