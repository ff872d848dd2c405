"""The CAN codec of the reference nodes: the catalog's frames with their end-to-end protection.

Layouts come from the catalog's DBC files and are encoded and decoded by cantools; the
timing and protection rules a DBC cannot hold come from the generated
:mod:`reference_impl.can.obsa_can`. Nothing here is specific to one python-can interface:
a codec turns dictionary values into :class:`can.Message` objects and back, and the nodes
send and receive them on whatever :class:`can.BusABC` they are given.

End-to-end protection (the catalog's ``e2e``; AUTOSAR E2E profile 1 where it says
``autosar_e2e_p1``):

- the CRC is CRC-8 SAE J1850, generator polynomial 0x1D (x⁸ + x⁴ + x³ + x² + 1), not
  reflected. ``crc8_sae_j1850`` starts at 0xFF and XORs the result with 0xFF (SAE J1850 and
  AUTOSAR ``Crc_CalculateCRC8``; catalogue check value 0x4B for the ASCII bytes
  "123456789"); ``crc8_sae_j1850_zero`` starts at 0x00 and has no final XOR, the variant
  E2E profile 1 computes (check value 0x37, the CRC-8/GSM-A entry of the CRC catalogue);
- it runs over the 16-bit data id, low byte then high byte (profile 1's "both bytes"
  mode; ``obsa_counter_crc8`` has none), then over every payload byte except the CRC's own;
- the alive counter counts up by one per frame of the same identifier and multiplexer value
  and wraps to 0 after its largest value (OBSA-CAN-004): 0 … 14 in AUTOSAR E2E profile 1,
  whose counter never takes 15 (:attr:`E2eRule.counter_values`), 0 … 2^length − 1
  otherwise; a receiver computes the step modulo the same count, and takes a counter outside
  it (15 in profile 1) as a jump;
- a receiver discards a frame whose CRC fails, whose counter repeats the previous one or
  steps by more than ``max_delta_counter`` (OBSA-CAN-005). A discarded jump still becomes
  the counter the next frame is compared with, so one lost frame costs one more frame, not
  the stream; a frame with a bad CRC changes nothing, since its counter cannot be trusted.
  After a reception timeout any step but 0 is taken (:meth:`BusCodec.resync_counter`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import can
from cantools.database import DecodeError
from cantools.database.can import Message as DbcMessage

from ..can import FRAMES, E2eRule, FrameRule, database

#: Generator polynomial of CRC-8 SAE J1850 (x⁸ + x⁴ + x³ + x² + 1, the x⁸ term implied).
CRC8_SAE_J1850_POLY = 0x1D

#: (start value, final XOR) of each CRC algorithm the catalog names.
CRC8_VARIANTS: dict[str, tuple[int, int]] = {
    "crc8_sae_j1850": (0xFF, 0xFF),
    "crc8_sae_j1850_zero": (0x00, 0x00),
}

#: The DBC names of the protection fields (conformance.spec.exporters.dbc writes them).
COUNTER = "alive_counter"
CRC = "crc"


def _crc8_table(poly: int) -> tuple[int, ...]:
    """The CRC of every single byte, from a zero register: one table lookup per data byte."""
    table = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = ((reg << 1) ^ poly) & 0xFF if reg & 0x80 else (reg << 1) & 0xFF
        table.append(reg)
    return tuple(table)


_TABLE = _crc8_table(CRC8_SAE_J1850_POLY)


def crc8_sae_j1850(data: bytes | bytearray, start: int = 0xFF, final_xor: int = 0xFF) -> int:
    """CRC-8 with polynomial 0x1D, MSB first, over ``data``: by default SAE J1850 (start
    and final XOR 0xFF); ``start=0, final_xor=0`` is the E2E profile 1 variant."""
    reg = start
    for byte in data:
        reg = _TABLE[reg ^ byte]
    return reg ^ final_xor


def e2e_crc(rule: E2eRule, payload: bytes | bytearray, crc_byte: int) -> int:
    """The CRC of a frame: over the data id (low byte, then high byte) if the rule has one,
    then over every payload byte but ``crc_byte``, with the rule's algorithm."""
    start, final_xor = CRC8_VARIANTS[rule.crc_algorithm]
    covered = bytearray()
    if rule.data_id is not None:
        covered += bytes((rule.data_id & 0xFF, rule.data_id >> 8))
    covered += payload[:crc_byte] + payload[crc_byte + 1:]
    return crc8_sae_j1850(covered, start, final_xor)


