"""Conformance test cases of the CAN layer (area CAN, profiles cmu_can and bms_can).

The module under test is a node of the CAN catalog on its buses (the ``can`` transport); the
bench emulates the nodes it talks to (:class:`~conformance.adapters.can_rig.CanRig`) and
judges only what is on the bus, so a board paced in real time and a Python node stepped in
simulated time meet the same test cases. Cycle times are judged statistically (mean and 99th
percentile of the intervals), control timing against the catalog's timeouts with one period
of the frame that shows it, and values against the plant's truth within the declared
accuracy of the block that measures them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import can
import numpy as np
import pytest

from conformance.adapters import AdapterError
from conformance.adapters.can import CanAdapter, profile_nodes
from conformance.adapters.can_frames import Checked
from conformance.adapters.can_rig import CanRig
from conformance.harness.context import Harness, PreconditionFailed
from conformance.report.model import Channel, Evidence
from conformance.spec.can import frame_bits
from conformance.suite import steps as S

req = pytest.mark.requirement
STACK = "can_stack"

#: the traffic run: 200 periods of a 100 ms frame, 20 of a 1 s frame (OBSA-CAN-002)
TRAFFIC_S = 20.0
#: a frame counts as present when it came within this many of its periods (OBSA-CAN-001)
PRESENT_PERIODS = 3
#: frames injected by the malformed-frame test case (OBSA-CAN-007), and over how long
MALFORMED_FRAMES = 1000
MALFORMED_S = 5.0
#: then a saturated bus: this long, every bus at its bit rate filled with 8-byte frames of
#: identifiers below every catalog frame's priority (OBSA-CAN-007)
FLOOD_S = 1.0
#: the flood's identifiers count down from the lowest priority (the largest 29-bit id)
FLOOD_ID = 0x1FFFFFFF
#: bad frames injected per kind (OBSA-CAN-005), and the time between two
BAD_FRAMES_PER_KIND = 2
BAD_FRAME_SPACING_S = 1.5
#: the longest the bench waits for the HV path to close or the balancing to start
SETTLE_S = 10.0
#: requests to close held while a safety fault is latched (OBSA-CAN-009)
FAULTED_CLOSE_S = 3.0
#: how far above the declared discharge over-temperature MSL the bench holds a cell
OVER_MSL_K = 5.0
#: balancing commands (seeded sets of cells, then none, then one more) and how long each is
#: held (OBSA-CAN-010)
BALANCING_COMMANDS = 4
BALANCING_HOLD_S = 1.0
#: how long the bench holds each bus of the node bus-off, and runs after (OBSA-CAN-011):
#: not a whole number of the 100 ms frames' periods, so that the recovery falls between two
#: of them, as a controller's recovery comes at any instant
BUS_OFF_S = 0.55
AFTER_BUS_OFF_S = 1.95  # the next bus-off starts on the 100 ms grid again
#: the state estimates' frame and the signals it carries (OBSA-CAN-012)
ESTIMATION_FRAME = "bms_state_estimation"
ESTIMATES = ("pack_soc", "soh_capacity", "soce")
#: the initial error the declared soc_convergence_time_s is stated for (the soc_estimator
#: interface, OBSA-SOC-004): every cell starts up to this far from the declared initial_soc
INITIAL_SOC_ERROR = 0.1
#: how much closer than INITIAL_SOC_ERROR a seeded cell may start (the cells differ)
CELL_SOC_SPREAD = 0.02
#: the seeded load current's range, in C (either direction)
ESTIMATION_LOAD_C = (0.05, 0.3)
#: how long the estimates are judged after the declared convergence time
ESTIMATES_JUDGED_S = 30.0
#: the requirement whose largest SoC error a converged estimate meets
SOC_MAX_ERROR_FROM = ("OBSA-SOC-003", "soc_max_error")


# ----------------------------------------------------------------------------- helpers
def _rig(h: Harness, bench: dict[str, Any] | None = None, **kw: Any) -> CanRig:
    adapter = h.session.adapter
    if not isinstance(adapter, CanAdapter):
        raise AdapterError(f"the CAN profiles' test cases need adapter.type 'can', found "
                           f"'{getattr(adapter, 'transport', type(adapter).__name__)}'",
                           component=STACK, call="configure", field="adapter.type")
    nodes = profile_nodes(h.spec)
    claimed = {nodes[p] for p in h.manifest.profiles if p in nodes}
    if claimed and adapter.can.node not in claimed:
        raise AdapterError(f"expected node {' or '.join(sorted(claimed))} for the claimed "
                           f"profiles {', '.join(h.manifest.profiles)}, found node "
                           f"'{adapter.can.node}'", component=STACK, call="configure",
                           field="adapter.options.node")
    adapter.configure(STACK, h.params(STACK))
    plant = h.session.bench_factory(seed=h.seed, **(bench or {}))
    rig = CanRig(adapter, h.spec, plant, h.manifest)
    for key, value in kw.items():
        setattr(rig, key, value)
    return rig


def _is_bmu(rig: CanRig) -> bool:
    return rig.node == "bmu"


def _wait_closed(h: Harness, rig: CanRig) -> float:
    """Run until the module's bms_state says the HV path is closed; its time."""
    closed = h.enum("contactor_state", "closed")
    rig.run(SETTLE_S, until=lambda r: r.last_value("bms_state", "contactor_state") == closed)
    if rig.last_value("bms_state", "contactor_state") != closed:
        raise PreconditionFailed(f"the HV path did not close within {SETTLE_S:g} s of a close "
                                 "request (bms_state)", blame="OBSA-CONT-002")
    return rig.t


def _own(rig: CanRig, since: float = -1.0) -> list[Checked]:
    return [c for c in rig.log if c.t > since]


def _times(rig: CanRig, since: float = -1.0, until: float = math.inf
           ) -> dict[tuple[str, int | None], list[float]]:
    out: dict[tuple[str, int | None], list[float]] = defaultdict(list)
    for c in rig.log:
        if c.frame is not None and since < c.t <= until:
            out[(c.frame.name, c.mux)].append(c.t)
    return out


def _seeded_cells(h: Harness, n: int, purpose: str) -> list[int]:
    return S.sample_list(h, n, purpose, others=1)


Series = tuple[str, str, list[tuple[float, float]]]
"""A trace channel of the evidence: name, unit and (time, value) samples, held between."""

#: the most samples an evidence trace keeps
EVIDENCE_POINTS = 600


def _evidence(rig: CanRig, message: str, series: list[Series],
              events: dict[str, float] | None = None, window: tuple[float, float] | None = None
              ) -> Evidence:
    """The evidence of a CAN test case: ``series`` held between their samples on a grid of
    at most EVIDENCE_POINTS instants over ``window`` (default: the whole run)."""
    lo, hi = window if window is not None else (0.0, rig.t)
    step = max(rig.dt, (hi - lo) / EVIDENCE_POINTS)
    grid = [round(lo + i * step, 6) for i in range(int((hi - lo) / step) + 1)]
    channels = []
    for name, unit, samples in series:
        samples = sorted(samples)
        values: list[float | None] = []
        i, last = 0, None
        for t in grid:
            while i < len(samples) and samples[i][0] <= t + 1e-9:
                last = samples[i][1]
                i += 1
            values.append(None if last is None or not math.isfinite(last)
                          else float(f"{last:.6g}"))
        channels.append(Channel(name=name, unit=unit, values=values))
    return Evidence(message=message, t_s=grid, channels=channels, events=events or {})


