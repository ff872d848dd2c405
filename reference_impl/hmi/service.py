"""The read-only HTTP service of the HMI API (Starlette; run it with uvicorn).

A :class:`Feed` holds the latest signals of the BMS (whoever steps it publishes them); the
application serves them as JSON resources (:data:`~reference_impl.hmi.resources.RESOURCES`),
as Server-Sent Events on every new snapshot, and the dashboard page. Every write method is
refused with 405 (OBSA-HMI-004); with a token, every request for data without
``Authorization: Bearer <token>`` (or ``?token=<token>``) is refused with 401.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import resources as R

STATIC = Path(__file__).with_name("static")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_HOST = "127.0.0.1"
#: the page and its script hold no data of the BMS: served without the token (the page then
#: opens the event stream with the token of its own address, ``?token=``)
PUBLIC = frozenset({"/", "/dashboard.js"})


class Feed:
    """The latest signals of the BMS, shared between the thread that steps it and the server.

    ``publish`` keeps a new record when its ``hmi_snapshot_time_s`` differs from the one held
    (a new snapshot) and always keeps the newest record for the cell arrays.
    """

    def __init__(self, limits: Mapping[str, float] | None = None) -> None:
        self.limits = dict(limits or {})
        self._lock = threading.Lock()
        self._signals: dict[str, Any] | None = None
        self.sequence = 0  # count of the snapshots published

    def publish(self, signals: Mapping[str, Any]) -> None:
        with self._lock:
            new = (self._signals is None
                   or signals["hmi_snapshot_time_s"] != self._signals["hmi_snapshot_time_s"])
            self._signals = dict(signals)
            if new:
                self.sequence += 1

    def latest(self) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            return self.sequence, self._signals


class _ReadOnly:
    """Refuses every write method (405) and, with a token, every unauthorised request (401)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["method"] not in READ_METHODS:
                response: Response = JSONResponse(
                    {"error": f"{scope['method']} refused: the HMI API is read-only; "
                              "commands reach the BMS through the vehicle interface"},
                    status_code=405, headers={"Allow": ", ".join(sorted(READ_METHODS))})
                await response(scope, receive, send)
                return
            if self.token is not None and scope["path"] not in PUBLIC:
                given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                expected = f"Bearer {self.token}"
                if not (hmac.compare_digest(given.encode(), expected.encode())
                        or hmac.compare_digest(query.get("token", [""])[0].encode(),
                                               self.token.encode())):
                    response = JSONResponse(
                        {"error": "missing or wrong token: expected the header "
                                  "'Authorization: Bearer <token>'"},
                        status_code=401, headers={"WWW-Authenticate": "Bearer"})
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(feed: Feed, token: str | None = None, poll_s: float = 0.02) -> ASGIApp:
    """The ASGI application over ``feed``: a route per resource of the binding
    (:data:`~reference_impl.hmi.resources.BINDING`); ``poll_s`` how often an event stream
    looks for a new snapshot."""

    def served(name: str) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            _, signals = feed.latest()
            if signals is None:
                return JSONResponse({"error": "no snapshot yet: the BMS has not stepped"},
                                    status_code=503)
            return JSONResponse(R.body(name, signals, feed.limits))
        return endpoint

    def stream_of(res: R.Resource) -> Callable[..., Any]:
        async def events(request: Request) -> Response:
            async def stream() -> AsyncIterator[str]:
                seen = -1
                while not await request.is_disconnected():
                    sequence, signals = feed.latest()
                    if signals is not None and sequence != seen:
                        seen = sequence
                        data = {"sequence": sequence, **{
                            n: R.body(n, signals, feed.limits) for n in res.includes}}
                        yield f"event: snapshot\nid: {sequence}\ndata: {json.dumps(data)}\n\n"
                    await asyncio.sleep(poll_s)
            return StreamingResponse(stream(), media_type=res.media_type,
                                     headers={"Cache-Control": "no-cache"})
        return events

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def script(request: Request) -> Response:
        return FileResponse(STATIC / "dashboard.js", media_type="text/javascript")

    async def listing(request: Request) -> Response:
        return JSONResponse({"resources": R.RESOURCES})

    async def openapi(request: Request) -> Response:
        return FileResponse(R.OPENAPI_PATH, media_type="application/json")

    routes = [Route("/", index), Route("/dashboard.js", script), Route("/api", listing),
              Route("/openapi.json", openapi)]
    for res in R.BINDING.values():
        make = served(res.name) if res.media_type == "application/json" else stream_of(res)
        routes.append(Route(res.path, make))
    return _ReadOnly(Starlette(routes=routes), token)
