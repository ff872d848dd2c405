"""The FMU component server: FMI 2.0 co-simulation FMUs served over the wire contract.

    python -m conformance.adapters.fmu_serve --plan JSON --unpack-dir DIR \\
        [--identity JSON] [--memory-limit-MB N]

The bench's ``fmu`` transport (:mod:`.fmu`) starts this in a child process: the FMUs'
binaries are loaded here, never in the certifying process. It is the generic component
server (:mod:`.serve`: the protected protocol channel, the limits, ``obsa.hello``,
``<component>.configure | reset | step`` and the batched ``obsa.step``) with one
:class:`FmuComponent` per component in place of a Python class. ``--plan`` gives, per
component, the .fmu file, the signals with their spec type and array length, the
parameters' types and the step period; the bench checked the FMU's modelDescription.xml
against it before starting this.

FMPy loads each FMU (``fmpy.fmi2.FMU2Slave``); what the FMU logs goes to stderr (the
bench keeps its end) and the last messages into the error reply of a call that failed.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from . import serve, wire
from .serve import ModuleFailed

LOG_KEEP = 8
"""How many of the FMU's last log messages an error reply quotes."""
STATUS = ("ok", "warning", "discard", "error", "fatal", "pending")
_FMI_KIND = {"float": "Real", "bool": "Boolean", "int": "Integer", "flags": "Integer",
             "enum": "Integer"}
_DTYPE = {"Real": np.float64, "Integer": np.int32, "Boolean": np.int32}
_CTYPE: dict[str, type[ctypes.c_double] | type[ctypes.c_int]] = {
    "Real": ctypes.c_double, "Integer": ctypes.c_int, "Boolean": ctypes.c_int}


class _Signal:
    """One signal of a component: its FMI variables (one per array element)."""

    __slots__ = ("name", "type", "kind", "array", "vrs", "vr_ptr", "n", "last")

    def __init__(self, name: str, type_: str, length: int | None,
                 refs: dict[str, int]) -> None:
        self.name = name
        self.type = type_
        self.kind = _FMI_KIND[type_]
        self.array = length is not None
        names = [f"{name}[{i}]" for i in range(length)] if length is not None else [name]
        missing = [n for n in names if n not in refs]
        if missing:
            raise KeyError(missing[0])
        self.vrs = np.array([refs[n] for n in names], dtype=np.uint32)
        self.vr_ptr = self.vrs.ctypes.data_as(ctypes.POINTER(ctypes.c_uint))
        self.n = len(names)
        self.last: Any = None  # the value last set (inputs), to skip unchanged ones


