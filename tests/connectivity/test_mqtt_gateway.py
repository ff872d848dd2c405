"""The reference MQTT gateway and the collector against a real Mosquitto broker on a
loopback port: records reach the database once and in order; a broker stopped and started
again during publishing (ten times), connections reset and stalled by a relay, a gateway
killed with records on disk and a buffer that overflows lose nothing they must keep and
duplicate nothing; a collector that receives a
record twice stores it once and a payload that is not a record is refused with its topic and
what was expected; a user name and password are required where the broker asks."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pytest

from conformance.spec import load_spec
from conformance.telemetry.collector import Collector, parse_broker
from reference_impl.connectivity.mqtt_gateway import MqttGateway, MqttSettings, wire_format
from reference_impl.connectivity.telemetry import empty_record, sample

from .conftest import LOOPBACK, Mosquitto, free_port

ROOT = Path(__file__).resolve().parents[2]
PERIOD_S = 0.1
#: records of the broker restart run, and the restarts
RESTART_RECORDS = 600
RESTARTS = 10


def inputs(k: int) -> dict[str, Any]:
    """Telemetry inputs that differ on every step ``k``."""
    return {"pack_soc": (k % 100) / 100.0, "soh_capacity": 0.95, "pack_voltage_V": 300.0 + k % 50,
            "pack_current_A": float(k % 7) - 3.0,
            "cell_voltage_V": np.array([3.5, 3.6 + (k % 10) / 100.0]),
            "cell_temperature_degC": np.array([20.0, 25.0]), "safety_state": k % 3,
            "contactor_state": 2, "charge_current_limit_A": 40.0,
            "discharge_current_limit_A": 80.0}


def wait_for(what: str, done: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.02)


def rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT gateway_id, seq, telemetry_record_time_s, telemetry_pack_soc "
                           "FROM telemetry ORDER BY gateway_id, seq").fetchall()


@pytest.fixture
def collector(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Collector]:
    c = Collector(parse_broker(mosquitto.url), tmp_path / "collected.sqlite", load_spec(),
                  client_id="test-collector", log=lambda m: None)
    c.start()
    wait_for("the collector subscribed", c.connected.is_set, 10.0)
    try:
        yield c
    finally:
        c.stop()


def gateway(port: int, db: Path, capacity: int = 1000, **settings: Any) -> MqttGateway:
    return MqttGateway(MqttSettings(LOOPBACK, port, gateway_id="gw1", **settings), db,
                       PERIOD_S, capacity)


def run_steps(gw: MqttGateway, first: int, n: int, pause_s: float = 0.0,
              during: Callable[[int], None] | None = None) -> None:
    for k in range(first, first + n):
        gw.step(k * PERIOD_S, inputs(k))
        if during is not None:
            during(k)
        if pause_s:
            time.sleep(pause_s)


def test_records_reach_the_database_once_and_in_order(mosquitto: Mosquitto,
                                                      collector: Collector,
                                                      tmp_path: Path) -> None:
    gw = gateway(mosquitto.port, tmp_path / "gw.sqlite")
    gw.start()
    wait_for("the gateway connected", lambda: gw.connected, 10.0)
    run_steps(gw, 0, 50)
    wait_for("50 records stored", lambda: collector.counts.stored >= 50)
    wait_for("the buffer emptied", lambda: len(gw.buffer) == 0)
    gw.stop()
    got = rows(tmp_path / "collected.sqlite")
    assert [r[1] for r in got] == list(range(50))
    assert [r[2] for r in got] == pytest.approx([k * PERIOD_S for k in range(50)])
    assert [r[3] for r in got] == [(k % 100) / 100.0 for k in range(50)]

    def offline() -> bool:  # the clean stop said so on the status topic
        with sqlite3.connect(tmp_path / "collected.sqlite") as con:
            return con.execute("SELECT online FROM gateway_status WHERE gateway_id = 'gw1'"
                               ).fetchone() == (0,)

    wait_for("the gateway's status offline", offline, 10.0)


def test_broker_restarts_lose_and_duplicate_nothing(mosquitto: Mosquitto, collector: Collector,
                                                    tmp_path: Path) -> None:
    """RESTART_RECORDS records sampled 2 ms apart while the broker is stopped and started
    RESTARTS times: the database holds every sequence number once."""
    gw = gateway(mosquitto.port, tmp_path / "gw.sqlite")
    gw.start()
    wait_for("the gateway connected", lambda: gw.connected, 10.0)
    every = RESTART_RECORDS // (RESTARTS + 1)

    def restart(k: int) -> None:
        if k and k % every == 0 and k // every <= RESTARTS:
            mosquitto.restart()

    run_steps(gw, 0, RESTART_RECORDS, pause_s=0.002, during=restart)
    wait_for("every record stored", lambda: collector.counts.stored >= RESTART_RECORDS, 60.0)
    wait_for("the buffer emptied", lambda: len(gw.buffer) == 0, 30.0)
    gw.stop()
    got = rows(tmp_path / "collected.sqlite")
    seqs = [r[1] for r in got]
    lost = sorted(set(range(RESTART_RECORDS)) - set(seqs))
    assert seqs == list(range(RESTART_RECORDS)), f"lost {len(lost)}: {lost[:10]}"


_KILLED = """
import sys, time
sys.path.insert(0, {root!r})
from tests.connectivity.test_mqtt_gateway import gateway, inputs, PERIOD_S
from pathlib import Path
gw = gateway({port}, Path({db!r}))
gw.start()
for k in range({n}):
    gw.step(k * PERIOD_S, inputs(k))
