"""The reference CAN nodes (reference_impl/nodes/can_*.py) on python-can's virtual bus, in
process and in simulated time: two CMUs and the BMU in closed loop with the bench plant, a
vehicle controller emulated here.

The checks are the test's own, built from the spec and from independent code, never from
the codec under test: frames are decoded with cantools from the *published* DBC
(docs/_generated/can/), CRCs are recomputed with crccheck's catalogue CRCs, periods and
counters are judged from what a listening node saw. Each check is also shown to fire on a
deliberately broken frame, encoder or node.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import can
import cantools
import numpy as np
import pytest
from cantools.database.can import Database
from crccheck.crc import Crc8GsmA, Crc8SaeJ1850
from test_reference_full_bms import _declared

from conformance.bench import Bench, BenchConfig
from conformance.spec import load_spec
from conformance.spec.can_models import CanCatalog, Frame
from conformance.spec.loader import Spec
from reference_impl.interfaces import CanStackFault, ContactorState
from reference_impl.nodes.can_bmu import CanBmu
from reference_impl.nodes.can_cmu import CanCmu
from reference_impl.nodes.can_codec import (
    BusCodec,
    RxStatus,
    crc8_sae_j1850,
    e2e_crc,
    module_layout,
)
from reference_impl.nodes.can_timing import Periodic, run_realtime

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = REPO / "docs" / "_generated" / "can"
DT = 0.01
MODULES = 2
CELLS, SENSORS = 16 * MODULES, 8 * MODULES
TRUTH = ("true_pack_current_A", "true_pack_voltage_V", "true_link_voltage_V",
         "true_insulation_resistance_ohm", "true_main_positive_closed",
         "true_main_negative_closed", "true_precharge_closed")


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def _catalog(spec: Spec, bus: str) -> CanCatalog:
    return next(c for c in spec.can_catalogs if c.bus.id == bus)


def _published(bus: str) -> Database:
    db = cantools.database.load_file(PUBLISHED / f"obsa_{bus}.dbc")
    assert isinstance(db, Database)
    return db


# ------------------------------------------------------------------ the test's own checks
@dataclass
class Seen:
    """A frame a listening node read, at the simulated time of the step it arrived in."""

    t: float
    msg: can.Message


def _mux_of(frame: Frame, data: bytes) -> int | None:
    m = frame.multiplexer
    if m is None:
        return None
    return int.from_bytes(data, "little") >> m.start_bit & ((1 << m.length) - 1)


def _by_id(catalog: CanCatalog) -> dict[tuple[int, bool], Frame]:
    return {(f.id, f.extended): f for f in catalog.frames}


def independent_crc(frame: Frame, data: bytes) -> int:
    """The CRC the catalog asks for, computed with crccheck (not the reference's CRC)."""
    assert frame.e2e is not None
    crc_byte = frame.e2e.crc.start_bit // 8
    covered = b""
    if frame.e2e.data_id is not None:
        covered += frame.e2e.data_id.to_bytes(2, "little")  # low byte first
    covered += data[:crc_byte] + data[crc_byte + 1:]
    algorithm = {"crc8_sae_j1850": Crc8SaeJ1850, "crc8_sae_j1850_zero": Crc8GsmA}
    return int(algorithm[frame.e2e.crc.algorithm].calc(covered))


def e2e_problems(catalog: CanCatalog, seen: list[Seen]) -> list[str]:
    """Frames whose CRC is not the catalog algorithm's, or whose alive counter is not the
    previous one (same identifier and multiplexer value) plus 1, wrapping after the
    catalog's counter values (0 … 14 in AUTOSAR E2E profile 1)."""
    frames, problems = _by_id(catalog), []
    last: dict[tuple[str, int | None], int] = {}
    for s in seen:
        frame = frames[(s.msg.arbitration_id, s.msg.is_extended_id)]
        if frame.e2e is None:
            continue
        data = bytes(s.msg.data)
        crc = data[frame.e2e.crc.start_bit // 8]
        if crc != independent_crc(frame, data):
            problems.append(f"{frame.name} at {s.t:.2f} s: CRC 0x{crc:02X}, expected "
                            f"0x{independent_crc(frame, data):02X}")
        c = frame.e2e.counter
        counter = int.from_bytes(data, "little") >> c.start_bit & ((1 << c.length) - 1)
        key = (frame.name, _mux_of(frame, data))
        if key in last and counter != (last[key] + 1) % frame.e2e.counter_values:
            problems.append(f"{frame.name} {key[1]} at {s.t:.2f} s: counter {counter} after "
                            f"{last[key]}")
        last[key] = counter
    return problems


def cycle_problems(catalog: CanCatalog, seen: list[Seen], node: str,
                   mux_values: dict[str, list[int]], start: float, end: float) -> list[str]:
    """Every periodic frame ``node`` sends (every multiplexer value in ``mux_values``)
    appears within a period of ``start`` and then at its period: every interval within the
    catalog's tolerance (simulated time has no host jitter), none missing up to ``end``."""
    times: dict[tuple[str, int | None], list[float]] = defaultdict(list)
    frames = _by_id(catalog)
    for s in seen:
        frame = frames[(s.msg.arbitration_id, s.msg.is_extended_id)]
        times[(frame.name, _mux_of(frame, bytes(s.msg.data)))].append(s.t)
    problems = []
    for frame in catalog.frames:
        if node not in frame.senders or frame.cycle is None:
            continue
        period, tol = frame.cycle.period_ms / 1000, frame.cycle.tolerance_ms / 1000
        for mux in mux_values.get(frame.name, [None]):  # type: ignore[list-item]
            ts = np.array(times.get((frame.name, mux), []))
            if ts.size == 0 or ts[0] > start + period:
                problems.append(f"{frame.name} {mux}: first frame not within a period")
                continue
            if ts[-1] < end - period - tol:
                problems.append(f"{frame.name} {mux}: last frame at {ts[-1]:.2f} s, run to "
                                f"{end:.2f} s")
            gaps = np.abs(np.diff(ts) - period)
            if gaps.size and gaps.max() > tol + 1e-9:
                problems.append(f"{frame.name} {mux}: an interval off its period by "
                                f"{gaps.max() * 1000:.1f} ms (tolerance {tol * 1000:g} ms)")
    return problems


def decode_problems(db: Database, seen: list[Seen]) -> list[str]:
    """Frames the published DBC does not decode at their length, or whose values lie
    outside their signal's range."""
    problems = []
    for s in seen:
        m = db.get_message_by_frame_id(s.msg.arbitration_id)
        if len(s.msg.data) != m.length or s.msg.is_extended_id != m.is_extended_frame:
            problems.append(f"{m.name}: {len(s.msg.data)} bytes, extended "
                            f"{s.msg.is_extended_id}")
            continue
        try:
            values = m.decode(bytes(s.msg.data), decode_choices=False, scaling=True)
        except cantools.database.DecodeError as exc:
            problems.append(f"{m.name}: does not decode: {exc}")
            continue
        assert isinstance(values, dict)
        for name, value in values.items():
            sig = m.get_signal_by_name(name)
            if sig.minimum is not None and not (sig.minimum - 1e-9 <= float(value)  # type: ignore[arg-type]
                                                <= sig.maximum + 1e-9):  # type: ignore[operator]
                problems.append(f"{m.name}.{name} = {value} outside [{sig.minimum}, "
                                f"{sig.maximum}]")
    return problems


# ------------------------------------------------------------------------------ the rig
@dataclass
class Rig:
    """``MODULES`` CMUs and the BMU on two virtual buses (unique channels), the bench plant,
    a vehicle controller emulated by the test, and a listener on each bus."""

    cmu_class: type[CanCmu] = CanCmu
    seed: int = 11
    bench: Bench = field(init=False)
    t: float = 0.0
    k: int = 0
    heartbeat: bool = True  # the vehicle controller sends its state request
    frozen_counter: bool = False  # … with its alive counter stuck
    close_request: bool = True

    def __post_init__(self) -> None:
        self.bench = Bench(BenchConfig(n_cells=CELLS, n_temp_sensors=SENSORS, capacity_Ah=5.0,
                                       initial_soc=0.6, soc_spread=0.02, seed=self.seed))
        channel = uuid.uuid4().hex
        self._buses: list[can.BusABC] = []
        internal = [self._bus(f"internal-{channel}") for _ in range(MODULES + 2)]
        vehicle = [self._bus(f"vehicle-{channel}") for _ in range(3)]
        self.switches = np.zeros(CELLS, dtype=bool)
        #: per module: (time, true cell voltages, true temperatures) of every conversion
        self.conversions: list[list[tuple[float, np.ndarray, np.ndarray]]] = [
            [] for _ in range(MODULES)]
        self.cmus = [self.cmu_class(internal[m], m, self._source(m), switches=self._sink(m))
                     for m in range(MODULES)]
        self.bmu = CanBmu(internal[MODULES], vehicle[0], self._hardware, n_cells=CELLS,
                          n_sensors=SENSORS)
        parameters = _declared()
        parameters.pop("cell_monitor", None)  # the CMUs' block, not the BMU's
        self.bmu.configure(parameters)
        self.internal_tap, self.vehicle_tap, self.vcu_bus = internal[-1], vehicle[1], vehicle[2]
        self.vcu = BusCodec("vehicle_can", "vcu")
        self.vcu_schedule = Periodic(0.1)
        self.last_request: can.Message | None = None
        self.last_request_t = 0.0
        self.seen: dict[str, list[Seen]] = {"internal_can": [], "vehicle_can": []}
        self.signals: dict[str, Any] = {}
        self.history: list[tuple[float, dict[str, Any]]] = []

    def _bus(self, channel: str) -> can.BusABC:
        bus = can.Bus(interface="virtual", channel=channel)
        self._buses.append(bus)
        return bus

    def _source(self, m: int) -> Callable[[float], tuple[np.ndarray, np.ndarray]]:
        def measure(t: float) -> tuple[np.ndarray, np.ndarray]:
            pins = self.bench.plant_inputs()
            v = np.array(pins["true_cell_voltage_V"][16 * m:16 * m + 16])
            temp = np.array(pins["true_cell_temperature_degC"][8 * m:8 * m + 8])
            self.conversions[m].append((t, v, temp))
            return v, temp
        return measure

    def _sink(self, m: int) -> Callable[[np.ndarray], None]:
        def switch(closed: np.ndarray) -> None:
            self.switches[16 * m:16 * m + 16] = closed
        return switch

    def _hardware(self, t: float) -> dict[str, Any]:
        truth = self.bench.truth(arrays=False)
        return {k: truth[k] for k in TRUTH}

    def step(self) -> None:
        self.t = t = round(self.k * DT, 9)
        for cmu in self.cmus:
            cmu.step(t)
        if self.heartbeat and self.vcu_schedule.due(t):
            if self.frozen_counter and self.last_request is not None:
                # a hung sender repeats its last frame: the same counter, a valid CRC
                msg = self.last_request
                self.vcu_bus.send(can.Message(arbitration_id=msg.arbitration_id,
                                              data=msg.data, is_extended_id=False))
            else:
                self.last_request = self.vcu.encode(
                    "vcu_state_request", {"close_request": self.close_request,
                                          "fault_reset_request": False}, t)
                self.last_request_t = t
                self.vcu_bus.send(self.last_request)
        self.signals = self.bmu.step(t)
        self.history.append((t, self.signals))
        self.bench.apply(self.signals)  # the contactor commands: the BMU's own drivers
        # the balancing resistors are switched by the CMUs, not by the BMU's command record
        self.bench.apply({"balancing_cmd": self.switches.copy()})
        for name, tap in (("internal_can", self.internal_tap), ("vehicle_can", self.vehicle_tap)):
            while (msg := tap.recv(timeout=0.0)) is not None:
                self.seen[name].append(Seen(t, msg))
        while self.vcu_bus.recv(timeout=0.0) is not None:
            pass  # the vehicle controller reads nothing back here
        self.bench.advance()
        self.k += 1

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds / DT)):
            self.step()

    def close(self) -> None:
        for bus in self._buses:
            bus.shutdown()


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


