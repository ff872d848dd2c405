"""The manifest's hmi_http section: where the bench reaches a module's HMI API over HTTP.
Bad declarations are refused naming the line, the field and what was expected; the bench
fills {port} with a free loopback port and hands the port and the token to the module in
its environment."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.bench import hmi_http
from conformance.manifest import load_manifest
from conformance.spec import load_spec
from conformance.tools.manifest_init import InitOptions, render_manifest

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "reference_impl" / "manifest_telemetry_gateway.yaml"


def _issues(tmp_path: Path, edit: Any) -> list[str]:
    data = yaml.safe_load(GATEWAY.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _, issues = load_manifest(path, load_spec())
    return [str(i) for i in issues]


def _set(key: str, value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["hmi_http"][key] = value
    return edit


def _drop_feature(data: dict[str, Any]) -> None:
    data["features"].remove("hmi_http")


def _drop_section(data: dict[str, Any]) -> None:
    del data["hmi_http"]


def _on_a_cmu(data: dict[str, Any]) -> None:
    data["profiles"] = ["cell_monitoring_unit"]
    data["adapter"]["components"] = {"cell_monitor": "reference_impl.hal.cell_monitor:"
                                                     "CellMonitor"}
    data["configuration"] = {}


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (_set("url", "127.0.0.1:{port}"), "hmi_http", 'found "127.0.0.1:{port}"'),
    (_set("url", "http://{host}:{port}"), "hmi_http.url", "found {host}"),
    (_set("token", "short"), "hmi_http", 'expected at least 8 characters, found "short"'),
    (_set("token", "has a space"), "hmi_http", 'found "has a space"'),
    (_set("startup_timeout_s", 0), "hmi_http", "expected a value > 0, found 0"),
    (_set("port", 8000), "hmi_http", "'port' was unexpected"),
    (_drop_feature, "hmi_http", "expected the feature hmi_http"),
    (_drop_section, "features", "expected a section 'hmi_http'"),
    (_on_a_cmu, "hmi_http", "component hmi_api"),
], ids=["url-no-scheme", "url-other-placeholder", "token-short", "token-space",
        "startup-zero", "unknown-key", "feature-missing", "section-missing", "no-hmi-api"])
def test_a_bad_hmi_http_section_is_refused(tmp_path: Path, edit: Any, field: str,
                                           expected: str) -> None:
    issues = _issues(tmp_path, edit)
    located = [i for i in issues if re.search(rf"manifest\.yaml:\d+: {re.escape(field)}: ", i)]
    assert any(expected in i for i in located), issues


def test_the_reference_gateway_declares_its_service(tmp_path: Path) -> None:
    assert _issues(tmp_path, lambda data: None) == []


def test_the_bench_chooses_a_free_port_and_tells_the_module(monkeypatch: Any) -> None:
    monkeypatch.delenv(hmi_http.PORT_VARIABLE, raising=False)
    monkeypatch.delenv(hmi_http.TOKEN_VARIABLE, raising=False)
    spec = load_spec()
    manifest, issues = load_manifest(GATEWAY, spec)
    assert manifest is not None and not issues
    endpoint = hmi_http.prepare(manifest.hmi_http)
    assert endpoint is not None
    port = int(os.environ[hmi_http.PORT_VARIABLE])
    assert endpoint.url == f"http://127.0.0.1:{port}"
    assert os.environ[hmi_http.TOKEN_VARIABLE] == endpoint.token == "reference-gateway-token"
    with socket.socket() as sock:  # nothing listens there yet: the module will
        sock.bind(("127.0.0.1", port))
    assert hmi_http.prepare(None) is None


@pytest.mark.parametrize("features", [True, False], ids=["claimed", "no-features"])
def test_the_scaffold_writes_the_section_with_the_feature(tmp_path: Path, features: bool
                                                          ) -> None:
    spec = load_spec()
    text = render_manifest(spec, InitOptions(profiles=("telemetry_gateway",),
                                             features=features))
    data = yaml.safe_load(text)
    assert ("hmi_http" in data.get("features", [])) is features
    assert ("hmi_http" in data) is features
    if features:
        assert data["hmi_http"]["url"] == "http://127.0.0.1:{port}"
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_manifest(path, spec)[1] == []
