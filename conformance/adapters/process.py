"""Process transport: the module runs in a child process and speaks the wire contract.

``adapter.type: process`` starts ``adapter.options.command`` (an argv list, or a string
split like a shell would) — a C program, a Rust binary, anything that reads JSON-RPC 2.0
requests on stdin and writes one reply per line on stdout (:mod:`.wire`, the vendor
guide). ``adapter.type: python`` is the same transport with the command filled in: the
generic component server (:mod:`.serve`) loading the manifest's classes. The client side
of the contract that does not depend on the channel — hello, calls, the batched step, the
series of steps in one message, the deadline, every way of breaking the contract — is
:class:`WireAdapter`, which the TCP transport (:mod:`.tcp`) shares.

What the bench guarantees, whatever the module does:

- Watchdog: every call has a deadline (``adapter.timeout_s``; start-up, i.e. launching,
  importing and creating the components, has ``options.startup_timeout_s``; an
  ``obsa.step_series`` of n steps n × ``timeout_s``, see :data:`SERIES_WAIT_S`). The parent
  waits with ``poll``; the module cannot disarm it. A missed deadline kills the child.
- The child runs in its own session and process group, and its environment carries a
  mark of this adapter (``OBSA_MODULE_RUN``) that its descendants inherit; closing the
  adapter kills the whole group, any process still in the session and any process that
  carries the mark: no thread, child or grandchild of the module outlives the run, not even
  one that started a session of its own (a daemon, ``setsid``). Only a process that also
  strips the mark from its environment escapes; that needs intent, not a bug.
- The child gets copies of its inputs by construction; its stdout is the protocol channel
  (anything else on it is a protocol error), its stderr is captured, bounded.
- After the child died, hung or broke the protocol, its state is unknown: the adapter is
  marked broken and every later call fails fast with the reason. ``obsa certify`` also
  routes a stop signal sent by a process of the module's session here
  (:func:`blame_sender`): the module's error, not a stop of the run.

Power loss (:meth:`~.base.Adapter.power_cycle`): the child's whole session is killed with
SIGKILL, as above, and a new child is started with the same command and environment and
greeted anew (``obsa.hello``, within ``startup_timeout_s``). Its environment names the
module's non-volatile store in ``OBSA_NVM_DIR`` (:attr:`~.base.Adapter.nvm_dir`: the same
directory for every child of the run, deleted when the adapter closes). The stderr of the
children so far is kept, a line marking each power cycle.

Options (``adapter.options``): ``command`` (process only), ``cwd``, ``env`` (added to
the environment), ``startup_timeout_s`` (default 30), ``memory_limit_MB`` (address space
of a Python child, default 4096).
"""

from __future__ import annotations

import math
import os
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..frozen import frozen
from . import wire
from .base import NVM_VARIABLE, Adapter, AdapterError, Call, as_columns
from .spin import Reader
from .validation import RecordCheck

STARTUP_TIMEOUT_S = 30.0
IN_FLIGHT_BYTES = 32 * 1024
"""The most request bytes a series of steps has outstanding: half a Linux pipe's (64 KiB), so
that the bench never blocks writing while the module blocks writing its replies."""
NO_LIMIT_S = 600.0
"""A ``timeout_s`` of null still has a watchdog: the manifest's longest allowed value."""
SERIES_WAIT_S = NO_LIMIT_S
"""The longest the bench waits for the reply to one ``obsa.step_series``. Each of its steps
has the whole per-call timeout, as it would one call at a time (a module as slow as its
manifest allows passes either way), so a series of n steps has n × ``timeout_s``; it is cut
into messages of at most ``SERIES_WAIT_S / timeout_s`` steps, so that a hung module is
caught no later than after the longest call a manifest may allow (:data:`NO_LIMIT_S`). A
``timeout_s`` of null leaves one step per message."""
SERIES_MAX_STEPS = 500
"""The most steps of one ``obsa.step_series`` message: past a few hundred the round trip's
share of a step is negligible, and a larger message only holds more memory at both ends."""
SERIES_MAX_BYTES = 4 * 1024 * 1024
"""The longest ``obsa.step_series`` request the bench writes (a quarter of
:data:`~.wire.MAX_LINE_BYTES`): a series of larger steps goes in fewer steps per message."""
PIPE_BYTES = 1024 * 1024
"""The capacity asked for each protocol pipe (Linux's default limit for a user; best
effort, the system's 64 KiB otherwise): a series' request or reply of up to a MiB passes in
one write, not in one per 64 KiB with a wake-up of the other end for each (measured: a
soc_estimator reply of 500 steps spent 8 ms in those writes)."""
STDERR_KEEP_BYTES = 64 * 1024
CLOSE_GRACE_S = 0.5


class ModuleError(AdapterError):
    """The module reported that its code failed (JSON-RPC error -32000); for ``obsa.step``,
    ``outputs`` holds the replies of the components stepped before the failing one; for
    ``obsa.step_series``, ``step`` is the index of the failing step in the message and
    ``earlier`` the replies of the steps before it."""

    outputs: dict[str, Any] = {}
    earlier: list[Any] = []
    step: int | None = None


_SESSIONS: dict[int, ProcessAdapter] = {}
"""Open adapters by the session id of their child (its pid): to recognise the module's
processes, e.g. as the sender of a signal to the bench."""