@pytest.fixture(scope="module")
def healthy_run() -> Iterator[Rig]:
    """20 s of the closed loop: the HV path closes, the balancing acts."""
    r = Rig()
    r.run(20.0)
    yield r
    r.close()


def _mux_values() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    layout = module_layout()
    cmu = {m: {"cmu_cell_voltages": [layout.voltage_group(m, j)
                                     for j in range(layout.voltage_groups_per_module)],
               "cmu_cell_temperatures": [layout.temperature_group(m, j)
                                         for j in range(layout.temperature_groups_per_module)],
               "cmu_status": [m]} for m in range(MODULES)}
    merged: dict[str, list[int]] = defaultdict(list)
    for values in cmu.values():
        for name, v in values.items():
            merged[name] += v
    return dict(merged), {"bmu_balancing_cmd": list(range(MODULES))}


# ------------------------------------------------------------------------------- CRC-8
def test_crc8_sae_j1850_matches_the_published_check_values() -> None:
    """CRC-8 SAE J1850 (polynomial 0x1D): the CRC catalogue's check value for the ASCII
    "123456789" (CRC-8/SAE-J1850 0x4B; start 0x00 and no final XOR, CRC-8/GSM-A, 0x37) and
    the AUTOSAR CRC library's example table for Crc_CalculateCRC8."""
    assert crc8_sae_j1850(b"123456789") == 0x4B
    assert crc8_sae_j1850(b"123456789", start=0x00, final_xor=0x00) == 0x37
    autosar = {"00000000": 0x59, "F20183": 0x37, "0FAA0055": 0x79, "00FF5511": 0xB8,
               "332255AABBCCDDEEFF": 0xCB, "926B55": 0x8C, "FFFFFFFF": 0x74}
    for data, crc in autosar.items():
        assert crc8_sae_j1850(bytes.fromhex(data)) == crc, data
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 8, 64):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc8_sae_j1850(data) == Crc8SaeJ1850.calc(data)
        assert crc8_sae_j1850(data, 0, 0) == Crc8GsmA.calc(data)


