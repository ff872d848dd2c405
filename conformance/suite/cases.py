"""The suite's test cases as data: one :class:`Case` per pytest test case of the suite,
named by a key that both suites use.

A test case of the pytest suite is a function of ``conformance/suite/test_*.py`` that
takes the harness (``obsa``) and, when parametrized, one parameter. The Gherkin suite runs
the very same functions: a scenario's step names the case by its key and the step library
calls it with its parameter (:func:`run_case`), so a scenario and its pytest twin stimulate,
measure and judge identically — same seed, same cells, same evidence.

The key is ``<module>::<function>[<id>]``, e.g.
``test_safety_supervisor::test_msl_fault[cell_overvoltage]``: independent of the directory
the suite runs from, which is why it also seeds the case's stimuli
(:meth:`conformance.session.Certification.harness`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import SUITE_DIR

PACKAGE = __name__.rpartition(".")[0]


@dataclass(frozen=True)
class Case:
    """One test case: its key, function, parameter (name and value) and requirements."""

    key: str
    function: Callable[..., None]
    requirements: tuple[str, ...]
    argument: tuple[str, Any] | None = None

    def run(self, harness: Any) -> None:
        """Run the test case on ``harness`` (it judges into ``harness.results``)."""
        if self.argument is None:
            self.function(harness)
        else:
            self.function(harness, **{self.argument[0]: self.argument[1]})


def case_key(module: str, name: str) -> str:
    """The key of a test case from its module's name and its pytest item name."""
    return f"{module.rpartition('.')[2]}::{name}"


def _marks(obj: Any) -> list[Any]:
    marks = getattr(obj, "pytestmark", [])
    return list(marks) if isinstance(marks, list) else [marks]


def _requirements(marks: list[Any]) -> list[str]:
    return [str(a) for m in marks if m.name == "requirement" for a in m.args]


def _expand(module_name: str, name: str, fn: Callable[..., None]) -> list[Case]:
    marks = _marks(fn)
    base = _requirements(marks)
    params = [m for m in marks if m.name == "parametrize"]
    if not params:
        return [Case(case_key(module_name, name), fn, tuple(base))]
    if len(params) > 1:
        raise TypeError(f"{module_name}.{name}: one parametrize per test case, found "
                        f"{len(params)}")
    argname, values = params[0].args[0], params[0].args[1]
    cases = []
    for value in values:
        case_id = getattr(value, "id", None)
        if case_id is None:
            raise TypeError(f"{module_name}.{name}: every parameter needs an id "
                            f"(pytest.param(..., id=...)), found {value!r}")
        (arg,) = value.values
        rids = base + _requirements(list(value.marks))
        cases.append(Case(case_key(module_name, f"{name}[{case_id}]"), fn, tuple(rids),
                          (argname, arg)))
    return cases


@functools.cache
def all_cases() -> dict[str, Case]:
    """Every test case of the suite, by key, in file and definition order."""
    out: dict[str, Case] = {}
    for path in sorted(SUITE_DIR.glob("test_*.py")):
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        for name, fn in vars(module).items():
            if name.startswith("test_") and callable(fn) and fn.__module__ == module.__name__:
                for case in _expand(module.__name__, name, fn):
                    out[case.key] = case
    return out


def case(key: str) -> Case:
    """The test case of ``key``; KeyError naming the closest keys when there is none."""
    cases = all_cases()
    if key in cases:
        return cases[key]
    stem = key.partition("[")[0]
    near = [k for k in cases if k.startswith(stem)] or [
        k for k in cases if k.split("::")[-1].startswith(key.split("::")[-1][:12])]
    hint = f"; did you mean {', '.join(near[:6])}?" if near else ""
    raise KeyError(f"no test case '{key}' in the suite{hint}")
