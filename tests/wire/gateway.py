"""A gateway for tests: a module behind TCP, as ``adapter.type: tcp`` reaches it."""

from __future__ import annotations

import socket
import subprocess
import threading

LOOPBACK = "127.0.0.1"


class Gateway:
    """Listens on loopback; each connection is bridged to a new process ``argv`` (its
    stdin and stdout), and closed when that process closes its stdout."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self.children: list[subprocess.Popen[bytes]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            child = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0)
            self.children.append(child)
            threading.Thread(target=self._pump_in, args=(conn, child), daemon=True).start()
            threading.Thread(target=self._pump_out, args=(conn, child), daemon=True).start()

    @staticmethod
    def _pump_in(conn: socket.socket, child: subprocess.Popen[bytes]) -> None:
        assert child.stdin is not None
        try:
            while data := conn.recv(65536):
                child.stdin.write(data)
        except OSError:
            pass
        child.kill()

    @staticmethod
    def _pump_out(conn: socket.socket, child: subprocess.Popen[bytes]) -> None:
        assert child.stdout is not None
        try:
            while data := child.stdout.read(65536):
                conn.sendall(data)
        except OSError:
            pass
        try:
            conn.shutdown(socket.SHUT_RDWR)  # the module is gone: so is the connection
        except OSError:
            pass
        conn.close()

    def close(self) -> None:
        self.listener.close()
        for child in self.children:
            child.kill()
            child.wait()