def _signal_series(rig: CanRig, frame: str, signal: str, unit: str = "1",
                   bit: int | None = None) -> Series:
    """A signal of the node's frames (one bit of it with ``bit``) over time."""
    samples = []
    for c in rig.log:
        if c.frame is not None and c.frame.name == frame and signal in c.values:
            v = c.values[signal]
            samples.append((c.t, float(bool(int(v) & bit)) if bit is not None else v))
    name = f"{frame}.{signal}" if bit is None else f"{frame}.{signal}&{bit}"
    return name, unit, samples


def _sent_series(rig: CanRig, name: str) -> Series:
    """1 at each step the emulated nodes sent ``name``, 0 between (its heartbeat)."""
    sent = set(rig.sent_log.get(name, []))
    return (f"{name} sent", "1",
            [(round(k * rig.dt, 9), 1.0 if round(k * rig.dt, 9) in sent else 0.0)
             for k in range(rig.k)])


# --------------------------------------------------------------------------- the traffic
def _missing_and_malformed(rig: CanRig) -> tuple[int, int, list[str]]:
    times = _times(rig)
    missing = [f"{e.name}[{e.mux}]" if e.mux is not None else e.name for e in rig.expected
               if not times.get((e.name, e.mux))
               or times[(e.name, e.mux)][0] > PRESENT_PERIODS * e.period_s + e.tolerance_s]
    malformed = [c for c in rig.log
                 if c.frame is None or rig.node not in c.frame.frame.senders
                 or not c.length_ok]
    return len(missing), len(malformed), missing


def _intervals_series(rig: CanRig, label: str) -> Series:
    """The intervals of a frame (``name`` or ``name[mux]``) at the frames that end them."""
    name, _, rest = label.partition("[")
    mux = int(rest.rstrip("]")) if rest else None
    ts = _times(rig).get((name, mux), [])
    return (f"{label} interval", "ms",
            [(b, (b - a) * 1000) for a, b in zip(ts, ts[1:], strict=False)])


def _cycle_ratios(rig: CanRig) -> tuple[float | None, float | None, str]:
    times = _times(rig)
    worst_mean: tuple[float, str] | None = None
    worst_p99: tuple[float, str] | None = None
    for e in rig.expected:
        ts = np.asarray(times.get((e.name, e.mux), []))
        if ts.size < 3:
            continue  # absent: OBSA-CAN-001's
        d = np.diff(ts)
        tol = e.tolerance_s if e.tolerance_s > 0 else rig.dt / 2
        mean = abs(float(d.mean()) - e.period_s) / tol
        p99 = float(np.percentile(np.abs(d - e.period_s), 99)) / tol
        label = e.name if e.mux is None else f"{e.name}[{e.mux}]"
        if worst_mean is None or mean > worst_mean[0]:
            worst_mean = (mean, label)
        if worst_p99 is None or p99 > worst_p99[0]:
            worst_p99 = (p99, label)
    if worst_mean is None or worst_p99 is None:
        return None, None, "no periodic frame seen"
    return worst_mean[0], worst_p99[0], (f"worst mean interval: {worst_mean[1]}; worst 99th "
                                         f"percentile: {worst_p99[1]}")


def _worst_p99_label(where: str) -> str | None:
    marker = "worst 99th percentile: "
    return where.split(marker, 1)[1] if marker in where else None


def _allowances(h: Harness, rig: CanRig) -> dict[str, tuple[str, Any]]:
    """DBC signal prefix → (truth key, allowance function of the true value)."""
    if _is_bmu(rig):
        cs = h.params("current_sensor")
        v_acc = float(cs["voltage_accuracy_V"])
        off, gain = float(cs["current_offset_error_A"]), float(cs["current_gain_error"])
        return {"pack_voltage_V": ("true_pack_voltage_V", lambda x: v_acc),
                "link_voltage_V": ("true_link_voltage_V", lambda x: v_acc),
                "pack_current_A": ("true_pack_current_A", lambda x: off + gain * abs(x))}
    cm = h.params("cell_monitor")
    return {"cell_voltage_V": ("true_cell_voltage_V",
                               lambda x: float(cm["cell_voltage_accuracy_V"])),
            "cell_temperature_degC": ("true_cell_temperature_degC",
                                      lambda x: float(cm["cell_temperature_accuracy_K"]))}


def _values(h: Harness, rig: CanRig, since: float) -> tuple[int, float | None, str]:
    """Out-of-range decoded values, and the largest value error over its allowance."""
    out_of_range, worst, where = 0, None, ""
    allow = _allowances(h, rig)
    for c in rig.log:
        if c.frame is None or not c.values or not c.crc_ok:
            continue
        limits = c.frame.limits
        for name, value in c.values.items():
            if name not in limits:
                continue  # the multiplexer
            lo, hi = limits[name]
            if not lo - 1e-9 <= value <= hi + 1e-9:
                out_of_range += 1
            if c.t <= since:
                continue
            base, _, element = name.rpartition("_")
            key = name if name in allow else base if base in allow else None
            if key is None:
                continue
            truth_key, allowance = allow[key]
            index = None
            if key != name:  # an array element: its place in the pack
                mux = c.frame.frame.multiplexer
                if mux is None or c.mux is None or not element.isdigit():
                    continue
                valid = c.values.get(f"{key.rsplit('_', 1)[0]}_valid_{element}")
                if not valid:
                    continue
                index = mux.element_of(c.mux, int(element))
                if index is None:
                    continue
                own = rig.cells if "voltage" in key else rig.sensors
                if index not in own:
                    continue  # another module's element: not this node's to send
                # the truth holds the whole pack: a CMU's element keeps its pack index
            errors = []
            scale = float(c.frame.message.get_signal_by_name(name).scale)
            cycle = c.frame.frame.cycle
            period = cycle.period_ms / 1000 if cycle is not None else 0.0
            for lag in (0.0, period):  # sampled now, or up to a period before the frame
                truth = rig.truth_at(c.t - lag)[truth_key]
                true = float(truth if index is None else np.asarray(truth)[index])
                errors.append(abs(value - true) / (allowance(true) + scale))
            ratio = min(errors)
            if worst is None or ratio > worst:
                worst, where = ratio, f"{c.frame.name}.{name} at {c.t:.2f} s"
                rig.worst_value = (c.frame.name, c.mux, name, truth_key, index)
    return out_of_range, worst, where


def _inside_mol(h: Harness) -> Any:
    """A function of a BMU rig's truth: whether every cell is inside the declared maximum
    operating limits (voltage; temperature in both directions' windows) and the current
    inside its direction's — where no correct supervisor latches a fault."""
    p = h.params("safety_supervisor")
    v_lo, v_hi = float(p["cell_voltage_min_mol_V"]), float(p["cell_voltage_max_mol_V"])
    t_lo = max(float(p["charge_temperature_min_mol_degC"]),
               float(p["discharge_temperature_min_mol_degC"]))
    t_hi = min(float(p["charge_temperature_max_mol_degC"]),
               float(p["discharge_temperature_max_mol_degC"]))
    i_lo, i_hi = -float(p["discharge_current_max_mol_A"]), float(p["charge_current_max_mol_A"])

    def inside(tr: dict[str, Any]) -> bool:
        return (v_lo <= tr["true_cell_voltage_min_V"] and tr["true_cell_voltage_max_V"] <= v_hi
                and t_lo <= tr["true_cell_temperature_min_degC"]
                and tr["true_cell_temperature_max_degC"] <= t_hi
                and i_lo <= tr["true_pack_current_A"] <= i_hi)
    return inside


