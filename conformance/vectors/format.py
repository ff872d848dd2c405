"""The test-vector format ``obsa-vector/1``: one ``<id>.json`` (what the vector is) beside one
``<id>.npz`` (what happened, sample by sample).

``<id>.json`` is a :class:`VectorInfo`: the cell (chemistry, PyBaMM parameter set and every
change made to it — ageing, another cell than the characterization describes), the current
profile, the temperature, the sample period, the seed of any random choice, the generator
and PyBaMM versions, the SoC reference the truth SoC is on (OBSA-SOC-001: full and empty
voltage, current and temperature of the reference charge and discharge), the file of the
cell characterization a module is configured with, and the SHA-256 of the ``.npz``.

``<id>.npz`` (numpy, compressed) holds the arrays of :data:`ARRAYS`: ``t_s`` (float64,
from 0, one constant step), ``current_A`` (the string current, positive when the battery is
charged, as the data dictionary's ``pack_current_A``), per cell and sample
``cell_voltage_V``, ``cell_temperature_degC`` and ``cell_soc`` (the truth on the SoC
reference), and per cell ``cell_capacity_Ah`` (the charge between the reference's full and
empty states) and ``cell_resistance_ohm`` (the ohmic resistance: the voltage step of a 10 ms
current step at SoC 0.5 and the vector's temperature, divided by the current step). Sampled
arrays are float32: ample for millivolts and milli-SoC, and a 2-hour, 16-cell vector stays
near a megabyte. The sample period ``dt_s`` is the vector's: 0.1 s (the soc_estimator's step)
for drive cycles and pulses, 1 s (the soh_estimator's) for the cycle vectors, whose 11–15 hours
would take ten times the samples at 0.1 s; a replay steps an estimator at its own period where the
vector's is shorter.

Reading checks everything (:func:`load_vector`): a wrong hash, a missing or misshapen array,
a NaN, a time axis that does not step evenly — each is a :class:`VectorError` naming the file,
the array and what was expected.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT: Literal["obsa-vector/1"] = "obsa-vector/1"

#: name → (dtype, shape in terms of n (samples) and c (cells))
ARRAYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "t_s": ("float64", ("n",)),
    "current_A": ("float32", ("n",)),
    "cell_voltage_V": ("float32", ("n", "c")),
    "cell_temperature_degC": ("float32", ("n", "c")),
    "cell_soc": ("float32", ("n", "c")),
    "cell_capacity_Ah": ("float32", ("c",)),
    "cell_resistance_ohm": ("float32", ("c",)),
}
SOC_SLACK = 0.05
"""How far outside [0, 1] a truth SoC may stray (a charge held at the full voltage)."""


class VectorError(Exception):
    """A vector file that cannot be used; the message names the file and what is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SocReference(_Model):
    """The SoC reference the truth SoC is on (OBSA-SOC-001)."""

    full_voltage_V: float = Field(gt=0)
    empty_voltage_V: float = Field(gt=0)
    current_A: float = Field(gt=0, description="constant current of the reference charge and "
                                                "discharge, per cell")
    temperature_degC: float


class VectorInfo(_Model):
    """What a vector is: the contents of ``<id>.json``."""

    format: Literal["obsa-vector/1"] = FORMAT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str
    chemistry: str = Field(pattern=r"^(nmc|nca|lfp|lto|lmo|lco|other)$")
    parameter_set: str = Field(description="the PyBaMM parameter set the truth cell starts from")
    changes: dict[str, float | str] = Field(
        default_factory=dict, description="every parameter of the set changed for the truth "
                                          "cell (ageing, another cell), name → value")
    characterization: str = Field(description="file (beside this one) of the cell data a "
                                              "module is configured with: the nominal cell")
    profile: str = Field(description="the current profile, e.g. wltc3b, cccv, pulses")
    temperature_degC: float
    n_cells: int = Field(ge=1)
    dt_s: float = Field(gt=0)
    duration_s: float = Field(gt=0)
    seed: int = Field(ge=0)
    generator: str
    pybamm_version: str
    soc_reference: SocReference
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of <id>.npz")


