"""The equivalent-circuit cell model the reference estimators are written against.

A :class:`CellModel` is the nominal cell as characterized at the beginning of life: the
open-circuit voltage as a table over state of charge (on the declared SoC reference,
OBSA-SOC-001) and temperature, the capacity, the ohmic resistance R0 per temperature and
one or more RC pairs (resistance per temperature, time constant). The estimators never ask
where it came from: :meth:`CellModel.from_ecm` reads the cell characterization the bench
hands a module with the test vectors, the ``obsa-ecm/1`` document (``vectors/*.ecm.json``,
see ``vectors/README.md``)::

    {"format": "obsa-ecm/1",
     "reference_capacity_Ah": 5.076,
     "ocv": {"soc": [0.0, 0.01, ..., 1.0],
             "ocv_V": {"10": [...], "25": [...], "40": [...]}},
     "ecm": {"points": [{"temperature_degC": 25, "soc": 0.5, "r0_ohm": 0.023,
                         "r1_ohm": 0.0028, "tau1_s": 9.5, "r2_ohm": 0.0167,
                         "tau2_s": 53.1}, ...]}}

(one OCV row per temperature; R0 and the RC pairs fitted at several temperatures and SoCs:
the model takes, per temperature, their mean over the SoCs, and one time constant per pair,
the mean over every point). A BPX reader can be added beside it without touching an
estimator.

For speed the model is resampled once, at construction, onto a uniform SoC grid and a 1 K
temperature grid (:class:`OcvLookup`): a step then finds a cell's OCV and OCV slope with two
gathers from a table that fits in the cache, whatever the number of cells; and a temperature's
row of that table and the resistances there come from one search (:class:`TemperatureLookup`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..component import Block

FloatArray = np.ndarray
ECM_FORMAT = "obsa-ecm/1"

#: Open-circuit voltage of PyBaMM's Chen2020 parameter set (LG M50, NMC811 / graphite-SiOx)
#: between its stoichiometry limits at 4.2 V and 2.5 V, every 5 % of SoC (PyBaMM 26.10,
#: get_min_max_stoichiometries and the electrodes' OCP functions; no entropic term).
CHEN2020_OCV_V = (
    2.5, 3.1094, 3.2959, 3.4339, 3.4852, 3.5286, 3.5814, 3.629, 3.667, 3.7054, 3.7509,
    3.7983, 3.8406, 3.8896, 3.9479, 3.9943, 4.0421, 4.0809, 4.0967, 4.1236, 4.2,
)


def _per_temperature(value: Any, n_temperatures: int, what: str) -> FloatArray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.shape == (1,):
        arr = np.full(n_temperatures, float(arr[0]))
    if arr.shape != (n_temperatures,):
        raise ValueError(f"cell model: {what}: expected one value or {n_temperatures} "
                         f"(one per temperature), found {arr.shape[0]}")
    return arr


@dataclass(frozen=True)
class RcPair:
    """One RC pair: resistance per temperature of the model (ohm) and time constant (s)."""

    r_ohm: FloatArray
    tau_s: float


@dataclass(frozen=True)
class CellModel:
    """The nominal cell: OCV(SoC, T), capacity, R0(T) and RC pairs (R(T), tau)."""

    capacity_Ah: float
    soc: FloatArray  # (m,) ascending, 0 … 1
    temperatures_degC: FloatArray  # (k,) ascending
    ocv_V: FloatArray  # (k, m)
    r0_ohm: FloatArray  # (k,)
    rc: tuple[RcPair, ...] = ()
    lookup: OcvLookup = field(init=False, repr=False, compare=False)
    temperature_lookup: TemperatureLookup = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        soc = np.asarray(self.soc, dtype=float)
        temps = np.atleast_1d(np.asarray(self.temperatures_degC, dtype=float))
        ocv = np.atleast_2d(np.asarray(self.ocv_V, dtype=float))
        if ocv.shape != (temps.size, soc.size):
            raise ValueError(f"cell model: ocv_V: expected {temps.size} rows of {soc.size} "
                             f"values (temperatures × soc), found {ocv.shape}")
        if soc.size < 2 or np.any(np.diff(soc) <= 0) or soc[0] > 0.0 or soc[-1] < 1.0:
            raise ValueError("cell model: soc: expected an ascending grid from 0 to 1")
        if np.any(np.diff(temps) <= 0):
            raise ValueError("cell model: temperatures_degC: expected ascending values")
        if np.any(np.diff(ocv, axis=1) <= 0):
            raise ValueError("cell model: ocv_V: expected OCV rising with SoC at every "
                             "temperature")
        if not self.capacity_Ah > 0:
            raise ValueError(f"cell model: capacity_Ah: expected > 0, found {self.capacity_Ah}")
        object.__setattr__(self, "soc", soc)
        object.__setattr__(self, "temperatures_degC", temps)
        object.__setattr__(self, "ocv_V", ocv)
        object.__setattr__(self, "r0_ohm", _per_temperature(self.r0_ohm, temps.size, "r0_ohm"))
        object.__setattr__(self, "rc", tuple(
            RcPair(_per_temperature(p.r_ohm, temps.size, f"rc[{i}].r_ohm"), float(p.tau_s))
            for i, p in enumerate(self.rc)))
        object.__setattr__(self, "lookup", OcvLookup(self))
        object.__setattr__(self, "temperature_lookup", TemperatureLookup(self))

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_ecm(cls, data: Mapping[str, Any]) -> CellModel:
        """The model of an ``obsa-ecm/1`` document (shape in the module docstring)."""
        try:
            if data.get("format") != ECM_FORMAT:
                raise ValueError(f"format: expected {ECM_FORMAT!r}, found {data.get('format')!r}")
            rows = {float(t): v for t, v in data["ocv"]["ocv_V"].items()}
            temps = sorted(rows)
            points = list(data["ecm"]["points"])
            n_rc = sum(1 for k in points[0] if k.startswith("tau") and k.endswith("_s"))

            def per_temperature(key: str) -> list[float]:
                out = []
                for t in temps:
                    at = [float(p[key]) for p in points if float(p["temperature_degC"]) == t]
                    if not at:
                        raise ValueError(f"ecm.points: no point at {t:g} °C for {key}")
                    out.append(float(np.mean(at)))
                return out

            rc = tuple(RcPair(np.asarray(per_temperature(f"r{k}_ohm")),
                              float(np.mean([float(p[f"tau{k}_s"]) for p in points])))
                       for k in range(1, n_rc + 1))
            return cls(capacity_Ah=float(data["reference_capacity_Ah"]),
                       soc=np.asarray(data["ocv"]["soc"], dtype=float),
                       temperatures_degC=np.asarray(temps),
                       ocv_V=np.asarray([rows[t] for t in temps], dtype=float),
                       r0_ohm=np.asarray(per_temperature("r0_ohm")), rc=rc)
        except KeyError as exc:
            raise ValueError(f"cell characterization: missing field {exc}") from None
        except (TypeError, IndexError) as exc:
            raise ValueError(f"cell characterization: malformed: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> CellModel:
        """The model of an ``.ecm.json`` file."""
        path = Path(path)
        try:
            return cls.from_ecm(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def to_ecm(self) -> dict[str, Any]:
        """The ``obsa-ecm/1`` document of this model (R0 and the RC pairs at SoC 0.5)."""
        points = []
        for i, t in enumerate(self.temperatures_degC.tolist()):
            point: dict[str, float] = {"temperature_degC": t, "soc": 0.5,
                                       "r0_ohm": float(self.r0_ohm[i])}
            for k, pair in enumerate(self.rc, start=1):
                point[f"r{k}_ohm"] = float(pair.r_ohm[i])
                point[f"tau{k}_s"] = pair.tau_s
            points.append(point)
        return {"format": ECM_FORMAT, "reference_capacity_Ah": self.capacity_Ah,
                "ocv": {"soc": self.soc.tolist(),
                        "ocv_V": {f"{t:g}": row.tolist()
                                  for t, row in zip(self.temperatures_degC.tolist(),
                                                    self.ocv_V, strict=True)}},
                "ecm": {"points": points}}

    @classmethod
    def nominal_nmc(cls) -> CellModel:
        """The LG M50 (NMC, 5 Ah nominal) as Chen2020 describes it: its OCV, its capacity on
        a C/20 discharge from a rest at 4.2 V to 2.5 V (5.144 Ah), and R0 and two RC pairs
        least-squares fitted at 25 °C to three 1800 s PyBaMM SPMe pulse runs (SoC 0.85,
        0.6, 0.45; 34 mV RMS residual, the SPMe's diffusion and SoC-dependent resistance
        the circuit lacks); 0 °C and 45 °C scale them by 2 and 0.73 (not fitted). It stands
        in when configure() brings no characterization."""
        return cls(capacity_Ah=5.144, soc=np.linspace(0.0, 1.0, len(CHEN2020_OCV_V)),
                   temperatures_degC=np.array([0.0, 25.0, 45.0]),
                   ocv_V=np.tile(CHEN2020_OCV_V, (3, 1)),
                   r0_ohm=np.array([0.043, 0.0214, 0.0157]),
                   rc=(RcPair(np.array([0.0154, 0.0077, 0.0056]), 22.5),
                       RcPair(np.array([0.031, 0.0155, 0.0113]), 173.0)))

    def scaled(self, capacity: float = 1.0, resistance: float = 1.0) -> CellModel:
        """The same cell with its capacity and every resistance scaled (an aged variant)."""
        return CellModel(self.capacity_Ah * capacity, self.soc, self.temperatures_degC,
                         self.ocv_V, self.r0_ohm * resistance,
                         tuple(RcPair(p.r_ohm * resistance, p.tau_s) for p in self.rc))

    # -- evaluation (vectorised over cells) -----------------------------------------------
    def ocv(self, soc: Any, temperature_degC: Any) -> FloatArray:
        """OCV (V) at ``soc`` and ``temperature_degC`` (arrays broadcast together)."""
        return self.lookup.ocv(np.asarray(soc, dtype=float), temperature_degC)

    def ocv_slope(self, soc: Any, temperature_degC: Any) -> FloatArray:
        """dOCV/dSoC (V per unit SoC) at ``soc`` and ``temperature_degC``."""
        return self.lookup.slope(np.asarray(soc, dtype=float), temperature_degC)

    def soc_of_ocv(self, ocv: Any, temperature_degC: Any) -> FloatArray:
        """The SoC whose OCV is ``ocv`` (clipped to 0 … 1), per cell."""
        return self.lookup.soc_of(np.asarray(ocv, dtype=float), temperature_degC)

    def r0(self, temperature_degC: Any) -> FloatArray:
        """Ohmic resistance (ohm) at ``temperature_degC``."""
        return self._by_temperature(self.r0_ohm, temperature_degC)

    def rc_r(self, index: int, temperature_degC: Any) -> FloatArray:
        """Resistance (ohm) of RC pair ``index`` at ``temperature_degC``."""
        return self._by_temperature(self.rc[index].r_ohm, temperature_degC)

    def resistances(self, temperature_degC: Any) -> FloatArray:
        """R0 and the resistance of each RC pair (ohm) at ``temperature_degC``: rows 0 (R0),
        1, 2, … (1 + len(rc), …), the values of :meth:`r0` and :meth:`rc_r`."""
        t = np.asarray(temperature_degC, dtype=float)
        return np.array([np.interp(t, self.temperatures_degC, row)
                         for row in (self.r0_ohm, *(p.r_ohm for p in self.rc))])

    def _by_temperature(self, values: FloatArray, temperature_degC: Any) -> FloatArray:
        return np.interp(np.asarray(temperature_degC, dtype=float), self.temperatures_degC,
                         values)


class OcvLookup:
    """The OCV table resampled for vectorised steps: ``STEPS`` + 1 uniform SoC points per
    1 K row from the model's lowest to its highest temperature (clamped outside).

    A cell's row offset (``row_base``) changes only with its temperature; a step computes
    ``x = soc × STEPS``, ``j = floor(x)``, ``k = row_base + j`` and takes ``value[k]`` and
    ``delta[k]`` (the rise to the next point): OCV = value + delta × (x − j),
    dOCV/dSoC = delta × STEPS.
    """

    STEPS = 200

    def __init__(self, model: CellModel) -> None:
        temps = model.temperatures_degC
        self.t_min = float(temps[0])
        rows = int(round(float(temps[-1]) - self.t_min)) + 1
        self.rows = rows
        grid_t = self.t_min + np.arange(rows, dtype=float)
        grid_s = np.linspace(0.0, 1.0, self.STEPS + 1)
        by_soc = np.array([np.interp(grid_s, model.soc, row) for row in model.ocv_V])  # (k, S)
        table = np.empty((rows, self.STEPS + 2))
        for i in range(self.STEPS + 1):
            table[:, i] = np.interp(grid_t, temps, by_soc[:, i])
        table[:, -1] = table[:, -2]  # a pad, so that soc = 1 (j = STEPS) reads a zero delta
        self.value = table.ravel()
        delta = np.zeros_like(table)
        delta[:, :-2] = np.diff(table[:, :-1], axis=1)
        delta[:, -2] = delta[:, -3]  # at SoC 1, the slope of the last interval
        self.delta = delta.ravel()
        self.width = self.STEPS + 2
        # for soc_at: the rows without their pad, row r lifted by r × _lift (above the
        # one before it), so that the whole is one ascending array
        self._lift = float(table.max() - table.min()) + 1.0
        self._ascending = (table[:, :-1] + self._lift * np.arange(rows)[:, None]).ravel()

    def row_base(self, temperature_degC: Any) -> np.ndarray:
        """Offset of each cell's 1 K row in the flat tables (int64): computed once per step
        and passed to :meth:`ocv_at`, :meth:`slope_at` and :meth:`soc_at` when a step looks
        several SoCs up at the same temperatures."""
        t = np.asarray(temperature_degC, dtype=float)
        row = np.minimum(np.maximum(np.rint(t - self.t_min), 0.0), self.rows - 1.0)
        return (row.astype(np.int64) * self.width)

    def _index(self, soc: FloatArray, base: np.ndarray) -> tuple[np.ndarray, FloatArray]:
        x = np.minimum(np.maximum(soc, 0.0), 1.0) * self.STEPS
        j = x.astype(np.int64)
        return base + j, x - j

    def ocv_at(self, soc: FloatArray, base: np.ndarray) -> FloatArray:
        """OCV at ``soc`` on the rows ``base`` (:meth:`row_base`)."""
        k, f = self._index(soc, base)
        return np.asarray(self.value[k] + self.delta[k] * f)

    def ocv_on_grid(self, x: FloatArray, j: np.ndarray, base: np.ndarray) -> FloatArray:
        """:meth:`ocv_at` for a step that has the SoC on the grid already: ``x`` = SoC ×
        STEPS within 0 … STEPS, ``j`` its whole part (int64)."""
        k = base + j
        return np.asarray(self.value[k] + self.delta[k] * (x - j))

    def slope_at(self, soc: FloatArray, base: np.ndarray) -> FloatArray:
        """dOCV/dSoC at ``soc`` on the rows ``base`` (:meth:`row_base`)."""
        k, _ = self._index(soc, base)
        return np.asarray(self.delta[k] * self.STEPS)

    def soc_at(self, ocv: FloatArray, base: np.ndarray) -> FloatArray:
        """The SoC whose OCV on the rows ``base`` is ``ocv``, clipped to 0 … 1: the exact
        inverse of :meth:`ocv_at` (each row rises, so a binary search finds the interval
        and the interval's line gives the fraction). An OCV that is not a number reads as
        above every row (SoC 1)."""
        ocv, base = np.broadcast_arrays(np.asarray(ocv, dtype=float), base)
        ocv = np.where(np.isnan(ocv), np.inf, ocv)
        row = base // self.width
        # the rows one after the other, each lifted above the one before: one sorted array
        pos = np.searchsorted(self._ascending, ocv + row * self._lift, side="right") - 1
        j = np.minimum(np.maximum(pos - row * (self.STEPS + 1), 0), self.STEPS - 1)
        k = base + j
        f = (ocv - self.value[k]) / self.delta[k]
        return np.asarray(np.minimum(np.maximum((j + f) / self.STEPS, 0.0), 1.0))

    def ocv(self, soc: FloatArray, temperature_degC: Any) -> FloatArray:
        return self.ocv_at(soc, self.row_base(temperature_degC))

    def slope(self, soc: FloatArray, temperature_degC: Any) -> FloatArray:
        return self.slope_at(soc, self.row_base(temperature_degC))

    def soc_of(self, ocv: FloatArray, temperature_degC: Any) -> FloatArray:
        return self.soc_at(ocv, self.row_base(temperature_degC))


class TemperatureLookup:
    """What depends on a temperature alone, found with one search: the row of the OCV lookup
    (:meth:`OcvLookup.row_base`) and R0 and the RC pairs' resistances (:meth:`CellModel.
    resistances`, np.interp's to the bit).

    The temperature axis is cut where either changes: at the model's temperatures (the
    interval of the resistances' interpolation; below the first, the first's values, from
    the last on, the last's) and where the nearest 1 K row of the OCV lookup changes (the
    least temperature that np.rint rounds to the next row). Per segment between two cuts:
    its row offset and, per resistance, the line ``r + slope · (t − t0)`` of its interval
    (slope 0 outside the model's range). A step searches the cuts once, the rest is
    gathers, instead of a clip, a rounding and an interpolation per resistance."""

    def __init__(self, model: CellModel) -> None:
        temps, lookup = model.temperatures_degC, model.lookup
        table = np.array([model.r0_ohm, *(p.r_ohm for p in model.rc)])  # (1 + n_rc, k)
        slope = np.zeros_like(table)  # per interval; 0 from the last temperature on
        slope[:, :-1] = np.diff(table, axis=1) / np.diff(temps)

        # the least temperature (a float) of each row r ≥ 1: bisections between floats of
        # rows r − 1 and r down to neighbours (the row rises with the temperature)
        r = np.arange(1, lookup.rows)
        lo, hi = lookup.t_min + (r - 1.0), lookup.t_min + r.astype(float)
        while (between := ((mid := 0.5 * (lo + hi)) > lo) & (mid < hi)).any():
            up = lookup.row_base(mid) >= r * lookup.width
            lo, hi = np.where(between & ~up, mid, lo), np.where(between & up, mid, hi)
        self.cuts = np.unique(np.concatenate([temps, hi]))
        # per segment: before the first cut (below the model's range), then from each cut
        at = np.concatenate([[-math.inf], self.cuts])
        self.rows = lookup.row_base(at)
        interval = temps.searchsorted(at, side="right") - 1  # -1: below the range
        j = np.maximum(interval, 0)
        self.t0 = temps[j]
        self.slope = np.where(interval >= 0, slope[:, j], 0.0)
        self.value = table[:, j]

    def at(self, temperature_degC: np.ndarray) -> tuple[np.ndarray, FloatArray]:
        """The OCV lookup's row offsets and the resistances (rows as :meth:`CellModel.
        resistances`') at finite temperatures."""
        s = self.cuts.searchsorted(temperature_degC, side="right")
        return self.rows.take(s), (self.slope.take(s, axis=1)
                                   * (temperature_degC - self.t0.take(s))
                                   + self.value.take(s, axis=1))


class PerStepLength:
    """What depends on a step's length only (the decays of the RC pairs over it), made by
    ``make(dt)`` and kept per dt: the steps of a run are of one length or, as time stamps
    round, of a few (at most KEPT are kept)."""

    KEPT = 16

    def __init__(self, make: Callable[[float], Any]) -> None:
        self._make = make
        self._kept: dict[float, Any] = {}

    def __call__(self, dt: float) -> Any:
        kept = self._kept.get(dt)
        if kept is None:
            if len(self._kept) >= self.KEPT:
                self._kept.clear()
            kept = self._kept[dt] = self._make(dt)
        return kept


def sensor_temperatures(sensors: Sequence[float] | np.ndarray,
                        fallback_degC: float) -> FloatArray:
    """The temperature sensors' readings as floats, the fallback where one reads NaN; one
    reading of the fallback where there is no sensor."""
    t = np.asarray(sensors, dtype=float).ravel()
    if t.size == 0:
        return np.full(1, fallback_degC)
    if np.logical_and.reduce(np.isfinite(t)):
        return t
    return np.where(np.isfinite(t), t, fallback_degC)


def cell_temperatures(sensors: Sequence[float] | np.ndarray, n_cells: int,
                      fallback_degC: float) -> FloatArray:
    """One temperature per cell from the temperature sensors (:func:`sensor_temperatures`):
    sensor ``i × s // n`` for cell ``i`` (the sensors in the order of the cells), the
    fallback where a sensor reads NaN or there is none."""
    t = sensor_temperatures(sensors, fallback_degC)
    return t[_sensor_of_cell(t.size, n_cells)]


class CellTemperatures:
    """Per cell, what a step takes from the temperature sensors alone: the cells'
    temperatures (:func:`cell_temperatures`), their rows of the OCV lookup
    (:meth:`OcvLookup.row_base`), R0 and the RC pairs' resistances (:meth:`CellModel.
    resistances`: ``r0`` is row 0, ``r_rc`` the rest). Kept while the sensors read what they
    read at the last step: their readings update every 0.1 to 1 s, an estimator may step
    more often. The arrays are replaced, never written into: an estimator may keep them,
    and tell by identity that they have not changed.

    Each is a function of one sensor's reading: it is computed for the sensors (fewer than
    the cells, 24 for 96 in the state-estimation manifest), with one search shared by the
    rows and the resistances (:class:`TemperatureLookup`), then taken to the cells with the
    sensor of each cell."""

    def __init__(self, model: CellModel, fallback_degC: float) -> None:
        self._model, self._fallback = model, fallback_degC
        self._readings: tuple[int, bytes] | None = None
        self.temps = self.rows = self.r0 = np.zeros(0)
        self.resistances = self.r_rc = np.zeros((1 + len(model.rc), 0))

    def update(self, sensors: Sequence[float] | np.ndarray, n_cells: int) -> bool:
        """Take this step's sensor readings; False (nothing recomputed) when they are,
        to the bit, those of the last step."""
        raw = np.asarray(sensors, dtype=float)
        readings = (n_cells, raw.tobytes())  # a cheaper np.array_equal, NaN equal to NaN
        if readings == self._readings:
            return False
        self._readings = readings
        t = sensor_temperatures(raw, self._fallback)
        rows, resistances = self._model.temperature_lookup.at(t)
        # to the cells
        sensor = _sensor_of_cell(t.size, n_cells)
        self.temps, self.rows = t[sensor], rows[sensor]
        self.resistances = resistances.take(sensor, axis=1)
        self.r0, self.r_rc = self.resistances[0], self.resistances[1:]
        return True


@functools.lru_cache(maxsize=16)
def _sensor_of_cell(sensors: int, n_cells: int) -> np.ndarray:
    """The sensor of each cell (:func:`cell_temperatures`), for a pack's shape: the same at
    every step."""
    index = (np.arange(n_cells) * sensors) // n_cells
    index.setflags(write=False)
    return index


#: The configure() key that carries the cell characterization (the spec's
#: ``characterization.parameter``): an obsa-ecm/1 document (dict), the path of one, or a
#: :class:`CellModel`.
CHARACTERIZATION_KEY = "cell_characterization"
#: The key configure() receives the same cell under as a BPX document, where the vector has
#: one (the interface's ``characterization.bpx_parameter``): for an estimator on a
#: physics-based model. The reference's SoC estimator models the cell with it
#: (:mod:`.spme`); its SoH and SoP estimators keep to the equivalent circuit.
BPX_KEY = "cell_bpx"


def split_characterization(parameters: Mapping[str, Any] | None
                           ) -> tuple[CellModel | None, dict[str, Any]]:
    """The cell model passed to configure() (None: keep the present one) and the PIXIT
    values without it (nor the BPX document, :data:`BPX_KEY`)."""
    rest = dict(parameters or {})
    rest.pop(BPX_KEY, None)
    given = rest.pop(CHARACTERIZATION_KEY, None)
    if given is None or isinstance(given, CellModel):
        return given, rest
    if isinstance(given, Mapping):
        return CellModel.from_ecm(given), rest
    if isinstance(given, str | Path):
        return CellModel.load(given), rest
    raise ValueError(f"{CHARACTERIZATION_KEY}: expected a CellModel, an .ecm.json document or "
                     f"its path, found {type(given).__name__}")


class CellModelBlock(Block):
    """A reference :class:`Block` that is given a cell model.

    ``configure`` takes the characterization (see :func:`split_characterization`) and the
    interface's parameters that have no spec default (``PARAMETERS``, from the generated
    typing): the generated default table does not list those, so they are checked here as
    numbers and handed to ``_setup`` beside the resolved ones. One the module was not given
    is absent from ``_setup``'s dict; the estimators then take the characterization's value.
    """

    PARAMETERS: ClassVar[type]  # the interface's generated Parameters TypedDict

    def __init__(self, cell_model: CellModel | None = None) -> None:
        self._model = cell_model or CellModel.nominal_nmc()
        super().__init__()

    @property
    def cell_model(self) -> CellModel:
        return self._model

    def configure(self, parameters: Mapping[str, Any]) -> None:
        model, rest = split_characterization(parameters)
        if model is not None:
            self._model = model
        super().configure(rest)
