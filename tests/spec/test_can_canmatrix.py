"""The generated DBC and KCD files open in canmatrix, the other open CAN-database library,
and it reads every frame and signal as cantools does (which tests/spec/test_can_export.py
checks against the catalog): id, length, cycle time, every signal's bits, byte order,
sign, scale, offset, range and multiplexer value. A tool chain built on either library
sees the same bus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import canmatrix
import canmatrix.formats
import cantools
import pytest
from cantools.database.can import Database

from conformance.spec.exporters import CHECKED_IN

GENERATED = Path(__file__).resolve().parents[2] / CHECKED_IN["can"].directory
FILES = sorted(p.name for p in GENERATED.glob("obsa_*.*") if p.suffix in (".dbc", ".kcd"))


def _canmatrix(path: Path) -> canmatrix.CanMatrix:
    found = canmatrix.formats.loadp(str(path))
    assert len(found) == 1, f"{path.name}: {len(found)} databases"
    return next(iter(found.values()))


def _mux(signal: Any) -> tuple[bool, list[int]]:
    """canmatrix's multiplexing of a signal: whether it is the multiplexer, and the values
    of the multiplexer it is sent at (a DBC's extended multiplexing gives ranges)."""
    if signal.mux_val_grp:
        values = [v for low, high in signal.mux_val_grp for v in range(int(low), int(high) + 1)]
    else:
        values = [] if signal.mux_val is None else [int(signal.mux_val)]
    return signal.multiplex == "Multiplexor", values


def test_every_database_is_there() -> None:
    assert FILES == [f"obsa_{bus}.{ext}" for bus in ("internal_can", "vehicle_can")
                     for ext in ("dbc", "kcd")]


@pytest.mark.parametrize("name", FILES)
def test_canmatrix_reads_what_cantools_reads(name: str) -> None:
    path = GENERATED / name
    ours = cantools.database.load_file(str(path))
    assert isinstance(ours, Database)
    theirs = {f.name: f for f in _canmatrix(path).frames}
    assert sorted(theirs) == sorted(m.name for m in ours.messages)
    for m in ours.messages:
        f = theirs[m.name]
        assert (f.arbitration_id.id, f.arbitration_id.extended, f.size) == (
            m.frame_id, m.is_extended_frame, m.length), m.name
        assert f.cycle_time == (m.cycle_time or 0), m.name
        signals = {s.name: s for s in f.signals}
        assert sorted(signals) == sorted(s.name for s in m.signals), m.name
        for s in m.signals:
            c = signals[s.name]
            where = f"{name}: {m.name}.{s.name}"
            assert c.is_little_endian == (s.byte_order == "little_endian"), where
            start = c.get_startbit(bit_numbering=1, start_little=True) \
                if c.is_little_endian else c.get_startbit(bit_numbering=1)
            assert (start, c.size, c.is_signed) == (s.start, s.length, s.is_signed), where
            assert (float(c.factor), float(c.offset)) == (s.scale, s.offset), where
            if s.minimum is not None:
                assert float(c.min) == pytest.approx(s.minimum), where
            if s.maximum is not None:
                assert float(c.max) == pytest.approx(s.maximum), where
            is_mux, values = _mux(c)
            assert is_mux == s.is_multiplexer, where
            assert values == (s.multiplexer_ids or []), where


def test_a_changed_file_is_told_apart(tmp_path: Path) -> None:
    """The comparison has teeth: a DBC whose first signal moved one bit reads differently
    in canmatrix than the original does in cantools."""
    dbc = next(n for n in FILES if n.endswith(".dbc"))
    text = (GENERATED / dbc).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.startswith(" SG_ ")]
    once = [ln for ln in lines if sum(x.split()[1] == ln.split()[1] for x in lines) == 1]
    line = once[0]
    spec = line.split(":", 1)[1].split("|", 1)[0].strip()
    moved = line.replace(f": {spec}|", f": {int(spec) + 1}|", 1)
    assert moved != line
    path = tmp_path / dbc
    path.write_text(text.replace(line, moved, 1), encoding="utf-8")
    name = line.split()[1]
    before = {s.name: s for f in _canmatrix(GENERATED / dbc).frames for s in f.signals}
    after = {s.name: s for f in _canmatrix(path).frames for s in f.signals}
    assert after[name].get_startbit(bit_numbering=1, start_little=True) == \
        before[name].get_startbit(bit_numbering=1, start_little=True) + 1
