"""FMU transport: FMI 2.0 co-simulation FMUs, one per component, in a child process.

``adapter.type: fmu``: every entry of ``adapter.components`` names the ``.fmu`` file of that
component (relative to the manifest). One FMU is one component, because an FMU is one
co-simulation block: ``fmi2DoStep`` advances all of it at once, and a signal that one
component writes and another reads (``contactor_open_request``) would have to be both an
output and an input of the same FMU.

How the block maps (the vendor guide, §6, says the same for FMU authors):

- variables are named after dictionary signals; an array signal is one scalar variable per
  element, ``cell_voltage_V[0]`` … ``cell_voltage_V[95]``, its length given by the
  manifest's pack (cells, temperature sensors) or by the spec (DTCs);
- types: float → Real, bool → Boolean, int and flags → Integer, enum → Integer or
  Enumeration; inputs have causality ``input``, outputs ``output``, the component's
  parameters causality ``parameter`` (variability fixed or tunable);
- ``configure(parameters)`` and ``reset()`` (re)initialise the instance the clean FMI 2.0
  way: ``fmi2Reset`` (after the first time), ``fmi2SetupExperiment``, the parameters set,
  ``fmi2EnterInitializationMode``, ``fmi2ExitInitializationMode``;
- ``step(t, inputs)``: the inputs that changed are set, ``fmi2DoStep`` advances from the
  previous step's time to ``t``, the outputs are read. The FMU's time is the bench's: it
  starts one nominal step period (the interface's ``step_period_s``) before the first step
  after a reset — at t = 0 as initialised by ``reset``; a test case that starts its clock
  late (the long-run cases) gets the instance initialised again at its first step — so every
  ``fmi2DoStep`` is one bench step;
- a call that returns ``fmi2Discard`` or ``fmi2Error`` is the module's error for that call
  (the message quotes what the FMU logged) and the next test case resets the instance;
  after ``fmi2Fatal`` FMI 2.0 allows no further call to any FMU, so every later call is
  refused naming that failure;
- a power loss (:meth:`~.base.Adapter.power_cycle`) is refused: an FMU keeps no data across
  instances (FMI 2.0 has no non-volatile store; a new instance starts from the start
  values), so what survives a power loss is the product's, not the FMU's — the test cases
  that cut the power are not applicable, saying so.

Before any test case the manifest check reads every FMU's ``modelDescription.xml`` (with
FMPy; no code of the FMU runs) and refuses the manifest when a variable is missing, has
the wrong causality or type, or when the FMU is not FMI 2.0 co-simulation or has no
binary for this platform — each message names the file, the variable, what was expected
and what was found.

Isolation: the FMU's binary is only ever loaded in the child process
(:mod:`.fmu_serve`, a component server over the wire contract); this class is the process
transport with that command, so the watchdog, the process-group kill, the memory limit
and the stderr capture are the same as for every module.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import wire
from .process import PythonProcessAdapter

if TYPE_CHECKING:
    from ..spec.loader import Spec

MAX_DESCRIPTION_BYTES = 64 * 1024 * 1024
"""Largest modelDescription.xml read by the manifest check (the uncompressed size from the
zip directory, checked before anything is read): far above a real FMU's (a few hundred kB
for thousands of variables), low enough that a hostile archive cannot exhaust memory."""
MAX_ISSUES_PER_FMU = 12
"""A wrong FMU (another component's, another pack's) would otherwise give hundreds of
lines; the rest are counted."""

FMI_TYPES: dict[str, tuple[str, ...]] = {
    "float": ("Real",),
    "bool": ("Boolean",),
    "int": ("Integer",),
    "flags": ("Integer",),
    "enum": ("Integer", "Enumeration"),
}
"""Spec type → the FMI 2.0 variable types that carry it."""

_ELEMENT = re.compile(r"^(?P<name>.+)\[(?P<index>\d+)\]$")


def fmu_path(settings: dict[str, Any], component: str) -> Path:
    """The .fmu file of ``component``: its adapter.components entry, relative to the
    manifest's folder."""
    entry = str((settings.get("components") or {}).get(component, ""))
    path = Path(entry).expanduser()
    if not path.is_absolute():
        path = Path(settings.get("manifest_dir") or ".") / path
    return path.resolve()


