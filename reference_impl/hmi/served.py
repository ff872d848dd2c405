"""The reference HMI API with its HTTP service in the same process: what a BMS or a gateway
runs, and what a manifest with the feature hmi_http names for the component hmi_api.

:class:`ServedHmiApi` is the block :class:`~reference_impl.connectivity.hmi_api.HmiApi`
that, once configured, serves its outputs over HTTP: when the environment names a port
(``OBSA_HMI_HTTP_PORT``; the bench sets it, a deployment may), the first configure() starts
the service (:func:`~reference_impl.hmi.service.create_app` under uvicorn, in a thread) on
loopback at that port, with the token of ``OBSA_HMI_HTTP_TOKEN`` if set. Every step
publishes the outputs and the Annex VII data of the snapshot before it returns, so what the
service serves is never older than what the block serves.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import ASGIApp

from ..connectivity.hmi_api import HmiApi
from .service import DEFAULT_HOST, Feed, create_app

PORT_VARIABLE = "OBSA_HMI_HTTP_PORT"
TOKEN_VARIABLE = "OBSA_HMI_HTTP_TOKEN"


#: builds the application over a feed, with the token (None: no token)
AppFactory = Callable[[Feed, "str | None"], ASGIApp]


class Service:
    """A uvicorn server over a :class:`Feed`, in a daemon thread (one per process)."""

    def __init__(self, port: int, token: str | None, host: str = DEFAULT_HOST,
                 app: AppFactory = create_app) -> None:
        import uvicorn

        self.feed = Feed()
        config = uvicorn.Config(app(self.feed, token), host=host, port=port,
                                log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="obsa-hmi-http",
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10.0
        while not self.server.started and self.thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the HMI service did not start on {host}:{port} "
                                   "within 10 s")
            time.sleep(0.01)
        if not self.server.started:
            raise RuntimeError(f"the HMI service could not listen on {host}:{port} (is the "
                               "port taken?)")


_SERVICE: Service | None = None
_LOCK = threading.Lock()


def service_from_environment(app: AppFactory = create_app) -> Service | None:
    """The process's service (the application ``app`` builds), started on the first call
    when the environment names a port; None when it does not."""
    global _SERVICE
    with _LOCK:
        if _SERVICE is None:
            port = os.environ.get(PORT_VARIABLE)
            if not port:
                return None
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{PORT_VARIABLE}: expected a TCP port (1…65535), found "
                                 f"'{port}'")
            _SERVICE = Service(int(port), os.environ.get(TOKEN_VARIABLE) or None, app=app)
        return _SERVICE


class ServedHmiApi(HmiApi):
    """The reference HMI API, served over HTTP when the environment names a port."""

    def app(self, feed: Feed, token: str | None) -> ASGIApp:
        """The application the service runs (the reference's)."""
        return create_app(feed, token)

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._service = service_from_environment(self.app)

    def publish(self, outputs: Mapping[str, Any]) -> None:
        """Hand the outputs and the Annex VII data of the snapshot to the service."""
        if self._service is not None:
            self._service.feed.publish({**outputs, **self.lifetime_data})

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        self.publish(out)
        return out