def _state_mismatches(h: Harness, rig: CanRig, since: float) -> tuple[int, int, str]:
    """BMU frames whose state signals contradict the plant or the declaration (OBSA-CAN-003):
    each judged against the plant when the frame was sent and one period before (it may show
    either); the number of contradicting frames, of signals checked, and the first."""
    if not _is_bmu(rig):
        return 0, 0, ""
    closed, opened = h.enum("contactor_state", "closed"), h.enum("contactor_state", "open")
    p = h.params("safety_supervisor")
    mol = {"charge_current_limit_A": float(p["charge_current_max_mol_A"]),
           "discharge_current_limit_A": float(p["discharge_current_max_mol_A"])}
    inside = _inside_mol(h)
    bad, checked, first = 0, 0, ""
    for c in rig.log:
        if c.frame is None or not c.values or not c.crc_ok or c.t <= since:
            continue
        v = c.values
        cyc = c.frame.frame.cycle
        period = cyc.period_ms / 1000 if cyc is not None else 0.0
        truths = [rig.truth_at(c.t - lag) for lag in (0.0, period)]
        wrong = []
        if "contactor_state" in v:
            checked += 1
            state = int(v["contactor_state"])
            if state == closed and not any(tr["true_main_positive_closed"]
                                           and tr["true_main_negative_closed"] for tr in truths):
                wrong.append("contactor_state closed over an open main contactor")
            if state == opened and not any(
                    not (tr["true_main_positive_closed"] or tr["true_main_negative_closed"]
                         or tr["true_precharge_closed"]) for tr in truths):
                wrong.append("contactor_state open over a closed contactor")
        if "balancing_active" in v:
            checked += 1
            if not any(bool(v["balancing_active"]) == tr["balancing_switch_closed"]
                       for tr in truths):
                wrong.append(f"balancing_active {bool(v['balancing_active'])} against the "
                             "plant's switches")
        if "safety_fault_flags" in v and all(inside(tr) for tr in truths):
            checked += 1
            if int(v["safety_fault_flags"]):
                wrong.append(f"safety_fault_flags 0x{int(v['safety_fault_flags']):X} with the "
                             "plant inside every maximum operating limit")
        for name, limit in mol.items():
            if name in v:
                checked += 1
                step = float(c.frame.message.get_signal_by_name(name).scale)
                if not -step <= v[name] <= limit + step:
                    wrong.append(f"{name} {v[name]:g} A outside 0 … {limit:g} A (declared MOL)")
        if wrong:
            bad += 1
            if not first:
                first = f"{c.frame.name} at {c.t:.2f} s: {'; '.join(wrong)}"
    return bad, checked, first


def _value_series(rig: CanRig) -> list[Series]:
    """The signal with the largest value error, as decoded and as the plant's truth."""
    if rig.worst_value is None:
        return []
    frame, mux, name, truth_key, index = rig.worst_value
    decoded = [(c.t, c.values[name]) for c in rig.log
               if c.frame is not None and c.frame.name == frame and c.mux == mux
               and name in c.values and c.crc_ok]
    unit = rig.codec.frame(frame).message.get_signal_by_name(name).unit or "1"
    truth = []
    for k, values in enumerate(rig.truth):
        v = values[truth_key]
        truth.append((round(k * rig.dt, 9), float(v if index is None else np.asarray(v)[index])))
    return [(f"{frame}.{name}", unit, decoded), (truth_key + ("" if index is None else
                                                             f"[{index}]"), unit, truth)]


def _e2e_errors(rig: CanRig) -> tuple[int, int, str]:
    """Sent frames with a wrong alive counter and with a wrong CRC, and where the first of
    each was (a counter error says which counter came after which)."""
    counters, crcs = 0, 0
    first_counter = first_crc = ""
    last: dict[tuple[str, int | None], int] = {}
    for c in rig.log:
        if c.frame is None or c.frame.frame.e2e is None or not c.length_ok:
            continue
        key = (c.frame.name, c.mux)
        where = c.frame.name + (f" (multiplexer {c.mux})" if c.mux is not None else "")
        if not c.crc_ok:
            crcs += 1
            first_crc = first_crc or f"{where} at {c.t:.3f} s"
        n = c.frame.frame.e2e.counter_values
        if key in last and c.counter != (last[key] + 1) % n:
            counters += 1
            first_counter = first_counter or (
                f"{where} at {c.t:.3f} s: {c.counter} after {last[key]}, expected "
                f"{(last[key] + 1) % n} (the counter runs 0 … {n - 1})")
        if c.counter is not None:
            last[key] = c.counter
    where = "".join(f"; first {what} error: {first}" for what, first in
                    (("counter", first_counter), ("CRC", first_crc)) if first)
    return counters, crcs, where


def _load_ratio(rig: CanRig) -> tuple[float | None, str]:
    duration = rig.t + rig.dt
    ratios: dict[str, float] = {}
    for bus in rig.adapter.can.buses:
        estimate = sum(frame_bits(rig.codec.frame(e.name).frame) / e.period_s
                       for e in rig.load_budget if rig.codec.frame(e.name).bus == bus)
        if estimate <= 0:
            continue
        bits = 0
        for c in rig.log:
            if c.bus != bus:
                continue
            if c.frame is not None:
                bits += frame_bits(c.frame.frame)
            else:  # as a classic frame of its length
                g = 54 if c.msg.is_extended_id else 34
                s = len(c.msg.data)
                bits += g + 8 * s + 13 + (g + 8 * s - 1) // 4
        ratios[bus] = bits / duration / estimate
    if not ratios:
        return None, "the node sends no periodic frame"
    bus = max(ratios, key=lambda b: ratios[b])
    return ratios[bus], ", ".join(f"{b} {r:.3f}" for b, r in ratios.items())


