"""Basic protections (profile bmu_basic_protection): realistic defects, and correct designs
unlike the reference.

Each faulty class is the reference :class:`Protection` with one detail changed, so that it
fails exactly the requirement named in ``PROTECTION_CATALOGUE``. The correct ones differ from
the reference where the spec leaves room: a firmware that learns of its front end's cut only
when it polls the status register, a pack without the front end's short-circuit cut, a small
pack with the fastest delays.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from reference_impl.functions.protection import _CHARGE, _DISCHARGE, RULES, Protection, Rule
from reference_impl.interfaces import SafetySupervisorFault as F

from .correct_modules import Variant
from .modules import Faulty

BASIC_MANIFEST = Path(__file__).resolve().parents[2] / "reference_impl" / \
    "manifest_basic_protection.yaml"


def on_basic_protection(data: dict[str, Any]) -> None:
    """Turn a manifest derived from the safety core's into the basic protection's, keeping
    the module's name and its protection class."""
    base = yaml.safe_load(BASIC_MANIFEST.read_text(encoding="utf-8"))
    base["module"]["name"] = data["module"]["name"]
    chosen = data["adapter"]["components"].get("protection")
    if chosen:
        base["adapter"]["components"]["protection"] = chosen
    data.clear()
    data.update(base)


def _changed(fault: int, blocks: int | None = None, **fields: Any) -> tuple[Rule, ...]:
    """The reference's rules with the rules of ``fault`` changed (``blocks`` and fields)."""
    out = []
    for rule in RULES:
        if rule.fault == fault and rule.needs is None:
            values = {**rule.__dict__, **fields}
            if blocks is not None:
                values["blocks"] = blocks
            rule = Rule(**values)
        out.append(rule)
    return tuple(out)


class _Rules(Protection):
    """The reference with another rule table (``RULES`` of the class)."""

    RULES: tuple[Rule, ...] = RULES

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._rules = tuple(r for r in self.RULES if r.needs is None or r.needs in p)


# ----------------------------------------------------------------------------- faulty
class OvCutsBothDirections(_Rules):
    """An over-voltage switches both MOSFETs off: a full pack can no longer be discharged."""

    RULES = _changed(int(F.CELL_OVERVOLTAGE), blocks=_CHARGE | _DISCHARGE)


class UvFlagOnly(_Rules):
    """The under-voltage is reported but switches nothing off (the firmware counts on a front
    end that this board does not have)."""

    RULES = _changed(int(F.CELL_UNDERVOLTAGE), blocks=0)


class ChargeOcDebouncedTwice(_Rules):
    """The charge over-current is debounced for twice the declared delay (the delay counted
    in timer ticks of half the assumed length)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup({**p, "charge_overcurrent_delay_s": 2 * p["charge_overcurrent_delay_s"]})


class DischargeOcAtShortCircuitLevel(_Rules):
    """The discharge over-current trips at the short-circuit level: the wrong parameter."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup({**p, "discharge_overcurrent_A": p.get("short_circuit_A", 1e9)})


class ChargeWindowOnlyWhileCharging(Protection):
    """The charge temperature window is checked only while a charge current flows: every
    charge starts outside the window."""

    WINDOW = (int(F.CHARGE_OVERTEMPERATURE), int(F.CHARGE_UNDERTEMPERATURE))

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not float(inputs["pack_current_A"]) > 1.0:  # at rest: the window is forgotten
            for state in self._active:
                if state.rule.fault in self.WINDOW:
                    state.active = False
                    state.debounce.reset()
        return super()._step(t, inputs)


class DischargeOverTemperatureIgnored(_Rules):
    """No discharge over-temperature rule at all."""

    RULES = tuple(r for r in RULES if r.fault != int(F.DISCHARGE_OVERTEMPERATURE))


class OvercurrentReleasesByItself(_Rules):
    """The over-current faults release by themselves once the current is gone."""

    RULES = tuple(Rule(**{**r.__dict__, "releases": True}) if r.value in (2, 3) else r
                  for r in RULES)


class OvReleasesAtTheLimit(_Rules):
    """The over-voltage releases as soon as the cell is back below the limit: no hysteresis."""

    RULES = _changed(int(F.CELL_OVERVOLTAGE), hysteresis=None)


