"""The one contract between the bench and a module under test, whatever the transport.

The bench drives every component as a synchronous block: ``configure(parameters)``,
``reset()``, ``step(t, inputs) -> outputs``. An :class:`Adapter` carries those calls over a
transport (in-process Python, a child process, an FMU, a CAN bus). The public methods are
template methods: they check the adapter's state, call the transport's ``_configure``,
``_reset`` or ``_step``, validate every reply against the spec, and turn every problem of
the module into an :class:`AdapterError` — a test case never sees another exception
from a module, so a misbehaving module gets a verdict (error), not a crashed suite.

Writing a transport: subclass :class:`Adapter`, implement ``_configure``, ``_reset`` and
``_step``; override ``_open``/``_close`` when the transport holds resources; register it
under the entry-point group ``obsa.transports`` (name → ``package.module:Class``).

Power loss (spec: lifecycle rule power_loss, OBSA-REG-015). :meth:`Adapter.power_cycle`
cuts the module's power without warning and starts it again: a transport that can (it
started the module: ``python``, ``process``, the in-process debugging mode) implements
``_power_cycle`` and sets :attr:`Adapter.power_cycle_refusal` to None; every other says why
it cannot, and the test cases that need a power loss are then not applicable. The module's
non-volatile store is :attr:`Adapter.nvm_dir`, a directory of its own for the adapter's
life (one certification run), given to the module in ``OBSA_NVM_DIR``, kept across power
cycles and deleted by :meth:`Adapter.close`.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from .validation import RecordCheck, compile_outputs

if TYPE_CHECKING:
    from ..spec.loader import Spec

Call = Literal["import", "configure", "reset", "step", "power_cycle"]

NVM_VARIABLE = "OBSA_NVM_DIR"
"""The environment variable that names the module's non-volatile store (a directory)."""

MIN_TIMEOUT_S = 0.05
"""The shortest per-call timeout a transport accepts: below it a healthy module on a busy
machine misses its deadline, and a timer that fires that often starves the run."""


