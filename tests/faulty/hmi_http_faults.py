"""Faulty HMI services over HTTP (OBSA-HMI-005 to 009): the reference HMI API and its service
with one realistic defect each, the requirement each breaks, and a correct service written
otherwise that must pass (:class:`StdlibHmi`: the standard library's HTTP server, no event
stream, polling its block)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_impl.connectivity.hmi_api import HmiApi
from reference_impl.hmi.served import PORT_VARIABLE, TOKEN_VARIABLE, ServedHmiApi
from reference_impl.hmi.service import Feed, create_app
from reference_impl.interfaces import DTC_TABLE, ContactorState, DtcStatus, SafetyState

from .modules import Faulty

HMI = "hmi_api"
#: the OpenAPI document generated from the spec (what a vendor's service is written from)
_DOC = json.loads((Path(__file__).resolve().parents[2] / "reference_impl" / "hmi"
                   / "obsa_hmi_openapi.json").read_text(encoding="utf-8"))


class WritableHmi(ServedHmiApi):
    """Lets a service tool correct what the display shows: PUT on a resource merges the
    body's known fields into the data served (until the next step), POST is answered 200
    and ignored. Every GET is the reference's."""

    def app(self, feed: Feed, token: str | None) -> ASGIApp:
        inner = create_app(feed, token)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] not in ("PUT", "POST"):
                await inner(scope, receive, send)
                return
            raw, more = b"", True
            while more:
                message = await receive()
                raw += message.get("body", b"")
                more = bool(message.get("more_body", False))
            if scope["method"] == "PUT":
                try:
                    data = json.loads(raw or b"{}")
                except ValueError:
                    data = {}
                _, signals = feed.latest()
                if signals is not None and isinstance(data, dict):
                    feed.publish({**signals, **{k: v for k, v in data.items()
                                                if k in signals and k != "hmi_snapshot_time_s"}})
            await JSONResponse({"accepted": True})(scope, receive, send)

        return app


class StaleHmi(ServedHmiApi):
    """Hands the block's outputs to its service from a display task on a one-second timer:
    the service serves each snapshot up to a second after the block took it."""

    COPY_EVERY_S = 1.0

    def publish(self, outputs: Mapping[str, Any]) -> None:
        self._pending = {**outputs, **self.lifetime_data}
        if self._service is not None and getattr(self, "_copier", None) is None:
            service = self._service

            def copy() -> None:
                while True:
                    time.sleep(self.COPY_EVERY_S)
                    service.feed.publish(self._pending)

            self._copier = threading.Thread(target=copy, name="stale-hmi", daemon=True)
            self._copier.start()


class NoAnnexHmi(ServedHmiApi):
    """Leaves the Annex VII resource out (404): a service written before the regulation."""

    def app(self, feed: Feed, token: str | None) -> ASGIApp:
        inner = create_app(feed, token)
        annex = {p for p, item in _DOC["paths"].items()
                 if item["get"]["x-obsa-resource"]["inputs"]
                 and not item["get"]["x-obsa-resource"]["includes"]}

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] in annex:
                await JSONResponse({"error": "not found"}, status_code=404)(scope, receive,
                                                                            send)
                return
            await inner(scope, receive, send)

        return app


class RoundedVoltageHmi(ServedHmiApi):
    """Rounds the pack voltage it serves to 0.1 V (a display format applied in the service,
    not in the client): the block's output has 0.01 V resolution."""

    def publish(self, outputs: Mapping[str, Any]) -> None:
        rounded = round(float(outputs["hmi_pack_voltage_V"]), 1)
        super().publish({**outputs, "hmi_pack_voltage_V": rounded})


class OpenAllHmi(ServedHmiApi):
    """Checks the token on every resource but the combined one, which a later release added
    beside the guard: /api/all answers without the token."""

    def app(self, feed: Feed, token: str | None) -> ASGIApp:
        guarded, open_ = create_app(feed, token), create_app(feed, None)
        combined = {p for p, item in _DOC["paths"].items()
                    if item["get"]["x-obsa-resource"]["includes"]
                    and "application/json" in item["get"]["responses"]["200"]["content"]}

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            chosen = open_ if scope["type"] == "http" and scope["path"] in combined else guarded
            await chosen(scope, receive, send)

        return app


