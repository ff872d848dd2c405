"""Checks of a manifest against the spec, run before any test case.

A module whose manifest fails here is refused: testing it would measure against limits
the spec does not allow, or against components it cannot reach. Every message names the
manifest line, the field, what the spec expects and what the manifest says.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from ..bench.chemistry import CHEMISTRIES, bench_model
from ..bench.config import temperature_sensor_problem
from ..spec.loader import MAX_SCHEMA_ISSUES, Spec
from ..spec.models import Change, Interface, LimitSet, Parameter
from ..spec.source import Issue, dotted
from .model import Manifest

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")


def check_manifest(manifest: Manifest, spec: Spec) -> list[Issue]:
    """Every reason to refuse ``manifest`` against ``spec`` (up to
    :data:`~conformance.spec.loader.MAX_SCHEMA_ISSUES`, then how many more); empty when it
    may be tested."""
    issues: list[Issue] = []
    for check in (_version, _claims, _pack, _adapter, _configuration, _limit_order,
                  _current_for_capacity, _consistency, _hmi_http):
        issues.extend(check(manifest, spec))
    if len(issues) > MAX_SCHEMA_ISSUES:  # one mistake repeated thousands of times
        rest = issues[MAX_SCHEMA_ISSUES]
        more = Issue(rest.file, rest.line, rest.field,
                     f"... and {len(issues) - MAX_SCHEMA_ISSUES} more problems like the ones "
                     "above, not shown")
        issues = issues[:MAX_SCHEMA_ISSUES] + [more]
    return issues


def _known(spec: Spec) -> str:
    return ", ".join(sorted(spec.interfaces))


def _issue(m: Manifest, path: tuple[str | int, ...], message: str) -> Issue:
    return Issue(m.source, m.line(*path), dotted(path), message)


# --------------------------------------------------------------------------- version
def _version_key(text: str) -> tuple[int, int, int, int] | None:
    match = _SEMVER.match(text)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    return int(major), int(minor), int(patch), 0 if pre else 1  # a pre-release sorts first


def compatible(module_spec_version: str, spec_version: str,
               changelog: Sequence[Change] = ()) -> str | None:
    """Why a module built for ``module_spec_version`` cannot be tested against
    ``spec_version``; None when it can.

    Semantic versioning: in 0.x every minor release may break, so major and minor must
    match; from 1.0 the major must match. A module may not claim a newer spec than the
    one the bench holds (it may rely on requirements the bench cannot test). A module
    built for an older release is told what changed since, from the spec's ``changelog``,
    so that its vendor knows what to re-check before declaring the new version.
    """
    mine, theirs = _version_key(module_spec_version), _version_key(spec_version)
    if mine is None or theirs is None:
        return f"expected a semantic version, found {module_spec_version!r}"
    same = mine[:2] == theirs[:2] if theirs[0] == 0 else mine[0] == theirs[0]
    if not same:
        rule = "the same major.minor (0.x)" if theirs[0] == 0 else "the same major version"
        message = (f"expected a version compatible with the bench's spec {spec_version} "
                   f"({rule}), found {module_spec_version}")
        if mine < theirs:
            message += _changes_since(mine, module_spec_version, spec_version, changelog)
        return message
    if mine > theirs:
        return (f"expected a spec version not newer than the bench's spec {spec_version}, "
                f"found {module_spec_version}")
    return None


def _changes_since(mine: tuple[int, int, int, int], module_spec_version: str,
                   spec_version: str, changelog: Sequence[Change]) -> str:
    """The changelog entries newer than the module's version, one clause each."""
    newer = [c for c in changelog if (_version_key(c.version) or mine) > mine]
    if not newer:
        return ""
    lines = "".join(f"\n  - {', '.join(c.affects)}: {c.change.rstrip('.')}" for c in newer)
    return (f". Changed since {module_spec_version}:{lines}\nCheck the module against "
            f"these changes, then declare spec_version {spec_version}")


