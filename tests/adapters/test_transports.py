"""Picking the transport: the built-in table, the obsa.transports entry points, errors."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

import conformance.adapters as adapters
from conformance.adapters import Adapter, AdapterError, open_adapter, transport_class
from conformance.adapters.process import ProcessAdapter, PythonProcessAdapter
from conformance.adapters.python import PythonAdapter

from .conftest import manifest_with, ref
from .replies import valid_reply


class LoopbackAdapter(Adapter):
    """A transport in a few lines: replies with a valid record, counts calls."""

    transport = "loopback"

    def _configure(self, component, parameters):
        self.configured = parameters

    def _reset(self, component):
        pass

    def _step(self, component, t, inputs):
        return inputs["reply"]


class NotAnAdapter:
    pass


def _entry_points(**names):
    eps = [EntryPoint(name=n, value=v, group="obsa.transports") for n, v in names.items()]
    return lambda group: eps if group == "obsa.transports" else []


def test_built_in_transports_run_the_module_in_a_child_process():
    assert transport_class("python") is PythonProcessAdapter
    assert transport_class("process") is ProcessAdapter
    assert transport_class("python", in_process=True) is PythonAdapter


def test_only_python_and_a_python_can_node_run_in_process():
    from conformance.adapters.can import InProcessCanAdapter

    assert transport_class("can", in_process=True) is InProcessCanAdapter
    for name in ("process", "tcp", "fmu"):
        with pytest.raises(AdapterError,
                           match="only adapter.type 'python' and 'can' can run in process"):
            transport_class(name, in_process=True)


def test_unknown_type_is_a_clear_error(spec, dims):
    with pytest.raises(AdapterError) as err:
        open_adapter(manifest_with({"safety_supervisor": ref("Echo")}, transport="carrier_pigeon"),
                     spec, dims)
    e = err.value
    assert e.call == "import" and e.field == "adapter.type"
    assert "found 'carrier_pigeon'" in e.message and "python" in e.message


def test_entry_point_adds_a_transport(spec, dims, monkeypatch):
    monkeypatch.setattr(adapters, "entry_points",
                        _entry_points(loopback=f"{__name__}:LoopbackAdapter"))
    manifest = manifest_with({"safety_supervisor": "unused"}, transport="loopback")
    with open_adapter(manifest, spec, dims) as adapter:
        assert isinstance(adapter, LoopbackAdapter)
        adapter.configure("safety_supervisor", {"x": 1})
        reply = valid_reply(adapter._checks["safety_supervisor"])
        assert adapter.step("safety_supervisor", 0.0, {"reply": reply}) is reply
        # the base class validates every transport's replies
        with pytest.raises(AdapterError) as err:
            adapter.step("safety_supervisor", 0.0, {"reply": {}})
        assert err.value.field is not None


def test_transport_bug_becomes_adapter_error(spec, dims, monkeypatch):
    monkeypatch.setattr(adapters, "entry_points",
                        _entry_points(loopback=f"{__name__}:LoopbackAdapter"))
    with open_adapter(manifest_with({"safety_supervisor": "x"}, transport="loopback"),
                      spec, dims) as adapter, pytest.raises(AdapterError) as err:
        adapter.step("safety_supervisor", 0.0, {})  # KeyError inside the transport
    assert "transport failed: KeyError" in err.value.message


@pytest.mark.parametrize("value,message", [
    (f"{__name__}:NotAnAdapter", "not a subclass"),
    ("no_such_transport_pkg:Cls", "cannot load transport"),
])
def test_bad_transport_entry_points(monkeypatch, value, message):
    monkeypatch.setattr(adapters, "entry_points", _entry_points(bad=value))
    with pytest.raises(AdapterError, match=message):
        transport_class("bad")


def test_unknown_spec_component_is_refused(spec, dims):
    with pytest.raises(AdapterError, match="not a component of the spec"):
        PythonAdapter({"components": {}}, spec, ["warp_core"], dims)


def test_adapter_error_text_names_component_call_field():
    e = AdapterError("expected a bool, found 1", component="safety_supervisor", call="step",
                     field="contactor_open_request")
    assert str(e) == ("safety_supervisor.step [contactor_open_request]: "
                      "expected a bool, found 1")
