"""CAN databases of the CAN catalog: one DBC and one KCD file per bus, through cantools.

The files are built as cantools objects (:class:`~cantools.database.can.Database`,
``Message``, ``Signal``) from the catalog and dumped by cantools; no DBC or KCD text is
written here. The same objects serve the tests that load the files back.

- ``obsa_<bus>.dbc``: a signal present under several multiplexer values lists them
  (``SG_MUL_VAL_``, extended multiplexing), so a multiplexed array is one signal per
  element of a group (``cell_voltage_V_0`` … ``_2``: element value·3 + 0 … 2).
- ``obsa_<bus>.kcd``: KCD gives each multiplexed signal one multiplexer value, so every
  value gets its own signals, named after the array element they carry
  (``cell_voltage_V_191``: with groups numbered per module, value 6·m + k carries the
  module's cells 3·k …, :meth:`~conformance.spec.can_models.Multiplexer.element_of`; the
  unused places past a module's last cell are left out) or with the value
  (``balancing_active_m11``).

A dimensionless unit (``1``) is written as no unit; alive counter and CRC are signals
``alive_counter`` and ``crc`` with their raw values; enums carry their value names.
"""

from __future__ import annotations

from pathlib import Path

from cantools.database.can import Bus, Database, Message, Node, Signal
from cantools.database.conversion import BaseConversion

from ..can import bus_nodes, dbc_name, signal_range
from ..can_models import CanCatalog, CanSignal, Frame
from ..loader import Spec
from ._files import write_files

COUNTER = "alive_counter"
CRC = "crc"

#: DBC files are read as Windows-1252 by most tools: comments are written in ASCII.
_ASCII = str.maketrans({"↔": "<->", "…": "...", "·": "*", "−": "-", "±": "+/-", "°": "deg ",
                        "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "×": "x",
                        "µ": "u", "Ω": "ohm", "≤": "<=", "≥": ">=", "→": "->", "²": "^2"})


def ascii_text(text: str) -> str:
    """``text`` in ASCII: the usual typography replaced, anything else as '?'."""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def file_stem(catalog: CanCatalog) -> str:
    return f"obsa_{catalog.bus.id}"


def _choices(spec: Spec, sig: CanSignal) -> dict[int, str] | None:
    d = spec.signals.get(sig.signal)
    if d is None or d.type != "enum" or d.enum not in spec.enums:
        return None
    return {v.value: v.name for v in spec.enums[d.enum].values}


def _signal(spec: Spec, frame: Frame, sig: CanSignal, name: str,
            mux_ids: list[int] | None, commented: bool = True) -> Signal:
    rng = signal_range(spec, sig)
    return Signal(
        name=name,
        start=sig.start_bit,
        length=sig.length,
        byte_order=sig.byte_order,
        is_signed=sig.signed,
        conversion=BaseConversion.factory(scale=sig.scale, offset=sig.offset,
                                          choices=_choices(spec, sig)),  # type: ignore[arg-type]
        minimum=rng[0] if rng else None,
        maximum=rng[1] if rng else None,
        unit=None if sig.unit == "1" else sig.unit,
        comment=ascii_text(sig.description or spec.signals[sig.signal].description)
        if commented else None,
        receivers=list(frame.receivers),
        multiplexer_ids=mux_ids,
        multiplexer_signal=frame.multiplexer.name if mux_ids is not None and frame.multiplexer
        else None,
    )