class RxStatus(enum.Enum):
    """What became of a received frame."""

    ACCEPTED = "accepted"
    CRC_ERROR = "crc_error"
    COUNTER_REPEATED = "counter_repeated"
    COUNTER_JUMP = "counter_jump"
    MALFORMED = "malformed"  # a catalog identifier with another data length, or a
    #: multiplexer value its DBC does not know
    NOT_FOR_NODE = "not_for_node"  # a catalog frame this node does not receive
    UNKNOWN = "unknown"  # an identifier the catalog does not list, or a remote/error frame


@dataclass
class RxCounts:
    """Frames of one catalog frame received by a node, by fate."""

    received: int = 0
    accepted: int = 0
    crc_errors: int = 0
    counter_errors: int = 0
    malformed: int = 0

    @property
    def discarded(self) -> int:
        return self.crc_errors + self.counter_errors + self.malformed


@dataclass
class Received:
    """A decoded frame: its catalog name, multiplexer value and DBC signal values."""

    name: str
    status: RxStatus
    mux: int | None = None
    signals: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameCodec:
    """One frame of a bus: its DBC message, its catalog rule and where its fields sit."""

    name: str
    message: DbcMessage
    rule: FrameRule
    mux_signal: str | None
    #: values the alive counter takes (None: no end-to-end protection)
    counter_values: int | None
    crc_byte: int | None
    #: scaled signals (not the multiplexer, counter or CRC): (minimum, maximum)
    limits: dict[str, tuple[float, float]]


def _frame_codec(name: str, message: DbcMessage, rule: FrameRule) -> FrameCodec:
    mux = next((s.name for s in message.signals if s.is_multiplexer), None)
    counter_values = crc_byte = None
    if rule.e2e is not None:
        counter = message.get_signal_by_name(COUNTER)
        crc = message.get_signal_by_name(CRC)
        if crc.length != 8 or crc.start % 8 or crc.byte_order != "little_endian":
            raise ValueError(f"{name}: the reference codec expects the CRC on a whole byte, "
                             f"found start bit {crc.start}, {crc.length} bits")
        if rule.e2e.counter_values > 1 << counter.length:
            raise ValueError(f"{name}: {rule.e2e.counter_values} counter values do not fit "
                             f"the {counter.length}-bit alive_counter field")
        counter_values, crc_byte = rule.e2e.counter_values, crc.start // 8
    limits = {s.name: (float(s.minimum), float(s.maximum)) for s in message.signals
              if s.name not in (COUNTER, CRC) and not s.is_multiplexer
              and s.minimum is not None and s.maximum is not None}
    return FrameCodec(name, message, rule, mux, counter_values, crc_byte, limits)


