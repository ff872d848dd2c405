"""A real Mosquitto broker for the gateway's and the collector's tests, started on a free
port of the loopback interface in a temporary directory (persistence on, so that a restart
keeps the collector's session and what is queued for it); skipped, saying why, where the
Debian package mosquitto is not installed."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"


def _mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto",) if Path(p).is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class Mosquitto:
    """One broker on ``LOOPBACK``:``port``; stop and start it again on the same port."""

    def __init__(self, exe: str, directory: Path, extra: str = "") -> None:
        self.exe = exe
        self.port = free_port()
        self.directory = directory
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} {LOOPBACK}\n"
            # run as root, mosquitto would become the user mosquitto and lose the directory
            f"user {getpass.getuser()}\n"
            f"persistence true\npersistence_location {directory}/\n"
            f"log_dest file {directory}/mosquitto.log\n"
            + (extra or "allow_anonymous true\n"), encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err}")
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {LOOPBACK}:{self.port} within 10 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    exe = _mosquitto()
    if exe is None:
        pytest.skip("the Debian package mosquitto is not installed (apt-get install mosquitto; "
                    ".ci/run installs it)")
    broker = Mosquitto(exe, tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it (openssl):
    (CA certificate, server certificate, server key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate for the TLS broker")
    ca_key, ca = directory / "ca.key", directory / "ca.crt"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName=IP:{LOOPBACK}\n", encoding="utf-8")
    for args in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
         str(ca), "-days", "2", "-subj", "/CN=OBSA test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", f"/CN={LOOPBACK}"],
        ["x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext)],
    ):
        subprocess.run([openssl, *args], check=True, capture_output=True)
    return ca, crt, key


class Postgres:
    """A PostgreSQL server of the Debian package in a temporary directory, listening on a
    free port of the loopback interface only (run as the user postgres when root, as
    initdb requires)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.directory = Path(tempfile.mkdtemp(prefix="obsa-pg-"))
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.directory / "data"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "obsa", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.directory / "log"),
                  "-o", f"-c listen_addresses={LOOPBACK} -p {self.port} "
                        f"-k {self.directory} -c fsync=off", "start")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bindir / tool), *args], check=True,
                       capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgresql://obsa@{LOOPBACK}:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        pytest.skip("the Debian package postgresql is not installed (apt-get install "
                    "postgresql)")
    pytest.importorskip("psycopg", reason="PostgreSQL needs the package psycopg "
                                          "(pip install 'psycopg[binary]')")
    server = Postgres(bins[-1].parent)
    try:
        yield server
    finally:
        server.stop()


class Proxy:
    """A TCP relay on a free loopback port to ``LOOPBACK``:``target``, which can cut every
    connection at once (as a NAT or a cellular modem does) or stall them (hold the bytes
    for a while, then go on)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.server = socket.create_server((LOOPBACK, 0))
        self.port = int(self.server.getsockname()[1])
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._go = threading.Event()
        self._go.set()
        self.cuts = 0  # cuts that closed a connection
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((LOOPBACK, self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._go.wait()
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Close every connection now, without a word to either end."""
        with self._lock:
            opened, self._open = self._open, []
        self.cuts += bool(opened)
        for s in opened:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()  # a reset
            except OSError:
                pass

    def stall(self, seconds: float) -> None:
        """Hold every byte for ``seconds``, then deliver them in order."""
        self._go.clear()
        time.sleep(seconds)
        self._go.set()

    def close(self) -> None:
        self.server.close()
        self.cut()
