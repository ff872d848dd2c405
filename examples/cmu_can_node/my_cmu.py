"""A vendor's cell monitoring unit on the internal CAN bus, written from the CAN catalog
(``spec/can/internal.yaml``, its generated DBC), the published guide *Certifying a CAN node*
(``docs/guides/can-nodes.rst``) and the vendor guide alone.

What is ours is the node: its schedule, its frames — packed and unpacked with cantools from
the generated DBC ``obsa_internal_can.dbc`` — and their end-to-end protection (the alive
counter and the CRC-8 of AUTOSAR E2E profile 1, computed here). What the DBC cannot hold
(reception timeouts, the E2E data ids, the largest counter step a receiver accepts) comes
from the catalog's generated rules, ``reference_impl.can.obsa_can``. The measurement itself
is the reference implementation's function (``measure_array``: a reading quantised to the
dictionary's resolution, invalid outside its range), as the vendor guide's other examples
borrow reference blocks.

The node as the ``can`` transport hosts it (``conformance/adapters/can_serve.py``):
``MyCmu.from_pins(buses, pins, setup)``, ``configure(parameters)``, ``step(t)``. Each step
it reads what the bus holds (the master's measurement sync starts a conversion; its
balancing command for our module sets the switches), measures on its own 100 ms clock when
the sync has timed out, opens the switches when the command has, and sends what is due:
the module's 6 cell voltage groups and its status every 100 ms, its 3 temperature groups
every 200 ms.

:class:`MyCmu` is the first version and carries the mistake section 12 of the vendor guide
walks through: its alive counter wraps after the 4-bit field's 15, where E2E profile 1 never
sends 15 (OBSA-CAN-004). :class:`MyCmuFixed` wraps after 14.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import can
import cantools
import numpy as np
from cantools.database.can import Database, Message, Signal

from reference_impl.can import FRAMES, dbc_path
from reference_impl.hal.signal_format import measure_array

BUS = "internal_can"
#: the frames we send, and those of the master we read
VOLTAGES, TEMPERATURES, STATUS = "cmu_cell_voltages", "cmu_cell_temperatures", "cmu_status"
SYNC, COMMAND = "bmu_measurement_sync", "bmu_balancing_cmd"
#: a time compared with a deadline: well below the bench's step
EPS_S = 1e-9


def crc8_e2e_p1(data: bytes) -> int:
    """CRC-8 SAE J1850 as E2E profile 1 computes it: polynomial 0x1D, MSB first, start value
    0x00, no final XOR (the catalog's ``crc8_sae_j1850_zero``)."""
    reg = 0
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = ((reg << 1) ^ 0x1D) & 0xFF if reg & 0x80 else (reg << 1) & 0xFF
    return reg


class _Frame:
    """One frame of the DBC with what we need to protect it: its data id, CRC byte and the
    largest counter its field carries."""

    def __init__(self, message: Message) -> None:
        rule = FRAMES[BUS][message.name]
        assert rule.e2e is not None, f"{message.name}: every internal frame is protected"
        self.message, self.rule = message, rule
        self.data_id = rule.e2e.data_id or 0
        crc: Signal = message.get_signal_by_name("crc")
        self.counter: Signal = message.get_signal_by_name("alive_counter")
        self.crc_byte = crc.start // 8
        self.mux = next((s.name for s in message.signals if s.is_multiplexer), None)

    def crc(self, payload: bytes | bytearray) -> int:
        """The CRC over the data id (low byte, then high byte) and every byte but the CRC's."""
        covered = bytes((self.data_id & 0xFF, self.data_id >> 8))
        covered += bytes(payload[:self.crc_byte]) + bytes(payload[self.crc_byte + 1:])
        return crc8_e2e_p1(covered)


class MyCmu:
    """Module ``module``'s cell monitoring unit on ``bus`` (module docstring)."""

    def __init__(self, bus: can.BusABC, module: int, n_cells: int, n_sensors: int,
                 pins: Any) -> None:
        db = cantools.database.load_file(dbc_path(BUS), database_format="dbc")
        assert isinstance(db, Database)
        self.bus, self.module, self.pins = bus, module, pins
        self.frames = {m.name: _Frame(m) for m in db.messages}
        self._by_id = {f.message.frame_id: f for f in self.frames.values()}
        voltages = self.frames[VOLTAGES].message
        self.per_group = sum(1 for s in voltages.signals if s.name.startswith("cell_voltage_V_"))
        self.cells_per_module = FRAMES[BUS][COMMAND].elements_per_module or 0
        self.sensors_per_module = FRAMES[BUS][TEMPERATURES].elements_per_module or 0
        self.n_cells, self.n_sensors = n_cells, n_sensors
        self.periods = {name: float(self.frames[name].message.cycle_time or 0) / 1000
                        for name in (SYNC, VOLTAGES, TEMPERATURES, STATUS)}
        self.reset()

    @classmethod
    def from_pins(cls, buses: Mapping[str, can.BusABC], pins: Any,
                  setup: Mapping[str, Any]) -> MyCmu:
        """The node on the bench: our bus, our module, its cells and sensors."""
        return cls(buses[BUS], int(setup["module"]), int(setup["n_cells"]),
                   int(setup["n_sensors"]), pins)

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        """Our cell monitor's declared accuracies are the bench's business: we only reset."""
        self.reset()

    def reset(self) -> None:
        """Power-on: every switch open, nothing measured, counters and schedules anew."""
        self.switches = getattr(self, "switches", np.zeros(self.n_cells, dtype=bool))
        self._switch(np.zeros(self.n_cells, dtype=bool))
        self._tx_counter: dict[tuple[str, int], int] = {}
        self._rx_counter: dict[str, int] = {}
        self._next_due: dict[str, float] = {}
        self._sync_at: float | None = None
        self._command_at: float | None = None
        self._measured_at: float | None = None
        self._voltage = self._temperature = np.zeros(0)
        self._voltage_valid = self._temperature_valid = np.zeros(0, dtype=bool)

    # --------------------------------------------------------------------------- step
    def step(self, t: float) -> None:
        """Receive, measure, supervise the balancing command, send what is due."""
        synchronised = self._receive(t)
        sync_lost = self._sync_at is None or t - self._sync_at > self._timeout(SYNC) + EPS_S
        own_clock_due = (self._measured_at is None or t - self._measured_at
                         >= self.periods[SYNC] - EPS_S)  # without the sync: its period
        if synchronised or (sync_lost and own_clock_due):
            self._measure(t)
        if (self.switches.any() and (self._command_at is None
                                     or t - self._command_at > self._timeout(COMMAND) + EPS_S)):
            self._switch(np.zeros(self.n_cells, dtype=bool))  # the master fell silent
        self._send_due(t)

    def _timeout(self, name: str) -> float:
        timeout = FRAMES[BUS][name].timeout_s
        assert timeout is not None
        return timeout

    # ---------------------------------------------------------------------- receiving
    def _receive(self, t: float) -> bool:
        """Every frame the bus holds; True when a valid measurement sync came."""
        synchronised = False
        while (msg := self.bus.recv(timeout=0.0)) is not None:
            frame = self._by_id.get(msg.arbitration_id)
            if (frame is None or msg.is_extended_id or msg.is_error_frame
                    or msg.is_remote_frame or frame.message.name not in (SYNC, COMMAND)
                    or len(msg.data) != frame.message.length):
                continue  # not a frame of ours, or not one we can read
            payload = bytes(msg.data)
            if payload[frame.crc_byte] != frame.crc(payload):
                continue
            try:
                decoded = frame.message.decode(payload, decode_choices=False)
            except cantools.database.DecodeError:
                continue  # a multiplexer value the DBC does not have
            assert isinstance(decoded, dict)
            signals = {k: float(v) for k, v in decoded.items() if isinstance(v, int | float)}
            if not self._counter_ok(frame, int(signals["alive_counter"])):
                continue
            if frame.message.name == SYNC:
                synchronised, self._sync_at = True, t
            elif int(signals["module"]) == self.module:
                self._command_at = t
                self._switch(np.array([bool(signals[f"balancing_cmd_{i}"])
                                       for i in range(self.n_cells)]))
        return synchronised

    def _counter_ok(self, frame: _Frame, counter: int) -> bool:
        """Whether the counter of a received frame steps by 1 to the catalog's largest step
        from the previous one: a repeated counter is a stale frame, a larger step or a value
        the counter never takes follows lost frames."""
        name = frame.message.name
        values = int(frame.counter.maximum or 0) + 1
        previous = self._rx_counter.get(name)
        if counter >= values:
            return False
        self._rx_counter[name] = counter
        if previous is None:
            return True
        assert frame.rule.e2e is not None
        return 0 < (counter - previous) % values <= frame.rule.e2e.max_delta_counter

    def _switch(self, closed: np.ndarray) -> None:
        if not np.array_equal(closed, self.switches):
            self.switches = closed
            self.pins.write("balancing_switches", closed.copy())

    # ---------------------------------------------------------------------- measuring
    def _measure(self, t: float) -> None:
        pins = self.pins.read()
        self._voltage, self._voltage_valid = measure_array(
            "cell_voltage_V", np.asarray(pins["true_cell_voltage_V"], dtype=float))
        self._temperature, self._temperature_valid = measure_array(
            "cell_temperature_degC", np.asarray(pins["true_cell_temperature_degC"], dtype=float))
        self._measured_at = t

    # ------------------------------------------------------------------------ sending
    def _due(self, name: str, t: float) -> bool:
        """On a grid of the frame's period from its first sending; a late step restarts it."""
        due = self._next_due.get(name)
        if due is not None and t < due - EPS_S:
            return False
        period = self.periods[name]
        self._next_due[name] = (due if due is not None and t < due + period else t) + period
        return True

    def _send_due(self, t: float) -> None:
        if self._due(VOLTAGES, t):
            self._send_groups(VOLTAGES, self.cells_per_module, self._voltage,
                              self._voltage_valid, "cell_voltage_V", "cell_voltage_valid")
        if self._due(TEMPERATURES, t):
            self._send_groups(TEMPERATURES, self.sensors_per_module,
                              self._temperature, self._temperature_valid,
                              "cell_temperature_degC", "cell_temperature_valid")
        if self._due(STATUS, t):
            assert self._measured_at is not None
            self._send(STATUS, self.module, {"balancing_active": int(self.switches.any()),
                                             "cell_monitor_age_s": t - self._measured_at})

    def _send_groups(self, name: str, per_module: int, values: np.ndarray, valid: np.ndarray,
                     value_signal: str, valid_signal: str) -> None:
        """The module's groups of :attr:`per_group` elements each; a place past its last cell
        or sensor is sent invalid, its value at the bottom of the field."""
        groups = -(-per_module // self.per_group)
        for k in range(groups):
            signals: dict[str, float] = {}
            for e in range(self.per_group):
                i = k * self.per_group + e
                if i < per_module and i < len(values):
                    signals[f"{value_signal}_{e}"] = float(values[i])
                    signals[f"{valid_signal}_{e}"] = int(bool(valid[i]))
            self._send(name, self.module * groups + k, signals)

    def _send(self, name: str, mux: int, signals: dict[str, float]) -> None:
        """Pack the frame's signals with cantools, then protect it (:meth:`_protect`)."""
        frame = self.frames[name]
        assert frame.mux is not None, "every frame we send is multiplexed"
        data: dict[str, float] = {frame.mux: mux, "crc": 0, "alive_counter": 0}
        for sig in frame.message.signals:
            if sig.name not in data:  # a place we leave unused: the bottom of its field
                data[sig.name] = _inside(sig, signals.get(sig.name, -np.inf))
        payload = self._protect(frame, frame.message.encode(data), (name, mux))
        try:
            self.bus.send(can.Message(arbitration_id=frame.message.frame_id,
                                      is_extended_id=False, data=payload))
        except can.CanError:
            pass  # bus-off: this frame is lost; the schedule goes on

    def _protect(self, frame: _Frame, packed: bytes, key: tuple[str, int]) -> bytes:
        """E2E protection of a packed frame, as an E2E library does it on the bytes: the
        next alive counter of ``key`` (frame, multiplexer value) into its field, then the
        CRC over the data id and the frame into its byte."""
        counter = frame.counter
        mask = ((1 << counter.length) - 1) << counter.start
        bits = int.from_bytes(packed, "little") & ~mask
        bits |= self._next_counter(key) << counter.start
        payload = bytearray(bits.to_bytes(len(packed), "little"))
        payload[frame.crc_byte] = frame.crc(payload)
        return bytes(payload)

    def _next_counter(self, key: tuple[str, int]) -> int:
        """The alive counter of the next frame of ``key``."""
        counter = self._tx_counter.get(key, 0)
        self._tx_counter[key] = (counter + 1) & 0x0F  # the 4-bit field's next value
        return counter


class MyCmuFixed(MyCmu):
    """The fix: the counter wraps after 14, the top of its DBC range (OBSA-CAN-004)."""

    def _next_counter(self, key: tuple[str, int]) -> int:
        counter = self._tx_counter.get(key, 0)
        self._tx_counter[key] = (counter + 1) % 15  # 0 … 14: E2E profile 1 never sends 15
        return counter


def _inside(signal: Signal, value: float) -> float:
    """``value`` held inside the signal's range (a reading clamped by the front end; -inf:
    the bottom of the field)."""
    low = float(signal.minimum) if signal.minimum is not None else 0.0
    high = float(signal.maximum) if signal.maximum is not None else np.inf
    return float(min(max(value, low), high))
