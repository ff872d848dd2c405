"""The closed loop: bench plant → measurements → module components → commands → plant.

Signals are wired by name: every component reads its inputs from one signal pool that
holds the bench's measurements, the operator's commands and every component's latest
outputs. A component that reads plant signals (``source: plant``: a cell monitor under
test reads the true cell voltages and temperatures) gets them from the bench's
``plant_inputs()`` every step. Components step in the profile's order; an input produced
by a later component is its value from the previous step (a unit delay), as on a real
controller.

Each component is stepped every ``step_period_s`` of its interface, as the spec says —
a 1 s balancing every hundredth step of a 10 ms loop — reading the pool as it is at its
step; its outputs hold in the pool between its steps. A period that is not a whole number
of the bench's steps (or is shorter than one) steps the component every step.

A measured signal that a component of the loop produces (its own cell monitor, current
sensor …) is the module's: the bench's sensor model fills it only before the first step,
and every component reads the module's own measurement from then on.

A power loss of the module (:meth:`ClosedLoop.restarted`) ends a loop: the bench goes on in
a new loop with a trace of its own, so that an invariant between two steps is judged within
one power-on period, and what survives the cut is judged by the test case that cut it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from ..spec import Spec
from ..spec.models import Signal


class PreconditionFailed(Exception):
    """The bench could not establish a test case's preconditions: verdict inconclusive.

    ``blame`` names the requirement whose behaviour the precondition depends on (the HV path
    closing is OBSA-CONT-002's, a latched over-voltage fault OBSA-SAFE-001's): the report
    then points at the verdict that explains this one. The message says what was awaited,
    for how long, and what was seen instead.
    """

    def __init__(self, message: str, blame: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.blame = blame

    def __str__(self) -> str:
        if self.blame is None:
            return self.message
        return f"{self.message} (depends on {self.blame}: see its verdict)"


class NotObservable(PreconditionFailed):
    """A test case read a signal its transport cannot show, or set one it cannot deliver
    (the loop's :attr:`ClosedLoop.hidden` and :attr:`ClosedLoop.undeliverable`): what
    depends on it is inconclusive, saying why — never failed for the bench's blindness."""

    def __init__(self, signal: str, why: str, *, given: bool = False) -> None:
        super().__init__(f"{signal} cannot be {'given to' if given else 'read from'} the "
                         f"module over this transport: {why}")
        self.signal = signal


class _Guarded(Mapping[str, Any]):
    """The pool as an ``until`` condition sees it where some signals are hidden: reading
    one raises :class:`NotObservable`."""

    def __init__(self, pool: dict[str, Any], hidden: dict[str, str]) -> None:
        self._pool, self._hidden = pool, hidden

    def __getitem__(self, name: str) -> Any:
        why = self._hidden.get(name)
        if why is not None:
            raise NotObservable(name, why)
        return self._pool[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pool)

    def __len__(self) -> int:
        return len(self._pool)


def default_value(signal: Signal, dimensions: dict[str, int]) -> Any:
    """The value a signal holds before anyone produced it (:attr:`Signal.start_value`), a
    read-only array of it for an array signal (it stays the same object until someone
    produces the signal: whoever reads it may reuse what it computed from it)."""
    scalar = signal.start_value
    if signal.dimension is None:
        return scalar
    array = np.full(dimensions.get(signal.dimension, 0), scalar)
    array.flags.writeable = False
    return array


_REDUCERS: dict[str, Callable[[Any], float]] = {
    "max": lambda a: float(np.maximum.reduce(a)) if len(a) else math.nan,
    "min": lambda a: float(np.minimum.reduce(a)) if len(a) else math.nan,
    "sum": lambda a: float(np.add.reduce(a)),
    "invalid": lambda a: float(len(a) - np.count_nonzero(a)),
}


@dataclass
class TraceChannel:
    """A recorded quantity: a signal of the pool, reduced if it is an array
    (``reduce``: max, min, sum or invalid — the count of False), or any ``read(pool)``."""

    name: str
    unit: str
    signal: str | None = None
    reduce: str | None = None
    read: Callable[[dict[str, Any]], float] | None = None


_NOTHING = object()  # what no pool holds: the last arrays before the first row


class _Recorder:
    """Records every channel's value per step, as cheaply as the channel allows.

    :meth:`record` is one function compiled for the channels (see :meth:`_compile`). The
    scalar channels are read in one call (``itemgetter``) into one row per step. Array
    signals of sampled sensors keep their object between samples: the arrays are read in
    one call too, and their reductions — one row of every array channel — are recomputed
    only when one of their objects changes (an identity test per array); until then each
    step records the very same row again. Columns are built when they are read.
    """

    def __init__(self, channels: list[TraceChannel]) -> None:
        self.where: dict[str, tuple[int, int]] = {}  # channel name → (rows list, column)
        self.rows: list[list[Any]] = []
        self._columns: dict[int, tuple[int, list[tuple[Any, ...]]]] = {}  # see column()
        scalars = [ch for ch in channels if ch.read is None and ch.reduce is None]
        self.scalar_rows: list[tuple[Any, ...]] = []
        self.get: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
        if scalars:
            names = [str(ch.signal) for ch in scalars]
            get = operator.itemgetter(*names)
            self.get = get if len(names) > 1 else (lambda pool: (get(pool),))
            self.rows.append(self.scalar_rows)
            for i, ch in enumerate(scalars):
                self.where[ch.name] = (0, i)
        groups: dict[str, list[TraceChannel]] = {}
        for ch in channels:
            if ch.read is None and ch.reduce is not None:
                groups.setdefault(str(ch.signal), []).append(ch)
        #: per array signal, its reductions (in the order of the row)
        self.reductions = tuple(tuple(_REDUCERS[str(ch.reduce)] for ch in chans)
                                for chans in groups.values())
        self.get_arrays: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
        self.array_rows: list[tuple[Any, ...]] = []
        self._arrays: tuple[Any, ...] = (_NOTHING,) * len(groups)  # the arrays of the last row
        self._row: tuple[Any, ...] = ()  # their reductions
        self._parts: list[tuple[Any, ...]] = [() for _ in groups]  # the row, per array
        if groups:
            get_arrays = operator.itemgetter(*groups)
            self.get_arrays = (get_arrays if len(groups) > 1
                               else (lambda pool: (get_arrays(pool),)))
            column = 0
            for chans in groups.values():
                for ch in chans:
                    self.where[ch.name] = (len(self.rows), column)
                    column += 1
            self.rows.append(self.array_rows)
        self.custom: list[tuple[Callable[[dict[str, Any]], float], list[Any]]] = []
        for ch in channels:
            if ch.read is not None:
                values: list[Any] = []
                self.custom.append((ch.read, values))
                self.where[ch.name] = (len(self.rows), -1)
                self.rows.append(values)
        self.record: Callable[[dict[str, Any]], None] = self._compile(len(groups))

    def _compile(self, n_arrays: int) -> Callable[[dict[str, Any]], None]:
        """``record(pool)``: one step's values of every channel appended to their rows, in
        one function with every part written out — the scalar row, the row of the array
        channels (the last one again while each array is the object of the last row), and
        each channel of its own ``read``."""
        env: dict[str, Any] = {"recorder": self}
        lines = ["def record(pool):"]
        if self.get is not None:
            env["get"], env["scalars"] = self.get, self.scalar_rows.append
            lines.append("    scalars(get(pool))")
        if self.get_arrays is not None:
            env["get_arrays"], env["arrays_rows"] = self.get_arrays, self.array_rows.append
            same = " and ".join(f"arrays[{i}] is last[{i}]" for i in range(n_arrays))
            lines += ["    arrays = get_arrays(pool)",
                      "    last = recorder._arrays",
                      f"    if not ({same}):",
                      "        recorder._changed(arrays)",
                      "    arrays_rows(recorder._row)"]
        for i, (read, values) in enumerate(self.custom):
            env[f"read{i}"], env[f"values{i}"] = read, values.append
            lines.append(f"    values{i}(read{i}(pool))")
        if len(lines) == 1:
            lines.append("    pass")
        exec("\n".join(lines), env)  # noqa: S102 - source built above from the channels
        record: Callable[[dict[str, Any]], None] = env["record"]
        return record

    def _changed(self, arrays: tuple[Any, ...]) -> None:
        """The row of the array channels for ``arrays``: the reductions of each array that
        is not the object of the last row, the others' as they were."""
        last, parts = self._arrays, self._parts
        for i, (arr, fns) in enumerate(zip(arrays, self.reductions, strict=True)):
            if arr is not last[i]:
                parts[i] = tuple([fn(arr) for fn in fns])
        self._arrays = arrays
        self._row = tuple(chain.from_iterable(parts))

    def column(self, name: str) -> list[Any]:
        """The values of channel ``name``, one per recorded step (KeyError if unknown)."""
        rows, i = self.where[name]
        recorded = self.rows[rows]
        if i < 0:
            return list(recorded)
        # the rows transposed once per length: the monitors read every column of a row list
        columns = self._columns.get(rows)
        if columns is None or columns[0] != len(recorded):
            columns = self._columns[rows] = (len(recorded), list(zip(*recorded, strict=True)))
        return list(columns[1][i]) if recorded else []


def steps_per_period(period_s: float, dt_s: float) -> int:
    """Every how many bench steps of ``dt_s`` a component of ``period_s`` is stepped: its
    period in whole steps, or 1 when the period is not a whole number of steps."""
    ratio = period_s / dt_s
    n = round(ratio)
    return n if n >= 1 and abs(ratio - n) <= 1e-6 * ratio else 1


class ClosedLoop:
    """Steps a bench and the module's components together on the simulated clock."""

    def __init__(self, spec: Spec, bench: Any, adapter: Any, components: list[str],
                 dimensions: dict[str, int], channels: list[TraceChannel]) -> None:
        self.spec = spec
        self.bench = bench
        self.adapter = adapter
        self.components = list(components)
        self.dimensions = dict(dimensions)
        self.pool: dict[str, Any] = {
            name: default_value(sig, dimensions) for name, sig in spec.signals.items()
        }
        self._inputs = {
            c: tuple(p.signal for p in spec.interfaces[c].inputs) for c in self.components
        }
        self._plant = any(spec.signals[s].source == "plant"
                          for c in self.components for s in self._inputs[c]
                          if s in spec.signals)
        #: the module's own outputs; those among the bench's measurements (a cell monitor or
        #: current sensor under test) are the module's from its first step on
        self._produced = frozenset(p.signal for c in self.components
                                   for p in spec.interfaces[c].outputs)
        self._own_measurements: tuple[str, ...] | None = None
        #: component → every how many steps it is stepped (its period over the bench's step)
        self.every = {c: steps_per_period(spec.interfaces[c].step_period_s,
                                          float(bench.config.dt_s)) for c in self.components}
        cycle = math.lcm(*self.every.values()) if self.every else 1
        #: the components due at step k are self._due[k % self._cycle], in order (a tuple:
        #: the same object at every step it is due, which step_chain may key on)
        self._due = [tuple(c for c in self.components if k % self.every[c] == 0)
                     for k in range(cycle)]
        self._cycle = cycle
        # one call steps every component (one round trip for a module in a child process)
        self._chain = getattr(adapter, "step_chain", None)
        self.channels = channels
        # what the transport cannot show or deliver (its ``observability(components)``:
        # signal → why); nothing in process. Only reads and sets check it, never step().
        observability = getattr(adapter, "observability", None)
        hidden, undeliverable = (observability(self.components) if observability is not None
                                 else ({}, {}))
        #: signal → why the module's value of it cannot be read over the transport
        self.hidden: dict[str, str] = dict(hidden)
        #: signal → why a value set in the pool never reaches the module
        self.undeliverable: dict[str, str] = {**undeliverable, **hidden}
        lag = getattr(adapter, "observation_lag_s", None)
        #: how long after the module's decision the loop may first see it (0 in process;
        #: over a bus, the period of the frame that carries it)
        self.observation_lag_s = float(lag(self.components)) if lag is not None else 0.0
        self._hidden_channels = {ch.name: (str(ch.signal), self.hidden[str(ch.signal)])
                                 for ch in channels if ch.signal in self.hidden}
        self.t_s: list[float] = []
        self._t_append = self.t_s.append
        self._recorder = _Recorder(channels)
        self._record = self._recorder.record
        self.steps = 0

    @property
    def t(self) -> float:
        return float(self.bench.t)

    @property
    def trace(self) -> dict[str, list[Any]]:
        """Every recorded channel: name → its values, one per step (built when read)."""
        for name in self._hidden_channels:
            self._refuse(name)
        return {name: self._recorder.column(name) for name in self._recorder.where}

    def channel(self, name: str) -> np.ndarray:
        """A recorded channel as a float array (booleans as 0/1); NotObservable for a channel
        of a hidden signal."""
        if name in self._hidden_channels:
            self._refuse(name)
        return np.asarray(self._recorder.column(name), dtype=float)

    def readable(self, name: str) -> bool:
        """Whether channel ``name`` shows the module's value (not one of a hidden signal)."""
        return name not in self._hidden_channels

    def _refuse(self, channel: str) -> None:
        signal, why = self._hidden_channels[channel]
        raise NotObservable(signal, why)

    def restarted(self, channels: list[TraceChannel]) -> ClosedLoop:
        """The loop that goes on after the module's power was cut and restored (the caller
        cut it and configured the components again): the same bench — its clock, plant and
        injected faults go on — adapter and components, and a new trace of ``channels``.
        The pool keeps the bench's measurements and every signal the module does not
        produce (the operator's commands); the outputs of the module's components are back
        at their start values until they step, and every component is due at the first
        step, as a controller starts all its tasks at power-up."""
        loop = ClosedLoop(self.spec, self.bench, self.adapter, self.components,
                          self.dimensions, channels)
        produced = {p.signal for c in self.components for p in self.spec.interfaces[c].outputs}
        loop.pool.update({k: v for k, v in self.pool.items() if k not in produced})
        return loop

    def set(self, name: str, value: Any) -> None:
        """Set an operator command (or any signal no component produces); NotObservable for
        one the transport cannot deliver to the module."""
        if name not in self.pool:
            raise KeyError(f"'{name}' is not a signal of the data dictionary")
        if self.undeliverable:
            why = self.undeliverable.get(name)
            if why is not None:
                raise NotObservable(name, why, given=True)
        self.pool[name] = value

    def step(self) -> None:
        pool = self.pool
        bench = self.bench
        t = bench.t
        measured = bench.measurements()
        steps = self.steps
        if self._plant:
            if steps:  # keep what the module's hardware abstraction measured
                own = self._own_measurements
                if own is None:
                    own = self._own_measurements = tuple(k for k in measured
                                                         if k in self._produced)
                for name in own:
                    del measured[name]
            pool.update(measured)
            pool.update(bench.plant_inputs())
        else:
            pool.update(measured)
        due = self._due[steps % self._cycle]
        if due:
            if self._chain is not None:
                self._chain(t, due, pool)
            else:
                step = self.adapter.step
                for comp in due:
                    pool.update(step(comp, t, {name: pool[name] for name in self._inputs[comp]}))
        bench.apply(pool)
        self._t_append(t)
        self._record(pool)
        bench.advance()
        self.steps = steps + 1

    @property
    def seen(self) -> Mapping[str, Any]:
        """The pool as a test case reads it: reading a signal the transport hides raises
        :class:`NotObservable` (the pool itself where nothing is hidden). Test cases read
        the pool through it, never through :attr:`pool`."""
        return self.pool if not self.hidden else _Guarded(self.pool, self.hidden)

    def run(self, duration_s: float, until: Callable[[Mapping[str, Any]], bool] | None = None,
            every: Callable[[ClosedLoop], None] | None = None) -> float | None:
        """Run for ``duration_s``; stop early and return the time when ``until(pool)`` holds.

        ``every`` is called before each step (to drive a scenario: ramps, load profiles).
        ``until`` reading a hidden signal raises NotObservable.
        """
        n = self.bench.clock.steps_for(duration_s)
        seen = self.seen
        for _ in range(n):
            if every is not None:
                every(self)
            self.step()
            if until is not None and until(seen):
                return self.t_s[-1]
        return None
