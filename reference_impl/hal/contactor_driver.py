"""Simulated contactor driver (spec: interfaces/contactor_driver.yaml).

Energises each coil exactly when its contactor is commanded closed and reads the auxiliary
contacts back from the plant's true contactor positions: a welded or a stuck contactor shows
up as feedback that disagrees with the command, which the contactor manager supervises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import Block

COMPONENT = "contactor_driver"
_CONTACTORS = ("main_positive", "main_negative", "precharge")


class ContactorDriver(Block):
    """Coils on command, feedback from the true contact positions."""

    COMPONENT = COMPONENT

    # coil_economiser changes the coil current, not the logic: nothing to set up or reset

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for name in _CONTACTORS:
            outputs[f"{name}_coil_on"] = bool(inputs[f"{name}_close_cmd"])
            outputs[f"{name}_closed_fb"] = bool(inputs[f"true_{name}_closed"])
        return outputs
