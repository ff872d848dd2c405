"""The safety-core test cases over CAN: the closed loop's blocks are the BMU node's.

A manifest that claims a block profile (``bmu_safety_core``) beside ``bms_can`` names its
blocks in ``adapter.components`` with the node's own entry: they run on the node, and the
only way to them is its buses and pins. The closed loop of the safety-core test cases
(:class:`~conformance.harness.loop.ClosedLoop`) steps them through
:meth:`CanAdapter.step_chain <conformance.adapters.can.CanAdapter.step_chain>`, which hands
each bench step to a :class:`PoolBridge`:

- the pool's measured cell voltages and temperatures (the bench's sensor models, with every
  fault a test case injects) go out as the CMUs' frames, on the catalog's cycles; the pool's
  close_request and fault_reset_request as the vehicle's state request, every 100 ms;
- the node's hardware pins read the pool's measured pack current, voltages, insulation
  resistance and contactor feedback (its own current sensor and drivers measure them again);
- every dictionary signal the node's frames carry (safety_state, safety_fault_flags, the
  current limits, contactor_state …) comes back into the pool when its frame arrives, and
  holds until the next; the contactor commands come back from its pins, its balancing
  commands switch the plant's balancing resistors.

A test case therefore sees the node as a vehicle on the bus sees it: a value only when its
frame comes. Signals no frame carries (contactor_open_request, the fault memory, the
request flags) keep their start values: :data:`ON_THE_BUS` lists those the bus carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .base import AdapterError
from .can import COMPONENT
from .can_frames import CatalogCodec
from .can_rig import _dimension, catalog_layout, cmu_frame

if TYPE_CHECKING:
    from .can import CanAdapter

#: the pool's measured signals that feed the BMU's input pins (pin ← measured signal)
PINS = {"true_pack_current_A": "pack_current_A", "true_pack_voltage_V": "pack_voltage_V",
        "true_link_voltage_V": "link_voltage_V",
        "true_insulation_resistance_ohm": "insulation_resistance_ohm",
        "true_main_positive_closed": "main_positive_closed_fb",
        "true_main_negative_closed": "main_negative_closed_fb",
        "true_precharge_closed": "precharge_closed_fb"}
#: the node's output pins that act on the plant
DRIVES = ("main_positive_close_cmd", "main_negative_close_cmd", "precharge_close_cmd")


def on_the_bus(spec: Any, node: str = "bmu") -> frozenset[str]:
    """The dictionary signals (scalars) the frames ``node`` sends carry, and its drives."""
    out = {s.signal for c in spec.can_catalogs for f in c.frames if node in f.senders
           for s in f.signals if s.element is None and s.signal in spec.signals}
    return frozenset(out | set(DRIVES))


class PoolBridge:
    """One power-on of the BMU node in a closed loop of the bench (module docstring)."""

    def __init__(self, adapter: CanAdapter, spec: Any, pool: dict[str, Any]) -> None:
        if adapter.can.node != "bmu" or adapter.realtime:
            raise AdapterError("the block test cases run over CAN on a Python BMU node only "
                               "(they need the node's pins: a board drives its own "
                               "contactors, a CMU holds no block of the safety core)",
                               component=COMPONENT, call="step")
        self.adapter, self.spec = adapter, spec
        self.codec = CatalogCodec(spec)
        self.layout = catalog_layout(self.codec)
        self.n_cells = len(pool["cell_voltage_V"])
        self.n_sensors = len(pool["cell_temperature_degC"])
        self.n_modules = self.layout.modules_for(self.n_cells, self.n_sensors)
        self.switches = np.zeros(self.n_cells, dtype=bool)
        self.kinds = {name: sig.type for name, sig in spec.signals.items()}
        self.carried = on_the_bus(spec)
        self.held: dict[str, Any] = {}
        self.stepped: set[str] = set()
        self.returned: set[str] = set()
        #: the emulated nodes' frames: (name, multiplexer value) → period, s
        self.due: dict[tuple[str, int | None], float] = {}
        for bus in adapter.can.buses:
            for name, cf in self.codec.frames[bus].items():
                f = cf.frame
                if f.cycle is None or "bmu" not in f.receivers or "bmu" in f.senders:
                    continue
                for mux in self._values(cf):
                    self.due[(name, mux)] = f.cycle.period_ms / 1000
        self.sent: dict[tuple[str, int | None], float] = {}
        adapter.start({"node": "bmu", "module": 0, "n_cells": self.n_cells,
                       "n_sensors": self.n_sensors}, self._parameters(adapter, spec))

    @staticmethod
    def _parameters(adapter: CanAdapter, spec: Any) -> dict[str, dict[str, Any]]:
        """Every block of the node the manifest declares, as the manifest declares it (the
        rest keep their defaults), with the loop's configuration of the blocks it steps."""
        from ..manifest import load_manifest

        blocks = [c.id for c in spec.architecture.components
                  if c.node == "bmu" and c.id != COMPONENT]
        out: dict[str, dict[str, Any]] = {}
        path = adapter.settings.get("manifest_path")
        if path:
            manifest, _ = load_manifest(path)
            if manifest is not None:
                out = {c: dict(manifest.effective_parameters(spec, c)) for c in blocks
                       if c in manifest.configuration}
        out.update({c: p for c, p in adapter.parameters.items() if c in blocks})
        return out

    def _values(self, cf: Any) -> list[int | None]:
        m = cf.frame.multiplexer
        if m is None:
            return [None]
        vpm, per = m.values_per_module or 1, m.elements_per_value or 0
        dim = _dimension(self.codec, cf)
        out: list[int | None] = []
        for mod in range(self.n_modules):
            if m.elements_per_module is None or dim is None or vpm == 1:
                out.append(mod)
                continue
            total = self.n_cells if dim == "cell" else self.n_sensors
            present = max(0, min(m.elements_per_module, total - mod * m.elements_per_module))
            out += [mod * vpm + k for k in range(vpm) if k * per < present]
        return out

    def step(self, t: float, due: list[str], pool: dict[str, Any]) -> None:
        # only the outputs of the blocks the loop steps come from the node: the measurements
        # its own sensors send (pack current, voltages) stay the bench's, as in process
        for block in due:
            if block not in self.stepped:
                self.stepped.add(block)
                self.returned |= {p.signal for p in self.spec.interfaces[block].outputs
                                  if p.signal in self.carried}
        frames = []
        for (name, mux), period in self.due.items():
            last = self.sent.get((name, mux))
            if last is not None and t - last < period - 1e-9:
                continue
            msg = self._frame(name, mux, pool)
            if msg is not None:
                self.sent[(name, mux)] = t
                frames.append((self.codec.frame(name).bus, msg))
        pins = {pin: (bool(pool[src]) if isinstance(pool[src], bool | np.bool_)
                      else float(pool[src])) for pin, src in PINS.items()}
        received, out = self.adapter.exchange(t, frames, pins)
        for at, bus, msg in received:
            c = self.codec.check(at, bus, msg)
            if c.frame is None or not c.crc_ok or not c.values:
                continue
            if c.frame.name == "bmu_balancing_cmd" and c.mux is not None:
                per = self.layout.cells_per_module
                for i in range(per):
                    if c.mux * per + i < self.n_cells:
                        self.switches[c.mux * per + i] = bool(c.values.get(f"balancing_cmd_{i}"))
                continue
            for name, value in c.values.items():
                if name in self.returned:
                    kind = self.kinds.get(name)
                    self.held[name] = (bool(value) if kind == "bool" else
                                       int(value) if kind in ("int", "enum") else float(value))
        for name in DRIVES:
            if name in out and name in self.returned:
                self.held[name] = bool(out[name])
        pool.update(self.held)
        pool["balancing_cmd"] = self.switches.copy()

    def _frame(self, name: str, mux: int | None, pool: dict[str, Any]) -> Any:
        codec = self.codec
        if name == "vcu_state_request":
            return codec.encode(name, {"close_request": bool(pool["close_request"]),
                                       "fault_reset_request": bool(pool["fault_reset_request"])})
        if name == "charger_status":
            return codec.encode(name, {"charger_connected": bool(pool["charger_connected"])})
        return cmu_frame(codec, self.layout.cells_per_module, self.switches, name, mux, pool)
