"""The host of a Python CAN node under test: a child process, in simulated time.

    python -m conformance.adapters.can_serve

The ``can`` transport starts this when the manifest names a Python node class
(``adapter.components.can_stack: package.module:Class``): the module never runs in the
certifying process (DESIGN §2), and a node stepped with explicit time runs far faster than
real time and reproducibly. The node sits on one python-can bus per catalog bus, private to
this process (the manifest's ``virtual``): a :class:`Controller` held in memory, which this
host fills with the bench's frames before each step and empties of the node's frames after
it — no copy, queue or lock of python-can's ``virtual`` interface, which serves threads and
processes that run on their own. One JSON object per line, each request answered by one
line:

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
import threading
import time
import traceback
from collections import deque
from typing import Any

import can

from .serve import limit_process, protect_channel

#: how long a thread of the node (a :class:`can.Notifier`'s) waits on an empty bus
THREAD_POLL_S = 0.001


class Controller(can.BusABC):
    """The node's handle on one bus: a python-can bus held in this process's memory, which
    the host fills with the bench's frames before each step and empties of the node's
    frames after it. In simulated time nothing arrives while the node steps, so ``recv``
    never waits in the node's step: it returns the next frame (that passes the bus's
    filters) or None at once, and refuses a wait without end (``timeout=None`` on an empty
    bus), which could never be met; a thread of the node's own waits a millisecond at most.
    A received frame is stamped with the step's time; a frame sent is copied as it is at
    ``send`` (the node may reuse its :class:`can.Message`).

    The controller's bus-off state is the bench's to switch (OBSA-CAN-011): while bus-off,
    as a controller past 255 transmit errors (ISO 11898-1), ``send`` raises
    :class:`can.CanOperationError`, nothing is received and ``state`` is
    ``BusState.ERROR``; back on the bus, all as before."""

    def __init__(self, channel: str) -> None:
        self.off = False
        #: the bench's frames for the node, in the order they were put on the bus
        self.rx: deque[can.Message] = deque()
        #: the node's frames since the host last took them: (identifier, extended, data)
        self.tx: list[tuple[int, bool, bytes]] = []
        super().__init__(channel=channel)
        self.channel_info = f"in-memory bus {channel}"

    @property
    def state(self) -> can.BusState:
        return can.BusState.ERROR if self.off else can.BusState.ACTIVE

    @state.setter
    def state(self, new_state: can.BusState) -> None:
        raise NotImplementedError("the bench sets the controller's state")

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        if self.off:
            raise can.CanOperationError("bus-off: the controller takes no frame to send")
        self.tx.append((msg.arbitration_id, bool(msg.is_extended_id), bytes(msg.data)))

    def recv(self, timeout: float | None = None) -> can.Message | None:
        rx = self.rx
        if self.off:
            rx.clear()
            return None
        while rx:
            msg = rx.popleft()
            if self._filters is None or self._matches_filters(msg):
                return msg
        if timeout is None:
            raise can.CanOperationError(
                "recv() without a timeout on an empty bus: in simulated time no frame "
                "arrives during a step, so the wait would never end (recv(timeout=0.0) "
                "reads what the bus holds)")
        if timeout > 0 and threading.current_thread() is not threading.main_thread():
            # a reader of the node's own (a can.Notifier) polls between steps, not spins
            time.sleep(min(timeout, THREAD_POLL_S))
        return None

    def _recv_internal(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        if self.off or not self.rx:
            return None, False
        return self.rx.popleft(), False

    def take(self) -> list[tuple[int, bool, bytes]]:
        """The node's frames since the last call, in the order it sent them."""
        out, self.tx = self.tx, []
        return out


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
        self.pins = Pins()

    def close_buses(self) -> None:
        for bus in self.buses.values():
            bus.shutdown()
        self.buses = {}

    def start(self, req: dict[str, Any]) -> dict[str, Any]:
        self.close_buses()
        self.node = None
        module_name, _, attr = str(req["factory"]).partition(":")
        cls: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            cls = getattr(cls, part)
        self.buses = {bus: Controller(str(cfg["channel"])) for bus, cfg in req["buses"].items()}
        self.pins = Pins()
        self.node = cls.from_pins(dict(self.buses), self.pins, req["setup"])
        self.node.configure(req["parameters"])
        return {"ok": True}

    def handle(self, req: dict[str, Any],
               failures: tuple[type[BaseException], ...] = (BaseException,)
               ) -> dict[str, Any]:
        """The reply to one request (``start`` or ``step``): a failure of the node (by
        default any exception: this process is the node's) becomes a reply
        ``{"error": text}`` naming the exception and its place."""
        try:
            op = req.get("op")
            return self.start(req) if op == "start" else self.step(req) if op == "step" \
                else {"error": f"unknown op {op!r}"}
        except failures as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
            return {"error": f"{type(exc).__name__}: {exc}{where}"}

    def step(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.node is None:
            return {"error": "step before start"}
        off = set(req.get("bus_off", ()))
        t = float(req["t"])
        buses = self.buses
        for bus, controller in buses.items():
            controller.off = bus in off
        for bus, ident, ext, data, error, remote in req.get("rx", ()):
            if bus in off:
                continue  # a bus-off controller receives nothing
            payload = bytes.fromhex(data)
            buses[bus].rx.append(can.Message(
                timestamp=t, arbitration_id=ident, is_extended_id=ext, data=payload,
                is_error_frame=error, is_remote_frame=remote, dlc=len(payload),
                channel=bus, check=False))
        self.pins.inputs = req.get("pins", {})
        self.pins.outputs = {}
        self.node.step(t)
        tx = [[bus, ident, ext, data.hex()] for bus, controller in buses.items()
              for ident, ext, data in controller.take()]
        return {"tx": tx, "pins": _plain(self.pins.outputs)}


def main() -> int:
    proto_in, proto_out = protect_channel()
    limit_process(None)
    # buffered: a raw file's readline reads one byte per system call
    reader = os.fdopen(proto_in, "rb")
    writer = os.fdopen(proto_out, "wb", buffering=0)
    host = Host()
    for line in iter(reader.readline, b""):
        try:
            req = json.loads(line)
        except ValueError as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        else:
            if isinstance(req, dict) and req.get("op") == "stop":
                break
            reply = host.handle(req)
        writer.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
    host.close_buses()
    return 0


if __name__ == "__main__":
    sys.exit(main())
