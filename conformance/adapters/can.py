"""The ``can`` transport: the module under test is a node on the CAN buses of the catalog.

A hardware module (a CMU board, a BMS master) is certified by its traffic: the frames of the
CAN catalog (``spec/can/``) it sends and how it reacts to the frames it receives. The bench
emulates the nodes the module talks to (:mod:`.can_rig`: the CMUs from the plant when the
module is the BMU, the master when it is a CMU, the vehicle controller and the charger) and
judges the frames it sends (``conformance/suite/test_can.py``). The manifest says::

    profiles: [bms_can]              # or cmu_can
    adapter:
      type: can
      components:
        can_stack: device            # a board on the buses below, paced in real time
        # can_stack: pkg.mod:Class   # a Python node, stepped in simulated time
      options:
        node: bmu                    # the catalog's node the module is: bmu or cmu
        module: 0                    # a CMU's module index (its multiplexer values)
        buses:                       # every catalog bus the node is on
          internal_can: {interface: socketcan, channel: can0, bitrate: 500000}
          vehicle_can: {interface: pcan, channel: PCAN_USBBUS1, bitrate: 500000}

``device``: the bench opens the named python-can buses (socketcan, pcan, vector, kvaser,
slcan, gs_usb, …; nothing here is specific to one interface) and paces itself on the wall
clock: each bench step waits for its instant, sends the emulated nodes' frames and reads
what arrived, each frame stamped with the interface's receive time. Cycle times on a PC
jitter by milliseconds, so the suite judges them statistically. The plant does not drive a
board's own inputs (no cell emulator interface yet): its values are not judged against the
plant's truth (OBSA-CAN-003 inconclusive).

``pkg.mod:Class``: a Python node (:mod:`.can_serve` states its contract) runs in a child
process on ``virtual`` buses private to that process, stepped with explicit time: the bench
hands it the frames and input pins of each step and takes back the frames it sent and the
output pins it drove (contactor commands, balancing switches), which act on the plant.

Test cases drive a node with :meth:`CanAdapter.start` (power-on with its parameters) and
:meth:`CanAdapter.exchange` (one bench step); the block calls ``configure``/``reset``/``step``
of the other transports do not apply to a node judged by its frames.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import can

from .base import NVM_VARIABLE, Adapter, AdapterError

if TYPE_CHECKING:
    from ..spec.loader import Spec

COMPONENT = "can_stack"
DEVICE = "device"
NODES = ("bmu", "cmu")
#: the longest a Python node may take to import and build
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class BusSettings:
    interface: str
    channel: str
    bitrate: int


@dataclass(frozen=True)
class CanSettings:
    """The manifest's ``adapter`` section for the ``can`` transport, checked."""

    node: str
    module: int
    buses: dict[str, BusSettings]
    factory: str | None  # a Python node's class; None: a device on the buses

    @property
    def realtime(self) -> bool:
        return self.factory is None


def profile_nodes(spec: Spec) -> dict[str, str]:
    """The node of the topology each CAN profile certifies (its ``node``)."""
    return {p.id: p.node for p in spec.profiles.values() if p.node is not None}


def node_buses(spec: Spec, node: str) -> list[str]:
    """The catalog buses ``node`` sends or receives frames on."""
    return [c.bus.id for c in spec.can_catalogs
            if any(node in f.senders or node in f.receivers for f in c.frames)]