def _version(m: Manifest, spec: Spec) -> Iterator[Issue]:
    problem = compatible(m.spec_version, spec.version, spec.standard.changelog)
    if problem:
        yield _issue(m, ("spec_version",), problem)


def _claims(m: Manifest, spec: Spec) -> Iterator[Issue]:
    for key, known, what in (("profiles", set(spec.profiles), "profile"),
                             ("features", spec.features, "feature")):
        seen: set[str] = set()
        for i, item in enumerate(getattr(m, key)):
            if item in seen:
                yield _issue(m, (key, i), f"{what} '{item}' is listed twice")
            elif item not in known:
                yield _issue(m, (key, i),
                             f"expected a {what} of the spec ({', '.join(sorted(known))}), "
                             f"found '{item}'")
            seen.add(item)


# --------------------------------------------------------------------------- pack
def _pack(m: Manifest, spec: Spec) -> Iterator[Issue]:
    """A pack that no product has: more temperature sensors than cells (the bench's own
    rule), or a full-charge voltage beyond the range of the dictionary's pack voltage."""
    pack = m.pack
    problem = temperature_sensor_problem(pack.cell_count, pack.temperature_sensor_count)
    if problem:
        yield _issue(m, ("pack", "temperature_sensor_count"), problem)
    signal = spec.signals.get("pack_voltage_V")
    top = signal.range.max if signal is not None and signal.range is not None else None
    if top is None:
        return
    model = bench_model(pack.chemistry)
    cell_V = CHEMISTRIES[model].limits.charge_limit_V
    # the module could not even report such a pack's voltage in pack_voltage_V, and the
    # bench's voltage sensors saturate at that range (the 1 500 V of low-voltage equipment);
    # judged with the cell model the bench simulates (NMC for NCA, LMO, LCO and other)
    if pack.cell_count * cell_V > top:
        yield _issue(m, ("pack", "cell_count"),
                     f"expected at most {math.floor(top / cell_V)} series {pack.chemistry} "
                     f"cells (full charge {cell_V:g} V each within the range of pack_voltage_V, "
                     f"{top:g} V), found {pack.cell_count} "
                     f"({pack.cell_count * cell_V:.0f} V)")


#: Highest current a pack can carry, in multiples of its capacity (C-rate, 1/h): the
#: pulse rating of high-power lithium cells is tens of C; a current limit beyond 100 C
#: describes a pack that does not exist (a 1 mAh pack limited at 300 A is 300 000 C).
MAX_C_RATE = 100.0


def _current_for_capacity(m: Manifest, spec: Spec) -> Iterator[Issue]:
    """Every current limit set (unit A) of a claimed component: its maximum safety limit
    stays within :data:`MAX_C_RATE` times the declared capacity."""
    capacity = m.pack.capacity_Ah
    for component in m.claimed_components(spec):
        itf = spec.interfaces.get(component)
        if itf is None:
            continue
        effective = m.effective_parameters(spec, component)
        units = {p.name: p.unit for p in itf.parameters}
        for limits in itf.limit_sets:
            name = limits.levels.msl
            value = effective.get(name)
            if units.get(name) != "A" or not isinstance(value, (int, float)) \
                    or isinstance(value, bool) or abs(value) <= MAX_C_RATE * capacity:
                continue
            declared = name in m.configuration.get(component, {})
            path = ("configuration", component, name) if declared else ("pack", "capacity_Ah")
            yield _issue(m, path,
                         f"expected {name} at most {MAX_C_RATE:g} C of the {capacity:g} Ah "
                         f"pack ({MAX_C_RATE * capacity:g} A), found {value:g} A "
                         f"({abs(value) / capacity:.0f} C"
                         f"{'' if declared else ', the spec default'})")


