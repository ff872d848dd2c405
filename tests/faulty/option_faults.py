"""Faulty supervisors written against a shared parameter: each limit of the safety supervisor
has its own delay and hysteresis (spec 0.3.0), and a module that takes one limit's value for
another passes on a declaration where they are equal — the reference's — and fails on one
where they differ. These modules run on the
``separate-limits`` declaration of :mod:`.correct_modules`.
"""

from __future__ import annotations

from reference_impl.functions.limits import ThreeLevelLimit
from reference_impl.interfaces import SafetySupervisorFault as F
from reference_impl.services.debounce import Debounce

from .correct_modules import _separate_limits
from .modules import Faulty
from .supervisor_faults import _Supervisor


class UvDebouncedWithOvDelay(_Supervisor):
    """The under-voltage fault is debounced with the over-voltage delay (one 'cell voltage
    delay' in the firmware): 2 s instead of the declared 0.5 s."""

    def reset(self) -> None:
        super().reset()
        self._limit(F.CELL_UNDERVOLTAGE).debounce = Debounce(
            self._p["cell_voltage_max_fault_delay_s"])


class UvClearsWithOvHysteresis(_Supervisor):
    """The under-voltage flags clear and the fault heals with the over-voltage hysteresis
    (0.1 V) instead of the declared 0.2 V."""

    def reset(self) -> None:
        super().reset()
        p = self._p
        old = self._limit(F.CELL_UNDERVOLTAGE)
        shared = ThreeLevelLimit(old.name, old.bit, False, p["cell_voltage_min_mol_V"],
                                 p["cell_voltage_min_rsl_V"], p["cell_voltage_min_msl_V"],
                                 p["cell_voltage_max_hysteresis_V"],
                                 p["cell_voltage_min_fault_delay_s"])
        self._limits[self._limits.index(old)] = shared
        self._limit_rows = [(shared if limit is old else limit, charging)
                            for limit, charging in self._limit_rows]


class DischargeOcDebouncedWithChargeDelay(_Supervisor):
    """Both over-currents are debounced with the charge over-current delay (0.32 s) — the
    discharge one is declared 0.05 s."""

    def reset(self) -> None:
        super().reset()
        self._limit(F.DISCHARGE_OVERCURRENT).debounce = Debounce(
            self._p["charge_current_max_fault_delay_s"])


_S = "safety_supervisor"


def _o(cls: type, *breaks: str, may_break: tuple[str, ...] = ()) -> Faulty:
    return Faulty(cls.__name__, _S, cls, frozenset(breaks), frozenset(may_break),
                  edit=_separate_limits)


#: faulty supervisor (on the separate-limits declaration) → the requirements it must fail
OPTION_CATALOGUE: tuple[Faulty, ...] = (
    _o(UvDebouncedWithOvDelay, "OBSA-SAFE-002"),
    _o(UvClearsWithOvHysteresis, "OBSA-SAFE-009", "OBSA-SAFE-014"),
    _o(DischargeOcDebouncedWithChargeDelay, "OBSA-SAFE-004"),
)
