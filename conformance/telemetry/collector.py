"""``obsa telemetry collect``: subscribe to the gateways' telemetry on an MQTT broker and
store every record in a database, once.

The records are the spec's wire format (spec/interfaces/telemetry.yaml, section wire; the
JSON Schema of :mod:`conformance.spec.exporters.telemetry_wire`): each is checked against
it, and stored in the table ``telemetry`` with one column per key, keyed by the gateway
(the ``{gateway_id}`` level of its topic) and the record's sequence number: in SQLite by
default (a file, nothing to set up), in PostgreSQL for a fleet (``postgresql://…``, through
psycopg). The schema is created on first use. Storing is idempotent: a record the broker
delivers again (QoS 1 redelivery, or a gateway that resends after a restart) is ignored, so
nothing is counted twice.

Nothing is acknowledged to the broker before it is committed: the collector subscribes
with QoS 1 on a persistent session and acknowledges a record only after the transaction
that stores it — a collector killed at any point loses nothing, the broker delivers what it
had not acknowledged again. The presence of each gateway (its status topic) goes into the
table ``gateway_status``.

A payload that is not a record of the format is not stored: it is counted and reported on
stderr with its topic and what was expected, once per gateway and reason.
"""

from __future__ import annotations

import json
import math
import queue
import sqlite3
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import paho.mqtt.client as mqtt

from ..spec import Spec, load_spec
from ..spec.exporters.telemetry_wire import record_schema

COMPONENT = "telemetry"
#: a batch is committed when it holds this many records or is this old
BATCH_RECORDS = 2000
BATCH_S = 0.05
SQL_TYPE = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}


class CollectorError(ValueError):
    """A URL, a database or an option the collector cannot use; the message says which."""


# ----------------------------------------------------------------------------- URLs
@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_broker(url: str) -> Broker:
    """``mqtt://[user[:password]@]host[:port]`` (1883) or ``mqtts://…`` (8883, TLS)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise CollectorError(f"--broker {url!r}: expected mqtt://[user[:password]@]host[:port] "
                             "or mqtts://…")
    try:
        port = parts.port
    except ValueError:
        raise CollectorError(f"--broker {url!r}: the port is not a number from 1 to 65535") \
            from None
    tls = parts.scheme == "mqtts"
    return Broker(parts.hostname, port or (8883 if tls else 1883), tls,
                  urllib.parse.unquote(parts.username) if parts.username else None,
                  urllib.parse.unquote(parts.password) if parts.password else None)


def parse_db(url: str) -> Path | str:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path`` or a plain file path (a
    Path); ``postgresql://[user[:password]@]host[:port]/database`` (the URL)."""
    if "://" not in url:
        return Path(url)
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite" and rest.startswith("/") and len(rest) > 1:
        return Path(rest[1:])
    if scheme in ("postgresql", "postgres"):
        return url
    raise CollectorError(f"--db {url!r}: expected sqlite:///PATH (relative), "
                         "sqlite:////PATH (absolute), a file path or "
                         "postgresql://[user[:password]@]host[:port]/database")


# ----------------------------------------------------------------------------- the store
class _Columns:
    """The keys of a record and their JSON types, from the spec's wire format."""

    def __init__(self, spec: Spec) -> None:
        itf = spec.interfaces[COMPONENT]
        assert itf.wire is not None
        self.schema = record_schema(spec, itf)
        self.keys = [itf.wire.sequence.name, itf.wire.timestamp.name, *itf.wire.fields]
        self.seq_key = itf.wire.sequence.name
        self.types = {k: str(self.schema["properties"][k]["type"]) for k in self.keys}