@dataclass(frozen=True)
class Vector:
    """A vector read and checked: its description and its arrays."""

    info: VectorInfo
    path: Path  # the .json
    arrays: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    @property
    def n_samples(self) -> int:
        return int(self.arrays["t_s"].shape[0])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_json(path: Path) -> Any:
    """The JSON document ``path`` holds; a file that cannot be read or is no JSON is a
    VectorError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise VectorError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise VectorError(f"{path}: not JSON: {exc}") from None


def load_vector(path: str | Path) -> Vector:
    """Read and check the vector described by ``path`` (its ``.json``)."""
    path = Path(path)
    raw = read_json(path)
    try:
        info = VectorInfo.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "<document>"
        raise VectorError(f"{path}: {where}: {err['msg']} (found {err.get('input')!r})"
                          f"{'' if exc.error_count() == 1 else f'; {exc.error_count() - 1} more'}"
                          ) from None
    npz = path.with_suffix(".npz")
    try:
        data = npz.read_bytes()
    except OSError as exc:
        raise VectorError(f"{npz}: cannot read: {exc.strerror or exc}") from None
    if _sha256(data) != info.sha256:
        raise VectorError(f"{npz}: expected SHA-256 {info.sha256} (from {path.name}), found "
                          f"{_sha256(data)}: the arrays are not the ones described")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    except Exception as exc:  # a corrupt archive: numpy raises several kinds
        raise VectorError(f"{npz}: not a numpy .npz archive: {exc}") from None
    _check_arrays(npz, info, arrays)
    return Vector(info, path, arrays)


def _check_arrays(npz: Path, info: VectorInfo, arrays: dict[str, np.ndarray]) -> None:
    missing = [a for a in ARRAYS if a not in arrays]
    if missing:
        raise VectorError(f"{npz}: expected the arrays {', '.join(ARRAYS)}, missing "
                          f"{', '.join(missing)}")
    n = arrays["t_s"].shape[0] if arrays["t_s"].ndim == 1 else -1
    sizes = {"n": n, "c": info.n_cells}
    for name, (dtype, dims) in ARRAYS.items():
        a = arrays[name]
        shape = tuple(sizes[d] for d in dims)
        if a.shape != shape:
            raise VectorError(f"{npz}: array '{name}': expected shape {shape} "
                              f"({' × '.join(dims)}), found {a.shape}")
        if str(a.dtype) != dtype:
            raise VectorError(f"{npz}: array '{name}': expected dtype {dtype}, found {a.dtype}")
        bad = np.flatnonzero(~np.isfinite(a.reshape(-1)))
        if bad.size:
            raise VectorError(f"{npz}: array '{name}': expected finite numbers, found "
                              f"{a.reshape(-1)[bad[0]]} at flat index {bad[0]}")
    t = arrays["t_s"]
    if n < 2 or t[0] != 0.0:
        raise VectorError(f"{npz}: array 't_s': expected at least 2 samples from 0 s, found "
                          f"{n} from {t[0] if n else '—'} s")
    steps = np.diff(t)
    if np.max(np.abs(steps - info.dt_s)) > 1e-6 * max(1.0, info.dt_s):
        i = int(np.argmax(np.abs(steps - info.dt_s)))
        raise VectorError(f"{npz}: array 't_s': expected a step of {info.dt_s} s (dt_s), found "
                          f"{steps[i]} s after sample {i}")
    if abs(t[-1] - info.duration_s) > info.dt_s:
        raise VectorError(f"{npz}: array 't_s': expected to end at duration_s = "
                          f"{info.duration_s} s, ends at {t[-1]} s")
    soc = arrays["cell_soc"]
    if soc.min() < -SOC_SLACK or soc.max() > 1 + SOC_SLACK:
        raise VectorError(f"{npz}: array 'cell_soc': expected values in [{-SOC_SLACK}, "
                          f"{1 + SOC_SLACK}], found {soc.min():.4f} … {soc.max():.4f}")
    for name in ("cell_capacity_Ah", "cell_resistance_ohm"):
        if arrays[name].min() <= 0:
            raise VectorError(f"{npz}: array '{name}': expected positive values, found "
                              f"{arrays[name].min()}")


def write_vector(directory: Path, info: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write ``<id>.npz`` and ``<id>.json`` (its hash filled in) in ``directory``; returns the
    ``.json``. The arrays are cast to the format's dtypes and checked as a reader would."""
    directory.mkdir(parents=True, exist_ok=True)
    cast = {name: np.ascontiguousarray(arrays[name], dtype=ARRAYS[name][0]) for name in ARRAYS}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **cast)  # type: ignore[arg-type]
    data = buffer.getvalue()
    model = VectorInfo.model_validate({**info, "sha256": _sha256(data)})
    _check_arrays(directory / f"{model.id}.npz", model, cast)
    (directory / f"{model.id}.npz").write_bytes(data)
    json_path = directory / f"{model.id}.json"
    json_path.write_text(model.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return json_path


def load_vectors(directory: str | Path) -> list[Vector]:
    """Every vector of ``directory`` (each ``*.json`` with a ``.npz`` beside it), by id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise VectorError(f"{directory}: expected a directory of test vectors")
    vectors = [load_vector(p) for p in sorted(directory.glob("*.json"))
               if p.with_suffix(".npz").exists()]
    if not vectors:
        raise VectorError(f"{directory}: expected test vectors (<id>.json beside <id>.npz), "
                          "found none")
    return vectors
