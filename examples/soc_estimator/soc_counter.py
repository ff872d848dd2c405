"""A SoC estimator written from ``spec/interfaces/soc_estimator.yaml`` and the vendor guide:
coulomb counting on the reference capacity, reset to the open-circuit voltage after a rest.

It counts the measured current into every cell's SoC (series cells carry one current) and,
once the current has stayed below C/50 for :data:`REST_S`, sets each cell's SoC from its
voltage through the OCV table of the characterization the bench hands it
(``cell_characterization``, obsa-ecm/1). A stale current measurement is not counted and
raises ``soc_inputs_stale`` (bit 0 of ``soc_fault_flags`` in the spec).
"""

from __future__ import annotations

from typing import Any

import numpy as np

REST_S = 60.0
"""How long the current stays below C/50 before the voltage is taken for the OCV."""
STALE_BIT = 1 << 0
"""soc_inputs_stale: bit 0 of soc_fault_flags (spec/interfaces/soc_estimator.yaml)."""


class SocCounter:
    """configure / reset / step, as the vendor guide's section 1 asks."""

    def configure(self, parameters: dict[str, Any]) -> None:
        self.capacity_As = 3600.0 * float(parameters["reference_capacity_Ah"])
        self.initial_soc = float(parameters["initial_soc"])
        self.timeout_s = float(parameters["soc_input_timeout_s"])
        self.rest_A = self.capacity_As / 3600.0 / 50.0
        doc = parameters.get("cell_characterization")
        self.ocv: dict[float, np.ndarray] = {}
        if doc is not None:  # the OCV per temperature, on the SoC grid of the document
            self.soc_grid = np.asarray(doc["ocv"]["soc"], dtype=float)
            self.ocv = {float(t): np.asarray(v, dtype=float)
                        for t, v in doc["ocv"]["ocv_V"].items()}
        self.reset()

    def reset(self) -> None:
        self.soc: np.ndarray | None = None
        self.t_last: float | None = None
        self.rest_s = 0.0

    def _from_voltage(self, voltage_V: np.ndarray, temperature_degC: float) -> np.ndarray:
        nearest = min(self.ocv, key=lambda t: abs(t - temperature_degC))
        return np.interp(voltage_V, self.ocv[nearest], self.soc_grid)

    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        voltage = np.asarray(inputs["cell_voltage_V"], dtype=float)
        current = float(inputs["pack_current_A"])
        stale = float(inputs["current_sensor_age_s"]) > self.timeout_s
        if self.soc is None:
            self.soc = np.full(voltage.shape, self.initial_soc)
        dt = 0.0 if self.t_last is None else t - self.t_last
        self.t_last = t
        if not stale:
            self.soc = self.soc + current * dt / self.capacity_As
            self.rest_s = self.rest_s + dt if abs(current) < self.rest_A else 0.0
        if self.ocv and self.rest_s >= REST_S:
            temperature = float(np.mean(inputs["cell_temperature_degC"]))
            self.soc = self._from_voltage(voltage, temperature)
        self.soc = np.clip(self.soc, 0.0, 1.0)
        lo, hi = float(self.soc.min()), float(self.soc.max())
        pack = lo / (lo + 1.0 - hi) if lo + 1.0 - hi > 0 else 0.0
        return {"cell_soc": self.soc.tolist(), "pack_soc": pack,
                "soc_fault_flags": STALE_BIT if stale else 0}
