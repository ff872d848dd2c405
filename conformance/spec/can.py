"""The CAN catalog's layout arithmetic and its cross-file rules.

Layout follows the DBC conventions that cantools implements, so the checks here and the
exported DBC/KCD files agree bit for bit: a little-endian (Intel) field starts at its
least significant bit and counts up; a big-endian (Motorola) field starts at its most
significant bit and walks the "sawtooth" numbering (7 … 0 of byte 0, then 15 … 8, …).

Bus load: every frame is counted at its worst-case length with bit stuffing, after Davis,
Burns, Bril and Lukkien, "Controller Area Network (CAN) schedulability analysis: Refuted,
revisited and revised", Real-Time Systems 35(3), 2007, eq. (1):
``C = g + 8·s + 13 + floor((g + 8·s − 1) / 4)`` bits, with ``g = 34`` for an 11-bit
identifier and ``g = 54`` for a 29-bit one and ``s`` the data bytes (135 bits for a
classic 8-byte frame with an 11-bit id). A CAN FD frame is counted the same way with its
longer CRC (17 bits up to 16 bytes, 21 above, instead of 15) and every bit at the nominal
bit rate: an upper bound, since its data phase runs faster. A periodic frame is counted
once per period (once per multiplexer value when multiplexed), an event-driven one at its
smallest interval. The load is the sum of bits per second over the nominal bit rate.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from .can_models import CanCatalog, CanSignal, Field_, Frame
from .loader import Spec
from .models import Signal
from .source import Issue

#: Number of data bytes of a classic CAN frame.
CLASSIC_MAX_BYTES = 8


# ---------------------------------------------------------------------------- layout
def field_bits(f: Field_) -> list[int]:
    """The payload bit positions (byte·8 + bit, bit 0 the least significant) a field holds."""
    if f.byte_order == "little_endian":
        return list(range(f.start_bit, f.start_bit + f.length))
    bits, pos = [], f.start_bit
    for _ in range(f.length):
        bits.append(pos)
        pos = pos + 15 if pos % 8 == 0 else pos - 1
    return bits


def raw_limits(length: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest raw value a field of ``length`` bits holds."""
    if signed:
        return -(1 << (length - 1)), (1 << (length - 1)) - 1
    return 0, (1 << length) - 1


def dbc_name(sig: CanSignal) -> str:
    """The signal's name in a DBC/KCD file: the dictionary name, with the element."""
    return sig.signal if sig.element is None else f"{sig.signal}_{sig.element}"


@dataclass(frozen=True)
class Placed:
    """A field of a frame with what it is, for overlap messages."""

    what: str
    obj: BaseModel
    bits: frozenset[int]
    values: frozenset[int] | None  # multiplexer values it is present under; None: always


def placed_fields(frame: Frame) -> list[Placed]:
    """Every field of a frame: multiplexer, alive counter, CRC and signals."""
    out: list[Placed] = []
    mux = frame.multiplexer
    if mux is not None:
        out.append(Placed(f"multiplexer {mux.name}", mux, frozenset(field_bits(mux)), None))
    if frame.e2e is not None:
        out.append(Placed("alive counter", frame.e2e.counter,
                          frozenset(field_bits(frame.e2e.counter)), None))
        out.append(Placed("CRC", frame.e2e.crc, frozenset(field_bits(frame.e2e.crc)), None))
    for sig in frame.signals:
        values: frozenset[int] | None = None
        if sig.multiplexed and mux is not None:
            values = frozenset(sig.multiplexer_values if sig.multiplexer_values is not None
                               else range(mux.count))
        out.append(Placed(f"signal {dbc_name(sig)}", sig, frozenset(field_bits(sig)), values))
    return out