@req("OBSA-CAN-001", "OBSA-CAN-002", "OBSA-CAN-003", "OBSA-CAN-004", "OBSA-CAN-008")
def test_traffic(obsa: Harness) -> None:
    """TRAFFIC_S of the node on its buses, every cell at a seeded state of charge and
    temperature, the plant under a seeded load current (a BMU closes its HV path on the
    vehicle's request): every frame it sends judged."""
    rig = _rig(obsa)
    rng = S.seeded_rng(obsa, "can traffic load")
    capacity = float(obsa.manifest.pack.capacity_Ah)
    rig.bench.set_load_current(-float(rng.uniform(0.2, 0.5)) * capacity)
    # every cell of the node at its own state of charge and temperature: a value in the
    # wrong element, group or byte shows
    for i in rig.cells:
        rig.bench.set_cell_soc(float(rng.uniform(0.1, 0.95)), i)
    for i in rig.sensors:
        rig.bench.set_cell_temperature(float(rng.uniform(5.0, 45.0)), i)
    rig.run(TRAFFIC_S)
    missing, malformed, which = _missing_and_malformed(rig)
    obsa.judge("OBSA-CAN-001", {"missing_frames": missing, "malformed_frames": malformed},
               message=f"{len(rig.expected)} periodic frames (with multiplexer values) expected "
                       f"of node {rig.node} within {PRESENT_PERIODS} periods; "
                       f"{len(rig.log)} frames received"
                       + (f"; missing: {', '.join(which[:8])}" if which else ""),
               simulated_s=rig.t)
    mean, p99, where = _cycle_ratios(rig)
    label = _worst_p99_label(where)
    message = f"intervals over {TRAFFIC_S:g} s; {where}"
    obsa.judge("OBSA-CAN-002", {"mean_interval_error_ratio": mean,
                                "p99_interval_error_ratio": p99},
               evidence=_evidence(rig, message, [_intervals_series(rig, label)] if label
                                  else []), simulated_s=rig.t)
    out_of_range, ratio, where = _values(obsa, rig, since=1.0)
    mismatches, checked, first = _state_mismatches(obsa, rig, since=1.0)
    message = (f"every decoded value against the catalog's range; plant-measuring signals "
               f"against the truth (largest at {where or 'none'})"
               + (f"; {checked} state signals of the BMU against the plant and the "
                  f"declaration" + (f", first contradiction: {first}" if first else "")
                  if _is_bmu(rig) else ""))
    if rig.adapter.realtime:
        # a board measures its own cells: without a cell emulator driven by the plant the
        # bench knows no truth to hold its values against
        obsa.inconclusive("OBSA-CAN-003", f"a device measures its own cells and pack, which "
                                          f"the bench's plant does not drive: the values "
                                          f"cannot be held against the truth "
                                          f"({out_of_range} decoded values out of range)")
    else:
        obsa.judge("OBSA-CAN-003", {"out_of_range_values": out_of_range,
                                    "value_error_ratio": ratio,
                                    "state_mismatches": mismatches},
                   evidence=_evidence(rig, message, _value_series(rig)), simulated_s=rig.t)
    counters, crcs, where = _e2e_errors(rig)
    obsa.judge("OBSA-CAN-004", {"counter_errors": counters, "crc_errors": crcs},
               message="alive counter and CRC of every protected frame, computed by the bench "
                       f"from the catalog{where}", simulated_s=rig.t)
    ratio, per_bus = _load_ratio(rig)
    obsa.judge("OBSA-CAN-008", {"load_ratio": ratio},
               message=f"mean worst-case load of the node's frames over the catalog's estimate "
                       f"per bus: {per_bus}", simulated_s=rig.t)


# ------------------------------------------------------------------- stale and corrupt
@req("OBSA-CAN-005")
def test_bad_frames_are_discarded(obsa: Harness) -> None:
    """Frames with a bad CRC or a repeated alive counter whose content would act at once —
    a state request to open (BMU), a balancing command closing every switch (CMU) — injected
    between the emulated node's own: none may act, and a node that sends can_fault_flags
    reports each in its next fault frame."""
    rig = _rig(obsa)
    bmu = _is_bmu(rig)
    reporting = [cf for bus in rig.adapter.can.buses for cf in rig.codec.frames[bus].values()
                 if rig.node in cf.frame.senders
                 and any(s.signal == "can_fault_flags" for s in cf.frame.signals)]
    if bmu:
        _wait_closed(obsa, rig)
        target, content, mux = "vcu_state_request", {"close_request": False}, None
    else:
        rig.run(1.0)
        rig.balancing_command = True
        target, mux = "bmu_balancing_cmd", rig.module
        content = {f"balancing_cmd_{i}": True for i in range(len(rig.cells))}
    cf = rig.codec.frame(target)
    period = float(cf.frame.cycle.period_ms) / 1000 if cf.frame.cycle else 0.1
    injected: list[tuple[float, str]] = []
    for _ in range(BAD_FRAMES_PER_KIND):
        for kind in ("crc_error", "alive_counter_error"):
            # just after the emulated node's frame: the next valid one is a period away
            rig.run(BAD_FRAME_SPACING_S, until=lambda r: r.sent_at.get(target) == r.t)
            if not bmu:
                rig.balancing_command = False  # an accepted command would last to its timeout
            last = rig.codec.last_counter(target, mux) or 0
            values = {**content}
            if kind == "crc_error":
                msg = rig.codec.encode(target, values, mux, counter=(last + 1) %
                                       cf.frame.e2e.counter_values if cf.frame.e2e else 0,
                                       crc_ok=False)
            else:
                msg = rig.codec.encode(target, values, mux, counter=last)
            at = rig.t + rig.dt
            rig.inject((cf.bus, msg))
            injected.append((at, kind))
            rig.run(period * 3 + 0.3)
            if not bmu:
                rig.balancing_command = True
    rig.run(0.5)
    accepted = unreported = 0
    closed = obsa.enum("contactor_state", "closed") if bmu else None
    for at, kind in injected:
        window = [c for c in rig.log if at <= c.t <= at + 0.3 + period and c.values]
        if bmu:
            acted = any(c.frame is not None and c.frame.name == "bms_state"
                        and c.values.get("contactor_state") != closed for c in window)
        else:
            acted = any(c.frame is not None and c.frame.name == "cmu_status"
                        and c.values.get("balancing_active") for c in window)
        accepted += acted
        for rf in reporting:
            rp = float(rf.frame.cycle.period_ms) / 1000 if rf.frame.cycle else 0.1
            rt = float(rf.frame.cycle.tolerance_ms) / 1000 if rf.frame.cycle else 0.0
            bit = obsa.bit(STACK, kind)
            seen = any(c.frame is not None and c.frame.name == rf.name
                       and int(c.values.get("can_fault_flags", 0)) & bit
                       for c in rig.log if at <= c.t <= at + 2 * rp + rt)
            unreported += not seen
    notes = {} if reporting else {"unreported_discards": "the node's frames carry no "
                                                         "can_fault_flags"}
    message = (f"{len(injected)} bad {target} frames injected (bad CRC, repeated alive "
               "counter), " + ("each asking to open the HV path" if bmu else
                              "each closing every balancing switch"))
    series = ([_signal_series(rig, "bms_state", "contactor_state"),
               _signal_series(rig, "bms_faults", "can_fault_flags")] if bmu else
              [_signal_series(rig, "cmu_status", "balancing_active")])
    events = {f"{kind} {i + 1}": at for i, (at, kind) in enumerate(injected)}
    obsa.judge("OBSA-CAN-005", {"accepted_bad_frames": accepted,
                                "unreported_discards": unreported},
               evidence=_evidence(rig, message, series, events), notes=notes,
               simulated_s=rig.t)


