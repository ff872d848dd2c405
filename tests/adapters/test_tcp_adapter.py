"""The TCP transport and ``obsa serve``: the same wire contract over a connection.

A module behind a gateway is reached with ``adapter.type: tcp``; ``obsa serve MANIFEST``
serves a Python module on stdio (usable as a ``process`` command) or on TCP. The gateway
here is a bridge in a thread that starts tests/adapters/wire_module.py per connection:
the same misbehaving modules as over pipes, now behind a socket. Only loopback addresses.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conformance.adapters import AdapterError, open_adapter, transport_class
from conformance.adapters.tcp import TcpAdapter
from conformance.manifest.model import Manifest

from ..wire.gateway import LOOPBACK, Gateway
from .conftest import manifest_with, ref
from .replies import valid_reply

SS = "safety_supervisor"
ROOT = Path(__file__).resolve().parents[2]
WIRE_MODULE = Path(__file__).with_name("wire_module.py")


def _tcp_manifest(port: int, timeout_s: float = 0.5, **options) -> Manifest:
    data = manifest_with({SS: "behind a gateway"}, timeout_s, transport="tcp").model_dump()
    data["adapter"]["options"] = {"host": LOOPBACK, "port": port, **options}
    return Manifest.model_validate(data)


@pytest.fixture
def gateway(request: pytest.FixtureRequest) -> Iterator[Gateway]:
    g = Gateway([sys.executable, str(WIRE_MODULE), request.param])
    yield g
    g.close()


def _serve(manifest: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "conformance", "serve", str(manifest),
                             *args], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _manifest_file(tmp_path: Path, components: dict[str, str], **adapter) -> Path:
    data = manifest_with(components).model_dump()
    data["adapter"].update(adapter)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """``obsa serve`` of the Echo fake on a free loopback port; yields the port."""
    proc = _serve(_manifest_file(tmp_path, {SS: ref("Echo")}), "--tcp", f"{LOOPBACK}:0")
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    try:
        assert found, line + proc.stderr.read() if proc.poll() is not None else line
        yield int(found.group(1))
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------- obsa serve
def test_obsa_serve_on_tcp(served, spec, dims):
    assert transport_class("tcp") is TcpAdapter
    for _ in range(2):  # one session per connection, each with fresh instances
        with open_adapter(_tcp_manifest(served), spec, dims) as adapter:
            assert adapter.hello["module"] == {"vendor": "Test", "name": "fake", "version": "0"}
            adapter.configure(SS, {"x": 1.0})
            adapter.reset(SS)
            reply = valid_reply(adapter._checks[SS])
            assert adapter.step(SS, 0.01, {"reply": reply}) == reply


def test_obsa_serve_on_stdio_is_a_process_command(tmp_path, spec, dims):
    manifest = _manifest_file(tmp_path, {SS: ref("Echo")})
    data = manifest_with({SS: "served"}, 1.0, transport="process").model_dump()
    data["adapter"]["options"] = {
        "command": [sys.executable, "-m", "conformance", "serve", str(manifest)],
        "env": {"PYTHONPATH": str(ROOT)}, "cwd": str(ROOT)}
    with open_adapter(Manifest.model_validate(data), spec, dims) as adapter:
        reply = valid_reply(adapter._checks[SS])
        assert adapter.step(SS, 0.0, {"reply": reply}) == reply
        assert adapter.hello["batch"] is True


def test_obsa_serve_refuses_a_manifest_without_python_classes(tmp_path):
    manifest = _manifest_file(tmp_path, {SS: "x"}, type="process")
    proc = _serve(manifest)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "adapter.type: expected 'python'" in err and "found 'process'" in err


def test_obsa_serve_tcp_address_is_checked(tmp_path):
    proc = _serve(_manifest_file(tmp_path, {SS: ref("Echo")}), "--tcp", "8080")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "expected HOST:PORT, found '8080'" in err


# ---------------------------------------------------------------------------- a gateway
@pytest.mark.parametrize("gateway", ["ok"], indirect=True)
def test_a_module_behind_a_gateway(gateway, spec, dims):
    with open_adapter(_tcp_manifest(gateway.port), spec, dims) as adapter:
        adapter.configure(SS, {})
        adapter.reset(SS)
        assert adapter.step(SS, 0.0, {})["contactor_open_request"] is False


@pytest.mark.parametrize("gateway,message", [
    ("exit", "the connection to 127.0.0.1:{port} was closed during safety_supervisor.step"),
    ("garbage", "broke the wire contract: a line that is not JSON"),
    ("wrong_id", "expected the JSON-RPC 2.0 reply to request"),
], indirect=["gateway"])
def test_a_dropped_or_broken_connection(gateway, spec, dims, message):
    with open_adapter(_tcp_manifest(gateway.port), spec, dims) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {})
        assert message.format(port=gateway.port) in err.value.message
        assert "the adapter is now unusable" in err.value.message
        assert (err.value.component, err.value.call) == (SS, "step")
        with pytest.raises(AdapterError, match="unusable after an earlier failure"):
            adapter.step(SS, 0.01, {})


@pytest.mark.parametrize("gateway", ["stall"], indirect=True)
def test_a_stalled_connection_meets_the_deadline(gateway, spec, dims):
    with open_adapter(_tcp_manifest(gateway.port, timeout_s=0.3), spec, dims) as adapter:
        start = time.perf_counter()
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {})
        assert time.perf_counter() - start < 2.0
    assert ("no reply within the timeout of 0.3 s; the connection to the module was closed "
            "and the adapter is now unusable") in err.value.message


@pytest.mark.parametrize("gateway,message", [
    ("old_protocol", "expected protocol '1.0', found '0.9'"),
    ("no_component", "does not implement safety_supervisor"),
], indirect=["gateway"])
def test_hello_is_checked_over_tcp(gateway, spec, dims, message):
    with pytest.raises(AdapterError) as err:
        open_adapter(_tcp_manifest(gateway.port), spec, dims)
    assert err.value.call == "import" and message in err.value.message


def test_nobody_listening(spec, dims):
    with socket.create_server((LOOPBACK, 0)) as s:
        port = s.getsockname()[1]  # free now, closed below: nobody listens there
    with pytest.raises(AdapterError) as err:
        open_adapter(_tcp_manifest(port, connect_timeout_s=1), spec, dims)
    assert err.value.call == "import" and err.value.field == "adapter.options.port"
    assert f"cannot connect to 127.0.0.1:{port} within 1 s" in err.value.message


@pytest.mark.parametrize("port", [None, 0, 70000, "80"])
def test_the_port_option_is_checked(spec, dims, port):
    data = manifest_with({SS: "x"}, transport="tcp").model_dump()
    data["adapter"]["options"] = {} if port is None else {"port": port}
    with pytest.raises(AdapterError) as err:
        open_adapter(Manifest.model_validate(data), spec, dims)
    assert err.value.field == "adapter.options.port" and "expected adapter.options.port" in \
        err.value.message
