"""What the three components read from the standard's machine-readable form.

The module learns its parameter defaults, fault bits, DTC numbers and enum values from the
spec at ``configure()`` time, as a vendor tool reading the published YAML would, instead of
copying numbers into the code.
"""

from __future__ import annotations

from typing import Any

from conformance.spec import Spec, load_spec
from conformance.spec.models import FaultCode, Interface


def spec() -> Spec:
    """The standard (loaded once per process, cached by the loader)."""
    return load_spec()


def interface(component: str) -> Interface:
    """The interface of one component."""
    return spec().interfaces[component]


def resolve_parameters(component: str, given: dict[str, Any]) -> dict[str, Any]:
    """The declared parameter values, the spec default for every one not given.

    An unknown name or a missing value without a default is a configuration error that
    names the component and the parameter, not a KeyError deep in a step.
    """
    declared = {p.name: p for p in interface(component).parameters}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"{component}: unknown parameter(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(sorted(declared))}")
    values: dict[str, Any] = {}
    for name, param in declared.items():
        value = given.get(name, param.default)
        if value is None:
            raise ValueError(f"{component}: parameter '{name}' has no value and no default")
        values[name] = int(value) if param.type == "int" else value
    return values


def fault_codes(component: str) -> dict[str, FaultCode]:
    """A component's fault codes by name."""
    return {f.name: f for f in interface(component).fault_codes}


def enum_values(enum_id: str) -> dict[str, int]:
    """An enum of the dictionary as {name: value}."""
    return {v.name: v.value for v in spec().enums[enum_id].values}


def step_period_s(component: str) -> float:
    """The nominal step period of a component."""
    return interface(component).step_period_s
