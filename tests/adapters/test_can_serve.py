"""The host of a Python CAN node (``conformance.adapters.can_serve``): the node's in-memory
buses and one step of the wire, in this process; and the bench's frame encoder against
cantools' own."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import can
import pytest

from conformance.adapters.can_frames import CatalogCodec
from conformance.adapters.can_rig import CanRig, _Schedule
from conformance.adapters.can_serve import THREAD_POLL_S, Controller, Host
from conformance.spec import load_spec


def _frame(ident: int, data: bytes = b"\x01\x02") -> can.Message:
    return can.Message(arbitration_id=ident, is_extended_id=False, data=data)


def test_the_controller_delivers_every_frame_in_order() -> None:
    bus = Controller("internal")
    for i in range(500):
        bus.rx.append(_frame(i, i.to_bytes(2, "little")))
    got = []
    while (msg := bus.recv(timeout=0.0)) is not None:
        got.append(msg)
    assert [m.arbitration_id for m in got] == list(range(500))
    assert [bytes(m.data) for m in got] == [i.to_bytes(2, "little") for i in range(500)]
    bus.shutdown()


def test_the_controller_keeps_sent_frames_in_order_as_they_were_sent() -> None:
    bus = Controller("vehicle")
    msg = _frame(0x10, b"\x00")
    for i in range(300):
        msg.arbitration_id, msg.data = 0x10 + i, bytearray([i % 256])
        bus.send(msg)  # the node reuses its message: each frame is kept as it was sent
    sent = bus.take()
    assert sent == [(0x10 + i, False, bytes([i % 256])) for i in range(300)]
    assert bus.take() == []  # taken once
    bus.shutdown()


def test_a_bus_off_controller_sends_and_receives_nothing_then_recovers() -> None:
    bus = Controller("internal")
    bus.rx.append(_frame(1))
    bus.off = True
    assert bus.state == can.BusState.ERROR
    assert bus.recv(timeout=0.0) is None
    with pytest.raises(can.CanOperationError, match="bus-off"):
        bus.send(_frame(2))
    assert bus.take() == []
    bus.off = False
    assert bus.state == can.BusState.ACTIVE
    assert bus.recv(timeout=0.0) is None  # what came while bus-off is lost
    bus.send(_frame(3))
    assert [i for i, _, _ in bus.take()] == [3]
    bus.shutdown()


def test_the_controller_never_waits_and_refuses_a_wait_without_end() -> None:
    bus = Controller("internal")
    assert bus.recv(timeout=5.0) is None  # at once: nothing arrives during a step
    with pytest.raises(can.CanOperationError, match="no frame arrives during a step"):
        bus.recv()
    bus.shutdown()


def test_the_controller_applies_the_nodes_filters() -> None:
    bus = Controller("internal")
    bus.set_filters([{"can_id": 0x200, "can_mask": 0x7F0, "extended": False}])
    for ident in (0x100, 0x201, 0x300, 0x20F):
        bus.rx.append(_frame(ident))
    assert [m.arbitration_id for m in iter(lambda: bus.recv(timeout=0.0), None)] \
        == [0x201, 0x20F]
    bus.shutdown()


class Recorder:
    """A node that keeps what it receives, answers each frame with its identifier + 1 and
    drives one pin."""

    last: Recorder | None = None

    def __init__(self, buses: Mapping[str, can.BusABC], pins: Any) -> None:
        self.buses, self.pins = dict(buses), pins
        self.received: list[tuple[str, can.Message]] = []
        Recorder.last = self

    @classmethod
    def from_pins(cls, buses: Mapping[str, can.BusABC], pins: Any,
                  setup: Mapping[str, Any]) -> Recorder:
        return cls(buses, pins)

    def configure(self, parameters: Mapping[str, Any]) -> None:
        pass

    def step(self, t: float) -> None:
        for name, bus in self.buses.items():
            while (msg := bus.recv(timeout=0.0)) is not None:
                self.received.append((name, msg))
                if not (msg.is_error_frame or msg.is_remote_frame):
                    try:
                        bus.send(_frame(msg.arbitration_id + 1, bytes(msg.data)))
                    except can.CanOperationError:
                        pass
        self.pins.write("seen", sorted(self.pins.read()))


def _host() -> Host:
    host = Host()
    host.start({"factory": f"{__name__}:Recorder", "setup": {}, "parameters": {},
                "buses": {b: {"interface": "virtual", "channel": b, "bitrate": 500000}
                          for b in ("internal_can", "vehicle_can")}})
    return host


def test_a_step_carries_the_benchs_frames_to_the_node_and_its_frames_back() -> None:
    host = _host()
    rx = [["internal_can", 0x100 + i, False, f"{i:02x}ff", False, False] for i in range(40)]
    rx += [["vehicle_can", 0x18FF0001, True, "0102030405060708", False, False],
           ["vehicle_can", 0x300, False, "", True, False],  # an error frame
           ["vehicle_can", 0x301, False, "00000000", False, True]]  # a remote frame
    reply = host.step({"op": "step", "t": 1.25, "rx": rx, "pins": {"a": 1, "b": 2}})
    node = Recorder.last
    assert node is not None
    got = [(bus, m.arbitration_id, m.is_extended_id, bytes(m.data).hex(), m.is_error_frame,
            m.is_remote_frame) for bus, m in node.received]
    # every frame, in order; a remote frame carries no data (as python-can builds it)
    assert got == [tuple(f) for f in rx[:-1]] + [("vehicle_can", 0x301, False, "", False,
                                                  True)]
    assert node.received[-1][1].dlc == 4
    assert all(m.timestamp == 1.25 for _, m in node.received)  # the step's time
    assert reply["tx"] == ([["internal_can", 0x101 + i, False, f"{i:02x}ff"]
                            for i in range(40)]
                           + [["vehicle_can", 0x18FF0002, False, "0102030405060708"]])
    assert reply["pins"] == {"seen": ["a", "b"]}
    host.close_buses()


def test_a_bus_off_bus_gives_the_node_nothing_and_takes_nothing() -> None:
    host = _host()
    rx = [["internal_can", 0x100, False, "00", False, False],
          ["vehicle_can", 0x200, False, "00", False, False]]
    reply = host.step({"op": "step", "t": 0.0, "rx": rx, "pins": {},
                       "bus_off": ["internal_can"]})
    node = Recorder.last
    assert node is not None
    assert [(b, m.arbitration_id) for b, m in node.received] == [("vehicle_can", 0x200)]
    assert reply["tx"] == [["vehicle_can", 0x201, False, "00"]]
    assert node.buses["internal_can"].state == can.BusState.ERROR
    reply = host.step({"op": "step", "t": 0.01, "rx": rx, "pins": {}})
    assert node.buses["internal_can"].state == can.BusState.ACTIVE
    assert [f[1] for f in reply["tx"]] == [0x101, 0x201]
    host.close_buses()


@pytest.fixture(scope="module")
def codec() -> CatalogCodec:
    return CatalogCodec(load_spec())


def test_the_benchs_encoder_packs_as_cantools_does(codec: CatalogCodec) -> None:
    """Every frame and multiplexer value of the catalog, with values inside, outside and
    missing, booleans and several counters: the bytes of cantools' ``Message.encode``."""
    spec = codec.spec
    plain = CatalogCodec(spec)
    plain._nodes = lambda cf, mux: None  # type: ignore[method-assign]  # Message.encode
    rnd = random.Random(7)
    checked = 0
    for frames in codec.frames.values():
        for name, cf in frames.items():
            m = cf.frame.multiplexer
            for mux in range(m.count) if m is not None else [None]:
                for i in range(4):
                    values: dict[str, Any] = {}
                    for s in cf.message.signals:
                        lo = s.minimum if s.minimum is not None else -100.0
                        hi = s.maximum if s.maximum is not None else 100.0
                        if s.length == 1:
                            values[s.name] = rnd.random() < 0.5
                        elif rnd.random() > 0.1:
                            values[s.name] = lo + (hi - lo) * rnd.uniform(-0.1, 1.1)
                    fast = codec.encode(name, values, mux, crc_ok=i != 3)
                    slow = plain.encode(name, values, mux, crc_ok=i != 3)
                    assert bytes(fast.data) == bytes(slow.data), (name, mux, values)
                    checked += 1
    assert checked > 400