class FmuComponent:
    """One FMU instance as a synchronous block: configure / reset / step (see
    :mod:`.fmu` for the mapping onto the FMI 2.0 calls)."""

    def __init__(self, component: str, plan: dict[str, Any], unpack_dir: Path) -> None:
        from fmpy import extract
        from fmpy.fmi2 import FMU2Slave
        from fmpy.model_description import read_model_description

        self.component = component
        self.path = Path(plan["path"])
        self.file = self.path.name
        self.period = float(plan["step_period_s"])
        md = read_model_description(str(self.path), validate=False)
        refs = {v.name: v.valueReference for v in md.modelVariables}
        try:
            self.inputs = [_Signal(n, t, ln, refs) for n, t, ln in plan["inputs"]]
            self.outputs = [_Signal(n, t, ln, refs) for n, t, ln in plan["outputs"]]
        except KeyError as exc:
            raise self._failed("import", f"the FMU has no variable {exc}") from None
        self.param_refs = refs
        self.param_types: dict[str, str] = dict(plan["parameters"])
        # outputs are read with one call per FMI type into buffers made once
        self._reads: list[tuple[str, Any, int, Any, Any, list[tuple[_Signal, int, int]]]] = []
        for kind in ("Real", "Integer", "Boolean"):
            signals = [s for s in self.outputs if s.kind == kind]
            if not signals:
                continue
            vrs = np.concatenate([s.vrs for s in signals])
            buf = np.zeros(len(vrs), dtype=_DTYPE[kind])
            spans, start = [], 0
            for s in signals:
                spans.append((s, start, start + s.n))
                start += s.n
            self._reads.append((kind, vrs.ctypes.data_as(ctypes.POINTER(ctypes.c_uint)),
                                len(vrs), buf.ctypes.data_as(ctypes.POINTER(_CTYPE[kind])),
                                (vrs, buf), spans))
        self.log = _LOGS.setdefault(component, deque(maxlen=LOG_KEEP))
        self.parameters: dict[str, Any] = {}
        self.time = -self.period
        self.initialised = False
        self.fresh = False
        target = unpack_dir / component
        target.mkdir(parents=True, exist_ok=True)
        self.fmu = FMU2Slave(guid=md.guid, unzipDirectory=str(extract(str(self.path), target)),
                             modelIdentifier=md.coSimulation.modelIdentifier,
                             instanceName=component)
        self._fmi("import", "fmi2Instantiate", lambda: self.fmu.instantiate(
            callbacks=_callbacks(), loggingOn=True))
        self.c = self.fmu.component

    # ---- the block --------------------------------------------------------------
    def configure(self, parameters: dict[str, Any]) -> None:
        """Keep the parameters and initialise the instance with them (FMI 2.0 has no other
        moment to take a fixed parameter)."""
        self._usable("configure")
        unknown = sorted(set(parameters) - set(self.param_refs))
        if unknown:
            raise self._failed("configure", f"the FMU has no parameter {unknown[0]!r}")
        self.parameters = dict(parameters)
        self._initialise("configure")

    def reset(self) -> None:
        self._usable("reset")
        self._initialise("reset")

    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        if _FATAL:
            self._usable("step")
        if self.fresh:  # the first step after a reset: the FMU starts one period before it
            self.fresh = False
            if t - self.period != self.time:  # a test case that starts its clock late
                self._initialise("step", t - self.period)
                self.fresh = False
        h = t - self.time
        if not h > 0:
            raise self._failed("step", f"step at t={t:g} s does not advance the FMU past its "
                               f"time {self.time:g} s (steps must come in increasing time)")
        fmu, c = self.fmu, self.c
        changed: dict[str, list[tuple[_Signal, Any]]] = {}
        for s in self.inputs:
            value = inputs[s.name]
            last = s.last
            if value is last or (not s.array and value == last):
                continue
            s.last = value
            changed.setdefault(s.kind, []).append((s, value))
        function = ""
        self.log.clear()
        try:
            for kind, items in changed.items():  # one call per FMI type
                dtype = _DTYPE[kind]
                if len(items) == 1:
                    s, value = items[0]
                    vr_ptr, n = s.vr_ptr, s.n
                    values = np.ascontiguousarray(
                        value if s.array else [_scalar(s.type, value)], dtype=dtype)
                else:
                    vrs = np.concatenate([s.vrs for s, _ in items])
                    vr_ptr, n = vrs.ctypes.data_as(ctypes.POINTER(ctypes.c_uint)), len(vrs)
                    values = np.concatenate([np.asarray(
                        v if s.array else [_scalar(s.type, v)], dtype=dtype) for s, v in items])
                function = f"fmi2Set{kind}"
                getattr(fmu, function)(c, vr_ptr, n,
                                       values.ctypes.data_as(ctypes.POINTER(_CTYPE[kind])))
            function = "fmi2DoStep"
            fmu.fmi2DoStep(c, self.time, h, 1)
            self.time = t
            out: dict[str, Any] = {}
            for kind, vr_ptr, n, buf_ptr, (_, buf), spans in self._reads:
                function = f"fmi2Get{kind}"
                getattr(fmu, function)(c, vr_ptr, n, buf_ptr)
                for s, a, b in spans:
                    out[s.name] = _values(s, buf[a:b])
        except Exception as exc:
            for s in self.inputs:
                s.last = None  # unknown which inputs the FMU took: send them all again
            at = t if function == "fmi2DoStep" else None
            raise self._failure("step", function, exc, at) from None
        return out

    # ---- FMI calls ----------------------------------------------------------------
    def _initialise(self, call: str, start: float | None = None) -> None:
        """fmi2Reset (after the first time), setup, parameters, initialisation mode; the
        FMU's time starts at ``start`` (default: one period before t = 0)."""
        fmu = self.fmu
        if self.initialised:
            self.initialised = False
            self._fmi(call, "fmi2Reset", fmu.reset)
        if start is None:
            start = -self.period
        self._fmi(call, "fmi2SetupExperiment", lambda: fmu.setupExperiment(startTime=start))
        groups: dict[str, tuple[list[int], list[Any]]] = {}
        for name, value in self.parameters.items():
            type_ = self.param_types.get(name, "float")
            kind = _FMI_KIND.get(type_, "Real")
            vrs, values = groups.setdefault(kind, ([], []))
            vrs.append(self.param_refs[name])
            values.append(_scalar(type_, value))
        for kind, (vrs, values) in groups.items():
            setter = getattr(fmu, f"set{kind}")
            self._fmi(call, f"fmi2Set{kind}", lambda s=setter, v=vrs, x=values: s(v, x))
        self._fmi(call, "fmi2EnterInitializationMode", fmu.enterInitializationMode)
        self._fmi(call, "fmi2ExitInitializationMode", fmu.exitInitializationMode)
        self.initialised = True
        self.fresh = True
        self.time = start
        for s in self.inputs:
            s.last = None  # the instance is back at its start values

    def _fmi(self, call: str, function: str, fn: Any, *args: Any, at: float | None = None
             ) -> Any:
        self.log.clear()
        try:
            return fn(*args)
        except Exception as exc:
            raise self._failure(call, function, exc, at) from None

    def _failure(self, call: str, function: str, exc: Exception, at: float | None
                 ) -> ModuleFailed:
        """The error reply of an FMI call that failed, quoting what the FMU logged."""
        from fmpy.fmi1 import FMICallException

        if not isinstance(exc, FMICallException):
            return self._failed(call, f"{function} failed: {type(exc).__name__}: {exc}")
        status = STATUS[exc.status] if 0 <= exc.status < len(STATUS) else str(exc.status)
        when = f" (from t={self.time:g} s to {at:g} s)" if at is not None else ""
        said = f"; the FMU logged: {' | '.join(self.log)}" if self.log else \
            "; the FMU logged nothing"
        failed = self._failed(call, f"{function}{when} returned {status}{said}")
        if exc.status == 4 and not _FATAL:  # fmi2Fatal
            _FATAL.append(f"{self.component}.{call}: {failed.message}")
        return failed

    def _usable(self, call: str) -> None:
        """Refuse the call after an fmi2Fatal (FMI 2.0 allows none), naming the first."""
        if _FATAL:
            raise self._failed(call, "not called: an FMU returned fmi2Fatal earlier, after "
                               "which FMI 2.0 allows no call to any FMU instance of the "
                               f"process ({_FATAL[0]})")

    def _failed(self, call: str, message: str) -> ModuleFailed:
        return ModuleFailed(f"{self.file}: {message}", self.component, call, self.file)


