"""The in-process adapter's compiled step_chain: the same replies, errors and watchdog as
stepping each component alone (Adapter.step_chain, PythonAdapter.step), whichever way the
list of components is given, and the new instances after a power cycle."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.adapters import AdapterError, open_adapter
from conformance.adapters.base import Adapter

from .conftest import manifest_with, ref
from .replies import valid_reply

SS, CM = "safety_supervisor", "contactor_manager"


class Counts:
    """A valid reply (set by the test) whose charge current limit counts this instance's
    steps, and which says which inputs it was given."""

    REPLY: dict[str, Any] = {}
    SEEN: list[dict[str, Any]] = []

    def __init__(self) -> None:
        self.count = 0

    def configure(self, parameters: dict[str, Any]) -> None:
        pass

    def reset(self) -> None:
        pass

    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        self.count += 1
        type(self).SEEN.append(dict(inputs))
        return {**type(self).REPLY, "charge_current_limit_A": float(self.count)}


class CallsDict:
    """Its step is a builtin that refuses (t, inputs): the TypeError is raised by the call
    itself, in no frame of the module."""

    step = dict

    def configure(self, parameters: dict[str, Any]) -> None:
        pass

    def reset(self) -> None:
        pass


def _error(call: Any) -> AdapterError:
    with pytest.raises(AdapterError) as err:
        call()
    return err.value


def _same(a: AdapterError, b: AdapterError) -> None:
    assert (str(a), a.component, a.call, a.field) == (str(b), b.component, b.call, b.field)


def test_a_chain_steps_and_checks_as_step_does(spec, dims):
    """A chain given as a list or a tuple gives each component the inputs step() would get
    and writes the same checked replies into the pool; after a power cycle the compiled
    chain steps the new instances."""
    manifest = manifest_with({SS: f"{__name__}:Counts"}, timeout_s=0.5)
    with open_adapter(manifest, spec, dims, in_process=True) as adapter:
        Counts.REPLY = valid_reply(adapter._checks[SS])
        Counts.SEEN = []
        names = adapter._chain_inputs[SS]
        pool: dict[str, Any] = {name: float(i) for i, name in enumerate(names)}
        pool["unrelated"] = "not an input"
        adapter.step_chain(0.0, [SS], pool)
        adapter.step_chain(0.01, (SS,), pool)
        assert Counts.SEEN == [{name: pool[name] for name in names}] * 2
        assert list(Counts.SEEN[0]) == list(names)  # in the interface's order
        assert pool["charge_current_limit_A"] == 2.0
        alone = adapter.step(SS, 0.02, {name: pool[name] for name in names})
        assert alone["charge_current_limit_A"] == 3.0
        adapter.power_cycle()
        adapter.step_chain(0.03, [SS], pool)
        assert pool["charge_current_limit_A"] == 1.0  # the new instance's first step


@pytest.mark.parametrize("cls", ["Raises", "Exits", f"{__name__}:CallsDict"])
def test_a_module_error_in_a_chain_reads_as_in_step(spec, dims, cls):
    """The module's exception (or a call that its step refuses) is told with the same
    message, and the same place in the module — never the chain's own code."""
    component = ref(cls) if ":" not in cls else cls
    with open_adapter(manifest_with({SS: component}), spec, dims, in_process=True) as adapter:
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        chained = _error(lambda: adapter.step_chain(0.0, [SS], pool))
        _same(chained, _error(lambda: adapter.step(SS, 0.0, dict(pool))))
        assert "obsa step_chain" not in str(chained)
        if cls == "Raises":
            assert "fakes.py:" in str(chained) and "in step" in str(chained)
        if cls.endswith("CallsDict"):
            assert "TypeError" in str(chained) and " (at " not in str(chained)


def test_a_missing_input_is_the_transports_failure_as_in_the_base_chain(spec, dims):
    with open_adapter(manifest_with({SS: ref("Raises")}), spec, dims,
                      in_process=True) as adapter:
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        del pool[adapter._chain_inputs[SS][-1]]
        chained = _error(lambda: adapter.step_chain(0.0, [SS], pool))
        _same(chained, _error(lambda: Adapter.step_chain(adapter, 0.0, [SS], pool)))
        assert chained.message.startswith("transport failed: KeyError")
        assert isinstance(chained.__cause__, KeyError)


def test_a_hang_in_a_chain_is_interrupted_in_the_module(spec, dims):
    with open_adapter(manifest_with({SS: ref("Spins")}, timeout_s=0.2), spec, dims,
                      in_process=True) as adapter:
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        err = _error(lambda: adapter.step_chain(0.0, (SS,), pool))
        assert "interrupted at" in str(err) and "fakes.py:" in str(err)
        assert "obsa step_chain" not in str(err) and adapter.broken is not None


class Supervisor(Counts):
    REPLY: dict[str, Any] = {}
    SEEN: list[dict[str, Any]] = []


class Manager(Counts):
    REPLY: dict[str, Any] = {}
    SEEN: list[dict[str, Any]] = []

    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        self.count += 1
        type(self).SEEN.append(dict(inputs))
        return dict(type(self).REPLY)


def test_a_later_component_sees_an_earlier_ones_reply_of_the_same_step(spec, dims):
    """Two components in one chain: the second reads the first's output of this step; a
    bad reply of the second is refused at its step, the first's already in the pool."""
    manifest = manifest_with({SS: f"{__name__}:Supervisor", CM: f"{__name__}:Manager"})
    with open_adapter(manifest, spec, dims, in_process=True) as adapter:
        assert "contactor_open_request" in adapter._chain_inputs[CM]
        Supervisor.REPLY = {**valid_reply(adapter._checks[SS]), "contactor_open_request": True}
        Manager.REPLY = valid_reply(adapter._checks[CM])
        pool: dict[str, Any] = {name: 0.0 for c in (SS, CM) for name in adapter._chain_inputs[c]}
        pool["contactor_open_request"] = False
        adapter.step_chain(0.0, [SS, CM], pool)
        assert Manager.SEEN[-1]["contactor_open_request"] is True
        field = next(n for n, r in adapter._checks[CM].rules.items() if r.kind == "integer")
        Manager.REPLY = {**Manager.REPLY, field: 0.5}
        err = _error(lambda: adapter.step_chain(0.01, [SS, CM], pool))
        _same(err, _error(lambda: adapter.step(CM, 0.01, dict(pool))))
        assert err.component == CM
        assert err.field == field and pool["charge_current_limit_A"] == 2.0


def test_a_compiled_chain_keeps_no_cycle_through_its_adapter(spec, dims):
    """The compiled chains hold no reference to their adapter (it is passed at each
    call): a closed adapter that is dropped goes at once, without the cycle collector."""
    import gc
    import weakref

    manifest = manifest_with({SS: f"{__name__}:Counts"})
    gc.disable()
    try:
        with open_adapter(manifest, spec, dims, in_process=True) as adapter:
            Counts.REPLY = valid_reply(adapter._checks[SS])
            adapter.step_chain(0.0, [SS], {name: 0.0 for name in adapter._chain_inputs[SS]})
            gone = weakref.ref(adapter)
        del adapter
        assert gone() is None
    finally:
        gc.enable()
