"""A single-particle model with electrolyte (SPMe) of the nominal cell, built from its BPX
document (``cell_bpx``), for the reference estimators: the terminal voltage of every cell of a
string from its state of charge, its temperature and the string's current history.

Why: the characterization's equivalent circuit misses the particles' solid diffusion, which
relaxes over minutes (``benchmarks/model_error.py``: 11–13 mV RMS at low current on the
characterized NMC cell, 26 mV after a rest; a PyBaMM SPMe from the same BPX document 0.2–0.7
and 1.6 mV). This model carries what that SPMe carries, reduced so that a step of a whole
string costs a few vector operations per cell:

* **Particles** (each electrode one sphere, constant diffusivity D): the surface
  concentration is the mean plus the exact modal solution of spherical diffusion under the
  surface flux N::

      c_surf − c_mean = −(R/D) · Σ_k (2/λ_k²) · x_k,     dx_k/dt = (λ_k² D / R²)(N − x_k)

  with λ_k the positive roots of tan λ = λ (Σ_k 2/λ_k² = 1/5, the steady state of a
  parabolic profile). MODES modes are kept; the rest are in quasi-steady state (x_k = N).
  The mean stoichiometry of each electrode is the cell's SoC mapped on its window.
* **Electrolyte**: the SPMe's linear diffusion across negative electrode, separator and
  positive electrode (finite volumes, effective diffusivity D_e × transport efficiency at
  the initial concentration, sources (1 − t⁺)·a·j/F uniform in each electrode), advanced
  exactly over a step from its eigen-decomposition. Its concentration overpotential
  2(1 − t⁺)RT/F · (mean ln c_e over the positive − over the negative), its ohmic drop
  (I/A)(L_n/3κ_n + L_s/κ_s + L_p/3κ_p) with κ at the initial concentration × transport
  efficiency, and the solid phases' (I/3A)(L_n/σ_n + L_p/σ_p) (BPX's conductivities are
  effective).
* **Kinetics**: symmetric Butler–Volmer, η = (2RT/F)·asinh(j / 2j₀), j₀ = F k
  √((c_e/c_e0)·θ(1 − θ)) with BPX's rate constant and its Arrhenius activation energy.
* **What BPX does not say**: the SoC reference and the cell's series resistance. The SoC
  maps linearly on each electrode's stoichiometry with the slope the reference capacity
  gives (Q_ref / the electrode's charge per unit stoichiometry); where it starts (the empty
  state on BPX's stoichiometry line) is fitted to the characterization's OCV at the
  reference temperature. A series (contact) resistance per characterization temperature
  makes the model's voltage 10 ms into a 1C discharge step from rest at SoC 0.5 drop as
  much as the characterization's R0 says (the definition of R0 in ``vectors/README.md``).
  It corrects the model's own resistance too, and may come out a little below zero: on the
  shipped NMC cell +0.30, +0.16 and −0.07 mΩ at 10, 25 and 40 °C; on the LFP cell 2.2, 2.1
  and 1.7 mΩ. The OCV so mapped is within 0.06 mV RMS of the characterization's on both.

What it reads of BPX: numbers and tables (x, y). A diffusivity or conductivity given as a
table is taken at stoichiometry 0.5 (the particles) or at the initial concentration (the
electrolyte); an OCP must be a table. A quantity given as a BPX function (a string) is not
evaluated: :class:`Spme` raises ``ValueError`` naming it, as it does for a missing field or
a value out of range, and the SoC estimator then keeps to the circuit.

The diffusion and electrolyte states are driven by the current alone, which every cell of
a series string shares: they are held once per string, advanced with the string's mean
temperature (the BPX documents shipped have no activation energy of diffusion; with one,
cells at other temperatures than the mean take the mean's time constants). Per cell, the
voltage costs the two OCP lookups and the two asinh of the kinetics: :meth:`Spme.cell_terms`
works them into arrays it is given, on whole arrays of cells (and of SoCs per cell, for the
filter's linearisation), without allocating.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cell_model import CellModel

F = 96485.33212
R_GAS = 8.314462618
#: modes of each particle's diffusion kept (the 30th has 0.1 % of the steady state, and a
#: time constant of R²/(9000·D): 0.1 s on the NMC negative electrode)
MODES = 30
#: finite volumes of the electrolyte in the negative electrode, separator, positive electrode
VOLUMES = (10, 4, 10)
#: the uniform stoichiometry grid the OCPs are resampled on (for two-gather lookups)
OCP_POINTS = 2001
#: the surface stoichiometries are held within these (the kinetics' √(θ(1 − θ)) > 0)
THETA_MIN, THETA_MAX = 1e-6, 1.0 - 1e-6


def _tan_roots(n: int) -> np.ndarray:
    """The first ``n`` positive roots of tan λ = λ (Newton from (k + ½)π − 1/((k + ½)π))."""
    k = np.arange(1, n + 1, dtype=float)
    lam = (k + 0.5) * math.pi - 1.0 / ((k + 0.5) * math.pi)
    for _ in range(50):
        f = np.tan(lam) - lam
        lam = lam - f / (1.0 / np.cos(lam) ** 2 - 1.0)
    return lam


ROOTS = _tan_roots(MODES)


def _number(d: Mapping[str, Any], key: str, where: str) -> float:
    try:
        value = float(d[key])
    except KeyError:
        raise ValueError(f"{where}: missing {key!r}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {key!r}: expected a number, found {d[key]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {key!r}: expected a finite number, found {value}")
    return value


def _optional(d: Mapping[str, Any], key: str, where: str, default: float) -> float:
    """A number BPX may leave out (``default`` then)."""
    return default if d.get(key) is None else _number(d, key, where)


def _table(d: Mapping[str, Any], key: str, where: str) -> tuple[np.ndarray, np.ndarray] | float:
    """A BPX quantity given as a number or as a table {x: [...], y: [...]}."""
    value = d.get(key)
    if isinstance(value, Mapping):
        try:
            x = np.asarray(value["x"], dtype=float)
            y = np.asarray(value["y"], dtype=float)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: {key!r}: expected a table of numbers "
                             "{\"x\": [...], \"y\": [...]}") from None
        if x.ndim != 1 or x.shape != y.shape or x.size < 2 or np.any(np.diff(x) <= 0) \
                or not np.all(np.isfinite(y)):
            raise ValueError(f"{where}: {key!r}: expected x ascending and as many finite y")
        return x, y
    if isinstance(value, str):
        raise ValueError(f"{where}: {key!r}: a function of BPX is not evaluated by this "
                         "model: expected a number or a table")
    return _number(d, key, where)


def _at(value: tuple[np.ndarray, np.ndarray] | float, x: float) -> float:
    if isinstance(value, tuple):
        return float(np.interp(x, value[0], value[1]))
    return float(value)


@dataclass(frozen=True)
class Electrode:
    """One electrode of the BPX document, as the model uses it."""

    name: str
    thickness_m: float
    surface_area_m_1: float  # a, per unit volume of electrode
    radius_m: float
    diffusivity_m2_s: float
    diffusivity_ea: float
    c_max: float
    theta_min: float
    theta_max: float
    k_norm: float  # BPX's reaction rate constant, mol m⁻² s⁻¹
    k_ea: float
    sigma_S_m: float  # effective
    porosity: float
    transport_efficiency: float
    ocp_theta: np.ndarray  # uniform grid
    ocp_V: np.ndarray
    ocp_step_V: np.ndarray  # ocp_V[i + 1] − ocp_V[i]
    #: dtype → (ocp_V, ocp_step_V) in it (:meth:`ocp_into` gathers in its arrays' dtype)
    _tables: dict[Any, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, d: Mapping[str, Any], name: str) -> Electrode:
        where = f"cell_bpx: Parameterisation.{name}"
        if not isinstance(d, Mapping):
            raise ValueError(f"{where}: expected an object")
        ocp = _table(d, "OCP [V]", where)
        if not isinstance(ocp, tuple):
            raise ValueError(f"{where}: 'OCP [V]': expected a table of OCP against "
                             "stoichiometry")
        grid = np.linspace(0.0, 1.0, OCP_POINTS)
        electrode = cls(
            name=name,
            thickness_m=_number(d, "Thickness [m]", where),
            surface_area_m_1=_number(d, "Surface area per unit volume [m-1]", where),
            radius_m=_number(d, "Particle radius [m]", where),
            diffusivity_m2_s=_at(_table(d, "Diffusivity [m2.s-1]", where), 0.5),
            diffusivity_ea=_optional(d, "Diffusivity activation energy [J.mol-1]", where, 0.0),
            c_max=_number(d, "Maximum concentration [mol.m-3]", where),
            theta_min=_number(d, "Minimum stoichiometry", where),
            theta_max=_number(d, "Maximum stoichiometry", where),
            k_norm=_number(d, "Reaction rate constant [mol.m-2.s-1]", where),
            k_ea=_optional(d, "Reaction rate constant activation energy [J.mol-1]", where,
                           0.0),
            sigma_S_m=_number(d, "Conductivity [S.m-1]", where),
            porosity=_number(d, "Porosity", where),
            transport_efficiency=_number(d, "Transport efficiency", where),
            ocp_theta=grid, ocp_V=(values := np.interp(grid, ocp[0], ocp[1])),
            ocp_step_V=np.diff(values))
        for key, value in (("Thickness [m]", electrode.thickness_m),
                           ("Surface area per unit volume [m-1]", electrode.surface_area_m_1),
                           ("Particle radius [m]", electrode.radius_m),
                           ("Diffusivity [m2.s-1]", electrode.diffusivity_m2_s),
                           ("Maximum concentration [mol.m-3]", electrode.c_max),
                           ("Reaction rate constant [mol.m-2.s-1]", electrode.k_norm),
                           ("Conductivity [S.m-1]", electrode.sigma_S_m),
                           ("Porosity", electrode.porosity),
                           ("Transport efficiency", electrode.transport_efficiency)):
            if not value > 0:
                raise ValueError(f"{where}: {key!r}: expected > 0, found {value}")
        if not 0.0 <= electrode.theta_min < electrode.theta_max <= 1.0:
            raise ValueError(f"{where}: expected 0 ≤ Minimum stoichiometry < Maximum "
                             f"stoichiometry ≤ 1, found {electrode.theta_min} and "
                             f"{electrode.theta_max}")
        return electrode

    def ocp(self, theta: np.ndarray) -> np.ndarray:
        """OCP (V) at ``theta`` (clipped to 0 … 1), linear on the uniform grid."""
        x = np.clip(theta, 0.0, 1.0) * (OCP_POINTS - 1)
        i = np.minimum(x.astype(np.intp), OCP_POINTS - 2)
        return self.ocp_V[i] + self.ocp_step_V[i] * (x - i)

    def ocp_into(self, theta: np.ndarray, out: np.ndarray, step: np.ndarray,
                 tmp: np.ndarray, idx: np.ndarray) -> None:
        """OCP at ``theta`` (within THETA_MIN … THETA_MAX) into ``out`` and the table's step
        over the interval it falls in (V per 1/(OCP_POINTS − 1) of stoichiometry) into
        ``step``: two gathers. ``tmp`` may be ``theta`` itself (it is read first)."""
        tables = self._tables.get(out.dtype)
        if tables is None:
            tables = self._tables[out.dtype] = (self.ocp_V.astype(out.dtype),
                                                self.ocp_step_V.astype(out.dtype))
        np.multiply(theta, OCP_POINTS - 1, out=out)
        np.copyto(idx, out, casting="unsafe")  # floor, as theta > 0
        out -= idx  # the fraction within the interval
        np.take(tables[1], idx, out=step, mode="clip")
        out *= step
        out += np.take(tables[0], idx, out=tmp, mode="clip")

    def charge_Ah(self, area_m2: float) -> float:
        """The electrode's charge per unit stoichiometry (A h)."""
        active = self.surface_area_m_1 * self.radius_m / 3.0
        return F * self.c_max * active * self.thickness_m * area_m2 / 3600.0