def test_the_benchs_encoder_packs_counters_past_their_wrap_as_cantools_does(
        codec: CatalogCodec) -> None:
    """The counter, CRC and multiplexer part, packed once per value, again after the wrap."""
    codec, plain = CatalogCodec(codec.spec), CatalogCodec(codec.spec)  # counters from 0
    plain._nodes = lambda cf, mux: None  # type: ignore[method-assign]
    for name, mux in (("cmu_cell_voltages", 3), ("cmu_status", 0), ("vcu_state_request", None)):
        for i in range(40):
            values = {"cell_voltage_V_0": 3.0 + i / 100, "close_request": i % 3 == 0,
                      "cell_monitor_age_s": i / 10}
            fast, slow = codec.encode(name, values, mux), plain.encode(name, values, mux)
            assert bytes(fast.data) == bytes(slow.data), (name, mux, i)


def test_an_unknown_multiplexer_value_is_refused_as_cantools_refuses_it(
        codec: CatalogCodec) -> None:
    with pytest.raises(Exception, match="multiplexer"):
        codec.encode("cmu_status", {}, 99)


def test_the_due_frames_repeat_with_their_periods() -> None:
    """The rig's frames due at a step are the schedules' own, in their order, at every step
    of two whole cycles and past them."""
    schedules = {("a", None): _Schedule(10, 1), ("b", 3): _Schedule(20, 1),
                 ("c", None): _Schedule(7, 1), ("b", 4): _Schedule(20, 1),
                 ("d", None): _Schedule(100, 1)}
    codec = SimpleNamespace(frame=lambda name: SimpleNamespace(bus=f"bus-{name}"))
    for cycle in (140 * 5, 0):  # kept, and worked out at every step
        rig = SimpleNamespace(_schedules=schedules, _cycle=cycle, _due_by_step={},
                              codec=codec)
        for k in range(2 * 700 + 37):
            expected = [(n, mux, f"bus-{n}") for (n, mux), s in schedules.items()
                        if s.due(k)]
            assert CanRig._due(rig, k) == expected, k  # type: ignore[arg-type]


def test_a_reader_thread_of_the_node_polls_an_empty_bus_instead_of_spinning() -> None:
    bus = Controller("internal")
    took: list[float] = []

    def read() -> None:
        start = time.monotonic()
        for _ in range(20):
            assert bus.recv(timeout=0.05) is None
        took.append(time.monotonic() - start)

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=10)
    assert took and took[0] >= 20 * THREAD_POLL_S * 0.9
    bus.shutdown()
