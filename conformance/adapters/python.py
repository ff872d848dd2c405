"""In-process transport (debugging only): each component is a Python class with
configure / reset / step, called in the certifying process.

A module run this way shares the process with the verdicts and the report writer, so a
certification never uses it: ``adapter.type: python`` runs the same classes in a child
process (:mod:`.process`, :mod:`.serve`). ``obsa certify --in-process`` picks this
transport for debugging and profiling; its report says so and is never ``certified``.

The manifest names the class of every component, as ``package.module:Class`` or as the
name of an entry point in the group ``obsa.adapters``. The class is instantiated without
arguments; its instance must offer ``configure(parameters: dict) -> None``,
``reset() -> None`` and ``step(t: float, inputs: dict) -> dict``.

Per-call timeout
    A module that hangs must not hang the certification. In the main thread a watchdog
    guards every call: while the adapter is open, a periodic ``ITIMER_REAL`` timer
    (SIGALRM) ticks every quarter of the timeout, and a call only notes when it started
    and that it ended (two stores, no system call). A tick that finds a call running
    longer than the timeout raises inside the module's code: the call ends with an
    :class:`AdapterError` and the adapter is marked broken (the module's state is unknown,
    so every later call fails fast). A hang is therefore stopped between 1 and 1.25 times
    the timeout after the call started. Limits, by design of signals: the timer is only
    available on POSIX, only in the main thread (a call from another thread runs without a
    timeout), a module stuck inside one long C call is interrupted only when that call
    returns, and a module that swallows every exception (bare ``except:``) in a loop cannot
    be stopped (a swallowed timeout is still reported once the call returns). When another
    timer already uses ``ITIMER_REAL`` at :meth:`open` (e.g. pytest-timeout's signal
    method), the adapter leaves it alone and runs without per-call timeouts
    (:attr:`PythonAdapter.timeout_mode` says which applies).

Power loss
    :meth:`~.base.Adapter.power_cycle` drops every component instance and creates new ones
    from the same classes (nothing of the old instances is called: no ``close``, no
    ``reset``); what survives is what the module wrote to its non-volatile store, the
    directory in ``OBSA_NVM_DIR``, which this adapter sets in ``os.environ`` while it is
    open (and puts back as it was when it closes). Unlike a killed process, threads the old
    instances started keep running: a debugging mode, not a proof.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import inspect
import math
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from .base import NVM_VARIABLE, Adapter, AdapterError, Call

ENTRY_POINT_GROUP = "obsa.adapters"
METHODS: dict[str, tuple[tuple[Any, ...], str]] = {
    "configure": (({},), "configure(parameters)"),
    "reset": ((), "reset()"),
    "step": ((0.0, {}), "step(t, inputs)"),
}
"""Methods every component class needs: sample arguments (to check the signature), usage."""

_HAS_TIMER = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
_get_ident = threading.get_ident
_now = time.monotonic
TICKS_PER_TIMEOUT = 4
"""The watchdog ticks this many times per timeout: a hang ends within 1.25 timeouts."""


class _Timeout(BaseException):
    """Raised inside the module by the SIGALRM handler; BaseException so that a module's
    ``except Exception`` does not swallow it."""


class _Watched:
    """The call the watchdog watches: ``since``, when the running call started (None
    between calls), ``limit``, its timeout, and ``fired``, whether the watchdog
    interrupted it. One instance (:data:`_watched`): written around every call, so its
    fields are an object's, not a class's (a class attribute written per call costs
    the interpreter's caches of the class)."""

    __slots__ = ("since", "limit", "fired")

    def __init__(self) -> None:
        self.since: float | None = None
        self.limit = math.inf
        self.fired = False


_watched = _Watched()


class _Alarm:
    """The process-wide watchdog, shared by every open PythonAdapter: the SIGALRM handler
    of the call in :data:`_watched`."""

    users: ClassVar[list[float]] = []  # the timeout of every adapter that holds the timer
    previous: Any = None

    @classmethod
    def handler(cls, signum: int, frame: Any) -> None:
        watched = _watched
        since = watched.since
        if since is not None and _now() - since >= watched.limit:
            watched.since = None
            watched.fired = True
            raise _Timeout()

    @classmethod
    def acquire(cls, timeout_s: float) -> bool:
        """Install the handler and start ticking (main thread only); False when the timer
        is not ours to use."""
        if not _HAS_TIMER or threading.current_thread() is not threading.main_thread():
            return False
        if not cls.users:
            if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
                return False  # someone else's timer is running: do not disturb it
            cls.previous = signal.signal(signal.SIGALRM, cls.handler)
        cls.users.append(timeout_s)
        cls._tick()
        return True

    @classmethod
    def release(cls, timeout_s: float) -> None:
        cls.users.remove(timeout_s)
        if threading.current_thread() is not threading.main_thread():
            return
        if cls.users:
            cls._tick()
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        _watched.since = None
        signal.signal(signal.SIGALRM, cls.previous if cls.previous is not None
                      else signal.SIG_DFL)

    @classmethod
    def _tick(cls) -> None:
        period = min(cls.users) / TICKS_PER_TIMEOUT
        signal.setitimer(signal.ITIMER_REAL, period, period)


def load_component_class(ref: str, component: str) -> type:
    """The class named by ``ref`` ('package.module:Class' or an obsa.adapters entry point)."""
    def fail(message: str) -> AdapterError:
        return AdapterError(message, component=component, call="import")

    if ":" in ref:
        module_name, _, qualname = ref.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
        except Exception as exc:
            raise fail(f"cannot import module '{module_name}' (from '{ref}'): "
                       f"{type(exc).__name__}: {exc}{_where(exc)}") from None
        for part in qualname.split("."):
            if not hasattr(obj, part):
                raise fail(f"module '{module_name}' has no attribute '{qualname}' "
                           f"(from '{ref}')")
            obj = getattr(obj, part)
    else:
        found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        if ref not in found:
            known = ", ".join(sorted(found)) or "none installed"
            raise fail(f"expected 'package.module:Class' or an entry point of group "
                       f"'{ENTRY_POINT_GROUP}' ({known}), found '{ref}'")
        try:
            obj = found[ref].load()
        except Exception as exc:
            raise fail(f"cannot load entry point '{ref}' ({found[ref].value}): "
                       f"{type(exc).__name__}: {exc}{_where(exc)}") from None
    if not inspect.isclass(obj):
        raise fail(f"expected a class at '{ref}', found {type(obj).__name__}")
    for method in METHODS:
        if not callable(getattr(obj, method, None)):
            raise AdapterError(f"class {obj.__qualname__} ('{ref}') has no method {method}()",
                               component=component, call="import", field=method)
    return obj


def _where(exc: BaseException) -> str:
    """' (at file:line in function)' of the frame that raised, outside this adapter."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename not in (__file__, _BASE_FILE, _CHAIN_FILE)]
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" (at {_short(exc.filename)}:{exc.lineno})"
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {_short(f.filename)}:{f.lineno} in {f.name})"


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


_BASE_FILE = inspect.getfile(Adapter)


class PythonAdapter(Adapter):
    """Drives component classes in this process (see the module docstring)."""

    transport = "python-inprocess"
    power_cycle_refusal: ClassVar[str | None] = None
    independent_instances: ClassVar[bool] = True

    @classmethod
    def judged_files(cls, settings: dict[str, Any]) -> list[Path]:
        return module_files(settings)

    def __init__(self, settings: dict[str, Any], spec: Any, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        super().__init__(settings, spec, components, dimensions)
        self._instances: dict[str, Any] = {}
        self._steps: dict[str, Any] = {}
        #: step_chain's compiled function per tuple of components (see _compile_chain)
        self._chains: dict[tuple[str, ...], Callable[..., None]] = {}
        self._classes: dict[str, type] = {}
        self._environ_nvm: str | None = None  # OBSA_NVM_DIR as it was before open()
        self._alarm = False
        self._alarm_s = 0.0  # the per-call timer, when the alarm is armed
        self._main = threading.main_thread().ident
        self.timeout_mode = "none"

    # ---- life cycle ---------------------------------------------------------------
    def _open(self) -> None:
        refs = self.settings.get("components", {})
        self._environ_nvm = os.environ.get(NVM_VARIABLE)
        os.environ[NVM_VARIABLE] = str(self.nvm_dir)
        try:
            for component in self.components:
                ref = refs.get(component)
                if not ref:
                    raise AdapterError("no entry in the manifest's adapter.components",
                                       component=component, call="import", field=component)
                self._classes[component] = load_component_class(ref, component)
                self._create(component)
        except BaseException:
            self._restore_environ()  # close() will not run _close() for an adapter not open
            raise
        if self.timeout_s is not None:
            self._alarm_s = self.timeout_s
            self._alarm = _Alarm.acquire(self.timeout_s)
            self.timeout_mode = (f"SIGALRM watchdog, {self.timeout_s:g} s per call (main "
                                 "thread)" if self._alarm
                                 else "none (timer unavailable or in use)")

    def _create(self, component: str) -> None:
        """A new instance of the component's class, its signatures checked."""
        cls = self._classes[component]
        try:
            instance = cls()
        except Exception as exc:
            raise AdapterError(f"creating {cls.__qualname__}() failed: "
                               f"{type(exc).__name__}: {exc}{_where(exc)}",
                               component=component, call="import") from None
        _check_signatures(instance, component)
        self._instances[component] = instance
        self._steps[component] = instance.step

    def _power_cycle(self) -> None:
        """Drop every instance and create it anew (see the module docstring)."""
        self._instances.clear()
        self._steps.clear()
        try:
            for component in self.components:
                self._create(component)
        except AdapterError as exc:
            self._mark_broken(f"the module did not start again after a power cycle: {exc}")
            raise

    def _close(self) -> None:
        if self._alarm:
            self._alarm = False
            _Alarm.release(self._alarm_s)
        self._instances.clear()
        self._steps.clear()
        self._restore_environ()

    def _restore_environ(self) -> None:
        """``OBSA_NVM_DIR`` as it was before :meth:`_open`, if it still names our store."""
        if self._nvm_dir is not None and os.environ.get(NVM_VARIABLE) == str(self._nvm_dir):
            if self._environ_nvm is None:
                os.environ.pop(NVM_VARIABLE, None)
            else:
                os.environ[NVM_VARIABLE] = self._environ_nvm

    # ---- calls ---------------------------------------------------------------------
    def _configure(self, component: str, parameters: dict[str, Any]) -> None:
        self._call(component, "configure", self._instances[component].configure, dict(parameters))

    def _reset(self, component: str) -> None:
        self._call(component, "reset", self._instances[component].reset)

    def _step(self, component: str, t: float, inputs: dict[str, Any]) -> Any:
        # The hot path: kept flat on purpose (it runs ~300 times per simulated second).
        fn = self._steps[component]
        if not self._alarm or _get_ident() != self._main:
            try:
                return fn(t, inputs)
            except (Exception, SystemExit) as exc:
                raise self._module_error(component, "step", exc) from None
        alarm = _watched
        alarm.limit = self._alarm_s
        try:
            alarm.since = _now()
            try:
                reply = fn(t, inputs)
            finally:
                alarm.since = None
        except _Timeout as exc:
            raise self._timed_out(component, "step", exc) from None
        except (Exception, SystemExit) as exc:
            raise self._module_error(component, "step", exc) from None
        if alarm.fired:
            raise self._timed_out(component, "step", None)
        return reply

    def step_chain(self, t: float, components: Sequence[str], pool: dict[str, Any]) -> None:
        """:meth:`Adapter.step_chain` as one function per list of components, compiled
        once (:func:`_compile_chain`; the closed loop's hot path): the same calls,
        watchdog, checks and errors, one component at a time."""
        if self._broken is not None or not self._is_open:
            self._ready(components[0], "step")
        key = tuple(components)
        chain = self._chains.get(key)
        if chain is None:
            plan = self._plans.get(key) or self._chain_plan(list(components))
            chain = self._chains[key] = _compile_chain(plan, self._steps)
        chain(self, t, pool, _watched if self._alarm and _get_ident() == self._main else None,
              self._alarm_s)

    def _call(self, component: str, call: Call, fn: Any, *args: Any) -> Any:
        """Any call but step: the same guard, without the hot-path shortcuts."""
        guarded = self._alarm and _get_ident() == self._main
        try:
            if guarded:
                _watched.limit = self._alarm_s
                _watched.since = _now()
            try:
                result = fn(*args)
            finally:
                if guarded:
                    _watched.since = None
        except _Timeout as exc:
            raise self._timed_out(component, call, exc) from None
        except (Exception, SystemExit) as exc:
            raise self._module_error(component, call, exc) from None
        if guarded and _watched.fired:
            raise self._timed_out(component, call, None)
        return result

    # ---- errors ------------------------------------------------------------------
    def _module_error(self, component: str, call: Call, exc: BaseException) -> AdapterError:
        return AdapterError(f"the module raised {type(exc).__name__}: {exc}{_where(exc)}",
                            component=component, call=call)

    def _timed_out(self, component: str, call: Call, exc: BaseException | None) -> AdapterError:
        _watched.fired = False
        where = _where(exc).replace(" (at ", " (interrupted at ") if exc is not None else (
            " (the module caught the interruption and returned late)")
        reason = f"{component}.{call} gave no reply within {self.timeout_s:g} s{where}"
        self._mark_broken(reason)
        return AdapterError(f"no reply within the timeout of {self.timeout_s:g} s{where}; "
                            "the adapter is now unusable", component=component, call=call)


_CHAIN_FILE = "<obsa step_chain>"
"""The file name of the compiled chains' code: like this file's frames, never where a
module's error is said to be (:func:`_where`)."""


def _transport_failed(component: str, exc: Exception) -> AdapterError:
    return AdapterError(f"transport failed: {type(exc).__name__}: {exc}",
                        component=component, call="step")


def _compile_chain(plan: tuple[tuple[str, tuple[str, ...], Any], ...], steps: dict[str, Any],
                   ) -> Callable[..., None]:
    """What :meth:`PythonAdapter.step_chain` does for the components of ``plan`` (the
    base adapter's: per component, its input names and reply check), as one function
    ``chain(adapter, t, pool, alarm, limit)`` with every component written out in order: its
    inputs read from the pool as a dict display of its input names, its instance's
    ``step`` looked up in ``steps`` (new instances after a power cycle), called under
    the watchdog ``alarm`` (:data:`_watched`, or None for no timeout) with ``limit``
    seconds, its reply checked (the compiled check first, the exact one only when that
    is not certain) and written into the pool. The same calls, checks and errors as
    :meth:`PythonAdapter._step` and :meth:`Adapter.step_chain` one by one: a failure to
    read the inputs is the transport's (:func:`_transport_failed`), the module's own
    failures and timeouts are told as ``_step`` tells them (by ``adapter``)."""
    env: dict[str, Any] = {"steps": steps, "now": _now, "Timeout": _Timeout,
                           "transport_failed": _transport_failed}
    lines = ["def chain(adapter, t, pool, alarm, limit):",
             "    update = pool.update"]
    for i, (component, names, check) in enumerate(plan):
        env[f"C{i}"], env[f"FAST{i}"], env[f"CHECK{i}"] = component, check.fast, check
        inputs = ", ".join(f"{name!r}: pool[{name!r}]" for name in names)
        lines += [
            "    try:",
            f"        fn = steps[C{i}]",
            f"        inputs = {{{inputs}}}",
            "    except Exception as exc:  # as in Adapter.step_chain: no crash of the suite",
            f"        raise transport_failed(C{i}, exc) from exc",
            "    if alarm is None:",
            "        try:",
            "            reply = fn(t, inputs)",
            "        except (Exception, SystemExit) as exc:",
            f"            raise adapter._module_error(C{i}, 'step', exc) from None",
            "    else:",
            "        alarm.limit = limit",
            "        try:",
            "            alarm.since = now()",
            "            try:",
            "                reply = fn(t, inputs)",
            "            finally:",
            "                alarm.since = None",
            "        except Timeout as exc:",
            f"            raise adapter._timed_out(C{i}, 'step', exc) from None",
            "        except (Exception, SystemExit) as exc:",
            f"            raise adapter._module_error(C{i}, 'step', exc) from None",
            "        if alarm.fired:",
            f"            raise adapter._timed_out(C{i}, 'step', None)",
            f"    if not FAST{i}(reply):",
            f"        CHECK{i}(reply)",
            "    update(reply)",
        ]
    code = compile("\n".join(lines), _CHAIN_FILE, "exec")
    exec(code, env)  # noqa: S102 - source built above from the spec's input names
    chain: Callable[..., None] = env["chain"]
    return chain


def module_file(ref: str) -> Path | None:
    """The source file of the module a component reference names, found without importing
    anything (no code of the module or of its packages runs)."""
    if ":" not in ref:
        found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        if ref not in found:
            return None
        ref = found[ref].value
    parts = ref.partition(":")[0].split(".")
    search: list[str] | None = None
    spec = None
    for i in range(len(parts)):
        try:
            spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:i + 1]), search)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        search = list(spec.submodule_search_locations or [])
    origin = spec.origin if spec is not None else None
    return Path(origin).resolve() if origin and Path(origin).is_file() else None


def module_files(settings: dict[str, Any]) -> list[Path]:
    """The files of every component module the adapter settings name, sorted, no repeats."""
    refs = (settings.get("components") or {}).values()
    return sorted({f for f in (module_file(str(r)) for r in refs) if f is not None})


def _check_signatures(instance: Any, component: str) -> None:
    for method, (args, usage) in METHODS.items():
        try:
            inspect.signature(getattr(instance, method)).bind(*args)
        except TypeError as exc:
            raise AdapterError(
                f"expected {type(instance).__qualname__}.{usage}, found a signature that "
                f"does not take it: {exc}", component=component, call="import", field=method,
            ) from None
        except ValueError:
            pass  # no signature available (a builtin): the first call will tell