# --------------------------------------------------------------------------- timeouts
@req("OBSA-CAN-006")
def test_lost_frame_reaction(obsa: Harness) -> None:
    """The frame the node's safe reaction hangs on stops: the vehicle's state request
    (BMU: HV path open and rx_timeout), the master's balancing command (CMU: every switch
    open). Judged on the node's frames, one period of the frame that shows it allowed."""
    rig = _rig(obsa)
    bmu = _is_bmu(rig)
    if bmu:
        _wait_closed(obsa, rig)
        target = "vcu_state_request"
        closed = obsa.enum("contactor_state", "closed")
        rx_bit = obsa.bit(STACK, "rx_timeout")

        def reacted(c: Checked) -> bool | None:
            if c.frame is None or not c.values:
                return None
            if c.frame.name == "bms_state":
                return c.values.get("contactor_state") == obsa.enum("contactor_state", "open")
            if c.frame.name == "bms_faults":
                return bool(int(c.values.get("can_fault_flags", 0)) & rx_bit)
            return None
        shows: tuple[str, ...] = ("bms_state", "bms_faults")
        early_show = lambda c: (c.frame is not None and c.values and (  # noqa: E731
            (c.frame.name == "bms_state" and c.values.get("contactor_state") != closed)
            or (c.frame.name == "bms_faults"
                and int(c.values.get("can_fault_flags", 0)) & rx_bit)))
    else:
        target = "bmu_balancing_cmd"
        cells = _seeded_cells(obsa, len(rig.cells), "can balancing cells")
        command = np.zeros(len(rig.cells), dtype=bool)
        command[cells] = True
        rig.balancing = command
        rig.run(SETTLE_S, until=lambda r: bool(r.last_value("cmu_status", "balancing_active")))
        if not rig.last_value("cmu_status", "balancing_active"):
            raise PreconditionFailed(f"the CMU did not report balancing within {SETTLE_S:g} s "
                                     f"of a command closing cells {cells}",
                                     blame="OBSA-CAN-005")

        def reacted(c: Checked) -> bool | None:
            if c.frame is None or c.frame.name != "cmu_status" or not c.values:
                return None
            return not c.values.get("balancing_active")
        shows = ("cmu_status",)
        early_show = lambda c: bool(reacted(c))  # noqa: E731
    healthy_from = rig.t
    rig.run(2.0)
    rule = rig.codec.frame(target).frame
    assert rule.timeout is not None
    timeout = rule.timeout.time_ms / 1000
    reaction = rule.timeout.reaction_time_ms / 1000
    # while the frame still came, nothing may show the reaction
    early = [c for c in _own(rig, healthy_from) if early_show(c)]
    early_s = 0.0
    if early:
        sent = [t for t in rig.sent_log.get(target, []) if t <= early[0].t]
        age = early[0].t - (sent[-1] if sent else healthy_from)
        early_s = max(early_s, timeout - age)
    if bmu:
        rig.heartbeat = False
    else:
        rig.balancing_command = False
    last_valid = rig.sent_at[target]
    bound = last_valid + timeout + reaction
    rig.run(timeout + reaction + 1.0)
    after = _own(rig, last_valid)
    complete: dict[str, float] = {}
    for name in shows:
        first = next((c for c in after if c.frame is not None and c.frame.name == name
                      and reacted(c)), None)
        if first is None:
            continue
        if first.t < last_valid + timeout - 1e-9:
            early_s = max(early_s, last_valid + timeout - first.t)
        cyc = rig.codec.frame(name).frame.cycle
        allowance = (cyc.period_ms + cyc.tolerance_ms) / 1000 if cyc else 0.0
        complete[name] = first.t - allowance
    delay = None if len(complete) < len(shows) else max(complete.values()) - bound
    notes = {} if delay is not None else {
        "reaction_delay_s": "never complete: " + ", ".join(n for n in shows
                                                           if n not in complete)}
    message = (f"{target} stopped after the frame at {last_valid:.2f} s: timeout "
               f"{timeout:g} s, reaction {reaction:g} s, bound {bound:.2f} s; shown by "
               f"{', '.join(shows)}")
    events = {"last frame": last_valid, "bound": bound}
    series = [_sent_series(rig, target)]
    if bmu:
        series += [_signal_series(rig, "bms_state", "contactor_state"),
                   _signal_series(rig, "bms_faults", "can_fault_flags", bit=rx_bit)]
    else:
        series.append(_signal_series(rig, "cmu_status", "balancing_active"))
    obsa.judge("OBSA-CAN-006", {"early_timeout_s": early_s, "reaction_delay_s": delay},
               evidence=_evidence(rig, message, series, events,
                                  window=(max(0.0, last_valid - 1.0), rig.t)),
               notes=notes, simulated_s=rig.t)


# --------------------------------------------------------------------------- malformed
STATE_SIGNALS = {"bms_state": ("safety_state", "contactor_state"),
                 "bms_faults": ("safety_fault_flags", "contactor_fault_flags"),
                 "cmu_status": ("balancing_active",)}


def _junk(h: Harness, rig: CanRig) -> list[tuple[str, can.Message]]:
    """MALFORMED_FRAMES seeded frames no correct node acts on: identifiers the catalog does
    not list on the bus (11- and 29-bit), catalog frames the node receives cut short, error
    and remote frames."""
    rng = S.seeded_rng(h, "can malformed frames")
    buses = list(rig.adapter.can.buses)
    known = {(cf.frame.id, cf.frame.extended) for b in buses for cf in rig.codec.frames[b].values()}
    received = [cf for b in buses for cf in rig.codec.frames[b].values()
                if rig.node in cf.frame.receivers and cf.frame.dlc > 0]
    out = []
    for _ in range(MALFORMED_FRAMES):
        bus = buses[int(rng.integers(len(buses)))]
        kind = int(rng.integers(10))
        if kind < 5:
            ext = bool(rng.integers(2))
            ident = int(rng.integers(1 << (29 if ext else 11)))
            while (ident, ext) in known:
                ident = (ident + 1) % (1 << (29 if ext else 11))
            data = bytes(rng.integers(0, 256, int(rng.integers(0, 9))).tolist())
            out.append((bus, can.Message(arbitration_id=ident, is_extended_id=ext, data=data)))
        elif kind < 8 and received:
            cf = received[int(rng.integers(len(received)))]
            data = bytes(rng.integers(0, 256, int(rng.integers(0, cf.frame.dlc))).tolist())
            out.append((cf.bus, can.Message(arbitration_id=cf.frame.id,
                                            is_extended_id=cf.frame.extended, data=data)))
        elif kind < 9:
            out.append((bus, can.Message(arbitration_id=0, is_error_frame=True, data=b"")))
        else:
            out.append((bus, can.Message(arbitration_id=int(rng.integers(0x800)),
                                         is_remote_frame=True, dlc=int(rng.integers(9)))))
    return out


def _flood(h: Harness, rig: CanRig) -> list[tuple[str, can.Message]]:
    """One bench step of a saturated bus on every bus of the node: as many 8-byte frames as
    its bit rate carries in a step (135 bits each, 29-bit ids: 160), with identifiers of a
    lower priority than every frame of the catalog (on a real bus the node's frames still
    win arbitration)."""
    rng = S.seeded_rng(h, "can flood")
    out = []
    for bus in rig.adapter.can.buses:
        rate = rig.codec.catalogs[bus].bus.bit_rate_bps
        n = math.ceil(rate * rig.dt / 160)
        for k in range(n):
            out.append((bus, can.Message(arbitration_id=FLOOD_ID - k, is_extended_id=True,
                                         data=bytes(rng.integers(0, 256, 8).tolist()))))
    return out


