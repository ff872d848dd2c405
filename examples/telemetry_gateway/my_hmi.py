"""A vendor's HTTP service of the HMI API, written from the section ``http`` of
``spec/interfaces/hmi_api.yaml``, the HMI requirements (``obsa requirements --component
hmi_api``) and the vendor guide alone.

The snapshot itself is the reference implementation's block (borrowed, as the guide's
section 10 borrows components); what is ours is the service: Python's own HTTP server, no
event stream (the binding makes it optional: a client polls), a JSON object per resource
under the paths of the binding, 405 on every write, 401 without the token. The bench tells
the module where to listen in ``OBSA_HMI_HTTP_PORT`` and the token in
``OBSA_HMI_HTTP_TOKEN``; the first configure() starts the server, and every step hands it
the snapshot before it returns.

:class:`MyHmi` is the first version and carries the mistake section 11 of the vendor guide
walks through: it checks the token only when a request carries an Authorization header, so
a request without one is served (OBSA-HMI-007). :class:`MyHmiFixed` refuses it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reference_impl.connectivity.hmi_api import HmiApi
from reference_impl.interfaces import DTC_TABLE

#: the scalar outputs and the DTC statuses (resource /api/snapshot)
SNAPSHOT = ("hmi_snapshot_time_s", "hmi_pack_soc", "hmi_soh_capacity", "hmi_pack_voltage_V",
            "hmi_pack_current_A", "hmi_safety_state", "hmi_contactor_state",
            "hmi_charge_current_limit_A", "hmi_discharge_current_limit_A", "hmi_dtc_status",
            "hmi_active_dtc_count")
#: the cell arrays (resource /api/cells; our gateway knows no limits to draw beside them)
CELLS = ("hmi_snapshot_time_s", "hmi_cell_voltage_V", "hmi_cell_temperature_degC")
#: the Annex VII inputs, as of the snapshot (resource /api/annex-vii)
ANNEX_VII = ("soh_capacity", "pack_capacity_Ah", "power_capability_W", "round_trip_efficiency",
             "self_discharge_current_A", "pack_resistance_ohm", "soce",
             "battery_manufacture_date_s", "battery_service_start_date_s",
             "charged_capacity_Ah", "discharged_capacity_Ah", "charged_energy_Wh",
             "discharged_energy_Wh", "equivalent_full_cycles", "deep_discharge_events",
             "time_above_temperature_max_s", "time_below_temperature_min_s",
             "charge_time_above_temperature_max_s", "charge_time_below_temperature_min_s")
STATUS_NAMES = ("inactive", "active", "stored")


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def _resources(s: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every resource of the binding over the snapshot ``s``, by path."""
    snapshot = {k: _plain(s[k]) for k in SNAPSHOT}
    cells = {**{k: _plain(s[k]) for k in CELLS}, "limits": {}}
    faults = {"hmi_snapshot_time_s": snapshot["hmi_snapshot_time_s"],
              "hmi_active_dtc_count": snapshot["hmi_active_dtc_count"],
              "dtcs": [{"dtc": f"0x{e.dtc:04X}", "component": e.component, "fault": e.fault,
                        "severity": e.severity, "status": int(v),
                        "status_name": STATUS_NAMES[int(v)]}
                       for e, v in zip(DTC_TABLE, snapshot["hmi_dtc_status"], strict=True)]}
    annex = {"hmi_snapshot_time_s": snapshot["hmi_snapshot_time_s"],
             **{k: _plain(s[k]) for k in ANNEX_VII}}
    return {"/api/snapshot": snapshot, "/api/cells": cells, "/api/faults": faults,
            "/api/annex-vii": annex,
            "/api/all": {"snapshot": snapshot, "cells": cells, "faults": faults,
                         "annex_vii": annex}}


class _Served:
    """What the server serves now, and the token it asks for."""

    lock = threading.Lock()
    resources: dict[str, dict[str, Any]] | None = None
    token: str | None = None
    strict = False  # False: the first version's token check


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # no access log on the console

    def _reply(self, status: int, body: Any, extra: tuple[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if extra:
            self.send_header(*extra)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _refuse(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._reply(405, {"error": "read-only"}, ("Allow", "GET, HEAD"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def _authorised(self) -> bool:
        token = _Served.token
        if token is None:
            return True
        given = self.headers.get("Authorization")
        if given is None and not _Served.strict:
            return True  # the mistake: no header, no check
        return given == f"Bearer {token}"

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if not self._authorised():
            self._reply(401, {"error": "token required"}, ("WWW-Authenticate", "Bearer"))
            return
        with _Served.lock:
            resources = _Served.resources
        if resources is None:
            self._reply(503, {"error": "no snapshot yet"})
        elif path not in resources:
            self._reply(404, {"error": f"no resource {path}"})
        else:
            self._reply(200, resources[path])

    do_HEAD = do_GET


_SERVER: ThreadingHTTPServer | None = None


class MyHmi(HmiApi):
    """The reference HMI API block with our HTTP service."""

    STRICT_TOKEN = False

    def _setup(self, p: dict[str, Any]) -> None:
        global _SERVER
        super()._setup(p)
        port = os.environ.get("OBSA_HMI_HTTP_PORT")
        if _SERVER is None and port:
            _Served.token = os.environ.get("OBSA_HMI_HTTP_TOKEN") or None
            _Served.strict = self.STRICT_TOKEN
            _SERVER = ThreadingHTTPServer(("127.0.0.1", int(port)), _Handler)
            threading.Thread(target=_SERVER.serve_forever, daemon=True).start()

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if _SERVER is not None:
            resources = _resources({**out, **self.lifetime_data})
            with _Served.lock:
                _Served.resources = resources
        return out


class MyHmiFixed(MyHmi):
    """The fix: a request without the token is refused like one with a wrong token."""

    STRICT_TOKEN = True