@dataclass(frozen=True)
class CellFactors:
    """Per cell: 2RT/F, 1/(F·k·Arrhenius) of each electrode, the series resistance."""

    two_rt_f: np.ndarray
    inv_k_n: np.ndarray
    inv_k_p: np.ndarray
    series_ohm: np.ndarray

    def __getitem__(self, part: slice) -> CellFactors:
        """The factors of the cells ``part``."""
        return CellFactors(self.two_rt_f[part], self.inv_k_n[part], self.inv_k_p[part],
                           self.series_ohm[part])


@dataclass(frozen=True)
class StringTerms:
    """What the voltage of every cell of the string shares at one instant, from the
    string's states and current: the particles' surface offsets (stoichiometry, per unit of
    a cell's scale), j/(2√(c_e/c_e0)) of each electrode (A m⁻², per unit scale), the
    electrolyte's concentration term (1 − t⁺)·(ln c_e over the positive − over the
    negative) and the ohmic drop of electrolyte and solid phases (V, discharge positive)."""

    discharge_A: float
    shift_n: float
    shift_p: float
    drive_n: float
    drive_p: float
    concentration: float
    ohmic_V: float


class Work:
    """Scratch arrays for :meth:`Spme.cell_terms`, for up to ``rows`` SoCs of up to ``size``
    cells: no allocation per call."""

    FLOATS = 8

    def __init__(self, rows: int, size: int, dtype: Any = np.float64) -> None:
        self.f = np.empty((self.FLOATS, rows * size), dtype=dtype)
        self.i = np.empty(rows * size, dtype=np.intp)

    def of(self, rows: int, m: int) -> tuple[list[np.ndarray], np.ndarray]:
        """Contiguous views of ``rows`` × ``m``."""
        return ([a[:rows * m].reshape(rows, m) for a in self.f],
                self.i[:rows * m].reshape(rows, m))