@req("OBSA-CAN-007")
def test_malformed_frames_survived(obsa: Harness) -> None:
    """MALFORMED_FRAMES unknown, short, error and remote frames over MALFORMED_S, then FLOOD_S
    of a saturated bus, on every bus of the node: its state in its frames must not change
    and no frame it sends may go missing."""
    rig = _rig(obsa)
    if _is_bmu(rig):
        _wait_closed(obsa, rig)
    rig.run(1.0)
    before = {(name, sig): rig.last_value(name, sig) for name, sigs in STATE_SIGNALS.items()
              for sig in sigs if rig.last_value(name, sig) is not None}
    junk = _junk(obsa, rig)
    start = rig.t
    per_step = math.ceil(len(junk) / (MALFORMED_S / rig.dt))
    crashed = ""
    steps = round(MALFORMED_S / rig.dt)
    flood = _flood(obsa, rig)
    flooded = 0
    try:
        for i in range(steps):
            for frame in junk[i * per_step:(i + 1) * per_step]:
                rig.inject(frame)
            rig.step()
        for _ in range(round(FLOOD_S / rig.dt)):
            for frame in flood:
                rig.inject(frame)
            flooded += len(flood)
            rig.step()
    except AdapterError as exc:
        crashed = str(exc)
    end = start + MALFORMED_S + FLOOD_S
    changed = {key for c in _own(rig, start) if c.frame is not None and c.values
               for key in [(c.frame.name, s) for s in STATE_SIGNALS.get(c.frame.name, ())]
               if key in before and c.values.get(key[1]) != before[key]}
    missed = 0
    times = _times(rig)
    for e in rig.expected:
        own = times.get((e.name, e.mux), [])
        earlier = [t for t in own if t <= start]
        if not earlier:
            continue  # never sent before the injection: OBSA-CAN-001's
        # the node's own rhythm before the injection: a slow cycle is OBSA-CAN-002's
        usual = max(np.diff(earlier).max(initial=0.0) if len(earlier) > 1 else 0.0,
                    e.period_s + 2 * e.tolerance_s)
        ts = sorted([earlier[-1] if earlier else start,
                     *[t for t in own if start < t <= end], end])
        for a, b in zip(ts, ts[1:], strict=False):
            if b - a > usual + 1e-6:
                missed += max(1, math.floor((b - a) / e.period_s) - 1)
    message = (f"{len(junk)} frames over {MALFORMED_S:g} s from {start:.2f} s, then "
               f"{flooded} over {FLOOD_S:g} s saturating the bus; state signals "
               f"watched: {', '.join(f'{n}.{s}' for n, s in sorted(before))}"
               + (f"; changed: {', '.join(f'{n}.{s}' for n, s in sorted(changed))}"
                  if changed else "") + (f"; the node failed: {crashed}" if crashed else ""))
    series = [_signal_series(rig, name, sig) for name, sig in sorted(before)]
    obsa.judge("OBSA-CAN-007", {"disturbed_outputs": len(changed), "missed_sends": missed},
               evidence=_evidence(rig, message, series, {"injection": start,
                                                         "flood": start + MALFORMED_S}),
               simulated_s=rig.t)


# ------------------------------------------------------------------------------ requests
def _allowance(rig: CanRig, name: str) -> float:
    """One period plus tolerance of the node's frame ``name``: it shows the state it had
    when sent."""
    cyc = rig.codec.frame(name).frame.cycle
    return (cyc.period_ms + cyc.tolerance_ms) / 1000 if cyc is not None else 0.0


def _first_request(rig: CanRig) -> float:
    """Run until the emulated vehicle sends its state request; its time."""
    rig.run(1.0, until=lambda r: r.sent_at.get("vcu_state_request") == r.t)
    return rig.t


def _first_showing(rig: CanRig, frame: str, signal: str, value: float, since: float
                   ) -> float | None:
    return next((c.t for c in rig.sent(frame, since=since - 1e-9)
                 if c.crc_ok and c.values.get(signal) == value), None)


@req("OBSA-CAN-009")
def test_state_request_followed(obsa: Harness) -> None:
    """The vehicle asks to close, then to open the HV path (judged on bms_state, one
    period of it allowed, and on the plant's contactors where the node drives them); then a
    cell is held above the declared discharge over-temperature MSL until bms_faults shows
    a fault, brought back, and the vehicle asks to close for FAULTED_CLOSE_S: the path must
    stay open while the fault is latched."""
    rig = _rig(obsa, close_request=False)
    closed = obsa.enum("contactor_state", "closed")
    opened = obsa.enum("contactor_state", "open")
    allowance = _allowance(rig, "bms_state")
    rig.run(1.0)
    rig.close_request = True
    close_asked = _first_request(rig)
    rig.run(SETTLE_S, until=lambda r: r.last_value("bms_state", "contactor_state") == closed)
    shown = _first_showing(rig, "bms_state", "contactor_state", closed, close_asked)
    close_time = None if shown is None else shown - close_asked - allowance
    rig.run(1.0)
    rig.close_request = False
    open_asked = _first_request(rig)
    k_asked = rig.k - 1
    rig.run(1.0)
    shown = _first_showing(rig, "bms_state", "contactor_state", opened, open_asked)
    open_time = None if shown is None else shown - open_asked - allowance
    if not rig.adapter.realtime and open_time is not None:
        # the plant's contactors follow the node's drivers: open by then too
        plant = next((k for k in range(k_asked, rig.k)
                      if not (rig.truth[k]["true_main_positive_closed"]
                              or rig.truth[k]["true_main_negative_closed"]
                              or rig.truth[k]["true_precharge_closed"])), None)
        open_time = None if plant is None else max(open_time, (plant - k_asked) * rig.dt
                                                   - rig.dt)
    # a latched fault: one seeded sensor's cells above the discharge over-temperature MSL
    sensor = int(S.seeded_rng(obsa, "can faulted close sensor").integers(len(rig.sensors)))
    msl = float(obsa.params("safety_supervisor")["discharge_temperature_max_msl_degC"])
    fault = obsa.enum("safety_state", "fault")
    heated = rig.t
    rig.bench.set_cell_temperature(msl + OVER_MSL_K, sensor)
    rig.run(SETTLE_S, until=lambda r: r.last_value("bms_state", "safety_state") == fault)
    if rig.last_value("bms_state", "safety_state") != fault:
        raise PreconditionFailed(f"no fault in bms_state within {SETTLE_S:g} s of sensor "
                                 f"{sensor} at {msl + OVER_MSL_K:g} °C (declared MSL "
                                 f"{msl:g} °C)", blame="OBSA-SAFE-007")
    rig.bench.set_cell_temperature(25.0, sensor)
    rig.run(1.0)
    rig.close_request = True
    faulted_from = _first_request(rig)
    k_from = rig.k - 1
    rig.run(FAULTED_CLOSE_S)
    frames = [c for c in rig.sent("bms_state", since=faulted_from - 1e-9)
              if c.crc_ok and c.values.get("contactor_state") != opened]
    steps = sum(1 for tr in rig.truth[k_from:]
                if tr["true_main_positive_closed"] or tr["true_main_negative_closed"])
    message = (f"close asked at {close_asked:.2f} s, open at {open_asked:.2f} s; sensor "
               f"{sensor} at {msl + OVER_MSL_K:g} °C from {heated:.2f} s, close asked with "
               f"the fault latched from {faulted_from:.2f} s: {len(frames)} bms_state frames "
               f"not open, {steps} steps with a main contactor of the plant closed")
    notes = {k: "never shown in bms_state" for k, v in
             (("close_time_s", close_time), ("open_time_s", open_time)) if v is None}
    series = [_signal_series(rig, "bms_state", "contactor_state"),
              _signal_series(rig, "bms_state", "safety_state")]
    events = {"close asked": close_asked, "open asked": open_asked, "over-temperature": heated,
              "close asked, faulted": faulted_from}
    obsa.judge("OBSA-CAN-009", {"close_time_s": close_time, "open_time_s": open_time,
                                "closings_while_faulted": len(frames) + steps},
               evidence=_evidence(rig, message, series, events), notes=notes,
               simulated_s=rig.t)