class Store(_Columns):
    """The SQLite database of the records: schema from the wire format, idempotent."""

    def __init__(self, path: Path, spec: Spec) -> None:
        super().__init__(spec)
        columns = [(k, SQL_TYPE[self.types[k]]) for k in self.keys]
        try:
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS telemetry (gateway_id TEXT NOT NULL, "
                + ", ".join(f'"{k}" {t} NOT NULL' for k, t in columns)
                + f', received_unix_s REAL NOT NULL, PRIMARY KEY (gateway_id, "{self.seq_key}"))'
                " WITHOUT ROWID")
            self.db.execute("CREATE TABLE IF NOT EXISTS gateway_status (gateway_id TEXT "
                            "PRIMARY KEY, online INTEGER NOT NULL, since_unix_s REAL NOT NULL)")
            have = [r[1] for r in self.db.execute("PRAGMA table_info(telemetry)")]
        except sqlite3.DatabaseError as exc:
            raise CollectorError(f"--db {path}: expected an SQLite database, found: {exc}") \
                from None
        want = ["gateway_id", *self.keys, "received_unix_s"]
        if have != want:
            raise CollectorError(f"--db {path}: its table telemetry has the columns "
                                 f"{', '.join(have)}; expected {', '.join(want)} (the wire "
                                 "format of this spec version): use another database")
        self.insert = ("INSERT OR IGNORE INTO telemetry VALUES (?, "
                       + ", ".join("?" for _ in self.keys) + ", ?)")

    def add(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert rows (gateway, keys…, received) in one transaction; the new ones."""
        before = self.db.total_changes
        with self.db:
            self.db.executemany(self.insert, rows)
        return self.db.total_changes - before

    def status(self, gateway: str, online: bool, at: float) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO gateway_status VALUES (?, ?, ?)",
                            (gateway, int(online), at))

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM telemetry").fetchone()[0])

    def close(self) -> None:
        self.db.close()


PG_TYPE = {"integer": "bigint", "number": "double precision", "boolean": "boolean"}


class PostgresStore(_Columns):
    """The same tables in PostgreSQL (psycopg 3), for a fleet: created on first use,
    idempotent (``ON CONFLICT DO NOTHING``)."""

    def __init__(self, url: str, spec: Spec) -> None:
        super().__init__(spec)
        try:
            import psycopg
        except ImportError:
            raise CollectorError(f"--db {_safe(url)}: PostgreSQL needs the package psycopg "
                                 "(pip install 'psycopg[binary]')") from None
        self.url = url
        try:
            self.db = psycopg.connect(url, autocommit=False)
            with self.db.cursor() as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS telemetry (gateway_id text NOT NULL, "
                    + ", ".join(f'"{k}" {PG_TYPE[self.types[k]]} NOT NULL' for k in self.keys)
                    + f', received_unix_s double precision NOT NULL, PRIMARY KEY (gateway_id, '
                      f'"{self.seq_key}"))')
                cur.execute("CREATE TABLE IF NOT EXISTS gateway_status (gateway_id text "
                            "PRIMARY KEY, online boolean NOT NULL, since_unix_s double "
                            "precision NOT NULL)")
                cur.execute("SELECT column_name FROM information_schema.columns WHERE "
                            "table_name = 'telemetry' AND table_schema = current_schema() "
                            "ORDER BY ordinal_position")
                have = [str(r[0]) for r in cur.fetchall()]
            self.db.commit()
        except psycopg.Error as exc:
            raise CollectorError(f"--db {_safe(url)}: {type(exc).__name__}: "
                                 f"{str(exc).strip()}") from None
        want = ["gateway_id", *self.keys, "received_unix_s"]
        if have != want:
            raise CollectorError(f"--db {_safe(url)}: its table telemetry has the columns "
                                 f"{', '.join(have)}; expected {', '.join(want)} (the wire "
                                 "format of this spec version): use another database")
        self.insert = ("INSERT INTO telemetry VALUES (%s, " + ", ".join("%s" for _ in self.keys)
                       + ", %s) ON CONFLICT DO NOTHING")

    def add(self, rows: Iterable[tuple[Any, ...]]) -> int:
        with self.db.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM telemetry")
            before = int(cur.fetchone()[0])  # type: ignore[index]
            cur.executemany(self.insert, list(rows))
            cur.execute("SELECT COUNT(*) FROM telemetry")
            after = int(cur.fetchone()[0])  # type: ignore[index]
        self.db.commit()
        return after - before

    def status(self, gateway: str, online: bool, at: float) -> None:
        with self.db.cursor() as cur:
            cur.execute("INSERT INTO gateway_status VALUES (%s, %s, %s) ON CONFLICT "
                        "(gateway_id) DO UPDATE SET online = EXCLUDED.online, "
                        "since_unix_s = EXCLUDED.since_unix_s", (gateway, online, at))
        self.db.commit()

    def count(self) -> int:
        with self.db.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM telemetry")
            n = int(cur.fetchone()[0])  # type: ignore[index]
        self.db.commit()
        return n

    def close(self) -> None:
        self.db.close()


def _safe(url: str) -> str:
    """A database URL without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def open_store(db: Path | str, spec: Spec) -> Store | PostgresStore:
    """The store a parsed ``--db`` names."""
    return Store(db, spec) if isinstance(db, Path) else PostgresStore(db, spec)


# ----------------------------------------------------------------------------- the records
def _check_of(prop: dict[str, Any]) -> Callable[[Any], bool]:
    """A fast test of one value against its property schema (type, bounds, enum): the
    common case of a valid record skips the general validator, which still explains every
    refusal."""
    kind = prop["type"]
    low, high = prop.get("minimum", -math.inf), prop.get("maximum", math.inf)
    members = frozenset(prop["enum"]) if "enum" in prop else None
    if kind == "boolean":
        return lambda v: v is True or v is False
    if kind == "integer":
        return lambda v: (type(v) is int and low <= v <= high
                          and (members is None or v in members))
    return lambda v: ((type(v) is float or type(v) is int) and low <= v <= high
                      and (members is None or v in members))


class Decoder:
    """Payload → row, or why not."""

    def __init__(self, store: Store | PostgresStore) -> None:
        self.keys = store.keys
        self.key_set = frozenset(store.keys)
        props = store.schema["properties"]
        self.checks = [(k, _check_of(props[k])) for k in store.keys]
        self.validator = jsonschema.Draft202012Validator(store.schema)

    def row(self, gateway: str, payload: bytes | bytearray,
            received: float) -> tuple[Any, ...] | str:
        try:
            record = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            return f"expected a JSON object, found undecodable text ({exc})"
        if (type(record) is dict and record.keys() == self.key_set
                and all(check(record[k]) for k, check in self.checks)):
            return (gateway, *[record[k] for k in self.keys], received)
        error = jsonschema.exceptions.best_match(self.validator.iter_errors(record))
        if error is None:  # the fast test is stricter than the schema (-0 or 1e400): accept
            return (gateway, *[record[k] for k in self.keys], received)
        where = "/".join(str(p) for p in error.absolute_path) or "the record"
        return f"{where}: {error.message}"


@dataclass
class Counts:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: set[tuple[str, str]] = field(default_factory=set)


class Collector:
    """Subscribes, stores, acknowledges after the commit; see the module docstring."""

    def __init__(self, broker: Broker, db: Path | str, spec: Spec | None = None,
                 client_id: str = "obsa-collector", ca_file: str | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        spec = spec if spec is not None else load_spec()
        itf = spec.interfaces[COMPONENT]
        assert itf.wire is not None
        self.store = open_store(db, spec)
        self.decoder = Decoder(self.store)
        self.counts = Counts()
        self._log = log if log is not None else (lambda m: print(m, file=sys.stderr))
        topics = {t.name: t for t in itf.wire.topics}
        self._record_topic = topics["telemetry"]
        self._status_topic = topics["status"]
        self._queue: queue.SimpleQueue[mqtt.MQTTMessage | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False, manual_ack=True)
        if broker.username is not None:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = lambda c, u, m: self._queue.put(m)
        self.broker = broker

    @staticmethod
    def _filter(pattern: str) -> str:
        """An MQTT filter matching the pattern's topics for every {placeholder}."""
        return "/".join("+" if p.startswith("{") else p for p in pattern.split("/"))

    @staticmethod
    def _gateway(pattern: str, topic: str) -> str | None:
        got, want = topic.split("/"), pattern.split("/")
        if len(got) != len(want):
            return None
        gateway = None
        for g, w in zip(got, want, strict=True):
            if w == "{gateway_id}":
                gateway = g
            elif not w.startswith("{") and g != w:
                return None
        return gateway

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            self._log(f"obsa telemetry collect: the broker refused the connection: {reason}")
            return
        client.subscribe([(self._filter(self._record_topic.pattern), self._record_topic.qos),
                          (self._filter(self._status_topic.pattern), self._status_topic.qos)])
        self.connected.set()

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=10)
        self.client.loop_start()
        self._writer = threading.Thread(target=self._write, name="obsa-collector", daemon=True)
        self._writer.start()

    def stop(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        self._writer.join(10.0)
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()

    def _write(self) -> None:
        while not self._stopping.is_set():
            batch: list[mqtt.MQTTMessage] = []
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if first is not None:
                batch.append(first)
            deadline = time.monotonic() + BATCH_S
            while len(batch) < BATCH_RECORDS:
                try:
                    m = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if m is None:
                    break
                batch.append(m)
            if batch:
                self.handle(batch)

    def handle(self, batch: list[mqtt.MQTTMessage]) -> None:
        """Store a batch of messages in one transaction, then acknowledge each."""
        now = time.time()
        rows: list[tuple[Any, ...]] = []
        for m in batch:
            gateway = self._gateway(self._record_topic.pattern, m.topic)
            if gateway is not None:
                self.counts.received += 1
                row = self.decoder.row(gateway, m.payload, now)
                if isinstance(row, str):
                    self._reject(m.topic, gateway, row)
                else:
                    rows.append(row)
                continue
            gateway = self._gateway(self._status_topic.pattern, m.topic)
            if gateway is not None:
                try:
                    online = json.loads(m.payload)["online"]
                    if not isinstance(online, bool):
                        raise TypeError
                    self.store.status(gateway, online, now)
                except (ValueError, KeyError, TypeError):
                    self._reject(m.topic, gateway, 'expected {"online": true|false}')
        if rows:
            new = self.store.add(rows)
            self.counts.stored += new
            self.counts.duplicates += len(rows) - new
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)

    def _reject(self, topic: str, gateway: str, reason: str) -> None:
        self.counts.rejected += 1
        key = (gateway, reason.split(":")[0])
        if key not in self.counts.reasons:
            self.counts.reasons.add(key)
            self._log(f"obsa telemetry collect: {topic}: not stored: {reason}")


def collect(broker_url: str, db_url: str, *, duration_s: float | None = None,
            count: int | None = None, ca_file: str | None = None,
            client_id: str = "obsa-collector") -> int:
    """Run the collector until interrupted, ``duration_s`` has passed or ``count`` records
    are in the database; 0 on a clean stop, 2 on a bad option."""
    try:
        broker = parse_broker(broker_url)
        path = parse_db(db_url)
        collector = Collector(broker, path, client_id=client_id, ca_file=ca_file)
    except CollectorError as exc:
        print(f"obsa telemetry collect: {exc}", file=sys.stderr)
        return 2
    initial = collector.store.count()
    collector.start()
    if collector.connected.wait(10.0):
        print(f"obsa telemetry collect: {broker.host}:{broker.port} → {_safe(str(path))}: "
              "subscribed",
              file=sys.stderr, flush=True)
    else:
        print(f"obsa telemetry collect: {broker.host}:{broker.port}: not reachable within "
              "10 s; still trying", file=sys.stderr, flush=True)
    end = None if duration_s is None else time.monotonic() + duration_s
    try:
        while end is None or time.monotonic() < end:
            if count is not None and initial + collector.counts.stored >= count:
                break
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    c = collector.counts
    collector.stop()
    print(f"obsa telemetry collect: {c.received} received, {c.stored} stored, "
          f"{c.duplicates} duplicates ignored, {c.rejected} rejected", file=sys.stderr)
    return 0