# --------------------------------------------------------------------------- consistency
#: cell voltages other components declare that must lie within the safety supervisor's MSL
#: window (component, parameter, the side it may not pass: "max" or "min", why)
CELL_VOLTAGES_INSIDE_MSL: tuple[tuple[str, str, str, str], ...] = (
    ("charge_control", "charge_voltage_limit_V", "max",
     "a charge to it would trip the over-voltage fault (OBSA-CHG-001, OBSA-SAFE-001)"),
    ("sop_estimator", "sop_charge_voltage_limit_V", "max",
     "a charge limit kept to it would let the cells reach the over-voltage fault"),
    ("sop_estimator", "sop_discharge_voltage_limit_V", "min",
     "a discharge limit kept to it would let the cells reach the under-voltage fault"),
    ("balancing", "balancing_min_cell_voltage_V", "max",
     "above the over-voltage fault no cell could ever be balanced"),
)


def _inside_the_safety_limits(claimed: set[str], value: Any, issue: Any) -> Iterator[Issue]:
    """The cell voltages of :data:`CELL_VOLTAGES_INSIDE_MSL` within the declared (or
    default) cell_voltage_max_msl_V / cell_voltage_min_msl_V: e.g. a scaffold moved to LFP
    whose charger still targets the NMC 4.2 V."""
    bounds = {"max": value("safety_supervisor", "cell_voltage_max_msl_V"),
              "min": value("safety_supervisor", "cell_voltage_min_msl_V")}
    for component, name, side, why in CELL_VOLTAGES_INSIDE_MSL:
        v, bound = (value(component, name) if component in claimed else None), bounds[side]
        if v is None or bound is None:
            continue
        if (side == "max" and v > bound) or (side == "min" and v < bound):
            word = "at most" if side == "max" else "at least"
            yield issue(component, name,
                        f"expected {word} the safety supervisor's cell_voltage_{side}_msl_V = "
                        f"{bound:g} V ({why}), found {v:g} V")