@req("OBSA-CAN-010")
def test_balancing_command_followed(obsa: Harness) -> None:
    """The master commands seeded sets of the module's cells (the first and the last cell
    among them), then none, then one more set, each for BALANCING_HOLD_S, then falls silent:
    the node's balancing switches (its output pins) must follow each command within 0.1 s,
    name exactly its cells, and all open by the command's timeout plus reaction time."""
    rig = _rig(obsa)
    if rig.adapter.realtime:
        obsa.inconclusive("OBSA-CAN-010", "a board's balancing switches are its own pins, "
                                          "which the bench does not see: its cmu_status says "
                                          "only whether one is closed")
        return
    n = len(rig.cells)
    rng = S.seeded_rng(obsa, "can balancing commands")
    commands = []
    for i in range(BALANCING_COMMANDS):
        cmd = np.zeros(n, dtype=bool)
        if i != BALANCING_COMMANDS - 2:  # the one before the last names no cell
            cmd[rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)] = True
            cmd[0 if i == 0 else n - 1] = True
        commands.append(cmd)
    target = "bmu_balancing_cmd"
    rule = rig.codec.frame(target).frame
    assert rule.timeout is not None
    bound = 0.1
    bound_steps = round(bound / rig.dt)
    rig.balancing = np.zeros(n, dtype=bool)
    rig.run(1.0)
    changes: list[tuple[int, np.ndarray]] = []
    for cmd in commands:
        rig.balancing = cmd
        rig.run(1.0, until=lambda r: r.sent_at.get(target) == r.t)
        changes.append((rig.k - 1, cmd))
        rig.run(BALANCING_HOLD_S)
    rig.balancing_command = False
    last_valid = rig.sent_at[target]
    deadline = last_valid + (rule.timeout.time_ms + rule.timeout.reaction_time_ms) / 1000
    rig.run(deadline - rig.t + 0.5)
    k_timeout = round((last_valid + rule.timeout.time_ms / 1000) / rig.dt)
    follow, wrong = 0.0, 0
    log = rig.switch_log
    for i, (k0, cmd) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else k_timeout
        hit = next((k for k in range(k0, end) if np.array_equal(log[k], cmd)), None)
        follow = max(follow, (end - k0) * rig.dt if hit is None else (hit - k0) * rig.dt)
        wrong += sum(1 for k in range(k0 + bound_steps + 1, end)
                     if not np.array_equal(log[k], cmd))
    k_open = next((k for k in range(k_timeout, rig.k) if not log[k].any()), rig.k)
    timeout_delay = k_open * rig.dt - deadline
    message = (f"{len(commands)} commands to module {rig.module} "
               + ", ".join(f"cells {np.flatnonzero(c).tolist()}" if c.any() else "none"
                           for _, c in changes)
               + f"; the command stopped after its frame at {last_valid:.2f} s (timeout and "
                 f"reaction end at {deadline:.2f} s)")
    t_cmd = [k * rig.dt for k, _ in changes]
    series: list[Series] = [("switches closed", "1", [(k * rig.dt, float(s.sum()))
                                                      for k, s in enumerate(log)]),
                            ("switches not as commanded", "1",
                             [(k * rig.dt, float(_mismatch(log[k], changes, k)))
                              for k in range(len(log)) if k <= k_timeout])]
    events = {**{f"command {i + 1}": t for i, t in enumerate(t_cmd)}, "last frame": last_valid,
              "deadline": deadline}
    obsa.judge("OBSA-CAN-010", {"follow_time_s": follow, "wrong_switch_steps": wrong,
                                "timeout_open_delay_s": timeout_delay},
               evidence=_evidence(rig, message, series, events), simulated_s=rig.t)


def _mismatch(switches: np.ndarray, changes: list[tuple[int, np.ndarray]], k: int) -> int:
    """Switches at step ``k`` that differ from the command in force (none before the first)."""
    current = [cmd for k0, cmd in changes if k0 <= k]
    return int(np.count_nonzero(switches != current[-1])) if current else 0


# ------------------------------------------------------------------------------- bus-off
@req("OBSA-CAN-011")
def test_bus_off_recovered(obsa: Harness) -> None:
    """Each bus of the node in turn: its controller bus-off for BUS_OFF_S (it neither sends
    nor receives, python-can's state ERROR), then back. Every periodic frame of that bus
    must come again within its period plus tolerance of the recovery, and a node whose
    frames carry can_fault_flags must show the bus's bus-off bit in the first after it
    began."""
    rig = _rig(obsa)
    if not rig.adapter.can_bus_off:
        obsa.inconclusive("OBSA-CAN-011", "the bench cannot put a board's controller bus-off: "
                                          "that takes a bus that errors (a disturber that "
                                          "forces bit errors on the node's frames), which it "
                                          "lacks; bus-off is tested on a Python node only")
        return
    rig.run(2.0)
    periods: list[tuple[str, float, float]] = []
    for bus in rig.adapter.can.buses:
        start = round(rig.t + rig.dt, 9)
        rig.bus_off = {bus}
        rig.run(BUS_OFF_S)
        rig.bus_off = set()
        end = round(rig.t + rig.dt, 9)
        rig.run(AFTER_BUS_OFF_S)
        periods.append((bus, start, end))
    times = _times(rig)
    resume: float | None = -math.inf
    late = ""
    for i, (bus, start, end) in enumerate(periods):
        until = periods[i + 1][1] if i + 1 < len(periods) else math.inf
        for e in rig.expected:
            own = times.get((e.name, e.mux), [])
            if rig.codec.frame(e.name).bus != bus or not any(t < start for t in own):
                continue  # never sent before the bus-off: OBSA-CAN-001's
            after = [t for t in own if end - 1e-9 <= t < until]
            delay = ((after[0] if after else min(until, rig.t + rig.dt)) - end
                     - (e.period_s + e.tolerance_s))
            if resume is not None and delay > resume:
                resume = delay
                late = f"{e.name}" + (f"[{e.mux}]" if e.mux is not None else "") + \
                    f" after the bus-off of {bus}"
    reporting = [cf for b in rig.adapter.can.buses for cf in rig.codec.frames[b].values()
                 if rig.node in cf.frame.senders
                 and any(s.signal == "can_fault_flags" for s in cf.frame.signals)]
    unreported = 0
    for bus, start, _ in periods:
        flag = f"{bus.removesuffix('_can')}_bus_off"
        bit = obsa.bit(STACK, flag)
        for rf in reporting:
            first = next((c for c in rig.sent(rf.name, since=start - 1e-9) if c.crc_ok), None)
            unreported += first is None or not int(first.values.get("can_fault_flags", 0)) & bit
    notes = {} if reporting else {"unreported_bus_off": "the node's frames carry no "
                                                        "can_fault_flags"}
    message = ("bus-off " + ", ".join(f"{b} {s:.2f}–{e:.2f} s" for b, s, e in periods)
               + (f"; latest to resume: {late}" if late else ""))
    series = [_sent_count_series(rig, bus) for bus in rig.adapter.can.buses]
    if reporting:
        series.append(_signal_series(rig, reporting[0].name, "can_fault_flags"))
    events = {f"{b} bus-off": s for b, s, _ in periods} | {f"{b} back": e
                                                           for b, _, e in periods}
    obsa.judge("OBSA-CAN-011", {"resume_delay_s": resume, "unreported_bus_off": unreported},
               evidence=_evidence(rig, message, series, events), notes=notes,
               simulated_s=rig.t)


