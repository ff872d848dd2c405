"""How the reference implementation's packages map onto the spec's architecture: found by
importing ``reference_impl`` and reading, from every class that is a block, the component
of the spec it implements (its ``COMPONENT``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

from ..spec.loader import Spec
from .rst import esc, heading, lit, table


def _modules(package: ModuleType) -> list[ModuleType]:
    out = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        out.append(importlib.import_module(info.name))
    return out


def implementations() -> dict[str, str]:
    """component id → ``module:Class`` of the reference block that implements it."""
    try:
        root = importlib.import_module("reference_impl")
        block = importlib.import_module("reference_impl.component").Block
    except ImportError:
        return {}
    found: dict[str, str] = {}
    for module in _modules(root):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            component = getattr(cls, "COMPONENT", None)
            if (issubclass(cls, block) and cls is not block and cls.__module__ == module.__name__
                    and isinstance(component, str)):
                found.setdefault(component, f"{cls.__module__}:{cls.__qualname__}")
    return found


def packages() -> list[tuple[str, str]]:
    """(sub-package, first line of its docstring) of every package of ``reference_impl``."""
    try:
        root = importlib.import_module("reference_impl")
    except ImportError:
        return []
    out = []
    for info in pkgutil.iter_modules(root.__path__):
        if info.ispkg:
            mod = importlib.import_module(f"reference_impl.{info.name}")
            doc = inspect.getdoc(mod) or ""
            out.append((f"reference_impl.{info.name}", doc.split("\n\n")[0]))
    return out


def mapping_page(spec: Spec) -> str:
    """A fragment (included by the guide): the packages, then one row per component."""
    impl = implementations()
    layers = sorted(spec.architecture.layers, key=lambda x: x.order)
    rows = []
    for layer in layers:
        for c in spec.architecture.components:
            if c.layer != layer.id:
                continue
            where = impl.get(c.id)
            rows.append([esc(layer.title), f":doc:`{esc(c.id)} </generated/interfaces/{c.id}>`"
                         if c.id in spec.interfaces else esc(c.id), lit(c.node),
                         lit(where) if where else "not implemented yet"])
    done = sum(1 for c in spec.architecture.components if c.id in impl)
    return "\n".join([
        heading("Packages", "~"),
        table(["package", "what it holds"], [[lit(p), esc(d)] for p, d in packages()],
              widths=[30, 70]), "",
        heading("Components", "~"),
        f"{done} of the {len(spec.architecture.components)} components of the spec have a "
        "reference block (a class of ``reference_impl`` whose ``COMPONENT`` names the "
        "component):", "",
        table(["layer", "component", "node", "reference block"], rows,
              widths=[18, 22, 8, 52]), ""])
