"""Adapters: how the bench reaches a module under test, whatever the transport.

``open_adapter(manifest, spec, dimensions)`` picks the transport named by the manifest's
``adapter.type`` from :data:`TRANSPORTS`, extended by the entry-point group
``obsa.transports`` (name → ``package.module:Class``, a subclass of :class:`Adapter`), and
opens it. The transport module is imported only when used.

Every built-in transport keeps the module out of the certifying process and talks the wire
contract (:mod:`.wire`): ``python`` serves the manifest's classes with :mod:`.serve` in a
child process, ``process`` starts any program, ``tcp`` reaches a module behind a gateway,
``fmu`` serves FMI 2.0 co-simulation FMUs with :mod:`.fmu_serve`, ``can`` judges a node by
its frames on the CAN buses (a board paced in real time, or a Python node hosted by
:mod:`.can_serve` in simulated time).
``in_process=True`` swaps ``python`` (and a Python node's ``can``) for the in-process
transport (:data:`IN_PROCESS`), a debugging mode whose runs are never certified.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import Adapter, AdapterError

if TYPE_CHECKING:
    from ..manifest.model import Manifest
    from ..spec.loader import Spec

__all__ = ["IN_PROCESS", "TRANSPORTS", "Adapter", "AdapterError", "adapter_settings",
           "open_adapter", "transport_class"]

TRANSPORT_GROUP = "obsa.transports"
TRANSPORTS: dict[str, str] = {
    "python": "conformance.adapters.process:PythonProcessAdapter",
    "process": "conformance.adapters.process:ProcessAdapter",
    "fmu": "conformance.adapters.fmu:FmuAdapter",
    "tcp": "conformance.adapters.tcp:TcpAdapter",
    "can": "conformance.adapters.can:CanAdapter",
}
"""Built-in transports: adapter.type → 'package.module:Class'."""
IN_PROCESS: dict[str, str] = {
    "python": "conformance.adapters.python:PythonAdapter",
    "can": "conformance.adapters.can:InProcessCanAdapter",
}
"""The in-process transports ``in_process=True`` uses: adapter.type → 'package.module:Class'
(a Python node of the ``can`` transport; a board has none)."""


def _available() -> dict[str, str]:
    found = dict(TRANSPORTS)
    for ep in entry_points(group=TRANSPORT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def transport_class(name: str, in_process: bool = False) -> type[Adapter]:
    """The Adapter subclass of transport ``name``; AdapterError(call='import') if unknown.

    ``in_process`` asks for the in-process variant, which only ``python`` and ``can`` have."""
    # a built-in name wins over an entry point of the same name: no need to scan them
    known = {name: TRANSPORTS[name]} if name in TRANSPORTS and not in_process else _available()
    if in_process:
        if name not in IN_PROCESS:
            raise AdapterError(f"only adapter.type {' and '.join(map(repr, IN_PROCESS))} can "
                               f"run in process, found '{name}'", call="import",
                               field="adapter.type")
        known = {name: IN_PROCESS[name]}
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


def adapter_settings(manifest: Manifest) -> dict[str, Any]:
    """The manifest's ``adapter`` section as a dict, with the module's identity and spec
    version (a child process states both in ``obsa.hello``) and the manifest's folder
    (``manifest_dir``, against which a transport resolves the files it names)."""
    settings = manifest.adapter.model_dump()
    settings["module"] = {"vendor": manifest.module.vendor, "name": manifest.module.name,
                          "version": manifest.module.version}
    settings["spec_version"] = manifest.spec_version
    # files the manifest names (an FMU) are found relative to the manifest
    settings["manifest_dir"] = str(Path(manifest.source).resolve().parent)
    # a transport whose module holds more blocks than it is stepped with reads their
    # declaration (the can transport's node, in a closed loop of some of its blocks)
    settings["manifest_path"] = str(Path(manifest.source).resolve())
    return settings


def open_adapter(manifest: Manifest, spec: Spec, dimensions: dict[str, int],
                 components: list[str] | None = None, in_process: bool = False) -> Adapter:
    """Create and open the adapter the manifest describes.

    ``components`` defaults to every entry of ``adapter.components``; ``dimensions`` gives
    the array lengths for reply validation (see ``Manifest.dimensions(spec)``). Use the
    result as a context manager so it is closed::

        with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
            adapter.configure("safety_supervisor", params)
    """
    cls = transport_class(manifest.adapter.type, in_process)
    settings = adapter_settings(manifest)
    adapter = cls(settings, spec, components or list(manifest.adapter.components), dimensions)
    try:
        adapter.open()
    except BaseException:
        adapter.close()
        raise
    return adapter
