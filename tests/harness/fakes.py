"""A plant for the closed loop's own tests: it keeps time and gives a resting pack's
measurements; the commands of the loop are ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.bench.clock import Clock


class RestingBench:
    """``cells`` cells at ``voltage(t)`` and ``sensors`` temperature sensors at 25 °C, no
    current, 350 V (with ``valid``: every channel valid, and the DC link at 0 V), in 0.01 s
    steps."""

    class config:  # noqa: N801 - mirrors BenchConfig's attribute access
        dt_s = 0.01

    def __init__(self, cells: int = 4, sensors: int = 2,
                 voltage: Callable[[float], float] = lambda t: 3.7, valid: bool = True) -> None:
        self.clock = Clock(0.01)
        self.cells, self.sensors, self.voltage, self.valid = cells, sensors, voltage, valid

    @property
    def t(self) -> float:
        return self.clock.t

    def measurements(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cell_voltage_V": np.full(self.cells, self.voltage(self.t)),
                               "cell_temperature_degC": np.full(self.sensors, 25.0),
                               "pack_current_A": 0.0, "pack_voltage_V": 350.0}
        if self.valid:
            out.update({"cell_voltage_valid": np.ones(self.cells, dtype=bool),
                        "cell_temperature_valid": np.ones(self.sensors, dtype=bool),
                        "link_voltage_V": 0.0})
        return out

    def apply(self, pool: dict[str, Any]) -> None:
        pass

    def advance(self) -> None:
        self.clock.tick()
