"""OBSA-CAN-012 on a board: the state estimates are not judged on the wall clock (the
case says why, inconclusive), and nothing runs; on a Python node the faulty-node catalogue
judges them (tests/faulty/test_can_catalogue.py)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import yaml

from conformance.adapters import open_adapter
from conformance.adapters.can import CanAdapter
from conformance.bench import Bench, BenchConfig
from conformance.harness.context import Harness, Session
from conformance.manifest import load_manifest
from conformance.spec import load_spec
from conformance.suite import test_can

ROOT = Path(__file__).resolve().parents[2]


def test_a_board_bmu_s_state_estimates_are_inconclusive_saying_why(tmp_path: Path) -> None:
    spec = load_spec()
    data = yaml.safe_load((ROOT / "reference_impl" / "manifest_can_bmu.yaml")
                          .read_text(encoding="utf-8"))
    data["adapter"]["components"]["can_stack"] = "device"
    for bus in data["adapter"]["options"]["buses"].values():
        bus["channel"] = f"can-est-{uuid.uuid4().hex}"
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and not issues, issues
    with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
        assert isinstance(adapter, CanAdapter) and adapter.realtime
        session = Session(spec=spec, manifest=manifest, adapter=adapter,
                          components=["can_stack"], dimensions=manifest.dimensions(spec),
                          bench_factory=lambda **kw: Bench(BenchConfig(n_cells=96,
                                                                       n_temp_sensors=24)))
        h = Harness(session, "test_state_estimates", [], seed=7)
        started = time.monotonic()
        test_can.test_state_estimates(h)
        assert time.monotonic() - started < 5.0  # nothing ran on the wall clock
    [result] = h.results
    assert result.requirement == "OBSA-CAN-012" and result.verdict == "inconclusive"
    message = result.evidence.message
    assert "own sensor" in message and "330 s of wall clock" in message, message
