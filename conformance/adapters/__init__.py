"""Adapters: how the bench reaches a module under test, whatever the transport.

``open_adapter(manifest, spec, dimensions)`` picks the transport named by the manifest's
``adapter.type`` from :data:`TRANSPORTS`, extended by the entry-point group
``obsa.transports`` (name → ``package.module:Class``, a subclass of :class:`Adapter`), and
opens it. The transport module is imported only when used.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from .base import Adapter, AdapterError

if TYPE_CHECKING:
    from ..manifest.model import Manifest
    from ..spec.loader import Spec

__all__ = ["TRANSPORTS", "Adapter", "AdapterError", "open_adapter", "transport_class"]

TRANSPORT_GROUP = "obsa.transports"
TRANSPORTS: dict[str, str] = {
    "python": "conformance.adapters.python:PythonAdapter",
}
"""Built-in transports: adapter.type → 'package.module:Class'."""


def _available() -> dict[str, str]:
    found = dict(TRANSPORTS)
    for ep in entry_points(group=TRANSPORT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def transport_class(name: str) -> type[Adapter]:
    """The Adapter subclass of transport ``name``; AdapterError(call='import') if unknown."""
    known = _available()
    ref = known.get(name)
    if ref is None:
        raise AdapterError(
            f"expected an adapter type of {', '.join(sorted(known))} (entry-point group "
            f"'{TRANSPORT_GROUP}' adds more), found '{name}'", call="import", field="adapter.type")
    module_name, _, attr = ref.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        raise AdapterError(f"cannot load transport '{name}' ({ref}): {type(exc).__name__}: {exc}",
                           call="import", field="adapter.type") from None
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise AdapterError(f"transport '{name}' ({ref}) is not a subclass of "
                           "conformance.adapters.Adapter", call="import", field="adapter.type")
    return cls


def open_adapter(manifest: Manifest, spec: Spec, dimensions: dict[str, int],
                 components: list[str] | None = None) -> Adapter:
    """Create and open the adapter the manifest describes.

    ``components`` defaults to every entry of ``adapter.components``; ``dimensions`` gives
    the array lengths for reply validation (see ``Manifest.dimensions(spec)``). Use the
    result as a context manager so it is closed::

        with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
            adapter.configure("safety_supervisor", params)
    """
    cls = transport_class(manifest.adapter.type)
    settings = manifest.adapter.model_dump()
    adapter = cls(settings, spec, components or list(manifest.adapter.components), dimensions)
    try:
        adapter.open()
    except BaseException:
        adapter.close()
        raise
    return adapter
