"""What a test case works with: the spec, the module's declarations, a fresh closed loop,
and the judge that turns measured values into verdicts against the spec's criteria.

The pytest suite and the Gherkin steps both drive this API; neither re-implements it.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..report.model import Channel, CriterionResult, Evidence, TestResult, VerdictName, compare
from ..spec import Spec
from .loop import ClosedLoop, NotObservable, PreconditionFailed, TraceChannel, steps_per_period
from .monitors import Watch, apply_monitors

__all__ = ["STANDARD_CHANNELS", "Harness", "NotObservable", "PreconditionFailed", "Session",
           "Stimulus", "compare_in_steps", "standard_channels"]

STANDARD_CHANNELS: tuple[TraceChannel, ...] = tuple(
    TraceChannel(name, unit, signal, reduce) for name, unit, signal, reduce in (
        ("cell_voltage_max_V", "V", "cell_voltage_V", "max"),
        ("cell_voltage_min_V", "V", "cell_voltage_V", "min"),
        ("cell_temperature_max_degC", "degC", "cell_temperature_degC", "max"),
        ("cell_temperature_min_degC", "degC", "cell_temperature_degC", "min"),
        ("pack_current_A", "A", "pack_current_A", None),
        ("pack_voltage_V", "V", "pack_voltage_V", None),
        ("link_voltage_V", "V", "link_voltage_V", None),
        ("safety_state", "1", "safety_state", None),
        ("safety_fault_flags", "1", "safety_fault_flags", None),
        ("charge_current_limit_A", "A", "charge_current_limit_A", None),
        ("discharge_current_limit_A", "A", "discharge_current_limit_A", None),
        ("contactor_open_request", "1", "contactor_open_request", None),
        ("main_positive_close_cmd", "1", "main_positive_close_cmd", None),
        ("main_negative_close_cmd", "1", "main_negative_close_cmd", None),
        ("precharge_close_cmd", "1", "precharge_close_cmd", None),
        ("contactor_state", "1", "contactor_state", None),
        ("contactor_fault_flags", "1", "contactor_fault_flags", None),
        ("main_positive_closed_fb", "1", "main_positive_closed_fb", None),
        ("main_negative_closed_fb", "1", "main_negative_closed_fb", None),
        ("precharge_closed_fb", "1", "precharge_closed_fb", None),
        ("cell_monitor_age_s", "s", "cell_monitor_age_s", None),
        ("current_sensor_age_s", "s", "current_sensor_age_s", None),
        ("insulation_resistance_ohm", "ohm", "insulation_resistance_ohm", None),
        ("safety_warning_flags", "1", "safety_warning_flags", None),
        ("safety_request_flags", "1", "safety_request_flags", None),
        ("cell_voltage_sum_V", "V", "cell_voltage_V", "sum"),
        ("cell_voltage_invalid_count", "1", "cell_voltage_valid", "invalid"),
        ("cell_temperature_invalid_count", "1", "cell_temperature_valid", "invalid"),
    ))


def standard_channels() -> list[TraceChannel]:
    return list(STANDARD_CHANNELS)


@dataclass
class Stimulus:
    """What one stimulus of a test case measured (one cell, sensor, limit or contactor),
    for :meth:`Harness.judge_each`."""

    label: str
    measured: dict[str, float | None]
    events: dict[str, float] = field(default_factory=dict)
    loop: ClosedLoop | None = None
    message: str = ""
    notes: dict[str, str] | None = None
    #: time criteria measured up to a pin of the module (see :meth:`Harness.criteria`)
    on_pins: tuple[str, ...] = ()


def compare_in_steps(measured: float, comparison: str, limit: float, step_s: float) -> bool:
    """``measured <comparison> limit`` with both rounded to whole step periods.

    A time criterion's resolution is the step (spec: ``resolution: step``): simulated times
    are sums of float step periods, so an exact 3.00 s wait may read 2.9999999 s; compared
    as step counts, it is 300 steps, and a module never needs to wait an extra step.
    """
    if not (math.isfinite(measured) and math.isfinite(limit)):
        return compare(measured, comparison, limit)  # NaN never passes; inf compares as is
    return compare(float(round(measured / step_s)), comparison, float(round(limit / step_s)))


@dataclass
class Session:
    """State shared by every test case of one certification run."""

    spec: Spec
    manifest: Any
    adapter: Any
    components: list[str]
    dimensions: dict[str, int]
    bench_factory: Any
    #: the test vectors replayed in the run: id → SHA-256 of its arrays (for the report)
    vectors: dict[str, str] = field(default_factory=dict)
    #: where the module's HMI API answers over HTTP (feature hmi_http), None if it does not
    hmi_endpoint: Any = None


class Harness:
    """The API a test case uses; one per test case."""

    def __init__(self, session: Session, test_case: str, requirements: list[str],
                 seed: int = 0) -> None:
        self.session = session
        self.seed = seed
        self.spec = session.spec
        self.manifest = session.manifest
        self.test_case = test_case
        self.requirements = requirements
        self.results: list[TestResult] = []
        self.loop: ClosedLoop | None = None
        self.watched: list[tuple[ClosedLoop, Watch]] = []  # every loop, for the monitors
        self._extra: dict[ClosedLoop, list[TraceChannel]] = {}  # a loop's own channels
        self._before_cut: dict[ClosedLoop, ClosedLoop] = {}  # loop after a power cut → before

    # ---- declarations -------------------------------------------------------------
    def params(self, component: str) -> dict[str, Any]:
        """The module's effective parameters of a component (declared, else spec default)."""
        return self.manifest.effective_parameters(self.spec, component)

    def param(self, component: str, name: str) -> Any:
        return self.params(component)[name]

    def bit(self, component: str, fault: str) -> int:
        """Bit mask of a fault code in the component's flags signals."""
        for fc in self.spec.interfaces[component].fault_codes:
            if fc.name == fault:
                return 1 << fc.bit
        raise KeyError(f"{component} has no fault code '{fault}'")

    def enum(self, enum_id: str, name: str) -> int:
        for v in self.spec.enums[enum_id].values:
            if v.name == name:
                return v.value
        raise KeyError(f"enum {enum_id} has no value '{name}'")

    def reads_plant(self, component: str) -> bool:
        """Whether ``component`` reads a plant signal (``source: plant``): a hardware
        abstraction block fed the true quantities at its input pins."""
        signals = self.spec.signals
        return any(p.signal in signals and signals[p.signal].source == "plant"
                   for p in self.spec.interfaces[component].inputs)

    def step_period(self, component: str) -> float:
        return self.spec.interfaces[component].step_period_s

    # ---- running ------------------------------------------------------------------
    def run(self, components: list[str] | None = None,
            channels: list[TraceChannel] | None = None, **bench_overrides: Any) -> ClosedLoop:
        """A fresh bench and freshly configured and reset components, in closed loop.

        ``components`` runs a subset of the module's components (in the module's order):
        the harness then drives the inputs the others would produce. By default every
        component of the module that reads no plant signal: the test cases stimulate the
        measurement side of the hardware abstraction (the bench's sensor models and faults),
        so a module's hardware-abstraction blocks (a cell monitor, a current sensor, a
        contactor driver — judged from the plant side by the test cases that name them) stay
        out of the loop. ``channels`` adds trace channels; ``bench_overrides`` change the
        bench configuration.
        """
        s = self.session
        chosen = [c for c in s.components
                  if (c in components if components is not None else not self.reads_plant(c))]
        bench = s.bench_factory(**({"seed": self.seed} | bench_overrides))
        for comp in chosen:
            s.adapter.configure(comp, self.params(comp))
            s.adapter.reset(comp)
        dt_s = float(bench.config.dt_s)
        watch = Watch(self.spec, chosen, {c: steps_per_period(self.step_period(c), dt_s)
                                          for c in chosen})
        # the arrays nobody produced yet are as long as the pack the bench simulates
        dimensions = {**s.dimensions, "cell": bench.config.n_cells,
                      "temperature_sensor": bench.config.n_temp_sensors}
        self.loop = ClosedLoop(self.spec, bench, s.adapter, chosen, dimensions,
                               standard_channels() + watch.channels() + list(channels or []))
        self.watched.append((self.loop, watch))
        self._extra[self.loop] = list(channels or [])
        return self.loop

    # ---- power loss ---------------------------------------------------------------
    def power_cycle_refusal(self) -> str | None:
        """Why the module's transport cannot cut its power (None: it can)."""
        return getattr(self.session.adapter, "power_cycle_refusal",
                       "this transport cannot cut the module's power")

    def power_cycle(self, loop: ClosedLoop | None = None) -> ClosedLoop:
        """Cut the module's power after the last step of ``loop`` (default: the current
        one), without warning, and start it again (spec: lifecycle rule power_loss); then
        configure the loop's components with the same parameters — no reset — and return
        the loop that goes on on the same bench (:meth:`ClosedLoop.restarted`), now the
        current one. The two loops are watched apart: the monitors judge each power-on
        period; :meth:`evidence` shows the trace across the cut. AdapterError where the
        transport cannot (:meth:`power_cycle_refusal`) or the module fails to start."""
        old = loop if loop is not None else self.loop
        if old is None:
            raise RuntimeError(f"test case {self.test_case} cut the power before any run")
        s = self.session
        s.adapter.power_cycle()
        for comp in old.components:
            s.adapter.configure(comp, self.params(comp))
        dt_s = float(old.bench.config.dt_s)
        watch = Watch(self.spec, old.components,
                      {c: steps_per_period(self.step_period(c), dt_s) for c in old.components})
        extra = self._extra.get(old, [])
        self.loop = old.restarted(standard_channels() + watch.channels() + extra)
        self.watched.append((self.loop, watch))
        self._extra[self.loop] = extra
        self._before_cut[self.loop] = old
        return self.loop

    def power_on_periods(self, loop: ClosedLoop | None = None) -> list[ClosedLoop]:
        """The loops of one bench run split by power cuts, up to ``loop`` (default: the
        current one), first first."""
        chain = [loop if loop is not None else self.loop]
        while chain[-1] is not None and chain[-1] in self._before_cut:
            chain.append(self._before_cut[chain[-1]])
        return [lp for lp in reversed(chain) if lp is not None]

    def apply_monitors(self) -> list[TestResult]:
        """Check the always-on monitors on every loop this test case ran (once, when it
        ends): each violated invariant becomes a failed result of its requirement."""
        watched, self.watched = self.watched, []
        return apply_monitors(self, watched)

    def dtc_row(self, component: str, fault: str) -> int:
        """Index of a fault code in the ``dtc`` dimension (all fault codes, ascending DTC)."""
        for i, (comp, fc) in enumerate(self.spec.dtc_table):
            if comp == component and fc.name == fault:
                return i
        raise KeyError(f"{component} has no fault code '{fault}'")

    def inconclusive(self, requirement: str, message: str) -> TestResult:
        """The bench could not create the situation the requirement is about."""
        return self._unjudged(requirement, "inconclusive", message)

    def not_applicable(self, requirement: str, message: str) -> TestResult:
        """The module's declaration leaves nothing for this test case to test (e.g. fault
        delays so short that no violation is short enough to be debounced)."""
        return self._unjudged(requirement, "not-applicable", message)

    def _unjudged(self, requirement: str, verdict: VerdictName, message: str) -> TestResult:
        req = self.spec.requirements[requirement]
        return self.record(TestResult(
            test_case=self.test_case, requirement=requirement, title=req.title, level=req.level,
            verdict=verdict, evidence=self.evidence(message, {})))

    def record(self, result: TestResult) -> TestResult:
        """Record a result built by the test case itself (inspection, not-applicable)."""
        self.results.append(result)
        return result

    # ---- judging ------------------------------------------------------------------
    def criteria(self, requirement: str, measured: dict[str, float | None],
                 notes: dict[str, str] | None = None,
                 on_pins: Collection[str] = ()) -> list[CriterionResult]:
        """Compare measured values with every acceptance criterion of ``requirement``,
        without recording anything.

        The limits come from the spec (fixed values) or from the module's declared
        parameters; the test case only measures.

        Over a bus the module's reactions show when the frame that carries them comes: an
        upper bound on a time is judged on the earliest the decision can have been (the
        loop's ``observation_lag_s`` taken off). ``on_pins`` names the time criteria the test
        case measured up to a pin of the module (a contactor command), which the bench reads
        at the step it changes: nothing is taken off them.
        """
        req = self.spec.requirements[requirement]
        missing = [c.name for c in req.acceptance if c.name not in measured]
        unknown = sorted((set(measured) | set(on_pins)) - {c.name for c in req.acceptance})
        if missing or unknown:
            raise RuntimeError(
                f"test case {self.test_case} measured {sorted(measured)}"
                + (f" (on pins {sorted(on_pins)})" if on_pins else "")
                + f" but {requirement} defines {[c.name for c in req.acceptance]}"
            )
        params = self.params(req.component)
        # a time seen over a bus ends when the frame that shows the module's reaction comes,
        # up to one period of it after the module decided: an upper bound is judged on the
        # earliest the decision can have been (0 in process)
        late = float(getattr(self.loop, "observation_lag_s", 0.0))
        results = []
        for c in req.acceptance:
            if c.parameter is None:
                limit, source = float(c.value or 0.0), "spec"
            else:
                limit = float(params[c.parameter])
                source = f"manifest:{req.component}.{c.parameter}"
            value = measured[c.name]
            value = None if value is None else float(value)
            note = (notes or {}).get(c.name, "" if value is not None else "not observed")
            if c.resolution == "step" and value is not None:
                judged = value
                if late and c.comparison in ("<", "<=") and c.name not in on_pins:
                    judged = value - late
                    note = note or (f"seen over the bus up to {late:g} s after the decision "
                                    f"(a frame's period and tolerance): judged as {judged:.3f} s")
                passed = compare_in_steps(judged, c.comparison, limit,
                                          self.step_period(req.component))
            else:
                passed = value is not None and compare(value, c.comparison, limit)
            results.append(CriterionResult(
                name=c.name, comparison=c.comparison, limit=limit, limit_source=source,
                unit=c.unit, measured=value, passed=passed, note=note,
            ))
        return results

    def judge(self, requirement: str, measured: dict[str, float | None], *,
              message: str = "", events: dict[str, float] | None = None,
              notes: dict[str, str] | None = None, evidence: Evidence | None = None,
              simulated_s: float | None = None, on_pins: Collection[str] = ()) -> TestResult:
        """Judge ``requirement`` on measured values (see :meth:`criteria`, also for
        ``on_pins``) and record it, with the trace of the current loop around ``events`` as
        evidence (or ``evidence`` and ``simulated_s`` given by a test case that ran no loop,
        e.g. a vector replay)."""
        req = self.spec.requirements[requirement]
        results = self.criteria(requirement, measured, notes, on_pins)
        verdict: VerdictName = "pass" if all(r.passed for r in results) else "fail"
        if simulated_s is None:
            simulated_s = self.loop.t if self.loop is not None else 0.0
        result = TestResult(
            test_case=self.test_case, requirement=requirement, title=req.title, level=req.level,
            verdict=verdict, criteria=results,
            evidence=evidence if evidence is not None else self.evidence(message, events or {}),
            simulated_s=simulated_s,
        )
        self.results.append(result)
        return result

    def judge_each(self, requirement: str, stimuli: list[Stimulus], *,
                   message: str = "") -> TestResult:
        """Judge ``requirement`` on several stimuli of one test case (cells, sensors, limits,
        contactors): it passes only if every stimulus passes. The first failing stimulus
        (else the last) is recorded, with its own trace as evidence, and the message lists
        every stimulus with its outcome."""
        if not stimuli:
            raise RuntimeError(f"test case {self.test_case} judged {requirement} on no stimulus")
        outcomes = [(s, self.criteria(requirement, s.measured, s.notes, s.on_pins))
                    for s in stimuli]
        failing = [(s, c) for s, c in outcomes if not all(r.passed for r in c)]
        chosen = failing[0][0] if failing else stimuli[-1]
        summary = ", ".join(
            f"{s.label} {'pass' if all(r.passed for r in c) else 'FAIL'}" for s, c in outcomes)
        self.loop = chosen.loop if chosen.loop is not None else self.loop
        text = "; ".join(p for p in (message, chosen.message,
                                     f"stimulated: {summary}; evidence of {chosen.label}") if p)
        return self.judge(requirement, chosen.measured, message=text, events=chosen.events,
                          notes=chosen.notes, on_pins=chosen.on_pins)

    def evidence(self, message: str, events: dict[str, float], window_s: float = 3.0,
                 max_points: int = 600) -> Evidence:
        """The trace around the events (or the whole run), downsampled for the report;
        across the power cuts of the run (:meth:`power_on_periods`)."""
        loop = self.loop
        if loop is None or not loop.t_s:
            return Evidence(message=message, events=events)
        periods = self.power_on_periods(loop)
        t = np.concatenate([np.asarray(lp.t_s, dtype=float) for lp in periods])
        if events:
            lo = min(events.values()) - window_s
            hi = max(events.values()) + window_s
            sel = np.nonzero((t >= lo) & (t <= hi))[0]
        else:
            sel = np.arange(len(t))
        if len(sel) == 0:
            sel = np.arange(len(t))
        stride = max(1, math.ceil(len(sel) / max_points))
        sel = sel[::stride]
        channels = [
            Channel(name=ch.name, unit=ch.unit, values=(
                loop.channel(ch.name) if len(periods) == 1 else np.concatenate(
                    [_channel_or_nan(lp, ch.name) for lp in periods]))[sel].tolist())
            for ch in loop.channels if loop.readable(ch.name)
        ]
        return Evidence(message=message, t_s=[float(x) for x in t[sel]], channels=channels,
                        events=events)


def _channel_or_nan(loop: ClosedLoop, name: str) -> np.ndarray:
    """A recorded channel of ``loop``, NaN on every step where it has none."""
    try:
        return loop.channel(name)
    except KeyError:
        return np.full(len(loop.t_s), np.nan)
