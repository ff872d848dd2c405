"""Ingest speed of ``obsa telemetry collect`` into SQLite, beside a bare ``executemany`` of
the same rows, measured in the same run.

Prints records per second of:

- the bare insert: the rows the collector would store, inserted with ``executemany`` into
  the same table in batches of the collector's size (one transaction each), no decoding;
- the collector's ingest path: JSON payloads of the spec's wire format decoded, checked
  against the record schema and stored idempotently in batches (``Collector.handle``), no
  network — the issue's target ≥ 5 k records/s;
- end to end (with ``--broker``, the Debian package mosquitto installed): a publisher sends
  the records with QoS 1 to a Mosquitto broker started on a free loopback port, the
  collector subscribes, stores and acknowledges after each commit; from the first publish
  to the last record committed.

Medians of ``--repeat`` runs. With ``--outages``, a reference gateway
(reference_impl/connectivity/mqtt_gateway.py) samples a record every 5 ms of wall clock
while the broker is restarted ``--restarts`` times and then stopped for ``--outage-s``
seconds; the collector's database is then compared with what the gateway sampled: records
lost, records stored twice, redeliveries ignored. Not a test: nothing is asserted.

    .venv/bin/python benchmarks/collector.py [--records 20000] [--repeat 3] [--broker]
        [--postgresql postgresql://user@127.0.0.1:PORT/db]
    .venv/bin/python benchmarks/collector.py --outages [--restarts 10] [--outage-s 60]
"""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from conformance.spec import load_spec
from conformance.telemetry.collector import (
    BATCH_RECORDS,
    Broker,
    Collector,
    PostgresStore,
    Store,
)

TARGET = 5000.0
LOOPBACK = "127.0.0.1"


def payloads(n: int, spec: Any) -> list[bytes]:
    """``n`` records of the wire format, each different."""
    wire = spec.interfaces["telemetry"].wire
    out = []
    for k in range(n):
        record: dict[str, Any] = {"seq": k, "time_unix_s": 1.7e9 + k}
        for name in wire.fields:
            sig = spec.signals[name]
            if sig.type == "enum":
                record[name] = k % 3
            elif sig.type == "int":
                record[name] = 0
            else:
                lo = sig.range.min if sig.range is not None and sig.range.min is not None else 0
                record[name] = float(lo) + (k % 100) * 0.001
        out.append(json.dumps(record).encode())
    return out


def bare(rows: list[tuple[Any, ...]], spec: Any, directory: Path) -> float:
    store = Store(directory / "bare.sqlite", spec)
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH_RECORDS):
        with store.db:
            store.db.executemany(store.insert, rows[i:i + BATCH_RECORDS])
    dt = time.perf_counter() - t0
    assert store.count() == len(rows)
    store.close()
    return len(rows) / dt


def bare_postgres(rows: list[tuple[Any, ...]], spec: Any, url: str) -> float:
    """The same rows into an emptied PostgreSQL table with executemany, batch by batch."""
    store = PostgresStore(url, spec)
    with store.db.cursor() as cur:
        cur.execute("TRUNCATE telemetry")
    store.db.commit()
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH_RECORDS):
        with store.db.cursor() as cur:
            cur.executemany(store.insert, rows[i:i + BATCH_RECORDS])
        store.db.commit()
    dt = time.perf_counter() - t0
    assert store.count() == len(rows)
    store.close()
    return len(rows) / dt