def parse_settings(settings: dict[str, Any], spec: Spec
                   ) -> tuple[CanSettings | None, list[tuple[tuple[str | int, ...], str]]]:
    """The checked settings, or the problems: each the manifest path and the message."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    opts = settings.get("options") or {}
    ref = (settings.get("components") or {}).get(COMPONENT)
    if ref is None:
        problems.append((("adapter", "components"),
                         f"expected an entry for '{COMPONENT}' ('{DEVICE}' for a board on the "
                         "buses, or 'package.module:Class' for a Python node), found none"))
    elif ref != DEVICE and (":" not in str(ref) or str(ref).startswith(":")):
        problems.append((("adapter", "components", COMPONENT),
                         f"expected '{DEVICE}' or 'package.module:Class', found '{ref}'"))
    for comp, entry in sorted((settings.get("components") or {}).items()):
        if comp != COMPONENT and ref is not None and entry != ref:
            problems.append((("adapter", "components", comp),
                             f"expected '{ref}' (a block of a claimed profile runs on the CAN "
                             f"node, the '{COMPONENT}' entry), found '{entry}'"))
    known = {"node", "module", "buses"}
    for key in sorted(set(opts) - known):
        problems.append((("adapter", "options", key),
                         f"expected an option of the can transport ({', '.join(sorted(known))}), "
                         f"found '{key}'"))
    node = opts.get("node")
    if node not in NODES:
        problems.append((("adapter", "options", "node"),
                         f"expected the catalog's node the module is ({', '.join(NODES)}), "
                         f"found {node!r}"))
    module = opts.get("module", 0)
    layout_modules = _modules(spec)
    if not (isinstance(module, int) and not isinstance(module, bool)
            and 0 <= module < layout_modules):
        problems.append((("adapter", "options", "module"),
                         f"expected a module index 0 … {layout_modules - 1} (the internal "
                         f"bus's module multiplexer), found {module!r}"))
    buses: dict[str, BusSettings] = {}
    given = opts.get("buses")
    rates = {c.bus.id: c.bus.bit_rate_bps for c in spec.can_catalogs}
    if not isinstance(given, dict):
        problems.append((("adapter", "options", "buses"),
                         "expected a mapping of catalog bus → {interface, channel, bitrate}, "
                         f"found {given!r}"))
        given = {}
    needed = node_buses(spec, node) if node in NODES else []
    for bus in needed:
        if bus not in given:
            problems.append((("adapter", "options", "buses"),
                             f"expected bus '{bus}' (node {node} sends or receives on it), "
                             "found none"))
    for bus, cfg in given.items():
        path: tuple[str | int, ...] = ("adapter", "options", "buses", bus)
        if bus not in rates:
            problems.append((path, f"expected a bus of the CAN catalog "
                                   f"({', '.join(rates)}), found '{bus}'"))
            continue
        if not isinstance(cfg, dict) or not isinstance(cfg.get("interface"), str) \
                or not isinstance(cfg.get("channel"), str | int):
            problems.append((path, "expected {interface: <python-can interface>, channel: "
                                   f"<channel>, bitrate: {rates[bus]}}}, found {cfg!r}"))
            continue
        extra = sorted(set(cfg) - {"interface", "channel", "bitrate"})
        if extra:
            problems.append(((*path, extra[0]), f"expected interface, channel and bitrate, "
                                                f"found '{extra[0]}'"))
        rate = cfg.get("bitrate", rates[bus])
        if rate != rates[bus]:
            problems.append(((*path, "bitrate"),
                             f"expected the catalog's {rates[bus]} bit/s for '{bus}', found "
                             f"{rate!r}"))
        if ref not in (None, DEVICE) and cfg["interface"] != "virtual":
            problems.append(((*path, "interface"),
                             "expected 'virtual' for a Python node (its buses are private to "
                             "the process that hosts it; a board on a real bus is 'device'), "
                             f"found '{cfg['interface']}'"))
        buses[bus] = BusSettings(cfg["interface"], str(cfg["channel"]), int(rates[bus]))
    if problems or node not in NODES:
        return None, problems
    return CanSettings(node, int(module), {b: buses[b] for b in needed},
                       None if ref == DEVICE else str(ref)), []


def _modules(spec: Spec) -> int:
    """Module values of the internal bus's balancing command (the catalog's modules)."""
    for c in spec.can_catalogs:
        for f in c.frames:
            m = f.multiplexer
            if m is not None and m.elements_per_module and m.values_per_module == 1:
                return m.count
    return 1


Frame = tuple[str, can.Message]
"""A frame on a catalog bus: (bus id, message)."""

Received = tuple[float, str, can.Message]
"""A frame of the module: (time it arrived in the bench's seconds, bus id, message)."""


class CanAdapter(Adapter):
    """The ``can`` transport (module docstring)."""

    transport: ClassVar[str] = "can"

    def __init__(self, settings: dict[str, Any], spec: Spec, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        super().__init__(settings, spec, components, dimensions)
        parsed, problems = parse_settings(self.settings, spec)
        if parsed is None:
            path, message = problems[0]
            raise AdapterError(message, call="import", field=".".join(map(str, path)))
        self.can = parsed
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._buses: dict[str, can.BusABC] = {}
        self._wall0: float | None = None
        self._epoch0: float | None = None
        self._runs = 0
        self.parameters: dict[str, dict[str, Any]] = {}
        self._bridge: Any = None

    @property
    def realtime(self) -> bool:
        """A device paced on the wall clock (else a Python node in simulated time)."""
        return self.can.realtime

    @classmethod
    def judged_files(cls, settings: dict[str, Any]) -> list[Path]:
        """A Python node's module file (the report hashes it); none for a device."""
        ref = (settings.get("components") or {}).get(COMPONENT)
        if not isinstance(ref, str) or ref == DEVICE:
            return []
        from .python import module_file

        found = module_file(ref)
        return [found] if found is not None else []

    @classmethod
    def settings_problems(cls, settings: dict[str, Any], spec: Spec,
                          dimensions: dict[str, int],
                          parameters: dict[str, dict[str, Any]]
                          ) -> list[tuple[tuple[str | int, ...], str]]:
        return parse_settings(settings, spec)[1]

    # ---- life cycle ------------------------------------------------------------------
    def _open(self) -> None:
        if self.realtime:
            for bus, b in self.can.buses.items():
                try:
                    self._buses[bus] = can.Bus(interface=b.interface, channel=b.channel,
                                               bitrate=b.bitrate)
                except (can.CanError, ValueError, OSError, ImportError) as exc:
                    raise AdapterError(f"cannot open bus '{bus}' ({b.interface}, channel "
                                       f"{b.channel}): {type(exc).__name__}: {exc}",
                                       call="import", field=f"adapter.options.buses.{bus}"
                                       ) from None
            return
        self._stderr = tempfile.TemporaryFile()
        env = {**os.environ, "OBSA_NVM_DIR": str(self.nvm_dir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.adapters.can_serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=env, start_new_session=True,
            bufsize=0)

    def _close(self) -> None:
        for bus in self._buses.values():
            bus.shutdown()
        self._buses = {}
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.write(b'{"op":"stop"}\n')
                proc.wait(timeout=2.0)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # ---- the block calls ---------------------------------------------------------------
    def _configure(self, component: str, parameters: dict[str, Any]) -> None:
        self.parameters[component] = dict(parameters)

    def _reset(self, component: str) -> None:
        """A closed loop of the node's blocks starts anew: the next :meth:`step_chain`
        powers the node on (the CAN test cases power it on with :meth:`start`)."""
        self._bridge = None

    def _step(self, component: str, t: float, inputs: dict[str, Any]) -> Any:
        raise AdapterError("a CAN node is judged by its frames: the CAN profiles' test cases "
                           "drive it with CanAdapter.start and exchange, a closed loop of its "
                           "blocks with step_chain", component=component, call="step")

    def step_chain(self, t: float, due: list[str], pool: dict[str, Any]) -> None:
        """One step of a closed loop whose blocks run on the node (the block profiles'
        test cases, :mod:`.can_bridge`): the pool's measurements go out as the emulated
        nodes' frames and the node's pins, the signals of its frames come back into
        ``pool`` as they arrive."""
        from .can_bridge import PoolBridge

        if self._bridge is None:
            self._bridge = PoolBridge(self, self.spec, pool)
        self._bridge.step(t, due, pool)

    def observability(self, components: list[str]
                      ) -> tuple[dict[str, str], dict[str, str]]:
        """What a closed loop of ``components`` on the node can neither read nor set, each
        with why (:func:`.can_bridge.observability`)."""
        from .can_bridge import observability

        return observability(self.spec, components)

    def observation_lag_s(self, components: list[str]) -> float:
        """How late after the node's decision a closed loop of ``components`` sees it
        (:func:`.can_bridge.observation_lag_s`)."""
        from .can_bridge import observation_lag_s

        return observation_lag_s(self.spec, components)

    # ---- the CAN calls -----------------------------------------------------------------
    def start(self, setup: dict[str, Any], parameters: dict[str, dict[str, Any]]) -> None:
        """Power the node on: a Python node is built anew with ``setup`` and configured
        with ``parameters`` (per component); for a device the bench's clock starts now and
        what the buses held is dropped."""
        self._ready(COMPONENT, "configure")
        self._runs += 1
        if self.realtime:
            for bus in self._buses.values():
                while bus.recv(timeout=0.0) is not None:
                    pass
            self._wall0 = time.monotonic()
            self._epoch0 = time.time()
            return
        buses = {b: {"interface": s.interface, "channel": s.channel, "bitrate": s.bitrate}
                 for b, s in self.can.buses.items()}
        self._call({"op": "start", "factory": self.can.factory, "buses": buses,
                    "setup": setup, "parameters": parameters, "run": self._runs},
                   START_TIMEOUT_S, "configure")

    @property
    def can_bus_off(self) -> bool:
        """Whether the bench can put the node's controllers bus-off: a Python node's, whose
        bus handles are the host's (:class:`.can_serve.Controller`); not a board's, whose
        controller goes bus-off only on a bus that errors (a disturber the bench lacks)."""
        return not self.realtime

    def exchange(self, t: float, frames: Sequence[Frame], pins: dict[str, Any],
                 bus_off: Sequence[str] = ()) -> tuple[list[Received], dict[str, Any]]:
        """One bench step at ``t``: put ``frames`` on their buses and give the node its input
        ``pins``; the frames the module sent since the last step and the output pins it
        drove (none for a device: its pins are its own). The node's controllers of the buses
        ``bus_off`` are bus-off for the step (only where :attr:`can_bus_off`)."""
        if self.realtime:
            if bus_off:
                raise AdapterError("the bench cannot put a board's controller bus-off",
                                   component=COMPONENT, call="step")
            return self._exchange_realtime(t, frames), {}
        rx = [[bus, m.arbitration_id, bool(m.is_extended_id), bytes(m.data).hex(),
               bool(m.is_error_frame), bool(m.is_remote_frame)] for bus, m in frames]
        request: dict[str, Any] = {"op": "step", "t": t, "rx": rx, "pins": pins}
        if bus_off:
            request["bus_off"] = list(bus_off)
        reply = self._call(request, self.timeout_s, "step")
        out = [(t, bus, can.Message(arbitration_id=ident, is_extended_id=ext,
                                    data=bytes.fromhex(data), timestamp=t))
               for bus, ident, ext, data in reply.get("tx", [])]
        return out, dict(reply.get("pins", {}))

    def _exchange_realtime(self, t: float, frames: Sequence[Frame]) -> list[Received]:
        assert self._wall0 is not None, "start() first"
        wait = self._wall0 + t - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        for bus, msg in frames:
            try:
                self._buses[bus].send(msg)
            except can.CanError as exc:
                raise AdapterError(f"bus '{bus}': cannot send 0x{msg.arbitration_id:X}: "
                                   f"{exc}", component=COMPONENT, call="step") from None
        out: list[Received] = []
        for bus, b in self._buses.items():
            while (got := b.recv(timeout=0.0)) is not None:
                if got.is_error_frame:
                    continue
                msg = got
                # the interface's receive time stamp (python-can: seconds since the epoch),
                # not the moment this step drained the bus: the step would add up to its
                # own length of jitter to every interval
                if msg.timestamp and self._epoch0 is not None:
                    arrived = msg.timestamp - self._epoch0
                else:
                    arrived = time.monotonic() - self._wall0
                out.append((arrived, bus, msg))
        return out

    # ---- the child's wire ----------------------------------------------------------------
    def _call(self, req: dict[str, Any], timeout_s: float | None, call: Any) -> dict[str, Any]:
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise AdapterError("the node's host process is not running", component=COMPONENT,
                               call=call)
        try:
            proc.stdin.write(json.dumps(req, separators=(",", ":")).encode() + b"\n")
        except OSError:
            raise self._died(call) from None
        line = self._read_line(proc, timeout_s, call)
        reply = json.loads(line)
        if "error" in reply:
            raise AdapterError(f"the node failed: {reply['error']}", component=COMPONENT,
                               call=call)
        return dict(reply)

    def _read_line(self, proc: subprocess.Popen[bytes], timeout_s: float | None,
                   call: Any) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        chunks = b""
        while not chunks.endswith(b"\n"):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                self._mark_broken(f"no reply within {timeout_s:g} s")
                raise AdapterError(f"the node did not answer within {timeout_s:g} s",
                                   component=COMPONENT, call=call)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise self._died(call)
            chunks += chunk
        return chunks

    def _died(self, call: Any) -> AdapterError:
        err = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            err = self._stderr.read()[-300:].decode(errors="replace").strip()
        self._mark_broken("the node's host process ended")
        return AdapterError("the node's host process ended" + (f": {err}" if err else ""),
                            component=COMPONENT, call=call)


class InProcessCanAdapter(CanAdapter):
    """``obsa certify --in-process`` for a Python CAN node (a debugging mode whose runs are
    never certified): the node's host (:class:`.can_serve.Host`) runs in the bench's own
    process and answers the requests of its host process, as that process would, without
    the pipe. No call has a timeout, and a node that crashes the interpreter or hangs takes
    the bench with it. A board on a bus has no in-process mode."""

    def __init__(self, settings: dict[str, Any], spec: Spec, components: list[str],
                 dimensions: dict[str, int] | None = None) -> None:
        super().__init__(settings, spec, components, dimensions)
        self._host: Any = None
        self._environ_nvm: str | None = None  # OBSA_NVM_DIR as it was before _open()

    def _open(self) -> None:
        if self.realtime:
            raise AdapterError("a board on a bus cannot run in process: only a Python node "
                               "(adapter.components.can_stack: package.module:Class)",
                               call="import", field=f"adapter.components.{COMPONENT}")
        from .can_serve import Host

        self._host = Host()
        self._environ_nvm = os.environ.get(NVM_VARIABLE)
        os.environ[NVM_VARIABLE] = str(self.nvm_dir)  # what the host process is given

    def _close(self) -> None:
        host, self._host = self._host, None
        if host is not None:
            host.close_buses()
        if self._nvm_dir is not None and os.environ.get(NVM_VARIABLE) == str(self._nvm_dir):
            if self._environ_nvm is None:
                os.environ.pop(NVM_VARIABLE, None)
            else:
                os.environ[NVM_VARIABLE] = self._environ_nvm

    def _call(self, req: dict[str, Any], timeout_s: float | None, call: Any) -> dict[str, Any]:
        if self._host is None:
            raise AdapterError("the node's host is not open", component=COMPONENT, call=call)
        # the bench's own stop (KeyboardInterrupt, a stop signal) is no failure of the node
        reply = self._host.handle(req, (Exception, SystemExit))
        if "error" in reply:
            raise AdapterError(f"the node failed: {reply['error']}", component=COMPONENT,
                               call=call)
        return dict(reply)
