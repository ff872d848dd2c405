"""The pages of the published standard, rendered from the spec, the schemas and the suite's
registry of test cases: ``relative path → reStructuredText``. Nothing here states a fact of
the standard; every table is a view of :func:`load_spec`'s models."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from ..spec.exporters import needs as needs_export
from ..spec.loader import Spec
from ..spec.models import HttpResource, Interface, Parameter, Range, Requirement, Signal
from . import check, diagrams, refimpl, trace
from .rst import bullets, esc, esc_doc, heading, indent, lit, number, one_line, slug, table

#: the directory, inside the docs sources, that the build writes the pages into
GENERATED = "generated"
REQ_DIR = "requirements"
IF_DIR = "interfaces"

_WORD = re.compile(r"[a-z][a-z0-9_]*")


# ------------------------------------------------------------------------ links
def need(need_id: str) -> str:
    return f":need:`{need_id}`"


def comp_link(spec: Spec, comp: str) -> str:
    if comp in spec.interfaces:
        return f":doc:`{esc(comp)} </{GENERATED}/{IF_DIR}/{comp}>`"
    return esc(comp)


def profile_link(pid: str) -> str:
    return f":ref:`{esc(pid)} <profile-{slug(pid)}>`"


def feature_link(fid: str) -> str:
    return f":ref:`{esc(fid)} <feature-{slug(fid)}>`"


def signal_link(name: str) -> str:
    return f":ref:`{esc(name)} <signal-{slug(name)}>`"


def enum_link(eid: str) -> str:
    return f":ref:`{esc(eid)} <enum-{slug(eid)}>`"


def graphviz(dot: str, caption: str) -> str:
    return f".. graphviz::\n   :caption: {esc(caption)}\n\n{indent(dot)}\n"


def condition_text(spec: Spec, condition: str | None) -> str:
    """The condition as written, each feature id a link to the feature."""
    if not condition:
        return ""
    features = [w for w in _WORD.findall(condition) if w in spec.features]
    return lit(condition) + (" (" + ", ".join(feature_link(f) for f in
                                               dict.fromkeys(features)) + ")" if features
                             else "")


def range_text(r: Range | None, unit: str = "") -> str:
    if r is None or (r.min is None and r.max is None):
        return ""
    lo = number(r.min) if r.min is not None else "−∞"
    hi = number(r.max) if r.max is not None else "+∞"
    u = f" {unit}" if unit and unit != "1" else ""
    return esc(f"[{lo}, {hi}]{u}")


def unit_text(unit: str) -> str:
    return "" if unit == "1" else esc(unit)


def titled(title: str, body: str) -> str:
    return heading(title, "=", over=True) + "\n" + body


def validate_checks() -> str:
    """The cross-file rules of ``obsa spec validate``, from its table of checks."""
    import inspect

    from ..spec.validate import CHECKS

    rows = [[lit(c.__name__), esc((inspect.getdoc(c) or "").split("\n\n")[0])] for c in CHECKS]
    return table(["check", "rule"], rows, widths=[25, 75])


# ------------------------------------------------------------------------ pages
class Pages:
    """Every generated page, relative to the generated directory."""

    def __init__(self, spec: Spec, schemas: Path) -> None:
        self.spec = spec
        self.schemas = schemas
        self.producers: dict[str, list[str]] = defaultdict(list)
        self.readers: dict[str, list[str]] = defaultdict(list)
        for comp, itf in spec.interfaces.items():
            for port in itf.outputs:
                self.producers[port.signal].append(comp)
            for port in itf.inputs:
                self.readers[port.signal].append(comp)
        self.area_of = {r.id: f.area for f in spec.requirement_files for r in f.requirements}
        self.covered = check.covered_profiles(spec)

    def render(self) -> dict[str, str]:
        pages = {
            "standard.inc": self.standard(),
            "architecture.rst": titled("Architecture", self.architecture()),
            "dictionary.rst": titled("Data dictionary", self.dictionary()),
            "dtcs.rst": titled("Fault codes and DTCs", self.dtcs()),
            "profiles.rst": titled("Profiles and optional features", self.profiles()),
            f"{IF_DIR}/index.rst": self.interfaces_index(),
            f"{REQ_DIR}/index.rst": self.catalogue(),
            "verification/test-cases.rst": self.test_cases(),
            "verification/scenarios.rst": self.scenarios(),
            "manifest.inc": self.schema_page("manifest.schema.json", "Module manifest",
                                             "manifest"),
            "report.inc": self.schema_page("report.schema.json", "Report format", "report"),
            "wire.inc": self.wire(),
            "refimpl-map.inc": refimpl.mapping_page(self.spec),
            "validate-checks.inc": validate_checks(),
        }
        for comp, itf in self.spec.interfaces.items():
            pages[f"{IF_DIR}/{comp}.rst"] = self.interface(itf)
        if self.spec.can_catalogs:
            pages[f"{IF_DIR}/can.rst"] = self.can_matrix()
        for rf in self.spec.requirement_files:
            pages[f"{REQ_DIR}/{rf.area.lower()}.rst"] = self.area(rf.area)
            for req in rf.requirements:
                pages[f"{REQ_DIR}/{req.id}.rst"] = self.requirement(req, rf.area)
        return pages

    # ---------------------------------------------------------------- standard
    def standard(self) -> str:
        std = self.spec.standard
        out = [esc(std.description), "",
               table(["name", "title", "version", "status"],
                     [[esc(std.name), esc(std.title), lit(std.version), esc(std.status)]]), ""]
        if std.changelog:
            out += [heading("Changes by release", "-"),
                    table(["release", "affects", "change", "reason"],
                          [[lit(c.version), ", ".join(self._affected(a) for a in c.affects),
                            esc(c.change), esc(c.reason)] for c in std.changelog],
                          widths=[8, 22, 35, 35])]
        return "\n".join(out)

    def _affected(self, name: str) -> str:
        if name in self.spec.requirements:
            return need(name)
        if name in self.spec.interfaces:
            return comp_link(self.spec, name)
        if name in self.spec.signals:
            return signal_link(name)
        return lit(name)

    # ---------------------------------------------------------------- architecture
    def architecture(self) -> str:
        a = self.spec.architecture
        layers = sorted(a.layers, key=lambda x: x.order)
        out = [heading("Layers and components", "-"),
               graphviz(diagrams.layers(self.spec),
                        "The layers, bottom up, and their components (colour: the node "
                        "they run on)"),
               table(["order", "layer", "description"],
                     [[str(x.order), esc(x.title), esc(x.description)] for x in layers],
                     widths=[6, 20, 74]), ""]
        rows = []
        for layer in layers:
            for c in a.components:
                if c.layer == layer.id:
                    rows.append([comp_link(self.spec, c.id), esc(c.title), esc(layer.title),
                                 lit(c.node), esc(c.description)])
        out += [heading("Components", "-"),
                table(["component", "title", "layer", "node", "description"], rows,
                      widths=[16, 16, 14, 8, 46]), ""]
        topo = a.topology
        out += [heading("Hardware topology: BMU master, CMU slaves", "-"),
                graphviz(diagrams.topology(self.spec),
                         "The nodes (role and multiplicity) and the buses between them"),
                table(["node", "title", "role", "multiplicity", "description"],
                      [[lit(n.id), esc(n.title), esc(n.role), lit(n.multiplicity),
                        esc(n.description)] for n in topo.nodes], widths=[8, 20, 8, 8, 56]),
                "",
                table(["from", "to", "bus", "description"],
                      [[lit(x.source), lit(x.target), lit(x.bus), esc(x.description)]
                       for x in topo.links], widths=[8, 8, 14, 70]), ""]
        if self.spec.standard.lifecycle:
            out += [".. _component-contract:", "",
                    heading("How the bench drives every component", "-"),
                    "Every component is a synchronous block: ``configure(parameters)``, "
                    "``reset()`` and ``step(t, inputs) -> outputs``. The standard's rules of "
                    "that contract:", "",
                    table(["rule", "what a module may rely on", "why"],
                          [[lit(r.id), esc(r.rule), esc(r.reason)]
                           for r in self.spec.standard.lifecycle], widths=[10, 55, 35]), ""]
        return "\n".join(out)

    # ---------------------------------------------------------------- dictionary
    def signal_type(self, sig: Signal) -> str:
        if sig.type == "enum" and sig.enum:
            return f"enum {enum_link(sig.enum)}"
        if sig.type == "flags" and sig.flags_of:
            return f"flags of {comp_link(self.spec, sig.flags_of)}"
        return esc(sig.type)

    def dictionary(self) -> str:
        d = self.spec.dictionary
        out = [heading("Units", "-"),
               table(["symbol", "quantity", "description"],
                     [[lit(u.symbol), esc(u.quantity), esc(u.description)] for u in d.units],
                     widths=[10, 20, 70]), ""]
        if d.dimensions:
            out += [heading("Dimensions", "-"),
                    "An array signal has one element per entry of its dimension.", "",
                    table(["dimension", "description"],
                          [[lit(x.id), esc(x.description)] for x in d.dimensions],
                          widths=[20, 80]), ""]
        out += [heading("Signals", "-")]
        for sig in d.signals:
            out += [f".. _signal-{slug(sig.name)}:", ""]
        out += [table(["signal", "type", "unit", "range", "resolution", "array over", "source",
                       "description"],
                      [[lit(s.name), self.signal_type(s), unit_text(s.unit),
                        range_text(s.range), number(s.resolution),
                        lit(s.dimension) if s.dimension else "", esc(s.source or ""),
                        esc(s.description)] for s in d.signals],
                      widths=[18, 10, 6, 12, 8, 8, 7, 31]), ""]
        if d.enums:
            out += [heading("Enumerations", "-")]
            for e in d.enums:
                out += [f".. _enum-{slug(e.id)}:", "", heading(esc(e.id), "~"),
                        esc(e.description), "",
                        table(["value", "name", "description"],
                              [[str(v.value), lit(v.name), esc(v.description)]
                               for v in e.values], widths=[8, 22, 70]), ""]
        return "\n".join(out)

    def dtcs(self) -> str:
        rows = [[lit(f"0x{fc.dtc:04X}"), comp_link(self.spec, comp), lit(fc.name), str(fc.bit),
                 esc(fc.severity), esc(fc.description)] for comp, fc in self.spec.dtc_table]
        return "\n".join([
            "Every fault code of every component, in ascending order of its diagnostic trouble "
            "code (DTC): the order of the ``dtc`` dimension of the fault memory. The bit is "
            "the fault's bit in its component's flags signals.", "",
            table(["DTC", "component", "fault", "bit", "severity", "description"], rows,
                  widths=[8, 16, 22, 5, 8, 41])])

    # ---------------------------------------------------------------- profiles
    def profiles(self) -> str:
        pf = self.spec.profiles_file
        out = [heading("Optional features", "-"),
               "A module claims the optional features it has in its manifest; a conditional "
               "requirement applies only when its condition over the claimed features holds, "
               "and a feature's parameters are declared only when it is claimed.", ""]
        for f in pf.features:
            conditional = [r for r in self.spec.requirements.values()
                           if r.condition and f.id in _WORD.findall(r.condition)]
            params = [(c, p) for c, itf in self.spec.interfaces.items() for p in itf.parameters
                      if p.feature == f.id]
            out += [f".. _feature-{slug(f.id)}:", "", heading(f"{esc(f.title)} ({lit(f.id)})", "~"),
                    esc(f.description), ""]
            if conditional:
                out += ["Requirements conditional on it:", "",
                        bullets(f"{need(r.id)} {esc(r.title)}" for r in conditional)]
            if params:
                out += ["Its parameters: " + ", ".join(
                    f"{lit(p.name)} ({comp_link(self.spec, c)})" for c, p in params) + ".", ""]
        out += [heading("Profiles", "-"),
                "A profile is a certifiable bundle of components. The suite covers the "
                "profiles " + ", ".join(profile_link(p) for p in self.covered)
                + " (its test cases and scenarios); the requirements of the others are "
                "published and not yet tested.", ""]
        for p in pf.profiles:
            reqs = self.spec.requirements_of_profile(p.id)
            out += [f".. _profile-{slug(p.id)}:", "", heading(f"{esc(p.title)} ({lit(p.id)})", "~"),
                    esc(p.description), "",
                    "Components, in execution order: "
                    + ", ".join(comp_link(self.spec, c) for c in p.components) + ".", "",
                    *([f"Judged on the CAN buses as node {lit(p.node)}: its frames are the "
                       f"catalog's frames of that node (:doc:`interfaces/can`).", ""]
                      if p.node else []),
                    graphviz(diagrams.signal_flow(self.spec, p.id),
                             f"Signal flow of {p.id}"), ""]
            out += [self.requirement_table(reqs), ""]
        return "\n".join(out)

    def requirement_table(self, reqs: list[Requirement], prefix: str = "") -> str:
        rows = []
        for r in reqs:
            n_cases = len(trace.cases_of(r.id))
            rows.append([need(r.id), esc(r.title), esc(r.level),
                         condition_text(self.spec, r.condition), esc(r.verification),
                         str(n_cases) if n_cases else ""])
        return table(["requirement", "title", "level", "condition", "verification",
                      "test cases"], rows, widths=[14, 40, 10, 16, 10, 10])

    # ---------------------------------------------------------------- interfaces
    def interfaces_index(self) -> str:
        rows = []
        for comp, itf in self.spec.interfaces.items():
            c = self.spec.components.get(comp)
            rows.append([comp_link(self.spec, comp), esc(c.title if c else comp),
                         esc(c.layer if c else ""), lit(c.node if c else ""),
                         esc(number(itf.step_period_s)), str(len(itf.parameters)),
                         str(len(itf.inputs)), str(len(itf.outputs)),
                         str(len(itf.fault_codes))])
        order = sorted(self.spec.interfaces)
        return "\n".join([
            heading("Component interfaces", "=", over=True),
            "One page per component: its parameters (the values a module declares in its "
            "manifest), its inputs and outputs (signals of the data dictionary), the "
            "enumerations it uses, its fault codes and DTCs, its step period, and the "
            "requirements that bind it. Every component follows the "
            ":ref:`synchronous-block contract <component-contract>`.", "",
            table(["component", "title", "layer", "node", "step (s)", "parameters", "inputs",
                   "outputs", "fault codes"], rows, widths=[16, 20, 14, 8, 7, 8, 7, 7, 8]),
            *(["", "The frames on the CAN buses, with the DBC and KCD files generated from "
                "them: :doc:`can`."] if self.spec.can_catalogs else []),
            "", ".. toctree::", "   :hidden:", "",
            *[f"   {c}" for c in order], *(["   can"] if self.spec.can_catalogs else []),
            ""])

    # ---------------------------------------------------------------- CAN matrix
    def can_matrix(self) -> str:
        """Per bus: its figures, the downloadable DBC and KCD, its frames and their signals."""
        from ..spec.can import (
            bus_load_pct,
            bus_nodes,
            field_bits,
            frame_bits,
            frames_per_second,
            signal_range,
        )
        from ..spec.exporters import CHECKED_IN
        from ..spec.exporters.dbc import file_stem

        out = [heading("CAN matrix", "=", over=True),
               "The frames of every bus, as the CAN catalogs in ``spec/can/`` define them. "
               "Bit positions follow the DBC conventions (little endian: the start bit is the "
               "least significant bit). The bus load is the worst case: every frame at its "
               "longest with bit stuffing (47 + 8·DLC bits plus one stuff bit per 4 of the "
               "34 + 8·DLC stuffable bits, 29-bit ids 20 bits more; Davis et al. 2007), each "
               "multiplexer value once per cycle, event frames at their smallest interval.",
               ""]
        # the download role's absolute paths start at the docs sources (docs/)
        where = CHECKED_IN["can"].directory.removeprefix("docs/")
        for cat in self.spec.can_catalogs:
            bus = cat.bus
            stem = file_stem(cat)
            out += [heading(esc(bus.title), "-"),
                    f"Bus {lit(bus.id)}: {bus.bit_rate_bps} bit/s; nodes "
                    + ", ".join(lit(n) for n in bus_nodes(self.spec, cat))
                    + f". Worst-case load {bus_load_pct(cat):.1f} % (limit "
                    f"{number(bus.max_load_pct)} %: {esc(bus.max_load_source.rstrip('.'))}).", "",
                    f"Downloads: :download:`{stem}.dbc </{where}/{stem}.dbc>`, "
                    f":download:`{stem}.kcd </{where}/{stem}.kcd>`.", ""]
            rows = []
            for f in cat.frames:
                timing = (f"{number(f.cycle.period_ms)} ± {number(f.cycle.tolerance_ms)} ms"
                          if f.cycle else f"event, ≥ {number(f.event.min_interval_ms)} ms"
                          if f.event else "")
                share = 100 * frame_bits(f) * frames_per_second(f) / bus.bit_rate_bps
                rows.append([lit(f.name), lit(f"0x{f.id:X}") + (" (29-bit)" if f.extended
                                                                 else ""),
                             str(f.dlc), esc(timing), esc(", ".join(f.senders)),
                             esc(", ".join(f.receivers)),
                             esc(f"{number(f.timeout.time_ms)} ms" if f.timeout else "–"),
                             esc(f.e2e.profile if f.e2e else "–"), f"{share:.2f}"])
            out += [table(["frame", "id", "DLC", "cycle", "senders", "receivers", "timeout",
                           "E2E", "load %"], rows,
                          widths=[17, 12, 5, 12, 8, 14, 8, 14, 10]), ""]
            for f in cat.frames:
                out += [heading(lit(f.name), "~"), esc(f.description), ""]
                if f.source:
                    out += [f"Source: {esc(f.source)}", ""]
                if f.timeout:
                    fault = ("reported as rx_timeout" if f.timeout.rx_timeout_fault
                             else "not a fault (no rx_timeout)")
                    out += [f"Reception timeout {number(f.timeout.time_ms)} ms, {fault}; "
                            f"reaction within {number(f.timeout.reaction_time_ms)} ms: "
                            f"{esc(f.timeout.reaction)}", ""]
                fields = []
                if f.multiplexer:
                    m = f.multiplexer
                    out += [f"Multiplexer {lit(m.name)}: {esc(m.description)}", ""]
                    fields.append([lit(m.name) + " (multiplexer)", "", str(m.start_bit),
                                   str(m.length), "", "", esc(f"0 … {m.count - 1}"), ""])
                if f.e2e:
                    counter = f"0 … {f.e2e.counter_values - 1}, then 0"
                    for name, fld, what in (("alive counter", f.e2e.counter, counter),
                                            ("CRC", f.e2e.crc, "raw")):
                        fields.append([esc(name), "", str(fld.start_bit), str(fld.length), "",
                                       "", esc(what), ""])
                for s in f.signals:
                    rng = signal_range(self.spec, s)
                    mux = ("all" if s.multiplexer_values is None else
                           ", ".join(map(str, s.multiplexer_values))) if s.multiplexed else ""
                    fields.append([
                        signal_link(s.signal), "" if s.element is None else str(s.element),
                        str(min(field_bits(s))) if s.byte_order == "little_endian"
                        else f"{s.start_bit} (big endian)",
                        str(s.length) + (" signed" if s.signed else ""),
                        esc(number(s.scale)), esc(number(s.offset)),
                        esc(f"{number(rng[0])} … {number(rng[1])} {s.unit}" if rng else ""),
                        esc(mux)])
                out += [table(["field", "element", "start bit", "bits", "scale", "offset",
                               "range", "multiplexer values"], fields,
                              widths=[24, 8, 10, 10, 10, 8, 20, 10]), ""]
        return "\n".join(out)

    def _param_type(self, p: Parameter) -> str:
        return f"enum {enum_link(p.enum)}" if p.type == "enum" and p.enum else esc(p.type)

    def _port_rows(self, itf: Interface, outputs: bool) -> list[list[str]]:
        rows = []
        ports = itf.outputs if outputs else itf.inputs
        for port in ports:
            sig = self.spec.signals.get(port.signal)
            others = (self.readers if outputs else self.producers).get(port.signal, [])
            others = [c for c in others if c != itf.component]
            where = ", ".join(comp_link(self.spec, c) for c in others)
            if not outputs and not where and sig is not None and sig.source:
                where = esc(sig.source)
            desc = port.description or (sig.description if sig is not None else "")
            rows.append([signal_link(port.signal),
                         self.signal_type(sig) if sig is not None else "",
                         unit_text(sig.unit) if sig is not None else "",
                         range_text(sig.range) if sig is not None else "",
                         lit(sig.dimension) if sig is not None and sig.dimension else "",
                         where, esc(desc)])
        return rows

    def interface(self, itf: Interface) -> str:
        spec = self.spec
        comp = spec.components.get(itf.component)
        title = comp.title if comp is not None else itf.component
        n = needs_export.interface_need(spec, itf)
        out = [heading(f"{esc(title)} ({lit(itf.component)})", "=", over=True),
               f".. spec:: {title} interface", f"   :id: {n['id']}",
               f"   :tags: {';'.join(n['tags'])}",
               *[f"   :{k}: {one_line(str(n[k]))}" for k in ("component", "layer", "node",
                                                             "step_period_s", "spec_source")
                 if n.get(k)], "", indent(esc(itf.description)), ""]
        if comp is not None:
            out += [f"Layer: {esc(comp.layer)}; node: {lit(comp.node)}. {esc(comp.description)}",
                    ""]
        out += [heading("Step", "-"),
                f"Nominal step period: {esc(number(itf.step_period_s))} s. The bench calls "
                "``configure(parameters)`` and ``reset()`` before every test case and "
                "``step(t, inputs)`` once per bench step with the inputs below; the step "
                "returns every output below. The rules: "
                ":ref:`the synchronous-block contract <component-contract>`.", ""]
        if itf.parameters:
            rows = [[lit(p.name), self._param_type(p), unit_text(p.unit),
                     range_text(p.range, p.unit),
                     lit(number(p.default)) if p.default is not None else "",
                     feature_link(p.feature) if p.feature else "", esc(p.description)]
                    for p in itf.parameters]
            out += [heading("Parameters", "-"),
                    "Declared by a module in its manifest (``configuration."
                    f"{itf.component}``); an undeclared parameter takes its default. A "
                    "parameter of an optional feature is declared only with the feature.", "",
                    table(["parameter", "type", "unit", "range", "default", "feature",
                           "description"], rows, widths=[22, 8, 5, 12, 7, 10, 36]), ""]
        if itf.limit_sets:
            rows = [[esc(s.quantity), esc(s.direction), lit(s.levels.mol), lit(s.levels.rsl),
                     lit(s.levels.msl), lit(s.hysteresis), lit(s.fault_delay),
                     esc(s.description)] for s in itf.limit_sets]
            out += [heading("Limit sets", "-"),
                    "Quantities supervised on three levels: maximum operating limit (MOL), "
                    "recommended safety limit (RSL) and maximum safety limit (MSL), each "
                    "level a parameter above.", "",
                    table(["quantity", "direction", "MOL", "RSL", "MSL", "hysteresis",
                           "fault delay", "description"], rows,
                          widths=[10, 7, 13, 13, 13, 13, 13, 18]), ""]
        header = ["signal", "type", "unit", "range", "array over"]
        if itf.inputs:
            out += [heading("Inputs", "-"),
                    table([*header, "produced by", "description"],
                          self._port_rows(itf, outputs=False),
                          widths=[18, 10, 5, 10, 8, 14, 35]), ""]
        out += [heading("Outputs", "-"),
                table([*header, "read by", "description"], self._port_rows(itf, outputs=True),
                      widths=[18, 10, 5, 10, 8, 14, 35]), ""]
        enums = self._enums_of(itf)
        if enums:
            out += [heading("Enumerations", "-")]
            for eid in enums:
                e = spec.enums[eid]
                out += [f"{enum_link(eid)}: {esc(e.description)}", "",
                        table(["value", "name", "description"],
                              [[str(v.value), lit(v.name), esc(v.description)]
                               for v in e.values], widths=[8, 22, 70]), ""]
        if itf.fault_codes:
            out += [heading("Fault codes and DTCs", "-"),
                    "Each fault is one bit of the component's flags signals and one "
                    f":doc:`diagnostic trouble code </{GENERATED}/dtcs>`.", "",
                    table(["fault", "bit", "DTC", "severity", "description"],
                          [[lit(f.name), str(f.bit), lit(f"0x{f.dtc:04X}"), esc(f.severity),
                            esc(f.description)] for f in itf.fault_codes],
                          widths=[22, 5, 9, 9, 55]), ""]
        if itf.wire is not None:
            out += self._wire(itf)
        if itf.http is not None:
            out += self._http(itf)
        reqs = [r for r in spec.requirements.values() if r.component == itf.component]
        out += [heading("Requirements", "-")]
        out += [self.requirement_table(reqs) if reqs
                else "No requirement of this version binds this component yet.\n", ""]
        out += [heading("Record schemas", "-"),
                "JSON Schemas of the component's records, generated from this page's spec:", "",
                bullets(f":download:`{itf.component}.{k}.schema.json "
                        f"</{GENERATED}/_downloads/generated/{itf.component}.{k}.schema.json>`"
                        for k in ("parameters", "inputs", "outputs"))]
        return "\n".join(out)

    def _wire(self, itf: Interface) -> list[str]:
        """The section of an interface's wire format: the record's keys and the topics
        (their JSON Schemas are generated into ``schemas/telemetry/``)."""
        wire = itf.wire
        assert wire is not None
        keys = [[lit(wire.sequence.name), "integer", "1", esc(wire.sequence.description)],
                [lit(wire.timestamp.name), "number", "s", esc(wire.timestamp.description)],
                *[[lit(f), esc(self.spec.signals[f].type), unit_text(self.spec.signals[f].unit),
                   esc(self.spec.signals[f].description)] for f in wire.fields]]
        topics = [[lit(t.pattern), str(t.qos), "yes" if t.retain else "no", esc(t.payload),
                   esc(t.description)] for t in wire.topics]
        return [heading("Wire format", "-"), esc(wire.description), "",
                f"Each record is one {esc(wire.encoding.upper())} object with these keys, "
                "all required, no other (JSON Schema: "
                f"``schemas/telemetry/{itf.component}.record.schema.json``, generated from "
                "this page's spec):", "",
                table(["key", "type", "unit", "description"], keys, widths=[30, 8, 6, 56]),
                "", "MQTT topics (``{gateway_id}`` is filled in by the deployment; topic "
                f"layout: ``schemas/telemetry/{itf.component}.topics.json``):", "",
                table(["topic", "QoS", "retained", "payload", "description"], topics,
                      widths=[28, 5, 8, 9, 50]), ""]

    def _http(self, itf: Interface) -> list[str]:
        """The section of an interface's HTTP binding: its resources and what each carries
        (the OpenAPI document is generated from it into ``reference_impl/hmi/``)."""
        http = itf.http
        assert http is not None

        def carries(res: HttpResource) -> str:
            parts = [", ".join(lit(n) for n in res.outputs + res.inputs)]
            if res.dtc_rows:
                parts.append(f"one row per DTC from {lit(res.dtc_rows)}")
            if res.limits:
                parts.append(f"the declared limits of {lit(res.limits.component)}")
            if res.includes:
                parts.append("the resources " + ", ".join(lit(n) for n in res.includes))
            return "; ".join(p for p in parts if p)

        rows = [[lit(r.path), esc(r.media_type), "yes" if r.required else "no",
                 esc(" ".join(r.summary.split())), carries(r)] for r in http.resources]
        return [heading("HTTP binding", "-"), esc(" ".join(http.description.split())), "",
                "Every resource refuses " + ", ".join(lit(m) for m in http.write_methods)
                + ". A module claims the binding with the feature ``hmi_http`` (its manifest "
                "says where the service answers); the OpenAPI 3.1 document "
                "``reference_impl/hmi/obsa_hmi_openapi.json`` is generated from this "
                "section.", "",
                table(["path", "media type", "required", "summary", "carries"], rows,
                      widths=[16, 16, 8, 30, 30]), ""]

    def _enums_of(self, itf: Interface) -> list[str]:
        found = [p.enum for p in itf.parameters if p.enum]
        for port in [*itf.inputs, *itf.outputs]:
            sig = self.spec.signals.get(port.signal)
            if sig is not None and sig.enum:
                found.append(sig.enum)
        return [e for e in dict.fromkeys(found) if e in self.spec.enums]

    # ---------------------------------------------------------------- requirements
    def catalogue(self) -> str:
        spec = self.spec
        rows = []
        for rf in spec.requirement_files:
            reqs = rf.requirements
            tested = sum(1 for r in reqs if trace.cases_of(r.id))
            rows.append([f":doc:`{rf.area} <{rf.area.lower()}>`", esc(rf.title),
                         str(len(reqs)), str(tested)])
        methods = table(["verification", "meaning", "requirements"],
                        [[esc(m), esc(text), str(sum(1 for r in spec.requirements.values()
                                                     if r.verification == m))]
                         for m, text in check.METHODS.items()], widths=[12, 76, 12])
        return "\n".join([
            heading("Requirements catalogue", "=", over=True),
            "Every requirement of the standard: its ``shall`` statement, the numeric "
            "acceptance criteria the suite judges, its rationale and sources, the level and "
            "condition under which it applies, its profiles and component, and the test cases "
            "and Gherkin scenarios that verify it. Test cases and scenarios link back: see "
            f":doc:`/{GENERATED}/verification/test-cases` and "
            f":doc:`/{GENERATED}/verification/scenarios`.", "",
            table(["area", "title", "requirements", "verified by a test case"], rows,
                  widths=[10, 50, 20, 20]), "",
            heading("Verification methods", "-"),
            "A requirement verified by ``test`` in a profile the suite covers ("
            + ", ".join(profile_link(p) for p in self.covered) + ") has at least one test "
            "case; every other method says why the suite has none:", "", methods, "",
            ".. toctree::", "   :maxdepth: 1", "",
            *[f"   {rf.area.lower()}" for rf in spec.requirement_files], ""])

    def area(self, area: str) -> str:
        rf = next(f for f in self.spec.requirement_files if f.area == area)
        return "\n".join([
            heading(f"{esc(rf.title)} ({area})", "=", over=True),
            self.requirement_table(rf.requirements), "",
            ".. toctree::", "   :hidden:", "",
            *[f"   {r.id}" for r in rf.requirements], ""])

    def requirement(self, req: Requirement, area: str) -> str:
        spec = self.spec
        n = needs_export.requirement_need(spec, req, area)
        opts = ("component", "level", "condition", "verification", "since", "profiles", "area",
                "spec_source")
        lines = [heading(f"{req.id} — {esc(req.title)}", "=", over=True),
                 f".. req:: {one_line(req.title)}", f"   :id: {req.id}",
                 f"   :tags: {';'.join(n['tags'])}"]
        if n["links"]:
            lines.append(f"   :links: {', '.join(n['links'])}")
        lines += [f"   :{k}: {one_line(str(n[k]))}" for k in opts if n.get(k)]
        lines += ["", indent(esc(req.statement)), ""]
        if req.acceptance:
            rows = []
            for c in req.acceptance:
                limit = (esc(number(c.value)) if c.value is not None
                         else f"declared {lit(c.parameter)}")
                rows.append([lit(c.name), esc(c.comparison), limit, unit_text(c.unit),
                             esc(c.resolution or ""), esc(c.description)])
            lines += [heading("Acceptance criteria", "-"),
                      "The measured value compared with its limit; a limit named "
                      "*declared* is the module's value of that parameter in its manifest.",
                      "",
                      table(["measured", "comparison", "limit", "unit", "resolution",
                             "description"], rows, widths=[20, 9, 18, 6, 9, 38]), ""]
        lines += [heading("Rationale and sources", "-"), esc(req.rationale), ""]
        lines += [heading("Applies to", "-"),
                  table(["", ""], [
                      ["component", comp_link(spec, req.component)],
                      ["profiles", ", ".join(profile_link(p) for p in req.profiles)],
                      ["level", esc(req.level) + (" — applies when "
                                                  + condition_text(spec, req.condition)
                                                  if req.condition else "")],
                      ["since", lit(req.since)],
                      ["spec source", lit(n["spec_source"])]], widths=[20, 80]), ""]
        lines += [heading("Verification", "-"), *self.verification(req)]
        return "\n".join(lines)

    def verification(self, req: Requirement) -> list[str]:
        cases = trace.cases_of(req.id)
        scens = trace.scenarios_of(req.id)
        out = [f"Method: **{esc(req.verification)}** — "
               f"{esc(check.METHODS.get(req.verification, ''))}.", ""]
        if req.verification == "test" and not cases:
            covered = [p for p in req.profiles if p in self.covered]
            out += [("No test case verifies it: " + (
                "a defect of the suite, reported by the build." if covered else
                "its profiles (" + ", ".join(profile_link(p) for p in req.profiles)
                + ") are not covered by this version of the suite.")), ""]
        if cases:
            out += [heading("Test cases", "~"),
                    table(["test case", "what it does"],
                          [[f":need:`[[title]] <{c.need_id}>`", esc_doc(c.doc) or "—"]
                           for c in cases], widths=[45, 55]), ""]
        if scens:
            out += [heading("Scenarios", "~"),
                    table(["scenario", "name"],
                          [[f":need:`[[spec_source]] <{s.need_id}>`", esc(s.name)]
                           for s in scens], widths=[35, 65]), ""]
        return out

    # ---------------------------------------------------------------- verification
    def test_cases(self) -> str:
        out = [heading("Test cases of the suite", "=", over=True),
               "Every test case of the conformance suite (``conformance/suite``), by its key, "
               "with the requirements it judges. ``obsa certify -k KEY`` runs one.", ""]
        by_module: dict[str, list[trace.TestCase]] = defaultdict(list)
        for c in trace.test_cases():
            by_module[c.module].append(c)
        for module, cases in by_module.items():
            out += [heading(lit(module), "-")]
            for c in cases:
                out += [f".. test:: {c.key}", f"   :id: {c.need_id}",
                        f"   :links: {', '.join(c.requirements)}",
                        f"   :spec_source: {c.source}", "",
                        indent(esc_doc(c.doc) or "(no description)"), "",
                        indent("Verifies: " + ", ".join(
                            f"{need(r)} ({esc(self.spec.requirements[r].title)})"
                            if r in self.spec.requirements else need(r)
                            for r in c.requirements) + "."), ""]
        return "\n".join(out)

    def scenarios(self) -> str:
        out = [heading("Gherkin scenarios", "=", over=True),
               "Every scenario of the Gherkin suite (``features/``, outlines expanded), each "
               "the readable face of one test case, tagged with the requirements it judges.",
               ""]
        by_file: dict[str, list[trace.Scenario]] = defaultdict(list)
        for s in trace.scenarios():
            by_file[s.file].append(s)
        for file, scens in by_file.items():
            out += [heading(f"{lit(file)} — {esc(scens[0].feature)}", "-")]
            for s in scens:
                runs = [trace.case_need_id(s.case)] if s.case else []
                out += [f".. scen:: {one_line(s.name)}", f"   :id: {s.need_id}",
                        f"   :links: {', '.join([*s.requirements, *runs])}",
                        f"   :spec_source: features/{s.file}:{s.line}", "",
                        indent(".. code-block:: gherkin"), "",
                        indent("\n".join(s.steps), 6), "",
                        indent("Verifies: " + ", ".join(
                            f"{need(r)} ({esc(self.spec.requirements[r].title)})"
                            if r in self.spec.requirements else need(r)
                            for r in s.requirements) + "."
                            + (f" Runs the test case {need(runs[0])}." if runs else "")), ""]
        return "\n".join(out)

    # ---------------------------------------------------------------- schemas
    def schema_page(self, file: str, title: str, prefix: str) -> str:
        from .schema_ref import SchemaPage

        schema = json.loads((self.schemas / file).read_text(encoding="utf-8"))
        page = SchemaPage(schema, prefix)
        return "\n".join([
            "The JSON Schema (draft 2020-12): "
            f":download:`{file} </{GENERATED}/_downloads/{file}>`.", "",
            page.render(schema.get("title", title))])

    def wire(self) -> str:
        from .schema_ref import SchemaPage

        out = []
        for message in ("request", "response"):
            file = f"{message}.schema.json"
            schema = json.loads((self.schemas / "wire" / file).read_text(encoding="utf-8"))
            page = SchemaPage(schema, f"wire-{message}")
            out += [heading(f"The {message}", "-"),
                    f"Schema: :download:`wire/{file} </{GENERATED}/_downloads/wire/{file}>`.", "",
                    page.render(schema.get("title", message), "~", "^")]
        return "\n".join(out)
