"""A module that claims hmi_http but whose service never answers: the cases that need an
answer to judge (the delay, the content, the Annex VII data) fail saying why; those that
judge what the service refuses (writes, requests without the token) are inconclusive, naming
OBSA-HMI-005, instead of passing on nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "reference_impl" / "manifest_telemetry_gateway.yaml"


def test_a_service_that_never_answers(tmp_path: Path) -> None:
    data = yaml.safe_load(GATEWAY.read_text(encoding="utf-8"))
    # the block without its service, and little patience
    data["adapter"]["components"]["hmi_api"] = "reference_impl.connectivity.hmi_api:HmiApi"
    data["hmi_http"]["startup_timeout_s"] = 0.5
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "conformance", "certify", str(path), "--out",
                    str(tmp_path / "out"), "--no-html", "--no-progress", "-k", "hmi_http"],
                   cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    verdicts = {r["requirement"]: (r["verdict"], r["evidence"]["message"])
                for r in report["results"] if r["case"]}
    for rid in ("OBSA-HMI-005", "OBSA-HMI-006", "OBSA-HMI-009"):
        verdict, message = verdicts[rid]
        assert verdict == "fail" and "did not answer within 0.5 s" in message, (rid, message)
    for rid in ("OBSA-HMI-007", "OBSA-HMI-008"):
        verdict, message = verdicts[rid]
        assert verdict == "inconclusive" and "depends on OBSA-HMI-005" in message, (rid,
                                                                                   message)
