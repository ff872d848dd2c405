"""The host of a Python CAN node under test: a child process, in simulated time.

    python -m conformance.adapters.can_serve

The ``can`` transport starts this when the manifest names a Python node class
(``adapter.components.can_stack: package.module:Class``): the module never runs in the
certifying process (DESIGN §2), and a node stepped with explicit time runs far faster than
real time and reproducibly. The node sits on python-can buses of the interface the manifest
names for each catalog bus — ``virtual``: private to this process — and this host holds a
second handle on each, which carries the bench's frames to the node and the node's frames
to the bench. One JSON object per line, each request answered by one line:

- ``{"op": "start", "factory": "pkg.mod:Class", "buses": {bus: {interface, channel,
  bitrate}}, "setup": {...}, "parameters": {component: {...}}}`` imports the class, opens the
  buses and builds the node with ``Class.from_pins(buses, pins, setup)``, then calls
  ``node.configure(parameters)``; a second ``start`` is a power-on: a new node, new buses;
- ``{"op": "step", "t": s, "rx": [[bus, id, extended, hex, error, remote], ...],
  "pins": {...}, "bus_off": [bus, ...]}`` puts the bench's frames on the buses, sets the
  input pins, calls ``node.step(t)`` and replies ``{"tx": [[bus, id, extended, hex], ...],
  "pins": {...}}``: the frames the node sent, and its output pins (what it drove since the
  last step). The buses ``bus_off`` names are bus-off for the step (:class:`Controller`);
- ``{"op": "stop"}`` ends the process.

A reply ``{"error": text}`` says what the node did wrong (an exception with its place).

The node class's contract (a reference: :class:`reference_impl.nodes.can_bmu.CanBmu`):
``Class.from_pins(buses, pins, setup)`` with ``buses`` a dict of catalog bus id →
:class:`can.BusABC`, ``pins`` a :class:`Pins` (``read()`` the input pins — the true
quantities its hardware sees — and ``write(name, value)`` an output pin: contactor
commands, balancing switches), ``setup`` the node's place (``node``, ``module``,
``n_cells``, ``n_sensors``); the node has ``configure(parameters)`` (per component) and
``step(t)``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any

import can

from .serve import limit_process, protect_channel


class Controller(can.BusABC):
    """The node's handle on one bus, with the controller's bus-off state, which the bench
    switches (OBSA-CAN-011): while bus-off, as a controller past 255 transmit errors
    (ISO 11898-1), ``send`` raises :class:`can.CanOperationError`, nothing is received and
    ``state`` is ``BusState.ERROR``; back on the bus, all as before. Everything else is the
    virtual bus's."""

    def __init__(self, inner: can.BusABC) -> None:
        self.inner = inner
        self.off = False
        super().__init__(channel=inner.channel_info)

    @property
    def state(self) -> can.BusState:
        return can.BusState.ERROR if self.off else can.BusState.ACTIVE

    @state.setter
    def state(self, new_state: can.BusState) -> None:
        raise NotImplementedError("the bench sets the controller's state")

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        if self.off:
            raise can.CanOperationError("bus-off: the controller takes no frame to send")
        self.inner.send(msg, timeout)

    def _recv_internal(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        msg = self.inner.recv(timeout=timeout)
        if self.off:
            return None, False
        return msg, False

    def shutdown(self) -> None:
        self.inner.shutdown()
        super().shutdown()


class Pins:
    """The node's hardware pins: inputs set by the bench each step, outputs it drives."""

    def __init__(self) -> None:
        self.inputs: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}

    def read(self) -> dict[str, Any]:
        return dict(self.inputs)

    def write(self, name: str, value: Any) -> None:
        self.outputs[name] = value


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Host:
    def __init__(self) -> None:
        self.node: Any = None
        self.buses: dict[str, Controller] = {}
        self.taps: dict[str, can.BusABC] = {}
        self.pins = Pins()

    def close_buses(self) -> None:
        for bus in [*self.buses.values(), *self.taps.values()]:
            bus.shutdown()
        self.buses, self.taps = {}, {}

    def start(self, req: dict[str, Any]) -> dict[str, Any]:
        self.close_buses()
        self.node = None
        module_name, _, attr = str(req["factory"]).partition(":")
        cls: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            cls = getattr(cls, part)
        run = f"{os.getpid()}-{req.get('run', 0)}"
        for bus, cfg in req["buses"].items():
            kwargs = {"interface": cfg["interface"], "channel": f"{cfg['channel']}-{run}"}
            if cfg.get("bitrate"):
                kwargs["bitrate"] = cfg["bitrate"]
            self.buses[bus] = Controller(can.Bus(**kwargs))
            self.taps[bus] = can.Bus(**kwargs)
        self.pins = Pins()
        self.node = cls.from_pins(dict(self.buses), self.pins, req["setup"])
        self.node.configure(req["parameters"])
        return {"ok": True}

    def step(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.node is None:
            return {"error": "step before start"}
        off = set(req.get("bus_off", []))
        for bus, controller in self.buses.items():
            controller.off = bus in off
        for bus, ident, ext, data, error, remote in req.get("rx", []):
            if bus in off:
                continue  # a bus-off controller receives nothing
            self.taps[bus].send(can.Message(arbitration_id=ident, is_extended_id=ext,
                                            data=bytes.fromhex(data), is_error_frame=error,
                                            is_remote_frame=remote,
                                            dlc=len(data) // 2))
        self.pins.inputs = req.get("pins", {})
        self.pins.outputs = {}
        self.node.step(float(req["t"]))
        tx = []
        for bus, tap in self.taps.items():
            while (msg := tap.recv(timeout=0.0)) is not None:
                tx.append([bus, msg.arbitration_id, bool(msg.is_extended_id),
                           bytes(msg.data).hex()])
        return {"tx": tx, "pins": _plain(self.pins.outputs)}


def main() -> int:
    proto_in, proto_out = protect_channel()
    limit_process(None)
    reader = os.fdopen(proto_in, "rb", buffering=0)
    writer = os.fdopen(proto_out, "wb", buffering=0)
    host = Host()
    for line in iter(reader.readline, b""):
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "stop":
                break
            reply = host.start(req) if op == "start" else host.step(req) if op == "step" \
                else {"error": f"unknown op {op!r}"}
        except BaseException as exc:  # the node's every failure becomes a reply
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
            reply = {"error": f"{type(exc).__name__}: {exc}{where}"}
        writer.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
    host.close_buses()
    return 0


if __name__ == "__main__":
    sys.exit(main())