def signal_range(spec: Spec, sig: CanSignal) -> tuple[float, float] | None:
    """The physical values a frame signal transports: its own range, else the dictionary's
    (bool 0 … 1, enum 0 … its largest value, flags one bit per fault code); None when the
    dictionary signal is unknown or gives no range."""
    if sig.range is not None:
        return sig.range.min, sig.range.max
    d = spec.signals.get(sig.signal)
    return None if d is None else dictionary_range(spec, d)


def dictionary_range(spec: Spec, d: Signal) -> tuple[float, float] | None:
    if d.type == "bool":
        return 0.0, 1.0
    if d.type == "enum":
        enum = spec.enums.get(d.enum or "")
        return None if enum is None else (0.0, float(max(v.value for v in enum.values)))
    if d.type == "flags":
        itf = spec.interfaces.get(d.flags_of or "")
        if itf is None or not itf.fault_codes or not _fault_table_valid(spec, itf.component):
            return None
        return 0.0, float((1 << (max(fc.bit for fc in itf.fault_codes) + 1)) - 1)
    if d.range is None or d.range.min is None or d.range.max is None:
        return None
    return d.range.min, d.range.max


def _fault_table_valid(spec: Spec, component: str) -> bool:
    """The component's fault codes have unique names and bits, and DTCs unique in the spec
    (else check_unique_ids reports them, and no flags range follows from them)."""
    codes = spec.interfaces[component].fault_codes
    dtcs = [fc.dtc for itf in spec.interfaces.values() for fc in itf.fault_codes]
    return (len({fc.name for fc in codes}) == len(codes)
            and len({fc.bit for fc in codes}) == len(codes)
            and len(set(dtcs)) == len(dtcs))


def frame_bits(frame: Frame) -> int:
    """Worst-case bits on the wire of one frame, stuffing included (module docstring)."""
    g = 54 if frame.extended else 34
    s = frame.dlc
    bits = g + 8 * s + 13 + (g + 8 * s - 1) // 4
    if frame.fd:
        extra_crc = (17 if s <= 16 else 21) - 15
        bits += extra_crc + math.ceil(extra_crc / 4)
    return bits


def frames_per_second(frame: Frame) -> float:
    per = frame.multiplexer.count if frame.multiplexer is not None else 1
    if frame.cycle is not None:
        return per * 1000.0 / frame.cycle.period_ms
    assert frame.event is not None
    return per * 1000.0 / frame.event.min_interval_ms


def bus_load_pct(catalog: CanCatalog) -> float:
    """Worst-case load of the catalog's bus, in percent of its nominal bit rate."""
    bps = sum(frame_bits(f) * frames_per_second(f) for f in catalog.frames)
    return 100.0 * bps / catalog.bus.bit_rate_bps


# ---------------------------------------------------------------------------- rules
def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def check_can_buses(spec: Spec) -> Iterator[Issue]:
    """A catalog describes one bus of the architecture's links, and each bus has at most
    one catalog; external nodes are not architecture nodes."""
    buses = sorted({link.bus for link in spec.architecture.topology.links})
    arch_nodes = {n.id for n in spec.architecture.topology.nodes}
    first: dict[str, CanCatalog] = {}
    for cat in spec.can_catalogs:
        if cat.bus.id not in buses:
            yield spec.issue(cat.bus, ("id",),
                             f"expected a bus of architecture.yaml's links ({', '.join(buses)}), "
                             f"found '{cat.bus.id}'")
        if cat.bus.id in first:
            file, line, _ = spec.where(first[cat.bus.id].bus, "id")
            yield spec.issue(cat.bus, ("id",),
                             f"expected one catalog per bus, found bus '{cat.bus.id}' again "
                             f"(first at {file}:{line})")
        first.setdefault(cat.bus.id, cat)
        seen: set[str] = set()
        for node in cat.external_nodes:
            if node.id in arch_nodes:
                yield spec.issue(node, ("id",),
                                 f"expected a node outside the BMS, found '{node.id}', a node "
                                 "of architecture.yaml (it is on the bus through its links)")
            if node.id in seen:
                yield spec.issue(node, ("id",), f"expected a unique node id, found "
                                                f"'{node.id}' again")
            seen.add(node.id)


