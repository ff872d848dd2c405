"""The reference node stepped in closed loop with a plant, publishing to a :class:`Feed`.

The plant is duck-typed (the conformance bench: ``t``, ``measurements()``,
``plant_inputs()``, ``apply()``, ``advance()``, ``config.dt_s``); ``speed`` is simulated
seconds per wall-clock second (1: real time), None as fast as it can.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from ..nodes.node import Node
from .resources import LIMIT_PARAMETERS
from .service import Feed

#: the vehicle's and the operator's inputs while the dashboard runs: the HV path requested
DRIVER_INPUTS: dict[str, Any] = {"close_request": True, "fault_reset_request": False,
                                 "charger_connected": False, "can_fault_flags": 0}
class ClosedLoopFeed:
    """Steps ``node`` with ``plant`` in a thread and publishes every step to ``feed``."""

    def __init__(self, node: Node, plant: Any, configuration: Mapping[str, Mapping[str, Any]],
                 speed: float | None = 1.0) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed: expected a positive number of simulated seconds per "
                             f"second, got {speed}")
        self.node, self.plant, self.speed = node, plant, speed
        safety = configuration.get("safety_supervisor", {})
        self.feed = Feed({k: float(safety[k]) for k in LIMIT_PARAMETERS if k in safety})
        self.inputs = dict(DRIVER_INPUTS)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lock = threading.Lock()  # held during a step: take it to change the plant

    def step(self) -> dict[str, Any]:
        with self.lock:
            p = self.plant
            signals = self.node.step(p.t, {**p.measurements(), **p.plant_inputs(),
                                           **self.inputs})
            p.apply(signals)
            p.advance()
        # the Annex VII data as of the snapshot, as the binding serves them
        hmi = self.node.components.get("hmi_api")
        lifetime = getattr(hmi, "lifetime_data", {})
        self.feed.publish({**signals, **lifetime})
        return signals

    def _run(self) -> None:
        dt = float(self.plant.config.dt_s)
        start = time.monotonic()
        t0 = float(self.plant.t)
        while not self._stop.is_set():
            self.step()
            if self.speed is not None:
                ahead = (float(self.plant.t) - t0) / self.speed - (time.monotonic() - start)
                if ahead > dt / self.speed:
                    self._stop.wait(ahead)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="obsa-hmi-loop", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


MANIFEST = "manifest_full_bms.yaml"


def reference_loop(plant: Any, speed: float | None = 1.0) -> ClosedLoopFeed:
    """The reference full BMS configured as its manifest declares, on ``plant``."""
    from pathlib import Path

    import yaml

    path = Path(__file__).parents[1] / MANIFEST
    configuration = yaml.safe_load(path.read_text(encoding="utf-8"))["configuration"]
    node = Node("full_bms", {"cell": int(plant.config.n_cells),
                             "temperature_sensor": int(plant.config.n_temp_sensors)})
    node.configure(configuration)
    node.reset()
    return ClosedLoopFeed(node, plant, configuration, speed)


def serve(loop: ClosedLoopFeed, host: str = "127.0.0.1", port: int = 8000,
          token: str | None = None) -> None:
    """Run ``loop`` behind the HTTP service until interrupted."""
    import uvicorn

    from .service import create_app

    loop.start()
    try:
        uvicorn.run(create_app(loop.feed, token), host=host, port=port, log_level="warning")
    finally:
        loop.stop()
