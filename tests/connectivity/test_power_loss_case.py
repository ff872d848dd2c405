"""OBSA-CONN-007's test case on the reference gateway, in process: judged where the transport
can cut the module's power, inconclusive (never not applicable) where it cannot, saying why
and how to have it judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.session import Certification
from conformance.suite.test_telemetry import test_backlog_survives_power_loss as case

MANIFEST = "reference_impl/manifest_telemetry_gateway.yaml"


@pytest.mark.parametrize("refusal", [None, "this transport cannot cut the module's power"],
                         ids=["can_cut", "cannot_cut"])
def test_the_power_loss_case_is_judged_or_inconclusive(tmp_path: Path,
                                                       refusal: str | None) -> None:
    cert = Certification.prepare(MANIFEST, None, tmp_path / "out", in_process=True)
    try:
        assert cert.adapter is not None
        if refusal is not None:
            cert.adapter.power_cycle_refusal = refusal  # type: ignore[misc]
        h = cert.harness("power loss", ["OBSA-CONN-007"])
        case(h)
        [result] = h.results
        if refusal is None:
            assert result.verdict == "pass", result.evidence.message
        else:
            assert result.verdict == "inconclusive"
            assert refusal in result.evidence.message and "python or process transport" in \
                result.evidence.message
    finally:
        cert.close()
