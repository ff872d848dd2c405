"""The generic component server: Python component classes served over the wire contract.

    python -m conformance.adapters.serve [--identity JSON] [--memory-limit-MB N] \\
        COMPONENT=package.module:Class ...

The bench's ``python`` transport starts this in a child process, one per certification;
it is also what a Python vendor can run by hand to watch the protocol (type a request,
read the reply). It speaks JSON-RPC 2.0, one message per line (:mod:`.wire`):

- ``obsa.hello`` imports every component's module, creates the instances and replies with
  the module's identity, the spec version, the components and the protocol version;
- ``<component>.configure | reset | step`` call the instance;
- ``obsa.step`` steps several components in one round trip through a signal pool: the
  given inputs update the pool, each component reads its inputs from it and writes its
  outputs to it, so a later component sees an earlier one's outputs of the same instant;
- ``obsa.step_series`` steps one component at many times in one round trip (a replay of
  recorded data: no input depends on an earlier output): the times and every input as
  columns, one value per step; the reply lists the outputs of each step.

The module shares this process, so the protocol channel is protected from it: before any
module code runs, the real stdin/stdout are duplicated for the protocol and fds 0/1 are
pointed at /dev/null and stderr (a module's ``print`` lands in the bench's bounded capture
of stderr, never on the protocol channel). The address space is limited (RLIMIT_AS), the
process dies with its parent (PR_SET_PDEATHSIG on Linux), and every exception of the
module, ``SystemExit`` and ``KeyboardInterrupt`` included, becomes an error reply.
Inputs reach the module as they would in process: arrays as read-only numpy arrays
(float64, bool or int64 by the signal's type; views that cannot be made writeable), ``null``
floats as NaN.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from . import wire
from .spin import SPIN_S, Reader

Reply = dict[str, Any]


class ModuleFailed(Exception):
    """The module's code failed; becomes a MODULE_ERROR reply naming component and call."""

    def __init__(self, message: str, component: str | None, call: str,
                 where: str = "") -> None:
        super().__init__(message)
        self.message, self.component, self.call, self.where = message, component, call, where
        self.outputs: dict[str, Any] | list[Any] | None = None  # the replies before it:
        # obsa.step: the earlier components'; obsa.step_series: the earlier steps'
        self.step: int | None = None  # obsa.step_series: the index of the failing step


