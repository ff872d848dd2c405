"""The bench keeps the block lifecycle the spec states (standard.yaml, ``lifecycle``): one
instance per component for the run, configure then reset before every test case, every
parameter and every input present, time growing by exactly one bench step from any start."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import yaml

from conformance.manifest import safety_core_manifest_path
from conformance.session import Certification
from conformance.spec import load_spec
from reference_impl.functions.safety import SafetySupervisor


class Recorder(SafetySupervisor):
    """The reference supervisor, recording every call the bench makes."""

    log: ClassVar[list[tuple[Any, ...]]] = []

    def configure(self, parameters: dict[str, Any]) -> None:
        Recorder.log.append(("configure", id(self), frozenset(parameters)))
        super().configure(parameters)

    def reset(self) -> None:
        Recorder.log.append(("reset", id(self)))
        super().reset()

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        Recorder.log.append(("step", id(self), t, frozenset(inputs)))
        return super().step(t, inputs)


@pytest.fixture
def cert(tmp_path: Path) -> Any:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    data["adapter"]["components"]["safety_supervisor"] = "tests.harness.test_lifecycle:Recorder"
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    c = Certification.prepare(path, None, tmp_path / "out", in_process=True)
    assert not c.refused, c.issues
    Recorder.log.clear()
    yield c
    c.close()


def _runs(log: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """The log cut at every configure: one list of calls per test case."""
    runs: list[list[tuple[Any, ...]]] = []
    for entry in log:
        if entry[0] == "configure":
            runs.append([])
        runs[-1].append(entry)
    return runs


def test_one_instance_configured_and_reset_before_every_test_case(cert: Any) -> None:
    for name, start in (("first", 0.0), ("late", 70_000.0)):
        loop = cert.harness(name, []).run(clock_start_s=start)
        loop.run(0.05)
    runs = _runs(Recorder.log)
    assert len(runs) == 2
    assert len({entry[1] for entry in Recorder.log}) == 1, "one instance for the whole run"
    for calls in runs:
        names = [c[0] for c in calls]
        first_step = names.index("step")
        # configure, then reset (the reference's configure also resets itself), then steps
        assert names[0] == "configure" and names[first_step - 1] == "reset"
        assert set(names[1:first_step]) == {"reset"} and set(names[first_step:]) == {"step"}


def test_every_parameter_and_every_input_on_every_call(cert: Any) -> None:
    spec = load_spec()
    itf = spec.interfaces["safety_supervisor"]
    cert.harness("io", []).run().run(0.05)
    configure, *_ = Recorder.log
    assert configure[2] == frozenset(p.name for p in itf.parameters)
    inputs = frozenset(p.signal for p in itf.inputs)
    steps = [c for c in Recorder.log if c[0] == "step"]
    assert steps and all(c[3] == inputs for c in steps)


@pytest.mark.parametrize("start", [0.0, 65.536, 2.0 ** 24])
def test_time_grows_by_exactly_one_step_from_any_start(cert: Any, start: float) -> None:
    h = cert.harness("time", [])
    h.run(clock_start_s=start).run(0.1)
    t = np.array([c[2] for c in Recorder.log if c[0] == "step"])
    dt = min(cert.spec.interfaces[c].step_period_s for c in cert.session.components)
    assert len(t) == 10
    assert np.array_equal(t, start + np.arange(10) * dt), "t = t0 + k · step, never summed"
