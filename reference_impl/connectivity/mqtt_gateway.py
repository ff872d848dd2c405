"""The reference telemetry gateway on a real network: the telemetry's records published over
MQTT (paho-mqtt, QoS 1), buffered on disk while the broker is out of reach.

It behaves as the telemetry block (:mod:`.telemetry`) that the bench certifies, with the
network in place of the bench's uplink model:

- :meth:`MqttGateway.step` samples a record every publish_period_s on the block's grid
  (OBSA-CONN-001, 002) and commits it to the SQLite buffer (:mod:`.disk_buffer`) before it
  returns: a killed gateway loses no record it sampled;
- the link is up while the MQTT client is connected (the network link); records then leave
  the buffer oldest first (OBSA-CONN-004), at most ``window`` unacknowledged at a time, and
  are deleted from it when the broker acknowledges them (PUBACK). After a disconnection the
  client sends the unacknowledged ones again, then the rest of the backlog (OBSA-CONN-003,
  006); after a restart every record still on disk is sent again — a record the broker had
  but whose acknowledgement was lost arrives twice, with the same sequence number, and the
  collector stores it once;
- a full buffer drops its oldest records not yet sent and counts them (OBSA-CONN-005).

The wire format — keys, topics, QoS, retain flags — is the spec's, read from
``obsa_telemetry_wire.json`` (generated from spec/interfaces/telemetry.yaml). The status
topic says ``{"online": true}`` on connecting and is the client's last will with
``{"online": false}``. Options: TLS (CA file, client certificate and key) and a user name
and password.
"""

from __future__ import annotations

import json
import math
import queue
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from .disk_buffer import SqliteBuffer
from .telemetry import Telemetry

WIRE_FILE = Path(__file__).with_name("obsa_telemetry_wire.json")


def wire_format(component: str = "telemetry") -> dict[str, Any]:
    """The spec's wire format of ``component`` (keys, fields, topics, schemas)."""
    doc: dict[str, Any] = json.loads(WIRE_FILE.read_text(encoding="utf-8"))[component]
    return doc


def topic(pattern: str, **values: str) -> str:
    """A topic pattern of the wire format with its {placeholders} filled in."""
    return pattern.format(**values)


@dataclass(frozen=True)
class MqttSettings:
    """Where and how the gateway reaches its broker."""

    host: str
    port: int = 1883
    gateway_id: str = "gateway"
    username: str | None = None
    password: str | None = None
    #: TLS: the CA bundle that signs the broker's certificate (None: no TLS), and an
    #: optional client certificate and key
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    keepalive_s: int = 10
    #: records sent and not yet acknowledged, at most
    window: int = 20