def bus_nodes(spec: Spec, cat: CanCatalog) -> list[str]:
    """The nodes on a catalog's bus: the architecture's link ends on it, and its external
    nodes."""
    nodes: dict[str, None] = {}
    for link in spec.architecture.topology.links:
        if link.bus == cat.bus.id:
            nodes[link.source] = None
            nodes[link.target] = None
    for n in cat.external_nodes:
        nodes[n.id] = None
    return list(nodes)


def check_can_frames(spec: Spec) -> Iterator[Issue]:
    """Unique ids and names on a bus; senders and receivers on the bus; payload within the
    data length; CAN FD only where 8 bytes do not hold the payload; timeouts longer than
    the latest expected frame."""
    arch_nodes = {n.id for n in spec.architecture.topology.nodes}
    buses = {link.bus for link in spec.architecture.topology.links}
    catalogs_of = Counter(cat.bus.id for cat in spec.can_catalogs)
    for cat in spec.can_catalogs:
        nodes = bus_nodes(spec, cat)
        # an unknown bus, a bus with two catalogs, or a link to an unknown node is
        # check_can_buses' or check_architecture_refs' issue: judge no node then
        judge_nodes = cat.bus.id in buses and catalogs_of[cat.bus.id] == 1 and all(
            n in arch_nodes or n in {e.id for e in cat.external_nodes} for n in nodes)
        ids: dict[tuple[int, bool], Frame] = {}
        names: dict[str, Frame] = {}
        for frame in cat.frames:
            key = (frame.id, frame.extended)
            if key in ids:
                file, line, _ = spec.where(ids[key], "id")
                yield spec.issue(frame, ("id",),
                                 f"expected a unique id on bus '{cat.bus.id}', found "
                                 f"0x{frame.id:03X} again (first at {file}:{line}, frame "
                                 f"{ids[key].name})")
            ids.setdefault(key, frame)
            if frame.name in names:
                yield spec.issue(frame, ("name",),
                                 f"expected a unique frame name on bus '{cat.bus.id}', found "
                                 f"'{frame.name}' again")
            names.setdefault(frame.name, frame)
            for role in ("senders", "receivers") if judge_nodes else ():
                for i, node in enumerate(getattr(frame, role)):
                    if node not in nodes:
                        yield spec.issue(frame, (role, i),
                                         f"expected a node on bus '{cat.bus.id}' "
                                         f"({', '.join(nodes)}), found '{node}'")
            yield from _payload(spec, cat, frame)
            yield from _timing(spec, frame)


def _payload(spec: Spec, cat: CanCatalog, frame: Frame) -> Iterator[Issue]:
    size = frame.dlc * 8
    used = 0
    for p in placed_fields(frame):
        top = max(p.bits)
        used = max(used, top + 1)
        if top >= size or min(p.bits) < 0:
            yield spec.issue(p.obj, ("start_bit",),
                             f"expected the {p.what} inside the {frame.dlc}-byte payload "
                             f"(bits 0 … {size - 1}), found bits up to {top}")
    if frame.fd:
        if used <= CLASSIC_MAX_BYTES * 8:
            yield spec.issue(frame, ("fd",),
                             f"expected a classic frame (CAN FD only where the payload needs "
                             f"it), found fd: true for a payload of {used} bits that fits 8 "
                             "bytes")
        if cat.bus.data_bit_rate_bps is None:
            yield spec.issue(frame, ("fd",),
                             f"expected bus '{cat.bus.id}' to declare data_bit_rate_bps for a "
                             "CAN FD frame, found none")