class BadRequest(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# --------------------------------------------------------------------------- process set-up
def protect_channel() -> tuple[int, int]:
    """Keep the protocol fds for ourselves; give the module /dev/null and stderr."""
    proto_in, proto_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto_in, proto_out


def limit_process(memory_limit_mb: int | None) -> None:
    """Bound what the module can take; die with the bench. Best effort where unsupported."""
    import signal

    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory_limit_mb:
            limit = memory_limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


# --------------------------------------------------------------------------- the server
class Server:
    """Dispatches requests to the component instances (see the module docstring)."""

    def __init__(self, refs: dict[str, str], identity: dict[str, Any]) -> None:
        self.refs = refs
        self.identity = identity
        self.instances: dict[str, Any] = {}
        self.steps: dict[str, Callable[..., Any]] = {}
        self.inputs: dict[str, tuple[str, ...]] = {}
        self.arrays: dict[str, tuple[str, ...]] = {}  # the array inputs of each component
        self.convert: dict[str, Callable[[Any], Any]] = {}
        self.array_signals: set[str] = set()  # the inputs that are arrays
        self.pool: dict[str, Any] = {}
        self.series = False  # the last request was an obsa.step_series

    def handle(self, line: bytes) -> Reply | None:
        try:
            msg = wire.decode(line)
        except wire.DecodeError as exc:
            return wire.error(None, wire.PARSE_ERROR, f"not JSON: {exc}")
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or \
                not isinstance(msg.get("method"), str):
            return wire.error(msg.get("id") if isinstance(msg, dict) else None,
                              wire.INVALID_REQUEST, "expected a JSON-RPC 2.0 request object")
        id_ = msg.get("id")
        params = msg.get("params", {})
        try:
            value = self.dispatch(msg["method"], params if params is not None else {})
        except BadRequest as exc:
            return wire.error(id_, exc.code, exc.message)
        except ModuleFailed as exc:
            data = {"call": exc.call, **({"component": exc.component} if exc.component else {}),
                    **({"where": exc.where} if exc.where else {}),
                    **({"outputs": exc.outputs} if exc.outputs else {}),
                    **({"step": exc.step} if exc.step is not None else {})}
            return wire.error(id_, wire.MODULE_ERROR, exc.message, data)
        return None if "id" not in msg else wire.result(id_, value)

    def dispatch(self, method: str, params: Any) -> Any:
        if not isinstance(params, dict):
            raise BadRequest(wire.INVALID_PARAMS, "params must be an object")
        if method == "obsa.hello":
            return self.hello(params)
        if method == "obsa.step":
            return self.step_chain(params)
        if method == "obsa.step_series":
            return self.step_series(params)
        component, _, call = method.rpartition(".")
        if component not in self.instances or call not in ("configure", "reset", "step"):
            raise BadRequest(wire.METHOD_NOT_FOUND, f"no method '{method}' (components: "
                             f"{', '.join(self.instances) or 'none before obsa.hello'})")
        instance = self.instances[component]
        if call == "configure":
            parameters = params.get("parameters")
            if not isinstance(parameters, dict):
                raise BadRequest(wire.INVALID_PARAMS, "configure takes {'parameters': {...}}")
            guarded(component, call, instance.configure, parameters)
            return None
        if call == "reset":
            guarded(component, call, instance.reset)
            return None
        t, inputs = params.get("t"), params.get("inputs")
        if not isinstance(t, (int, float)) or not isinstance(inputs, dict):
            raise BadRequest(wire.INVALID_PARAMS, "step takes {'t': number, 'inputs': {...}}")
        return guarded(component, call, self.steps[component], float(t), self._converted(inputs))

    # ---- methods -----------------------------------------------------------------
    def hello(self, params: dict[str, Any]) -> dict[str, Any]:
        from .base import AdapterError
        from .python import _where, load_component_class

        declared = params.get("components") or {}
        for component, ref in self.refs.items():
            try:
                cls = load_component_class(ref, component)
            except AdapterError as exc:  # already phrased for people
                raise ModuleFailed(exc.message, component, "import") from None
            except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt...
                raise ModuleFailed(f"importing '{ref}' raised {type(exc).__name__}: {exc}"
                                   f"{_where(exc)}", component, "import") from None
            instance = guarded(component, "import", cls)
            self.instances[component] = instance
            self.steps[component] = instance.step
            types = (declared.get(component) or {}).get("inputs") or {}
            self.inputs[component] = tuple(types)
            self.arrays[component] = tuple(n for n, w in types.items() if str(w).endswith("[]"))
            self.array_signals.update(self.arrays[component])
            for name, type_word in types.items():
                self.convert[name] = converter(str(type_word))
        return {"protocol": wire.PROTOCOL, "module": self.identity.get("module", {}),
                "spec_version": self.identity.get("spec_version", ""),
                "components": list(self.instances), "batch": True, "series": True,
                "packed": True}

    def _converted(self, inputs: dict[str, Any]) -> dict[str, Any]:
        conv = self.convert
        return {k: conv[k](v) if k in conv else v for k, v in inputs.items()}

    def step_chain(self, params: dict[str, Any]) -> dict[str, Any]:
        t, components = params.get("t"), params.get("components")
        inputs = params.get("inputs", {})
        if not isinstance(t, (int, float)) or not isinstance(components, list) or \
                not isinstance(inputs, dict):
            raise BadRequest(wire.INVALID_PARAMS, "obsa.step takes {'t': number, "
                             "'components': [...], 'inputs': {...}}")
        pool = self.pool
        pool.update(self._converted(inputs))
        t = float(t)
        out: dict[str, Any] = {}
        for component in components:
            step = self.steps.get(component)
            if step is None:
                raise BadRequest(wire.INVALID_PARAMS, f"unknown component '{component}'")
            try:
                args = {name: pool[name] for name in self.inputs[component]}
            except KeyError as exc:
                raise BadRequest(wire.INVALID_PARAMS, f"input {exc} of {component} was never "
                                 "sent") from None
            for name in self.arrays[component]:
                # a view of a read-only array cannot be made writeable: what the module
                # does to its inputs never reaches the pool the next step reads
                value = args[name]
                if hasattr(value, "view"):
                    args[name] = value.view()
            try:
                reply = guarded(component, "step", step, t, args)
            except ModuleFailed as exc:
                # the earlier replies go along: if one of them is invalid, that is the fault
                # the bench reports (this component may only have choked on it)
                exc.outputs = out
                raise
            out[component] = reply
            if type(reply) is not dict:
                break  # the bench explains the reply; later components cannot run on it
            pool.update(reply)
        return out


    def step_series(self, params: dict[str, Any]) -> Any:
        """``obsa.step_series``: the component stepped at each time of ``t`` with the inputs of
        that step; the outputs of every step, in order. A failing step ends the series: its
        error names the step and carries the outputs of the steps before it. With
        ``"encoding": "packed"`` the times and the inputs come as packed arrays
        (:func:`.wire.pack`), and the outputs go back as one packed array per output when
        each output's values make one (:func:`packed_outputs`), else as the list."""
        self.series = True
        packed = params.get("encoding") == "packed"
        if packed:
            params = self._unpacked(params)
        component, times, columns = params.get("component"), params.get("t"), \
            params.get("inputs")
        if not isinstance(component, str) or not isinstance(times, list) or \
                not isinstance(columns, dict):
            raise BadRequest(wire.INVALID_PARAMS, "obsa.step_series takes {'component': id, "
                             "'t': [number, ...], 'inputs': {signal: [value per step]}}")
        step = self.steps.get(component)
        if step is None:
            raise BadRequest(wire.INVALID_PARAMS, f"unknown component '{component}'")
        n = len(times)
        if not all(type(t) is float or type(t) is int for t in times):
            raise BadRequest(wire.INVALID_PARAMS, "obsa.step_series: 't' must hold numbers")
        for name, column in columns.items():
            if not isinstance(column, list) and not hasattr(column, "shape") or \
                    len(column) != n:
                raise BadRequest(wire.INVALID_PARAMS, f"obsa.step_series: input '{name}' must "
                                 f"be a list of {n} values (one per time)")
        rows = {name: self._column(name, column) for name, column in columns.items()}
        out: list[Any] = []
        for i in range(n):
            try:
                reply = guarded(component, "step", step, float(times[i]),
                                {name: column[i] for name, column in rows.items()})
            except ModuleFailed as exc:
                # the replies before go along: if one is invalid, that is the fault the
                # bench reports (this step may only have choked on the state it left)
                exc.outputs = out
                exc.step = i
                raise
            out.append(reply)
        if packed:
            columns_out = packed_outputs(out)
            if columns_out is not None:
                return columns_out
        return out

    def _unpacked(self, params: dict[str, Any]) -> dict[str, Any]:
        """The params of a packed ``obsa.step_series`` as the plain form has them: the times
        as a list of floats; an array input as its 2-d array (one row per step), a scalar
        input as the list of its values (Python floats, ints or bools, NaN as it came)."""
        times, columns = params.get("t"), params.get("inputs")
        if not isinstance(columns, dict):
            raise BadRequest(wire.INVALID_PARAMS, "obsa.step_series: 'inputs' must be an "
                             "object of packed arrays")
        what = "'t'"
        try:
            t = wire.unpack(times, ("f8",), (-1,)).tolist()
            plain: dict[str, Any] = {}
            for name, value in columns.items():
                what = f"input '{name}'"
                array = name in self.array_signals
                column = wire.unpack(value, tuple(wire.PACKED_DTYPES),
                                     (len(t), -1) if array else (len(t),))
                plain[name] = column if array else column.tolist()
        except wire.PackedError as exc:
            raise BadRequest(wire.INVALID_PARAMS, f"obsa.step_series: {what}: {exc}") from None
        return {**params, "t": t, "inputs": plain}

    def _column(self, name: str, column: list[Any]) -> Any:
        """The values of one input over a series, each as :meth:`_converted` makes it: an
        array signal's as rows of one read-only array (views that cannot be made writeable)
        when its values make one, each converted alone otherwise."""
        conv = self.convert.get(name)
        if conv is None:
            return column
        if name in self.array_signals:
            whole = conv(column)
            if getattr(whole, "ndim", 0) == 2:
                return whole
        return [conv(v) for v in column]


_PACKABLE = (({float}, "f8"), ({int}, "i8"), ({bool}, "b1"))


def packed_outputs(replies: list[Any]) -> dict[str, Any] | None:
    """The outputs of a series' steps as one packed array per output (:func:`.wire.pack`:
    a scalar output's values as a 1-d array, an array output's as a 2-d one, one row per
    step), when every reply is a record of the same outputs and each output's values are
    all of one kind (all floats, all ints or all bools; arrays of one length and dtype);
    else None: the list goes back as it is, and the bench explains what is wrong."""
    import numpy as np

    if not replies or any(type(r) is not dict for r in replies):
        return None
    names = list(replies[0])
    if any(list(r) != names for r in replies):
        return None
    out: dict[str, Any] = {}
    for name in names:
        values = [r[name] for r in replies]
        kinds = set(map(type, values))
        if kinds <= {np.ndarray}:
            if len({(v.dtype.kind, v.shape) for v in values}) != 1 or values[0].ndim != 1 \
                    or values[0].dtype.kind not in "fiub":
                return None
            column: Any = np.stack(values)
        elif kinds <= {list, tuple}:
            items = [x for v in values for x in v]
            code = next((c for types, c in _PACKABLE if set(map(type, items)) <= types), None)
            if code is None or len(set(map(len, values))) != 1:
                return None
            column = np.array(values, dtype=wire.PACKED_DTYPES[code])
        else:
            plain = {float: float, np.float64: float, int: int, np.int64: int,
                     bool: bool, np.bool_: bool}
            if not kinds <= set(plain) or len({plain[k] for k in kinds}) != 1:
                return None
            code = {float: "f8", int: "i8", bool: "b1"}[plain[kinds.pop()]]
            column = np.array(values, dtype=wire.PACKED_DTYPES[code])
        out[name] = wire.pack(column)
    return out


def converter(type_word: str) -> Callable[[Any], Any]:
    """Wire value → what an in-process module would get for a signal of this type."""
    if type_word.endswith("[]"):
        import numpy as np

        dtype = {"float": np.float64, "bool": np.bool_}.get(type_word[:-2], np.int64)

        def array(value: Any) -> Any:
            if not isinstance(value, (list, np.ndarray)):  # (a packed array: its dtype)
                return value
            try:
                arr: Any = np.array(value, dtype=dtype)
            except (TypeError, ValueError):
                return value
            arr.flags.writeable = False
            return arr

        return array
    if type_word == "float":
        nan = float("nan")
        return lambda v: nan if v is None else float(v) if type(v) is int else v
    return lambda v: v


def guarded(component: str | None, call: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Call the module; any exception, even SystemExit or KeyboardInterrupt, is its failure.
    A component object of a server that phrases its own failures (the FMU server's) raises
    :class:`ModuleFailed`, which passes unchanged."""
    try:
        return fn(*args)
    except ModuleFailed:
        raise
    except BaseException as exc:  # noqa: BLE001 - a module may raise anything
        from .python import _where

        where = _where(exc)
        raise ModuleFailed(f"the module raised {type(exc).__name__}: {exc}{where}", component,
                           call, where.strip(" ()")) from None


# --------------------------------------------------------------------------- main loop
def write_all(fd: int, data: bytes) -> None:
    import select

    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:  # a socket shares its non-blocking flag with the reader
            select.select([], [fd], [])


def lines(fd: int, spin_s: float = SPIN_S, reader: Reader | None = None) -> Iterator[bytes]:
    """The lines arriving on ``fd`` until it closes (the last one may lack its newline);
    a line longer than :data:`wire.MAX_LINE_BYTES` is cut into pieces of that size. Waits
    busy for the next request for a moment when that pays (:class:`.spin.Reader`, or
    ``reader`` on ``fd``)."""
    reader = reader or Reader(fd, spin_s)
    buf = bytearray()
    while True:
        i = buf.find(b"\n")
        while i >= 0:
            yield bytes(buf[:i + 1])
            del buf[:i + 1]
            i = buf.find(b"\n")
        while len(buf) >= wire.MAX_LINE_BYTES:
            yield bytes(buf[:wire.MAX_LINE_BYTES])
            del buf[:wire.MAX_LINE_BYTES]
        chunk = reader.read()
        if not chunk:
            if buf:
                yield bytes(buf)
            return
        buf += chunk


def serve(proto_in: int, proto_out: int, server: Server) -> None:
    reader = Reader(proto_in, SPIN_S)
    for line in lines(proto_in, reader=reader):
        if not line.strip():
            continue
        reply = server.handle(line)
        if reply is not None:
            write_all(proto_out, wire.encode(reply))
        if server.series:
            # the bench reads and checks a series' many outputs before it sends the next
            # request: far longer than a spin, so the next request is awaited asleep
            server.series = False
            reader.paused += 1


def main(argv: list[str] | None = None) -> int:
    proto_in, proto_out = protect_channel()
    parser = argparse.ArgumentParser(prog="python -m conformance.adapters.serve",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("components", nargs="+", metavar="COMPONENT=REF",
                        help="component id = 'package.module:Class' or obsa.adapters entry point")
    parser.add_argument("--identity", default="{}",
                        help="JSON: {'module': {vendor, name, version}, 'spec_version': ...}")
    parser.add_argument("--memory-limit-MB", dest="memory", type=int, default=None)
    args = parser.parse_args(argv)
    limit_process(args.memory)
    refs = dict(item.partition("=")[::2] for item in args.components)
    try:
        identity = wire.decode(args.identity)
    except wire.DecodeError:
        identity = {}
    serve(proto_in, proto_out, Server(refs, identity if isinstance(identity, dict) else {}))
    return 0


# --------------------------------------------------------------------------- obsa serve
def serve_manifest(manifest: str, tcp: str | None = None) -> int:
    """``obsa serve``: the Python module a manifest names (``adapter.type: python``), served
    on stdio, or on TCP at ``tcp`` ('HOST:PORT') to one client per connection, each with
    fresh instances. Never returns in TCP mode; on stdio, returns when stdin closes."""
    channel = protect_channel() if tcp is None else None  # before any module code runs
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # as the python transport: no spinning BLAS threads
    refs, identity, options, problem = _manifest_settings(manifest)
    if problem:
        print(f"obsa serve: {problem}", file=sys.stderr)
        return 2
    if channel is not None:
        limit_process(options.get("memory_limit_MB"))
        serve(*channel, Server(refs, identity))
        return 0
    assert tcp is not None
    return _serve_tcp(tcp, refs, identity)


def _manifest_settings(manifest: str) -> tuple[dict[str, str], dict[str, Any], dict[str, Any],
                                               str | None]:
    """(component refs, identity, adapter options, why the manifest cannot be served)."""
    from ..manifest import load_manifest
    from ..session import resolve_manifest

    path = resolve_manifest(manifest)
    loaded, issues = load_manifest(path)
    if loaded is None:
        return {}, {}, {}, "; ".join(str(i) for i in issues) or f"{path}: cannot read"
    if loaded.adapter.type != "python":
        return {}, {}, {}, (f"{path}: adapter.type: expected 'python' (a module of Python "
                            f"classes), found '{loaded.adapter.type}'")
    identity = {"module": {"vendor": loaded.module.vendor, "name": loaded.module.name,
                           "version": loaded.module.version},
                "spec_version": loaded.spec_version}
    return dict(loaded.adapter.components), identity, dict(loaded.adapter.options), None


def _serve_tcp(address: str, refs: dict[str, str], identity: dict[str, Any]) -> int:
    import socket
    import threading

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        print(f"obsa serve: --tcp: expected HOST:PORT, found '{address}'", file=sys.stderr)
        return 2
    try:
        listener = socket.create_server((host, int(port)))
    except OSError as exc:
        print(f"obsa serve: cannot listen on {address}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    bound = listener.getsockname()
    print(f"obsa serve: listening on {bound[0]}:{bound[1]}", file=sys.stderr, flush=True)

    def session(conn: socket.socket) -> None:
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                serve(conn.fileno(), conn.fileno(), Server(refs, identity))
            except OSError:  # the client dropped the connection
                pass

    with listener:
        while True:
            conn, _peer = listener.accept()
            threading.Thread(target=session, args=(conn,), name="obsa-session",
                             daemon=True).start()


if __name__ == "__main__":
    # leave at once: no atexit handlers and no waiting for a module's non-daemon threads
    code = main()
    sys.stderr.flush()
    os._exit(code)
