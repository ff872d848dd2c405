"""A power loss of the module under test (``Adapter.power_cycle``; spec: lifecycle rule
power_loss, OBSA-REG-015): the module is stopped without warning and started again, and
keeps only what it wrote to its non-volatile store, the directory in ``OBSA_NVM_DIR``.

For a module in a child process (``python``, ``process``) the process is really killed and a
new one started; in process (the debugging mode) the instances are dropped and created
anew. The store is the same across power cycles of one adapter, another for another adapter,
and gone once the adapter closes. A transport that cannot cut the power says so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conformance.adapters import AdapterError, open_adapter
from conformance.adapters.fmu import FmuAdapter
from conformance.adapters.process import ProcessAdapter
from conformance.adapters.tcp import TcpAdapter
from conformance.manifest.model import Manifest

from .conftest import manifest_with, ref
from .replies import valid_reply

SS = "safety_supervisor"
WIRE_MODULE = Path(__file__).with_name("wire_module.py")
MODES = pytest.mark.parametrize("in_process", [False, True], ids=["child", "in-process"])


def _open(spec, dims, cls: str, in_process: bool = False):
    return open_adapter(manifest_with({SS: ref(cls)}, 2.0), spec, dims, in_process=in_process)


def _count(adapter) -> float:
    reply = adapter.step(SS, 0.0, {"reply": valid_reply(adapter._checks[SS])})
    return reply["charge_current_limit_A"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text().lower()


# ---------------------------------------------------------------------------- what survives
@MODES
def test_a_module_keeps_what_it_wrote_to_its_store(spec, dims, in_process):
    with _open(spec, dims, "CountsInNvm", in_process) as adapter:
        adapter.configure(SS, {})
        adapter.reset(SS)
        assert [_count(adapter) for _ in range(3)] == [1.0, 2.0, 3.0]
        adapter.power_cycle()
        adapter.configure(SS, {})  # as the bench does after a restart: no reset
        assert _count(adapter) == 4.0


@MODES
def test_a_module_that_writes_nothing_loses_its_data(spec, dims, in_process):
    with _open(spec, dims, "CountsInRam", in_process) as adapter:
        adapter.configure(SS, {})
        assert [_count(adapter) for _ in range(3)] == [1.0, 2.0, 3.0]
        adapter.power_cycle()
        adapter.configure(SS, {})
        assert _count(adapter) == 1.0


def test_the_process_is_killed_and_a_new_one_started(spec, dims):
    with _open(spec, dims, "CountsInNvm") as adapter:
        assert isinstance(adapter, ProcessAdapter) and adapter.proc is not None
        adapter.configure(SS, {})
        first = adapter.proc.pid
        store = adapter.nvm_dir
        adapter.power_cycle()
        assert not _alive(first)
        assert adapter.proc is not None
        second = adapter.proc.pid
        assert second != first and _alive(second)
        adapter.configure(SS, {})
        assert _count(adapter) == 1.0
        assert adapter.hello["components"] == [SS]  # greeted anew
        # both processes were given the same store
        seen = {p.name: p.read_text() for p in store.glob("pid-*")}
        assert seen == {f"pid-{first}": str(store), f"pid-{second}": str(store)}
    assert not _alive(second)


def test_a_module_written_against_the_contract_alone_is_restarted(spec, dims):
    data = manifest_with({SS: "unused"}, 0.5, transport="process").model_dump()
    data["adapter"]["options"] = {"command": [sys.executable, str(WIRE_MODULE), "ok"]}
    with open_adapter(Manifest.model_validate(data), spec, dims) as adapter:
        assert isinstance(adapter, ProcessAdapter) and adapter.proc is not None
        first = adapter.proc.pid
        adapter.power_cycle()
        assert adapter.proc is not None and adapter.proc.pid != first and not _alive(first)
        adapter.configure(SS, {})
        assert adapter.step(SS, 0.0, {"cell_voltage_V": [3.7]})["contactor_open_request"] is False


# ---------------------------------------------------------------------------- the store
def test_the_store_is_kept_across_power_cycles_one_per_adapter_and_deleted_after(spec, dims):
    with _open(spec, dims, "CountsInNvm") as a, _open(spec, dims, "CountsInNvm") as b:
        store = a.nvm_dir
        assert store.is_dir() and b.nvm_dir.is_dir() and store != b.nvm_dir
        a.configure(SS, {})
        a.power_cycle()
        assert a.nvm_dir == store
        a.configure(SS, {})
        b.configure(SS, {})
        assert _count(a) == 1.0 and _count(a) == 2.0 and _count(b) == 1.0  # b sees not a's
        other = b.nvm_dir
    assert not store.exists() and not other.exists()


def test_in_process_the_store_is_in_the_environment_while_the_adapter_is_open(spec, dims,
                                                                            monkeypatch):
    monkeypatch.setenv("OBSA_NVM_DIR", "/somewhere/else")
    with _open(spec, dims, "CountsInNvm", in_process=True) as adapter:
        assert os.environ["OBSA_NVM_DIR"] == str(adapter.nvm_dir)
        before = adapter._instances[SS]
        adapter.power_cycle()
        assert adapter._instances[SS] is not before
        assert os.environ["OBSA_NVM_DIR"] == str(adapter.nvm_dir)
    assert os.environ["OBSA_NVM_DIR"] == "/somewhere/else"


def test_a_module_that_fails_to_load_leaves_the_environment_as_it_was(spec, dims,
                                                                      monkeypatch):
    monkeypatch.delenv("OBSA_NVM_DIR", raising=False)
    with pytest.raises(AdapterError):
        _open(spec, dims, "BrokenInit", in_process=True)
    assert "OBSA_NVM_DIR" not in os.environ


# ---------------------------------------------------------------------------- failures
@MODES
def test_a_module_that_does_not_start_again_leaves_the_adapter_unusable(spec, dims,
                                                                       in_process):
    with _open(spec, dims, "BricksOnRestart", in_process) as adapter:
        adapter.configure(SS, {})
        with pytest.raises(AdapterError, match="flash checksum error"):
            adapter.power_cycle()
        assert adapter.broken is not None and "did not start again" in adapter.broken
        with pytest.raises(AdapterError, match="unusable"):
            adapter.configure(SS, {})
        with pytest.raises(AdapterError, match="unusable"):
            adapter.power_cycle()


def test_transports_that_cannot_cut_the_power_say_so(spec, dims):
    tcp = TcpAdapter({"type": "tcp", "timeout_s": 1.0, "components": {SS: "gateway"},
                      "options": {"port": 9}}, spec, [SS], dims)
    with pytest.raises(AdapterError, match="cannot cut the module's power") as err:
        tcp.power_cycle()
    assert err.value.call == "power_cycle"
    fmu = FmuAdapter({"type": "fmu", "timeout_s": 1.0, "components": {SS: "ss.fmu"},
                      "manifest_dir": "."}, spec, [SS], dims)
    assert fmu.power_cycle_refusal is not None
    with pytest.raises(AdapterError, match="an FMU keeps no data across instances"):
        fmu.power_cycle()


def test_a_closed_adapter_cannot_cut_the_power(spec, dims):
    adapter = _open(spec, dims, "CountsInNvm")
    adapter.close()
    with pytest.raises(AdapterError, match="not open"):
        adapter.power_cycle()


# ---------------------------------------------------------------------------- the harness
def test_the_harness_restarts_the_loop_configured_without_reset(tmp_path):
    """Harness.power_cycle: the module restarted and configured again (no reset), a new
    loop on the same bench from the next step on; each power-on period is watched on its own,
    so the always-on monitor of OBSA-REG-014 does not count the cut as a decrease (what the
    cut loses is OBSA-REG-015's), and the evidence spans the cut."""
    from conformance.bench import Stuck
    from conformance.session import Certification

    cert = Certification.prepare("reference_impl/manifest_full_bms.yaml", None,
                                 tmp_path / "out", in_process=True)
    try:
        h = cert.harness("power cycle", ["OBSA-REG-015"])
        before = h.run(components=["data_logger"], ideal_sensors=True)
        before.bench.inject(Stuck(signal="pack_current_A", value=20.0, start_s=0.0))
        before.run(2.0)
        counted = float(before.pool["charged_capacity_Ah"])
        assert counted > 0.0
        adapter = cert.adapter
        assert adapter is not None
        calls: list[tuple[str, str]] = []
        configure, reset = adapter.configure, adapter.reset
        adapter.configure = lambda c, p: calls.append(("configure", c)) or configure(c, p)
        adapter.reset = lambda c: calls.append(("reset", c)) or reset(c)
        after = h.power_cycle()
        assert calls == [("configure", "data_logger")]
        assert h.loop is after and after.bench is before.bench and not after.t_s
        assert after.pool["charged_capacity_Ah"] == 0.0  # no output before its first step
        after.run(0.5)
        dt = float(before.bench.config.dt_s)
        assert after.t_s[0] == pytest.approx(before.t_s[-1] + dt)
        # saved every 60 s of simulated time: the 2 s before the cut are lost
        assert after.channel("counter:charged_capacity_Ah")[0] < counted
        assert h.power_on_periods() == [before, after]
        assert h.apply_monitors() == []
        evidence = h.evidence("across the cut", {})
        assert evidence.t_s[0] == before.t_s[0] and evidence.t_s[-1] == after.t_s[-1]
    finally:
        cert.close()
