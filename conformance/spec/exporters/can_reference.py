"""The CAN catalog as the reference implementation reads it: ``reference_impl/can/``.

``reference_impl`` never imports ``conformance`` (it is the baseline a vendor reads and
builds on), so its CAN nodes cannot ask the spec loader for the catalog. They read files
generated into their own package instead, checked in and drift-checked like every other
artefact:

- ``obsa_<bus>.dbc``: the DBC of each bus, the very text :mod:`.dbc` renders for the
  published docs (``docs/_generated/can/``): ids, lengths, signal layouts, scale, offset,
  multiplexers, the ``alive_counter`` and ``crc`` fields. A copy rather than a path into
  ``docs/``: the wheel ships ``reference_impl`` as a package, and the nodes must find their
  database in it without a source checkout;
- ``obsa_can.py``: what a DBC file cannot hold — per frame the cycle tolerance, reception
  timeout and reaction time, the end-to-end protection (profile, data id, CRC algorithm,
  largest counter step) and the array elements per multiplexer value; and which components
  the architecture places on each node (the BMU runs its own, the CMUs theirs).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from ..can_models import CanCatalog, Frame
from ..loader import Spec
from . import dbc
from ._files import write_files
from .pytyping import WIDTH, literal

MODULE = "obsa_can.py"


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=WIDTH, initial_indent=indent + "# ",
                         subsequent_indent=indent + "# ", break_long_words=False,
                         break_on_hyphens=False)


def _seconds(ms: float | None) -> str:
    return "None" if ms is None else repr(round(ms / 1000.0, 9))


def _frame(catalog: CanCatalog, frame: Frame) -> list[str]:
    lines = _comment(frame.description, "        ")
    if frame.timeout is not None:
        lines += _comment(f"On timeout: {frame.timeout.reaction}", "        ")
    cycle, event, timeout = frame.cycle, frame.event, frame.timeout
    e2e = ["            e2e=None,"]
    if frame.e2e is not None:
        data_id = "None" if frame.e2e.data_id is None else f"0x{frame.e2e.data_id:04X}"
        e2e = ["            e2e=E2eRule(",
               f"                profile={literal(frame.e2e.profile)},",
               f"                data_id={data_id},",
               f"                crc_algorithm={literal(frame.e2e.crc.algorithm)},",
               f"                max_delta_counter={frame.e2e.max_delta_counter},",
               f"                counter_values={frame.e2e.counter_values},",
               "            ),"]
    mux = frame.multiplexer
    per = mux.elements_per_value if mux is not None else None
    per_module = mux.elements_per_module if mux is not None else None
    lines += [
        f"        {literal(frame.name)}: FrameRule(",
        f"            bus={literal(catalog.bus.id)},",
        f"            senders={_tuple(frame.senders)},",
        f"            receivers={_tuple(frame.receivers)},",
        f"            period_s={_seconds(cycle.period_ms if cycle else None)},",
        f"            tolerance_s={_seconds(cycle.tolerance_ms if cycle else None)},",
        f"            min_interval_s={_seconds(event.min_interval_ms if event else None)},",
        f"            timeout_s={_seconds(timeout.time_ms if timeout else None)},",
        f"            reaction_time_s={_seconds(timeout.reaction_time_ms if timeout else None)},",
        f"            rx_timeout_fault={timeout.rx_timeout_fault if timeout else False},",
        f"            elements_per_value={per},",
        f"            elements_per_module={per_module},",
        *e2e,
        "        ),",
    ]
    return lines


def _tuple(items: list[str]) -> str:
    return "(" + ", ".join(literal(i) for i in items) + ("," if len(items) == 1 else "") + ")"


HEADER = '''"""The CAN catalog's facts that its DBC files do not hold, for the reference CAN nodes.

