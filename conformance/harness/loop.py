"""The closed loop: bench plant → measurements → module components → commands → plant.

Signals are wired by name: every component reads its inputs from one signal pool that
holds the bench's measurements, the operator's commands and every component's latest
outputs. Components step in the profile's order; an input produced by a later component
is its value from the previous step (a unit delay), as on a real controller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..spec import Spec
from ..spec.models import Signal

#: commands that the operator (vehicle, charger, service tool) sets on the bench
OPERATOR_COMMANDS = ("close_request", "fault_reset_request")


def default_value(signal: Signal, dimensions: dict[str, int]) -> Any:
    """The value a signal holds before anyone produced it: zero, False or the first enum value."""
    scalar: Any
    if signal.type == "bool":
        scalar = False
    elif signal.type == "float":
        scalar = 0.0
    else:
        scalar = 0
    if signal.dimension is None:
        return scalar
    return np.full(dimensions.get(signal.dimension, 0), scalar)


@dataclass
class TraceChannel:
    """A recorded quantity: a name, a unit and how to read it from the pool."""

    name: str
    unit: str
    read: Callable[[dict[str, Any]], float]


class ClosedLoop:
    """Steps a bench and the module's components together on the simulated clock."""

    def __init__(self, spec: Spec, bench: Any, adapter: Any, components: list[str],
                 dimensions: dict[str, int], channels: list[TraceChannel]) -> None:
        self.spec = spec
        self.bench = bench
        self.adapter = adapter
        self.components = list(components)
        self.pool: dict[str, Any] = {
            name: default_value(sig, dimensions) for name, sig in spec.signals.items()
        }
        self._inputs = {
            c: tuple(p.signal for p in spec.interfaces[c].inputs) for c in self.components
        }
        self.channels = channels
        self.t_s: list[float] = []
        self.trace: dict[str, list[float]] = {ch.name: [] for ch in channels}
        self.steps = 0

    @property
    def t(self) -> float:
        return float(self.bench.t)

    def set(self, name: str, value: Any) -> None:
        """Set an operator command (or any signal no component produces)."""
        if name not in self.pool:
            raise KeyError(f"'{name}' is not a signal of the data dictionary")
        self.pool[name] = value

    def step(self) -> None:
        pool = self.pool
        bench = self.bench
        t = bench.t
        pool.update(bench.measurements())
        step = self.adapter.step
        for comp in self.components:
            pool.update(step(comp, t, {name: pool[name] for name in self._inputs[comp]}))
        bench.apply(pool)
        self.t_s.append(t)
        for ch in self.channels:
            self.trace[ch.name].append(ch.read(pool))
        bench.advance()
        self.steps += 1

    def run(self, duration_s: float, until: Callable[[dict[str, Any]], bool] | None = None,
            every: Callable[[ClosedLoop], None] | None = None) -> float | None:
        """Run for ``duration_s``; stop early and return the time when ``until(pool)`` holds.

        ``every`` is called before each step (to drive a scenario: ramps, load profiles).
        """
        dt = self.bench.config.dt_s
        n = int(round(duration_s / dt))
        for _ in range(n):
            if every is not None:
                every(self)
            self.step()
            if until is not None and until(self.pool):
                return self.t_s[-1]
        return None