def session_of(pid: int) -> int | None:
    """The session id of process ``pid`` (Linux /proc), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return int(fields[3]) if len(fields) > 3 else None


def blame_sender(pid: int, what: str) -> bool:
    """If process ``pid`` belongs to a module under test, fail that module's adapter for
    sending ``what`` to the bench and return True."""
    if pid <= 0:
        return False
    adapter = _SESSIONS.get(session_of(pid) or -1) or _SESSIONS.get(pid)
    if adapter is None:
        return False
    adapter._fail(f"the module sent {what} to the bench")
    return True


class StderrTail:
    """Drains the child's stderr in a thread and keeps only its last bytes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.chunks: deque[bytes] = deque()
        self.kept = 0
        self.total = 0
        self.thread = threading.Thread(target=self._drain, name="obsa-stderr", daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.total += len(chunk)
            self.chunks.append(chunk)
            self.kept += len(chunk)
            while self.kept > STDERR_KEEP_BYTES and len(self.chunks) > 1:
                self.kept -= len(self.chunks.popleft())

    def text(self) -> str:
        return b"".join(self.chunks)[-STDERR_KEEP_BYTES:].decode("utf-8", "replace")

    def settle(self, timeout_s: float = 0.5) -> None:
        """Wait until everything the child wrote before it ended has been read (the end of
        its stderr), at most ``timeout_s``: a process of the module that outlives it may
        keep the pipe open."""
        self.thread.join(timeout_s)

    def last_line(self, limit: int = 200) -> str:
        lines = [ln.strip() for ln in self.text().splitlines() if ln.strip()]
        if not lines:
            return ""
        line = lines[-1]
        return line if len(line) <= limit else line[:limit - 3] + "..."


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


MARK_VARIABLE = "OBSA_MODULE_RUN"
"""The environment variable that marks every process of one adapter's module."""


def kill_session(sid: int | None, mark: str | None = None,
                 variable: str = MARK_VARIABLE) -> None:
    """SIGKILL the process group ``sid``, every process left in session ``sid`` and, with
    ``mark``, every process whose environment holds ``<variable>=<mark>`` (by default
    ``OBSA_MODULE_RUN``, one adapter's module). ``sid`` None: the marked processes only."""
    if sid is not None:
        try:
            os.killpg(sid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc = Path("/proc")
    if not proc.is_dir():
        return
    tag = f"{variable}={mark}".encode() if mark else None
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        ours = sid is not None and len(fields) > 3 and fields[3] == str(sid)  # stat field 6
        if not ours and tag is not None:
            try:
                ours = tag in (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                ours = False
        if ours:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class _SeriesMessage:
    """One ``obsa.step_series`` request of a series: its id, its steps (``start`` to
    ``stop`` − 1), its bytes, and once sent the deadline of its reply."""

    __slots__ = ("id", "start", "stop", "data", "deadline")

    def __init__(self, id_: int, start: int, stop: int, data: bytes) -> None:
        self.id, self.start, self.stop, self.data = id_, start, stop, data
        self.deadline = math.inf


class WireAdapter(Adapter):
    """A module reached over the wire contract on a byte channel: requests, replies, the
    watchdog, the batched step and every way a module can break the contract.

    A transport opens the channel in :meth:`_connect` (setting ``_fd_in`` and ``_fd_out``,
    the same descriptor for a socket), stops the module in :meth:`_halt`, and explains a
    closed channel in :meth:`_lost`; :attr:`stopped` says, in the messages, what was done
    to the module when it failed.
    """

    transport = "wire"
    stopped = "the module's process was killed"
    #: the messages of a series overlap the module's work (:meth:`_series_parts`)
    overlap_series = True

    def __init__(self, settings: dict[str, Any], spec: Any, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        super().__init__(settings, spec, components, dimensions)
        self.options: dict[str, Any] = dict(self.settings.get("options") or {})
        self.call_timeout_s = self.timeout_s if self.timeout_s is not None else NO_LIMIT_S
        self.startup_timeout_s = max(float(self.options.get("startup_timeout_s",
                                                            STARTUP_TIMEOUT_S)),
                                     self.call_timeout_s)
        self.hello: dict[str, Any] = {}
        self._buf = bytearray()
        self._id = 0
        self._fd_in = -1
        self._fd_out = -1
        self._reader: Reader | None = None
        self._poll_out: Any = None
        self._batch = False
        self._series = False  # the module offers obsa.step_series
        self._packed = False  # ... and takes and gives its columns as packed arrays
        self._sent: dict[str, Any] = {}  # the child's signal pool, as last sent/received
        self._encoded: dict[str, tuple[Any, Any]] = {}  # input -> (array, its encoding)
        # the last valid obsa.step reply: components, its bytes after the id, its outputs
        self._last: tuple[list[str], bytes, tuple[dict[str, Any], ...]] | None = None
        self._types = {c: {p.signal: wire.signal_type(spec.signals[p.signal].type,
                                                      spec.signals[p.signal].dimension)
                           for p in spec.interfaces[c].inputs} for c in self.components}
        self._inputs = {c: tuple(t) for c, t in self._types.items()}
        self._arrays = {c: tuple(n for n, type_ in t.items() if type_.endswith("[]"))
                        for c, t in self._types.items()}

    # ---- what a transport writes ------------------------------------------------------
    def _connect(self) -> None:
        """Open the channel: set ``_fd_in`` (requests) and ``_fd_out`` (replies)."""
        raise NotImplementedError

    def _halt(self) -> None:
        """Stop the module after a failure (kill it, drop the connection)."""

    def _lost(self, component: str | None, call: Call) -> tuple[str, str]:
        """Why the channel closed: (the reason, a detail such as the module's last words)."""
        return f"the module closed its protocol channel during {self._doing(component, call)}", ""

    # ---- life cycle ---------------------------------------------------------------
    def _open(self) -> None:
        self._connect()
        self._reader = Reader(self._fd_out)
        self._poll_out = select.poll()
        self._poll_out.register(self._fd_in, select.POLLOUT | select.POLLERR)
        os.set_blocking(self._fd_in, False)
        params = {
            "protocol": wire.PROTOCOL,
            "spec_version": self.spec.version,
            "components": {c: {"inputs": self._types[c]} for c in self.components},
        }
        hello = self._call("obsa.hello", params, None, "import", self.startup_timeout_s)
        self.hello = self._check_hello(hello)
        self._batch = bool(self.hello.get("batch"))
        self._series = self.hello.get("series") is True
        self._packed = self._series and self.hello.get("packed") is True

    def _check_hello(self, hello: Any) -> dict[str, Any]:
        def bad(message: str, field: str | None = None) -> AdapterError:
            self._fail(f"obsa.hello: {message}")
            return AdapterError(f"obsa.hello: {message}", call="import", field=field)

        if not isinstance(hello, dict):
            raise bad(f"expected an object, found {type(hello).__name__}")
        if hello.get("protocol") != wire.PROTOCOL:
            raise bad(f"expected protocol '{wire.PROTOCOL}', found {hello.get('protocol')!r}")
        shape = wire.problem(hello, "response", "hello_result")
        if shape is not None:
            raise bad(f"the reply does not match schemas/wire/response.schema.json "
                      f"(hello_result): {shape}")
        offered = hello["components"]
        missing = [c for c in self.components if c not in offered]
        if missing:
            raise bad(f"the module does not implement {', '.join(missing)} "
                      f"(it offers {', '.join(map(str, offered)) or 'none'})", "components")
        expected = self.settings.get("module") or {}
        for key in ("vendor", "name", "version"):
            if key in expected and hello["module"].get(key) != expected[key]:
                raise bad(f"module {key}: the manifest declares {expected[key]!r}, the module "
                          f"says {hello['module'].get(key)!r}", f"module.{key}")
        declared = self.settings.get("spec_version")
        if declared and hello.get("spec_version") != declared:
            raise bad(f"expected spec version {declared} (the manifest's), found "
                      f"{hello.get('spec_version')!r}", "spec_version")
        return hello

    # ---- calls ---------------------------------------------------------------------
    def _configure(self, component: str, parameters: dict[str, Any]) -> None:
        self._call(f"{component}.configure", {"parameters": parameters}, component,
                   "configure", self.call_timeout_s)

    def _reset(self, component: str) -> None:
        self._sent.clear()  # a new run: send every input again
        self._call(f"{component}.reset", {}, component, "reset", self.call_timeout_s)

    def _step(self, component: str, t: float, inputs: dict[str, Any]) -> Any:
        self._sent.clear()  # the child's pool is not involved, but keep the cache honest
        return self._call(f"{component}.step", self._step_params(component, t, inputs),
                          component, "step", self.call_timeout_s)

    def _step_params(self, component: str, t: float, inputs: dict[str, Any]
                     ) -> dict[str, Any]:
        """The params of ``<component>.step``: a read-only array the bench sent before is
        written as it was encoded then."""
        cache = self._encoded
        sent = inputs.copy()
        for name in self._arrays[component]:
            value = sent.get(name)
            hit = cache.get(name)
            if hit is not None and hit[0] is value:
                sent[name] = hit[1]
            elif type(value) is np.ndarray and _immutable(value):
                sent[name] = fragment = wire.encoded(value)
                cache[name] = (value, fragment)
        return {"t": t, "inputs": sent}

    def step_series(self, component: str, times: Sequence[float],
                    inputs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """As :meth:`Adapter.step_series`, pipelined: the next requests are written before
        the reply to the first is in (JSON-RPC 2.0 lets a client have several requests
        outstanding; the module reads and answers them one after the other, as always), so
        the module computes while the bench encodes and checks. Requests in flight are kept
        under :data:`IN_FLIGHT_BYTES`, so that neither end ever blocks on a full pipe. Each
        reply has ``timeout_s`` from the moment the bench starts waiting for it (the
        previous reply read); a reply is checked like :meth:`step`'s. When a call fails,
        the replies still owed are read and dropped, so the channel stays in step."""
        self._ready(component, "step")
        self._sent.clear()
        method, timeout = f"{component}.step", self.call_timeout_s
        check = self._checks[component]
        replies: list[dict[str, Any]] = []
        owed: deque[tuple[int, int]] = deque()  # (request id, its size in bytes)
        items = iter(zip(times, inputs, strict=True))
        in_flight = 0
        waiting: bytes | None = None  # encoded, not sent: no room yet
        try:
            while True:
                while True:  # write while the requests in flight leave room
                    if waiting is None:
                        item = next(items, None)
                        if item is None:
                            break
                        self._id += 1
                        waiting = wire.encode(wire.request(self._id, method, self._step_params(
                            component, float(item[0]), item[1])))
                    if owed and in_flight + len(waiting) > IN_FLIGHT_BYTES:
                        break
                    self._send(waiting, time.monotonic() + timeout, component, "step", timeout)
                    owed.append((self._id, len(waiting)))
                    in_flight += len(waiting)
                    waiting = None
                if not owed:
                    return replies
                id_, size = owed.popleft()
                in_flight -= size
                line = self._read_line(time.monotonic() + timeout, component, "step", timeout)
                reply = self._result(id_, line, component, "step")
                check(reply)
                replies.append(reply)
        except AdapterError as exc:
            self._settle(owed, component)
            at = len(replies)  # the step whose reply was awaited
            if at < len(times):
                _name_step(exc, at, float(times[at]))
            raise
        except Exception as exc:  # as in step(): a transport bug is no crash of the suite
            self._settle(owed, component)
            raise AdapterError(f"transport failed: {type(exc).__name__}: {exc}",
                               component=component, call="step") from exc

    def step_columns(self, component: str, times: Sequence[float],
                     inputs: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
        """As :meth:`Adapter.step_columns`; to a module that offers ``obsa.step_series`` (its
        hello says ``"series": true``) many steps per message: the times and every input as
        columns (a numpy array's rows written as one JSON array of arrays), the reply a list
        of the outputs of each step. Each reply is checked like :meth:`step`'s, and a fault
        is reported at its step with its time. A message of n steps has n × ``timeout_s``
        (:data:`SERIES_WAIT_S`) and at most :data:`SERIES_MAX_STEPS` steps and
        :data:`SERIES_MAX_BYTES`. To a module whose hello also says ``"packed": true`` the
        times, the inputs and the outputs travel as packed arrays (:func:`.wire.pack`: no
        number written as text), each value checked as strictly
        (:meth:`.RecordCheck.columns`); the records returned then hold an array output's
        value as a row of a read-only array. Other modules get :meth:`step_series` (one
        call per step, pipelined)."""
        if not self._series:
            return super().step_columns(component, times, inputs)
        rows: list[dict[str, Any]] = []
        for part in self._series_parts(component, times, inputs):
            rows.extend(_records(part) if isinstance(part, dict) else part)
        return rows

    def step_outputs(self, component: str, times: Sequence[float],
                     inputs: Mapping[str, Sequence[Any]]) -> dict[str, np.ndarray]:
        """As :meth:`Adapter.step_outputs`; the outputs of a packed series go from their
        checked packed arrays to the columns without a record per step."""
        if not self._series:
            return super().step_outputs(component, times, inputs)
        parts = [{name: np.asarray(values, dtype=float) for name, values in part.items()}
                 if isinstance(part, dict) else as_columns(part)
                 for part in self._series_parts(component, times, inputs)]
        if not parts:
            return {}
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    def _series_parts(self, component: str, times: Sequence[float],
                      inputs: Mapping[str, Sequence[Any]]
                      ) -> list[dict[str, np.ndarray] | list[dict[str, Any]]]:
        """The checked outputs of the steps of a series, one item per ``obsa.step_series``
        message: the records of its steps, or (packed) output → its checked array.

        The messages overlap the module's work: the next one is encoded while the module
        steps the one before, and sent as soon as that one's reply is in, before the reply
        is decoded and checked. A reply that fails (a module error, an invalid output) thus
        finds the next message on its way: its reply is read and dropped before the error
        is raised, so the next call reads its own (:meth:`_drain`). With
        :attr:`overlap_series` false (benchmarks/replay.py's anchor) each message is sent
        once the reply before it is checked."""
        self._ready(component, "step")
        self._sent.clear()
        check = self._checks[component]
        n = len(times)
        replies: list[dict[str, np.ndarray] | list[dict[str, Any]]] = []
        size = [max(1, min(SERIES_MAX_STEPS, int(SERIES_WAIT_S / self.call_timeout_s
                                                   + 1e-9)))]
        try:
            for name, column in inputs.items():
                if len(column) != n:
                    raise ValueError(f"input '{name}' has {len(column)} values for {n} times")
            sent = (self._series_send(self._series_message(component, times, inputs, 0, size),
                                      component, times) if n else None)
            while sent is not None:
                try:
                    following = (self._series_message(component, times, inputs, sent.stop,
                                                      size) if sent.stop < n else None)
                except Exception:
                    self._drain(sent, component)
                    raise
                line = self._series_line(sent, component, times)
                current, sent = sent, None
                if following is not None and self.overlap_series:
                    sent = self._series_send(following, component, times)
                try:
                    replies.append(self._series_result(current, line, component, times,
                                                       check))
                except AdapterError:
                    if sent is not None:
                        self._drain(sent, component)
                    raise
                if following is not None and sent is None:
                    sent = self._series_send(following, component, times)
        except AdapterError:
            raise
        except Exception as exc:  # as in step(): a transport bug is no crash of the suite
            raise AdapterError(f"transport failed: {type(exc).__name__}: {exc}",
                               component=component, call="step") from exc
        return replies

    def _series_message(self, component: str, times: Sequence[float],
                        inputs: Mapping[str, Sequence[Any]], start: int, size: list[int]
                        ) -> _SeriesMessage:
        """The next ``obsa.step_series`` request, from step ``start``: ``size[0]`` steps, or
        fewer (halved, for this and later messages: ``size`` is updated) while its encoding
        is longer than :data:`SERIES_MAX_BYTES`."""
        n = len(times)
        while True:
            stop = min(n, start + size[0])
            data = wire.encode(wire.request(self._id + 1, "obsa.step_series",
                                            self._series_params(component, times, inputs,
                                                                start, stop)))
            if len(data) <= SERIES_MAX_BYTES or stop - start <= 1:
                return _SeriesMessage(self._id + 1, start, stop, data)
            size[0] = max(1, (stop - start) // 2)

    def _series_send(self, message: _SeriesMessage, component: str, times: Sequence[float]
                     ) -> _SeriesMessage:
        """Send ``message`` (built for the next request id); it is then in flight, its
        deadline set."""
        timeout = (message.stop - message.start) * self.call_timeout_s
        message.deadline = time.monotonic() + timeout
        self._id += 1
        assert message.id == self._id, "a series message was built for another request"
        try:
            self._send(message.data, message.deadline, component, "step", timeout)
        except AdapterError as exc:
            _name_steps(exc, message.start, message.stop, times)
            raise
        return message

    def _series_line(self, message: _SeriesMessage, component: str, times: Sequence[float]
                     ) -> bytes:
        """The reply line of ``message`` (in flight); no reply, died: named at its steps."""
        count = message.stop - message.start
        if self._reader is not None and count > 1:
            # many steps: their reply takes far longer than a spin, awaited asleep
            self._reader.paused += 1
        try:
            return self._read_line(message.deadline, component, "step",
                                   count * self.call_timeout_s, count * wire.MAX_LINE_BYTES)
        except AdapterError as exc:
            _name_steps(exc, message.start, message.stop, times)
            raise

    def _drain(self, message: _SeriesMessage, component: str) -> None:
        """After a failed reply of a series: read and drop the reply of ``message``, sent
        already, so that the next call reads its own; if it does not come, the channel is
        out of step and the adapter unusable."""
        if self._broken is not None:
            return
        try:
            self._read_line(message.deadline, component, "step",
                            (message.stop - message.start) * self.call_timeout_s,
                            (message.stop - message.start) * wire.MAX_LINE_BYTES)
        except AdapterError:
            pass  # the adapter marked itself broken (no reply, or the module died)

    def _series_params(self, component: str, times: Sequence[float],
                       inputs: Mapping[str, Sequence[Any]], start: int, stop: int
                       ) -> dict[str, Any]:
        """The params of the ``obsa.step_series`` of steps ``start`` to ``stop`` − 1: packed
        when the module takes that and every column packs (numbers, bools), else plain."""
        if self._packed:
            try:
                return {"component": component, "encoding": "packed",
                        "t": wire.pack(np.asarray(times[start:stop], dtype=float)),
                        "inputs": {name: wire.pack(column[start:stop])
                                   for name, column in inputs.items()}}
            except wire.PackedError:  # a column that is no array of numbers: as text
                pass
        return {"component": component, "t": times[start:stop],
                "inputs": {name: column[start:stop] for name, column in inputs.items()}}

    def _series_result(self, message: _SeriesMessage, line: bytes, component: str,
                       times: Sequence[float], check: RecordCheck
                       ) -> dict[str, np.ndarray] | list[dict[str, Any]]:
        """The outputs of the steps of ``message`` (steps ``start`` to ``stop`` − 1 of the
        series) from its reply ``line``, each step's checked (all at once where that proves
        them valid: :meth:`.RecordCheck.all_valid`): the records of the steps, or from packed
        outputs the checked arrays (output → its values, a row per step)."""
        start, stop = message.start, message.stop
        count = stop - start
        try:
            result = self._result(message.id, line, component, "step")
        except ModuleError as exc:
            at = exc.step if type(exc.step) is int and 0 <= exc.step < count else None
            # an invalid reply before the failing step is the fault to report (the failing
            # step may only have choked on the state it left)
            for j, reply in enumerate(exc.earlier[:at] if at is not None else ()):
                try:
                    check(reply)
                except AdapterError as bad:
                    _name_step(bad, start + j, float(times[start + j]))
                    raise bad from None
            if at is not None:
                _name_step(exc, start + at, float(times[start + at]))
            else:
                _name_steps(exc, start, stop, times)
            raise
        except AdapterError as exc:  # no reply, died, not JSON: somewhere in this message
            _name_steps(exc, start, stop, times)
            raise
        if type(result) is dict and self._packed:  # packed arrays, one per output
            return self._packed_columns(result, component, times, start, stop, check)
        if type(result) is not list or len(result) != count:
            found = f"a list of {len(result)}" if type(result) is list else \
                f"{type(result).__name__}"
            broken = self._protocol(component, "step", f"obsa.step_series: expected a list "
                                    f"of {count} outputs records (one per step), found {found}")
            _name_steps(broken, start, stop, times)
            raise broken
        if not check.all_valid(result):  # not all certainly valid: the first invalid one
            for j, reply in enumerate(result):
                try:
                    check(reply)
                except AdapterError as bad:
                    _name_step(bad, start + j, float(times[start + j]))
                    raise
        return result

    def _packed_columns(self, result: dict[str, Any], component: str, times: Sequence[float],
                        start: int, stop: int, check: RecordCheck) -> dict[str, np.ndarray]:
        """The outputs of steps ``start`` to ``stop`` − 1 from their packed arrays (output →
        its read-only array, a row per step), once every value is valid; else the error of
        the first invalid step (at its index and time) or of the malformed message (at its
        steps)."""
        columns, at, problem = check.columns(result, stop - start)
        if columns is None:
            field, message = problem or (None, "invalid outputs")
            bad = AdapterError(message, component=component, call="step", field=field)
            if at is None:
                _name_steps(bad, start, stop, times)
            else:
                _name_step(bad, start + at, float(times[start + at]))
            raise bad
        return columns

    def _settle(self, owed: deque[tuple[int, int]], component: str) -> None:
        """After a failed call of a series: read and drop the replies still owed, so the next
        call reads its own; if they do not come, the channel is out of step — unusable."""
        if self._broken is not None:
            return
        try:
            for _ in owed:
                self._read_line(time.monotonic() + self.call_timeout_s, component, "step",
                                self.call_timeout_s)
        except AdapterError:
            pass  # the adapter marked itself broken (no reply, or the module died)

    def step_chain(self, t: float, components: list[str], pool: dict[str, Any]) -> None:
        """Step ``components`` in order at ``t`` with inputs from ``pool``, and write their
        validated outputs into ``pool`` — one round trip when the module offers ``obsa.step``.

        Only inputs that changed since the child last saw them are sent: arrays the bench
        made read-only are compared by identity, other values always travel.
        """
        if not self._batch:
            Adapter.step_chain(self, t, components, pool)
            return
        for c in components:
            if self._broken is not None or not self._is_open or c not in self._checks:
                self._ready(c, "step")
        sent = self._sent
        changed: dict[str, Any] = {}
        for c in components:
            for name in self._inputs[c]:
                if name in changed:
                    continue
                value = pool[name]
                if sent.get(name, sent) is value:
                    continue
                changed[name] = value
                if _immutable(value):
                    sent[name] = value
                else:
                    sent.pop(name, None)
        self._sent = {}  # until the reply is in, the child's pool is unknown
        same = self._last
        id_, line = self._exchange("obsa.step", {"t": t, "components": components,
                                                 "inputs": changed},
                                   components[0], "step", self.call_timeout_s)
        # the same bytes as the last valid reply (after this request's own head) decode to
        # the same values of the same types: valid again, and its decoded outputs serve
        head = b'{"jsonrpc":"2.0","id":%d,"result":' % id_
        if (same is not None and line.startswith(head) and same[0] == components
                and line[len(head):] == same[1]):
            for valid in same[2]:
                pool.update(valid)
            self._sent = sent
            return
        try:
            reply = self._result(id_, line, components[0], "step")
        except ModuleError as exc:
            # a component failed: an invalid reply of an earlier one is the real fault
            for c in components:
                if c == exc.component or c not in exc.outputs:
                    break
                self._checks[c](exc.outputs[c])
            raise
        if type(reply) is not dict:
            raise AdapterError(f"obsa.step: expected an object of outputs per component, "
                               f"found {type(reply).__name__}", component=components[0],
                               call="step")
        for c in components:
            outputs: Any = reply.get(c)  # checked next: a dict of valid outputs
            self._checks[c](outputs)
            pool.update(outputs)
            for name, value in outputs.items():
                if type(value) in _SCALARS:
                    sent[name] = value
        self._sent = sent
        if line.startswith(head):
            self._last = (list(components), line[len(head):],
                          tuple(reply[c] for c in components))

    # ---- the channel ---------------------------------------------------------------
    def _call(self, method: str, params: Any, component: str | None, call: Call,
              timeout_s: float) -> Any:
        id_, line = self._exchange(method, params, component, call, timeout_s)
        return self._result(id_, line, component, call)

    def _exchange(self, method: str, params: Any, component: str | None, call: Call,
                  timeout_s: float) -> tuple[int, bytes]:
        """Send one request; its id and the line that came back (within ``timeout_s``)."""
        self._id += 1
        id_ = self._id
        deadline = time.monotonic() + timeout_s
        self._send(wire.encode(wire.request(id_, method, params)), deadline, component, call,
                   timeout_s)
        return id_, self._read_line(deadline, component, call, timeout_s)

    def _result(self, id_: int, line: bytes, component: str | None, call: Call) -> Any:
        """The result of reply ``line`` to request ``id_``; raise for an error or a line
        that breaks the contract."""
        try:
            msg = wire.decode(line)
        except wire.DecodeError:
            raise self._protocol(component, call,
                                 f"a line that is not JSON: {_clip(line)}") from None
        if type(msg) is not dict or msg.get("id") != id_ or msg.get("jsonrpc") != "2.0":
            raise self._protocol(component, call, f"expected the JSON-RPC 2.0 reply to request "
                                 f"{id_}, found {_clip(line)}")
        if "result" in msg:
            return msg["result"]
        err = msg.get("error")
        if type(err) is not dict or not isinstance(err.get("message"), str):
            raise self._protocol(component, call, f"expected 'result' or 'error', found "
                                 f"{_clip(line)}")
        data: dict[str, Any] = err["data"] if isinstance(err.get("data"), dict) else {}
        where = data.get("component") if isinstance(data.get("component"), str) else None
        if err.get("code") != wire.MODULE_ERROR:  # the bench asked something it should not
            raise self._protocol(component, call, f"error {err.get('code')}: "
                                 f"{_clip(err['message'].encode())}")
        failed = ModuleError(_clip(err["message"].encode(), 1000),
                             component=where if where in self._checks else component, call=call)
        partial = data.get("outputs")
        failed.outputs = partial if isinstance(partial, dict) else {}
        failed.earlier = partial if isinstance(partial, list) else []
        step = data.get("step")
        failed.step = step if type(step) is int else None
        raise failed

    def _send(self, data: bytes, deadline: float, component: str | None, call: Call,
              timeout_s: float) -> None:
        """Write one request; a module that stops reading is a hang like any other."""
        try:  # a request fits the pipe almost always: one write, nothing else
            written = os.write(self._fd_in, data)
        except BlockingIOError:
            written = 0
        except OSError:  # the reader is gone (broken pipe, connection reset)
            raise self._died(component, call) from None
        if written == len(data):
            return
        view = memoryview(data)[written:]
        while view:
            try:
                view = view[os.write(self._fd_in, view):]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._poll_out.poll(remaining * 1000.0):
                    raise self._timed_out(component, call, timeout_s) from None
            except OSError:  # the reader is gone (broken pipe, connection reset)
                raise self._died(component, call) from None

    def _read_line(self, deadline: float, component: str | None, call: Call,
                   timeout_s: float, limit: int = wire.MAX_LINE_BYTES) -> bytes:
        """The next line from the module, without its newline; a line longer than ``limit``
        bytes is a protocol error (a flood, not a reply)."""
        buf = self._buf
        if not buf:  # the usual case: the whole reply comes in one read
            chunk = self._chunk(deadline, component, call, timeout_s)
            if chunk.find(b"\n") == len(chunk) - 1:
                return chunk[:-1]
            buf += chunk
        while True:
            i = buf.find(b"\n")
            if i >= 0:
                line = bytes(buf[:i])
                del buf[:i + 1]
                return line
            if len(buf) > limit:
                raise self._protocol(component, call, f"a reply longer than "
                                     f"{limit} bytes without a line end")
            buf += self._chunk(deadline, component, call, timeout_s)

    def _chunk(self, deadline: float, component: str | None, call: Call,
               timeout_s: float) -> bytes:
        """The next bytes from the module; raise when none came or it closed the channel."""
        chunk = self._await(deadline)
        if chunk is None:
            raise self._timed_out(component, call, timeout_s)
        if not chunk:
            raise self._died(component, call)
        return chunk

    def _await(self, deadline: float) -> bytes | None:
        """The next bytes from the module (``b""`` when it closed the channel), None at the
        deadline; waits busy for a short while first (:mod:`.spin`)."""
        assert self._reader is not None
        try:
            return self._reader.read(deadline - time.monotonic())
        except OSError:  # a connection reset: the channel is gone
            return b""

    # ---- failures --------------------------------------------------------------------
    def _fail(self, reason: str) -> None:
        """The module's state is unknown: stop it, refuse every later call."""
        self._mark_broken(reason)
        self._halt()

    def _doing(self, component: str | None, call: Call) -> str:
        return f"{component}.{call}" if component else "start-up (import, creating the classes)"

    def _died(self, component: str | None, call: Call) -> AdapterError:
        if self._broken is not None:  # it was stopped for a reason already known
            return AdapterError(f"{self._broken}; {self.stopped} and the adapter is now "
                                "unusable", component=component, call=call)
        reason, detail = self._lost(component, call)
        self._fail(reason)
        return AdapterError(f"{reason}{detail}; the adapter is now unusable",
                            component=component, call=call)

    def _timed_out(self, component: str | None, call: Call, timeout_s: float) -> AdapterError:
        reason = (f"{self._doing(component, call)} gave no reply within {timeout_s:g} s; "
                  f"{self.stopped}")
        self._fail(reason)
        return AdapterError(f"no reply within the timeout of {timeout_s:g} s; {self.stopped} "
                            "and the adapter is now unusable", component=component, call=call)

    def _protocol(self, component: str | None, call: Call, found: str) -> AdapterError:
        reason = f"protocol error in {self._doing(component, call)}: {found}"
        self._fail(reason)
        return AdapterError(f"broke the wire contract: {found}; {self.stopped} and the "
                            "adapter is now unusable", component=component, call=call)


_SCALARS = frozenset({bool, int, float, str})


def _immutable(value: Any) -> bool:
    """True for a value that cannot change behind its identity: a scalar, or a read-only
    numpy array that owns its data (the bench's sensor snapshots)."""
    return type(value) in _SCALARS or frozen(value)


def _records(columns: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """The outputs record of each step from the checked arrays of a packed series: a scalar
    output's value as a Python value (as JSON gives it), an array output's as the row of its
    read-only array."""
    names = list(columns)
    values = [list(c) if c.ndim == 2 else c.tolist() for c in columns.values()]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _name_step(exc: AdapterError, index: int, t: float) -> None:
    """Say in ``exc``'s message at which step of a series (its index and time) it happened."""
    exc.message = f"at step {index} of the series (t = {t:g} s): {exc.message}"
    exc.args = (exc.message,)


def _name_steps(exc: AdapterError, start: int, stop: int, times: Sequence[float]) -> None:
    """Say in ``exc``'s message which steps of a series the failed message carried."""
    exc.message = (f"in the message of steps {start} to {stop - 1} of the series "
                   f"(t = {float(times[start]):g} to {float(times[stop - 1]):g} s): "
                   f"{exc.message}")
    exc.args = (exc.message,)


def _widen(fd: int) -> None:
    """Ask for a pipe of :data:`PIPE_BYTES` (Linux only; where refused, it stays as it is)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _clip(data: bytes, limit: int = 160) -> str:
    text = data.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


class ProcessAdapter(WireAdapter):
    """A module in a child process over JSON-RPC on stdio (see the module docstring)."""

    transport = "process"
    power_cycle_refusal: ClassVar[str | None] = None
    independent_instances: ClassVar[bool] = True

    def __init__(self, settings: dict[str, Any], spec: Any, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        super().__init__(settings, spec, components, dimensions)
        self.proc: subprocess.Popen[bytes] | None = None
        self.mark = f"{os.getpid()}-{secrets.token_hex(8)}"  # see MARK_VARIABLE
        self.stderr: StderrTail | None = None
        self._stderr_before = ""  # the stderr of the children before the last power cycle

    # ---- what a subclass changes --------------------------------------------------
    def command(self) -> list[str]:
        """The child's argv."""
        cmd = self.options.get("command")
        if isinstance(cmd, str):
            cmd = shlex.split(cmd)
        if not cmd or not isinstance(cmd, list) or not all(isinstance(a, str) for a in cmd):
            raise AdapterError("expected adapter.options.command: the program to start and "
                               "its arguments (a list of strings)", call="import",
                               field="adapter.options.command")
        return list(cmd)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        extra = self.options.get("env") or {}
        env.update({str(k): str(v) for k, v in dict(extra).items()})
        env[MARK_VARIABLE] = self.mark
        env[NVM_VARIABLE] = str(self.nvm_dir)
        return env

    @classmethod
    def judged_files(cls, settings: dict[str, Any]) -> list[Path]:
        """The program named by ``options.command`` (what the report's hash covers)."""
        cmd = (settings.get("options") or {}).get("command")
        if isinstance(cmd, str):
            cmd = shlex.split(cmd)
        if not cmd or not isinstance(cmd, list):
            return []
        found = shutil.which(str(cmd[0]), path=os.pathsep.join(
            [str(Path(settings.get("options", {}).get("cwd") or ".")),
             os.environ.get("PATH", "")]))
        return [Path(found).resolve()] if found else []

    # ---- life cycle ---------------------------------------------------------------
    def _connect(self) -> None:
        argv = self.command()
        cwd = self.options.get("cwd")
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=cwd, env=self.environment(), start_new_session=True, bufsize=0,
                # the module starts with no signal blocked, whatever the bench blocks
                preexec_fn=(lambda: signal.pthread_sigmask(signal.SIG_SETMASK, []))
                if blocked else None)
        except OSError as exc:
            raise AdapterError(f"cannot start {shlex.join(argv)}: {exc.strerror or exc}",
                               call="import", field="adapter.options.command") from None
        _SESSIONS[self.proc.pid] = self
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self._fd_in = self.proc.stdin.fileno()
        self._fd_out = self.proc.stdout.fileno()
        for fd in (self._fd_in, self._fd_out):
            _widen(fd)
        self.stderr = StderrTail(self.proc.stderr.fileno())

    def _close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        _SESSIONS.pop(proc.pid, None)
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # the server's signal to leave
            proc.wait(timeout=CLOSE_GRACE_S)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            self._kill(proc)

    def _kill(self, proc: subprocess.Popen[bytes]) -> None:
        """Kill what is left of the child's session, reap it, close its pipes."""
        kill_session(proc.pid, self.mark)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.stderr is not None:
            self.stderr.thread.join(timeout=1)
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None and not f.closed:
                f.close()

    def _power_cycle(self) -> None:
        """Kill the child's whole session at once (SIGKILL: nothing flushed, no call) and
        start and greet a new child; a child that does not start again leaves the adapter
        unusable."""
        proc, self.proc = self.proc, None
        if proc is not None:
            _SESSIONS.pop(proc.pid, None)
            self._kill(proc)
        said = f"{self._stderr_before}{self.stderr.text() if self.stderr else ''}"
        if said:  # a module that wrote nothing still has nothing to show
            self._stderr_before = f"{said}[obsa: power cycle]\n"[-STDERR_KEEP_BYTES:]
        self.stderr = None
        self._buf.clear()
        self._sent.clear()
        self._last = None
        try:
            self._open()
        except AdapterError as exc:
            if self._broken is None:
                self._fail(f"the module did not start again after a power cycle: {exc}")
            raise

    def stderr_text(self) -> str:
        """The last bytes the child wrote on stderr (complete once the adapter is closed),
        after those of the children before a power cycle."""
        text = self.stderr.text() if self.stderr is not None else ""
        return f"{self._stderr_before}{text}"[-STDERR_KEEP_BYTES:] if self._stderr_before \
            else text

    def _halt(self) -> None:
        if self.proc is not None:
            kill_session(self.proc.pid, self.mark)

    def _lost(self, component: str | None, call: Call) -> tuple[str, str]:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        if code is None:
            how = "closed its protocol channel"
        elif code < 0:
            how = f"was killed by {_signal_name(-code)}"
            if -code == signal.SIGKILL:
                how += " (out of memory, or killed by someone)"
        else:
            how = f"exited with status {code}"
        if self.stderr is not None and code is not None:
            self.stderr.settle()  # its last words, written just before it ended
        said = self.stderr.last_line() if self.stderr else ""
        return (f"the module's process {how} during {self._doing(component, call)}",
                f"; its last output: {said}" if said else "")


class PythonProcessAdapter(ProcessAdapter):
    """``adapter.type: python``: the manifest's classes served by :mod:`.serve`."""

    transport = "python"

    def component_refs(self) -> dict[str, str]:
        """``adapter.components`` of the manifest, with an entry for every component."""
        refs = self.settings.get("components", {})
        missing = [c for c in self.components if not refs.get(c)]
        if missing:
            raise AdapterError("no entry in the manifest's adapter.components",
                               component=missing[0], call="import", field=missing[0])
        return {c: str(refs[c]) for c in self.components}

    def command(self) -> list[str]:
        refs = self.component_refs()
        identity = {"module": self.settings.get("module") or {},
                    "spec_version": self.settings.get("spec_version") or ""}
        argv = [sys.executable, "-m", "conformance.adapters.serve",
                "--identity", wire.encode(identity).decode().strip()]
        memory = self.options.get("memory_limit_MB", 4096)
        if memory:
            argv += ["--memory-limit-MB", str(int(memory))]
        return argv + [f"{c}={refs[c]}" for c in self.components]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        # the child imports the module from where this process would: the same search
        # path (the interpreter's own directories come first in the child anyway)
        own = tuple(os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
        paths = [os.path.realpath(p or os.getcwd()) for p in sys.path]
        extra = [p for p in paths if not p.startswith(own)]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(
            extra + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")
        return env

    @classmethod
    def judged_files(cls, settings: dict[str, Any]) -> list[Path]:
        from .python import module_files

        return module_files(settings)