def test_the_e2e_crc_is_the_catalogs_over_data_id_and_payload(spec: Spec) -> None:
    """AUTOSAR E2E profile 1: data id low byte, high byte, then the payload without the
    CRC byte; the reference's CRC agrees with the independent one on every protected frame,
    and a CRC over the data id in the other byte order (a classic slip) does not."""
    rng = np.random.default_rng(5)
    codec = BusCodec("internal_can", "bmu")
    for frame in _catalog(spec, "internal_can").frames:
        assert frame.e2e is not None
        rule = codec.frames[frame.name].rule.e2e
        assert rule is not None and rule.data_id == frame.e2e.data_id
        for _ in range(20):
            data = rng.integers(0, 256, frame.dlc, dtype=np.uint8).tobytes()
            assert e2e_crc(rule, data, 0) == independent_crc(frame, data)
        swapped = Crc8GsmA.calc(frame.e2e.data_id.to_bytes(2, "big") + data[1:])
        assert swapped != independent_crc(frame, data)


# -------------------------------------------------------------- frames on a healthy run
def test_every_frame_decodes_with_the_published_dbc(healthy_run: Rig) -> None:
    for bus in ("internal_can", "vehicle_can"):
        seen = healthy_run.seen[bus]
        assert seen
        assert decode_problems(_published(bus), seen) == []


