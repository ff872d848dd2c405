"""Simulated isolation monitor (spec: interfaces/isolation_monitor.yaml).

Reports the true insulation resistance clamped to the signal's range; a missing true value
(NaN) holds the last measurement. The declared relative accuracy is configuration for the
bench's noise models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..component import Block
from .signal_format import SIGNAL_FORMAT, measure

COMPONENT = "isolation_monitor"


class IsolationMonitor(Block):
    """Insulation resistance between the HV system and the chassis."""

    COMPONENT = COMPONENT

    def reset(self) -> None:
        # before the first measurement: the top of the range, i.e. no insulation fault known
        self._held_ohm = SIGNAL_FORMAT["insulation_resistance_ohm"][1]

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        value = measure("insulation_resistance_ohm", inputs["true_insulation_resistance_ohm"])
        if not math.isnan(value):
            self._held_ohm = value
        return {"insulation_resistance_ohm": self._held_ohm}
