"""The safety-core test cases over CAN: the closed loop's blocks are the BMU node's.

A manifest that claims a block profile (``bmu_safety_core``) beside ``bms_can`` names its
blocks in ``adapter.components`` with the node's own entry: they run on the node, and the
only way to them is its buses and pins. The closed loop of the safety-core test cases
(:class:`~conformance.harness.loop.ClosedLoop`) steps them through
:meth:`CanAdapter.step_chain <conformance.adapters.can.CanAdapter.step_chain>`, which hands
each bench step to a :class:`PoolBridge`:

- the pool's measured cell voltages and temperatures (the bench's sensor models, with every
  fault a test case injects) go out as the CMUs' frames, on the catalog's cycles; the pool's
  close_request and fault_reset_request as the vehicle's state request, every 100 ms and at
  once when one of them changes;
- the node's hardware pins read the pool's measured pack current, voltages, insulation
  resistance and contactor feedback (its own current sensor and drivers measure them again);
- every dictionary signal the node's frames carry (safety_state, safety_fault_flags, the
  current limits, contactor_state …) comes back into the pool when its frame arrives, and
  holds until the next; the contactor commands come back from its pins, its balancing
  commands switch the plant's balancing resistors.

A test case therefore sees the node as a vehicle on the bus sees it: a value only when its
frame comes. So that it judges the node on what the node was given and measured, the pool
shows the node's view where the bus carries it:

- the cell voltages and temperatures (and their validity) as the emulated CMUs last sent
  them, decoded as the node decodes them: each element holds from the frame that carried it
  to the next (sample and hold), in its field's step;
- the inputs of the stepped blocks that the node makes itself and its frames carry
  (can_fault_flags), as its frames last carried them. (What its pins measure stays the
  bench's measurement: the node reads the pin at once, in its own resolution.)

What neither the bus nor the pins carry, :func:`observability` names, with why: an output
of a stepped block that no frame the BMU sends carries (contactor_open_request, the fault
memory, the request flags), and an input of a stepped block that neither the emulated
nodes' frames nor the node's pins deliver (its current sensor's age, which the node
measures itself). The closed loop refuses to read or set them
(:class:`~conformance.harness.loop.NotObservable`): what a test case judges on them is
inconclusive, never failed. And the node's decisions show a frame late:
:func:`observation_lag_s` tells the judge by how much at most.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .base import AdapterError
from .can import COMPONENT
from .can_frames import CatalogCodec
from .can_rig import catalog_layout, cmu_frame

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


Hold = tuple[str, str, list[tuple[int, int]]]
"""An emulated CMU's frame of cell array elements: (values signal, validity signal,
[(element in the frame, pack index)])."""

#: the cell arrays an emulated CMU's frame carries: its dimension → (values, validity)
ARRAYS = {"cell": ("cell_voltage_V", "cell_voltage_valid"),
          "temperature_sensor": ("cell_temperature_degC", "cell_temperature_valid")}


def on_the_bus(spec: Any, node: str = "bmu") -> frozenset[str]:
    """The dictionary signals (scalars) the frames ``node`` sends carry, and its drives."""
    out = {s.signal for c in spec.can_catalogs for f in c.frames if node in f.senders
           for s in f.signals if s.element is None and s.signal in spec.signals}
    return frozenset(out | set(DRIVES))


def delivered(spec: Any, node: str = "bmu") -> frozenset[str]:
    """The dictionary signals the bench can give ``node``: those of the frames the emulated
    nodes send it, and the measurements its input pins read."""
    out = {s.signal for c in spec.can_catalogs for f in c.frames
           if node in f.receivers and node not in f.senders
           for s in f.signals if s.signal in spec.signals}
    return frozenset(out | set(PINS.values()))


def observability(spec: Any, components: list[str]
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """What a closed loop stepping ``components`` on the BMU node cannot see and cannot give
    it, each signal with why: (hidden — the node's value is on no frame it sends;
    undeliverable — a value set on the bench never reaches the node)."""
    carried, given = on_the_bus(spec), delivered(spec)
    produced = {p.signal for c in components for p in spec.interfaces[c].outputs}
    hidden: dict[str, str] = {}
    undeliverable: dict[str, str] = {}
    for c in components:
        for p in spec.interfaces[c].outputs:
            if p.signal not in carried:
                hidden.setdefault(p.signal, f"no frame of the CAN catalog carries {p.signal} "
                                            f"from the BMU (an output of its {c})")
        for p in spec.interfaces[c].inputs:
            name = p.signal
            if name in given or name in produced:
                continue
            undeliverable.setdefault(name, f"neither a frame of the CAN catalog nor a pin "
                                           f"carries {name} to the BMU (an input of its {c}: "
                                           "the node makes it itself)")
            if name not in carried:
                hidden.setdefault(name, f"the BMU makes {name} itself (an input of its {c}) "
                                        "and no frame of the CAN catalog carries it")
    return hidden, undeliverable


def observation_lag_s(spec: Any, components: list[str]) -> float:
    """How long after the node's decision the bench may first see it: the longest period
    plus tolerance of the frames the BMU sends that carry an output of ``components``."""
    outputs = {p.signal for c in components for p in spec.interfaces[c].outputs}
    lags = [(f.cycle.period_ms + f.cycle.tolerance_ms) / 1000 for c in spec.can_catalogs
            for f in c.frames if "bmu" in f.senders and f.cycle is not None
            and any(s.signal in outputs for s in f.signals)]
    return max(lags, default=0.0)


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
        #: what the bench gives the node (the emulated nodes' frames, its input pins)
        self.given = delivered(spec)
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
        #: the emulated CMUs' frames that carry cell array elements: (name, multiplexer
        #: value) → (values signal, validity signal, [(element in the frame, pack index)])
        #: — what the pool shows as last sent (:meth:`_hold`)
        self.holds: dict[tuple[str, int | None], Hold] = {}
        for name, mux in self.due:
            cf = self.codec.frame(name)
            arrays = ARRAYS.get(self.codec.dimension(cf.name) or "")
            mx = cf.frame.multiplexer
            if arrays is None or mx is None or mux is None:
                continue
            size = self.n_cells if arrays[0] == "cell_voltage_V" else self.n_sensors
            places = [(e, i) for e, i in enumerate(self.codec.elements(name, mux))
                      if i is not None and i < size]
            self.holds[(name, mux)] = (*arrays, places)
        #: the requests last sent, per frame of the vehicle or the charger (:meth:`_requests`)
        self.requested: dict[str, dict[str, bool]] = {}
        #: the cell arrays as the node was last sent them (the pool's view of them)
        self.view: dict[str, np.ndarray] = {}
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
        dim = self.codec.dimension(cf.name)
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
        # the outputs of the blocks the loop steps come from the node, and the inputs it
        # makes itself and sends (can_fault_flags); those its pins measure stay the bench's:
        # the node measures the pin's value at once in its own resolution, where its frame
        # would show it up to a period late
        for block in due:
            if block not in self.stepped:
                self.stepped.add(block)
                itf = self.spec.interfaces[block]
                self.returned |= {p.signal for p in itf.outputs if p.signal in self.carried}
                self.returned |= {p.signal for p in itf.inputs if p.signal in self.carried
                                  and p.signal not in self.given}
        frames = []
        held: list[tuple[Hold, str, Any]] = []
        for (name, mux), period in self.due.items():
            last = self.sent.get((name, mux))
            requests = self._requests(name, pool)
            if last is not None and t - last < period - 1e-9 and (
                    requests is None or requests == self.requested.get(name)):
                continue
            if requests is not None:
                self.requested[name] = requests
            msg = self._frame(name, mux, pool)
            if msg is not None:
                self.sent[(name, mux)] = t
                bus = self.codec.frame(name).bus
                frames.append((bus, msg))
                hold = self.holds.get((name, mux))
                if hold is not None:
                    held.append((hold, bus, msg))
        if held or not self.view:
            self._hold(held, pool)
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
        pool.update(self.view)
        pool["balancing_cmd"] = self.switches.copy()

    def _hold(self, held: list[tuple[Hold, str, Any]], pool: dict[str, Any]) -> None:
        """The pool's cell arrays as last sent: the elements of this step's frames as the
        node decodes them (in the field's resolution), the others as before. A new read-only
        array when something was sent, the same object otherwise (the trace reduces an array
        again only when its object changes)."""
        if not self.view:
            self.view = {name: np.array(pool[name], dtype=bool if name.endswith("_valid")
                                        else float)
                         for names in ARRAYS.values() for name in names}
        fresh: dict[str, np.ndarray] = {}
        for (value_name, valid_name, places), bus, msg in held:
            for name in (value_name, valid_name):
                if name not in fresh:
                    fresh[name] = self.view[name].copy()
            sent = self.codec.check(0.0, bus, msg).values
            for e, i in places:
                ok = bool(sent.get(f"{valid_name}_{e}", 0.0))
                fresh[valid_name][i] = ok
                if ok:  # an invalid element travels without its value: the last one holds
                    fresh[value_name][i] = sent[f"{value_name}_{e}"]
        for name, array in fresh.items():
            array.flags.writeable = False
            self.view[name] = array

    def _requests(self, name: str, pool: dict[str, Any]) -> dict[str, bool] | None:
        """The requests a frame of the vehicle or the charger carries (None for a CMU's). Such
        a frame goes out on its cycle and at once when a request changes, as a vehicle
        controller sends an event: a fault reset pulse shorter than the 100 ms cycle (the
        safety-core cases pulse it for 50 ms) reaches the node, as it does in process."""
        if name == "vcu_state_request":
            return {"close_request": bool(pool["close_request"]),
                    "fault_reset_request": bool(pool["fault_reset_request"])}
        if name == "charger_status":
            return {"charger_connected": bool(pool["charger_connected"])}
        return None

    def _frame(self, name: str, mux: int | None, pool: dict[str, Any]) -> Any:
        requests = self._requests(name, pool)
        if requests is not None:
            return self.codec.encode(name, requests)
        return cmu_frame(self.codec, self.layout.cells_per_module, self.switches, name, mux,
                         pool)