Generated from spec/can/*.yaml and spec/architecture.yaml by
``python -m conformance.spec.exporters`` (exporter ``can_reference``): do not edit. The frame
layouts (ids, data lengths, signals, scale, offset, multiplexers, the ``alive_counter`` and
``crc`` fields) are in the DBC files beside this module, the same files as the published
docs' (:data:`DBC_FILES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class E2eRule:
    """End-to-end protection of a frame: alive counter and CRC-8 (their fields are the DBC's
    ``alive_counter`` and ``crc`` signals)."""

    #: autosar_e2e_p1 (the data id enters the CRC) or obsa_counter_crc8 (no data id).
    profile: str
    #: 16-bit data id mixed into the CRC, low byte first; None: no data id.
    data_id: int | None
    #: crc8_sae_j1850 (polynomial 0x1D, start value and final XOR 0xFF) or
    #: crc8_sae_j1850_zero (polynomial 0x1D, start value 0x00, no final XOR).
    crc_algorithm: str
    #: Largest counter step from the previous frame a receiver accepts.
    max_delta_counter: int
    #: Values the alive counter takes before it wraps to 0 (AUTOSAR E2E profile 1: 15,
    #: i.e. 0 … 14; otherwise 2^bits of the DBC's alive_counter field).
    counter_values: int


@dataclass(frozen=True)
class FrameRule:
    """Timing, protection and multiplexing of one frame of the catalog."""

    bus: str
    senders: tuple[str, ...]
    receivers: tuple[str, ...]
    #: Period of a periodic frame (every multiplexer value once per period); None: event.
    period_s: float | None
    #: Tolerance of the period a receiver may expect.
    tolerance_s: float | None
    #: Smallest interval of an event-driven frame.
    min_interval_s: float | None
    #: Age of the last valid frame that is a reception timeout; None: no timeout.
    timeout_s: float | None
    #: Bound from the timeout to the completed reaction.
    reaction_time_s: float | None
    #: The receiver reports the timeout as rx_timeout (False: the reaction alone, e.g. a
    #: charger that is not plugged in; also False for a frame without a timeout).
    rx_timeout_fault: bool
    #: Array elements a multiplexed array signal carries per multiplexer value.
    elements_per_value: int | None
    #: Array elements of one module when the multiplexer values are numbered per module
    #: (value = module · ⌈elements_per_module / elements_per_value⌉ + k); None: not.
    elements_per_module: int | None
    e2e: E2eRule | None
'''


def render_module(spec: Spec) -> str:
    lines = HEADER.rstrip("\n").split("\n")
    lines += ["", "", "#: The DBC file of every bus, beside this module.",
              "DBC_FILES: Final[dict[str, str]] = {"]
    lines += [f"    {literal(c.bus.id)}: {literal(dbc.file_stem(c) + '.dbc')},"
              for c in spec.can_catalogs]
    lines += ["}", "", "#: Every frame of the catalog, by bus and frame name.",
              "FRAMES: Final[dict[str, dict[str, FrameRule]]] = {"]
    for catalog in spec.can_catalogs:
        lines.append(f"    {literal(catalog.bus.id)}: {{")
        for frame in catalog.frames:
            lines += _frame(catalog, frame)
        lines.append("    },")
    lines += ["}", "", "#: The components the architecture places on each node of its topology.",
              "NODE_COMPONENTS: Final[dict[str, tuple[str, ...]]] = {"]
    for node in spec.architecture.topology.nodes:
        ids = [c.id for c in spec.architecture.components if c.node == node.id]
        lines += [f"    {literal(node.id)}: (", *(f"        {literal(i)}," for i in ids), "    ),"]
    lines.append("}")
    too_long = [ln for ln in lines if len(ln) > WIDTH]
    if too_long:  # the module must stay ruff-clean; _comment() wraps the prose
        raise ValueError(f"{MODULE}: a generated line exceeds {WIDTH} characters: "
                         f"{too_long[0]!r}")
    return "\n".join(lines) + "\n"


def render(spec: Spec) -> dict[str, str]:
    files = {name: text for name, text in dbc.render(spec).items() if name.endswith(".dbc")}
    files[MODULE] = render_module(spec)
    return dict(sorted(files.items()))


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