def _arrhenius(ea: float, kelvin: Any, ref: float) -> Any:
    return np.exp(ea / R_GAS * (1.0 / ref - 1.0 / np.asarray(kelvin, dtype=float)))


class Spme:
    """The reduced SPMe of a nominal cell (module docstring): string-level diffusion states,
    per-cell voltages. Current positive when charging, as everywhere in the reference."""

    def __init__(self, bpx: Mapping[str, Any], cell: CellModel) -> None:
        if not isinstance(bpx, Mapping) or not isinstance(bpx.get("Parameterisation"), Mapping):
            raise ValueError("cell_bpx: expected a BPX document with 'Parameterisation'")
        p = bpx["Parameterisation"]
        where = "cell_bpx: Parameterisation"
        for part in ("Cell", "Electrolyte", "Negative electrode", "Positive electrode",
                     "Separator"):
            if not isinstance(p.get(part), Mapping):
                raise ValueError(f"{where}.{part}: expected an object")
        c = p["Cell"]
        self.area_m2 = (_number(c, "Electrode area [m2]", f"{where}.Cell")
                        * _optional(c, "Number of electrode pairs connected in parallel to "
                                    "make a cell", f"{where}.Cell", 1.0))
        self.t_ref_K = _optional(c, "Reference temperature [K]", f"{where}.Cell", 298.15)
        self.neg = Electrode.of(p["Negative electrode"], "Negative electrode")
        self.pos = Electrode.of(p["Positive electrode"], "Positive electrode")
        e, s = p["Electrolyte"], p["Separator"]
        state = bpx.get("State")
        init = state.get("Initial conditions") if isinstance(state, Mapping) else None
        self.c_e0 = _optional(init if isinstance(init, Mapping) else {},
                              "Initial electrolyte concentration [mol.m-3]",
                              "cell_bpx: State.Initial conditions", 1000.0)
        self.t_plus = _number(e, "Cation transference number", f"{where}.Electrolyte")
        self.d_e = _at(_table(e, "Diffusivity [m2.s-1]", f"{where}.Electrolyte"), self.c_e0)
        self.kappa = _at(_table(e, "Conductivity [S.m-1]", f"{where}.Electrolyte"), self.c_e0)
        self.d_e_ea = _optional(e, "Diffusivity activation energy [J.mol-1]",
                                f"{where}.Electrolyte", 0.0)
        self.kappa_ea = _optional(e, "Conductivity activation energy [J.mol-1]",
                                  f"{where}.Electrolyte", 0.0)
        self.sep_thickness = _number(s, "Thickness [m]", f"{where}.Separator")
        self.sep_porosity = _number(s, "Porosity", f"{where}.Separator")
        self.sep_efficiency = _number(s, "Transport efficiency", f"{where}.Separator")
        self.capacity_Ah = float(cell.capacity_Ah)
        # the stoichiometry of each electrode per unit SoC, and where the empty state is on
        # BPX's line (fitted to the characterization's OCV)
        self._fit_empty_state(cell)
        self._dt: float | None = None
        self._temp_K: float | None = None
        self.reset()
        self._fit_series_resistance(cell)

    # -- calibration ----------------------------------------------------------------------
    def _line(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stoichiometries at BPX's stoichiometric SoC ``x`` (0 at min/max, 1 at max/min)."""
        n, p = self.neg, self.pos
        return (n.theta_min + x * (n.theta_max - n.theta_min),
                p.theta_max - x * (p.theta_max - p.theta_min))

    def _fit_empty_state(self, cell: CellModel) -> None:
        """The empty state (SoC 0) on BPX's stoichiometry line whose OCV curve, with the
        reference capacity's slope, is closest to the characterization's at the reference
        temperature (SoC 0.05 … 0.95): a grid search and two refinements."""
        soc = np.linspace(0.05, 0.95, 91)
        target = cell.ocv(soc, self.t_ref_K - 273.15)
        qx = self.neg.charge_Ah(self.area_m2) * (self.neg.theta_max - self.neg.theta_min)
        slope = self.capacity_Ah / qx  # x per unit SoC

        def misfit(x0: np.ndarray) -> np.ndarray:
            tn, tp = self._line(x0[:, None] + slope * soc[None, :])
            return np.sqrt(np.mean((self.pos.ocp(tp) - self.neg.ocp(tn) - target) ** 2, axis=1))

        lo, hi = -0.5, 0.5
        for _ in range(3):
            grid = np.linspace(lo, hi, 201)
            best = float(grid[int(np.argmin(misfit(grid)))])
            width = (hi - lo) / 100.0
            lo, hi = best - width, best + width
        self.x_empty = best
        self.ocv_fit_rms_V = float(misfit(np.array([best]))[0])
        tn0, tp0 = self._line(np.array(best))
        self.theta_n0, self.theta_p0 = float(tn0), float(tp0)
        # the negative's and positive's stoichiometry per unit SoC, as the BPX line has them
        self.dn = slope * (self.neg.theta_max - self.neg.theta_min)
        self.dp = slope * (self.pos.theta_max - self.pos.theta_min)

    def _fit_series_resistance(self, cell: CellModel) -> None:
        """Per characterization temperature, the series resistance that makes the model's
        drop 10 ms into a 1C discharge step from rest at SoC 0.5 equal to R0."""
        out = []
        current = -self.capacity_Ah  # 1C discharge
        soc = np.array([0.5])
        for t_c, r0 in zip(cell.temperatures_degC.tolist(), cell.r0_ohm.tolist(), strict=True):
            kelvin = t_c + 273.15
            self.reset()
            rest = float(self.voltage(soc, np.array([kelvin]), 0.0, series_ohm=0.0)[0])
            for _ in range(10):
                self.advance(current, 0.001, kelvin)
            loaded = float(self.voltage(soc, np.array([kelvin]), current, series_ohm=0.0)[0])
            out.append(r0 - (rest - loaded) / -current)
        self.series_temps_degC = cell.temperatures_degC.copy()
        self.series_ohm = np.asarray(out)
        self.reset()

    def series_resistance(self, temperature_degC: Any) -> Any:
        return np.interp(temperature_degC, self.series_temps_degC, self.series_ohm)

    # -- the string's diffusion states ----------------------------------------------------
    def reset(self) -> None:
        """At rest: no gradient in the particles or the electrolyte."""
        self.x_n = np.zeros(MODES)
        self.x_p = np.zeros(MODES)
        self.c_e = np.zeros(sum(VOLUMES))  # deviation from c_e0
        self.flux_n = self.flux_p = 0.0

    def _build(self, dt: float, kelvin: float) -> None:
        """The step's decays at ``kelvin``: particle modes and the electrolyte's exact
        discrete-time system."""
        n, p = self.neg, self.pos
        dn = n.diffusivity_m2_s * float(_arrhenius(n.diffusivity_ea, kelvin, self.t_ref_K))
        dp = p.diffusivity_m2_s * float(_arrhenius(p.diffusivity_ea, kelvin, self.t_ref_K))
        self.decay_n = np.exp(-ROOTS ** 2 * dn / n.radius_m ** 2 * dt)
        self.decay_p = np.exp(-ROOTS ** 2 * dp / p.radius_m ** 2 * dt)
        self.gain_n = n.radius_m / dn
        self.gain_p = p.radius_m / dp
        weights = 2.0 / ROOTS ** 2
        self.weights = weights
        self.rest_weight = 0.2 - float(weights.sum())
        # electrolyte: ε h dc/dt = faces' D_eff (c_j − c_i)/Δx + h·source
        de = self.d_e * float(_arrhenius(self.d_e_ea, kelvin, self.t_ref_K))
        parts = ((n.thickness_m, n.porosity, n.transport_efficiency),
                 (self.sep_thickness, self.sep_porosity, self.sep_efficiency),
                 (p.thickness_m, p.porosity, p.transport_efficiency))
        h, eps, deff, src = [], [], [], []
        for (length, porosity, eff), count, sign in zip(parts, VOLUMES, (1.0, 0.0, -1.0),
                                                          strict=True):
            h += [length / count] * count
            eps += [porosity] * count
            deff += [de * eff] * count
            # (1 − t⁺) a j / F per unit discharge current: ± 1/(F A L) in the electrodes
            src += [sign * (1.0 - self.t_plus) / (F * self.area_m2 * length)] * count
        h_a, eps_a, d_a, s_a = map(np.asarray, (h, eps, deff, src))
        m = len(h_a)
        k = np.zeros((m, m))
        for i in range(m - 1):
            # harmonic mean of the two half-cells' conductances
            g = 1.0 / (0.5 * h_a[i] / d_a[i] + 0.5 * h_a[i + 1] / d_a[i + 1])
            k[i, i] -= g
            k[i + 1, i + 1] -= g
            k[i, i + 1] += g
            k[i + 1, i] += g
        mass = eps_a * h_a
        scale = 1.0 / np.sqrt(mass)
        sym = scale[:, None] * k * scale[None, :]
        lam, vec = np.linalg.eigh(sym)
        lam = np.minimum(lam, 0.0)
        ex = np.exp(lam * dt)
        integ = np.where(lam < -1e-300, (ex - 1.0) / np.where(lam < -1e-300, lam, 1.0), dt)
        left = scale[:, None] * vec
        right = vec.T * np.sqrt(mass)[None, :]
        self.e_phi = (left * ex[None, :]) @ right
        # source per unit discharge current, in concentration per second: h·s / (ε h)
        self.e_gamma = (left * integ[None, :]) @ (right @ (s_a / eps_a))
        self.e_neg = slice(0, VOLUMES[0])
        self.e_pos = slice(m - VOLUMES[2], m)
        kappa = self.kappa * float(_arrhenius(self.kappa_ea, kelvin, self.t_ref_K))
        self.r_electrolyte = (n.thickness_m / (3.0 * kappa * n.transport_efficiency)
                              + self.sep_thickness / (kappa * self.sep_efficiency)
                              + p.thickness_m / (3.0 * kappa * p.transport_efficiency)
                              ) / self.area_m2
        self.r_solid = (n.thickness_m / n.sigma_S_m + p.thickness_m / p.sigma_S_m) / (
            3.0 * self.area_m2)
        self._dt, self._temp_K = dt, kelvin

    def advance(self, current_A: float, dt: float, kelvin: float) -> None:
        """The string's diffusion states over a step of ``dt`` at the current (held over
        the step) and the string's mean temperature."""
        # (a step's dt carries the rounding of the clock's subtraction: rebuilt when it
        # changes by more than 0.1 %, or the temperature by more than 0.5 K)
        if (self._dt is None or abs(dt - self._dt) > 1e-3 * self._dt
                or self._temp_K is None or abs(self._temp_K - kelvin) > 0.5):
            self._build(dt, kelvin)
        discharge = -float(current_A)
        n, p = self.neg, self.pos
        # surface flux (mol m⁻² s⁻¹, out of the particle): j / F
        self.flux_n = discharge / (n.surface_area_m_1 * n.thickness_m * self.area_m2 * F)
        self.flux_p = -discharge / (p.surface_area_m_1 * p.thickness_m * self.area_m2 * F)
        self.x_n = self.decay_n * self.x_n + (1.0 - self.decay_n) * self.flux_n
        self.x_p = self.decay_p * self.x_p + (1.0 - self.decay_p) * self.flux_p
        self.c_e = self.e_phi @ self.c_e + self.e_gamma * discharge

    def surface_offsets(self) -> tuple[float, float]:
        """Surface minus mean stoichiometry of each electrode (negative, positive)."""
        n, p = self.neg, self.pos
        dn = -self.gain_n * (float(self.weights @ self.x_n) + self.rest_weight * self.flux_n)
        dp = -self.gain_p * (float(self.weights @ self.x_p) + self.rest_weight * self.flux_p)
        return dn / n.c_max, dp / p.c_max

    # -- per cell -------------------------------------------------------------------------
    def stoichiometries(self, soc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.theta_n0 + self.dn * soc, self.theta_p0 - self.dp * soc

    def ocv(self, soc: np.ndarray) -> np.ndarray:
        tn, tp = self.stoichiometries(np.asarray(soc, dtype=float))
        return self.pos.ocp(tp) - self.neg.ocp(tn)

    def cells(self, kelvin: np.ndarray, series_ohm: Any = None,
              dtype: Any = np.float64) -> CellFactors:
        """What a cell's voltage needs of its temperature (computed at a refresh), in
        ``dtype``."""
        kelvin = np.asarray(kelvin, dtype=float)
        if series_ohm is None:
            series_ohm = self.series_resistance(kelvin - 273.15)
        inv_k_n = 1.0 / (F * self.neg.k_norm * _arrhenius(self.neg.k_ea, kelvin, self.t_ref_K))
        inv_k_p = 1.0 / (F * self.pos.k_norm * _arrhenius(self.pos.k_ea, kelvin, self.t_ref_K))
        series = np.broadcast_to(np.asarray(series_ohm, dtype=float), kelvin.shape)
        return CellFactors(*(np.array(a, dtype=dtype) for a in (
            2.0 * R_GAS * kelvin / F, inv_k_n, inv_k_p, series)))

    def string_terms(self, current_A: float, kelvin: float | None = None) -> StringTerms:
        """What every cell's voltage shares after the last :meth:`advance`, under
        ``current_A`` (the system is built at ``kelvin`` if nothing was advanced yet)."""
        if self._dt is None:
            self._build(1.0, self.t_ref_K if kelvin is None else kelvin)
        n, p = self.neg, self.pos
        discharge = -float(current_A)
        shift_n, shift_p = self.surface_offsets()
        ce = np.maximum(self.c_e0 + self.c_e, 1e-3 * self.c_e0)
        ce_n = float(np.mean(ce[self.e_neg]))
        ce_p = float(np.mean(ce[self.e_pos]))
        # the reaction current density per unit scale, j = ∓ I / (a L A)
        j_n = discharge / (n.surface_area_m_1 * n.thickness_m * self.area_m2)
        j_p = -discharge / (p.surface_area_m_1 * p.thickness_m * self.area_m2)
        log_ratio = (float(np.mean(np.log(ce[self.e_pos])))
                     - float(np.mean(np.log(ce[self.e_neg]))))
        return StringTerms(
            discharge_A=discharge, shift_n=shift_n, shift_p=shift_p,
            drive_n=j_n / (2.0 * math.sqrt(ce_n / self.c_e0)),
            drive_p=j_p / (2.0 * math.sqrt(ce_p / self.c_e0)),
            concentration=(1.0 - self.t_plus) * log_ratio,
            ohmic_V=discharge * (self.r_electrolyte + self.r_solid))

    # -- the kernel: per cell, into arrays given (no allocation) ----------------------------
    @staticmethod
    def _asinh_term(theta: np.ndarray, scale: np.ndarray, inv_k: np.ndarray, drive: float,
                    out: np.ndarray, tmp: np.ndarray) -> None:
        """asinh(j / 2j₀) = asinh(drive × scale / (k √(θ(1 − θ)))) into ``out`` (which may
        be ``theta``)."""
        np.subtract(1.0, theta, out=tmp)
        tmp *= theta
        np.sqrt(tmp, out=tmp)
        np.multiply(inv_k, drive, out=out)
        out *= scale
        out /= tmp
        np.arcsinh(out, out=out)

    def cell_terms(self, socs: np.ndarray, scale: np.ndarray, cells: CellFactors,
                   terms: StringTerms, ocv: np.ndarray, rest: np.ndarray,
                   work: tuple[list[np.ndarray], np.ndarray],
                   slope: np.ndarray | None = None, scale_step: float = 0.01) -> None:
        """The voltage of each cell, in parts: at each row of ``socs`` (k × m, m cells), the
        OCV at its particles' surface into ``ocv`` (k × m); at the last row, the rest of the
        voltage (kinetics, electrolyte, ohmic drops) into ``rest`` (m) and, with ``slope``,
        the voltage's derivative in ``scale`` (the OCPs' by their table's step, the
        kinetics' over ``scale_step``) into it. ``scale`` per cell: the current per unit of
        active material (:meth:`voltage_of`)."""
        w, idx = work
        tn, ocp_n, step_n, tp, step_p, tmp, eta_p, scaled = w
        # the surface stoichiometries: the mean's, plus the particles' offset × scale
        np.multiply(scale, terms.shift_n, out=tmp[0])
        tmp[0] += self.theta_n0
        np.multiply(socs, self.dn, out=tn)
        tn += tmp[0]
        np.clip(tn, THETA_MIN, THETA_MAX, out=tn)
        np.multiply(scale, terms.shift_p, out=tmp[0])
        tmp[0] += self.theta_p0
        np.multiply(socs, -self.dp, out=tp)
        tp += tmp[0]
        np.clip(tp, THETA_MIN, THETA_MAX, out=tp)
        self.neg.ocp_into(tn, ocp_n, step_n, tmp, idx)
        self.pos.ocp_into(tp, ocv, step_p, tmp, idx)
        ocv -= ocp_n
        # the last row's kinetics: asinh(j / 2j₀) of each electrode
        tn, tp, step_n, step_p = tn[-1], tp[-1], step_n[-1], step_p[-1]
        eta_n, eta_p, tmp, scaled = ocp_n[-1], eta_p[-1], tmp[-1], scaled[-1]
        self._asinh_term(tn, scale, cells.inv_k_n, terms.drive_n, eta_n, tmp)
        self._asinh_term(tp, scale, cells.inv_k_p, terms.drive_p, eta_p, tmp)
        np.subtract(eta_p, eta_n, out=rest)
        rest += terms.concentration
        rest *= cells.two_rt_f
        rest -= terms.ohmic_V
        np.multiply(cells.series_ohm, terms.discharge_A, out=tmp)
        rest -= tmp
        if slope is None:
            return
        # the kinetics at scale + scale_step, the surface moved by shift × scale_step
        np.add(scale, scale_step, out=scaled)
        tn += terms.shift_n * scale_step
        np.clip(tn, THETA_MIN, THETA_MAX, out=tn)
        self._asinh_term(tn, scaled, cells.inv_k_n, terms.drive_n, tn, tmp)
        tp += terms.shift_p * scale_step
        np.clip(tp, THETA_MIN, THETA_MAX, out=tp)
        self._asinh_term(tp, scaled, cells.inv_k_p, terms.drive_p, tp, tmp)
        np.subtract(tp, tn, out=slope)
        slope -= eta_p
        slope += eta_n
        slope *= cells.two_rt_f
        slope *= 1.0 / scale_step
        # the OCPs' part: d OCP/dθ × the surface offset per unit scale
        np.multiply(step_p, (OCP_POINTS - 1) * terms.shift_p, out=tmp)
        slope += tmp
        np.multiply(step_n, (OCP_POINTS - 1) * terms.shift_n, out=tmp)
        slope -= tmp

    def voltage(self, soc: np.ndarray, kelvin: np.ndarray, current_A: float,
                series_ohm: Any = None) -> np.ndarray:
        """Terminal voltage of each cell at its SoC and temperature, after the last
        :meth:`advance` with ``current_A``."""
        return self.voltage_of(soc, self.cells(kelvin, series_ohm), current_A)

    def voltage_of(self, soc: np.ndarray, cells: CellFactors, current_A: float,
                   scale: Any = 1.0) -> np.ndarray:
        """:meth:`voltage` on factors from :meth:`cells`; ``scale`` (per cell) multiplies the
        current per unit of active material: 1/f for a cell that lost a fraction 1 − f of
        its active material with its lithium, as the vectors' aged cells (its capacity × f,
        the same stoichiometry window), whose particles' gradients and reaction currents
        are 1/f times the nominal cell's."""
        soc = np.array(soc, dtype=float, ndmin=1)
        m = soc.size
        scale = np.array(np.broadcast_to(np.asarray(scale, dtype=float), soc.shape))
        terms = self.string_terms(current_A, float(np.mean(cells.two_rt_f)) * F
                                  / (2.0 * R_GAS))
        ocv, rest = np.empty((1, m)), np.empty(m)
        self.cell_terms(soc[None, :], scale, cells, terms, ocv, rest, Work(1, m).of(1, m))
        rest += ocv[0]
        return rest

    def replay(self, current_A: np.ndarray, soc: np.ndarray, dt: float,
               temperature_degC: float) -> np.ndarray:
        """One cell at the given SoC of each sample (a truth's, say), its diffusion driven
        from rest by ``current_A`` (each sample's current held over the step after it): the
        voltage at each sample. What ``benchmarks/model_error.py`` compares with a vector."""
        kelvin = np.array([temperature_degC + 273.15])
        cells = self.cells(kelvin)
        self.reset()
        out = np.empty(len(current_A))
        previous = 0.0
        for i, current in enumerate(np.asarray(current_A, dtype=float).tolist()):
            if i:
                self.advance(previous, dt, float(kelvin[0]))
            out[i] = float(self.voltage_of(np.asarray(soc[i:i + 1], dtype=float), cells,
                                           current)[0])
            previous = current
        return out