def test_every_frame_of_a_node_comes_at_its_period(spec: Spec, healthy_run: Rig) -> None:
    cmu_mux, bmu_mux = _mux_values()
    internal, vehicle = healthy_run.seen["internal_can"], healthy_run.seen["vehicle_can"]
    end = healthy_run.t
    cat_i, cat_v = _catalog(spec, "internal_can"), _catalog(spec, "vehicle_can")
    assert cycle_problems(cat_i, internal, "cmu", cmu_mux, 0.0, end) == []
    assert cycle_problems(cat_i, internal, "bmu", bmu_mux, 0.0, end) == []
    assert cycle_problems(cat_v, vehicle, "bmu", {}, 0.0, end) == []
    # the frames per simulated second: CMUs 85 per module (6 voltage groups and a status at
    # 10 Hz, 3 temperature groups at 5 Hz); BMU 10 syncs and 10 commands per module,
    # vehicle bus 5 frames at 10 Hz and 2 at 1 Hz
    bmu_vehicle = [s for s in vehicle if s.msg.arbitration_id != 0x210]  # not the vcu's
    assert len(internal) / (end + DT) == pytest.approx(85 * MODULES + 10 + 10 * MODULES,
                                                       rel=0.02)
    assert len(bmu_vehicle) / (end + DT) == pytest.approx(52, rel=0.05)


def test_alive_counters_increment_and_crcs_check(spec: Spec, healthy_run: Rig) -> None:
    for bus in ("internal_can", "vehicle_can"):
        seen = healthy_run.seen[bus]
        assert e2e_problems(_catalog(spec, bus), seen) == []
        catalog = _catalog(spec, bus)
        for frame in catalog.frames:
            if frame.e2e is None or "bmu" not in frame.senders:
                continue
            counters = {int(s.msg.data[1]) & 0x0F for s in seen
                        if s.msg.arbitration_id == frame.id}
            # AUTOSAR E2E profile 1 counts 0 … 14 and never sends 15; the rest 0 … 15
            assert counters == set(range(frame.e2e.counter_values)), frame.name