def _scalar(type_: str, value: Any) -> Any:
    """A scalar input or parameter as its FMI value (flags above 2**31 wrap to int32)."""
    if type_ == "float":
        return float("nan") if value is None else float(value)
    if type_ == "bool":
        return 1 if value else 0
    number = int(value)
    return number - (1 << 32) if number >= (1 << 31) else number


def _values(s: _Signal, raw: np.ndarray) -> Any:
    """An output's values as the wire carries them (flags read as unsigned)."""
    if s.type == "bool":
        values: Any = (raw != 0).tolist()
    elif s.type == "flags":
        values = (raw.astype(np.int64) & 0xFFFFFFFF).tolist()
    else:
        values = raw.tolist()
    return values if s.array else values[0]


_FATAL: list[str] = []
"""Why an FMU returned fmi2Fatal, once one did: FMI 2.0 then allows no further call to any
FMU instance, so every later call of the bench is refused with this reason."""
_LOGS: dict[str, deque[str]] = {}
"""The last messages of every instance, by instance name (the component id)."""
_CALLBACKS: list[Any] = []


def _callbacks() -> Any:
    """The fmi2CallbackFunctions of every instance (one set: FMPy's proxy, which formats the
    FMU's printf-style message, keeps a single logger): the logger files each message under
    its instance's name and writes it to stderr."""
    if _CALLBACKS:
        return _CALLBACKS[0]
    from fmpy import calloc, free
    from fmpy.fmi2 import (
        fmi2CallbackAllocateMemoryTYPE,
        fmi2CallbackFreeMemoryTYPE,
        fmi2CallbackFunctions,
        fmi2CallbackLoggerTYPE,
    )

    def logger(env: Any, instance: bytes | None, status: int, category: bytes | None,
               message: bytes | None) -> None:
        text = (message or b"").decode("utf-8", "replace").strip()
        label = STATUS[status] if 0 <= status < len(STATUS) else str(status)
        name = (instance or b"").decode("utf-8", "replace")
        _LOGS.setdefault(name, deque(maxlen=LOG_KEEP)).append(f"{label}: {' '.join(text.split())}")
        sys.stderr.write(f"[{name}] {label}: {text}\n")

    callbacks = fmi2CallbackFunctions()
    callbacks.logger = fmi2CallbackLoggerTYPE(logger)
    callbacks.allocateMemory = fmi2CallbackAllocateMemoryTYPE(calloc)
    callbacks.freeMemory = fmi2CallbackFreeMemoryTYPE(free)
    try:
        from fmpy.logging import addLoggerProxy

        addLoggerProxy(ctypes.byref(callbacks))
    except (ImportError, OSError, AttributeError):
        pass  # unformatted messages, but messages
    _CALLBACKS.append(callbacks)  # kept alive: the FMUs call it until the process ends
    return callbacks