print("sampled", flush=True)
time.sleep(60)
"""


def test_a_killed_gateway_loses_nothing_it_sampled(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """A gateway samples 40 records while its broker is unreachable and is killed (SIGKILL);
    started again on the same file with the broker back, it publishes all 40."""
    mosquitto.stop()
    db = tmp_path / "gw.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED.format(
        root=str(ROOT), port=mosquitto.port, db=str(db), n=40)], stdout=subprocess.PIPE,
        cwd=ROOT, start_new_session=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"sampled"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    mosquitto.start()
    c = Collector(parse_broker(mosquitto.url), tmp_path / "collected.sqlite", load_spec(),
                  client_id="test-collector", log=lambda m: None)
    c.start()
    wait_for("the collector subscribed", c.connected.is_set, 10.0)
    gw = gateway(mosquitto.port, db)
    gw.start()
    wait_for("40 records stored", lambda: c.counts.stored >= 40)
    gw.stop()
    c.stop()
    assert [r[1] for r in rows(tmp_path / "collected.sqlite")] == list(range(40))


def test_an_overflowing_buffer_keeps_the_newest_and_counts(mosquitto: Mosquitto,
                                                            collector: Collector,
                                                            tmp_path: Path) -> None:
    """25 records with the broker out of reach and room for 10: the newest 10 arrive, the
    15 others are counted as dropped, in the buffer and in the records that follow."""
    port = free_port()  # nothing listens there
    db = tmp_path / "gw.sqlite"
    gw = gateway(port, db, capacity=10)
    gw.start()
    run_steps(gw, 0, 25)
    assert (len(gw.buffer), gw.buffer.dropped) == (10, 15)
    gw.stop()
    gw = gateway(mosquitto.port, db, capacity=10)
    gw.start()
    wait_for("10 records stored", lambda: collector.counts.stored >= 10)
    gw.stop()
    assert [r[1] for r in rows(tmp_path / "collected.sqlite")] == list(range(15, 25))
    with sqlite3.connect(tmp_path / "collected.sqlite") as con:
        # each record counts the drops before it was sampled: the last one, 14
        assert con.execute("SELECT MAX(telemetry_dropped_records) FROM telemetry"
                           ).fetchone() == (14,)


def test_the_collector_stores_a_redelivered_record_once(mosquitto: Mosquitto,
                                                        collector: Collector,
                                                        tmp_path: Path) -> None:
    wire = wire_format()
    sampled = sample(1.0, inputs(3), empty_record())
    record = {"seq": 7, "time_unix_s": 1.7e9,
              **{f: 0 if f == "telemetry_dropped_records" else sampled[f]
                 for f in wire["fields"]}}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.connect(LOOPBACK, mosquitto.port)
    client.loop_start()
    for _ in range(3):
        client.publish("obsa/gw9/telemetry", json.dumps(record),
                       qos=1).wait_for_publish(5.0)
    wait_for("3 received", lambda: collector.counts.received >= 3)
    client.loop_stop()
    client.disconnect()
    assert (collector.counts.stored, collector.counts.duplicates) == (1, 2)
    assert [r[:2] for r in rows(tmp_path / "collected.sqlite")] == [("gw9", 7)]


@pytest.mark.parametrize(("payload", "expected"), [
    (b"not json", "expected a JSON object"),
    (b'{"seq": 1}', "'time_unix_s' is a required property"),
], ids=["not_json", "missing_keys"])
def test_the_collector_refuses_what_is_no_record(mosquitto: Mosquitto, tmp_path: Path,
                                                 payload: bytes, expected: str) -> None:
    said: list[str] = []
    c = Collector(parse_broker(mosquitto.url), tmp_path / "c.sqlite", load_spec(),
                  client_id="test-refusing", log=said.append)
    c.start()
    wait_for("the collector subscribed", c.connected.is_set, 10.0)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-bad")
    client.connect(LOOPBACK, mosquitto.port)
    client.loop_start()
    client.publish("obsa/gw2/telemetry", payload, qos=1).wait_for_publish(5.0)
    wait_for("rejected", lambda: c.counts.rejected >= 1)
    client.loop_stop()
    client.disconnect()
    c.stop()
    assert c.counts.stored == 0
    assert said and said[0].startswith("obsa telemetry collect: obsa/gw2/telemetry: not "
                                       "stored:") and expected in said[0], said


def test_user_name_and_password(tmp_path: Path) -> None:
    """A broker that requires a password: the gateway with the right one delivers, with a
    wrong one it never connects and keeps its records."""
    from .conftest import _mosquitto

    exe = _mosquitto()
    if exe is None:
        pytest.skip("the Debian package mosquitto is not installed")
    passwd = tmp_path / "passwd"
    subprocess.run([str(Path(exe).with_name("mosquitto_passwd")) if Path(exe).with_name(
        "mosquitto_passwd").exists() else "mosquitto_passwd", "-b", "-c", str(passwd), "gw",
        "s3cret"], check=True, capture_output=True)
    broker = Mosquitto(exe, tmp_path, f"allow_anonymous false\npassword_file {passwd}\n")
    broker.start()
    try:
        wrong = gateway(broker.port, tmp_path / "wrong.sqlite", username="gw", password="nope")
        wrong.start()
        run_steps(wrong, 0, 5)
        time.sleep(1.0)
        assert not wrong.connected and len(wrong.buffer) == 5
        wrong.stop()
        right = gateway(broker.port, tmp_path / "right.sqlite", username="gw",
                        password="s3cret")
        right.start()
        run_steps(right, 0, 5)
        wait_for("delivered", lambda: right.published >= 5, 10.0)
        right.stop()
    finally:
        broker.stop()


def test_tls(tmp_path: Path) -> None:
    """A broker that speaks TLS only: the gateway and the collector (mqtts://) that trust its
    CA deliver and store; a gateway without TLS never connects."""
    from .conftest import _mosquitto, make_certificates

    exe = _mosquitto()
    if exe is None:
        pytest.skip("the Debian package mosquitto is not installed")
    ca, crt, key = make_certificates(tmp_path)
    broker = Mosquitto(exe, tmp_path, f"allow_anonymous true\ncafile {ca}\ncertfile {crt}\n"
                                      f"keyfile {key}\n")
    broker.start()
    c = Collector(parse_broker(f"mqtts://{LOOPBACK}:{broker.port}"),
                  tmp_path / "collected.sqlite", load_spec(), client_id="tls-collector",
                  ca_file=str(ca), log=lambda m: None)
    try:
        c.start()
        wait_for("the collector subscribed over TLS", c.connected.is_set, 10.0)
        plain = gateway(broker.port, tmp_path / "plain.sqlite")
        plain.start()
        secure = gateway(broker.port, tmp_path / "tls.sqlite", tls_ca=str(ca))
        secure.start()
        run_steps(secure, 0, 5)
        wait_for("5 records stored", lambda: c.counts.stored >= 5, 10.0)
        assert not plain.connected
        plain.stop()
        secure.stop()
    finally:
        c.stop()
        broker.stop()
    assert [r[1] for r in rows(tmp_path / "collected.sqlite")] == list(range(5))


def test_obsa_telemetry_collect(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """The command a user runs: it stores what a gateway publishes and stops at --count,
    saying what it did; a bad URL is refused with what was expected."""
    db = tmp_path / "fleet.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "telemetry", "collect",
                             "--broker", mosquitto.url, "--db", f"sqlite:///{db}",
                             "--count", "20", "--duration", "60"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    assert proc.stderr.readline().rstrip().endswith(": subscribed")  # its session exists
    gw = gateway(mosquitto.port, tmp_path / "gw.sqlite")
    gw.start()
    run_steps(gw, 0, 20)
    assert proc.wait(60) == 0
    gw.stop()
    assert "20 stored, 0 duplicates ignored, 0 rejected" in proc.stderr.read()
    assert [r[1] for r in rows(db)] == list(range(20))
    bad = subprocess.run([sys.executable, "-m", "conformance", "telemetry", "collect",
                          "--broker", "tcp://127.0.0.1:1", "--db", str(db)],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2
    assert "expected mqtt://[user[:password]@]host[:port]" in bad.stderr


def test_postgresql(mosquitto: Mosquitto, postgres: Any, tmp_path: Path) -> None:
    """The collector into PostgreSQL (a server of the Debian package started in a temporary
    directory on a loopback port): tables created on first use, each record stored once
    through a broker restart and a redelivery."""
    import psycopg

    c = Collector(parse_broker(mosquitto.url), postgres.url, load_spec(), client_id="pg",
                  log=lambda m: None)
    c.start()
    wait_for("the collector subscribed", c.connected.is_set, 10.0)
    gw = gateway(mosquitto.port, tmp_path / "gw.sqlite")
    gw.start()

    def restart(k: int) -> None:
        if k == 50:
            mosquitto.restart()

    run_steps(gw, 0, 100, pause_s=0.002, during=restart)
    wait_for("100 records stored", lambda: c.counts.stored >= 100, 30.0)
    gw.stop()
    c.stop()
    with psycopg.connect(postgres.url) as db:
        seqs = [r[0] for r in db.execute('SELECT "seq" FROM telemetry ORDER BY "seq"')]
    assert seqs == list(range(100))


def test_connections_cut_and_stalled_lose_and_duplicate_nothing(mosquitto: Mosquitto,
                                                               collector: Collector,
                                                               tmp_path: Path) -> None:
    """The gateway reaches the broker through a relay that resets its connection every 40
    records (9 times) and holds its bytes for 1 s twice: every one of 400 records is stored
    once."""
    from .conftest import Proxy

    proxy = Proxy(mosquitto.port)
    gw = gateway(proxy.port, tmp_path / "gw.sqlite")
    gw.start()
    wait_for("the gateway connected", lambda: gw.connected, 10.0)

    def trouble(k: int) -> None:
        if k and k % 40 == 0:  # each cut hits a live connection
            wait_for("the gateway connected again", lambda: gw.connected, 10.0)
            proxy.cut()
        if k in (100, 300):
            proxy.stall(1.0)

    try:
        run_steps(gw, 0, 400, pause_s=0.002, during=trouble)
        wait_for("every record stored", lambda: collector.counts.stored >= 400, 60.0)
        wait_for("the buffer emptied", lambda: len(gw.buffer) == 0, 30.0)
        assert proxy.cuts == 9  # at 40, 80, … 360, each of a live connection
    finally:
        gw.stop()
        proxy.close()
    assert [r[1] for r in rows(tmp_path / "collected.sqlite")] == list(range(400))