def test_the_frame_checks_fire_on_broken_frames(spec: Spec, healthy_run: Rig) -> None:
    """A flipped CRC bit, a frozen counter, a dropped frame, a late frame, a short frame
    and a value out of its range: each check reports its own."""
    cat = _catalog(spec, "internal_can")
    seen = [s for s in healthy_run.seen["internal_can"] if s.msg.arbitration_id == 0x220]
    status0 = [s for s in seen if s.msg.data[2] == 0][:30]
    assert len(status0) == 30

    def copy(s: Seen, t: float | None = None, data: bytes | None = None) -> Seen:
        msg = can.Message(arbitration_id=s.msg.arbitration_id, data=data or s.msg.data,
                          is_extended_id=s.msg.is_extended_id)
        return Seen(s.t if t is None else t, msg)

    flipped = bytearray(status0[5].msg.data)
    flipped[4] ^= 0x01
    bad_crc = status0[:5] + [copy(status0[5], data=bytes(flipped))] + status0[6:]
    assert any("CRC" in p for p in e2e_problems(cat, bad_crc))
    frozen = status0[:5] + [status0[4]] + status0[6:]
    assert any("counter" in p for p in e2e_problems(cat, frozen))
    cmu_mux = {"cmu_status": [0]}
    dropped = status0[:10] + status0[11:]
    assert any("interval" in p for p in cycle_problems(cat, dropped, "cmu", cmu_mux,
                                                         0.0, status0[-1].t))
    late = status0[:10] + [copy(status0[10], t=status0[10].t + 0.006)] + status0[11:]
    assert any("interval" in p for p in cycle_problems(cat, late, "cmu", cmu_mux,
                                                         0.0, status0[-1].t))
    assert any("first frame" in p for p in cycle_problems(cat, [], "cmu", cmu_mux, 0.0, 1.0))
    db = _published("internal_can")
    assert decode_problems(db, [copy(status0[0], data=bytes(status0[0].msg.data[:4]))])
    huge = bytearray(status0[0].msg.data)
    huge[2] = 0x0F  # module 15: outside the multiplexer's 0 … 11
    assert decode_problems(db, [copy(status0[0], data=bytes(huge))])


# ------------------------------------------------------------- the pack on the BMU side
def reproduction_error(rig: Rig) -> tuple[float, float]:
    """Largest |BMU's cell voltage − the true voltage its CMU converted| (V) and the same
    for temperatures (K), at every step where a fresh set of frames had just arrived."""
    err_v = err_t = 0.0
    for t, signals in rig.history[1:]:
        on_voltages = abs(t / 0.1 - round(t / 0.1)) < 1e-6
        on_temperatures = abs(t / 0.2 - round(t / 0.2)) < 1e-6
        if not on_voltages:
            continue
        for m in range(MODULES):
            times = [c[0] for c in rig.conversions[m]]
            _, v, temp = rig.conversions[m][bisect.bisect_right(times, t + 1e-9) - 1]
            got = np.asarray(signals["cell_voltage_V"][16 * m:16 * m + 16])
            err_v = max(err_v, float(np.abs(got - v).max()))
            if on_temperatures:
                got_t = np.asarray(signals["cell_temperature_degC"][8 * m:8 * m + 8])
                err_t = max(err_t, float(np.abs(got_t - temp).max()))
    return err_v, err_t


def test_the_bmu_reproduces_the_plants_cells_within_the_resolution(healthy_run: Rig) -> None:
    """The BMU's cell arrays are the CMUs' conversions of the plant, within one step of the
    signal's scale (OBSA-CAN-003: 1 mV, 0.1 K), every cell valid, nothing faulted; the HV
    path closed and the balancing switched cells through the CMUs."""
    err_v, err_t = reproduction_error(healthy_run)
    assert err_v <= 0.001 and err_t <= 0.1, (err_v, err_t)
    last = healthy_run.signals
    assert np.all(last["cell_voltage_valid"]) and np.all(last["cell_temperature_valid"])
    assert last["contactor_state"] == ContactorState.CLOSED
    assert last["safety_fault_flags"] == 0 and last["can_fault_flags"] == 0
    assert healthy_run.switches.any(), "no balancing switch was closed over the bus"
    assert all(c.synchronised_conversions >= c.conversions - 1 for c in healthy_run.cmus)
    counts = healthy_run.bmu.rx_counts
    assert all(c.discarded == 0 for c in counts.values())


class ScaledCmu(CanCmu):
    """A faulty CMU: its voltages leave 0.5 % high (a wrong scale in its encoder)."""

    def _send(self, name: str, values: Any, t: float, mux: int) -> None:
        if name == "cmu_cell_voltages":
            values = {k: v * 1.005 if k.startswith("cell_voltage_V") else v
                      for k, v in values.items()}
        super()._send(name, values, t, mux)


def test_the_reproduction_check_fires_on_a_wrong_scale() -> None:
    r = Rig(cmu_class=ScaledCmu)
    try:
        r.run(1.0)
        err_v, _ = reproduction_error(r)
    finally:
        r.close()
    assert err_v > 0.01


# ------------------------------------------------------------ discarded frames, counted
def forge(spec: Spec, name: str, values: dict[str, Any], mux: int, counter: int,
          crc_ok: bool = True) -> can.Message:
    """A frame of the internal bus built by the test alone: the published DBC's layout,
    the given alive counter, the independent CRC (inverted when not ``crc_ok``)."""
    frame = next(f for f in _catalog(spec, "internal_can").frames if f.name == name)
    m = _published("internal_can").get_message_by_name(name)
    assert frame.multiplexer is not None
    data = bytearray(m.encode({**values, frame.multiplexer.name: mux, "alive_counter": counter,
                               "crc": 0}, scaling=True, strict=True))
    data[0] = independent_crc(frame, bytes(data)) ^ (0 if crc_ok else 0xFF)
    return can.Message(arbitration_id=frame.id, data=data, is_extended_id=False)