def _consistency(m: Manifest, spec: Spec) -> Iterator[Issue]:
    """Declarations that are each in range but contradict each other: a module so declared
    would fail requirements for reasons of its own declaration, not of its behaviour, so
    the manifest is refused with the reason instead (DESIGN §5: a valid manifest that can
    never be certified is a suite defect). A value of the wrong type is the business of
    :func:`_configuration`; the rules it takes part in are then not applied."""
    claimed = set(m.claimed_components(spec))
    numbers: dict[tuple[str, str], float | None] = {}

    def value(component: str, name: str) -> float | None:
        if (component, name) not in numbers:
            v = m.effective_parameters(spec, component).get(name)
            numbers[component, name] = None
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                numbers[component, name] = float(v)
        return numbers[component, name]

    def issue(component: str, name: str, message: str) -> Issue:
        declared = name in m.configuration.get(component, {})
        return _issue(m, ("configuration", component, name) if declared
                      else ("configuration", component), message)

    if "contactor_manager" in claimed:
        tol = value("contactor_manager", "precharge_voltage_tolerance_V")
        acc = value("current_sensor", "voltage_accuracy_V")
        if tol is not None and acc is not None and not tol > acc:
            # the link-vs-pack comparison could never see the tolerance
            yield issue("contactor_manager", "precharge_voltage_tolerance_V",
                        f"expected a precharge tolerance above the declared voltage accuracy "
                        f"current_sensor.voltage_accuracy_V = {acc:g} V, found {tol:g} V")
    if "protection" in claimed:
        short = value("protection", "short_circuit_A")
        over = value("protection", "discharge_overcurrent_A")
        if short is not None and over is not None and not short > over:
            # the front end's cut would act first: the over-current limit could never act
            yield issue("protection", "short_circuit_A",
                        f"expected a short-circuit level above the discharge over-current "
                        f"limit discharge_overcurrent_A = {over:g} A, found {short:g} A")
    if "balancing" in claimed:
        threshold = value("balancing", "balancing_threshold_V")
        hysteresis = value("balancing", "balancing_hysteresis_V")
        if threshold is not None and hysteresis is not None and hysteresis > threshold:
            # OBSA-BAL-008: a balanced cell would have to fall below the lowest cell
            yield issue("balancing", "balancing_hysteresis_V",
                        f"expected a balancing hysteresis of at most the threshold "
                        f"balancing_threshold_V = {threshold:g} V (OBSA-BAL-008: a cell would "
                        f"have to fall below the lowest cell to stop; declare both when the "
                        f"threshold is below the default hysteresis), found {hysteresis:g} V")
    if "thermal_manager" in claimed:
        # OBSA-THERM-007: heating_on < heating_off < cooling_off < cooling_on (declared or
        # the spec's defaults)
        names = ("heating_on_temperature_degC", "heating_off_temperature_degC",
                 "cooling_off_temperature_degC", "cooling_on_temperature_degC")
        values = [value("thermal_manager", n) for n in names]
        for i in range(len(names) - 1):
            low_name, low, high_name, high = names[i], values[i], names[i + 1], values[i + 1]
            if low is not None and high is not None and not low < high:
                yield issue("thermal_manager", high_name,
                            f"expected a temperature above {low_name} = {low:g} °C (OBSA-THERM-"
                            f"007: heating on < heating off < cooling off < cooling on), found "
                            f"{high:g} °C")
    if "safety_supervisor" not in claimed:
        return
    yield from _inside_the_safety_limits(claimed, value, issue)
    warning = value("safety_supervisor", "insulation_warning_ohm")
    error = value("safety_supervisor", "insulation_error_ohm")
    if warning is not None and error is not None and not warning > error:
        # OBSA-SAFE-027: the warning comes first as the insulation falls
        yield issue("safety_supervisor", "insulation_warning_ohm",
                    f"expected the insulation warning threshold above the error threshold "
                    f"insulation_error_ohm = {error:g} Ω (OBSA-SAFE-027), found {warning:g} Ω")
    tol = value("safety_supervisor", "pack_voltage_tolerance_V")
    pack_acc = value("current_sensor", "voltage_accuracy_V")
    cell_acc = value("cell_monitor", "cell_voltage_accuracy_V")
    if tol is not None and pack_acc is not None and cell_acc is not None:
        errors = pack_acc + m.pack.cell_count * cell_acc
        if not tol > errors:  # declared sensor errors alone would trip it (OBSA-SAFE-028)
            yield issue("safety_supervisor", "pack_voltage_tolerance_V",
                        f"expected a pack-voltage tolerance above the worst case of the declared "
                        f"measurement errors (pack voltage accuracy + {m.pack.cell_count} × cell "
                        f"voltage accuracy = {errors:g} V), found {tol:g} V")
    cycle = value("cell_monitor", "measurement_cycle_s")
    for name, sensor, period in (
            ("cell_monitor_timeout_s", "cell monitor's measurement cycle", cycle),
            ("current_sensor_timeout_s", "current sensor's step period",
             spec.interfaces["current_sensor"].step_period_s)):
        timeout = value("safety_supervisor", name)
        if timeout is not None and period is not None and not timeout > period:
            # a healthy sensor's data is that old just before each sample
            yield issue("safety_supervisor", name,
                        f"expected a timeout above the {sensor} ({period:g} s: a healthy "
                        f"sensor's data is that old just before each sample), "
                        f"found {timeout:g} s")
    delay = value("safety_supervisor", "plausibility_fault_delay_s")
    if delay is not None and cycle is not None and delay < cycle:
        # the cell sum lags a load step by up to one cycle
        yield issue("safety_supervisor", "plausibility_fault_delay_s",
                    f"expected a plausibility delay of at least the declared cell monitor "
                    f"cycle cell_monitor.measurement_cycle_s = {cycle:g} s (the sum of the "
                    f"cells lags a load step by up to one cycle, so a shorter delay trips on "
                    f"every current step), found {delay:g} s")


