"""What a report says about its run: run id, hashes, in-process mode, interruption; and
files that appear complete or not at all."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.manifest import safety_core_manifest_path
from conformance.report import read_json, render_html, render_junit, write_all
from conformance.report.files import write_atomic
from conformance.session import STOPS, Certification, Interrupted

from .test_report_writers import sample_report


def _with_run(**update):
    return sample_report().model_copy(update={
        "run_id": "0123abcd", "manifest_sha256": "ab" * 32,
        "module_files": {"acme/safety.py": "cd" * 32}, **update})


def test_run_id_hashes_and_isolation_are_in_every_format(tmp_path: Path) -> None:
    report = _with_run()
    write_all(report, tmp_path)
    back = read_json(tmp_path / "report.json")
    assert (back.run_id, back.manifest_sha256, back.module_files, back.in_process) == (
        "0123abcd", "ab" * 32, {"acme/safety.py": "cd" * 32}, False)
    props = {p.get("name"): p.get("value")
             for p in ET.fromstring(render_junit(report)).iter("property")}
    assert props["run_id"] == "0123abcd" and props["in_process"] == "false"
    html = render_html(report, plots=False)
    assert "0123abcd" in html and "cd" * 32 in html and "in a child process" in html


def test_in_process_and_interruption_are_shown(tmp_path: Path) -> None:
    report = _with_run(in_process=True, outcome="interrupted", interrupted_by="SIGTERM")
    html = render_html(report, plots=False)
    assert "debugging mode, never certified" in html and "SIGTERM" in html
    props = {p.get("name"): p.get("value")
             for p in ET.fromstring(render_junit(report)).iter("property")}
    assert props["in_process"] == "true" and props["outcome"] == "interrupted"


def test_report_json_is_written_last(tmp_path: Path, monkeypatch) -> None:
    order: list[str] = []
    real = os.replace

    def spy(src, dst):
        order.append(Path(dst).name)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_all(_with_run(), tmp_path)
    assert order == ["junit.xml", "report.html", "report.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path,
                                                             monkeypatch) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")

    class Boom(Exception):
        pass

    def fail(*args):
        raise Boom

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(Boom):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    monkeypatch.undo()
    write_atomic(target, "new")
    assert target.read_text() == "new"


# ---------------------------------------------------------------------------- outcome rules
@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> Certification:
    """The reference, prepared in process (no child needed to judge outcome rules)."""
    c = Certification.prepare(safety_core_manifest_path(), None, tmp_path_factory.mktemp("out"),
                              in_process=True)
    yield c
    c.close()


def _all_pass(cert: Certification):
    return [cert.unjudged("case", r.id, "pass", "") for r in cert.scope()]


def test_an_in_process_run_is_never_certified(cert: Certification) -> None:
    cert.results = _all_pass(cert)
    cert.in_process = True
    assert cert.finish(0.0).outcome == "not-certified"
    cert.in_process = False
    report = cert.finish(0.0)
    assert report.outcome == "certified" and report.run_id == cert.run_id
    assert report.manifest_sha256 and len(report.module_files) == 3


def test_an_interrupted_run_says_so_for_what_did_not_run(cert: Certification) -> None:
    cert.results = _all_pass(cert)[:3]
    cert.interrupted_by = "SIGHUP"
    try:
        report = cert.finish(0.0)
    finally:
        cert.interrupted_by = None
    assert report.outcome == "interrupted" and report.interrupted_by == "SIGHUP"
    not_run = [r for r in report.results if r.verdict == "inconclusive"]
    assert not_run and all("interrupted (SIGHUP)" in r.evidence.message for r in not_run)
    assert cert.summary_lines(report, [])[0].startswith("OBSA: interrupted by SIGHUP")


def test_a_stop_request_is_raised_once_and_never_while_the_report_is_written() -> None:
    STOPS.received = None
    STOPS.holding = True
    STOPS.request("SIGTERM")  # held back: nothing raised
    assert STOPS.received is None
    STOPS.holding = False
    with pytest.raises(Interrupted) as err:
        STOPS.request("SIGTERM")
    assert err.value.signal_name == "SIGTERM" and isinstance(err.value, KeyboardInterrupt)
    STOPS.request("SIGINT")  # a second signal does not interrupt the report
    assert STOPS.received == "SIGTERM"
    STOPS.received = None


def test_what_only_the_certification_body_can_judge_does_not_block() -> None:
    """A profile whose requirements include some verified by inspection or demonstration
    (state estimation: OBSA-SOC-001, REG-002, REG-004) is certified when every requirement
    verified by test passes; those are listed as left to the certification body, with a
    verdict that says so. A failure of a requirement verified by test still blocks."""
    import tempfile

    from conformance.manifest import safety_core_manifest_path

    manifest = safety_core_manifest_path().with_name("manifest_state_estimation.yaml")
    c = Certification.prepare(str(manifest), None, Path(tempfile.mkdtemp()))
    try:
        others = {r.id for r in c.scope() if r.verification != "test"}
        assert {"OBSA-SOC-001", "OBSA-REG-002", "OBSA-REG-004"} <= others
        c.results = [c.unjudged("case", r.id, "pass", "") for r in c.scope()
                     if r.id not in others]
        report = c.finish(0.0)
        assert report.outcome == "certified"
        assert report.left_to_certification_body == sorted(others)
        left = [r for r in report.results if r.requirement in others]
        assert left and all(r.verdict == "inconclusive" and "certification body"
                            in r.evidence.message for r in left)
        assert "Left to the certification body" in render_html(report, plots=False)
        c.results[0] = c.results[0].model_copy(update={"verdict": "fail"})
        assert c.finish(0.0).outcome == "not-certified"
        # a requirement verified by test that no test case judged still blocks
        c.results = c.results[2:]
        c.results[0] = c.results[0].model_copy(update={"verdict": "pass"})
        assert c.finish(0.0).outcome == "not-certified"
    finally:
        c.close()


def test_each_claimed_profile_has_its_outcome() -> None:
    """A module claiming several profiles (the reference full BMS claims the four its
    components make up) gets one outcome per profile, judged on that profile's requirements
    alone: a failure of a state-estimation requirement leaves the safety core and the cell
    monitoring unit certified; the run is certified only when every profile is."""
    import tempfile

    from conformance.manifest import safety_core_manifest_path

    manifest = safety_core_manifest_path().with_name("manifest_full_bms.yaml")
    c = Certification.prepare(str(manifest), None, Path(tempfile.mkdtemp()))
    try:
        assert c.manifest is not None and len(c.manifest.profiles) == 4
        c.results = [c.unjudged("case", r.id, "pass", "") for r in c.scope()
                     if r.verification == "test"]
        report = c.finish(0.0)
        assert report.outcome == "certified"
        assert [p.profile for p in report.profile_outcomes] == list(c.manifest.profiles)
        assert all(p.outcome == "certified" and not p.blocking and p.requirements
                   for p in report.profile_outcomes)
        i = next(k for k, r in enumerate(c.results) if r.requirement == "OBSA-SOH-001")
        c.results[i] = c.results[i].model_copy(update={"verdict": "fail"})
        report = c.finish(0.0)
        outcomes = {p.profile: (p.outcome, p.blocking) for p in report.profile_outcomes}
        assert report.outcome == "not-certified"
        assert outcomes == {"bmu_safety_core": ("certified", []),
                            "cell_monitoring_unit": ("certified", []),
                            "state_estimation": ("not-certified", ["OBSA-SOH-001"]),
                            "full_bms": ("not-certified", ["OBSA-SOH-001"])}
        page = render_html(report, plots=False)
        assert "<h2>Profiles</h2>" in page and "state_estimation" in page
        lines = c.summary_lines(report, [])
        assert ("OBSA: profile state_estimation: NOT-CERTIFIED" in "\n".join(lines)
                and "not passed: OBSA-SOH-001" in "\n".join(lines))
    finally:
        c.close()