def as_columns(replies: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Checked outputs records of the steps of a series as columns: output → its values as
    floats, a row per step for an array output (:meth:`Adapter.step_outputs`)."""
    return {name: np.asarray([reply[name] for reply in replies], dtype=float)
            for name in (replies[0] if replies else ())}


class AdapterError(Exception):
    """A problem of the module under test, phrased for a person.

    ``component`` and ``call`` say where it happened, ``field`` names the output (or
    setting) at fault when there is one.
    """

    def __init__(self, message: str, *, component: str | None = None,
                 call: Call | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.component = component
        self.call = call
        self.field = field

    def __str__(self) -> str:
        where = ".".join(p for p in (self.component, self.call) if p)
        fld = f" [{self.field}]" if self.field else ""
        return f"{where}{fld}: {self.message}" if where else f"{self.message}{fld}"


class Adapter(ABC):
    """Base of every transport: state, reply validation and error wrapping.

    ``settings`` is the manifest's ``adapter`` section as a dict (``type``, ``timeout_s``,
    ``components``, ``options``); ``components`` the ids the bench will drive;
    ``dimensions`` the length of every array dimension (``{"cell": 96, ...}``) for reply
    validation. Use as a context manager, or call :meth:`open` and :meth:`close`.
    """

    transport: ClassVar[str] = "abstract"
    #: whether each run starts a module of its own that no other run can reach (a child
    #: process, an FMU instance, classes in this process): ``obsa certify --jobs`` may then
    #: run the test cases in several processes, each with its own start of the module. Not
    #: for a module the bench finds running (TCP) or a node on a bus.
    independent_instances: ClassVar[bool] = False
    #: why this transport cannot cut the module's power (None: it can, see power_cycle)
    power_cycle_refusal: ClassVar[str | None] = "this transport cannot cut the module's power"

    def __init__(self, settings: dict[str, Any], spec: Spec, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        self.settings = dict(settings)
        self.spec = spec
        self.components = list(components)
        self.dimensions = dict(dimensions or {})
        timeout = self.settings.get("timeout_s", 1.0)
        self.timeout_s: float | None = float(timeout) if timeout else None
        if self.timeout_s is not None and not self.timeout_s >= MIN_TIMEOUT_S:
            raise AdapterError(f"expected a timeout of at least {MIN_TIMEOUT_S:g} s per call, "
                               f"found {self.timeout_s:g} s", call="import",
                               field="adapter.timeout_s")
        self._is_open = False
        self._broken: str | None = None
        self._nvm_dir: Path | None = None
        self._checks: dict[str, RecordCheck] = {}
        self._chain_inputs: dict[str, tuple[str, ...]] = {}
        #: step_chain's plan per tuple of components (see _chain_plan)
        self._plans: dict[tuple[str, ...], tuple[tuple[str, tuple[str, ...], RecordCheck],
                                                  ...]] = {}
        for component in self.components:
            if component not in spec.interfaces:
                raise AdapterError(f"'{component}' is not a component of the spec "
                                   f"({', '.join(sorted(spec.interfaces))})",
                                   component=component, call="import")
            self._checks[component] = compile_outputs(spec, component, self.dimensions)
            self._chain_inputs[component] = tuple(
                p.signal for p in spec.interfaces[component].inputs)

    # ---- life cycle ---------------------------------------------------------------
    def open(self) -> None:
        """Reach the module (import, start, connect). Idempotent."""
        if self._is_open:
            return
        self._guard("import", None, self._open)
        self._is_open = True

    def close(self) -> None:
        """Release the module and delete its non-volatile store. Idempotent; never raises:
        it runs when the verdicts are in and the report is still to be written, so a failure
        is only a warning."""
        if self._is_open:
            self._is_open = False
            try:
                self._close()
            except Exception as exc:
                warnings.warn(f"{type(self).__name__}.close() failed: {type(exc).__name__}: "
                              f"{exc}", RuntimeWarning, stacklevel=2)
        nvm, self._nvm_dir = self._nvm_dir, None
        if nvm is not None:
            shutil.rmtree(nvm, ignore_errors=True)

    def __enter__(self) -> Adapter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_is_open", False):
            warnings.warn(f"{type(self).__name__} was not closed", ResourceWarning, stacklevel=1)

    @property
    def broken(self) -> str | None:
        """Why the adapter can no longer be used (after a timeout), or None."""
        return self._broken

    @property
    def nvm_dir(self) -> Path:
        """The module's non-volatile store: a directory private to this adapter's module,
        created when first asked for, kept across :meth:`power_cycle`, deleted by
        :meth:`close` (like a board's EEPROM, for one certification run). Transports give it
        to the module in ``OBSA_NVM_DIR``."""
        if self._nvm_dir is None:
            self._nvm_dir = Path(tempfile.mkdtemp(prefix="obsa-nvm-"))
        return self._nvm_dir

    def power_cycle(self) -> None:
        """Cut the module's power without warning and start it again (spec: lifecycle rule
        power_loss): it gets no call in between and may lose anything it did not write to
        its non-volatile store (:attr:`nvm_dir`), which is kept. The caller then configures
        every component again, with the same parameters and without ``reset``. A transport
        that cannot (:attr:`power_cycle_refusal`) raises AdapterError saying why; a module
        that does not start again leaves the adapter unusable."""
        if self.power_cycle_refusal is not None:
            raise AdapterError(self.power_cycle_refusal, call="power_cycle")
        if self._broken is not None:
            raise AdapterError(f"the adapter is unusable after an earlier failure: "
                               f"{self._broken}", call="power_cycle")
        if not self._is_open:
            raise AdapterError("the adapter is not open (call open() or use 'with')",
                               call="power_cycle")
        self._guard("power_cycle", None, self._power_cycle)

    # ---- the block interface (template methods) ----------------------------------
    def configure(self, component: str, parameters: dict[str, Any]) -> None:
        """Pass the component its effective parameters (spec defaults + manifest)."""
        self._ready(component, "configure")
        self._guard("configure", component, self._configure, component, parameters)

    def reset(self, component: str) -> None:
        """Bring the component to its initial state (fault memory cleared)."""
        self._ready(component, "reset")
        self._guard("reset", component, self._reset, component)

    def step(self, component: str, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        """Advance the component to simulated time ``t`` (s); return its validated outputs."""
        if self._broken is not None or not self._is_open or component not in self._checks:
            self._ready(component, "step")
        try:
            reply = self._step(component, t, inputs)
        except AdapterError:
            raise
        except Exception as exc:  # a transport bug must not look like a crash of the suite
            raise AdapterError(f"transport failed: {type(exc).__name__}: {exc}",
                               component=component, call="step") from exc
        self._checks[component](reply)
        return reply

    def step_series(self, component: str, times: Sequence[float],
                    inputs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Step ``component`` at each of ``times`` with the matching ``inputs``, open loop (no
        input depends on an earlier output: a replay of recorded data); its validated
        outputs per step, in order. The same calls and checks as :meth:`step` one by one; a
        transport that can overlap them (send a request before the previous reply is in)
        overrides it."""
        return [self.step(component, float(t), values)
                for t, values in zip(times, inputs, strict=True)]

    def step_columns(self, component: str, times: Sequence[float],
                     inputs: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
        """:meth:`step_series` with the inputs as columns: ``inputs[name][i]`` is the value
        of input ``name`` at step ``i`` (a numpy array's row for an array signal). A
        transport that can carry many steps in one message (the wire's ``obsa.step_series``)
        overrides it; by default, the rows through :meth:`step_series`."""
        return self.step_series(component, times, ({name: column[i] for name, column
                                                    in inputs.items()}
                                                   for i in range(len(times))))

    def step_outputs(self, component: str, times: Sequence[float],
                     inputs: Mapping[str, Sequence[Any]]) -> dict[str, np.ndarray]:
        """:meth:`step_columns` with the outputs as columns too: output → its values as
        floats (booleans 0 and 1), one per step, a row per step for an array output; no
        output when there are no steps. The same steps and checks as :meth:`step_columns`;
        a transport that receives the outputs as columns overrides it."""
        return as_columns(self.step_columns(component, times, inputs))

    def step_chain(self, t: float, components: list[str], pool: dict[str, Any]) -> None:
        """Step ``components`` in order at ``t``: each reads its inputs from ``pool`` and
        its validated outputs are written into it, so a later component sees an earlier
        one's outputs of the same instant (the closed loop's wiring). A transport that can
        do this in one round trip overrides it."""
        if self._broken is not None or not self._is_open:
            self._ready(components[0], "step")
        plan = self._plans.get(tuple(components)) or self._chain_plan(components)
        step = self._step
        for component, names, check in plan:
            try:
                reply = step(component, t, {name: pool[name] for name in names})
            except AdapterError:
                raise
            except Exception as exc:  # as in step(): a transport bug is no crash of the suite
                raise AdapterError(f"transport failed: {type(exc).__name__}: {exc}",
                                   component=component, call="step") from exc
            check(reply)
            pool.update(reply)

    def _chain_plan(self, components: list[str]) -> tuple[tuple[str, tuple[str, ...],
                                                                  RecordCheck], ...]:
        """What :meth:`step_chain` does for ``components``, worked out once per list of
        components: per component, the names of its inputs and its reply check. A
        component of no adapter's is refused (``_ready``) before anything is stepped."""
        for component in components:
            if component not in self._checks:
                self._ready(component, "step")
        plan = tuple((c, self._chain_inputs[c], self._checks[c]) for c in components)
        self._plans[tuple(components)] = plan
        return plan

    @classmethod
    def judged_files(cls, settings: dict[str, Any]) -> list[Path]:
        """The module's files that a certification judges (their SHA-256 go into the
        report), found from the manifest's adapter settings without running the module."""
        return []

    @classmethod
    def settings_problems(cls, settings: dict[str, Any], spec: Spec,
                          dimensions: dict[str, int],
                          parameters: dict[str, dict[str, Any]]
                          ) -> list[tuple[tuple[str | int, ...], str]]:
        """Reasons to refuse the manifest's adapter settings, found without running the
        module (e.g. an FMU's variables against the component interfaces): each is the
        path of the field in the manifest and a message naming what was expected and what
        was found. ``parameters`` holds the effective parameters of every claimed
        component, which ``configure`` will pass. Called by the manifest check, so a
        problem refuses the manifest before any test case runs."""
        return []

    # ---- what a transport writes -------------------------------------------------
    def _open(self) -> None:  # noqa: B027 - optional: most transports need no set-up
        """Reach the module; raise AdapterError(call='import') on failure."""

    def _close(self) -> None:  # noqa: B027 - optional, like _open
        """Release what ``_open`` acquired."""

    def _power_cycle(self) -> None:
        """Stop the module at once (nothing flushed, no call) and start it again; only for a
        transport whose :attr:`power_cycle_refusal` is None."""
        raise AdapterError(self.power_cycle_refusal or "this transport cannot cut the "
                           "module's power", call="power_cycle")

    @abstractmethod
    def _configure(self, component: str, parameters: dict[str, Any]) -> None: ...

    @abstractmethod
    def _reset(self, component: str) -> None: ...

    @abstractmethod
    def _step(self, component: str, t: float, inputs: dict[str, Any]) -> Any: ...

    # ---- helpers -------------------------------------------------------------------
    def _mark_broken(self, reason: str) -> None:
        """After a timeout the module's state is unknown: every later call fails fast."""
        self._broken = reason

    def _ready(self, component: str, call: Call) -> None:
        if self._broken is not None:
            raise AdapterError(f"the adapter is unusable after an earlier failure: {self._broken}",
                               component=component, call=call)
        if not self._is_open:
            raise AdapterError("the adapter is not open (call open() or use 'with')",
                               component=component, call=call)
        if component not in self._checks:
            raise AdapterError(f"not a component of this adapter "
                               f"({', '.join(self.components) or 'none'})",
                               component=component, call=call)

    def _guard(self, call: Call, component: str | None, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except AdapterError:
            raise
        except Exception as exc:
            raise AdapterError(f"transport failed: {type(exc).__name__}: {exc}",
                               component=component, call=call) from exc
