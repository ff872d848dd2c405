"""The telemetry's always-on monitors (conformance/harness/monitors.py) on scripted
telemetries: publishing while the link is down is OBSA-CONN-003, a record not later than
the one before OBSA-CONN-004, a step with the link up and a backlog that publishes nothing
OBSA-CONN-006; each judged at the telemetry's own steps only (a 0.01 s bench steps it every
tenth step, its outputs held between), and a healthy telemetry trips none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.context import Harness, standard_channels
from conformance.harness.loop import ClosedLoop, steps_per_period
from conformance.harness.monitors import Watch, violations
from conformance.session import Certification

from ..harness.fakes import RestingBench

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest_telemetry_gateway.yaml"
TEL = "telemetry"
Script = Callable[[float, dict[str, Any]], dict[str, Any]]


class _Adapter:
    def __init__(self, script: Script) -> None:
        self.script = script

    def step(self, component: str, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        return self.script(t, inputs)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Certification]:
    c = Certification.prepare(MANIFEST, None, tmp_path_factory.mktemp("telemetry-monitors"))
    assert c.session is not None and not c.refused
    yield c
    c.close()


@pytest.fixture
def h(cert: Certification) -> Harness:
    assert cert.session is not None
    return Harness(cert.session, "t::case", [])


def _found(h: Harness, script: Script, down: tuple[float, float] = (0.5, 0.8)) -> dict[str, float]:
    """Run ``script`` as the telemetry for 1.5 s with the link down inside ``down``."""
    watch = Watch(h.spec, [TEL], {TEL: steps_per_period(0.1, 0.01)})
    bench = RestingBench(cells=2, sensors=1, valid=False)
    loop = ClosedLoop(h.spec, bench, _Adapter(script), [TEL], h.session.dimensions,
                      standard_channels() + watch.channels())

    def link(lp: ClosedLoop) -> None:
        lp.set("uplink_connected", not (down[0] - 1e-9 <= lp.t < down[1] - 1e-9))

    loop.run(1.5, every=link)
    return {v.requirement: v.t_s for v in violations(h, loop, watch)}


def _telemetry(publish_when_down: bool = False, back_at: float | None = None,
               idle_at: float | None = None) -> Script:
    """One record per step, published at once while the link is up (buffered while down,
    the backlog published one per step after it); the defects on request."""
    state: dict[str, Any] = {"buffer": [], "last": -1.0}

    def step(t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        buf = state["buffer"]
        buf.append(t)
        up = bool(inputs["uplink_connected"])
        out: dict[str, Any] = {"telemetry_record_published": False}
        if (up or publish_when_down) and not (idle_at is not None and abs(t - idle_at) < 1e-6):
            stamp = buf.pop(0)
            if back_at is not None and abs(t - back_at) < 1e-6:
                stamp = state["last"] - 0.1
            out = {"telemetry_record_published": True}
            state["last"] = stamp
        return {**out, "telemetry_record_time_s": state["last"],
                "telemetry_backlog_records": len(buf), "telemetry_dropped_records": 0}

    return step


def test_a_healthy_telemetry_trips_no_monitor(h: Harness) -> None:
    assert _found(h, _telemetry()) == {}


def test_publishing_while_down_is_conn_003(h: Harness) -> None:
    assert _found(h, _telemetry(publish_when_down=True)) == pytest.approx(
        {"OBSA-CONN-003": 0.5})


def test_a_record_going_back_is_conn_004(h: Harness) -> None:
    assert _found(h, _telemetry(back_at=1.2)) == pytest.approx({"OBSA-CONN-004": 1.2})


def test_a_step_with_a_backlog_and_nothing_published_is_conn_006(h: Harness) -> None:
    assert _found(h, _telemetry(idle_at=0.9)) == pytest.approx({"OBSA-CONN-006": 0.9})
