"""The bench's HTTP client of a module's HMI API (feature hmi_http).

The manifest's ``hmi_http`` names the service's base URL; ``{port}`` in it is a free
loopback port the bench chooses before the module starts, given to the module in the
environment variable :data:`PORT_VARIABLE` (and the declared token in
:data:`TOKEN_VARIABLE`), as a deployment would configure its service. The client speaks
plain HTTP/1.1 (the standard library's ``http.client``): no framework on either side is
assumed.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: the environment variables the module reads the bench's choices from
PORT_VARIABLE = "OBSA_HMI_HTTP_PORT"
TOKEN_VARIABLE = "OBSA_HMI_HTTP_TOKEN"
#: longest wait for one reply
REQUEST_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Endpoint:
    """The service the bench judges: its base URL (resolved), token and start-up bound."""

    url: str
    token: str | None
    startup_timeout_s: float


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(declared: Any) -> Endpoint | None:
    """The endpoint of the manifest's ``hmi_http`` section (None without one): a ``{port}``
    placeholder filled with a free port, the port and the token put in this process's
    environment, which the module's process inherits."""
    if declared is None:
        return None
    url = str(declared.url).rstrip("/")
    if "{port}" in url:
        port = free_port()
        url = url.replace("{port}", str(port))
        os.environ[PORT_VARIABLE] = str(port)
    if declared.token is not None:
        os.environ[TOKEN_VARIABLE] = str(declared.token)
    else:
        os.environ.pop(TOKEN_VARIABLE, None)
    return Endpoint(url=url, token=declared.token,
                    startup_timeout_s=float(declared.startup_timeout_s))


@dataclass
class Reply:
    """One answer: status (0 when no answer came), the JSON body (None if none or not
    JSON) and what went wrong, if anything."""

    status: int
    body: Any = None
    problem: str = ""


class Client:
    """Requests to one service, over one kept-alive connection (re-opened when it drops)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        parts = urlsplit(endpoint.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self._base = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=REQUEST_TIMEOUT_S)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: Any = None, *,
                token: str | None | bool = True, read_body: bool = True) -> Reply:
        """``method path``; ``token`` True sends the declared token, a string that one,
        False/None none. An event stream (or ``read_body`` False) is read to its status only,
        and the connection dropped."""
        headers = {"Accept": "application/json"}
        sent = self.endpoint.token if token is True else (token or None)
        if sent:
            headers["Authorization"] = f"Bearer {sent}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, self._base + path, body=data, headers=headers)
                resp = conn.getresponse()
                stream = (resp.getheader("Content-Type") or "").startswith("text/event-stream")
                if not read_body or stream:  # an event stream never ends: status only
                    self.close()
                    return Reply(resp.status)
                raw = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 0 and not isinstance(exc, (TimeoutError, ConnectionRefusedError)):
                    continue  # a kept-alive connection the server closed: once more
                return Reply(0, problem=f"{method} {path}: {type(exc).__name__}: {exc}")
            try:
                return Reply(resp.status, json.loads(raw) if raw else None)
            except ValueError:
                return Reply(resp.status, problem=f"{method} {path}: the body is not JSON")
        raise AssertionError("unreachable")

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def wait_up(self, path: str, timeout_s: float) -> str | None:
        """Wait until ``path`` answers at all (any status); None, or why it never did."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while True:
            reply = self.request("GET", path)
            if reply.status:
                return None
            last = reply.problem
            if time.monotonic() > deadline:
                return (f"the HMI service at {self.endpoint.url} did not answer within "
                        f"{timeout_s:g} s ({last})")
            time.sleep(0.05)
