"""TCP transport: a module behind a gateway, reached over a TCP connection.

``adapter.type: tcp`` connects to ``adapter.options.host``:``port`` and speaks the same wire
contract as the process transport (:mod:`.wire`): JSON-RPC 2.0, one object per line, in
both directions on the one connection. Everything but the channel is the process
transport's (:class:`~.process.WireAdapter`): the hello check, the batched step, the
per-call deadline kept by the bench, and the verdicts when the module misbehaves. A
dropped connection, a stalled one (no reply by the deadline) or a broken contract ends in
an error naming component and call; the bench closes the connection and every later call
fails at once ("the adapter is now unusable").

The bench cannot stop, limit or hash a module on another machine; what runs behind the
gateway is the gateway's business. ``obsa serve MANIFEST --tcp HOST:PORT`` serves a Python
module this way.

Options (``adapter.options``): ``host`` (default 127.0.0.1), ``port`` (required),
``connect_timeout_s`` (default 5), ``startup_timeout_s`` (the hello's deadline, default 30).
"""

from __future__ import annotations

import socket
from typing import Any

from .base import AdapterError, Call
from .process import WireAdapter

CONNECT_TIMEOUT_S = 5.0


class TcpAdapter(WireAdapter):
    """A module reached over TCP (see the module docstring)."""

    transport = "tcp"
    stopped = "the connection to the module was closed"

    def __init__(self, settings: dict[str, Any], spec: Any, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        super().__init__(settings, spec, components, dimensions)
        self.sock: socket.socket | None = None

    def address(self) -> tuple[str, int]:
        """(host, port) from the options; AdapterError(call='import') when unusable."""
        host = self.options.get("host", "127.0.0.1")
        port = self.options.get("port")
        if not isinstance(host, str) or not host:
            raise AdapterError(f"expected adapter.options.host: a host name or address, found "
                               f"{host!r}", call="import", field="adapter.options.host")
        if type(port) is not int or not 0 < port < 65536:
            raise AdapterError(f"expected adapter.options.port: a TCP port (1-65535), found "
                               f"{port!r}", call="import", field="adapter.options.port")
        return host, port

    def _connect(self) -> None:
        host, port = self.address()
        timeout = float(self.options.get("connect_timeout_s", CONNECT_TIMEOUT_S))
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            why = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
            raise AdapterError(f"cannot connect to {host}:{port} within {timeout:g} s: {why}",
                               call="import", field="adapter.options.port") from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a line is a message
        self._fd_in = self._fd_out = self.sock.fileno()

    def _halt(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()  # the gateway's signal that this session is over

    def _lost(self, component: str | None, call: Call) -> tuple[str, str]:
        host, port = self.address()
        return (f"the connection to {host}:{port} was closed during "
                f"{self._doing(component, call)}", "")