def _last_counter(rig: Rig, frame_id: int, mux: int) -> int:
    last = [s for s in rig.seen["internal_can"]
            if s.msg.arbitration_id == frame_id and s.msg.data[2] == mux][-1]
    return int(last.msg.data[1]) & 0x0F


@pytest.mark.parametrize("defect", ["crc", "frozen_counter", "counter_jump", "none"])
def test_the_bmu_drops_and_counts_a_bad_frame(spec: Spec, rig: Rig, defect: str) -> None:
    """A voltage frame of group 0 with 4.2 V in cell 0, sent between two of the CMU's own:
    with a bad CRC, a repeated counter or a jump of 2 it is discarded and counted, the cell
    keeps its value, and can_fault_flags shows crc_error or alive_counter_error in that
    step; the same frame with the right next counter is taken (so the check can fail)."""
    rig.run(1.05)  # the CMUs sent at 1.0 s and send next at 1.1 s
    c = _last_counter(rig, 0x200, 0)
    counter = {"crc": c + 1, "frozen_counter": c, "counter_jump": c + 2, "none": c + 1}[defect]
    values = {"cell_voltage_V_0": 4.2, "cell_voltage_V_1": 3.6, "cell_voltage_V_2": 3.6,
              "cell_voltage_valid_0": 1, "cell_voltage_valid_1": 1, "cell_voltage_valid_2": 1}
    rig.internal_tap.send(forge(spec, "cmu_cell_voltages", values, 0, counter % 15,
                                crc_ok=defect != "crc"))
    before = rig.bmu.rx_counts["cmu_cell_voltages"]
    crc0, cnt0, ok0 = before.crc_errors, before.counter_errors, before.accepted
    v_before = float(rig.signals["cell_voltage_V"][0])
    rig.step()
    after = rig.bmu.rx_counts["cmu_cell_voltages"]
    flags = CanStackFault(rig.signals["can_fault_flags"])
    v_after = float(rig.signals["cell_voltage_V"][0])
    if defect == "none":
        assert v_after == pytest.approx(4.2) and after.accepted == ok0 + 1 and flags == 0
        return
    assert v_after == v_before != pytest.approx(4.2)
    assert after.accepted == ok0
    if defect == "crc":
        assert after.crc_errors == crc0 + 1 and flags == CanStackFault.CRC_ERROR
    else:
        assert (after.counter_errors == cnt0 + 1
                and flags == CanStackFault.ALIVE_COUNTER_ERROR)
    rig.run(0.5)  # the CMU's stream is taken again, the flag has fallen
    assert rig.signals["can_fault_flags"] == 0
    assert rig.bmu.rx_counts["cmu_cell_voltages"].accepted > ok0
    assert abs(float(rig.signals["cell_voltage_V"][0]) - v_before) < 0.01


def _with_mux(spec: Spec, msg: can.Message, mux: int) -> can.Message:
    """``msg`` with its multiplexer byte set to ``mux`` and its CRC made right again."""
    frame = next(f for f in _catalog(spec, "internal_can").frames if f.id == msg.arbitration_id)
    data = bytearray(msg.data)
    data[2] = mux
    data[0] = independent_crc(frame, bytes(data))
    return can.Message(arbitration_id=msg.arbitration_id, data=data, is_extended_id=False)


def test_unknown_and_malformed_frames_change_nothing(spec: Spec, rig: Rig) -> None:
    """OBSA-CAN-007: frames of ids the catalog does not list are ignored; catalog frames
    shorter than their length, or with a multiplexer value it does not have, are discarded
    and counted; no output but can_fault_flags would change (here none does)."""
    rig.run(1.0)
    rng = np.random.default_rng(7)
    for i in range(200):
        rig.internal_tap.send(can.Message(arbitration_id=int(rng.integers(0x300, 0x7FF)),
                                          data=bytes(int(rng.integers(0, 9))),
                                          is_extended_id=False))
        if i % 20 == 0:
            rig.internal_tap.send(can.Message(arbitration_id=0x200, data=b"\x00\x01",
                                              is_extended_id=False))
    # a voltage frame of a group the multiplexer does not have, with a correct CRC
    voltages = {f"cell_voltage_{k}_{e}": 1 for k in ("V", "valid") for e in range(3)}
    rig.internal_tap.send(_with_mux(spec, forge(spec, "cmu_cell_voltages", voltages, 0, 3),
                                    200))
    rig.step()
    assert rig.bmu.internal_codec.unknown_frames == 200
    assert rig.bmu.rx_counts["cmu_cell_voltages"].malformed == 11
    assert rig.signals["can_fault_flags"] == 0
    assert np.all(rig.signals["cell_voltage_valid"])


