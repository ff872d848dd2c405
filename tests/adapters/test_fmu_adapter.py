"""The FMU transport: configure / reset / step through FMI 2.0 in a child process, the
modelDescription check that refuses a manifest before any test, an FMU that fails."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from conformance.adapters import AdapterError, open_adapter, transport_class
from conformance.adapters.fmu import FmuAdapter
from conformance.manifest import load_manifest
from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import SafetyState

from .conftest import DIMENSIONS, manifest_with
from .fmu_build import build_crashing_contactor_manager, build_example, with_description

pytest.importorskip("fmpy")
pytest.importorskip("pythonfmu")

CELLS, SENSORS = DIMENSIONS["cell"], DIMENSIONS["temperature_sensor"]


@pytest.fixture(scope="module")
def fmus(tmp_path_factory) -> dict[str, Path]:
    """The example's FMUs built for the tests' pack (4 cells, 2 temperature sensors)."""
    return build_example(tmp_path_factory.mktemp("fmu"), CELLS, SENSORS)


def fmu_manifest(files: dict[str, Path]):
    return manifest_with({c: str(p) for c, p in files.items()}, timeout_s=5.0,
                         transport="fmu")


def supervisor_inputs(cell_V: list[float], t: float) -> dict:
    return {
        "cell_voltage_V": np.array(cell_V), "cell_voltage_valid": np.ones(CELLS, bool),
        "cell_temperature_degC": np.full(SENSORS, 25.0),
        "cell_temperature_valid": np.ones(SENSORS, bool), "cell_monitor_age_s": 0.0,
        "pack_current_A": 10.0 * math.sin(t), "current_sensor_age_s": 0.0,
        "pack_voltage_V": float(sum(cell_V)), "insulation_resistance_ohm": 1e7,
        "fault_reset_request": False,
    }


def same(fmu: dict, ref: dict) -> None:
    assert set(fmu) == set(ref)
    for name, value in ref.items():
        if isinstance(value, float):
            assert fmu[name] == pytest.approx(value), name
        else:
            assert fmu[name] == value, name


def run_supervisor(adapter, ref, seconds: float, over_V: float) -> list[dict]:
    """Step the FMU and an in-process reference side by side; cell 2 goes to ``over_V``
    at 0.2 s. Returns the FMU's outputs."""
    out = []
    for k in range(round(seconds / 0.01) + 1):
        t = k * 0.01
        cells = [3.7] * CELLS
        if t >= 0.2:
            cells[2] = over_V
        inputs = supervisor_inputs(cells, t)
        got = adapter.step("safety_supervisor", t, inputs)
        same(got, ref.step(t, inputs))
        out.append(got)
    return out


def test_fmu_is_a_built_in_transport():
    assert transport_class("fmu") is FmuAdapter


def test_configure_reset_step_round_trip_with_arrays(spec, dims, fmus):
    """The FMU behaves step for step like the component it wraps: array inputs element by
    element, parameters set at initialisation, reset back to the power-on state."""
    m = fmu_manifest(fmus)
    params = m.effective_parameters(spec, "safety_supervisor")
    ref = SafetySupervisor()
    with open_adapter(m, spec, dims, ["safety_supervisor"]) as adapter:
        assert adapter.hello["components"] == ["safety_supervisor"]
        adapter.configure("safety_supervisor", params)
        adapter.reset("safety_supervisor")
        ref.configure(params)
        first = run_supervisor(adapter, ref, 0.6, over_V=4.3)
        assert first[0]["safety_state"] == SafetyState.NORMAL
        assert first[-1]["safety_state"] == SafetyState.FAULT  # over the MSL, latched
        assert first[-1]["contactor_open_request"] is True

        adapter.reset("safety_supervisor")  # power-on state again: no latched fault
        ref.reset()
        again = run_supervisor(adapter, ref, 0.6, over_V=4.3)
        assert again == first

        # a parameter set by configure reaches the FMU: 4.3 V is now below the MSL
        higher = {**params, "cell_voltage_max_msl_V": 4.4}
        adapter.configure("safety_supervisor", higher)
        adapter.reset("safety_supervisor")
        ref.configure(higher)
        states = {o["safety_state"] for o in run_supervisor(adapter, ref, 0.6, over_V=4.3)}
        assert SafetyState.FAULT not in states and SafetyState.DERATING in states