class ShortCircuitDebounced(_Rules):
    """The short circuit is debounced with the over-current delay (a software-only check
    where the front end's comparator was meant)."""

    RULES = tuple(Rule(**{**r.__dict__, "delay": "discharge_overcurrent_delay_s"})
                  if r.needs == "short_circuit_A" else r for r in RULES)


class OpenWireCountsAsUndervoltage(Protection):
    """Invalid readings are supervised as values: an open wire reads 0 V, an under-voltage;
    the charge direction stays on with a cell unseen."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        import numpy as np

        every = np.ones(np.shape(inputs["cell_voltage_valid"]), dtype=bool)
        sensors = np.ones(np.shape(inputs["cell_temperature_valid"]), dtype=bool)
        return super()._step(t, {**inputs, "cell_voltage_valid": every,
                                 "cell_temperature_valid": sensors})


# ----------------------------------------------------------------------------- correct
class PolledReport(Protection):
    """Correct, unlike the reference: the switches follow at once (the front end cuts
    them), but the firmware learns of a fault only when it polls the front end's status
    every 250 ms, so its flags lag by up to a poll."""

    POLL_S = 0.25

    def reset(self) -> None:
        super().reset()
        self._polled_at = -1e9
        self._flags = 0

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if t - self._polled_at >= self.POLL_S - 1e-9:
            self._polled_at = t
            self._flags = int(out["protection_fault_flags"])
        out["protection_fault_flags"] = self._flags
        return out


def _component(cls: type) -> Any:
    def edit(data: dict[str, Any]) -> None:
        on_basic_protection(data)
        data["adapter"]["components"]["protection"] = f"{cls.__module__}:{cls.__name__}"

    return edit


def _no_short_circuit_cut(data: dict[str, Any]) -> None:
    """A 13-cell NMC e-bike pack (48 V) protected by its fuse, not by its front end."""
    on_basic_protection(data)
    data["features"] = []
    data["pack"] = {"chemistry": "nmc", "cell_count": 13, "temperature_sensor_count": 2,
                    "capacity_Ah": 14.0}
    prot = data["configuration"]["protection"]
    for name in ("short_circuit_A", "short_circuit_delay_s"):
        del prot[name]
    prot.update(cell_overvoltage_V=4.2, cell_undervoltage_V=3.0, charge_overcurrent_A=10.0,
                discharge_overcurrent_A=40.0)


def _small_fast(data: dict[str, Any]) -> None:
    """A 4-cell 12 V LFP pack, one temperature sensor, every delay at its lowest."""
    on_basic_protection(data)
    data["pack"] = {"chemistry": "lfp", "cell_count": 4, "temperature_sensor_count": 1,
                    "capacity_Ah": 20.0}
    prot = data["configuration"]["protection"]
    prot.update({name: 0.0 for name in prot if name.endswith("_delay_s")})
    prot.update(charge_overcurrent_A=20.0, discharge_overcurrent_A=40.0, short_circuit_A=120.0)


PROTECTION_VARIANTS: tuple[Variant, ...] = (
    Variant("protection-polled-report", "flags follow the front end's status poll, "
            "the switches act at once", _component(PolledReport)),
    Variant("protection-no-short-circuit-cut", "13-cell NMC, no front-end short-circuit cut",
            _no_short_circuit_cut),
    Variant("protection-small-fast", "4-cell LFP, one sensor, every delay 0", _small_fast),
)


def _p(cls: type, *breaks: str) -> Faulty:
    return Faulty(cls.__name__, "protection", cls, frozenset(breaks),
                  edit=on_basic_protection)


#: faulty protection → the requirements it must fail (and it must fail no other)
PROTECTION_CATALOGUE: tuple[Faulty, ...] = (
    _p(OvCutsBothDirections, "OBSA-PROT-001"),
    _p(UvFlagOnly, "OBSA-PROT-002"),
    _p(ChargeOcDebouncedTwice, "OBSA-PROT-003"),
    _p(DischargeOcAtShortCircuitLevel, "OBSA-PROT-004"),
    _p(ChargeWindowOnlyWhileCharging, "OBSA-PROT-005"),
    _p(DischargeOverTemperatureIgnored, "OBSA-PROT-006"),
    _p(OvReleasesAtTheLimit, "OBSA-PROT-007"),
    _p(OvercurrentReleasesByItself, "OBSA-PROT-008", "OBSA-PROT-009"),
    _p(ShortCircuitDebounced, "OBSA-PROT-009"),
    _p(OpenWireCountsAsUndervoltage, "OBSA-PROT-010"),
)