# ------------------------------------------------------------------ written otherwise
#: path → what it carries, for the JSON resources (the event stream is left out)
_ROUTES = {path: item["get"]["x-obsa-resource"] for path, item in _DOC["paths"].items()
           if "application/json" in item["get"]["responses"]["200"]["content"]}
_BY_NAME = {x["name"]: x for x in _ROUTES.values()}
_NAMED = {"hmi_safety_state": SafetyState, "hmi_contactor_state": ContactorState}


def _json(value: Any) -> Any:
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def _build(x: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    out = {name: _json(state[name]) for name in (*x["outputs"], *x["inputs"])}
    for name, enum in _NAMED.items():
        if name in out:
            out[f"{name}_name"] = enum(int(out[name])).name.lower()
    if "dtc_rows" in x:
        out["dtcs"] = [{"dtc": f"0x{e.dtc:04X}", "component": e.component, "fault": e.fault,
                        "severity": e.severity, "status": int(s),
                        "status_name": DtcStatus(int(s)).name.lower()}
                       for e, s in zip(DTC_TABLE, state[x["dtc_rows"]], strict=True)]
    if "limits" in x:
        out["limits"] = {}
    for other in x["includes"]:
        out[other] = _build(_BY_NAME[other], state)
    return out


class _State:
    """What the server serves: a copy of the block's latest outputs, refreshed by polling."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: what the block produced last (written by the instance in use at every step)
        self.latest: dict[str, Any] | None = None
        #: what the server serves (the poller's copy of ``latest``)
        self.signals: dict[str, Any] | None = None
        self.token: str | None = None


_STATE = _State()
_STARTED = threading.Lock()
_SERVER: ThreadingHTTPServer | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _send(self, status: int, body: Any, **headers: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _refuse(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._send(405, {"error": "read-only"}, Allow="GET, HEAD")

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def do_GET(self) -> None:
        x = _ROUTES.get(self.path.split("?")[0])
        if x is None:
            self._send(404, {"error": "no such resource"})
            return
        token = _STATE.token
        if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
            self._send(401, {"error": "token required"}, WWW_Authenticate="Bearer")
            return
        with _STATE.lock:
            signals = _STATE.signals
        if signals is None:
            self._send(503, {"error": "no data yet"})
            return
        self._send(200, _build(x, signals))

    do_HEAD = do_GET


class StdlibHmi(HmiApi):
    """A correct HMI service written otherwise: the standard library's threading HTTP server
    instead of Starlette and uvicorn, no event stream (optional in the binding), and a
    thread that polls the block's latest outputs every 20 ms instead of being handed each
    step's."""

    POLL_S = 0.02

    def _setup(self, p: dict[str, Any]) -> None:
        global _SERVER
        super()._setup(p)

        with _STARTED:
            # one server and one poller per process, serving whichever instance was set up
            # last: a test case sets up a new block, and the last one's data go with it
            with _STATE.lock:
                _STATE.latest = _STATE.signals = None
            port = os.environ.get(PORT_VARIABLE)
            if _SERVER is None and port:
                _STATE.token = os.environ.get(TOKEN_VARIABLE) or None
                _SERVER = ThreadingHTTPServer(("127.0.0.1", int(port)), _Handler)
                _SERVER.daemon_threads = True
                threading.Thread(target=_SERVER.serve_forever, daemon=True).start()
                threading.Thread(target=self._poll, daemon=True).start()

    @classmethod
    def _poll(cls) -> None:
        while True:
            with _STATE.lock:
                if _STATE.latest is not None:
                    _STATE.signals = _STATE.latest
            time.sleep(cls.POLL_S)

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        _STATE.latest = {**out, **self.lifetime_data}
        return out


def _f(cls: type, *breaks: str) -> Faulty:
    return Faulty(cls.__name__, HMI, cls, frozenset(breaks))


#: service → the requirements it must fail (and it must fail no other)
HMI_HTTP_CATALOGUE: tuple[Faulty, ...] = (
    _f(WritableHmi, "OBSA-HMI-008"),
    _f(StaleHmi, "OBSA-HMI-005"),
    _f(NoAnnexHmi, "OBSA-HMI-009"),
    _f(RoundedVoltageHmi, "OBSA-HMI-006"),
    _f(OpenAllHmi, "OBSA-HMI-007"),
)
#: correct services unlike the reference's, which must be certified
HMI_HTTP_CORRECT: tuple[Faulty, ...] = (_f(StdlibHmi),)
