"""Invalid input values: readings that are no measurement at all (NaN, ±inf).

A broken sensor driver or a failed conversion delivers NaN or an infinity where a voltage
should be. Every comparison with NaN is false, so the direction in which a check is
written decides whether the module fails safe; the spec says what a module does with such
a value in the description of the input (spec/interfaces/*.yaml).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conformance.harness.context import Harness
from conformance.suite import steps as S

CM = S.CONTACTORS
req = pytest.mark.requirement
NON_FINITE = {"nan": math.nan, "plus_inf": math.inf, "minus_inf": -math.inf}


@pytest.mark.parametrize("value", [pytest.param(v, id=k) for k, v in NON_FINITE.items()])
@req("OBSA-CONT-001")
def test_non_finite_link_voltage_is_no_precharge(obsa: Harness, value: float) -> None:
    """The DC-link voltage reads NaN or ±inf during a precharge attempt: main positive must
    not be commanded closed (contactor_manager.yaml, input link_voltage_V)."""
    timeout = float(obsa.param(CM, "precharge_timeout_s"))
    loop = obsa.run()
    S.settle(loop, 0.3)
    loop.bench.inject(S.Stuck(signal="link_voltage_V", start_s=loop.t,
                              value=value))
    t_req = loop.t
    loop.set("close_request", True)
    loop.run(timeout + 0.5)
    t_pos = S.first_time(loop, S.channel(loop, "main_positive_close_cmd") > 0.5, after=t_req)
    events = {"close request, link voltage unreadable": t_req}
    note = "main positive never commanded closed: nothing closed onto the DC link"
    difference: float | None = 0.0
    if t_pos is not None:
        events["main positive commanded"] = t_pos
        gap = abs(S.value_at(loop, "pack_voltage_V", t_pos)
                  - S.value_at(loop, "link_voltage_V", t_pos))
        difference = gap if np.isfinite(gap) else None
        note = f"main positive commanded closed with the link voltage reading {value}"
    obsa.judge("OBSA-CONT-001", {"voltage_difference_at_close_V": difference}, events=events,
               notes={"voltage_difference_at_close_V": note},
               message=f"link_voltage_V stuck at {value} from the close request on, for the "
                       f"declared precharge timeout and 0.5 s")
