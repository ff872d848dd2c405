"""What every reference component shares: parameter resolution and input errors.

A component is configured with the module's PIXIT values; a missing value takes the spec's
default, an unknown name or a wrong type is an error that names the component, the parameter,
what was expected and what was found — a typo in a manifest must not silently fall back to a
default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from .interfaces import PARAMETER_DEFAULTS, PARAMETER_FEATURES, PARAMETER_TYPES

#: Tolerance of time comparisons. Simulated times are sums of float step periods
#: (0.1 + 0.2 != 0.3), so "at least the delay" is tested against delay − TIME_EPS_S.
TIME_EPS_S = 1e-9


class Block:
    """The synchronous block every reference component is (the spec's component contract).

    ``configure`` resolves and checks the PIXIT values (see :func:`resolve_parameters`),
    lets the component precompute from them in ``_setup``, then resets; ``reset`` returns
    to the power-on state; ``step(t, inputs)`` is the component's own.
    """

    COMPONENT: ClassVar[str]

    def __init__(self) -> None:
        # ready at once when the spec gives every parameter a default; else configure()
        # must come first (as the bench always does)
        self._configured = False
        if not required_parameters(self.COMPONENT):
            self.configure({})

    def configure(self, parameters: Mapping[str, Any]) -> None:
        """Take the PIXIT values (missing ones: the spec's defaults)."""
        self._setup(resolve_parameters(self.COMPONENT, parameters))
        self._configured = True
        self.reset()

    def _setup(self, p: dict[str, Any]) -> None:
        """Precompute what ``step`` needs from the resolved parameters (default: nothing)."""

    def reset(self) -> None:
        """Back to the power-on state (default: a block without state)."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """One cycle at simulated time ``t`` (s): ``_step``, with a missing or mistyped input
        reported as an :class:`InputError` naming the component, the time and the signal."""
        if not self._configured:
            raise ConfigurationError(
                f"{self.COMPONENT}.step(t={t}) before configure(): the parameters "
                f"{', '.join(required_parameters(self.COMPONENT))} have no spec default")
        try:
            return self._step(float(t), inputs)
        except (KeyError, TypeError, ValueError) as exc:
            raise input_error(self.COMPONENT, t, exc) from None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} implements step() or _step()")


class ConfigurationError(ValueError):
    """A parameter passed to configure() is unknown or of the wrong type."""


class InputError(ValueError):
    """An input record passed to step() lacks a signal or holds a value of the wrong type."""


def input_error(component: str, t: object, exc: Exception) -> InputError:
    """The InputError of a step that failed on its inputs, naming the component and the time:
    a KeyError is a missing signal, anything else a value of the wrong type."""
    if isinstance(exc, KeyError):
        return InputError(f"{component}.step(t={t}): missing input signal {exc}")
    return InputError(f"{component}.step(t={t}): bad input value: {exc}")


def required_parameters(component: str) -> list[str]:
    """The parameters of ``component`` without a spec default that every configuration
    gives (those of an optional feature only with it)."""
    defaults = PARAMETER_DEFAULTS[component]
    features = PARAMETER_FEATURES.get(component, {})
    return [k for k in PARAMETER_TYPES[component] if k not in defaults and k not in features]


def resolve_parameters(component: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The spec defaults of ``component`` overridden by ``parameters``, type-checked.

    Every parameter of the interface is known (:data:`PARAMETER_TYPES`); one without a spec
    default must be given. A parameter of an optional feature is there only when the feature
    is on, i.e. when at least one parameter of the feature is given (the bench passes them
    all for a claimed feature, none for another): the component then knows what the module
    does.
    """
    types = PARAMETER_TYPES[component]
    defaults = PARAMETER_DEFAULTS[component]
    given = dict(parameters or {})
    unknown = sorted(set(given) - set(types))
    if unknown:
        raise ConfigurationError(
            f"{component}: unknown parameter(s) {', '.join(unknown)}; "
            f"expected one of: {', '.join(types) or '(none)'}"
        )
    features = PARAMETER_FEATURES.get(component, {})
    on = {features[name] for name in given if name in features}
    wanted = [k for k in types if k not in features or features[k] in on]
    missing = [k for k in wanted if k not in given and k not in defaults]
    if missing:
        raise ConfigurationError(f"{component}: missing parameter(s) {', '.join(missing)} "
                                 "(no spec default: the module declares them)")
    resolved = {k: defaults[k] for k in wanted if k in defaults}
    for name, value in given.items():
        resolved[name] = _coerce(component, name, types[name], value)
    return resolved


def _coerce(component: str, name: str, kind: str, value: Any) -> Any:
    where = f"{component}: parameter {name}"
    if kind == "bool":
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
        raise ConfigurationError(f"{where}: expected a bool, found {value!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{where}: expected a number, found {value!r}")
    if kind in ("int", "enum"):
        if not math.isfinite(value) or float(value) != int(value):
            raise ConfigurationError(f"{where}: expected an integer, found {value!r}")
        return int(value)
    if not math.isfinite(value):
        raise ConfigurationError(f"{where}: expected a finite number, found {value!r}")
    return float(value)