def plan(spec: Spec, component: str, dimensions: dict[str, int]) -> dict[str, Any]:
    """What the FMU server needs to know of a component: its signals with their spec type
    and array length (None for a scalar), its parameters' types, its step period."""
    itf = spec.interfaces[component]

    def signals(ports: Any) -> list[list[Any]]:
        out = []
        for port in ports:
            sig = spec.signals[port.signal]
            length = dimensions.get(sig.dimension) if sig.dimension else None
            out.append([port.signal, sig.type, length])
        return out

    return {"inputs": signals(itf.inputs), "outputs": signals(itf.outputs),
            "parameters": {p.name: p.type for p in itf.parameters},
            "step_period_s": itf.step_period_s}


def expected_variables(spec: Spec, component: str, dimensions: dict[str, int],
                       parameters: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(variable name, causality, spec type, what it is) of every variable the FMU of
    ``component`` must have, in interface order."""
    p = plan(spec, component, dimensions)
    out: list[tuple[str, str, str, str]] = []
    for causality, key in (("input", "inputs"), ("output", "outputs")):
        for name, type_, length in p[key]:
            if length is None:
                out.append((name, causality, type_, f"signal {name}"))
                continue
            dim = spec.signals[name].dimension
            for i in range(length):
                out.append((f"{name}[{i}]", causality, type_,
                            f"element {i} of signal {name}, one per {dim} ({length})"))
    for name in parameters:
        out.append((name, "parameter", p["parameters"].get(name, "float"),
                    f"parameter {name}"))
    return out


def description_problems(path: Path, spec: Spec, component: str, dimensions: dict[str, int],
                         parameters: dict[str, Any]) -> list[str]:
    """Why the FMU at ``path`` cannot implement ``component``, from its modelDescription.xml
    alone (no code of the FMU runs); empty when it can."""
    shown = path.name
    if not path.is_file():
        return [f"expected an FMU file, found nothing at {path}"]
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("modelDescription.xml")
    except KeyError:
        return [f"{shown}: expected an FMU (a zip archive with modelDescription.xml), "
                "found an archive without it"]
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"{shown}: expected an FMU (a zip archive), found a file that is not one: "
                f"{exc}"]
    if info.file_size > MAX_DESCRIPTION_BYTES:
        return [f"{shown}: modelDescription.xml has {info.file_size} bytes, more than the "
                f"{MAX_DESCRIPTION_BYTES} accepted"]
    import fmpy
    from fmpy.model_description import ValidationError, read_model_description

    try:
        md = read_model_description(str(path), validate=True)
    except ValidationError as exc:
        found = "; ".join(str(p) for p in exc.problems[:3])
        return [f"{shown}: modelDescription.xml is not a valid FMI description: {found}"]
    except Exception as exc:  # noqa: BLE001 - a malformed file may raise anything
        return [f"{shown}: cannot read modelDescription.xml: {type(exc).__name__}: {exc}"]
    if md.fmiVersion != "2.0":
        return [f"{shown}: expected an FMI 2.0 FMU, found fmiVersion {md.fmiVersion!r}"]
    if md.coSimulation is None:
        return [f"{shown}: expected an FMU for co-simulation, found one for model exchange "
                "only"]
    platforms = fmpy.supported_platforms(str(path))
    if fmpy.platform not in platforms:
        return [f"{shown}: expected a binary for this platform ({fmpy.platform}), found "
                f"{', '.join(platforms) or 'none'}"]

    variables = {v.name: v for v in md.modelVariables}
    problems: list[str] = []
    for name, causality, type_, what in expected_variables(spec, component, dimensions,
                                                           parameters):
        types = FMI_TYPES[type_]
        want = f"{'a ' + causality if causality != 'input' else 'an input'} of type " \
               f"{' or '.join(types)} ({what}, {type_})"
        var = variables.get(name)
        if var is None:
            problems.append(f"{shown}: variable '{name}': expected {want}, found none")
        elif var.causality != causality:
            problems.append(f"{shown}: variable '{name}': expected {want}, found causality "
                            f"'{var.causality}'")
        elif var.type not in types:
            problems.append(f"{shown}: variable '{name}': expected {want}, found type "
                            f"{var.type}")
        elif causality == "parameter" and var.variability not in ("fixed", "tunable"):
            problems.append(f"{shown}: variable '{name}': expected a parameter of "
                            f"variability fixed or tunable, found '{var.variability}'")
    problems += _extra_elements(shown, spec, component, dimensions, variables)
    if len(problems) > MAX_ISSUES_PER_FMU:
        rest = len(problems) - MAX_ISSUES_PER_FMU
        problems = problems[:MAX_ISSUES_PER_FMU] + [
            f"{shown}: ... and {rest} more variable problems like the ones above"]
    return problems


def _extra_elements(shown: str, spec: Spec, component: str, dimensions: dict[str, int],
                    variables: dict[str, Any]) -> list[str]:
    """An element beyond an array's length: the FMU was built for another pack."""
    lengths = {name: length for name, _, length in
               plan(spec, component, dimensions)["inputs"] + plan(
                   spec, component, dimensions)["outputs"] if length is not None}
    beyond: dict[str, int] = {}
    for var_name, var in variables.items():
        match = _ELEMENT.match(var_name)
        if match is None or var.causality not in ("input", "output"):
            continue
        name, index = match["name"], int(match["index"])
        if name in lengths and index >= lengths[name]:
            beyond[name] = max(beyond.get(name, 0), index)
    out = []
    for name, top in beyond.items():
        dim = spec.signals[name].dimension
        out.append(f"{shown}: variable '{name}[{top}]': expected {name}[0] … "
                   f"{name}[{lengths[name] - 1}] (one per {dim}: {lengths[name]}, from the "
                   f"manifest), found elements up to [{top}]: the FMU was built for another "
                   "size")
    return out


class FmuAdapter(PythonProcessAdapter):
    """``adapter.type: fmu``: FMI 2.0 co-simulation FMUs served by :mod:`.fmu_serve`."""

    transport = "fmu"
    power_cycle_refusal = (
        "an FMU keeps no data across instances (FMI 2.0 has no non-volatile store): the "
        "bench cannot show what survives a power loss; the product's persistence is left to "
        "the certification body")

    def __init__(self, settings: dict[str, Any], spec: Any, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        super().__init__(settings, spec, components, dimensions)
        self._unpack_dir: str | None = None

    @classmethod
    def settings_problems(cls, settings: dict[str, Any], spec: Spec,
                          dimensions: dict[str, int],
                          parameters: dict[str, dict[str, Any]]
                          ) -> list[tuple[tuple[str | int, ...], str]]:
        """Every component's FMU checked against its interface (see the module docstring)."""
        out: list[tuple[tuple[str | int, ...], str]] = []
        for component in settings.get("components") or {}:
            if component not in spec.interfaces:
                continue  # the manifest check names it already
            path = fmu_path(settings, component)
            for message in description_problems(path, spec, component, dimensions,
                                                parameters.get(component, {})):
                out.append((("adapter", "components", component), message))
        return out

    @classmethod
    def judged_files(cls, settings: dict[str, Any]) -> list[Path]:
        """The .fmu files (their SHA-256 go into the report)."""
        found = {fmu_path(settings, c) for c in settings.get("components") or {}}
        return sorted(p for p in found if p.is_file())

    def command(self) -> list[str]:
        self.component_refs()  # every component has its .fmu
        plans = {c: {"path": str(fmu_path(self.settings, c)),
                     **plan(self.spec, c, self.dimensions)} for c in self.components}
        identity = {"module": self.settings.get("module") or {},
                    "spec_version": self.settings.get("spec_version") or ""}
        argv = [sys.executable, "-m", "conformance.adapters.fmu_serve",
                "--identity", wire.encode(identity).decode().strip(),
                "--plan", wire.encode(plans).decode().strip(),
                "--unpack-dir", self._unpack_dir or tempfile.gettempdir()]
        memory = self.options.get("memory_limit_MB", 4096)
        if memory:
            argv += ["--memory-limit-MB", str(int(memory))]
        return argv

    def _open(self) -> None:
        # the FMUs are unpacked here by the child; removed when the adapter closes
        self._unpack_dir = tempfile.mkdtemp(prefix="obsa-fmu-")
        try:
            super()._open()
        except BaseException:
            self._close()
            raise

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            if self._unpack_dir is not None and os.path.isdir(self._unpack_dir):
                shutil.rmtree(self._unpack_dir, ignore_errors=True)
            self._unpack_dir = None