class BusCodec:
    """The frames of one bus as one node sees them: encode what it sends (with the next alive
    counter and the CRC), check and decode what it receives, count what it discards.

    ``node`` is a node of the bus in the catalog (``bmu``, ``cmu``; ``vcu``, ``charger`` for
    a harness emulating them): only frames listing it among their receivers are decoded, the
    rest are :attr:`RxStatus.NOT_FOR_NODE`.
    """

    def __init__(self, bus: str, node: str) -> None:
        if bus not in FRAMES:
            raise KeyError(f"no CAN bus '{bus}' in the catalog; expected one of "
                           f"{', '.join(FRAMES)}")
        nodes = sorted({n for rule in FRAMES[bus].values()
                        for n in (*rule.senders, *rule.receivers)})
        if node not in nodes:
            raise KeyError(f"no node '{node}' on CAN bus '{bus}'; expected one of "
                           f"{', '.join(nodes)}")
        self.bus, self.node = bus, node
        db = database(bus)
        self.frames = {name: _frame_codec(name, db.get_message_by_name(name), rule)
                       for name, rule in FRAMES[bus].items()}
        self._by_id = {(f.message.frame_id, f.message.is_extended_frame): f
                       for f in self.frames.values()}
        self._carried_by: dict[tuple[str, int | None], list[tuple[str, float]]] = {}
        self.reset()

    def reset(self) -> None:
        """Counters back to their start: the next frame sent carries 0, the next one received
        is taken as the first (any counter)."""
        self._tx_counter: dict[tuple[str, int | None], int] = {}
        self._rx_counter: dict[tuple[str, int | None], int] = {}
        self._resync: set[tuple[str, int | None]] = set()
        self.rx_counts: dict[str, RxCounts] = {name: RxCounts() for name in self.frames}
        self.unknown_frames = 0
        self.clamped_values = 0

    # ----------------------------------------------------------------------- sending
    def encode(self, name: str, values: Mapping[str, Any], t: float,
               mux: int | None = None) -> can.Message:
        """The frame ``name`` carrying ``values`` (DBC signal name → physical value; a
        signal not given is sent as raw 0, as an unused element is), with the next alive counter
        and its CRC. A value outside its signal's range is sent at the nearer end (NaN at the
        minimum) and counted in :attr:`clamped_values`: a frame must decode inside the
        catalog's range (OBSA-CAN-003)."""
        f = self.frames[name]
        data: dict[str, Any] = {}
        for signal, offset in self._carried(f, mux):
            value = values.get(signal)
            data[signal] = self._in_range(f, signal, offset if value is None else value)
        if f.mux_signal is not None:
            if mux is None:
                raise ValueError(f"{name}: a multiplexed frame needs its multiplexer value")
            data[f.mux_signal] = mux
        if f.counter_values is not None:
            key = (name, mux)
            counter = self._tx_counter.get(key, 0)
            self._tx_counter[key] = (counter + 1) % f.counter_values
            data[COUNTER], data[CRC] = counter, 0
        # every value is inside its signal's range (above): cantools need not check again
        payload = bytearray(f.message.encode(data, scaling=True, strict=False))
        if f.rule.e2e is not None and f.crc_byte is not None:
            payload[f.crc_byte] = e2e_crc(f.rule.e2e, payload, f.crc_byte)
        return can.Message(arbitration_id=f.message.frame_id,
                           is_extended_id=f.message.is_extended_frame, is_fd=f.message.is_fd,
                           data=payload, timestamp=t)

    def _carried(self, f: FrameCodec, mux: int | None) -> list[tuple[str, float]]:
        """The signals frame ``f`` carries with multiplexer value ``mux`` (not the
        multiplexer, counter or CRC), each with its offset (raw 0); found once per frame
        and multiplexer value."""
        key = (f.name, mux)
        carried = self._carried_by.get(key)
        if carried is None:
            carried = [(s.name, s.offset) for s in f.message.signals
                       if s.name not in (COUNTER, CRC) and not s.is_multiplexer
                       and (s.multiplexer_ids is None
                            or (mux is not None and mux in s.multiplexer_ids))]
            self._carried_by[key] = carried
        return carried

    def _in_range(self, f: FrameCodec, signal: str, value: Any) -> float | int:
        low, high = f.limits.get(signal, (-math.inf, math.inf))
        x = float(value)
        if low <= x <= high:
            return int(value) if isinstance(value, bool | int) else x
        self.clamped_values += 1
        return low if math.isnan(x) else min(max(x, low), high)

    # --------------------------------------------------------------------- receiving
    def decode(self, msg: can.Message) -> Received:
        """Check and decode one received frame (the module docstring's E2E rules)."""
        f = None
        if not (msg.is_error_frame or msg.is_remote_frame):
            # an 11-bit and a 29-bit identifier of the same number are different frames
            f = self._by_id.get((msg.arbitration_id, msg.is_extended_id))
        if f is None:
            self.unknown_frames += 1
            return Received("", RxStatus.UNKNOWN)
        if self.node not in f.rule.receivers:
            return Received(f.name, RxStatus.NOT_FOR_NODE)
        if len(msg.data) != f.message.length or bool(msg.is_fd) != bool(f.message.is_fd):
            return self._count(f, RxStatus.MALFORMED)
        payload = bytes(msg.data)
        e2e = f.rule.e2e
        if e2e is not None and f.crc_byte is not None:
            if payload[f.crc_byte] != e2e_crc(e2e, payload, f.crc_byte):
                return self._count(f, RxStatus.CRC_ERROR)
        try:
            raw = f.message.decode(payload, decode_choices=False, scaling=True)
        except DecodeError:  # a multiplexer value the catalog does not have
            return self._count(f, RxStatus.MALFORMED)
        assert isinstance(raw, dict)
        decoded: dict[str, Any] = dict(raw)
        mux = int(decoded[f.mux_signal]) if f.mux_signal is not None else None
        if e2e is not None and f.counter_values is not None:
            status = self._counter_status(f, mux, int(decoded[COUNTER]), e2e.max_delta_counter)
            if status is not RxStatus.ACCEPTED:
                return self._count(f, status, mux)
        received = self._count(f, RxStatus.ACCEPTED, mux)
        received.signals = decoded
        return received

    def _counter_status(self, f: FrameCodec, mux: int | None, counter: int,
                        max_delta: int) -> RxStatus:
        assert f.counter_values is not None
        key = (f.name, mux)
        if counter >= f.counter_values:  # a value the counter never takes (15 in profile 1)
            return RxStatus.COUNTER_JUMP
        previous = self._rx_counter.get(key)
        self._rx_counter[key] = counter
        if previous is None:
            return RxStatus.ACCEPTED
        delta = (counter - previous) % f.counter_values
        if delta == 0:
            return RxStatus.COUNTER_REPEATED
        if key in self._resync:
            self._resync.discard(key)
            return RxStatus.ACCEPTED
        return RxStatus.COUNTER_JUMP if delta > max_delta else RxStatus.ACCEPTED

    def resync_counter(self, name: str, mux: int | None = None) -> None:
        """Accept the next frame of ``name`` (and ``mux``) with any counter step but none:
        after a reception timeout the sender may have lost frames or restarted, while a
        frame that still repeats the last counter is as stale as before (a hung sender
        repeating its last frame must not come back to life at each timeout)."""
        if (name, mux) in self._rx_counter:
            self._resync.add((name, mux))

    def _count(self, f: FrameCodec, status: RxStatus, mux: int | None = None) -> Received:
        counts = self.rx_counts[f.name]
        counts.received += 1
        if status is RxStatus.ACCEPTED:
            counts.accepted += 1
        elif status is RxStatus.CRC_ERROR:
            counts.crc_errors += 1
        elif status in (RxStatus.COUNTER_REPEATED, RxStatus.COUNTER_JUMP):
            counts.counter_errors += 1
        elif status is RxStatus.MALFORMED:
            counts.malformed += 1
        return Received(f.name, status, mux)