def _timing(spec: Spec, frame: Frame) -> Iterator[Issue]:
    if frame.timeout is None or frame.cycle is None:
        return
    latest = frame.cycle.period_ms + frame.cycle.tolerance_ms
    if frame.timeout.time_ms <= latest:
        yield spec.issue(frame.timeout, ("time_ms",),
                         f"expected a reception timeout above the latest expected frame "
                         f"(period + tolerance = {_fmt(latest)} ms), found "
                         f"{_fmt(frame.timeout.time_ms)} ms")


def check_can_signals(spec: Spec) -> Iterator[Issue]:
    """Every frame signal is a dictionary signal in its unit, array elements are named
    where needed, the transported range lies in the dictionary's and fits its bits."""
    for cat in spec.can_catalogs:
        for frame in cat.frames:
            names: set[str] = set()
            for sig in frame.signals:
                if dbc_name(sig) in names:
                    yield spec.issue(sig, ("signal",),
                                     f"expected each signal once in frame {frame.name}, found "
                                     f"{dbc_name(sig)} again")
                names.add(dbc_name(sig))
                yield from _signal(spec, frame, sig)


def _signal(spec: Spec, frame: Frame, sig: CanSignal) -> Iterator[Issue]:
    d = spec.signals.get(sig.signal)
    if d is None:
        yield spec.issue(sig, ("signal",),
                         f"expected a signal of the dictionary, found '{sig.signal}'")
        return
    if sig.unit != d.unit and _unit_settled(spec, d):
        yield spec.issue(sig, ("unit",),
                         f"expected the dictionary's unit '{d.unit}' of {d.name}, found "
                         f"'{sig.unit}'")
    if d.dimension is None and sig.element is not None:
        yield spec.issue(sig, ("element",),
                         f"expected no element for {d.name}, which is not an array, found "
                         f"{sig.element}")
    if d.dimension is not None and sig.element is None:
        yield spec.issue(sig, ("element",),
                         f"expected the element of the array {d.name} (over "
                         f"'{d.dimension}'), found none")
    mux = frame.multiplexer
    if d.dimension is not None and sig.multiplexed and mux is not None \
            and sig.element is not None:
        if mux.elements_per_value is None:
            yield spec.issue(mux, ("elements_per_value",),
                             f"expected elements_per_value for the multiplexed array "
                             f"{d.name}, found none")
        elif sig.element >= mux.elements_per_value:
            yield spec.issue(sig, ("element",),
                             f"expected an element below elements_per_value "
                             f"{mux.elements_per_value}, found {sig.element}")
    if mux is not None and sig.multiplexer_values is not None:
        for i, v in enumerate(sig.multiplexer_values):
            if v >= mux.count:
                yield spec.issue(sig, ("multiplexer_values", i),
                                 f"expected a multiplexer value 0 … {mux.count - 1}, found {v}")
    if d.type in ("bool", "enum", "flags", "int") and (sig.scale != 1 or sig.offset != 0):
        yield spec.issue(sig, ("scale",),
                         f"expected scale 1 and offset 0 for {d.name} of type '{d.type}', "
                         f"found scale {_fmt(sig.scale)}, offset {_fmt(sig.offset)}")
    own = dictionary_range(spec, d)
    if sig.range is not None:
        lo, hi = sig.range.min, sig.range.max
        if lo > hi:
            yield spec.issue(sig, ("range",), f"expected min <= max, found min {_fmt(lo)} > "
                                              f"max {_fmt(hi)}")
            return
        if own is not None and (lo < own[0] or hi > own[1]):
            yield spec.issue(sig, ("range",),
                             f"expected a range inside the dictionary's {_fmt(own[0])} … "
                             f"{_fmt(own[1])} {d.unit} of {d.name}, found {_fmt(lo)} … "
                             f"{_fmt(hi)}")
    rng = signal_range(spec, sig)
    if rng is None and d.type in ("enum", "flags"):
        return  # an unknown enum or fault-code owner: check_signal_refs reports it
    if rng is None:
        yield spec.issue(sig, ("range",),
                         f"expected a range (the dictionary gives none for {d.name}), found "
                         "none")
        return
    yield from _fits(spec, sig, rng, d.unit)


