"""The bench's own view of the CAN catalog's frames: encode the frames of the nodes it
emulates, and check and decode the frames of the module under test.

Layouts come from the DBC files the exporter writes for the catalog
(:func:`conformance.spec.exporters.dbc.render`, the published files' text), read by cantools;
timing and end-to-end rules from the catalog's models. Nothing here comes from
the reference implementation: its codec is what some test cases judge, so the bench computes
CRCs and counters on its own, from the catalog's statements:

- CRC-8 with polynomial 0x1D over the data id (low byte, then high byte, where the profile
  has one) and every payload byte but the CRC's own; ``crc8_sae_j1850`` starts at and XORs
  with 0xFF, ``crc8_sae_j1850_zero`` (AUTOSAR E2E profile 1) uses 0x00 for both;
- the alive counter counts 0 … ``counter_values`` − 1 and wraps to 0, per identifier and
  multiplexer value.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import can
import cantools
from cantools.database import DecodeError
from cantools.database.can import Database
from cantools.database.can import Message as DbcMessage
from cantools.database.utils import encode_data

from ..spec.can_models import CanCatalog, Frame
from ..spec.loader import Spec

COUNTER = "alive_counter"
CRC = "crc"

_CRC_START_XOR = {"crc8_sae_j1850": (0xFF, 0xFF), "crc8_sae_j1850_zero": (0x00, 0x00)}


def _shifted(reg: int) -> int:
    """The register after 8 shifts of polynomial 0x1D, MSB first."""
    for _ in range(8):
        reg = ((reg << 1) ^ 0x1D) & 0xFF if reg & 0x80 else (reg << 1) & 0xFF
    return reg


#: the register after one byte, for every register value (one lookup per data byte)
_STEP = bytes(_shifted(r) for r in range(256))


def crc8(data: bytes, algorithm: str) -> int:
    """CRC-8, polynomial 0x1D, MSB first (the catalog's two variants)."""
    reg, final = _CRC_START_XOR[algorithm]
    step = _STEP
    for byte in data:
        reg = step[reg ^ byte]
    return reg ^ final


def dbc_database(spec: Spec, catalog: CanCatalog) -> Database:
    """The catalog's DBC as the exporter writes it, read back by cantools: what a receiver
    built from the published file decodes. Shared (read only) by every codec of the process
    whose catalog renders the same text: each test case's rig and bridge builds a codec."""
    from ..spec.exporters.dbc import dbc_text

    return _read_dbc(dbc_text(spec, catalog))


@functools.lru_cache(maxsize=8)
def _read_dbc(text: str) -> Database:
    db = cantools.database.load_string(text, database_format="dbc")
    assert isinstance(db, Database)
    return db


@dataclass(frozen=True)
class CatalogFrame:
    """One frame of a bus: the catalog's statement and its cantools message."""

    bus: str
    frame: Frame
    message: DbcMessage
    #: every scaled signal's (minimum, maximum) by DBC name
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.frame.name

    def mux_of(self, data: bytes) -> int | None:
        m = self.frame.multiplexer
        if m is None or len(data) * 8 < m.start_bit + m.length:
            return None
        return int.from_bytes(data, "little") >> m.start_bit & ((1 << m.length) - 1)

    def expected_crc(self, data: bytes) -> int | None:
        e2e = self.frame.e2e
        if e2e is None:
            return None
        at = e2e.crc.start_bit // 8
        covered = b"" if e2e.data_id is None else e2e.data_id.to_bytes(2, "little")
        return crc8(covered + data[:at] + data[at + 1:], e2e.crc.algorithm)

    def counter_of(self, data: bytes) -> int | None:
        e2e = self.frame.e2e
        if e2e is None:
            return None
        c = e2e.counter
        return int.from_bytes(data, "little") >> c.start_bit & ((1 << c.length) - 1)


@dataclass
class Checked:
    """A frame of the module under test as the bench read it."""

    t: float
    bus: str
    msg: can.Message
    frame: CatalogFrame | None  # None: an identifier the catalog does not list on the bus
    mux: int | None = None
    length_ok: bool = True
    crc_ok: bool = True
    counter: int | None = None
    values: dict[str, float] = field(default_factory=dict)  # physical, by DBC signal name
    decode_error: str = ""


class CatalogCodec:
    """Every catalog's frames by bus: encode for the emulated nodes, check the module's."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.catalogs: dict[str, CanCatalog] = {c.bus.id: c for c in spec.can_catalogs}
        self.databases: dict[str, Database] = {b: dbc_database(spec, c)
                                               for b, c in self.catalogs.items()}
        self.frames: dict[str, dict[str, CatalogFrame]] = {}
        self._by_id: dict[tuple[str, int, bool], CatalogFrame] = {}
        for bus, cat in self.catalogs.items():
            db = self.databases[bus]
            self.frames[bus] = {}
            for f in cat.frames:
                m = db.get_message_by_name(f.name)
                limits = {sg.name: (float(sg.minimum), float(sg.maximum)) for sg in m.signals
                          if sg.minimum is not None and sg.maximum is not None
                          and not sg.is_multiplexer and sg.name not in (COUNTER, CRC)}
                cf = CatalogFrame(bus, f, m, limits)
                self.frames[bus][f.name] = cf
                self._by_id[(bus, f.id, f.extended)] = cf
        self._tx_counter: dict[tuple[str, str, int | None], int] = {}
        self._plans: dict[tuple[str, str, int | None],
                          list[tuple[str, float, float, float]]] = {}
        self._dimensions: dict[str, str | None] = {}
        self._compiled: dict[tuple[str, str, int | None],
                             list[tuple[Any, Any, bool]] | None] = {}
        self._fixed_parts: dict[tuple[str, str, int | None, int | None], int] = {}
        self._elements: dict[tuple[str, int], list[int | None]] = {}

    def frame(self, name: str) -> CatalogFrame:
        for frames in self.frames.values():
            if name in frames:
                return frames[name]
        raise KeyError(f"no frame '{name}' in the CAN catalog")

    def lookup(self, bus: str, msg: can.Message) -> CatalogFrame | None:
        return self._by_id.get((bus, msg.arbitration_id, bool(msg.is_extended_id)))

    # ---------------------------------------------------------------------- encode
    def encode(self, name: str, values: Mapping[str, Any], mux: int | None = None, *,
               counter: int | None = None, crc_ok: bool = True) -> can.Message:
        """Frame ``name`` with ``values`` (DBC names; absent ones raw 0), the next alive
        counter of its (frame, multiplexer value) unless ``counter`` is given, and its CRC
        (inverted when not ``crc_ok``)."""
        cf = self.frame(name)
        f, m = cf.frame, cf.message
        data: dict[str, Any] = {}
        for signal, offset, lo, hi in self._plan(cf, mux):
            v = values.get(signal)
            if v is None:
                v = offset
            data[signal] = min(max(float(v), lo), hi) if not isinstance(v, bool) else int(v)
        if f.multiplexer is not None:
            data[f.multiplexer.name] = mux
        if f.e2e is not None:
            key = (cf.bus, name, mux)
            if counter is None:
                counter = self._tx_counter.get(key, 0)
                self._tx_counter[key] = (counter + 1) % f.e2e.counter_values
            data[COUNTER], data[CRC] = counter, 0
        nodes = self._nodes(cf, mux)
        if nodes is None:  # cantools says what is wrong with the multiplexer value
            payload = bytearray(m.encode(data, scaling=True, strict=False))
        else:
            packed = 0
            for signals, formats, fixed in nodes:
                if fixed:
                    # the protection fields and the multiplexer: packed once per value
                    part_key = (cf.bus, name, mux, data.get(COUNTER))
                    part = self._fixed_parts.get(part_key)
                    if part is None:
                        part = encode_data(data, signals, formats, True)
                        self._fixed_parts[part_key] = part
                    packed |= part
                else:
                    packed |= encode_data(data, signals, formats, True)
            payload = bytearray(packed.to_bytes(m.length, "big"))
        crc = cf.expected_crc(bytes(payload))
        if crc is not None and f.e2e is not None:
            payload[f.e2e.crc.start_bit // 8] = crc ^ (0 if crc_ok else 0xFF)
        return can.Message(arbitration_id=f.id, is_extended_id=f.extended, is_fd=f.fd,
                           data=bytes(payload))

    def _nodes(self, cf: CatalogFrame, mux: int | None
               ) -> list[tuple[Any, Any, bool]] | None:
        """cantools' compiled codec of frame ``cf`` with multiplexer value ``mux``: the
        (signals, bit formats) of the frame's own signals and of those ``mux`` selects — what
        ``Message.encode`` packs, looked up once (``encode`` ORs the packed parts, as
        cantools does, and writes the whole as the frame's bytes, most significant first) —
        each with whether it holds only the counter, CRC and multiplexer. None where the
        frame has no such multiplexer value, or nested multiplexers."""
        key = (cf.bus, cf.name, mux)
        if key not in self._compiled:
            node = cf.message._codecs
            nodes: list[tuple[Any, Any, bool]] | None = None
            if node is not None:
                parts = [node]
                for selector in node["multiplexers"].values():
                    sub = None if mux is None else selector.get(mux)
                    if sub is None or sub["multiplexers"]:
                        parts = []
                        break
                    parts.append(sub)
                nodes = [(p["signals"], p["formats"],
                          all(s.name in (COUNTER, CRC) or s.is_multiplexer
                              for s in p["signals"])) for p in parts] or None
            self._compiled[key] = nodes
        return self._compiled[key]

    def dimension(self, name: str) -> str | None:
        """The array dimension ('cell', …) of frame ``name``'s multiplexed array signals."""
        if name not in self._dimensions:
            found = None
            for s in self.frame(name).frame.signals:
                d = self.spec.signals.get(s.signal)
                if d is not None and d.dimension is not None and s.element is not None:
                    found = d.dimension
                    break
            self._dimensions[name] = found
        return self._dimensions[name]

    def elements(self, name: str, mux: int) -> list[int | None]:
        """The array element each place of frame ``name``'s group ``mux`` carries (None: a
        place past its module's last element)."""
        key = (name, mux)
        if key not in self._elements:
            m = self.frame(name).frame.multiplexer
            per = 0 if m is None else m.elements_per_value or 0
            self._elements[key] = [None if m is None else m.element_of(mux, e)
                                   for e in range(per)]
        return self._elements[key]

    def _plan(self, cf: CatalogFrame, mux: int | None
              ) -> list[tuple[str, float, float, float]]:
        """The signals frame ``cf`` carries under ``mux`` (not the multiplexer, counter or
        CRC), each with its offset (the physical value of raw 0) and its range: worked out
        once per frame and multiplexer value."""
        key = (cf.bus, cf.name, mux)
        plan = self._plans.get(key)
        if plan is None:
            plan = []
            for s in cf.message.signals:
                if s.name in (COUNTER, CRC) or s.is_multiplexer:
                    continue
                if s.multiplexer_ids is not None and (mux is None
                                                      or mux not in s.multiplexer_ids):
                    continue
                lo = s.minimum if s.minimum is not None else -float("inf")
                hi = s.maximum if s.maximum is not None else float("inf")
                plan.append((s.name, s.offset, lo, hi))
            self._plans[key] = plan
        return plan

    def last_counter(self, name: str, mux: int | None = None) -> int | None:
        """The alive counter the last frame ``name`` (``mux``) encoded here carried."""
        cf = self.frame(name)
        nxt = self._tx_counter.get((cf.bus, name, mux))
        if nxt is None or cf.frame.e2e is None:
            return None
        return (nxt - 1) % cf.frame.e2e.counter_values

    # ----------------------------------------------------------------------- check
    def check(self, t: float, bus: str, msg: can.Message) -> Checked:
        """Identify, check (length, CRC) and decode one frame of the module."""
        cf = None if msg.is_error_frame or msg.is_remote_frame else self.lookup(bus, msg)
        if cf is None:
            return Checked(t, bus, msg, None)
        data = bytes(msg.data)
        out = Checked(t, bus, msg, cf, mux=cf.mux_of(data))
        if len(data) != cf.frame.dlc or bool(msg.is_fd) != cf.frame.fd:
            out.length_ok = False
            return out
        expected = cf.expected_crc(data)
        if expected is not None and cf.frame.e2e is not None:
            out.crc_ok = data[cf.frame.e2e.crc.start_bit // 8] == expected
            out.counter = cf.counter_of(data)
        try:
            decoded = cf.message.decode(data, decode_choices=False, scaling=True)
        except (DecodeError, ValueError, KeyError) as exc:
            out.decode_error = f"{type(exc).__name__}: {exc}"
            return out
        assert isinstance(decoded, dict)
        out.values = {k: float(v) for k, v in decoded.items()  # type: ignore[arg-type]
                      if k not in (COUNTER, CRC)}
        return out