# --------------------------------------------------------------------------- adapter
def _adapter(m: Manifest, spec: Spec) -> Iterator[Issue]:
    entries = m.adapter.components
    for component in entries:
        if component not in spec.interfaces:
            yield _issue(m, ("adapter", "components", component),
                         f"expected a component of the spec ({_known(spec)}), "
                         f"found '{component}'")
    for pid in m.profiles:
        profile = spec.profiles.get(pid)
        for component in profile.components if profile else []:
            if component not in entries:
                yield _issue(m, ("adapter", "components"),
                             f"expected an entry for component '{component}' "
                             f"(profile '{pid}'), found none")
    yield from _transport(m, spec)


def _transport(m: Manifest, spec: Spec) -> Iterator[Issue]:
    """What the transport finds wrong in its settings without running the module (an
    FMU's variables against the interfaces). An unknown transport is not refused here: it
    may be installed later; opening it then fails every test case with the reason."""
    from ..adapters import Adapter, AdapterError, adapter_settings, transport_class

    claimed = [c for c in m.claimed_components(spec) if c in m.adapter.components]
    if not claimed:
        return
    try:
        cls = transport_class(m.adapter.type)
    except AdapterError:
        return
    if getattr(cls.settings_problems, "__func__", None) is \
            getattr(Adapter.settings_problems, "__func__", None):
        return  # the transport checks nothing before it runs (python, process)
    settings = adapter_settings(m)
    settings["components"] = {c: m.adapter.components[c] for c in claimed}
    parameters = {c: m.effective_parameters(spec, c) for c in claimed}
    for path, message in cls.settings_problems(settings, spec, m.dimensions(spec), parameters):
        yield _issue(m, path, message)


# --------------------------------------------------------------------------- parameters
def _configuration(m: Manifest, spec: Spec) -> Iterator[Issue]:
    for component, values in m.configuration.items():
        itf = spec.interfaces.get(component)
        if itf is None:
            yield _issue(m, ("configuration", component),
                         f"expected a component of the spec ({_known(spec)}), "
                         f"found '{component}'")
            continue
        params = {p.name: p for p in itf.parameters}
        for name, value in values.items():
            path = ("configuration", component, name)
            param = params.get(name)
            if param is None:
                known = ", ".join(sorted(params)) or "none"
                yield _issue(m, path, f"expected a parameter of {component} ({known}), "
                                      f"found '{name}'")
                continue
            if param.feature is not None and param.feature not in m.features:
                yield _issue(m, path, f"expected no value: {name} belongs to the optional "
                                      f"feature '{param.feature}', which the manifest does not "
                                      "claim (claim it under 'features', or leave the value out)")
                continue
            problem = value_problem(spec, param, value)
            if problem:
                yield _issue(m, path, problem)
    for component in m.claimed_components(spec):
        itf = spec.interfaces.get(component)
        declared = m.configuration.get(component, {})
        for param in itf.parameters if itf else []:
            if param.feature is not None and param.feature not in m.features:
                continue
            if param.default is None and param.name not in declared:
                yield _issue(m, ("configuration", component),
                             f"expected a declared value of '{param.name}' (the spec gives no "
                             "default), found none")