def test_batched_chain_through_three_fmus(spec, dims, fmus):
    """obsa.step: the supervisor's contactor_open_request reaches the contactor manager's
    FMU in the same step, the fault memory's arrays come back whole."""
    m = fmu_manifest(fmus)
    components = ["safety_supervisor", "contactor_manager", "diagnostics"]
    with open_adapter(m, spec, dims, components) as adapter:
        assert adapter.hello["batch"] is True
        for c in components:
            adapter.configure(c, m.effective_parameters(spec, c))
            adapter.reset(c)
        pool = {"close_request": False, "link_voltage_V": 0.0, "main_positive_closed_fb": False,
                "main_negative_closed_fb": False, "precharge_closed_fb": False,
                "can_fault_flags": 0, "soc_fault_flags": 0, "thermal_fault_flags": 0,
                # the bench's pool holds every signal from the start (outputs too)
                "contactor_open_request": False, "safety_fault_flags": 0,
                "contactor_fault_flags": 0}
        for k in range(60):
            t = k * 0.01
            cells = [3.7, 3.7, 4.3 if t >= 0.1 else 3.7, 3.7]
            pool.update(supervisor_inputs(cells, t))
            adapter.step_chain(t, components, pool)
        assert pool["safety_state"] == SafetyState.FAULT
        assert pool["contactor_open_request"] is True
        assert len(pool["dtc_status"]) == dims["dtc"]
        assert max(pool["dtc_occurrences"]) == 1


def test_contactor_manager_matches_the_reference(spec, dims, fmus):
    m = fmu_manifest(fmus)
    params = m.effective_parameters(spec, "contactor_manager")
    ref = ContactorManager()
    ref.configure(params)
    with open_adapter(m, spec, dims, ["contactor_manager"]) as adapter:
        adapter.configure("contactor_manager", params)
        adapter.reset("contactor_manager")
        fb = {"main_positive_closed_fb": False, "main_negative_closed_fb": False,
              "precharge_closed_fb": False}
        for k in range(300):
            t = k * 0.01
            inputs = {"close_request": t >= 0.05, "contactor_open_request": False,
                      "fault_reset_request": False, "pack_voltage_V": 400.0,
                      "link_voltage_V": min(400.0, 400.0 * t), **fb}
            got = adapter.step("contactor_manager", t, inputs)
            same(got, ref.step(t, inputs))
            fb = {"main_positive_closed_fb": got["main_positive_close_cmd"],
                  "main_negative_closed_fb": got["main_negative_close_cmd"],
                  "precharge_closed_fb": got["precharge_close_cmd"]}
        assert got["contactor_state"] == 2  # closed


# ---------------------------------------------------------------- the modelDescription check
def write_manifest(folder: Path, files: dict[str, str], cells: int = CELLS) -> Path:
    doc = {
        "obsa_manifest": "1.0",
        "module": {"vendor": "Test", "name": "fmu", "version": "0"},
        "spec_version": "0.3.0",
        "profiles": ["bmu_safety_core"],
        "pack": {"chemistry": "nmc", "cell_count": cells, "temperature_sensor_count": SENSORS,
                 "capacity_Ah": 50.0},
        "adapter": {"type": "fmu", "components": files},
    }
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def refusals(folder: Path, fmus: dict[str, Path], spec, cells: int = CELLS, **swap: Path
             ) -> list[str]:
    """The manifest issues of the example's FMUs (some swapped), named relative to the
    manifest's folder."""
    files = {c: os.path.relpath({**fmus, **swap}[c], folder) for c in fmus}
    manifest, issues = load_manifest(write_manifest(folder, files, cells), spec)
    assert manifest is not None
    return [str(i) for i in issues]


