"""The DBC and KCD files generated from the CAN catalog: they load back with cantools, say
what the catalog says, and every frame encodes and decodes the ends of every signal's range
within its resolution. (That the checked-in files match the spec is tests/spec/
test_generated.py's drift check, exporter ``can``.)"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import cantools
import pytest
from cantools.database.can import Database, Message, Signal

from conformance.spec import load_spec
from conformance.spec.can import bus_load_pct, field_bits, frame_bits
from conformance.spec.can_models import CanCatalog, Frame
from conformance.spec.exporters import CHECKED_IN, dbc
from conformance.spec.loader import Spec

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / CHECKED_IN["can"].directory


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def _catalog(spec: Spec, bus: str) -> CanCatalog:
    return next(c for c in spec.can_catalogs if c.bus.id == bus)


def _load(name: str, fmt: str) -> Database:
    db = cantools.database.load_string((GENERATED / name).read_text(encoding="utf-8"), fmt)
    assert isinstance(db, Database)
    return db


BUSES = ["internal_can", "vehicle_can"]


def test_one_dbc_and_one_kcd_per_bus(spec: Spec) -> None:
    assert sorted(c.bus.id for c in spec.can_catalogs) == BUSES
    assert sorted(dbc.render(spec)) == [f"obsa_{b}.{ext}" for b in BUSES
                                        for ext in ("dbc", "kcd")]


@pytest.mark.parametrize("bus", BUSES)
def test_dbc_says_what_the_catalog_says(spec: Spec, bus: str) -> None:
    cat = _catalog(spec, bus)
    db = _load(f"obsa_{bus}.dbc", "dbc")
    assert [m.name for m in db.messages] == [f.name for f in cat.frames]
    assert {n.name for n in db.nodes} >= {s for f in cat.frames for s in f.senders + f.receivers}
    for frame in cat.frames:
        m = db.get_message_by_name(frame.name)
        assert (m.frame_id, m.length, m.is_extended_frame) == (frame.id, frame.dlc,
                                                                frame.extended)
        assert m.senders == frame.senders
        assert m.cycle_time == (round(frame.cycle.period_ms) if frame.cycle else None)
        names = {s.name for s in m.signals}
        assert {dbc.dbc_name(s) for s in frame.signals} <= names
        if frame.e2e is not None:
            assert {dbc.COUNTER, dbc.CRC} <= names
        for sig in frame.signals:
            s = m.get_signal_by_name(dbc.dbc_name(sig))
            assert (s.start, s.length, s.byte_order, s.is_signed) == (
                sig.start_bit, sig.length, sig.byte_order, sig.signed)
            assert (s.scale, s.offset) == (sig.scale, sig.offset)
            assert (s.unit or "1") == sig.unit


def _values(m: Message, mux: dict[str, int], end: str) -> dict[str, float | int]:
    """Every signal present under ``mux`` at the low or high end of its range; the raw
    fields (multiplexer, counter, CRC) at their raw ends."""
    out: dict[str, float | int] = dict(mux)
    for s in m.signals:
        if s.is_multiplexer:
            continue
        if s.multiplexer_ids is not None and not any(
                mux.get(s.multiplexer_signal or "") == v for v in s.multiplexer_ids):
            continue
        if s.minimum is None or s.maximum is None:  # counter and CRC: raw
            out[s.name] = 0 if end == "low" else (1 << s.length) - 1
        else:
            out[s.name] = s.minimum if end == "low" else s.maximum
    return out


def _round_trip(m: Message, mux_values: list[dict[str, int]]) -> list[str]:
    problems = []
    for mux, end in product(mux_values, ("low", "high")):
        sent = _values(m, mux, end)
        data = m.encode(sent, scaling=True, strict=True)
        assert len(data) == m.length
        got = m.decode(data, decode_choices=False, scaling=True)
        assert isinstance(got, dict)
        for name, value in sent.items():
            step = m.get_signal_by_name(name).scale
            if abs(float(got[name]) - float(value)) > step / 2 + 1e-9:  # type: ignore[arg-type]
                problems.append(f"{m.name} {mux} {name}: sent {value}, got {got[name]}")
    return problems


@pytest.mark.parametrize("bus", BUSES)
@pytest.mark.parametrize("fmt", ["dbc", "kcd"])
def test_every_frame_round_trips_both_ends_of_every_range(bus: str, fmt: str) -> None:
    db = _load(f"obsa_{bus}.{fmt}", fmt)
    problems: list[str] = []
    for m in db.messages:
        mux = next((s for s in m.signals if s.is_multiplexer), None)
        if mux is None:
            problems += _round_trip(m, [{}])
            continue
        values = sorted({v for s in m.signals for v in (s.multiplexer_ids or [])})
        assert values, f"{m.name}: a multiplexer without multiplexed signals"
        problems += _round_trip(m, [{mux.name: v} for v in values])
    assert not problems, "\n".join(problems[:20])


def test_kcd_names_every_element_of_a_multiplexed_array(spec: Spec) -> None:
    db = _load("obsa_internal_can.kcd", "kcd")
    m = db.get_message_by_name("cmu_cell_voltages")
    frame = next(f for f in _catalog(spec, "internal_can").frames if f.name == m.name)
    assert frame.multiplexer is not None and frame.multiplexer.elements_per_value == 3
    names = {s.name for s in m.signals if s.name.startswith("cell_voltage_V_")}
    # groups numbered per module: 16 cells in 6 groups of 3, 72 values for 12 modules, each
    # cell named once, the unused places after a module's 16th cell left out
    per_module = frame.multiplexer.elements_per_module
    assert per_module == 16 and frame.multiplexer.values_per_module == 6
    cells = per_module * frame.multiplexer.count // 6
    assert names == {f"cell_voltage_V_{i}" for i in range(cells)}
    first_of_module_1 = m.get_signal_by_name("cell_voltage_V_16")
    assert first_of_module_1.multiplexer_ids == [6] and first_of_module_1.start == 24
    last = m.get_signal_by_name(f"cell_voltage_V_{cells - 1}")
    assert last.multiplexer_ids == [frame.multiplexer.count - 1] and last.start == 24


def test_bit_positions_agree_with_cantools() -> None:
    """can.field_bits (the validator's overlap arithmetic) sets the bits cantools sets, in
    both byte orders."""
    for order, start, length in [("little_endian", 3, 13), ("big_endian", 7, 16),
                                 ("big_endian", 12, 11), ("big_endian", 39, 1),
                                 ("little_endian", 50, 14)]:
        sig = Signal("x", start, length, order)  # type: ignore[arg-type]
        m = Message(1, "m", 8, [sig], strict=True)
        data = m.encode({"x": (1 << length) - 1}, scaling=False)
        set_bits = {i * 8 + b for i, byte in enumerate(data) for b in range(8) if byte >> b & 1}
        frame_field = Frame.model_validate({"name": "f", "id": 1, "dlc": 8,
                                            "cycle": {"period_ms": 10, "tolerance_ms": 1},
                                            "senders": ["a"], "receivers": ["b"],
                                            "description": "d",
                                            "signals": [{"signal": "x", "start_bit": start,
                                                         "length": length, "byte_order": order,
                                                         "unit": "1"}]}).signals[0]
        assert set(field_bits(frame_field)) == set_bits, (order, start, length)


def test_worst_case_frame_lengths_are_davis_et_al() -> None:
    """135 bits for 8 data bytes with an 11-bit id, 160 with a 29-bit id (Davis et al.
    2007, eq. 1), 55 + 10 = 65 for an empty standard frame."""
    base = {"name": "f", "id": 1, "senders": ["a"], "receivers": ["b"], "description": "d",
            "cycle": {"period_ms": 10, "tolerance_ms": 1},
            "signals": [{"signal": "x", "start_bit": 0, "length": 1, "unit": "1"}]}
    assert frame_bits(Frame.model_validate({**base, "dlc": 8})) == 135
    assert frame_bits(Frame.model_validate({**base, "dlc": 8, "extended": True})) == 160
    assert frame_bits(Frame.model_validate({**base, "dlc": 0})) == 34 + 13 + 33 // 4


def test_real_bus_loads(spec: Spec) -> None:
    """The catalogs' worst-case loads, as the report of the catalog states them."""
    loads = {c.bus.id: round(bus_load_pct(c), 1) for c in spec.can_catalogs}
    assert loads == {"internal_can": 29.5, "vehicle_can": 1.4}
    assert all(load <= c.bus.max_load_pct for c in spec.can_catalogs
               for load in [bus_load_pct(c)])


def test_dbc_text_is_ascii_and_stable(spec: Spec) -> None:
    first, second = dbc.render(spec), dbc.render(spec)
    assert first == second
    for name, text in first.items():
        assert text.isascii(), name
        assert "\r" not in text and text.endswith("\n") and not text.endswith("\n\n")


def test_docs_page_lists_every_frame_and_links_existing_downloads(spec: Spec) -> None:
    import re

    from conformance.docs.pages import IF_DIR, Pages
    from conformance.paths import schemas_dir

    page = Pages(spec, schemas_dir()).render()[f"{IF_DIR}/can.rst"]
    for cat in spec.can_catalogs:
        for frame in cat.frames:
            assert f"``{frame.name}``" in page and f"``0x{frame.id:X}``" in page
    targets = re.findall(r":download:`[^<`]+<(/[^>]+)>`", page)
    assert len(targets) == 2 * len(spec.can_catalogs)
    for target in targets:
        assert (REPO / "docs" / target.lstrip("/")).is_file(), target