# ----------------------------------------------------------------------- the CMU alone
def test_the_cmu_opens_its_switches_when_the_balancing_command_times_out() -> None:
    """bmu_balancing_cmd times out after 1 s: the CMU opens every switch within its 100 ms
    reaction — and not before the timeout."""
    channel = f"cmu-{uuid.uuid4().hex}"
    with can.Bus(interface="virtual", channel=channel) as bus, \
            can.Bus(interface="virtual", channel=channel) as master:
        closed: list[np.ndarray] = []
        cmu = CanCmu(bus, 1, lambda t: (np.full(16, 3.3), np.full(8, 25.0)),
                     switches=closed.append)
        bmu = BusCodec("internal_can", "bmu")
        wanted = {f"balancing_cmd_{i}": i in (2, 5, 15) for i in range(16)}
        last_cmd = None
        for k in range(300):
            t = round(k * DT, 9)
            if k % 10 == 0 and t <= 0.5:
                master.send(bmu.encode("bmu_balancing_cmd", wanted, t, 1))
                master.send(bmu.encode("bmu_balancing_cmd", {"balancing_cmd_0": True}, t, 0))
                last_cmd = t
            cmu.step(t)
            while master.recv(timeout=0.0) is not None:
                pass
            assert last_cmd is not None
            if t <= last_cmd + 1.0:
                assert sorted(np.flatnonzero(cmu.switches)) == [2, 5, 15], t
            elif t >= last_cmd + 1.0 + 0.1:
                assert not cmu.switches.any(), t
        assert [sorted(np.flatnonzero(c)) for c in closed] == [[2, 5, 15], []]
        assert cmu.balancing_timeouts == 1


def test_the_cmu_measures_on_its_own_clock_without_sync() -> None:
    channel = f"cmu-{uuid.uuid4().hex}"
    with can.Bus(interface="virtual", channel=channel) as bus, \
            can.Bus(interface="virtual", channel=channel) as tap:
        cmu = CanCmu(bus, 0, lambda t: (np.full(16, 3.3), np.full(8, 25.0)))
        for k in range(101):
            cmu.step(round(k * DT, 9))
        assert cmu.conversions == 11 and cmu.synchronised_conversions == 0
        n = 0
        while tap.recv(timeout=0.0) is not None:
            n += 1
        assert n == 11 * 6 + 6 * 3 + 11  # voltages and status at 10 Hz, temperatures 5 Hz


def test_a_cmu_refuses_a_module_the_multiplexers_cannot_carry() -> None:
    """The groups are numbered per module: the multiplexers' 72 and 36 values carry the
    catalog's 12 modules, and the last one, module 11, sends groups 66 … 71 and 33 … 35."""
    layout = module_layout()
    assert layout.max_modules == 12
    assert [layout.voltage_group(11, j) for j in range(6)] == list(range(66, 72))
    assert [layout.temperature_group(11, j) for j in range(3)] == [33, 34, 35]
    assert layout.cells_of(71) == [(0, 191)] and layout.sensors_of(35) == [(0, 94), (1, 95)]
    with can.Bus(interface="virtual", channel=f"x-{uuid.uuid4().hex}") as bus:
        CanCmu(bus, 11, lambda t: (np.zeros(16), np.zeros(8)))
        with pytest.raises(ValueError, match="expected 0 … 11"):
            CanCmu(bus, 12, lambda t: (np.zeros(16), np.zeros(8)))


# ------------------------------------------------------------------ heartbeat and safety
@pytest.mark.parametrize("loss", ["silent", "frozen_counter"])
def test_heartbeat_loss_opens_the_hv_path_within_the_bound(rig: Rig, loss: str) -> None:
    """vcu_state_request stops (or keeps coming with a stuck alive counter, which the BMU
    discards): rx_timeout and an open HV path once the last valid request is 1 s old, within
    the 200 ms reaction time — and neither before the timeout (OBSA-CAN-006)."""
    rig.run(5.0)
    assert rig.signals["contactor_state"] == ContactorState.CLOSED
    last_valid = rig.last_request_t  # the last valid request
    if loss == "silent":
        rig.heartbeat = False
    else:
        rig.frozen_counter = True
    opened_at = None
    while rig.t < last_valid + 1.5:
        rig.step()
        s, truth = rig.signals, rig.bench.truth(arrays=False)
        timed_out = bool(CanStackFault(s["can_fault_flags"]) & CanStackFault.RX_TIMEOUT)
        if rig.t - last_valid <= 1.0 + 1e-9:  # 1 s old, not older: no timeout yet
            assert not timed_out and s["contactor_state"] == ContactorState.CLOSED, rig.t
        else:
            assert timed_out, rig.t
        if opened_at is None and not truth["true_main_positive_closed"]:
            opened_at = rig.t
    assert opened_at is not None and opened_at <= last_valid + 1.0 + 0.2, opened_at
    assert not rig.signals["main_positive_close_cmd"] and not rig.signals["precharge_close_cmd"]
    if loss == "frozen_counter":
        assert rig.bmu.rx_counts["vcu_state_request"].counter_errors >= 14


