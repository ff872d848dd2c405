"""OCV curves: monotonic, inside the chemistry's limits over the rated window, running away
beyond it (so over-charge and deep-discharge scenarios reach the fault thresholds)."""

import numpy as np
import pytest

from conformance.bench import CHEMISTRIES


@pytest.mark.parametrize("name", sorted(CHEMISTRIES))
def test_ocv_is_strictly_increasing(name: str) -> None:
    chem = CHEMISTRIES[name]
    assert np.all(np.diff(chem.soc_knots) > 0)
    assert np.all(np.diff(chem.ocv_knots_V) > 0)


@pytest.mark.parametrize("name", sorted(CHEMISTRIES))
def test_ocv_stays_between_discharge_and_charge_limits(name: str) -> None:
    chem = CHEMISTRIES[name]
    ocv = chem.ocv_V(np.linspace(0.0, 1.0, 1001))
    assert ocv.min() >= chem.limits.discharge_limit_V
    assert ocv.max() <= chem.limits.charge_limit_V


@pytest.mark.parametrize("name", sorted(CHEMISTRIES))
def test_ocv_leaves_the_safe_window_beyond_the_rated_soc(name: str) -> None:
    chem = CHEMISTRIES[name]
    assert chem.ocv_V(1.1) > chem.limits.over_voltage_fault_V
    assert chem.ocv_V(-0.1) < chem.limits.under_voltage_fault_V
    assert 0.0 <= chem.ocv_V(-1.0) and chem.ocv_V(2.0) <= 6.0