def ingest(data: list[bytes], spec: Any, db: Path | str) -> tuple[float, list[tuple[Any, ...]]]:
    if isinstance(db, str):  # PostgreSQL: start from an empty table
        store = PostgresStore(db, spec)
        with store.db.cursor() as cur:
            cur.execute("TRUNCATE telemetry")
        store.db.commit()
        store.close()
    c = Collector(Broker(LOOPBACK, 1, False), db, spec, log=lambda m: None)
    messages = []
    for k, payload in enumerate(data):
        m = mqtt.MQTTMessage(mid=k + 1, topic=b"obsa/bench/telemetry")
        m.payload, m.qos = payload, 0
        messages.append(m)
    t0 = time.perf_counter()
    for i in range(0, len(messages), BATCH_RECORDS):
        c.handle(messages[i:i + BATCH_RECORDS])
    dt = time.perf_counter() - t0
    assert c.counts.stored == len(data), c.counts
    rows = [] if isinstance(db, str) else c.store.db.execute(
        "SELECT * FROM telemetry ORDER BY seq").fetchall()
    c.store.close()
    return len(data) / dt, rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def end_to_end(data: list[bytes], spec: Any, directory: Path, exe: str) -> float:
    port = _free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(f"listener {port} {LOOPBACK}\nallow_anonymous true\n"
                    f"user {getpass.getuser()}\n"
                    "max_queued_messages 0\n", encoding="utf-8")
    broker = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                with socket.create_connection((LOOPBACK, port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        c = Collector(Broker(LOOPBACK, port, False), directory / "e2e.sqlite", spec,
                      client_id="bench-collector", log=lambda m: None)
        c.start()
        c.connected.wait(10.0)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
        pub.max_inflight_messages_set(1000)
        pub.max_queued_messages_set(0)
        pub.connect(LOOPBACK, port)
        pub.loop_start()
        t0 = time.perf_counter()
        for payload in data:
            pub.publish("obsa/bench/telemetry", payload, qos=1)
        while c.counts.stored < len(data):
            time.sleep(0.005)
        dt = time.perf_counter() - t0
        pub.loop_stop()
        pub.disconnect()
        c.stop()
        return len(data) / dt
    finally:
        broker.terminate()
        broker.wait()


def _broker(exe: str, directory: Path, port: int) -> subprocess.Popen[bytes]:
    conf = directory / "mosquitto.conf"
    conf.write_text(f"listener {port} {LOOPBACK}\nallow_anonymous true\n"
                    f"user {getpass.getuser()}\npersistence true\n"
                    f"persistence_location {directory}/\n", encoding="utf-8")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on {LOOPBACK}:{port}")


def outages(exe: str, restarts: int, outage_s: float, spec: Any) -> None:
    """The gateway through broker restarts and one long outage; see the module docstring."""
    import numpy as np

    from reference_impl.connectivity.mqtt_gateway import MqttGateway, MqttSettings

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        port = _free_port()
        broker = _broker(exe, d, port)
        c = Collector(Broker(LOOPBACK, port, False), d / "fleet.sqlite", spec,
                      client_id="bench-outages", log=lambda m: None)
        c.start()
        c.connected.wait(10.0)
        gw = MqttGateway(MqttSettings(LOOPBACK, port, gateway_id="bench"), d / "gw.sqlite",
                         0.1, 1_000_000)
        gw.start()
        inputs = {"pack_soc": 0.5, "soh_capacity": 0.9, "pack_voltage_V": 350.0,
                  "pack_current_A": 1.0, "cell_voltage_V": np.array([3.6, 3.7]),
                  "cell_temperature_degC": np.array([25.0]), "safety_state": 0,
                  "contactor_state": 2, "charge_current_limit_A": 10.0,
                  "discharge_current_limit_A": 10.0}
        k = 0

        def sample_for(seconds: float) -> None:
            nonlocal k
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                gw.step(k * 0.1, inputs)
                k += 1
                time.sleep(0.005)

        t0 = time.monotonic()
        for _ in range(restarts):
            sample_for(1.5)
            broker.terminate()
            broker.wait()
            broker = _broker(exe, d, port)
        sample_for(1.5)
        broker.terminate()
        broker.wait()
        sample_for(outage_s)
        backlog = len(gw.buffer)
        broker = _broker(exe, d, port)
        back = time.monotonic()
        while len(gw.buffer) and time.monotonic() - back < 120.0:
            time.sleep(0.01)
        drain_s = time.monotonic() - back
        sample_for(1.5)
        while c.counts.stored < k and time.monotonic() - back < 240.0:
            time.sleep(0.05)
        took = time.monotonic() - t0
        gw.stop()
        c.stop()
        broker.terminate()
        broker.wait()
        with sqlite3.connect(d / "fleet.sqlite") as db:
            seqs = [r[0] for r in db.execute("SELECT seq FROM telemetry ORDER BY seq")]
        lost = k - len(set(seqs))
        print(f"{k} records sampled in {took:.0f} s through {restarts} broker restarts and a "
              f"{outage_s:g} s outage: {len(seqs)} stored, {lost} lost, "
              f"{len(seqs) - len(set(seqs))} stored twice, {c.counts.duplicates} redeliveries "
              f"ignored; the {backlog} records buffered during the outage drained in "
              f"{drain_s:.1f} s after the broker was back")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--broker", action="store_true",
                    help="also end to end through a Mosquitto broker on a loopback port")
    ap.add_argument("--postgresql", metavar="URL", default=None,
                    help="also into this PostgreSQL database (its table telemetry is "
                    "emptied)")
    ap.add_argument("--outages", action="store_true",
                    help="instead: a gateway through broker restarts and a long outage")
    ap.add_argument("--restarts", type=int, default=10)
    ap.add_argument("--outage-s", type=float, default=60.0)
    args = ap.parse_args()
    spec = load_spec()
    if args.outages:
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        outages(mosquitto, args.restarts, args.outage_s, spec)
        return
    data = payloads(args.records, spec)
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto"
                                        if Path("/usr/sbin/mosquitto").exists() else None)
    results: dict[str, list[float]] = {"bare": [], "ingest": [], "e2e": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            rate, rows = ingest(data, spec, Path(tmp) / "ingest.sqlite")
            results["ingest"].append(rate)
            results["bare"].append(bare(rows, spec, Path(tmp)))
            if args.postgresql:
                results.setdefault("pg_ingest", []).append(
                    ingest(data, spec, args.postgresql)[0])
                results.setdefault("pg_bare", []).append(
                    bare_postgres(rows, spec, args.postgresql))
            if args.broker and exe is not None:
                results["e2e"].append(end_to_end(data, spec, Path(tmp), exe))
    med = {k: statistics.median(v) for k, v in results.items() if v}
    print(f"{args.records} records of the telemetry wire format into SQLite, medians of "
          f"{args.repeat} runs:")
    print(f"  bare executemany of the same rows   {med['bare']:10.0f} records/s")
    print(f"  collector ingest (decode, schema, idempotent insert)"
          f" {med['ingest']:10.0f} records/s = {med['ingest'] / med['bare']:.2f} × bare "
          f"(target ≥ {TARGET:.0f})")
    if "pg_ingest" in med:
        print(f"  PostgreSQL: bare executemany {med['pg_bare']:10.0f} records/s, collector "
              f"ingest {med['pg_ingest']:10.0f} records/s = "
              f"{med['pg_ingest'] / med['pg_bare']:.2f} × bare")
    if "e2e" in med:
        print(f"  end to end through mosquitto (QoS 1, ack after commit)"
              f" {med['e2e']:10.0f} records/s")
    elif args.broker:
        print("  end to end: the Debian package mosquitto is not installed")


if __name__ == "__main__":
    main()
