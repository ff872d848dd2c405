from __future__ import annotations

import pytest

from conformance.manifest.model import Manifest
from conformance.spec import load_spec

from . import fakes

DIMENSIONS = {"cell": 4, "temperature_sensor": 2}


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def dims(spec):
    from conformance.spec.exporters.records import dimension_lengths

    return {**DIMENSIONS, **dimension_lengths(spec)}


def ref(name: str) -> str:
    """'package.module:Class' of a fake, whatever package name pytest gave this folder."""
    return f"{fakes.__name__}:{name}"


def manifest_with(components: dict[str, str], timeout_s: float | None = 0.2,
                  transport: str = "python") -> Manifest:
    return Manifest.model_validate({
        "obsa_manifest": "1.0",
        "module": {"vendor": "Test", "name": "fake", "version": "0"},
        "spec_version": "0.3.0",
        "profiles": ["bmu_safety_core"],
        "pack": {"chemistry": "nmc", "cell_count": 4, "temperature_sensor_count": 2,
                 "capacity_Ah": 1.0},
        "adapter": {"type": transport, "timeout_s": timeout_s, "components": components},
    })