def test_the_right_fmus_are_accepted(tmp_path, spec, fmus):
    assert refusals(tmp_path, fmus, spec) == []


@pytest.mark.parametrize(("edit", "replacement", "expected"), [
    (r'name="cell_voltage_V\[3\]"', 'name="cell_voltage_V_3"',
     "variable 'cell_voltage_V[3]': expected an input of type Real (element 3 of signal "
     "cell_voltage_V, one per cell (4), float), found none"),
    (r'(name="pack_current_A" valueReference="\d+") causality="input" '
     r'variability="continuous"', r'\1 causality="parameter" variability="fixed"',
     "variable 'pack_current_A': expected an input of type Real (signal pack_current_A, "
     "float), found causality 'parameter'"),
    (r'(name="safety_state"[^>]*>\s*)<Integer/>', r"\1<Real/>",
     "variable 'safety_state': expected a output of type Integer or Enumeration (signal "
     "safety_state, enum), found type Real"),
])
def test_a_missing_or_mistyped_variable_refuses_the_manifest(tmp_path, spec, fmus, edit,
                                                             replacement, expected):
    bad = with_description(fmus["safety_supervisor"], tmp_path / "bad.fmu", edit, replacement)
    issues = refusals(tmp_path, fmus, spec, safety_supervisor=bad)
    assert len(issues) == 1, issues
    assert "adapter.components.safety_supervisor: bad.fmu: " + expected in issues[0]
    assert str(tmp_path / "manifest.yaml") in issues[0]  # file:line of the entry


def test_a_missing_parameter_refuses_the_manifest(tmp_path, spec, fmus):
    bad = with_description(fmus["contactor_manager"], tmp_path / "cm.fmu",
                           r'name="precharge_max_attempts"', 'name="precharge_attempts_max"')
    issues = refusals(tmp_path, fmus, spec, contactor_manager=bad)
    assert len(issues) == 1 and "variable 'precharge_max_attempts': expected a parameter of " \
        "type Integer (parameter precharge_max_attempts, int), found none" in issues[0]


def test_an_fmu_for_another_pack_or_nothing_at_all_is_refused(tmp_path, spec, fmus):
    issues = refusals(tmp_path, fmus, spec, cells=3)  # the FMU has 4 cells
    assert any("variable 'cell_voltage_V[3]': expected cell_voltage_V[0] … cell_voltage_V[2]"
               in i and "built for another size" in i for i in issues), issues
    issues = refusals(tmp_path, fmus, spec, diagnostics=tmp_path / "none.fmu")
    assert len(issues) == 1 and "expected an FMU file, found nothing at" in issues[0]
    (tmp_path / "text.fmu").write_text("not a zip")
    issues = refusals(tmp_path, fmus, spec, diagnostics=tmp_path / "text.fmu")
    assert len(issues) == 1 and "text.fmu: expected an FMU (a zip archive)" in issues[0]


def test_a_refused_fmu_never_runs(tmp_path, spec, fmus):
    """The check reads the description only: an FMU whose code would abort at once is
    judged without running it (and the report names its hash)."""
    crash = build_crashing_contactor_manager(tmp_path / "abort.fmu", "abort", 0.0)
    bad = with_description(crash, tmp_path / "abort_bad.fmu", r'name="precharge_close_cmd"',
                           'name="precharge_cmd"')
    issues = refusals(tmp_path, fmus, spec, contactor_manager=bad)
    assert len(issues) == 1 and "variable 'precharge_close_cmd'" in issues[0]
    files = FmuAdapter.judged_files({"components": {"contactor_manager": str(bad)}})
    assert files == [bad.resolve()]