def test_the_heartbeat_check_fires_on_a_bmu_that_ignores_heartbeat_loss(rig: Rig) -> None:
    """A BMU that holds the last close request forever keeps the path closed: the bound of
    the heartbeat test is not met."""
    rig.run(5.0)
    rig.bmu._vehicle_requests = lambda t: {  # type: ignore[method-assign]
        "close_request": True, "fault_reset_request": False, "charger_connected": False}
    rig.heartbeat = False
    rig.run(1.5)
    assert rig.bench.truth(arrays=False)["true_main_positive_closed"]


@pytest.mark.parametrize("loss", ["silent", "status_only"])
def test_a_lost_cmu_makes_its_cells_invalid(rig: Rig, loss: str) -> None:
    """Module 1's CMU falls silent — or only its cmu_status stops while its measurements
    still come (the catalog's reaction to the status timeout: the module's measurements are
    lost): 300 ms after its last frame its cells and sensors are invalid, module 0's stay
    valid, and rx_timeout is reported; once it powers up again they are taken again."""
    rig.run(1.0)  # module 1's last frames: at 0.9 s
    cmu = rig.cmus[1]
    if loss == "silent":
        cmu.step = lambda t: None  # type: ignore[method-assign]
    else:
        send = cmu._send
        cmu._send = lambda name, values, t, mux: (  # type: ignore[method-assign]
            None if name == "cmu_status" else send(name, values, t, mux))
    rig.run(0.21)  # to 1.2 s: 300 ms old, not older
    assert np.all(rig.signals["cell_voltage_valid"]), rig.t
    assert rig.signals["can_fault_flags"] == 0
    rig.step()  # 1.21 s: timed out
    valid = np.asarray(rig.signals["cell_voltage_valid"])
    assert valid[:16].all() and not valid[16:].any(), rig.t
    assert not np.asarray(rig.signals["cell_temperature_valid"])[8:].any()
    assert CanStackFault.RX_TIMEOUT in CanStackFault(rig.signals["can_fault_flags"])
    # the CMU powers up again (its counters from 0): taken again after the timeout
    rig.cmus[1] = CanCmu(cmu.bus, 1, rig._source(1), switches=rig._sink(1))
    rig.run(0.3)
    assert np.all(rig.signals["cell_voltage_valid"])
    assert np.all(rig.signals["cell_temperature_valid"])
    assert rig.signals["can_fault_flags"] == 0


# ------------------------------------------------------------------------ time helpers
def test_periodic_keeps_its_grid_and_restarts_after_a_stall() -> None:
    p = Periodic(0.1)
    due = [round(k * 0.01, 2) for k in range(35) if p.due(round(k * 0.01, 9))]
    assert due == [0.0, 0.1, 0.2, 0.3]
    assert p.due(0.55) and not p.due(0.6) and p.due(0.65)  # late by 2 periods: a new grid


def test_run_realtime_paces_the_steps_with_the_clock() -> None:
    """With a fake clock: one step per period; a step that overran skips the lost ticks."""
    now = [0.0]
    calls: list[float] = []

    class Node:
        def step(self, t: float) -> None:
            calls.append(t)
            if len(calls) == 3:
                now[0] += 0.035  # a stall of three and a half periods

    run = run_realtime([Node()], duration_s=0.1, period_s=0.01, clock=lambda: now[0],
                       sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert run.overruns == 1 and run.steps == len(calls)
    assert calls[:3] == pytest.approx([0.0, 0.01, 0.02])
    assert calls[3] == pytest.approx(0.055)
    assert np.diff(calls[4:]) == pytest.approx(np.full(len(calls) - 5, 0.01), abs=1e-9)


def test_the_nodes_reject_receptions_not_meant_for_them() -> None:
    codec = BusCodec("internal_can", "cmu")
    msg = BusCodec("internal_can", "cmu").encode("cmu_status", {}, 0.0, 0)
    assert codec.decode(msg).status is RxStatus.NOT_FOR_NODE
    with pytest.raises(KeyError, match="no node 'vcu' on CAN bus 'internal_can'"):
        BusCodec("internal_can", "vcu")
