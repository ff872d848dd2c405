"""``obsa manifest init``: a complete, commented manifest for the chosen profiles.

Every parameter of every component the profiles need (the profiles' components and the
measurement hardware the bench models from the manifest: cell monitor, current sensor,
isolation monitor) is written with its value, and a comment with its unit, spec range, spec
default and one line of its meaning. The values are the spec defaults, except the cell
voltage levels, which follow the chosen chemistry (the spec defaults are NMC values): a
manifest written here is accepted by ``obsa manifest check`` as it is.

The YAML is written as text (comments need it), one scalar per line; the tests read every
generated manifest back with ``yaml.safe_load`` and check it.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..bench.chemistry import CHEMISTRIES, R0_OHM_AH, bench_model
from ..manifest.check import MAX_C_RATE
from ..spec.conditions import names as condition_names
from ..spec.loader import Spec
from ..spec.models import Parameter
from . import ToolError

CHEMISTRY_CHOICES = ("nmc", "nca", "lfp", "lto", "lmo", "lco", "other")

#: Components that describe the measurement hardware the module is specified with: the
#: bench builds its sensor models from their declared accuracies and cycles, whatever the
#: profile (a profile lists them as components only when the module implements them).
HARDWARE = ("cell_monitor", "current_sensor")
#: ... and the isolation monitor, for a module that supervises the insulation
INSULATION = ("isolation_monitor", "insulation_monitoring")

#: Cell voltage levels by the bench's cell model (:func:`bench_model`), the spec defaults
#: being the NMC ones. Upper: MOL, RSL, MSL; lower: MOL, RSL, MSL; the MSLs and the
#: single-level protection limits are the chemistry's fault limits of the bench's cell model
#: (Libre Solar bms-firmware's defaults, :mod:`conformance.bench.chemistry`; LFP's over-voltage
#: as the reference basic protection declares it); the deep-discharge lockout lies below the
#: under-voltage MSL. Every other cell voltage a component declares moves with them where the
#: spec's NMC defaults stand: the charge voltage, the SoC reference's full voltage and the
#: SoP's charge limit at Libre Solar's charge voltage limit, the SoP's discharge limit at its
#: discharge voltage limit (4.20 V and 3.20 V for NMC, the spec defaults), the balancing floor
#: near 10 % SoC of the bench's curve, the logger's deep-discharge count at the under-voltage
#: MSL.
_CELL_VOLTAGES: dict[str, dict[str, float]] = {
    "lfp": {
        "cell_voltage_max_mol_V": 3.55, "cell_voltage_max_rsl_V": 3.6,
        "cell_voltage_max_msl_V": 3.65,
        "cell_voltage_min_mol_V": 2.8, "cell_voltage_min_rsl_V": 2.65,
        "cell_voltage_min_msl_V": 2.5,
        "deep_discharge_voltage_V": 2.0,
        "cell_overvoltage_V": 3.65, "cell_undervoltage_V": 2.5,
        "charge_voltage_limit_V": 3.55, "soc_full_voltage_V": 3.55, "soc_empty_voltage_V": 2.5,
        "sop_charge_voltage_limit_V": 3.55, "sop_discharge_voltage_limit_V": 2.8,
        "balancing_min_cell_voltage_V": 3.2, "deep_discharge_threshold_V": 2.5,
    },
    "lto": {
        "cell_voltage_max_mol_V": 2.75, "cell_voltage_max_rsl_V": 2.8,
        "cell_voltage_max_msl_V": 2.85,
        "cell_voltage_min_mol_V": 2.0, "cell_voltage_min_rsl_V": 1.95,
        "cell_voltage_min_msl_V": 1.9,
        "deep_discharge_voltage_V": 1.5,
        "cell_overvoltage_V": 2.85, "cell_undervoltage_V": 1.9,
        "charge_voltage_limit_V": 2.8, "soc_full_voltage_V": 2.8, "soc_empty_voltage_V": 1.9,
        "sop_charge_voltage_limit_V": 2.8, "sop_discharge_voltage_limit_V": 2.0,
        "balancing_min_cell_voltage_V": 2.2, "deep_discharge_threshold_V": 1.9,
    },
}

_TRANSPORTS = """\
# Other transports (docs/vendor-guide.md §6): replace 'type' (and 'options') above.
#   type: process     # your program speaks the wire contract on stdin/stdout
#   options:
#     command: [./build/my_bms_server, --stdio]   # relative to where obsa runs, or cwd
#     cwd: .
#     env: {{}}
#     startup_timeout_s: 30
#   type: tcp         # a module behind a gateway or on a test rig
#   options:
#     host: 127.0.0.1
#     port: 5555
#     connect_timeout_s: 5
#     startup_timeout_s: 30
#   type: fmu         # one FMI 2.0 co-simulation FMU per component, relative to this file
#   components:
{fmus}
#   options:
#     memory_limit_MB: 4096
#     startup_timeout_s: 30
"""


@dataclass(frozen=True)
class InitOptions:
    """What ``obsa manifest init`` was asked for."""

    profiles: tuple[str, ...]
    chemistry: str = "nmc"
    cells: int | None = None
    temperature_sensors: int | None = None
    capacity_Ah: float = 50.0
    features: bool = True


HMI_HTTP = "hmi_http"
"""The feature whose module declares where its HMI service answers (section hmi_http)."""


def default_cells(chemistry: str) -> int:
    """A usual pack of the chemistry: 96 series NMC cells (a 400 V car), 16 LFP cells (a 48 V
    battery), 24 LTO cells."""
    return {"lfp": 16, "lto": 24}.get(chemistry, 96)


def needed_components(spec: Spec, profiles: Iterable[str]) -> list[str]:
    """The components whose parameters a manifest of ``profiles`` declares: the profiles'
    own (in execution order), then the measurement hardware the bench models — for a node
    judged on the CAN buses, only the hardware whose measurements its buses carry (a CMU
    declares its cell monitor, not the master's current sensor)."""
    profiles = list(profiles)
    out: dict[str, None] = {}
    for pid in profiles:
        for component in spec.profiles[pid].components:
            out.setdefault(component, None)
    nodes = {spec.profiles[pid].node for pid in profiles}
    hardware = HARDWARE if None in nodes else _carried_hardware(
        spec, {n for n in nodes if n is not None})
    for component in hardware:
        out.setdefault(component, None)
    if INSULATION[1] in conditional_features(spec, profiles):
        out.setdefault(INSULATION[0], None)
    return [c for c in out if c in spec.interfaces]


def _carried_hardware(spec: Spec, nodes: set[str]) -> tuple[str, ...]:
    """The :data:`HARDWARE` components an output of which a frame of the buses of ``nodes``
    carries."""
    from ..adapters.can import node_buses

    buses = {bus for node in nodes for bus in node_buses(spec, node)}
    carried = {s.signal for catalog in spec.can_catalogs if catalog.bus.id in buses
               for frame in catalog.frames for s in frame.signals}
    return tuple(c for c in HARDWARE if c in spec.interfaces
                 and any(o.signal in carried for o in spec.interfaces[c].outputs))


def conditional_features(spec: Spec, profiles: Iterable[str]) -> dict[str, list[str]]:
    """feature → what it turns on for ``profiles``: the requirements whose condition names it
    and the parameters that belong to it, in spec order."""
    profiles = list(profiles)
    components = {c for pid in profiles for c in spec.profiles[pid].components}
    out: dict[str, list[str]] = {}
    for req in spec.requirements.values():
        if req.condition and any(p in req.profiles for p in profiles):
            for feature in sorted(condition_names(req.condition)):
                out.setdefault(feature, []).append(req.id)
    for component in components:
        for param in spec.interfaces[component].parameters:
            if param.feature is not None:
                out.setdefault(param.feature, []).append(f"{component}.{param.name}")
    order = [f.id for f in spec.profiles_file.features]
    return {f: out[f] for f in order if f in out}


def _float(value: float) -> str:
    """A float as YAML 1.1 (and so yaml.safe_load) reads it back as a float: 1e-05 needs
    its dot (1.0e-05), 4 becomes 4.0."""
    text = format(value, ".10g")
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{exponent}"
    return text if "." in text else text + ".0"


def scalar(value: Any, kind: str | None = None) -> str:
    """One YAML scalar: true/false, an integer, a float with its dot, else a quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and kind != "float":
        return str(value)
    if isinstance(value, (int, float)):
        return _float(float(value))
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML string


def _one_line(text: str, width: int = 92) -> str:
    """The first sentence of a description, on one line, cut to ``width``."""
    flat = " ".join(text.split())
    first = flat.split(". ")[0].rstrip(".") + "."
    return textwrap.shorten(first, width=width, placeholder=" …")


def _number(value: float | None) -> str:
    return "…" if value is None else format(value, ".10g")


def _param_comment(spec: Spec, param: Parameter, value: Any, chemistry: str) -> str:
    unit = "" if param.unit == "1" else f"{param.unit}, "
    parts = [unit.rstrip(", ")] if unit else []
    if param.type == "enum" and param.enum in spec.enums:
        parts.append("one of " + " | ".join(v.name for v in spec.enums[param.enum].values))
    elif param.range is not None:
        parts.append(f"range {_number(param.range.min)} … {_number(param.range.max)}")
    if param.default is not None and param.default != value:
        parts.append(f"spec default {scalar(param.default, param.type)} (NMC); "
                     f"set for {chemistry}")
    else:
        parts.append("spec default" if param.default is not None else "no spec default")
    return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class _Pack:
    chemistry: str
    cells: int
    capacity_Ah: float


def _placeholders(pack: _Pack) -> dict[str, float]:
    """Values for the parameters the spec gives no default: from the pack where the
    parameter describes it, else a representative number the vendor must replace."""
    model = CHEMISTRIES[bench_model(pack.chemistry)]
    mean_V = float(model.ocv_V(0.5))
    cap = pack.capacity_Ah
    return {
        "reference_capacity_Ah": cap, "rated_capacity_Ah": cap,
        "equivalent_cycle_capacity_Ah": cap,
        "soc_reference_current_A": round(cap / 20, 6),  # C/20
        "soc_convergence_time_s": 600.0,
        "initial_resistance_ohm": round(R0_OHM_AH / cap, 9),  # the bench's cells
        "certified_energy_Wh": round(pack.cells * mean_V * cap),
        "power_reference_soc": 0.5, "power_reference_duration_s": 10.0,
        "capacity_accuracy": 0.05, "resistance_accuracy": 0.2,
        "sop_horizon_s": 10.0,
        "charge_current_max_A": round(cap / 2, 6),  # C/2
        "charge_termination_current_A": round(cap / 20, 6),
        "buffer_capacity_records": 10000,
        "manufacture_date_s": 1767225600.0, "service_start_date_s": 1767225600.0,  # 2026-01-01
    }


def _fallback(param: Parameter) -> float | int | bool:
    """A value in the spec range of a parameter with neither a default nor a placeholder."""
    if param.type == "bool":
        return False
    rng = param.range
    lo = rng.min if rng is not None else None
    hi = rng.max if rng is not None else None
    value = lo if lo is not None else hi if hi is not None else 0.0
    return int(math.ceil(value)) if param.type in ("int", "enum") else float(value)


def _values(spec: Spec, component: str, pack: _Pack) -> dict[str, tuple[Any, bool]]:
    """name → (value, whether it is a placeholder for a parameter without spec default)."""
    table = _CELL_VOLTAGES.get(bench_model(pack.chemistry), {})
    placeholders = _placeholders(pack)
    out: dict[str, tuple[Any, bool]] = {}
    for param in spec.interfaces[component].parameters:
        value = param.default
        if param.name in table:
            value = table[param.name]
        if value is None:
            value = placeholders.get(param.name, _fallback(param))
            out[param.name] = (value, True)
        else:
            out[param.name] = (value, False)
    return out


def _check_options(spec: Spec, opts: InitOptions) -> None:
    unknown = [p for p in opts.profiles if p not in spec.profiles]
    if unknown:
        raise ToolError(f"unknown profile '{unknown[0]}' (the spec's profiles: "
                        f"{', '.join(spec.profiles)})")
    if not opts.profiles:
        raise ToolError("name at least one profile (the spec's profiles: "
                        f"{', '.join(spec.profiles)})")
    if opts.chemistry not in CHEMISTRY_CHOICES:
        raise ToolError(f"unknown chemistry '{opts.chemistry}' (one of "
                        f"{', '.join(CHEMISTRY_CHOICES)})")
    if opts.cells is not None and not 1 <= opts.cells <= 1000:
        raise ToolError(f"expected 1 to 1000 series cells, found {opts.cells}")
    if opts.temperature_sensors is not None and not 1 <= opts.temperature_sensors <= 1000:
        raise ToolError(f"expected 1 to 1000 temperature sensors, found "
                        f"{opts.temperature_sensors}")
    if not (math.isfinite(opts.capacity_Ah) and 0.001 <= opts.capacity_Ah <= 10000):
        raise ToolError(f"expected a capacity of 0.001 to 10000 Ah, found {opts.capacity_Ah:g}")


def render_manifest(spec: Spec, opts: InitOptions) -> str:
    """The text of a complete manifest for ``opts`` (raises :class:`ToolError` for an
    unknown profile or chemistry, or a pack out of the manifest's bounds)."""
    _check_options(spec, opts)
    profiles = list(dict.fromkeys(opts.profiles))
    chemistry = opts.chemistry
    cells = opts.cells if opts.cells is not None else default_cells(chemistry)
    sensors = opts.temperature_sensors if opts.temperature_sensors is not None \
        else max(1, min(cells, math.ceil(cells / 4)))
    features = conditional_features(spec, profiles)
    claimed = set(features) if opts.features else set()
    components = needed_components(spec, profiles)
    own = [c for pid in profiles for c in spec.profiles[pid].components]
    own = list(dict.fromkeys(own))

    out: list[str] = []
    w = out.append
    w(f"# OBSA module manifest (PICS + PIXIT) for {', '.join(profiles)}: "
      f"written by obsa manifest init.")
    w("# Edit every value to what your module declares, then:  obsa manifest check THIS_FILE")
    w("# Each parameter: its meaning (comment above), then unit; spec range; spec default.")
    w('obsa_manifest: "1.0"')
    w("module:")
    w('  vendor: "Your company"')
    w('  name: "Your BMS module"')
    w('  version: "0.1.0"          # your version of the module under test')
    w("  software_hash: null       # e.g. the git commit of the build; copied into the report")
    w(f'spec_version: "{spec.version}"     # the OBSA spec the module implements')
    w("profiles:")
    for pid in profiles:
        profile = spec.profiles[pid]
        w(f"  # {profile.title}: {_one_line(profile.description, 80)}")
        w(f"  - {pid}")
    _features(spec, w, features, claimed)
    model = bench_model(chemistry)
    w("pack:")
    note = "" if model == chemistry else f"; the bench simulates {model.upper()} cells for it"
    cell_V = CHEMISTRIES[model].limits.charge_limit_V
    for entry, comment in (
            (f"chemistry: {chemistry}", f"one of {', '.join(CHEMISTRY_CHOICES)}{note}"),
            (f"cell_count: {cells}", f"series cells ({cells * cell_V:.0f} V at full charge)"),
            (f"temperature_sensor_count: {sensors}", "cell temperature sensors, at most one "
                                                     "per cell"),
            (f"capacity_Ah: {_float(opts.capacity_Ah)}", f"rated capacity; every current "
                                                        f"limit stays within {MAX_C_RATE:g} C "
                                                        "of it")):
        w(f"{'  ' + entry:<46} # {comment}")
    w("configuration:")
    for component in components:
        itf = spec.interfaces[component]
        if not itf.parameters:
            continue
        w(f"  # {component}: {_one_line(itf.description, 80)}")
        w(f"  {component}:")
        values = _values(spec, component, _Pack(chemistry, cells, opts.capacity_Ah))
        for param in itf.parameters:
            value, placeholder = values[param.name]
            comment = _param_comment(spec, param, value, chemistry)
            if placeholder:
                comment = comment.replace("no spec default", "no spec default: a placeholder, "
                                          "DECLARE YOURS")
            prefix = "    "
            head = f"  [feature {param.feature}]" if param.feature else ""
            if param.feature is not None and param.feature not in claimed:
                prefix = "    # "  # belongs to a feature left unclaimed: no value allowed
            w(f"    # {_one_line(param.description)}{head}")
            entry = f"{prefix}{param.name}: {scalar(value, param.type)}"
            w(f"{entry:<46} # {comment}")
    if not any(spec.interfaces[c].parameters for c in components):
        out[-1] = "configuration: {}"
    if own == [CAN_COMPONENT]:  # a CAN profile: the module is a node on the buses
        out.extend(can_adapter(spec, profiles).splitlines())
        return "\n".join(out) + "\n"
    if HMI_HTTP in features:
        _hmi_http(w, claimed)
    w("adapter:")
    w("  type: python        # python | process | tcp | fmu (see the comments below)")
    w("  timeout_s: 1.0      # longest accepted duration of one call, s (null: no limit)")
    w("  components:         # component -> how the transport finds it")
    for component in own:
        w(f"    {component}: my_bms.{component}:{_class_name(component)}")
    w("  options:            # python: address space and start-up limits of the child")
    w("    memory_limit_MB: 4096")
    w("    startup_timeout_s: 30")
    fmus = "\n".join(f"#     {c}: build/{c}.fmu" for c in own)
    out.extend(_TRANSPORTS.format(fmus=fmus).rstrip("\n").splitlines())
    return "\n".join(out) + "\n"


def _hmi_http(w: Any, claimed: set[str]) -> None:
    """The section that says where the bench reaches the HMI API over HTTP; commented out
    when the feature is not claimed."""
    c = "" if HMI_HTTP in claimed else "# "
    w("# Where the bench reaches your HMI API over HTTP (feature hmi_http): {port} is a free")
    w("# loopback port the bench chooses and gives your module as OBSA_HMI_HTTP_PORT.")
    w(f"{c}hmi_http:")
    w(f'{c}  url: "http://127.0.0.1:{{port}}"')
    w(f"{c}  token: null          # or your service's bearer token (OBSA_HMI_HTTP_TOKEN)")
    w(f"{c}  startup_timeout_s: 30  # longest wait for the service after configure(), s")


def can_adapter(spec: Spec, profiles: list[str]) -> str:
    """The adapter section of a CAN profile's manifest: transport can, the node's buses."""
    from ..adapters.can import node_buses, profile_nodes

    nodes = profile_nodes(spec)
    node = next((nodes[p] for p in profiles if p in nodes), "bmu")
    rates = {c.bus.id: c.bus.bit_rate_bps for c in spec.can_catalogs}
    lines = ["adapter:",
             "  type: can           # a node on the CAN catalog's buses "
             "(docs: guides/can-nodes)",
             "  timeout_s: 1.0",
             "  components:",
             "    can_stack: device  # a board on the buses below; package.module:Class for "
             "a Python node",
             "  options:",
             f"    node: {node}",
             *(["    module: 0           # the CMU's module index"] if node == "cmu" else []),
             "    buses:             # python-can interface and channel of each bus"]
    for i, bus in enumerate(node_buses(spec, node)):
        lines.append(f"      {bus}: {{interface: socketcan, channel: can{i}, "
                     f"bitrate: {rates[bus]}}}")
    return "\n".join(lines) + "\n"


def _features(spec: Spec, w: Any, features: dict[str, list[str]], claimed: set[str]) -> None:
    if not features:
        w("features: []        # the chosen profiles have no optional features")
        return
    titles = {f.id: f for f in spec.profiles_file.features}
    w("# Optional features: claim those your module has (a conditional requirement applies")
    w("# only when its feature is claimed; a feature's parameters are declared only then).")
    w("features:" if claimed else "features: []")
    for fid, turns_on in features.items():
        feature = titles.get(fid)
        if feature is not None:
            w(f"  # {_one_line(f'{fid}: {feature.title} — {feature.description}', 94)}")
        reqs = [t for t in turns_on if t.startswith("OBSA-")]
        params = [t for t in turns_on if not t.startswith("OBSA-")]
        if reqs:
            w(f"  #   turns on {', '.join(reqs)}")
        if params:
            for line in textwrap.wrap("parameters " + ", ".join(params), width=84):
                w(f"  #   {line}")
        w(f"  - {fid}" if fid in claimed else f"  # - {fid}")


CAN_COMPONENT = "can_stack"


def _class_name(component: str) -> str:
    return "".join(part.capitalize() for part in component.split("_"))