# ---------------------------------------------------------------- an FMU that fails
CM_INPUTS = {"close_request": False, "contactor_open_request": False,
             "fault_reset_request": False, "pack_voltage_V": 400.0, "link_voltage_V": 0.0,
             "main_positive_closed_fb": False, "main_negative_closed_fb": False,
             "precharge_closed_fb": False}


def step_until_error(adapter, start: int = 0) -> AdapterError:
    with pytest.raises(AdapterError) as err:
        for k in range(start, 20):
            adapter.step("contactor_manager", k * 0.01, CM_INPUTS)
    return err.value


def test_an_fmu_error_in_do_step_is_the_modules_error_and_a_reset_recovers(tmp_path, spec,
                                                                           dims, fmus):
    crash = build_crashing_contactor_manager(tmp_path / "discard.fmu", "discard", 0.05)
    m = fmu_manifest({**fmus, "contactor_manager": crash})
    with open_adapter(m, spec, dims, ["contactor_manager"]) as adapter:
        adapter.configure("contactor_manager", m.effective_parameters(spec, "contactor_manager"))
        adapter.reset("contactor_manager")
        e = step_until_error(adapter)
        assert (e.component, e.call) == ("contactor_manager", "step")
        assert "discard.fmu: fmi2DoStep (from t=0.05 s to 0.06 s) returned discard" in e.message
        assert adapter.broken is None  # fmi2Discard: the next test case may reset it
        adapter.reset("contactor_manager")
        assert adapter.step("contactor_manager", 0.0, CM_INPUTS)["contactor_state"] == 0
        assert "returned discard" in step_until_error(adapter, 1).message


def test_after_an_fmi2_fatal_no_fmu_is_called_again(tmp_path, spec, dims, fmus):
    """pythonfmu answers an exception with fmi2Fatal: the error quotes what the FMU logged,
    and every later call of any component is refused with that reason (FMI 2.0 allows no
    call after fmi2Fatal; an FMU called anyway crashed its process)."""
    crash = build_crashing_contactor_manager(tmp_path / "raise.fmu", "raise", 0.05)
    m = fmu_manifest({**fmus, "contactor_manager": crash})
    # with an FMU instantiated after it: what each FMU logs stays its own
    with open_adapter(m, spec, dims, ["contactor_manager", "diagnostics"]) as adapter:
        for c in ("contactor_manager", "diagnostics"):
            adapter.configure(c, m.effective_parameters(spec, c))
            adapter.reset(c)
        e = step_until_error(adapter)
        assert (e.component, e.call) == ("contactor_manager", "step")
        assert "raise.fmu: fmi2DoStep (from t=0.05 s to 0.06 s) returned fatal; the FMU " \
            "logged: fatal:" in e.message
        assert "deliberate failure at t=0.06 s" in e.message
        for c in ("diagnostics", "contactor_manager"):
            with pytest.raises(AdapterError) as err:
                adapter.reset(c)
            assert (err.value.component, err.value.call) == (c, "reset")
            assert "not called: an FMU returned fmi2Fatal earlier" in err.value.message
            assert "deliberate failure at t=0.06 s" in err.value.message


def test_an_fmu_that_kills_its_process_breaks_the_adapter(tmp_path, spec, dims, fmus):
    crash = build_crashing_contactor_manager(tmp_path / "abort.fmu", "abort", 0.02)
    m = fmu_manifest({**fmus, "contactor_manager": crash})
    with open_adapter(m, spec, dims, ["contactor_manager"]) as adapter:
        adapter.configure("contactor_manager", m.effective_parameters(spec, "contactor_manager"))
        adapter.reset("contactor_manager")
        assert "killed by SIGABRT during contactor_manager.step" in \
            step_until_error(adapter).message
        assert adapter.broken is not None
        unpacked = adapter._unpack_dir
        assert unpacked is not None and Path(unpacked).is_dir()
    assert not Path(unpacked).exists()  # the unpacked FMUs are removed with the adapter
