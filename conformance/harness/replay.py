"""Replaying a test vector into a state estimator: open loop, sample by sample.

A vector (:mod:`conformance.vectors`) records what simulated cells did; an estimator only
observes, so the bench plays the record to it instead of closing a loop. The module's pack
is the vector's cells repeated to the declared cell count (cell ``i`` of the pack is cell
``i mod n`` of the vector), each reading with errors of its own: the estimator runs at the
size it declares, on cells it is told about (the characterization, :func:`configuration`)
but that deviate from it.

Sensor errors follow the manifest's declared accuracies with the bench's conventions
(:mod:`conformance.bench.sensors`: at most 0.8 × the accuracy): per sample, uniform within
±0.8 × ``cell_voltage_accuracy_V`` on every cell voltage and ±0.8 ×
``cell_temperature_accuracy_K`` on every temperature sensor (sensor ``j`` on cell
``j × cells // sensors``); the current with a fixed gain error within ±0.8 ×
``current_gain_error``, a fixed offset within ±0.4 × ``current_offset_error_A`` (or the one
a test case sets: the long run with the declared offset, OBSA-SOC-007) and a per-sample part
within ±0.4 × the same. All drawn from the test case's seed. The readings (cell voltages,
temperatures, the SoC a SoH estimator is given) are sent as float32.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..bench.sensors import ERROR_SHARE
from ..vectors import Vector, VectorError
from .context import Harness

READINGS = ("cell_voltage_V", "cell_temperature_degC", "cell_soc")
"""The inputs a replay sends as float32 (:func:`replay`)."""


def _cell_files(vector: Vector) -> tuple[Path, Path]:
    """(characterization, BPX document) of the vector's nominal cell: ``<cell>.ecm.json``
    and ``<cell>.bpx.json`` beside the vector, whichever of the two the vector names."""
    name, folder = vector.info.characterization, vector.path.parent
    for suffix in (".bpx.json", ".ecm.json"):
        if name.endswith(suffix):
            cell = name[: -len(suffix)]
            return folder / f"{cell}.ecm.json", folder / f"{cell}.bpx.json"
    return folder / name, folder / f"{name}.bpx.json"


def _json(path: Path, what: str, vector: Vector) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VectorError(f"{path}: the {what} of vector {vector.info.id} cannot be read: "
                          f"{exc}") from None


def characterization(vector: Vector) -> dict[str, Any]:
    """The obsa-ecm/1 document of the vector's nominal cell (beside the vector; a BPX name
    ``<cell>.bpx.json`` stands for ``<cell>.ecm.json``)."""
    path = _cell_files(vector)[0]
    doc = _json(path, "characterization", vector)
    if not isinstance(doc, dict) or doc.get("format") != "obsa-ecm/1":
        raise VectorError(f"{path}: expected an obsa-ecm/1 document")
    return doc


def bpx_document(vector: Vector) -> dict[str, Any] | None:
    """The BPX document of the vector's nominal cell (``<cell>.bpx.json`` beside the
    vector, whether the vector names it or its ``.ecm.json``), None when there is none."""
    path = _cell_files(vector)[1]
    if not path.is_file():
        return None
    doc = _json(path, "BPX document", vector)
    if not isinstance(doc, dict) or not {"Header", "Parameterisation"} <= set(doc):
        raise VectorError(f"{path}: expected a BPX document (an object with 'Header' and "
                          "'Parameterisation')")
    return doc


def _field(doc: dict[str, Any], dotted: str, where: Path) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise VectorError(f"{where}: expected the field '{dotted}' of the characterization")
        value = value[part]
    return value


def configuration(h: Harness, component: str, vector: Vector,
                  **settings: Any) -> dict[str, Any]:
    """What ``component`` is configured with for ``vector``: its declared parameters, the
    simulated cell's values in place of those the spec names (``characterization.
    overrides``), the characterization itself, the same cell as a BPX document where the
    vector has one (:func:`bpx_document`), and ``settings`` (what the test case sets, e.g.
    ``initial_soc``)."""
    spec_char = h.spec.interfaces[component].characterization
    params = dict(h.params(component))
    if spec_char is not None:
        doc = characterization(vector)
        where = vector.path.parent / vector.info.characterization
        for name, dotted in spec_char.overrides.items():
            params[name] = float(_field(doc, dotted, where))
        params[spec_char.parameter] = doc
        bpx = bpx_document(vector)
        if bpx is not None:
            params[spec_char.bpx_parameter] = bpx
    params.update(settings)
    return params


@dataclass
class Replay:
    """What the estimator answered to a vector: its outputs per sample and the truth."""

    vector: Vector
    t_s: np.ndarray  # (n,) the samples replayed
    outputs: dict[str, np.ndarray]  # signal → (n,) or (n, cells)
    truth_soc: np.ndarray  # (n, cells) the pack's true cell SoC (the vector's, repeated)
    start: int  # index of the first replayed sample in the vector
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # what the estimator was given
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # the vector's sample each step was given (a sparse vector's sample held over steps)

    @property
    def on_sample(self) -> np.ndarray:
        """Per step: whether it is at the time of the sample it was given (not held)."""
        return np.asarray(np.abs(self.vector["t_s"][self.rows] - self.t_s) < 1e-9)

    @property
    def truth_pack_soc(self) -> np.ndarray:
        """The true SoC of the series string (OBSA-SOC-005's definition)."""
        lo, hi = self.truth_soc.min(axis=1), self.truth_soc.max(axis=1)
        return lo / (lo + 1.0 - hi)


def replay(h: Harness, vector: Vector, component: str, *, start_s: float = 0.0,
           stop_s: float | None = None, stale: tuple[float, float] | None = None,
           stale_current_A: float = 0.0, fault: tuple[float, float] | None = None,
           cell_soc: Callable[[np.ndarray, int], np.ndarray] | None = None,
           current_offset_A: float | None = None, **settings: Any) -> Replay:
    """Configure and reset ``component`` for ``vector`` (``settings`` on top, see
    :func:`configuration`), then step it at its step period with the samples from
    ``start_s`` to ``stop_s`` (default: the end), each input the component's interface names
    taken from the vector (:func:`inputs_of`). ``stale``: a window (start, end in s of the
    vector) during which the current measurement is not renewed: its age grows from the
    window's start and it reads ``stale_current_A``, the last value received. ``fault``: a
    window in which safety_state is fault (else normal). ``cell_soc``: the SoC input given
    instead of the truth, a function of the replayed rows and the declared cell count.
    ``current_offset_A``: the current sensor's offset, instead of one drawn (a test case
    that judges the offset itself)."""
    adapter = h.session.adapter
    h.session.vectors[vector.info.id] = vector.info.sha256
    adapter.configure(component, configuration(h, component, vector, **settings))
    adapter.reset(component)
    t_all = vector["t_s"]
    first = int(np.searchsorted(t_all, start_s - 1e-9))
    last = len(t_all) if stop_s is None else int(np.searchsorted(t_all, stop_s + 1e-9))
    t, rows = step_times(t_all[first:last], h.step_period(component), vector.info.dt_s)
    rows = rows + first
    source = inputs_of(h, vector, rows, stale=stale, stale_current_A=stale_current_A,
                       fault=fault, current_offset_A=current_offset_A)
    if cell_soc is not None:
        source["cell_soc"] = cell_soc(rows, source["cell_voltage_V"].shape[1])
    names = [p.signal for p in h.spec.interfaces[component].inputs]
    missing = [n for n in names if n not in source]
    if missing:
        raise NotImplementedError(f"a vector replay provides no {', '.join(missing)} "
                                  f"(inputs of {component})")
    # the readings as float32, as the vectors hold them (4 V to a quarter of a microvolt,
    # far below a sensor's error): fewer digits to encode and send (a 96-cell SoH step's
    # request 4.8 → 2.9 kB)
    sent = {n: source[n].astype(np.float32) if source[n].dtype == np.float64 and
            n in READINGS else source[n] for n in names}
    # open loop: no input depends on an output, so many steps can travel in one message
    # every step's outputs checked against the outputs schema, as columns
    outputs = adapter.step_outputs(component, t, sent)
    cells = source["cell_soc"].shape[1]
    columns = np.arange(cells) % vector.info.n_cells
    return Replay(vector=vector, t_s=np.asarray(t, dtype=float), outputs=outputs,
                  truth_soc=vector["cell_soc"][rows][:, columns].astype(float), start=first,
                  inputs={n: np.asarray(sent[n]) for n in names}, rows=rows)


def step_times(t: np.ndarray, period_s: float, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The times a component with step period ``period_s`` is stepped at over samples ``t``
    (``dt_s`` apart), and the sample each step is given (its index in ``t``). Samples as
    dense as the period or denser: every n-th sample, n = period / dt (a step per period).
    Sparser samples (a 1 s vector for a 0.1 s estimator): a step every period from the
    first sample, each given the last sample at or before it — the sample held, as a
    sensor read between two updates gives its last value — so that the component is stepped
    at its own period whatever the vector (the contract's time rule)."""
    if len(t) == 0:
        return np.asarray(t, dtype=float), np.zeros(0, dtype=np.int64)
    if dt_s <= period_s * (1.0 + 1e-9):
        rows = np.arange(0, len(t), max(1, round(period_s / dt_s)))
        return np.asarray(t[rows], dtype=float), rows
    steps = int(np.floor((float(t[-1]) - float(t[0])) / period_s + 1e-6)) + 1
    times = float(t[0]) + np.arange(steps) * period_s
    rows = np.searchsorted(t, times + 1e-6 * period_s, side="right") - 1
    return times, rows.astype(np.int64)


#: the current limits a replay hands a state-of-power estimator, in C of the simulated cell
#: (as the safety supervisor of a pack would grant at its maximum operating limits)
CHARGE_LIMIT_C, DISCHARGE_LIMIT_C = 1.0, 2.0


def inputs_of(h: Harness, vector: Vector, rows: np.ndarray, *,
              stale: tuple[float, float] | None = None, stale_current_A: float = 0.0,
              fault: tuple[float, float] | None = None,
              current_offset_A: float | None = None) -> dict[str, np.ndarray]:
    """Every input a state estimator may take, per replayed sample (``rows`` of the vector),
    for the declared pack: the readings with the declared sensor errors (module docstring);
    ``pack_voltage_V`` the sum of the true cell voltages with the current sensor's voltage
    accuracy; ``cell_soc`` the truth (what a perfect SoC estimator would give);
    ``cell_resistance_ohm`` the true cells' ohmic resistance (the vector's, at its
    temperature: what a perfect SoH estimator would give, so that ageing reaches a
    state-of-power estimator); current limits of :data:`CHARGE_LIMIT_C` and
    :data:`DISCHARGE_LIMIT_C`; ``safety_state`` normal, or fault inside ``fault``;
    ``current_offset_A`` the current's offset instead of the drawn one."""
    dims = h.session.dimensions
    cells, sensors = int(dims["cell"]), int(dims["temperature_sensor"])
    source = np.arange(cells) % vector.info.n_cells
    sensor_cell = source[(np.arange(sensors) * cells) // max(1, sensors)]
    cm = h.params("cell_monitor")
    cs = h.params("current_sensor")
    rng = np.random.default_rng([h.seed, 0x5EC7])
    v_err = ERROR_SHARE * float(cm["cell_voltage_accuracy_V"])
    t_err = ERROR_SHARE * float(cm["cell_temperature_accuracy_K"])
    hv_err = ERROR_SHARE * float(cs["voltage_accuracy_V"])
    gain = 1.0 + ERROR_SHARE * float(cs["current_gain_error"]) * rng.uniform(-1, 1)
    offset_A = float(cs["current_offset_error_A"])
    offset = 0.5 * ERROR_SHARE * offset_A * rng.uniform(-1, 1)
    if current_offset_A is not None:
        offset = float(current_offset_A)
    from ..report.replays import record_sensor_errors  # shown in the report per vector

    record_sensor_errors(h, vector.info.id, current_gain_error=gain - 1.0,
                         current_offset_A=offset, current_noise_A=0.5 * ERROR_SHARE * offset_A,
                         cell_voltage_noise_V=v_err, cell_temperature_noise_K=t_err,
                         pack_voltage_noise_V=hv_err)
    n = len(rows)
    t = vector["t_s"][rows]
    true_v = vector["cell_voltage_V"][rows][:, source].astype(float)
    v = true_v + rng.uniform(-v_err, v_err, true_v.shape)
    temp = vector["cell_temperature_degC"][rows][:, sensor_cell].astype(float)
    temp += rng.uniform(-t_err, t_err, temp.shape)
    current = (vector["current_A"][rows].astype(float) * gain + offset
               + rng.uniform(-0.5 * ERROR_SHARE * offset_A, 0.5 * ERROR_SHARE * offset_A, n))
    age = np.zeros(n)
    if stale is not None:
        inside = (t >= stale[0]) & (t < stale[1])
        current = np.where(inside, stale_current_A, current)
        age = np.where(inside, t - stale[0], 0.0)
    capacity = float(characterization(vector)["reference_capacity_Ah"])
    normal = h.enum("safety_state", "normal")
    faulted = h.enum("safety_state", "fault")
    state = np.full(n, normal, dtype=np.int64)
    if fault is not None:
        state = np.where((t >= fault[0]) & (t < fault[1]), faulted, normal)
    return {
        "cell_voltage_V": v, "cell_voltage_valid": np.ones((n, cells), dtype=bool),
        "cell_temperature_degC": temp, "pack_current_A": current,
        "current_sensor_age_s": age,
        "pack_voltage_V": true_v.sum(axis=1) + rng.uniform(-hv_err, hv_err, n),
        "cell_soc": vector["cell_soc"][rows][:, source].astype(float),
        "cell_resistance_ohm": np.tile(vector["cell_resistance_ohm"][source].astype(float),
                                       (n, 1)),
        "charge_current_limit_A": np.full(n, CHARGE_LIMIT_C * capacity),
        "discharge_current_limit_A": np.full(n, DISCHARGE_LIMIT_C * capacity),
        "safety_state": state,
    }


def judge_replay(h: Harness, requirement: str, measured: dict[str, float | None],
                 r: Replay, message: str, events: dict[str, float] | None = None,
                 max_points: int = 600) -> Any:
    """Judge ``requirement`` on what replay ``r`` measured, with its estimate against the
    truth as the evidence: the lowest and highest cell_soc estimate and truth, pack_soc and
    its truth, and the largest cell error, downsampled to ``max_points``."""
    from ..report.model import Channel, Evidence

    stride = max(1, -(-len(r.t_s) // max_points))
    channels: list[tuple[str, str, np.ndarray]] = []
    if "cell_soc" in r.outputs:
        est = r.outputs["cell_soc"]
        err = np.max(np.abs(est - r.truth_soc), axis=1)
        channels += [("cell_soc_min", "1", est.min(axis=1)),
                     ("cell_soc_max", "1", est.max(axis=1)),
                     ("true_cell_soc_min", "1", r.truth_soc.min(axis=1)),
                     ("true_cell_soc_max", "1", r.truth_soc.max(axis=1)),
                     ("cell_soc_error_max", "1", err)]
        if "pack_soc" in r.outputs:
            channels += [("pack_soc", "1", r.outputs["pack_soc"]),
                         ("true_pack_soc", "1", r.truth_pack_soc)]
    for name, values in r.outputs.items():
        if name in ("cell_soc", "pack_soc"):
            continue
        unit = h.spec.signals[name].unit if name in h.spec.signals else "1"
        if values.ndim == 1:
            channels.append((name, unit, values))
        else:
            channels += [(f"{name}_min", unit, values.min(axis=1)),
                         (f"{name}_max", unit, values.max(axis=1))]
    evidence = Evidence(
        message=f"vector {r.vector.info.id}: {message}",
        t_s=[float(x) for x in r.t_s[::stride]],
        channels=[Channel(name=n, unit=u, values=[float(x) for x in vals[::stride]])
                  for n, u, vals in channels],
        events=dict(events or {}))
    from ..report.replays import on_vector

    result = h.judge(requirement, measured, evidence=evidence,
                     simulated_s=float(r.t_s[-1] - r.t_s[0]))
    on_vector(h, r.vector.info.id, [result])
    return result