def _sent_count_series(rig: CanRig, bus: str) -> Series:
    """Frames the node sent on ``bus`` per bench step."""
    counts: dict[float, int] = defaultdict(int)
    for c in rig.log:
        if c.bus == bus:
            counts[c.t] += 1
    return (f"frames sent on {bus}", "1",
            [(round(k * rig.dt, 9), float(counts.get(round(k * rig.dt, 9), 0)))
             for k in range(rig.k)])


# ------------------------------------------------------------------------ state estimates
def _spec_value(h: Harness, requirement: str, criterion: str) -> float:
    """A fixed limit of the spec (another requirement's acceptance criterion)."""
    c = next(c for c in h.spec.requirements[requirement].acceptance if c.name == criterion)
    assert c.value is not None, f"{requirement} {criterion} is a declared parameter"
    return float(c.value)


@req("OBSA-CAN-012")
def test_state_estimates(obsa: Harness) -> None:
    """A new pack (its cells' capacity the declared rated_capacity_Ah), every cell a seeded
    amount up to INITIAL_SOC_ERROR to one seeded side of the declared initial_soc, under a
    seeded load current: the BMU runs past its declared soc_convergence_time_s and for
    ESTIMATES_JUDGED_S more. Every estimate of bms_state_estimation must decode inside its
    dictionary range, soh_capacity lie within the declared capacity_accuracy of the cells'
    true capacity ratio throughout, and pack_soc, once the declared time has passed, within
    OBSA-SOC-003's largest error of the string's true SoC."""
    soc_p, soh_p = obsa.params("soc_estimator"), obsa.params("soh_estimator")
    converge = float(soc_p["soc_convergence_time_s"])
    rated = float(soh_p["rated_capacity_Ah"])
    adapter = obsa.session.adapter
    if isinstance(adapter, CanAdapter) and adapter.realtime:
        obsa.inconclusive("OBSA-CAN-012", f"a device measures the pack current with its own "
                                          f"sensor, which the bench's plant does not drive, so "
                                          f"its SoC has no truth here; and judging it would "
                                          f"hold the bench {converge + ESTIMATES_JUDGED_S:g} s "
                                          f"of wall clock (the declared convergence time "
                                          f"{converge:g} s, then {ESTIMATES_JUDGED_S:g} s)")
        return
    rig = _rig(obsa, bench={"capacity_Ah": rated})
    rng = S.seeded_rng(obsa, "can state estimates")
    initial = float(soc_p["initial_soc"])
    sides = [d for d in (-1.0, 1.0) if 0.0 <= initial + d * INITIAL_SOC_ERROR <= 1.0]
    side = sides[int(rng.integers(len(sides)))]
    for i in rig.cells:
        away = INITIAL_SOC_ERROR - float(rng.uniform(0.0, CELL_SOC_SPREAD))
        rig.bench.set_cell_soc(initial + side * away, i)
    c_rate = float(rng.uniform(*ESTIMATION_LOAD_C)) * float(rng.choice([-1.0, 1.0]))
    rig.bench.set_load_current(c_rate * rated)
    cf = rig.codec.frame(ESTIMATION_FRAME)
    cyc = cf.frame.cycle
    period = cyc.period_ms / 1000 if cyc is not None else 0.0
    rig.run(converge + period + ESTIMATES_JUDGED_S)
    capacities = np.asarray(rig.bench.cells.capacity_As, dtype=float) / 3600.0
    true_ratio = float(capacities.min()) / rated
    soc_max = _spec_value(obsa, *SOC_MAX_ERROR_FROM)
    accuracy = float(soh_p["capacity_accuracy"])
    ranges = {name: obsa.spec.signals[name].range for name in ESTIMATES}
    out_of_range, soc_ratio, soh_ratio = 0, None, None
    judged, worst = 0, ""
    frames = [c for c in rig.sent(ESTIMATION_FRAME) if c.crc_ok and c.values]
    for c in frames:
        v = c.values
        for name, rng_ in ranges.items():
            if name in v and rng_ is not None and not (
                    (rng_.min is None or v[name] >= rng_.min - 1e-9)
                    and (rng_.max is None or v[name] <= rng_.max + 1e-9)):
                out_of_range += 1
        if "soh_capacity" in v:
            step = float(cf.message.get_signal_by_name("soh_capacity").scale)
            ratio = abs(v["soh_capacity"] - true_ratio) / (accuracy * true_ratio + step)
            soh_ratio = ratio if soh_ratio is None else max(soh_ratio, ratio)
        if "pack_soc" in v and c.t - period >= converge - 1e-9:
            judged += 1
            step = float(cf.message.get_signal_by_name("pack_soc").scale)
            error = min(abs(v["pack_soc"] - rig.truth_at(c.t - lag)["true_pack_soc"])
                        for lag in (0.0, period))
            ratio = error / (soc_max + step)
            if soc_ratio is None or ratio > soc_ratio:
                soc_ratio, worst = ratio, f"{c.t:.1f} s"
    notes = {} if judged else {"soc_error_ratio": f"no {ESTIMATION_FRAME} frame after the "
                                                  f"declared {converge:g} s"}
    message = (f"{len(frames)} {ESTIMATION_FRAME} frames over {rig.t:.1f} s; cells "
               f"{INITIAL_SOC_ERROR - CELL_SOC_SPREAD:g}–{INITIAL_SOC_ERROR:g} "
               f"{'above' if side > 0 else 'below'} the declared initial_soc {initial:g}, "
               f"load {c_rate:+.3f} C; pack_soc of {judged} frames after the declared "
               f"convergence time {converge:g} s against the true pack SoC within "
               f"{soc_max:g} ({SOC_MAX_ERROR_FROM[0]})" + (f", largest at {worst}" if worst
                                                          else "")
               + f"; soh_capacity against the true capacity ratio {true_ratio:.4f} within "
                 f"the declared {accuracy:g}")
    series: list[Series] = [
        _signal_series(rig, ESTIMATION_FRAME, "pack_soc"),
        ("true pack SoC", "1", [(round(k * rig.dt, 9), float(tr["true_pack_soc"]))
                                for k, tr in enumerate(rig.truth)]),
        _signal_series(rig, ESTIMATION_FRAME, "soh_capacity"),
        _signal_series(rig, ESTIMATION_FRAME, "soce")]
    obsa.judge("OBSA-CAN-012", {"out_of_range_estimates": out_of_range,
                                "soc_error_ratio": soc_ratio, "soh_error_ratio": soh_ratio},
               evidence=_evidence(rig, message, series, {"declared convergence": converge}),
               notes=notes, simulated_s=rig.t)
