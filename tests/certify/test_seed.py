"""The run's seed comes from what the manifest declares, never from how the module is
connected or how the file is laid out: the same module over any transport meets the same
stimuli, and a module cannot pick other stimuli without declaring something else."""

from __future__ import annotations

from pathlib import Path

import yaml

from conformance.manifest import safety_core_manifest_path
from conformance.session import Certification


def _seed(tmp_path: Path, name: str, data: dict, comment: str = "") -> int:
    path = tmp_path / f"{name}.yaml"
    path.write_text(comment + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    cert = Certification.prepare(str(path), None, tmp_path / f"out-{name}", in_process=True)
    try:
        assert not cert.refused, cert.issues
        return cert.seed
    finally:
        cert.close()


def test_the_seed_ignores_the_transport_and_the_layout(tmp_path: Path) -> None:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    base = _seed(tmp_path, "base", data)
    # the same declarations, keys in another order, a comment, another adapter setting
    moved = dict(reversed(list(data.items())))
    moved["adapter"] = {**data["adapter"], "timeout_s": 7.0}
    assert _seed(tmp_path, "moved", moved, "# the same module, connected otherwise\n") == base


def test_another_declaration_draws_another_seed(tmp_path: Path) -> None:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    base = _seed(tmp_path, "base", data)
    data["module"] = {**data["module"], "version": data["module"]["version"] + "-1"}
    assert _seed(tmp_path, "renamed", data) != base
