"""The CAN catalog as the reference implementation carries it (generated, do not edit the
``obsa_*`` files).

- ``obsa_<bus>.dbc`` — the DBC of each bus (``internal_can``: BMU ↔ CMUs; ``vehicle_can``:
  BMU ↔ vehicle control unit and charger), the same text as the published docs' copy;
- :mod:`.obsa_can` — what a DBC cannot hold: tolerances, reception timeouts and reaction
  times, end-to-end protection, array elements per multiplexer value, the components of
  each node.

Both come from ``spec/can/*.yaml`` through ``python -m conformance.spec.exporters``, and the
drift test fails when they no longer match the spec. :func:`database` opens a bus's DBC with
cantools, the codec of the reference CAN nodes (:mod:`reference_impl.nodes.can_codec`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cantools
from cantools.database.can import Database

from .obsa_can import DBC_FILES, FRAMES, NODE_COMPONENTS, E2eRule, FrameRule

HERE = Path(__file__).resolve().parent


def dbc_path(bus: str) -> Path:
    """The DBC file of ``bus`` (``internal_can`` or ``vehicle_can``)."""
    if bus not in DBC_FILES:
        raise KeyError(f"no CAN bus '{bus}' in the catalog; expected one of "
                       f"{', '.join(DBC_FILES)}")
    return HERE / DBC_FILES[bus]


@cache
def database(bus: str) -> Database:
    """The cantools database of ``bus``, loaded once per process (treat it as read-only)."""
    db = cantools.database.load_file(dbc_path(bus), database_format="dbc", strict=True)
    assert isinstance(db, Database)
    return db


__all__ = ["DBC_FILES", "FRAMES", "NODE_COMPONENTS", "E2eRule", "FrameRule", "database",
           "dbc_path"]