def value_problem(spec: Spec, param: Parameter, value: Any) -> str | None:
    """Why ``value`` is not a valid value of ``param``; None when it is."""
    unit = "" if param.unit == "1" else f" {param.unit}"
    if param.type == "bool":
        return None if isinstance(value, bool) else f"expected true or false, found {_shown(value)}"
    if param.type == "enum":
        enum = spec.enums.get(param.enum or "")
        names = {v.name: v.value for v in enum.values} if enum else {}
        if (isinstance(value, str) and value in names) or (
            isinstance(value, int) and not isinstance(value, bool) and value in names.values()
        ):
            return None
        return f"expected one of {', '.join(names)}, found {_shown(value)}"
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if param.type == "int" and not (numeric and isinstance(value, int)):
        return f"expected an integer{unit}, found {_shown(value)}"
    if not numeric:
        return f"expected a number{unit}, found {_shown(value)}"
    if not math.isfinite(value):
        return f"expected a finite number{unit}, found {_shown(value)}"
    rng = param.range
    if rng is not None and ((rng.min is not None and value < rng.min)
                            or (rng.max is not None and value > rng.max)):
        lo = "-inf" if rng.min is None else f"{rng.min:.10g}"
        hi = "inf" if rng.max is None else f"{rng.max:.10g}"
        return f"expected a value in [{lo}, {hi}]{unit} (spec range), found {_shown(value)}"
    return None


def _shown(value: Any) -> str:
    """A found value for a message: as Python writes it, cut short when long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- limit order
def _limit_order(m: Manifest, spec: Spec) -> Iterator[Issue]:
    for itf in spec.interfaces.values():
        for limits in itf.limit_sets:
            problem = _order_problem(m, spec, itf, limits)
            if problem:
                yield problem


def _order_problem(m: Manifest, spec: Spec, itf: Interface, limits: LimitSet) -> Issue | None:
    names = (limits.levels.mol, limits.levels.rsl, limits.levels.msl)
    effective = m.effective_parameters(spec, itf.component)
    raw = [effective.get(n) for n in names]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        return None  # a missing or mistyped value is reported by _configuration
    values = [float(v) for v in raw]  # type: ignore[arg-type]  # numbers, checked above
    upper = limits.direction == "upper"
    broken = [(i, i + 1) for i in (0, 1)
              if not (values[i] < values[i + 1] if upper else values[i] > values[i + 1])]
    if not broken:
        return None
    op = "<" if upper else ">"
    declared = m.configuration.get(itf.component, {})
    # point at a declared level of the first pair out of order (the spec defaults are ordered)
    order = [i for pair in broken for i in pair] + [0, 1, 2]
    culprit = next((names[i] for i in order if names[i] in declared), None)
    path: tuple[str | int, ...] = ("configuration", itf.component)
    if culprit:
        path += (culprit,)
    found = ", ".join(
        f"{n} = {v:g}{'' if n in declared else ' (spec default)'}"
        for n, v in zip(names, values, strict=True)
    )
    return _issue(
        m, path,
        f"expected MOL {op} RSL {op} MSL for the {limits.direction} limit "
        f"'{limits.quantity}', found {found}",
    )


# --------------------------------------------------------------------------- HMI over HTTP
HMI_HTTP_FEATURE = "hmi_http"


def _hmi_http(m: Manifest, spec: Spec) -> Iterator[Issue]:
    """The feature hmi_http and the section hmi_http go together; a URL holds no
    placeholder but {port}, and the service belongs to a module with an HMI API."""
    claimed = HMI_HTTP_FEATURE in m.features
    if claimed and m.hmi_http is None:
        yield _issue(m, ("features",), f"expected a section 'hmi_http' with the url of the "
                     f"service (the feature {HMI_HTTP_FEATURE} is claimed), found none")
    if m.hmi_http is None:
        return
    if not claimed:
        yield _issue(m, ("hmi_http",), f"expected the feature {HMI_HTTP_FEATURE} under "
                     "'features' with a section hmi_http, found it not claimed")
    if "hmi_api" not in m.claimed_components(spec):
        yield _issue(m, ("hmi_http",), "expected a claimed profile with the component "
                     "hmi_api (full_bms, telemetry_gateway) for an HMI service, found none")
    others = sorted(set(re.findall(r"\{([^}]*)\}", m.hmi_http.url)) - {"port"})
    if others:
        yield _issue(m, ("hmi_http", "url"), "expected no placeholder but {port}, found "
                     + ", ".join(f"{{{o}}}" for o in others))