class MqttGateway:
    """Samples, buffers on disk and publishes the telemetry; see the module docstring."""

    def __init__(self, settings: MqttSettings, db_path: str | Path, publish_period_s: float,
                 buffer_capacity_records: int,
                 clock: Callable[[], float] = time.time) -> None:
        if buffer_capacity_records < 2:
            raise ValueError("MqttGateway: buffer_capacity_records: expected ≥ 2 (one record "
                             f"on its way, one kept), found {buffer_capacity_records!r}")
        self.settings = settings
        self.wire = wire_format()
        self._clock = clock
        self._seq_key = str(self.wire["sequence"])
        self._time_key = str(self.wire["timestamp"])
        self._fields = tuple(self.wire["fields"])
        topics = self.wire["topics"]
        self._topic = topic(topics["telemetry"]["pattern"], gateway_id=settings.gateway_id)
        self._qos = int(topics["telemetry"]["qos"])
        self._status = topics["status"]
        self._status_topic = topic(self._status["pattern"], gateway_id=settings.gateway_id)
        self.buffer = SqliteBuffer(db_path, buffer_capacity_records)
        self._window = max(1, min(settings.window, buffer_capacity_records - 1))
        # the client's callbacks run in its network thread while it holds its own locks:
        # they only post events; one thread of ours acts on them (acknowledgements delete
        # records, a connection or a new record lets more go) and alone calls publish()
        self._events: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._inflight: dict[int, int] = {}  # message id → sequence number (worker only)
        self._sent_lock = threading.Lock()
        self._sent: int | None = None  # the newest sequence number handed to the client
        self._connected = False
        self.published = 0  # records the broker acknowledged, since start()
        self._sampler = _Sampler(self)
        self._sampler.configure({"publish_period_s": publish_period_s,
                                 "buffer_capacity_records": buffer_capacity_records})
        self._client = self._make_client()

    # ---- the client ------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id=f"obsa-gateway-{s.gateway_id}", clean_session=True)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls_ca is not None:
            client.tls_set(ca_certs=s.tls_ca, certfile=s.tls_cert, keyfile=s.tls_key,
                           cert_reqs=ssl.CERT_REQUIRED)
        client.will_set(self._status_topic, self._presence(False),
                        qos=int(self._status["qos"]), retain=bool(self._status["retain"]))
        client.max_inflight_messages_set(self._window)
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    @staticmethod
    def _presence(online: bool) -> str:
        return json.dumps({"online": online})

    def start(self) -> None:
        """Connect in the background (and keep reconnecting); the buffer fills meanwhile."""
        self._worker = threading.Thread(target=self._work, name="obsa-gateway", daemon=True)
        self._worker.start()
        self._client.connect_async(self.settings.host, self.settings.port,
                                   keepalive=self.settings.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        """Say offline, disconnect and close the buffer (what is on disk stays there)."""
        self._stopping.set()
        self._events.put(None)
        if self._worker is not None:
            self._worker.join(5.0)
        if self._connected:
            self._client.publish(self._status_topic, self._presence(False),
                                 qos=int(self._status["qos"]),
                                 retain=bool(self._status["retain"])).wait_for_publish(2.0)
        self._client.disconnect()
        self._client.loop_stop()
        self.buffer.close()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            return
        self._connected = True
        client.publish(self._status_topic, self._presence(True), qos=int(self._status["qos"]),
                       retain=bool(self._status["retain"]))
        self._events.put(None)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self._connected = False

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any,
                    properties: Any) -> None:
        self._events.put(mid)

    def _work(self) -> None:
        """The worker: acknowledged records leave the buffer, the next ones go out."""
        while not self._stopping.is_set():
            try:
                events = [self._events.get(timeout=0.05)]
            except queue.Empty:
                events = []
            while True:
                try:
                    events.append(self._events.get_nowait())
                except queue.Empty:
                    break
            for mid in events:
                seq = self._inflight.pop(mid, None) if mid is not None else None
                if seq is not None:
                    self.buffer.delete(seq)
                    self.published += 1
            self._pump()

    def _pump(self) -> None:
        """Hand the next records to the client while the window has room (worker only)."""
        if not self._connected:
            return
        room = self._window - len(self._inflight)
        if room <= 0:
            return
        for seq, text in self.buffer.after(self._sent, room):
            with self._sent_lock:  # from now on a full buffer keeps it
                self._sent = seq
            info = self._client.publish(self._topic, text, qos=self._qos)
            self._inflight[info.mid] = seq

    # ---- the block ---------------------------------------------------------------------
    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The telemetry's step at the gateway's time ``t`` (s): sample when due, hand what
        the window allows to the client. ``uplink_connected`` is the client's; the outputs
        are the block's, but no record is published by the step itself."""
        out = self._sampler.step(t, {**inputs, "uplink_connected": self._connected})
        self._events.put(None)
        return out

    def record_for(self, sampled: Mapping[str, Any]) -> dict[str, Any]:
        """The wire record of a sampled record (without its sequence number)."""
        out: dict[str, Any] = {self._time_key: self._clock()}
        for name in self._fields:
            value = (self.buffer.dropped if name == "telemetry_dropped_records"
                     else sampled[name])
            out[name] = value if not isinstance(value, float) or math.isfinite(value) else None
        return out

    def push(self, sampled: Mapping[str, Any]) -> int:
        """Commit a sampled record to the buffer; its sequence number."""
        with self._sent_lock:
            return self.buffer.push(self.record_for(sampled), self._seq_key, self._sent)


class _Sampler(Telemetry):
    """The telemetry block's sampling, with the gateway's disk buffer in place of its own
    and nothing published by the step (the client publishes)."""

    def __init__(self, gateway: MqttGateway) -> None:
        self._gateway = gateway
        super().__init__()

    def _journal_path(self) -> Path | None:
        return None  # the gateway's SQLite buffer is the non-volatile one

    def _push(self, record: dict[str, Any]) -> None:
        self._gateway.push(record)

    def _pop(self) -> dict[str, Any] | None:
        return None

    def _backlog(self) -> int:
        return len(self._gateway.buffer)

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["telemetry_dropped_records"] = self._gateway.buffer.dropped
        return out
