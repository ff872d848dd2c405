"""A vendor's vector directory for the tests: a shipped vector cut short and renamed, with
the characterization it names beside it (as ``obsa certify --vectors DIR`` expects)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from conformance.paths import vectors_dir
from conformance.vectors import load_vector, write_vector

SOURCE = "nmc-wltc-25c"
CHARACTERIZATION = "nmc-chen2020.ecm.json"


def vendor_dir(directory: Path, vector_id: str = "acme-drive-25c", *, stop_s: float = 1500.0,
               profile: str = "drive-city", **info: Any) -> Path:
    """Write ``<vector_id>`` (the first ``stop_s`` of the shipped nmc-wltc-25c, ``profile``,
    ``info`` on top) and its characterization into ``directory``; returns its ``.json``."""
    v = load_vector(vectors_dir() / f"{SOURCE}.json")
    n = int(round(stop_s / v.info.dt_s)) + 1
    arrays = {k: a[:n] if a.ndim and a.shape[0] == v.n_samples else a
              for k, a in v.arrays.items()}
    described = v.info.model_dump()
    described.update(id=vector_id, profile=profile, duration_s=float(arrays["t_s"][-1]),
                     description=f"the first {stop_s:g} s of {SOURCE}",
                     characterization=CHARACTERIZATION)
    described.update(info)
    path = write_vector(directory, described, arrays)
    shutil.copy(vectors_dir() / CHARACTERIZATION, directory / CHARACTERIZATION)
    return path
