"""The HMI API over HTTP, against a real uvicorn server on loopback (tests/hmi/conftest.py)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import jsonschema
import pytest
import yaml

from reference_impl.hmi import resources as R
from reference_impl.interfaces import DTC_TABLE, PARAMETER_DEFAULTS, ContactorState

from .conftest import MANIFEST, TOKEN, Served

WRITES = ("POST", "PUT", "PATCH", "DELETE")
PATHS = ("/", "/api", "/openapi.json", "/api/snapshot", "/api/cells", "/api/faults",
         "/api/annex-vii", "/api/all", "/api/events", "/dashboard.js")
REFRESH_S = float(PARAMETER_DEFAULTS["hmi_api"]["hmi_refresh_period_s"])
#: the reference manifest's discharge over-temperature fault delay
FAULT_DELAY_S = float(yaml.safe_load(MANIFEST.read_text())["configuration"]["safety_supervisor"]
                      ["discharge_temperature_max_fault_delay_s"])


def request(url: str, method: str = "GET", token: str | None = None,
            data: bytes | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    req = urllib.request.Request(url, method=method, headers=headers, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()) if "json" in r.headers["content-type"] else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def get(served: Served, path: str) -> Any:
    status, body = request(served.url + path, token=served.token)
    assert status == 200, (path, status, body)
    return body


def wait_first(served: Served) -> None:
    """Until the snapshot shows the HV path closed (the precharge takes a few seconds)."""
    deadline = time.monotonic() + 15
    while True:
        signals = served.loop.feed.latest()[1]
        if signals is not None and signals["hmi_contactor_state"] == ContactorState.CLOSED:
            return
        assert time.monotonic() < deadline, "the HV path not closed within 15 s"
        time.sleep(0.02)


def test_content_equals_the_component_outputs(served: Served) -> None:
    wait_first(served)
    time.sleep(0.3)
    with served.loop.lock:  # the loop holds still: the feed is what the server serves
        _, signals = served.loop.feed.latest()
        assert signals is not None
        snap = get(served, "/api/snapshot")
        annex = get(served, "/api/annex-vii")
        cells = get(served, "/api/cells")
        faults = get(served, "/api/faults")
    for field in R.BINDING["snapshot"].outputs:
        expected = signals[field]
        assert snap[field] == (list(expected) if field == "hmi_dtc_status" else expected), field
    assert snap["hmi_contactor_state_name"] == "closed"
    assert snap["hmi_safety_state_name"] == "normal"
    assert snap["hmi_pack_current_A"] == pytest.approx(-20.0, abs=0.5)
    # Annex VII: every input the component serves unchanged, as it read it
    annex_fields = R.BINDING["annex_vii"].inputs
    assert set(annex) == {"hmi_snapshot_time_s", *annex_fields} and len(annex_fields) == 19
    for field in annex_fields:
        assert annex[field] == pytest.approx(signals[field]), field
    assert annex["discharged_capacity_Ah"] > 0
    assert cells["hmi_cell_voltage_V"] == pytest.approx(list(signals["hmi_cell_voltage_V"]))
    assert len(cells["hmi_cell_voltage_V"]) == 96
    assert len(cells["hmi_cell_temperature_degC"]) == 24
    assert cells["limits"]["cell_voltage_max_msl_V"] == 4.25
    assert [row["dtc"] for row in faults["dtcs"]] == [f"0x{e.dtc:04X}" for e in DTC_TABLE]
    # every resource is valid against its schema in the OpenAPI document generated from spec/
    doc = get(served, "/openapi.json")
    assert doc == R.OPENAPI
    for path, body in (("/api/snapshot", snap), ("/api/annex-vii", annex),
                       ("/api/cells", cells), ("/api/faults", faults)):
        ref = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        schema = {**doc["components"]["schemas"][ref["schema"]["$ref"].rsplit("/", 1)[1]],
                  "components": doc["components"]}
        jsonschema.validate(body, schema)
    assert set(R.RESOURCES) == {p for p in PATHS if p.startswith("/api/")}


def test_snapshot_age_and_event_rate(served: Served) -> None:
    wait_first(served)
    ages = []
    for _ in range(20):
        with served.loop.lock:
            t = served.loop.plant.t
            snap = get(served, "/api/snapshot")
        ages.append(t - snap["hmi_snapshot_time_s"])
        time.sleep(0.03)
    step = 0.01  # the bench's step: the tolerance of OBSA-HMI-001
    assert max(ages) <= REFRESH_S + step + 1e-9, ages
    # the event stream: one event per snapshot, at the refresh period of real time
    times, arrivals = [], []
    with urllib.request.urlopen(served.url + "/api/events", timeout=10) as r:
        start = time.monotonic()
        for line in r:
            if line.startswith(b"data: "):
                times.append(json.loads(line[6:])["snapshot"]["hmi_snapshot_time_s"])
                arrivals.append(time.monotonic())
            if time.monotonic() - start > 2.0:
                break
    steps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) >= 15, times
    assert all(s > 0 for s in steps), "an event repeated or went back in time"
    assert max(steps) <= 2 * REFRESH_S + 1e-6, steps  # at most one snapshot skipped
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert sum(gaps) / len(gaps) <= 1.5 * REFRESH_S, gaps


def test_fault_memory_shows_an_injected_fault_within_the_bound(served: Served) -> None:
    wait_first(served)
    with served.loop.lock:
        # on the plant side: the node measures the plant through its own cell monitor
        served.loop.plant.set_cell_temperature(70.0, index=0)
    start = time.monotonic()
    while True:
        faults = get(served, "/api/faults")
        active = [row for row in faults["dtcs"] if row["status_name"] == "active"]
        if any(row["fault"] == "discharge_overtemperature" for row in active):
            break
        assert time.monotonic() - start < 5.0, faults
        time.sleep(0.02)
    # the fault delay and one refresh period, in real time, with the machine's slack
    assert time.monotonic() - start < FAULT_DELAY_S + REFRESH_S + 1.0
    assert faults["hmi_active_dtc_count"] == len(active)
    snap = get(served, "/api/snapshot")
    assert snap["hmi_safety_state_name"] == "fault"


@pytest.mark.parametrize("method", WRITES)
def test_every_write_is_refused(served: Served, method: str) -> None:
    wait_first(served)
    before = served.loop.inputs.copy()
    for path in PATHS:
        status, body = request(served.url + path, method=method, data=b'{"close_request": false}')
        assert status == 405, (method, path, status)
        assert "read-only" in body["error"]
    assert served.loop.inputs == before
    assert get(served, "/api/snapshot")["hmi_contactor_state_name"] == "closed"


def test_token_is_enforced(served_token: Served) -> None:
    wait_first(served_token)
    url = served_token.url + "/api/snapshot"
    assert request(url)[0] == 401
    assert request(url, token="wrong")[0] == 401
    status, body = request(url, token=TOKEN)
    assert status == 200 and "hmi_pack_soc" in body
    assert request(served_token.url + f"/api/faults?token={TOKEN}")[0] == 200
    assert request(url, method="POST", token=TOKEN)[0] == 405
    # the page and its script hold no data: served without it, every data resource is not
    for path in PATHS:
        if path in ("/", "/dashboard.js"):
            with urllib.request.urlopen(served_token.url + path, timeout=10) as r:
                assert r.status == 200
        else:
            assert request(served_token.url + path)[0] == 401, path