def _fixed(frame: Frame) -> list[Signal]:
    """Multiplexer, alive counter and CRC: raw fields present in every frame."""
    out: list[Signal] = []
    mux = frame.multiplexer
    if mux is not None:
        out.append(Signal(mux.name, mux.start_bit, mux.length, mux.byte_order,
                          is_multiplexer=True, minimum=0, maximum=mux.count - 1,
                          comment=ascii_text(mux.description), receivers=list(frame.receivers)))
    if frame.e2e is not None:
        e2e = frame.e2e
        out.append(Signal(COUNTER, e2e.counter.start_bit, e2e.counter.length,
                          e2e.counter.byte_order, receivers=list(frame.receivers),
                          minimum=0, maximum=e2e.counter_values - 1,
                          comment=f"alive counter 0...{e2e.counter_values - 1}, +1 per frame, "
                                  f"then 0 ({e2e.profile})"))
        data_id = "" if e2e.data_id is None else f", data id 0x{e2e.data_id:04X}"
        out.append(Signal(CRC, e2e.crc.start_bit, e2e.crc.length, e2e.crc.byte_order,
                          receivers=list(frame.receivers),
                          comment=f"{e2e.crc.algorithm} ({e2e.profile}{data_id})"))
    return out


def _mux_values(frame: Frame, sig: CanSignal) -> list[int] | None:
    if not sig.multiplexed or frame.multiplexer is None:
        return None
    if sig.multiplexer_values is not None:
        return sorted(sig.multiplexer_values)
    return list(range(frame.multiplexer.count))


def _message(spec: Spec, catalog: CanCatalog, frame: Frame, expand: bool) -> Message:
    signals = _fixed(frame)
    for sig in frame.signals:
        values = _mux_values(frame, sig)
        if values is None or not expand:
            signals.append(_signal(spec, frame, sig, dbc_name(sig), values))
            continue
        mux = frame.multiplexer
        for v in values:
            carried = (mux.element_of(v, sig.element)
                       if mux is not None and sig.element is not None else None)
            if sig.element is not None and mux is not None and mux.elements_per_value:
                if carried is None:
                    continue  # a place past the module's last element: unused
                name = f"{sig.signal}_{carried}"
            else:
                name = f"{dbc_name(sig)}_m{v}"
            # the comment once: the copies for the other values would repeat it
            signals.append(_signal(spec, frame, sig, name, [v], commented=v == values[0]))
    period = frame.cycle.period_ms if frame.cycle is not None else None
    return Message(
        frame_id=frame.id,
        name=frame.name,
        length=frame.dlc,
        signals=signals,
        comment=ascii_text(frame.description),
        senders=list(frame.senders),
        send_type="Cyclic" if frame.cycle is not None else "Event",
        cycle_time=None if period is None else round(period),
        is_extended_frame=frame.extended,
        is_fd=frame.fd,
        bus_name=catalog.bus.id,
        sort_signals=None,
    )


def database(spec: Spec, catalog: CanCatalog, expand: bool = False) -> Database:
    """The cantools database of one catalog; ``expand``: one signal per multiplexer value
    (the KCD form)."""
    nodes = [Node(n) for n in bus_nodes(spec, catalog)]
    db = Database(
        messages=[_message(spec, catalog, f, expand) for f in catalog.frames],
        nodes=nodes,
        buses=[Bus(catalog.bus.id, comment=ascii_text(catalog.bus.title),
                   baudrate=catalog.bus.bit_rate_bps,
                   fd_baudrate=catalog.bus.data_bit_rate_bps)],
        sort_signals=None,
    )
    db.refresh()
    return db


def _as_file(text: str) -> str:
    # cantools ends DBC lines with CR LF; files are compared as text, so LF throughout
    # and exactly one newline at the end, as every generated file
    return text.replace("\r\n", "\n").rstrip("\n") + "\n"


def dbc_text(spec: Spec, catalog: CanCatalog) -> str:
    """The text of one catalog's DBC file, as :func:`render` writes it."""
    return _as_file(database(spec, catalog).as_dbc_string(sort_signals=None))


def render(spec: Spec) -> dict[str, str]:
    files: dict[str, str] = {}
    for catalog in spec.can_catalogs:
        stem = file_stem(catalog)
        files[f"{stem}.dbc"] = dbc_text(spec, catalog)
        files[f"{stem}.kcd"] = _as_file(database(spec, catalog, expand=True).as_kcd_string(
            sort_signals=None))
    return dict(sorted(files.items()))


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