def _unit_settled(spec: Spec, d: Signal) -> bool:
    """The dictionary signal's unit is a unit of the dictionary that its name's suffix
    agrees with (else check_units or check_unit_suffixes reports the dictionary)."""
    from .validate import unit_suffixes  # validate runs these checks: import when used

    if d.unit not in {u.symbol for u in spec.dictionary.units}:
        return False
    suffix = d.name.rsplit("_", 1)[-1] if "_" in d.name else ""
    table = unit_suffixes(spec)
    return suffix not in table or table[suffix] == d.unit


def _fits(spec: Spec, sig: CanSignal, rng: tuple[float, float], unit: str) -> Iterator[Issue]:
    """The range's ends, as raw values (physical − offset) / scale, fit the field's bits."""
    lo_raw, hi_raw = raw_limits(sig.length, sig.signed)
    phys_lo = lo_raw * sig.scale + sig.offset
    phys_hi = hi_raw * sig.scale + sig.offset
    # a float may miss an exact end by rounding: allow a thousandth of a step
    slack = sig.scale * 1e-3
    raw_ends = [round((v - sig.offset) / sig.scale, 6) for v in rng]
    if rng[0] < phys_lo - slack or rng[1] > phys_hi + slack:
        kind = "signed" if sig.signed else "unsigned"
        yield spec.issue(sig, ("length",),
                         f"expected the range {_fmt(rng[0])} … {_fmt(rng[1])} {unit} to fit "
                         f"{sig.length} {kind} bits at scale {_fmt(sig.scale)}, offset "
                         f"{_fmt(sig.offset)} (raw {lo_raw} … {hi_raw}, i.e. {_fmt(phys_lo)} … "
                         f"{_fmt(phys_hi)} {unit}), found raw {_fmt(raw_ends[0])} … "
                         f"{_fmt(raw_ends[1])}")


def check_can_modules(spec: Spec) -> Iterator[Issue]:
    """A multiplexer numbered per module (``elements_per_module``) has whole modules of
    values, and every such multiplexer of a bus carries as many modules."""
    for cat in spec.can_catalogs:
        first: tuple[Frame, int, int] | None = None
        for frame in cat.frames:
            mux = frame.multiplexer
            vpm = mux.values_per_module if mux is not None else None
            if mux is None or vpm is None:
                continue
            if mux.count % vpm:
                yield spec.issue(mux, ("count",),
                                 f"expected whole modules of {vpm} values "
                                 f"(⌈{mux.elements_per_module} / {mux.elements_per_value}⌉), "
                                 f"found count {mux.count}")
                continue
            modules = mux.count // vpm
            if first is None:
                first = (frame, modules, vpm)
            elif modules != first[1]:
                yield spec.issue(mux, ("count",),
                                 f"expected {first[1]} modules, as frame {first[0].name} of bus "
                                 f"'{cat.bus.id}' carries ({first[1] * first[2]} values of "
                                 f"{first[2]} per module), found {modules} (count {mux.count})")


def check_can_layout(spec: Spec) -> Iterator[Issue]:
    """No two fields of a frame share a bit under any multiplexer value; the multiplexer
    field holds its values."""
    for cat in spec.can_catalogs:
        for frame in cat.frames:
            mux = frame.multiplexer
            if mux is not None and mux.count - 1 > raw_limits(mux.length, False)[1]:
                yield spec.issue(mux, ("count",),
                                 f"expected at most {1 << mux.length} values for a "
                                 f"{mux.length}-bit multiplexer, found count {mux.count}")
            fields = placed_fields(frame)
            reported: set[tuple[int, int]] = set()
            for j, b in enumerate(fields):
                for i, a in enumerate(fields[:j]):
                    shared = a.bits & b.bits
                    if not shared or (i, j) in reported:
                        continue
                    together = _together(a.values, b.values)
                    if together is None:
                        continue
                    reported.add((i, j))
                    where = "" if together < 0 else f" under multiplexer value {together}"
                    bits = "bit" if len(shared) == 1 else "bits"
                    yield spec.issue(b.obj, ("start_bit",),
                                     f"expected no bit shared with the {a.what}{where}, found "
                                     f"{bits} {', '.join(map(str, sorted(shared)))} in both "
                                     f"(frame {frame.name})")