def drain(bus: can.BusABC, limit: int = 10_000) -> Iterator[can.Message]:
    """Every frame the bus holds now, without waiting (at most ``limit`` per call, so that a
    flooded bus cannot hold a node's step forever)."""
    for _ in range(limit):
        msg = bus.recv(timeout=0.0)
        if msg is None:
            return
        yield msg


# ---------------------------------------------------------------- modules on the internal bus
@dataclass(frozen=True)
class ModuleLayout:
    """Which cells and temperature sensors each CMU carries, and in which multiplexed frames.

    From the internal bus's catalog: a module is the set of cells one ``bmu_balancing_cmd``
    frame commands (16 cells, 12 module values). The voltage and temperature groups are
    numbered per module (their multiplexers' ``elements_per_module``, 16 cells and 8
    sensors): group ``6·m + k`` carries the cells ``3·k … 3·k+2`` of module ``m`` (pack
    cells ``16·m + 3·k …``), sensor group ``3·m + k`` its sensors ``3·k …``; a place past the
    module's last cell or sensor is unused and sent invalid. So each CMU sends only groups
    of its own cells, and the multiplexers' 72 and 36 values carry all 12 modules.
    """

    modules: int
    cells_per_module: int
    sensors_per_module: int
    cells_per_group: int
    sensors_per_group: int
    voltage_groups: int
    temperature_groups: int

    @property
    def voltage_groups_per_module(self) -> int:
        return -(-self.cells_per_module // self.cells_per_group)

    @property
    def temperature_groups_per_module(self) -> int:
        return -(-self.sensors_per_module // self.sensors_per_group)

    @property
    def max_modules(self) -> int:
        """Modules whose groups all fit the multiplexers' values."""
        return min(self.modules, self.voltage_groups // self.voltage_groups_per_module,
                   self.temperature_groups // self.temperature_groups_per_module)

    def modules_for(self, n_cells: int, n_sensors: int) -> int:
        """Modules a pack of ``n_cells`` and ``n_sensors`` needs; refused past the catalog."""
        n = max(-(-n_cells // self.cells_per_module), -(-n_sensors // self.sensors_per_module))
        if not 1 <= n <= self.max_modules:
            raise ValueError(
                f"a pack of {n_cells} cells and {n_sensors} temperature sensors needs {n} "
                f"modules of {self.cells_per_module} cells and {self.sensors_per_module} "
                f"sensors; the internal bus's multiplexers carry 1 … {self.max_modules}")
        return n

    def voltage_group(self, module: int, j: int) -> int:
        return module * self.voltage_groups_per_module + j

    def temperature_group(self, module: int, j: int) -> int:
        return module * self.temperature_groups_per_module + j

    def cells_of(self, group: int) -> list[tuple[int, int]]:
        """(element, pack cell index) of every cell voltage group ``group`` carries."""
        return _members(group, self.voltage_groups_per_module, self.cells_per_group,
                        self.cells_per_module)

    def sensors_of(self, group: int) -> list[tuple[int, int]]:
        """(element, pack sensor index) of every sensor temperature group ``group`` carries."""
        return _members(group, self.temperature_groups_per_module, self.sensors_per_group,
                        self.sensors_per_module)


def _members(group: int, per_module: int, per_group: int, module_size: int
             ) -> list[tuple[int, int]]:
    module, j = divmod(group, per_module)
    return [(e, module * module_size + j * per_group + e) for e in range(per_group)
            if j * per_group + e < module_size]


def _mux_values(bus: str, name: str) -> int:
    message = database(bus).get_message_by_name(name)
    mux = next(s for s in message.signals if s.is_multiplexer)
    assert mux.maximum is not None
    return int(mux.maximum) + 1


def module_layout() -> ModuleLayout:
    """The :class:`ModuleLayout` the internal bus's catalog gives."""
    frames = FRAMES["internal_can"]
    cmd = frames["bmu_balancing_cmd"]
    voltages, temperatures = frames["cmu_cell_voltages"], frames["cmu_cell_temperatures"]
    cells_per_module = cmd.elements_per_module
    sensors_per_module = temperatures.elements_per_module
    cells_per_group = voltages.elements_per_value
    sensors_per_group = temperatures.elements_per_value
    if not (cells_per_module and sensors_per_module and cells_per_group and sensors_per_group
            and voltages.elements_per_module == cells_per_module):
        raise ValueError("the internal bus's catalog does not number its groups per module "
                         "(elements_per_module of the balancing command, cell voltage and "
                         "temperature multiplexers)")
    return ModuleLayout(
        modules=_mux_values("internal_can", "bmu_balancing_cmd"),
        cells_per_module=cells_per_module, sensors_per_module=sensors_per_module,
        cells_per_group=cells_per_group, sensors_per_group=sensors_per_group,
        voltage_groups=_mux_values("internal_can", "cmu_cell_voltages"),
        temperature_groups=_mux_values("internal_can", "cmu_cell_temperatures"))
