"""The HMI-over-HTTP test cases have teeth and are fair: each faulty service of
``HMI_HTTP_CATALOGUE`` fails exactly the requirement it breaks, and the correct service
written otherwise (``HMI_HTTP_CORRECT``) is certified, on the reference gateway's manifest:
the reference and the correct one under both suites, a faulty one under the pytest suite
(and the scenarios of what it breaks under the Gherkin suite, for the Gherkin sample:
:func:`.reports.certify_faulty`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .hmi_http_faults import HMI_HTTP_CATALOGUE, HMI_HTTP_CORRECT
from .modules import Faulty
from .reports import (
    Edit,
    certify_faulty,
    certify_under,
    judged,
    not_passed,
    replace_component,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest_telemetry_gateway.yaml"
HTTP = {f"OBSA-HMI-00{i}" for i in range(5, 10)}


def _certify(tmp_path: Path, edit: Edit | None) -> dict[str, Any]:
    """Certify the reference gateway's manifest changed by ``edit``, the HTTP cases only,
    under both suites."""
    return certify_under("both", MANIFEST, tmp_path, edit, "-k", "hmi_http", timeout_s=600)


@pytest.mark.slow
def test_the_reference_service_is_certified(tmp_path: Path) -> None:
    report = _certify(tmp_path, None)
    assert judged(report) == HTTP
    assert not_passed(report) == set()


@pytest.mark.slow
@pytest.mark.parametrize("faulty", HMI_HTTP_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_service_fails_what_it_breaks(tmp_path: Path, faulty: Faulty) -> None:
    report = certify_faulty(faulty, HMI_HTTP_CATALOGUE, MANIFEST, tmp_path, "-k", "hmi_http")
    assert judged(report) == HTTP
    assert not_passed(report) == faulty.breaks


@pytest.mark.slow
@pytest.mark.parametrize("correct", HMI_HTTP_CORRECT, ids=lambda f: f.name)
def test_a_correct_service_unlike_the_reference_is_certified(tmp_path: Path,
                                                             correct: Faulty) -> None:
    report = _certify(tmp_path, replace_component(correct))
    assert judged(report) == HTTP
    assert not_passed(report) == set()


def test_every_http_requirement_has_a_faulty_service() -> None:
    assert {r for f in HMI_HTTP_CATALOGUE for r in f.breaks} == HTTP