def _together(a: frozenset[int] | None, b: frozenset[int] | None) -> int | None:
    """A multiplexer value under which both fields are present (-1: every value), or None."""
    if a is None and b is None:
        return -1
    if a is None:
        return min(b) if b else None
    if b is None:
        return min(a) if a else None
    common = a & b
    return min(common) if common else None


def check_can_e2e(spec: Spec) -> Iterator[Issue]:
    """AUTOSAR E2E profile 1 places a CRC-8 (SAE J1850) on a byte and a 4-bit counter on a
    nibble, both little endian, and mixes a data id into the CRC; any CRC is 8 bits."""
    for cat in spec.can_catalogs:
        for frame in cat.frames:
            e2e = frame.e2e
            if e2e is None:
                continue
            if e2e.crc.length != 8:
                yield spec.issue(e2e.crc, ("length",),
                                 f"expected 8 bits for {e2e.crc.algorithm}, found "
                                 f"{e2e.crc.length}")
            if e2e.max_delta_counter >= e2e.counter_values:
                yield spec.issue(e2e, ("max_delta_counter",),
                                 f"expected a step below the counter's "
                                 f"{e2e.counter_values} values, found "
                                 f"{e2e.max_delta_counter}")
            if e2e.profile != "autosar_e2e_p1":
                continue
            if e2e.crc.start_bit % 8 or e2e.crc.byte_order != "little_endian":
                yield spec.issue(e2e.crc, ("start_bit",),
                                 f"expected a little-endian CRC on a byte boundary (profile 1), "
                                 f"found start bit {e2e.crc.start_bit}, {e2e.crc.byte_order}")
            if e2e.counter.length != 4:
                yield spec.issue(e2e.counter, ("length",),
                                 f"expected a 4-bit counter (profile 1), found "
                                 f"{e2e.counter.length} bits")
            if e2e.counter.start_bit % 4 or e2e.counter.byte_order != "little_endian":
                yield spec.issue(e2e.counter, ("start_bit",),
                                 f"expected a little-endian counter on a nibble boundary "
                                 f"(profile 1), found start bit {e2e.counter.start_bit}, "
                                 f"{e2e.counter.byte_order}")
            if e2e.data_id is None:
                yield spec.issue(e2e, ("profile",),
                                 "expected a data_id for AUTOSAR E2E profile 1, found none")


def check_can_bus_load(spec: Spec) -> Iterator[Issue]:
    """The worst-case load of each bus (module docstring) stays within its stated limit."""
    for cat in spec.can_catalogs:
        load = bus_load_pct(cat)
        if load > cat.bus.max_load_pct:
            share = {f.name: 100 * frame_bits(f) * frames_per_second(f) / cat.bus.bit_rate_bps
                     for f in cat.frames}
            top = sorted(share, key=lambda name: -share[name])[:3]
            heavy = ", ".join(f"{name} {share[name]:.1f} %" for name in top)
            yield spec.issue(cat.bus, ("bit_rate_bps",),
                             f"expected a worst-case bus load of at most "
                             f"{_fmt(cat.bus.max_load_pct)} % at {cat.bus.bit_rate_bps} bit/s "
                             f"(frames of 47 + 8·DLC bits plus worst-case stuffing), found "
                             f"{load:.1f} % (largest: {heavy})")


CAN_CHECKS = (check_can_buses, check_can_frames, check_can_signals, check_can_layout,
              check_can_modules, check_can_e2e, check_can_bus_load)
