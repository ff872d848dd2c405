"""The truth model of a vector (``<id>.truth.json``, ``obsa-truth/1``: written by
:mod:`conformance.vectors.truth_model`, format in its docstring): an equivalent circuit of
each true cell, fitted to the DFN the vector was simulated with, so that a limit a module
predicts can be drawn from the truth in closed loop (OBSA-SOP-002, OBSA-SOP-003).

The model's state at a time of the vector is its SoC there (the vector's ``cell_soc``) and
its RC voltages, found by running the model along the vector's current from the start
(at rest). From that state :meth:`TruthPack.draw_current` and :meth:`TruthPack.draw_power`
integrate the model under a constant current or a constant power of the string every
:data:`DT_S`. Everything is vectorised over the vector's cells (and over the samples or
steps where the SoC along them is known beforehand: :meth:`TruthPack.states_along`,
:meth:`TruthPack.draw_current`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..vectors import Vector, VectorError

FORMAT = "obsa-truth/1"
DT_S = 0.1
"""The integration step of a drawn limit (s)."""
_POINT_FIELDS = ("soc", "r0_ohm", "r1_ohm", "tau1_s", "r2_ohm", "tau2_s", "fit_rms_V")


@dataclass(frozen=True)
class _Where:
    """Where each cell's SoC falls on a table of its own (one row per cell): the segment's
    upper end ``k`` (1 … m−1) and its weight ``v`` (…, cells), the SoC held to the table
    (beyond it, the end value, as np.interp)."""

    k: np.ndarray
    v: np.ndarray

    def __getitem__(self, index: Any) -> _Where:
        """The same for some of the SoCs (an index on the leading axes)."""
        return _Where(self.k[index], self.v[index])

    def of(self, table_y: np.ndarray) -> np.ndarray:
        """A table on those points (cells, m, …) at each SoC: (…, cells, …)."""
        cells = np.arange(table_y.shape[0])
        v = self.v.reshape(self.v.shape + (1,) * (table_y.ndim - 2))
        return table_y[cells, self.k - 1] * (1.0 - v) + table_y[cells, self.k] * v


@dataclass
class TruthPack:
    """The equivalent circuits of a vector's cells (arrays: one row per cell)."""

    capacity_Ah: np.ndarray  # (cells,)
    ocv_soc: np.ndarray  # (cells, m)
    ocv_V: np.ndarray  # (cells, m)
    point_soc: np.ndarray  # (cells, k)
    step_A: np.ndarray  # (s,) the step currents of the instantaneous resistance (+ charge)
    r0: np.ndarray  # (cells, k, s) the instantaneous resistance per point and step current
    r: np.ndarray  # (2, cells, k)
    tau: np.ndarray  # (2, cells, k)
    fit_rms_V: np.ndarray  # (cells, k) the fit's RMS error against the DFN at each point
    _along: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False,
                                          compare=False)  # vector sha256 → its run so far

    @classmethod
    def from_document(cls, doc: dict[str, Any], where: str) -> TruthPack:
        """From the ``cells`` of an obsa-truth/1 document; a defect names ``where`` and the
        field."""
        cells = doc.get("cells") if isinstance(doc, dict) else None
        if not isinstance(cells, list) or not cells:
            raise VectorError(f"{where}: expected 'cells', a non-empty list of cell models")
        rows: list[tuple[float, list[float], list[float], list[list[float]],
                         list[float], list[list[float]]]] = []
        for i, cell in enumerate(cells):
            try:
                capacity = float(cell["reference_capacity_Ah"])
                soc = [float(x) for x in cell["ocv"]["soc"]]
                ocv = [float(x) for x in cell["ocv"]["ocv_V"]]
                points = sorted(cell["points"], key=lambda p: float(p["soc"]))
                values = [[float(p[f]) for f in _POINT_FIELDS] for p in points]
                steps = [float(a) for a in points[0]["instant"]["current_A"]]
                instant = [[float(r) for r in p["instant"]["r0_ohm"]] for p in points]
                if any([float(a) for a in p["instant"]["current_A"]] != steps
                       for p in points):
                    raise ValueError("the points' instant.current_A differ")
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise VectorError(f"{where}: cells[{i}]: expected reference_capacity_Ah, "
                                  f"ocv.soc, ocv.ocv_V and points with "
                                  f"{', '.join(_POINT_FIELDS)} and instant.current_A / "
                                  f"instant.r0_ohm ({exc!r})") from None
            if (len(soc) != len(ocv) or len(soc) < 2 or capacity <= 0 or len(steps) < 2
                    or any(len(x) != len(steps) for x in instant)
                    or list(steps) != sorted(steps)):
                raise VectorError(f"{where}: cells[{i}]: expected ocv.soc and ocv.ocv_V of "
                                  f"one length ≥ 2, a positive capacity, and per point an "
                                  f"instant.r0_ohm for each of ≥ 2 ascending step currents")
            rows.append((capacity, soc, ocv, values, steps, instant))
        if (len({len(r[1]) for r in rows}) != 1 or len({len(r[3]) for r in rows}) != 1
                or len({tuple(r[4]) for r in rows}) != 1):
            raise VectorError(f"{where}: expected every cell on the same SoC points and step "
                              f"currents")
        pts = np.array([r[3] for r in rows])  # (cells, k, 6)
        return cls(capacity_Ah=np.array([r[0] for r in rows]),
                   ocv_soc=np.array([r[1] for r in rows]), ocv_V=np.array([r[2] for r in rows]),
                   point_soc=pts[:, :, 0], step_A=np.array(rows[0][4]),
                   r0=np.array([r[5] for r in rows]),
                   r=np.stack([pts[:, :, 2], pts[:, :, 4]]),
                   tau=np.stack([pts[:, :, 3], pts[:, :, 5]]), fit_rms_V=pts[:, :, 6])

    @property
    def n_cells(self) -> int:
        return int(self.capacity_Ah.size)

    def covered_range(self, fit_rms_V: float) -> tuple[np.ndarray, np.ndarray]:
        """Per cell, the SoC range the model stands for the DFN in: the run of fitted points
        around the one nearest SoC 0.5 whose fit's RMS error is at most ``fit_rms_V``
        (beyond the points, or at a point fitted worse, it is not the truth)."""
        lo, hi = np.empty(self.n_cells), np.empty(self.n_cells)
        for j in range(self.n_cells):
            good = self.fit_rms_V[j] <= fit_rms_V
            mid = int(np.argmin(np.abs(self.point_soc[j] - 0.5)))
            a = b = mid
            while a > 0 and good[a - 1]:
                a -= 1
            while b < good.size - 1 and good[b + 1]:
                b += 1
            lo[j], hi[j] = self.point_soc[j, a], self.point_soc[j, b]
        return lo, hi

    def covers(self, soc: np.ndarray, fit_rms_V: float) -> np.ndarray:
        """Per row of ``soc`` (samples, cells): whether every cell's SoC is in its
        :meth:`covered_range`."""
        lo, hi = self.covered_range(fit_rms_V)
        return np.all((soc >= lo[None, :]) & (soc <= hi[None, :]), axis=1)

    # -- the model ----------------------------------------------------------------------
    def _where(self, table_x: np.ndarray, soc: np.ndarray) -> _Where:
        """Where each cell's SoC (…, cells) falls on its own row of ``table_x`` (cells, m)."""
        x = np.clip(soc, table_x[:, 0], table_x[:, -1])  # beyond the table: its end value
        # per row, how many of its points lie below (np.searchsorted on rows of their own)
        k = np.clip(np.sum(table_x < x[..., None], axis=-1), 1, table_x.shape[1] - 1)
        cells = np.arange(self.n_cells)
        lo, hi = table_x[cells, k - 1], table_x[cells, k]
        return _Where(k, (x - lo) / (hi - lo))

    def ocv(self, soc: np.ndarray) -> np.ndarray:
        """The OCV (…, cells) at each cell's SoC (…, cells)."""
        return self._where(self.ocv_soc, soc).of(self.ocv_V)

    def rc(self, soc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """R (…, 2, cells) and τ (…, 2, cells) at each cell's SoC (…, cells)."""
        return self._rc_at(self._where(self.point_soc, soc))

    def _rc_at(self, at: _Where) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`rc` at SoCs already placed on the fitted points."""
        r = np.stack([at.of(self.r[i]) for i in range(2)], axis=-2)
        tau = np.stack([at.of(self.tau[i]) for i in range(2)], axis=-2)
        return r, tau

    def instant_r(self, soc: np.ndarray, current_A: float | np.ndarray) -> np.ndarray:
        """The instantaneous resistance (cells, currents) at each cell's SoC for each current
        (+ charge): linear in the current between the step currents, the nearest beyond."""
        at_steps = self._where(self.point_soc, soc).of(self.r0)  # (cells, step currents)
        return self._at_current(at_steps, current_A)

    def _at_current(self, at_steps: np.ndarray, current_A: float | np.ndarray) -> np.ndarray:
        """Values given at the step currents (…, s) at each current (…, currents): linear
        between the step currents, the nearest beyond."""
        amps = np.clip(np.atleast_1d(np.asarray(current_A, dtype=float)), self.step_A[0],
                       self.step_A[-1])
        hi = np.clip(np.searchsorted(self.step_A, amps), 1, self.step_A.size - 1)
        w = (amps - self.step_A[hi - 1]) / (self.step_A[hi] - self.step_A[hi - 1])
        return at_steps[..., hi - 1] * (1.0 - w) + at_steps[..., hi] * w

    @staticmethod
    def _advance(u: np.ndarray, r: np.ndarray, tau: np.ndarray, current: float | np.ndarray,
                 dt: float) -> np.ndarray:
        a = np.exp(-dt / tau)
        return a * u + r * (1.0 - a) * current

    @staticmethod
    def _run(u0: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The RC voltages (n + 1, 2, cells) from ``u0`` (2, cells) through the steps
        u ← a[i]·u + b[i] (a, b: (n, 2, cells))."""
        out = np.empty((a.shape[0] + 1, *u0.shape))
        out[0] = u = u0
        for i in range(a.shape[0]):
            out[i + 1] = u = a[i] * u + b[i]
        return out

    def states_along(self, vector: Vector, rows: np.ndarray) -> np.ndarray:
        """The RC voltages (len(rows), 2, cells) at the vector's samples ``rows``, the model
        run from rest along the vector's current (linear between samples, each interval at
        its mean) with its SoC the vector's. The run is kept: a later call for the same
        vector goes on from the furthest sample reached, never from the start again."""
        rows = np.asarray(rows, dtype=int)
        if rows.size == 0:
            return np.zeros((0, 2, self.n_cells))
        last = int(np.max(rows))
        known = self._along.get(vector.info.sha256)
        if known is None:
            known = np.zeros((1, 2, self.n_cells))  # at rest at the first sample
        if known.shape[0] <= last:
            have = known.shape[0] - 1  # the furthest sample reached
            t = vector["t_s"][have: last + 1].astype(float)
            current = vector["current_A"][have: last + 1].astype(float)
            soc = vector["cell_soc"][have: last + 1].astype(float)
            # each interval at its mean SoC and current: u ← a·u + R·(1 − a)·I
            r, tau = self.rc(0.5 * (soc[:-1] + soc[1:]))  # (intervals, 2, cells)
            a = np.exp(-np.diff(t)[:, None, None] / tau)
            b = r * (1.0 - a) * (0.5 * (current[:-1] + current[1:]))[:, None, None]
            known = np.concatenate([known, self._run(known[-1], a, b)[1:]])
            self._along[vector.info.sha256] = known
        return known[rows]

    def run_from_rest(self, soc0: float, t: np.ndarray, current_A: np.ndarray) -> np.ndarray:
        """The first cell's voltage on ``t`` from rest at ``soc0`` under ``current_A``."""
        soc = np.full(self.n_cells, float(soc0))
        u = np.zeros((2, self.n_cells))
        out = np.zeros(len(t))
        for n in range(len(t)):
            if n > 0:
                dt = float(t[n] - t[n - 1])
                i_mean = 0.5 * (current_A[n - 1] + current_A[n])
                r, tau = self.rc(soc)
                u = self._advance(u, r, tau, i_mean, dt)
                soc = soc + i_mean * dt / (3600.0 * self.capacity_Ah)
            r0 = self.instant_r(soc, current_A[n])[:, 0]
            out[n] = (self.ocv(soc) + r0 * current_A[n] + u.sum(axis=0))[0]
        return out

    # -- drawing a limit ------------------------------------------------------------------
    def draw_current(self, soc: np.ndarray, u: np.ndarray, current_A: float,
                     horizon_s: float) -> np.ndarray:
        """Cell voltages (steps, cells) from the state (soc, u) under a constant current
        (+ charge) for ``horizon_s``, at its start and every :data:`DT_S`."""
        steps = max(1, int(np.ceil(horizon_s / DT_S - 1e-9)))
        dt = horizon_s / steps
        # under a constant current the SoC at each step is known beforehand
        socs = (soc.astype(float)[None, :] + np.arange(steps + 1)[:, None]
                * (current_A * dt / (3600.0 * self.capacity_Ah))[None, :])
        at = self._where(self.point_soc, socs)
        r, tau = self._rc_at(at[:-1])  # (steps, 2, cells): each step from its start
        a = np.exp(-dt / tau)
        rc = self._run(u, a, r * (1.0 - a) * current_A)  # (steps + 1, 2, cells)
        r0 = self._at_current(at.of(self.r0), current_A)[..., 0]  # (steps + 1, cells)
        return self.ocv(socs) + r0 * current_A + rc.sum(axis=1)

    def draw_power(self, soc: np.ndarray, u: np.ndarray, power_W: float, sign: float,
                   counts: np.ndarray, horizon_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Cell voltages (steps, cells) and the string current (steps,) from (soc, u) under a
        constant string power ``power_W`` (a magnitude; ``sign`` +1 charge, −1 discharge),
        the string holding ``counts[j]`` cells like cell ``j``: :meth:`draw_powers` from one
        state."""
        volts, amps = self.draw_powers(np.asarray(soc)[None], np.asarray(u)[None],
                                       np.array([power_W], dtype=float), sign, counts,
                                       horizon_s)
        return volts[0], amps[0]

    def draw_powers(self, soc: np.ndarray, u: np.ndarray, power_W: np.ndarray,
                    sign: float | np.ndarray, counts: np.ndarray, horizon_s: float
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Cell voltages (draws, steps, cells) and the string current (draws, steps) of
        several draws at once, each from its own state (soc (draws, cells), u (draws, 2,
        cells)) under its own constant string power ``power_W`` (draws,) in the direction
        ``sign`` (+1 charge, −1 discharge: one for all, or one per draw): at each step the
        current is the one at which the string, its RC voltages as they are, takes that
        power; where no current can deliver it (the string's voltage collapses first) the
        current is the one of the largest power, and the voltage what it gives. The draws
        share nothing but the loop over the steps."""
        steps = max(1, int(np.ceil(horizon_s / DT_S - 1e-9)))
        dt = horizon_s / steps
        soc = np.array(soc, dtype=float)
        u = np.array(u, dtype=float)
        power = np.asarray(power_W, dtype=float)
        sign = np.broadcast_to(np.asarray(sign, dtype=float), power.shape)
        out = np.zeros((soc.shape[0], steps + 1, self.n_cells))
        amps = np.zeros((soc.shape[0], steps + 1))
        for n in range(steps + 1):
            at = self._where(self.point_soc, soc)
            r0 = at.of(self.r0)  # (draws, cells, step currents)
            base = self.ocv(soc) + u.sum(axis=-2)  # (draws, cells)
            current = self._power_currents(r0, base, power, sign, counts)
            out[:, n] = base + self._at_each_current(r0, current) * current[:, None]
            amps[:, n] = current
            if n < steps:
                r, tau = self._rc_at(at)
                u = self._advance(u, r, tau, current[:, None, None], dt)
                soc = soc + current[:, None] * dt / (3600.0 * self.capacity_Ah)
        return out, amps

    def _at_each_current(self, at_steps: np.ndarray, current_A: np.ndarray) -> np.ndarray:
        """Values given at the step currents (draws, cells, s), each draw at its own current
        (draws,): (draws, cells), as :meth:`_at_current` for one."""
        amps = np.clip(current_A, self.step_A[0], self.step_A[-1])
        hi = np.clip(np.searchsorted(self.step_A, amps), 1, self.step_A.size - 1)
        w = ((amps - self.step_A[hi - 1]) / (self.step_A[hi] - self.step_A[hi - 1]))[:, None]
        draws = np.arange(at_steps.shape[0])
        return at_steps[draws, :, hi - 1] * (1.0 - w) + at_steps[draws, :, hi] * w

    def _power_currents(self, r0: np.ndarray, base: np.ndarray, power_W: np.ndarray,
                        sign: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per draw, the string current (+ charge) at which the string takes (its sign +1)
        or gives (−1) ``power_W``: the smallest such magnitude; where none exists, the
        magnitude of the largest power the string gives. ``r0``: the cells' instantaneous
        resistance at the step currents (draws, cells, s); ``base``: their voltage at zero
        current (draws, cells); ``sign``: (draws,).

        The string's power is searched on a grid of 401 currents up to a bound, and the
        first grid interval that reaches ``power_W`` is narrowed by regula falsi (the
        Illinois variant) to the resolution 30 bisections of it would give — each draw on
        its own, as if alone (a draw that has converged is left as it is)."""
        e = np.sum(counts * base, axis=-1)  # (draws,)
        r_string = counts @ r0  # (draws, s): the string's instantaneous resistance
        live = (power_W > 0.0) & (e > 0.0)
        e = np.where(live, e, 1.0)  # the others get 0 A; keep their arithmetic finite
        power = np.where(live, power_W, 1.0)
        step_A = self.step_A

        def string_power(magnitude: np.ndarray) -> np.ndarray:  # (draws,) or (draws, n)
            col = (slice(None),) + (None,) * (magnitude.ndim - 1)
            amps = sign[col] * magnitude  # linear between step currents, the ends beyond
            return magnitude * (e[col] + _interp_rows(amps, step_A, r_string) * amps)

        charge = sign > 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            top = 4.0 * (power / e) + 1.0
            # charge: the power grows with the current, a bracket; discharge: the power
            # given peaks, searched up to the short circuit of the steepest end
            top = np.where(charge, top, np.maximum(top, e / np.maximum(r_string[:, 0], 1e-9)))
            while True:
                short = live & charge & (string_power(top) - power < 0.0)
                if not short.any():
                    break
                top = np.where(short, 2.0 * top, top)
            grid = np.linspace(0.0, top, 401, axis=-1)  # (draws, 401)
            powers = string_power(grid)
            reached = powers >= power[:, None]
            found = reached.any(axis=-1)
            draws = np.arange(grid.shape[0])
            first = np.maximum(np.argmax(reached, axis=-1), 1)
            lo, hi = grid[draws, first - 1], grid[draws, first]
            f_lo, f_hi = powers[draws, first - 1] - power, powers[draws, first] - power
            tolerance = (hi - lo) * 2.0 ** -30
            kept = np.zeros(grid.shape[0], dtype=int)  # which end the last step kept
            active = live & found
            for _ in range(100):  # converges in far fewer; the bound only guards the loop
                active &= hi - lo > tolerance
                if not active.any():
                    break
                x = hi - f_hi * (hi - lo) / (f_hi - f_lo)  # where the chord crosses power_W
                x = np.where((lo < x) & (x < hi), x, 0.5 * (lo + hi))
                f = string_power(x) - power
                up = active & (f >= 0.0)  # x reaches power_W: the new upper end
                down = active & ~(f >= 0.0)
                f_lo = np.where(up & (kept == -1), 0.5 * f_lo, f_lo)  # Illinois: lo kept
                f_hi = np.where(down & (kept == 1), 0.5 * f_hi, f_hi)  # twice, halve it
                hi, f_hi = np.where(up, x, hi), np.where(up, f, f_hi)
                lo, f_lo = np.where(down, x, lo), np.where(down, f, f_lo)
                kept = np.where(up, -1, np.where(down, 1, kept))
            largest = grid[draws, np.argmax(powers, axis=-1)]
        return np.where(live, sign * np.where(found, hi, largest), 0.0)

    def largest_current(self, soc: np.ndarray, u: np.ndarray, sign: float, ceiling: float,
                        v_high: float, v_low: float, horizon_s: float,
                        bisections: int = 20) -> float:
        """The largest constant current magnitude in [0, ceiling] the truth sustains for the
        horizon within the voltage limits (what a perfect state-of-power estimator reports)."""
        def holds(magnitude: float) -> bool:
            v = self.draw_current(soc, u, sign * magnitude, horizon_s)
            return bool(np.all(v <= v_high)) if sign > 0 else bool(np.all(v >= v_low))

        if ceiling <= 0.0 or not holds(0.0):
            return 0.0
        if holds(ceiling):
            return ceiling
        lo, hi = 0.0, ceiling
        for _ in range(bisections):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if holds(mid) else (lo, mid)
        return lo


def _interp_rows(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp with a table of its own per row: ``x`` (rows,) or (rows, n) on ``xp``
    (s,), row i's values ``fp[i]`` (rows, s); beyond the table, its end values."""
    lead = np.arange(fp.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.size - 2)
    y0, y1 = fp[lead, j], fp[lead, j + 1]
    y = (y1 - y0) / (xp[j + 1] - xp[j]) * (x - xp[j]) + y0
    y = np.where(x <= xp[0], fp[lead, 0], y)
    return np.where(x >= xp[-1], fp[lead, -1], y)


def truth_model(vector: Vector) -> TruthPack:
    """The truth model shipped beside ``vector`` (``<id>.truth.json``), checked to be the
    model of this vector's cells."""
    path = vector.path.parent / f"{vector.info.id}.truth.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VectorError(f"{path}: the truth model of vector {vector.info.id} cannot be "
                          f"read: {exc} (python -m conformance.vectors.truth_model writes "
                          f"it)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise VectorError(f"{path}: expected an {FORMAT} document")
    if doc.get("vector_sha256") != vector.info.sha256:
        raise VectorError(f"{path}: fitted for another version of vector {vector.info.id} "
                          f"(vector_sha256 {doc.get('vector_sha256')!r}, the vector's "
                          f"{vector.info.sha256}): regenerate it")
    pack = TruthPack.from_document(doc, str(path))
    if pack.n_cells != vector.info.n_cells:
        raise VectorError(f"{path}: expected {vector.info.n_cells} cells (the vector's), "
                          f"found {pack.n_cells}")
    return pack
