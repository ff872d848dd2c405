"""Always-on monitors: the invariants of the safety core (and of the other components below),
checked on every step of every closed loop a test case runs — not only in the test case that
targets them.

A test case drives one situation and measures one requirement; a defect that shows only in
another situation (a latch that clears itself after ten seconds, a close command honoured
during precharge despite an open request, a counter that wraps) escapes it. The monitors
read the trace of every loop when the test case ends and turn each violated invariant
into a failed result of the requirement it belongs to, under that test case, with the
time and the values as evidence; the message starts with "always-on monitor".

Fairness, by construction:

* an invariant of a component is checked only in loops that ran that component (a test
  case that runs the fault memory alone and writes the flags itself says nothing about
  the supervisor), and only when its requirement applies to the module;
* a component's inputs are judged as that component saw them: an input produced by a
  component later in the profile's order is its value from the previous step;
* every limit, bit, enum value and time window comes from the spec or the manifest through
  the harness, and every threshold is widened by the tolerance the spec allows for it;
* a measurement a module may distrust (a cell or sensor reported invalid) suspends the
  invariants that depend on it;
* a check that needs a signal the loop's transport cannot show (a block on a CAN node
  whose output no frame carries: :attr:`ClosedLoop.hidden`) is skipped — a monitor only
  ever adds failures, and none for what the bench cannot see.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..report.model import FLOAT_SLACK, TestResult
from ..spec.conditions import evaluate
from .loop import ClosedLoop, NotObservable, TraceChannel

if TYPE_CHECKING:
    from ..spec import Spec
    from .context import Harness

SUP, CM, DIAG = "safety_supervisor", "contactor_manager", "diagnostics"
LOG = "data_logger"
CHG = "charge_control"
CHARGE_REQUESTS = ("charge_voltage_request_V", "charge_current_request_A")
TM = "thermal_manager"
THERMAL_REQUESTS = ("cooling_request", "heating_request")
BAL = "balancing"
CLOSE_CMDS = ("main_positive_close_cmd", "main_negative_close_cmd", "precharge_close_cmd")
_EPS = 1e-9

#: every requirement an always-on monitor checks (a test case that runs scenarios with the
#: monitors as oracle names these)
MONITORED: tuple[str, ...] = (
    "OBSA-SAFE-010", "OBSA-SAFE-011", "OBSA-SAFE-013", "OBSA-SAFE-014", "OBSA-SAFE-016",
    "OBSA-SAFE-017", "OBSA-SAFE-029",
    "OBSA-CONT-001", "OBSA-CONT-003", "OBSA-CONT-005", "OBSA-CONT-006", "OBSA-CONT-010",
    "OBSA-CONT-011",
    "OBSA-DIAG-001", "OBSA-DIAG-002", "OBSA-DIAG-003", "OBSA-DIAG-004",
)
#: monitored too, in every loop that runs the charge control (the random scenarios do not)
MONITORED_CHARGING: tuple[str, ...] = ("OBSA-CHG-001", "OBSA-CHG-003")
#: monitored too, in every loop that runs the thermal manager (the random scenarios do not)
MONITORED_THERMAL: tuple[str, ...] = ("OBSA-THERM-005",)
#: monitored too, in every loop that runs the data logger (the random scenarios do not)
MONITORED_LIFETIME: tuple[str, ...] = ("OBSA-REG-014",)
#: monitored too, in every loop that runs the balancing
MONITORED_BALANCING: tuple[str, ...] = ("OBSA-BAL-006", "OBSA-BAL-007")
#: monitored too, in every loop that runs the telemetry
MONITORED_TELEMETRY: tuple[str, ...] = ("OBSA-CONN-003", "OBSA-CONN-004", "OBSA-CONN-006")
TEL = "telemetry"
#: what the telemetry monitors record, as (channel, signal)
TELEMETRY_CHANNELS = (("telemetry:published", "telemetry_record_published"),
                      ("telemetry:time_s", "telemetry_record_time_s"),
                      ("telemetry:backlog", "telemetry_backlog_records"),
                      ("telemetry:uplink", "uplink_connected"))

#: the supervisor's limit faults: fault code → (limit-set quantity, trace channel of the
#: quantity, the MSL requirement whose threshold tolerance applies); the limit set names
#: the levels, the hysteresis and the fault delay
LIMIT_FAULTS: dict[str, tuple[str, str, str]] = {
    "cell_overvoltage": ("cell_voltage_max", "cell_voltage_max_V", "OBSA-SAFE-001"),
    "cell_undervoltage": ("cell_voltage_min", "cell_voltage_min_V", "OBSA-SAFE-002"),
    "charge_overcurrent": ("charge_current_max", "charge_current", "OBSA-SAFE-003"),
    "discharge_overcurrent": ("discharge_current_max", "discharge_current", "OBSA-SAFE-004"),
    "charge_overtemperature": ("charge_temperature_max", "cell_temperature_max_degC",
                               "OBSA-SAFE-005"),
    "charge_undertemperature": ("charge_temperature_min", "cell_temperature_min_degC",
                                "OBSA-SAFE-006"),
    "discharge_overtemperature": ("discharge_temperature_max", "cell_temperature_max_degC",
                                  "OBSA-SAFE-007"),
    "discharge_undertemperature": ("discharge_temperature_min", "cell_temperature_min_degC",
                                   "OBSA-SAFE-008"),
}

#: derating invariants: requirement → (RSL parameter, quantity channel, upper?, limited
#: current limit channel, MOL current parameter)
DERATINGS: dict[str, tuple[str, str, bool, str, str]] = {
    "OBSA-SAFE-010": ("cell_voltage_max_rsl_V", "cell_voltage_max_V", True,
                      "charge_current_limit_A", "charge_current_max_mol_A"),
    "OBSA-SAFE-011": ("cell_voltage_min_rsl_V", "cell_voltage_min_V", False,
                      "discharge_current_limit_A", "discharge_current_max_mol_A"),
    "OBSA-SAFE-029": ("charge_current_max_rsl_A", "charge_current", True,
                      "charge_current_limit_A", "charge_current_max_mol_A"),
}


@dataclass(frozen=True)
class Violation:
    """The first step at which an invariant did not hold, in one loop."""

    requirement: str
    t_s: float
    what: str  # the invariant, in words
    seen: str  # the values at that step
    steps: int  # steps in violation in this loop

    def message(self) -> str:
        return (f"always-on monitor: {self.what} — at t = {self.t_s:.3f} s {self.seen} "
                f"({self.steps} step{'s' if self.steps != 1 else ''} in violation)")


# ----------------------------------------------------------------------------- recording
class Watch:
    """What the monitors need recorded from one loop beyond the standard channels: the
    operator commands, and (when the fault memory runs) its arrays and the flags it reads."""

    def __init__(self, spec: Spec, components: list[str],
                 every: dict[str, int] | None = None) -> None:
        self.components = list(components)
        #: component → every how many loop steps it is stepped (its period; default 1)
        self.every = dict(every or {})
        self.flags_signals: list[str] = []
        self.rows: list[tuple[str, int]] = []  # per DTC row: (flags signal, bit mask)
        #: the fault memory's arrays, when it runs (see :attr:`dtc`)
        self.dtc_names: tuple[str, ...] = ()
        self._memory: list[tuple[np.ndarray, ...]] = []  # per step: a row of each array
        self._flag_rows: list[tuple[Any, ...]] = []  # per step: the flags it read
        self._last: dict[str, tuple[Any, np.ndarray]] = {}  # see _record_dtc
        self._total: tuple[Any, float] = (None, 0.0)  # the last occurrences row and its sum
        #: the data logger's lifetime counters (every output but the dates), when it runs
        self.counters = ([p.signal for p in spec.interfaces[LOG].outputs
                          if not p.signal.endswith("_date_s")]
                         if LOG in self.components and LOG in spec.interfaces else [])
        if DIAG in self.components:
            read = {p.signal for p in spec.interfaces[DIAG].inputs}
            signal_of = {}
            for comp, itf in spec.interfaces.items():
                produced = [p.signal for p in itf.outputs if p.signal in read
                            and p.signal.endswith("_fault_flags")]
                if produced:
                    signal_of[comp] = produced[0]
            self.rows = [(signal_of.get(comp, ""), 1 << fc.bit) for comp, fc in spec.dtc_table]
            self.flags_signals = sorted(set(signal_of.values()))
            self.dtc_names = ("dtc_status", "dtc_occurrences", "dtc_first_time_s",
                              "dtc_last_time_s")
        #: the fault memory's arrays, and the flags it reads, of the pool in one call each
        self._get_dtc = _getter(self.dtc_names)
        self._get_flags = _getter(tuple(self.flags_signals))
        #: when every array recorded last was a list or a tuple: (those arrays, what each is
        #: compared with — a list's copy, a tuple itself —, their recorded rows)
        self._same: tuple[tuple[Any, ...], tuple[Any, ...], tuple[np.ndarray, ...]] | None = None
        self._all_lists = (list,) * len(self.dtc_names)  # the types of arrays all lists

    def channels(self) -> list[TraceChannel]:
        chans = [TraceChannel("close_request", "1", "close_request"),
                 TraceChannel("fault_reset_request", "1", "fault_reset_request")]
        if self.dtc_names:
            chans.append(TraceChannel("dtc_occurrences_total", "1", read=self._record_dtc))
        chans += [TraceChannel(f"counter:{name}", "1", name) for name in self.counters]
        if CHG in self.components:
            chans += [TraceChannel(name, "V" if name.endswith("_V") else "A", name)
                      for name in (*CHARGE_REQUESTS, "sop_charge_current_limit_A")]
        if TM in self.components:
            chans += [TraceChannel(name, "1", name) for name in THERMAL_REQUESTS]
        if TEL in self.components:
            chans += [TraceChannel(name, "1", signal) for name, signal in TELEMETRY_CHANNELS]
        if BAL in self.components:
            chans += [TraceChannel("balancing_cmd_count", "1", read=_commanded),
                      TraceChannel("balancing_invalid_commanded", "1",
                                   read=_invalid_commanded(self.every.get(BAL, 1)))]
        return chans

    @property
    def dtc(self) -> dict[str, list[np.ndarray]]:
        """The fault memory's arrays as recorded: name → one read-only float row per step
        (empty when the fault memory does not run)."""
        return {name: [rows[i] for rows in self._memory]
                for i, name in enumerate(self.dtc_names)}

    @property
    def flags(self) -> dict[str, list[int]]:
        """The fault flags the fault memory read: signal → its value per step."""
        return {name: [int(row[i]) for row in self._flag_rows]
                for i, name in enumerate(self.flags_signals)}

    def _record_dtc(self, pool: dict[str, Any]) -> float:
        """Keep a copy of the fault memory's arrays and of the flags it read; the channel
        itself is the sum of the occurrence counters. The memory changes rarely: the very
        tuple recorded last, or a list equal to the last one, shares its (read-only) copy.
        When every array is a list or tuple, a step whose arrays are the very objects of
        the last step (or all lists), each equal to what was recorded last (a tuple is the
        very one), records the same rows again after one comparison."""
        self._flag_rows.append(self._get_flags(pool))
        arrays = self._get_dtc(pool)
        same = self._same
        if same is not None and (all(map(operator.is_, arrays, same[0]))
                                 or tuple(map(type, arrays)) == self._all_lists) \
                and arrays == same[1]:
            self._memory.append(same[2])
            return self._total[1]
        last = self._last
        rows = []
        for name, value in zip(self.dtc_names, arrays, strict=True):
            seen = last.get(name)
            if seen is not None and (value is seen[0] if type(value) is tuple
                                     else type(value) is list and value == seen[0]):
                rows.append(seen[1])
                continue
            row = np.array(value, dtype=float)
            row.flags.writeable = False
            rows.append(row)
            if type(value) is list:
                last[name] = (list(value), row)
            elif type(value) is tuple:
                last[name] = (value, row)
        memory = tuple(rows)
        self._memory.append(memory)
        # (each of the arrays recorded as ``last`` holds it: a list's copy, a tuple itself)
        self._same = ((arrays, tuple(last[n][0] for n in self.dtc_names), memory)
                      if all(type(v) is list or type(v) is tuple for v in arrays) else None)
        occurrences = memory[1]
        if occurrences is not self._total[0]:
            self._total = (occurrences, float(occurrences.sum()))
        return self._total[1]


def _getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function of the pool that returns the values of ``names``, as a tuple."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    if names:
        name = names[0]
        return lambda pool: (pool[name],)
    return lambda pool: ()


def _commanded(pool: dict[str, Any]) -> float:
    """How many cells the balancing commands."""
    return float(np.count_nonzero(np.asarray(pool["balancing_cmd"], dtype=bool)))


def _invalid_commanded(every: int = 1) -> Callable[[dict[str, Any]], float]:
    """How many cells the balancing commands whose voltage read invalid at its last step
    and at its step before (after one step, OBSA-BAL-007); it steps every ``every`` loop
    steps, from the first."""
    held: list[np.ndarray] = []  # the cells invalid at its last two steps
    before: list[np.ndarray] = []  # those invalid at its last step
    calls = [0]

    def read(pool: dict[str, Any]) -> float:
        if calls[0] % every == 0:  # the balancing stepped in this step: what it read
            v = np.asarray(pool["cell_voltage_V"], dtype=float)
            invalid = ~(np.asarray(pool["cell_voltage_valid"], dtype=bool) & np.isfinite(v))
            held[:] = [invalid & before[0] if before and before[0].shape == invalid.shape
                       else invalid]
            before[:] = [invalid]
        calls[0] += 1
        if not held[0].any():
            return 0.0
        cmd = np.asarray(pool["balancing_cmd"], dtype=bool)
        return float(np.count_nonzero(cmd & held[0])) if cmd.shape == held[0].shape else 0.0

    return read


# ----------------------------------------------------------------------------- the trace
class _Trace:
    """One loop's recorded trace, with each signal as the component judged saw it."""

    def __init__(self, h: Harness, loop: ClosedLoop, watch: Watch) -> None:
        self.h = h
        self.loop = loop
        self.watch = watch
        self.t = np.asarray(loop.t_s, dtype=float)
        self.dt = float(loop.bench.config.dt_s)
        self.order = {c: i for i, c in enumerate(loop.components)}
        self.producer = {p.signal: c for c in loop.components
                         for p in h.spec.interfaces[c].outputs}
        self._cache: dict[str, np.ndarray] = {}

    def raw(self, name: str) -> np.ndarray:
        if name not in self._cache:
            if name == "charge_current":
                self._cache[name] = np.maximum(self.raw("pack_current_A"), 0.0)
            elif name == "discharge_current":
                self._cache[name] = np.maximum(-self.raw("pack_current_A"), 0.0)
            else:
                self._cache[name] = self.loop.channel(name)
        return self._cache[name]

    def observable(self, name: str) -> bool:
        """Whether channel ``name`` shows the module's value (see ClosedLoop.readable)."""
        readable = getattr(self.loop, "readable", None)
        return readable is None or bool(readable(name))

    def delayed(self, consumer: str, signal: str) -> bool:
        """True when ``consumer`` reads ``signal`` from the previous step (its producer
        steps later in the profile's order)."""
        p = self.producer.get(signal)
        return p is not None and self.order.get(p, -1) > self.order.get(consumer, -1)

    def seen(self, consumer: str, name: str) -> np.ndarray:
        """A channel as ``consumer`` saw it at each step: at its own last step (it steps
        every ``every`` loop steps, from the first), from the step before where its
        producer steps later in the order."""
        x = self.raw(name)
        if not len(x):
            return x
        if self.delayed(consumer, name):
            x = np.concatenate(([0.0], x[:-1]))  # before the first step: the default, 0
        n = self.every(consumer)
        return x if n == 1 else x[(np.arange(len(x)) // n) * n]

    def every(self, component: str) -> int:
        """Every how many loop steps ``component`` is stepped."""
        return int(getattr(self.loop, "every", {}).get(component, 1))

    def bits(self, name: str, mask: int, consumer: str | None = None) -> np.ndarray:
        x = self.raw(name) if consumer is None else self.seen(consumer, name)
        return (x.astype(np.int64) & mask) != 0

    def window(self, seconds: float) -> int:
        """Whole steps in ``seconds`` (at least one)."""
        return max(1, math.ceil(seconds / self.dt - _EPS))

    def recent(self, mask: np.ndarray, seconds: float) -> np.ndarray:
        """True at each step where ``mask`` held at that step or within ``seconds`` before."""
        n = self.window(seconds)
        c = np.concatenate(([0], np.cumsum(mask.astype(np.int64))))
        idx = np.arange(len(mask))
        return (c[idx + 1] - c[np.maximum(idx + 1 - (n + 1), 0)]) > 0

    def since(self, mask: np.ndarray) -> np.ndarray:
        """Time since the start of the uninterrupted run of ``mask`` at each step (−1 where
        ``mask`` does not hold)."""
        n = len(mask)
        if not n:
            return np.zeros(0)
        start = np.maximum.accumulate(np.where(_rising(mask), np.arange(n), 0))
        return np.where(mask, self.t[:n] - self.t[:n][start], -1.0)

    def first(self, rid: str, bad: np.ndarray, what: str,
              seen: Callable[[int], str]) -> Violation | None:
        idx = np.flatnonzero(bad)
        if not len(idx):
            return None
        k = int(idx[0])
        return Violation(rid, float(self.t[k]), what, seen(k), len(idx))


def _falling(x: np.ndarray) -> np.ndarray:
    prev = np.concatenate(([False], x[:-1]))
    return prev & ~x


def _rising(x: np.ndarray) -> np.ndarray:
    prev = np.concatenate(([False], x[:-1]))
    return x & ~prev


def _mask(h: Harness, component: str, *severities: str) -> int:
    mask = 0
    for fc in h.spec.interfaces[component].fault_codes:
        if fc.severity in severities:
            mask |= 1 << fc.bit
    return mask


def _criterion(h: Harness, rid: str, name: str) -> float:
    """The fixed limit of a criterion of the spec (the windows the monitors allow)."""
    for c in h.spec.requirements[rid].acceptance:
        if c.name == name:
            return float(c.value or 0.0)
    raise KeyError(f"{rid} has no criterion '{name}'")


def _reset_window(h: Harness) -> float:
    """How long after a fault_reset_request its effect may show: OBSA-SAFE-015's bound."""
    return _criterion(h, "OBSA-SAFE-015", "reset_time_s")


def _open_window(h: Harness) -> float:
    """How long close commands may stay after the path must open: OBSA-CONT-006's bound."""
    return _criterion(h, "OBSA-CONT-006", "open_time_s")


def _hex(x: float) -> str:
    return f"{int(x):#06x}"


# ----------------------------------------------------------------------------- supervisor
def _open_on_fault(h: Harness, tr: _Trace) -> list[Violation | None]:
    """OBSA-SAFE-016; where contactor_open_request cannot be seen, its current-limit half."""
    flags = tr.raw("safety_fault_flags")
    latching = _mask(h, SUP, "fault", "lockout")
    faulted = (flags.astype(np.int64) & latching) != 0
    shown = tr.observable("contactor_open_request")
    opened = (tr.raw("contactor_open_request") > 0.5 if shown
              else np.ones(len(flags), dtype=bool))
    charge, discharge = tr.raw("charge_current_limit_A"), tr.raw("discharge_current_limit_A")
    limit = np.maximum(charge, discharge)
    what = ("a latched fault must raise contactor_open_request and zero both current limits"
            if shown else "a latched fault must zero both current limits (contactor_open_"
            "request not observable: " + tr.loop.hidden["contactor_open_request"] + ")")
    return [tr.first(
        "OBSA-SAFE-016", faulted & (~opened | (limit > FLOAT_SLACK)), what,
        lambda k: f"safety_fault_flags = {_hex(flags[k])}, "
                  + (f"contactor_open_request = {int(opened[k])}, " if shown else "")
                  + f"charge/discharge limit = {charge[k]:g} / {discharge[k]:g} A")]


def _supervisor(h: Harness, tr: _Trace) -> list[Violation | None]:
    out: list[Violation | None] = []
    flags = tr.raw("safety_fault_flags")
    lockout = _mask(h, SUP, "lockout")
    locked = tr.bits("safety_fault_flags", lockout)
    out.append(tr.first(
        "OBSA-SAFE-017", _falling(locked), "a lockout must never clear",
        lambda k: f"the lockout bit fell (safety_fault_flags {_hex(flags[k - 1])} → "
                  f"{_hex(flags[k])})"))
    reset = tr.recent(tr.seen(SUP, "fault_reset_request") > 0.5, _reset_window(h))
    fault_only = _mask(h, SUP, "fault")
    fell = np.zeros(len(flags), dtype=bool)
    for fc in h.spec.interfaces[SUP].fault_codes:
        if (1 << fc.bit) & fault_only:
            fell |= _falling(tr.bits("safety_fault_flags", 1 << fc.bit))
    out.append(tr.first(
        "OBSA-SAFE-013", fell & ~reset,
        "a latched fault must stay latched until a fault_reset_request",
        lambda k: f"safety_fault_flags {_hex(flags[k - 1])} → {_hex(flags[k])} with no "
                  f"reset request in the {_reset_window(h):g} s before"))
    out.append(_reset_while_present(h, tr, reset))
    for rid in DERATINGS:
        out.append(_derating(h, tr, rid))
    return out


def _valid(tr: _Trace, channel: str) -> np.ndarray:
    """Steps at which every measurement behind ``channel`` was reported valid."""
    if channel.startswith("cell_voltage"):
        return tr.raw("cell_voltage_invalid_count") < 0.5
    if channel.startswith("cell_temperature"):
        return tr.raw("cell_temperature_invalid_count") < 0.5
    return np.ones(len(tr.t), dtype=bool)


def _fresh(h: Harness, tr: _Trace, channel: str) -> np.ndarray:
    """Steps at which the current sensor was not lost (its age within the declared timeout),
    for the current faults. (The cell monitor's last sample stays a measurement of its own
    cells: its loss is the cell_monitor_timeout fault, which no reset clears meanwhile.)"""
    if channel.startswith("cell_") or not tr.observable("current_sensor_age_s"):
        # (a sensor age the transport cannot show: the benefit of the doubt)
        return np.ones(len(tr.t), dtype=bool)
    timeout = float(h.param(SUP, "current_sensor_timeout_s"))
    return tr.raw("current_sensor_age_s") <= timeout + _EPS


def _reset_while_present(h: Harness, tr: _Trace, reset: np.ndarray) -> Violation | None:
    """OBSA-SAFE-014: a limit fault cleared by a reset while its quantity, as the module saw
    it, was not back inside the MSL by the hysteresis (less the MSL's tolerance) or could not
    be judged (a cell or sensor reported invalid, a reading that is not a number, a lost
    sensor). A charge-temperature fault's condition is its temperature, whatever the
    current."""
    p = h.params(SUP)
    sets = {ls.quantity: ls for ls in h.spec.interfaces[SUP].limit_sets}
    bad = np.zeros(len(tr.t), dtype=bool)
    detail: dict[int, str] = {}
    for fault, (quantity, channel, msl_rid) in LIMIT_FAULTS.items():
        ls = sets[quantity]
        msl, hyst = float(p[ls.levels.msl]), float(p[ls.hysteresis])
        tol = float(h.spec.requirements[msl_rid].acceptance[0].value or 0.0)
        q = tr.raw("pack_current_A") if channel.endswith("_current") else tr.raw(channel)
        value = tr.raw(channel)
        healed = value <= msl - hyst + tol if ls.direction == "upper" else value >= msl + hyst - tol
        healed &= _valid(tr, channel) & _fresh(h, tr, channel) & ~np.isnan(q)
        hit = _falling(tr.bits("safety_fault_flags", h.bit(SUP, fault))) & reset & ~healed
        for k in np.flatnonzero(hit)[:1]:
            detail.setdefault(int(k), f"{fault} cleared while {channel} = {value[k]:g} (MSL "
                                      f"{msl:g}, hysteresis {hyst:g}, tolerance {tol:g}; "
                                      f"{'valid' if _valid(tr, channel)[k] else 'INVALID'} "
                                      f"and {'fresh' if _fresh(h, tr, channel)[k] else 'LOST'}"
                                      " measurement)")
        bad |= hit
    return tr.first("OBSA-SAFE-014", bad,
                    "a reset must not clear a fault whose condition has not cleared by the "
                    "hysteresis or cannot be judged", lambda k: detail.get(k, ""))


def _derating(h: Harness, tr: _Trace, rid: str) -> Violation | None:
    rsl_param, channel, upper, limit_channel, mol_param = DERATINGS[rid]
    rsl = float(h.param(SUP, rsl_param))
    cap = float(h.param(SUP, "derating_factor")) * float(h.param(SUP, mol_param))
    delay = _criterion(h, rid, "derate_delay_s")
    q = tr.raw(channel)
    beyond = (q > rsl if upper else q < rsl) & _valid(tr, channel)
    limit = tr.raw(limit_channel)
    late = tr.since(beyond) > delay + tr.dt / 2
    return tr.first(rid, late & (limit > cap + FLOAT_SLACK * max(1.0, cap)),
                    f"beyond the RSL for more than {delay:g} s, {limit_channel} must be at most "
                    f"{cap:g} A",
                    lambda k: f"{channel} = {q[k]:g} (RSL {rsl:g}) since "
                              f"{tr.since(beyond)[k]:.3f} s, {limit_channel} = {limit[k]:g} A")


# ----------------------------------------------------------------------------- contactors
def _open_request(h: Harness, tr: _Trace) -> list[Violation | None]:
    """OBSA-CONT-010 and OBSA-CONT-006: the contactor manager and contactor_open_request."""
    out: list[Violation | None] = []
    cmds = {c: tr.raw(c) > 0.5 for c in CLOSE_CMDS}
    any_closed = np.any(list(cmds.values()), axis=0)
    any_rising = np.any([_rising(x) for x in cmds.values()], axis=0)
    requested = tr.seen(CM, "contactor_open_request") > 0.5
    out.append(tr.first(
        "OBSA-CONT-010", any_rising & requested,
        "no contactor may be commanded closed while contactor_open_request is raised",
        lambda k: "a close command rose with contactor_open_request raised ("
                  + ", ".join(f"{c} = {int(x[k])}" for c, x in cmds.items()) + ")"))
    window = _open_window(h)
    # opened: a step with every contactor commanded open since the request rose (a close
    # command rising afterwards is OBSA-CONT-010's)
    n = len(requested)
    start = np.maximum.accumulate(np.where(_rising(requested), np.arange(n), 0))
    all_open = np.concatenate(([0], np.cumsum(~any_closed)))
    opened = all_open[np.arange(n) + 1] - all_open[start] > 0
    out.append(tr.first(
        "OBSA-CONT-006", requested & ~opened & (tr.since(requested) > window + tr.dt / 2),
        f"every contactor must be commanded open within {window:g} s of "
        "contactor_open_request",
        lambda k: f"contactor_open_request raised for {tr.since(requested)[k]:.3f} s, still "
                  + ", ".join(c for c, x in cmds.items() if x[k])))
    return out


def _contactors(h: Harness, tr: _Trace) -> list[Violation | None]:
    out: list[Violation | None] = []
    cmds = {c: tr.raw(c) > 0.5 for c in CLOSE_CMDS}
    any_closed = np.any(list(cmds.values()), axis=0)
    any_rising = np.any([_rising(x) for x in cmds.values()], axis=0)
    tol = float(h.param(CM, "precharge_voltage_tolerance_V"))
    pack, link = tr.raw("pack_voltage_V"), tr.raw("link_voltage_V")
    gap = np.abs(pack - link)
    within = gap <= tol + FLOAT_SLACK  # NaN never is
    within |= np.concatenate(([False], within[:-1]))  # a decision taken one step earlier
    out.append(tr.first(
        "OBSA-CONT-001", _rising(cmds["main_positive_close_cmd"]) & ~within,
        f"main positive may be commanded closed only within {tol:g} V of the pack voltage",
        lambda k: f"main positive commanded closed with pack {pack[k]:g} V, link {link[k]:g} V"))
    timeout = float(h.param(CM, "precharge_timeout_s"))
    pre = cmds["precharge_close_cmd"]
    alone = np.zeros(len(pre), dtype=bool)
    for s, e in _runs(pre):
        if not cmds["main_positive_close_cmd"][s:e].any():
            held = tr.t[s:e] - tr.t[s]
            alone[s:e] = held > timeout + tr.dt / 2
    out.append(tr.first(
        "OBSA-CONT-003", alone,
        f"a precharge attempt must end within the declared {timeout:g} s",
        lambda k: "precharge commanded closed for more than the timeout without main positive"))
    out.extend(_contactor_faults(h, tr, cmds, any_closed, any_rising))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate(([False], mask.astype(bool), [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _contactor_faults(h: Harness, tr: _Trace, cmds: dict[str, np.ndarray],
                      any_closed: np.ndarray, any_rising: np.ndarray) -> list[Violation | None]:
    flags = tr.raw("contactor_fault_flags")
    faulted = tr.bits("contactor_fault_flags", _mask(h, CM, "fault", "lockout"))
    failed = tr.bits("contactor_fault_flags", h.bit(CM, "precharge_failed"))
    window = _open_window(h)
    bad = (any_rising & faulted) | (any_closed & (tr.since(faulted) > window + tr.dt / 2))

    def seen(k: int) -> str:
        return (f"contactor_fault_flags = {_hex(flags[k])}, still commanded closed: "
                + ", ".join(c for c, x in cmds.items() if x[k]))

    what = (f"with a contactor fault latched every contactor must be commanded open (within "
            f"{window:g} s) until a reset")
    out = [tr.first("OBSA-CONT-005", bad & failed, what, seen),
           tr.first("OBSA-CONT-011", bad & ~failed, what, seen)]
    reset = tr.recent(tr.seen(CM, "fault_reset_request") > 0.5, _reset_window(h))
    fell = np.zeros(len(flags), dtype=bool)
    for fc in h.spec.interfaces[CM].fault_codes:
        fell |= _falling(tr.bits("contactor_fault_flags", 1 << fc.bit))
    fell &= ~reset
    gave_up = _falling(failed)

    def cleared(k: int) -> str:
        return (f"contactor_fault_flags {_hex(flags[k - 1])} → {_hex(flags[k])} with no reset "
                f"request in the {_reset_window(h):g} s before")

    out.append(tr.first("OBSA-CONT-005", fell & gave_up,
                        "precharge_failed must stay latched until a reset", cleared))
    out.append(tr.first("OBSA-CONT-011", fell & ~gave_up,
                        "a contactor fault must stay latched until a reset", cleared))
    return out


# ----------------------------------------------------------------------------- thermal manager
def _thermal(h: Harness, tr: _Trace) -> list[Violation | None]:
    """OBSA-THERM-005: never cooling and heating requested in the same step."""
    cooling, heating = (tr.raw(name) > 0.5 for name in THERMAL_REQUESTS)
    return [tr.first("OBSA-THERM-005", cooling & heating,
                     "cooling_request and heating_request are never raised in the same step",
                     lambda k: "both raised")]


# ----------------------------------------------------------------------------- charge control
def _charging(h: Harness, tr: _Trace) -> list[Violation | None]:
    """OBSA-CHG-001: the voltage request never above n × the declared charge voltage limit;
    OBSA-CHG-003: the current request never above the declared maximum, nor the charge
    current limit or the SoP limit the charge control saw in the same step."""
    n = int(h.session.dimensions.get("cell", 0))
    v_max = n * float(h.param(CHG, "charge_voltage_limit_V"))
    v_req, i_req = (tr.raw(name) for name in CHARGE_REQUESTS)
    # a limit that is not a number is left out (a module must then request nothing or
    # keep to the other limits); none below zero
    limit = np.fmin(tr.seen(CHG, "charge_current_limit_A"),
                    tr.seen(CHG, "sop_charge_current_limit_A"))
    i_max = float(h.param(CHG, "charge_current_max_A"))
    smallest = np.maximum(np.fmin(limit, i_max), 0.0)
    slack = FLOAT_SLACK * np.maximum(1.0, np.abs(smallest))
    over_i = ~(i_req <= smallest + slack)  # NaN counts as over
    over_v = ~(v_req <= v_max + FLOAT_SLACK * max(1.0, v_max))
    return [
        tr.first("OBSA-CHG-001", over_v,
                 f"charge_voltage_request_V is never above {n} cells × charge_voltage_limit_V "
                 f"= {v_max:g} V", lambda k: f"charge_voltage_request_V {v_req[k]:g} V"),
        tr.first("OBSA-CHG-003", over_i,
                 "charge_current_request_A is never above charge_current_max_A, "
                 "charge_current_limit_A or sop_charge_current_limit_A of the same step",
                 lambda k: f"charge_current_request_A {i_req[k]:g} A, the smallest limit "
                           f"{smallest[k]:g} A"),
    ]


# ----------------------------------------------------------------------------- balancing
def _balancing(h: Harness, tr: _Trace) -> list[Violation | None]:
    """OBSA-BAL-006: no cell commanded while the safety state the balancing saw is fault or
    lockout, in that step and the one before; OBSA-BAL-007: no cell commanded whose voltage
    reads invalid, in that step and the one before (both: after one step)."""
    state = tr.seen(BAL, "safety_state")
    blocked = np.isin(state, [h.enum("safety_state", "fault"),
                              h.enum("safety_state", "lockout")])
    n = tr.every(BAL)  # its step before is n loop steps back
    held = blocked & np.concatenate((np.zeros(min(n, len(blocked)), dtype=bool), blocked[:-n]))
    count = tr.raw("balancing_cmd_count")
    invalid = tr.raw("balancing_invalid_commanded")
    return [
        tr.first("OBSA-BAL-006", held & (count > 0),
                 "no cell is commanded while safety_state is fault or lockout (after one step)",
                 lambda k: f"safety_state {int(state[k])}, {int(count[k])} cells commanded"),
        tr.first("OBSA-BAL-007", invalid > 0,
                 "no cell is commanded whose voltage reads invalid (after one step)",
                 lambda k: f"{int(invalid[k])} invalid cells commanded"),
    ]


# ----------------------------------------------------------------------------- fault memory
def _diagnostics(h: Harness, tr: _Trace) -> list[Violation | None]:
    w = tr.watch
    dtc = w.dtc
    if not dtc or not dtc["dtc_status"]:
        return []
    for name in dtc:
        why = tr.loop.hidden.get(name) if hasattr(tr.loop, "hidden") else None
        if why is not None:
            raise NotObservable(name, why)
    # one row per step, each a 1-d array of one length: np.array stacks them (faster than vstack)
    status, occ, first, last = (np.array(dtc[name]) for name in (
        "dtc_status", "dtc_occurrences", "dtc_first_time_s", "dtc_last_time_s"))
    n = min(len(tr.t), len(status))
    t = tr.t[:n]
    status, occ, first, last = status[:n], occ[:n], first[:n], last[:n]
    active = h.enum("dtc_status", "active")
    inactive = h.enum("dtc_status", "inactive")
    requested = tr.seen(DIAG, "fault_reset_request")[:n] > 0.5
    reset = tr.recent(requested, _reset_window(h))
    # counts and times are compared with the flag's edges up to the first reset; what a
    # reset changes is OBSA-DIAG-004's to judge, not a wrong count or time afterwards
    unreset = np.cumsum(requested) == 0
    rng = h.spec.signals["dtc_occurrences"].range
    ceiling = float(rng.max) if rng is not None and rng.max is not None else math.inf
    lag = tr.window(_criterion(h, "OBSA-DIAG-001", "activation_delay_s"))
    time_tol = _criterion(h, "OBSA-DIAG-002", "first_time_error_s")
    found: dict[str, Violation] = {}

    def note(rid: str, k: int, row: int, what: str, seen: str) -> None:
        v = found.get(rid)
        if v is None or t[k] < v.t_s:
            name = h.spec.dtc_table[row][1].name
            found[rid] = Violation(rid, float(t[k]), what, f"DTC row {row} ({name}): {seen}",
                                   1 + (v.steps if v else 0))
        else:
            found[rid] = Violation(v.requirement, v.t_s, v.what, v.seen, v.steps + 1)

    flags = w.flags
    for row, (signal, mask) in enumerate(w.rows):
        if not signal:
            continue
        raw = np.asarray(flags[signal][:n], dtype=np.int64)
        if tr.delayed(DIAG, signal):
            raw = np.concatenate(([0], raw[:-1]))
        flag = (raw & mask) != 0
        edges = _rising(flag)
        expected = np.cumsum(edges)
        behind = np.concatenate((np.zeros(lag, dtype=np.int64), expected[:-lag]))[:n]
        c = occ[:, row]
        dropped = np.concatenate(([False], c[1:] < c[:-1]))
        for k in np.flatnonzero(dropped & reset)[:1]:
            note("OBSA-DIAG-004", int(k), row, "a reset must keep the occurrence counters",
                 f"counter {c[k - 1]:g} → {c[k]:g} at a reset")
        wrong = (((c > expected) | ((c < behind) & (c < ceiling))) & unreset) | (
            dropped & ~reset)
        for k in np.flatnonzero(wrong)[:1]:
            note("OBSA-DIAG-001", int(k), row,
                 "the occurrence counter must count every rising edge of the flag exactly once",
                 f"counter {c[k]:g} after {int(expected[k])} rising edges")
        _dtc_times(tr, t, row, edges, first[:, row], last[:, row], reset, unreset, time_tol,
                   note)
        s = status[:, row]
        lost = np.concatenate(([False], (s[1:] == inactive) & (s[:-1] != inactive)))
        for k in np.flatnonzero(lost & ~reset)[:1]:
            note("OBSA-DIAG-003", int(k), row,
                 "a DTC must not turn inactive without a fault_reset_request",
                 f"status {s[k - 1]:g} → {s[k]:g}")
        left = np.concatenate(([False], (s[1:] != active) & (s[:-1] == active))) & flag
        for k in np.flatnonzero(left & reset)[:1]:
            note("OBSA-DIAG-004", int(k), row, "a reset must not change an active DTC",
                 f"status {s[k - 1]:g} → {s[k]:g} with its flag still raised")
    return list(found.values())


def _dtc_times(tr: _Trace, t: np.ndarray, row: int, edges: np.ndarray, first: np.ndarray,
               last: np.ndarray, reset: np.ndarray, unreset: np.ndarray, tol: float,
               note: Callable[[str, int, int, str, str], None]) -> None:
    """OBSA-DIAG-002 (and -004 at a reset): the first time never moves once recorded, and
    both times match the flag's rising edges to within the spec's tolerance."""
    idx = np.flatnonzero(edges)
    if not len(idx):
        return
    t_first = t[idx[0]]
    seen_idx = np.maximum.accumulate(np.where(edges, np.arange(len(t)), -1))
    latest = np.where(seen_idx >= 0, t[np.maximum(seen_idx, 0)], np.nan)
    settled = np.arange(len(t)) >= idx[0] + tr.window(tol)
    moved = np.concatenate(([False], (first[1:] != first[:-1]) & (first[:-1] >= 0)))
    # a first time that moved to the time of the flag's newest rising edge followed the edge,
    # reset or not: that is OBSA-DIAG-002's wrong first time, not a reset's doing
    by_reset = moved & reset & ~(np.abs(first - latest) <= tol + _EPS)
    for k in np.flatnonzero(by_reset)[:1]:
        note("OBSA-DIAG-004", int(k), row, "a reset must keep the occurrence times",
             f"first time {first[k - 1]:.6f} → {first[k]:.6f} s at a reset")
    off_first = settled & ~(np.abs(first - t_first) <= tol + _EPS)
    # the last time is checked once the newest edge is older than the tolerance
    fresh = np.arange(len(t)) - seen_idx < tr.window(tol)
    off_last = settled & ~fresh & ~(np.abs(last - latest) <= tol + _EPS)
    for k in np.flatnonzero(((off_first | off_last) & unreset) | (moved & ~by_reset))[:1]:
        note("OBSA-DIAG-002", int(k), row,
             f"the first and last occurrence times must match the flag's rising edges "
             f"within {tol:g} s",
             f"first {first[k]:.6f} s (edge at {t_first:.6f} s), last {last[k]:.6f} s "
             f"(edge at {latest[k]:.6f} s)")


# ----------------------------------------------------------------------------- lifetime data
def _logger(h: Harness, tr: _Trace) -> list[Violation | None]:
    """OBSA-REG-014: no lifetime counter is lower than on the step before."""
    worst: Violation | None = None
    for name in tr.watch.counters:
        x = tr.raw(f"counter:{name}")
        down = np.concatenate(([False], x[1:] < x[:-1]))

        def seen(k: int, x: np.ndarray = x, name: str = name) -> str:
            return f"{name} {x[k - 1]:.9g} → {x[k]:.9g}"

        v = tr.first("OBSA-REG-014", down, "no lifetime counter of the data logger may "
                     "decrease", seen)
        if v is not None and (worst is None or v.t_s < worst.t_s):
            worst = v
    return [worst]


def _telemetry(h: Harness, tr: _Trace) -> list[Violation | None]:
    """At the telemetry's own steps, with the link as it saw it: OBSA-CONN-003, nothing
    published while the link is down; OBSA-CONN-004, each record published later than the
    one before; OBSA-CONN-006, a record published in every step with the link up that
    reports a backlog."""
    n = tr.every(TEL)
    own = np.arange(0, len(tr.t), n)
    up = tr.seen(TEL, "telemetry:uplink")[own] > 0.5
    published = tr.raw("telemetry:published")[own] > 0.5
    stamp = tr.raw("telemetry:time_s")[own]
    backlog = tr.raw("telemetry:backlog")[own]
    t = tr.t[own]
    k_pub = np.flatnonzero(published)
    back = np.zeros(len(own), dtype=bool)
    if len(k_pub) > 1:
        back[k_pub[1:]] = ~(stamp[k_pub[1:]] > stamp[k_pub[:-1]])
    previous = np.full(len(own), np.nan)
    if len(k_pub) > 1:
        previous[k_pub[1:]] = stamp[k_pub[:-1]]

    def at(mask: np.ndarray, rid: str, what: str, seen: Callable[[int], str]
           ) -> Violation | None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return None
        k = int(idx[0])
        return Violation(rid, float(t[k]), what, seen(k), len(idx))

    return [
        at(published & ~up, "OBSA-CONN-003", "the telemetry may publish nothing while the "
           "link is down", lambda k: f"record stamped {stamp[k]:.3f} s published with "
                                     "uplink_connected false"),
        at(back, "OBSA-CONN-004", "each record published must be later than the one before",
           lambda k: f"record stamped {stamp[k]:.3f} s after one stamped {previous[k]:.3f} s"),
        at(up & ~(backlog <= 0) & ~published, "OBSA-CONN-006", "with the link up and a "
           "backlog the telemetry publishes a record in every step",
           lambda k: f"telemetry_backlog_records {backlog[k]:g}, nothing published"),
    ]


# ----------------------------------------------------------------------------- verdicts
_Check = Callable[["Harness", _Trace], list[Violation | None]]
#: per component, its checks; each is skipped where it needs a signal the transport hides
_CHECKS: dict[str, tuple[_Check, ...]] = {
    CHG: (_charging,), LOG: (_logger,), TEL: (_telemetry,),
    SUP: (_open_on_fault, _supervisor), CM: (_open_request, _contactors),
    DIAG: (_diagnostics,), TM: (_thermal,), BAL: (_balancing,),
}


def applies(h: Harness, rid: str) -> bool:
    """The requirement is in a claimed profile, for a component the module has, and its
    condition (if any) holds for the declared features."""
    req = h.spec.requirements[rid]
    if not set(req.profiles) & set(h.manifest.profiles):
        return False
    if req.component not in h.session.components:
        return False
    if req.level == "conditional" and req.condition:
        return bool(evaluate(req.condition, set(h.manifest.features)))
    return True


def violations(h: Harness, loop: ClosedLoop, watch: Watch) -> list[Violation]:
    """Every invariant violated in one loop (the first violation of each requirement)."""
    if not loop.t_s:
        return []
    tr = _Trace(h, loop, watch)
    found: dict[str, Violation] = {}
    for component, checks in _CHECKS.items():
        if component not in loop.components:
            continue
        for v in _unless_hidden(h, tr, checks):
            if v is None or not applies(h, v.requirement):
                continue
            old = found.get(v.requirement)
            if old is None or v.t_s < old.t_s:
                found[v.requirement] = v
    return sorted(found.values(), key=lambda v: v.t_s)


def _unless_hidden(h: Harness, tr: _Trace, checks: tuple[_Check, ...]
                   ) -> list[Violation | None]:
    out: list[Violation | None] = []
    for check in checks:
        try:
            out += check(h, tr)
        except NotObservable:
            continue
    return out


def apply_monitors(h: Harness, watched: list[tuple[ClosedLoop, Watch]]) -> list[TestResult]:
    """Check every loop of a test case; record a failed result per violated requirement.

    One test case reports one verdict per requirement: a result of the same requirement
    that the test case recorded as passed (or inconclusive) becomes the failure, with the
    monitor's evidence and the test case's message after it; one it recorded as failed (or
    in error) stays, with the monitor's finding added to its message.
    """
    found: dict[str, tuple[Violation, ClosedLoop]] = {}
    for loop, watch in watched:
        for v in violations(h, loop, watch):
            if v.requirement not in found or v.t_s < found[v.requirement][0].t_s:
                found[v.requirement] = (v, loop)
    recorded = []
    current = h.loop
    try:
        for rid, (v, loop) in found.items():
            h.loop = loop
            own = next((i for i, r in enumerate(h.results) if r.requirement == rid), None)
            message = v.message()
            if own is None:
                req = h.spec.requirements[rid]
                result = TestResult(test_case=h.test_case, requirement=rid, title=req.title,
                                    level=req.level, verdict="fail", simulated_s=float(loop.t),
                                    evidence=h.evidence(message, {"always-on monitor": v.t_s}))
                h.results.append(result)
            else:
                mine = h.results[own]
                if mine.verdict in ("fail", "error"):
                    evidence = mine.evidence.model_copy(
                        update={"message": f"{mine.evidence.message}; {message}"})
                    result = mine.model_copy(update={"evidence": evidence})
                else:
                    if mine.evidence.message:
                        message += f"; the test case: {mine.evidence.message}"
                    result = mine.model_copy(update={
                        "verdict": "fail",
                        "evidence": h.evidence(message, {"always-on monitor": v.t_s})})
                h.results[own] = result
            recorded.append(result)
    finally:
        h.loop = current
    return recorded