class FmuServer(serve.Server):
    """The component server with an FMU instance per component."""

    def __init__(self, plans: dict[str, Any], unpack_dir: Path,
                 identity: dict[str, Any]) -> None:
        super().__init__({c: str(p.get("path", "")) for c, p in plans.items()}, identity)
        self.plans = plans
        self.unpack_dir = unpack_dir

    def hello(self, params: dict[str, Any]) -> dict[str, Any]:
        declared = params.get("components") or {}
        for component, plan in self.plans.items():
            try:
                instance = FmuComponent(component, plan, self.unpack_dir)
            except ModuleFailed:
                raise
            except BaseException as exc:  # noqa: BLE001 - loading runs the FMU's code
                raise ModuleFailed(f"{Path(plan.get('path', '?')).name}: loading the FMU "
                                   f"failed: {type(exc).__name__}: {exc}", component,
                                   "import") from None
            self.instances[component] = instance
            self.steps[component] = instance.step
            types = (declared.get(component) or {}).get("inputs") or {}
            self.inputs[component] = tuple(types)
            self.arrays[component] = ()  # the FMU copies its inputs: no views needed
            for name, type_word in types.items():
                self.convert[name] = serve.converter(str(type_word))
        return {"protocol": wire.PROTOCOL, "module": self.identity.get("module", {}),
                "spec_version": self.identity.get("spec_version", ""),
                "components": list(self.instances), "batch": True}


def main(argv: list[str] | None = None) -> int:
    proto_in, proto_out = serve.protect_channel()
    parser = argparse.ArgumentParser(prog="python -m conformance.adapters.fmu_serve",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True,
                        help="JSON: {component: {path, inputs, outputs, parameters, "
                             "step_period_s}}")
    parser.add_argument("--unpack-dir", required=True, help="where the FMUs are unpacked")
    parser.add_argument("--identity", default="{}",
                        help="JSON: {'module': {vendor, name, version}, 'spec_version': ...}")
    parser.add_argument("--memory-limit-MB", dest="memory", type=int, default=None)
    args = parser.parse_args(argv)
    serve.limit_process(args.memory)
    plans = wire.decode(args.plan)
    try:
        identity = wire.decode(args.identity)
    except wire.DecodeError:
        identity = {}
    server = FmuServer(plans if isinstance(plans, dict) else {}, Path(args.unpack_dir),
                       identity if isinstance(identity, dict) else {})
    serve.serve(proto_in, proto_out, server)
    return 0


if __name__ == "__main__":
    # leave at once, like the Python server: nothing of a module may delay the exit
    code = main()
    sys.stderr.flush()
    os._exit(code)
