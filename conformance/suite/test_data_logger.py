"""Conformance test cases of the data logger (area REG, component data_logger): the lifetime
data of Regulation (EU) 2023/1542 Annex VII part B.

The logger runs alone (``components=["data_logger"]``) on a bench with ideal sensors and the
HV path open: its inputs are the bench's measurements, driven by stuck-at faults on the
measured pack current and voltage and on the cell voltages and temperatures (and their valid
flags), so every input is known exactly. Every judgement is against the logger's own inputs
as the trace recorded them, each held from its step to the next (as the bench holds them):
only the logger's arithmetic and its counting rules are judged, never a sensor. The stimuli
are drawn from the run's seed and scaled by the declarations (currents in multiples of the
declared equivalent_cycle_capacity_Ah, thresholds and windows as declared); the channels are
the first, the last and seeded cells and sensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conformance.bench import OpenWire, Stuck
from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.suite import steps as S

LOG = "data_logger"
req = pytest.mark.requirement

#: the counters of the logger (every output but the two dates)
COUNTERS = ("charged_capacity_Ah", "discharged_capacity_Ah", "charged_energy_Wh",
            "discharged_energy_Wh", "equivalent_full_cycles", "deep_discharge_events",
            "time_above_temperature_max_s", "time_below_temperature_min_s",
            "charge_time_above_temperature_max_s", "charge_time_below_temperature_min_s")
DATES = (("battery_manufacture_date_s", "manufacture_date_s"),
         ("battery_service_start_date_s", "service_start_date_s"))
#: current segments of the throughput run, each of a seeded duration
THROUGHPUT_SEGMENTS = 40
SEGMENT_S = (0.5, 3.0)
#: C-rates of the throughput run (log-uniform), in multiples of the declared cycle capacity
C_RATE = (0.02, 40.0)
#: share of the throughput segments that discharge (the rest charge or rest)
DISCHARGE_SHARE = 0.6
#: the throughput run discharges at least this many equivalent cycles more than it charges
NET_DISCHARGE = 0.1
#: the closing discharge lasts at most this long (a capacity the current range cannot cycle
#: in that time is left with less)
CLOSING_MAX_S = 60.0
#: how far a stimulated reading sits beyond a declared threshold (V, K, A)
VOLTAGE_MARGIN_V = (0.05, 0.5)
TEMPERATURE_MARGIN_K = (1.0, 10.0)
HOLD_S = (0.5, 2.0)
#: deep discharges of the long run of OBSA-REG-014 (a counter of one byte wraps)
MANY_EXCURSIONS = 300
#: a cell back from an excursion sits at most this far above the threshold (the spec
#: declares no hysteresis: the excursion has ended)
JUST_ABOVE_V = 0.02


# ----------------------------------------------------------------------------- helpers
def _limits(h: Harness, signal: str) -> tuple[float, float]:
    rng = h.spec.signals[signal].range
    assert rng is not None and rng.min is not None and rng.max is not None
    return float(rng.min), float(rng.max)


def _counter_channels() -> list[TraceChannel]:
    return [TraceChannel(name, "1", name) for name in COUNTERS + tuple(d for d, _ in DATES)]


def _logger_loop(h: Harness, extra: list[TraceChannel] | None = None,
                 **bench: Any) -> ClosedLoop:
    return h.run(components=[LOG], channels=_counter_channels() + list(extra or []),
                 ideal_sensors=True, **bench)


def _hold(loop: ClosedLoop, seconds: float, *faults: Any) -> None:
    """Inject ``faults`` (stuck-at readings) from now for ``seconds``, and run that long."""
    for f in faults:
        loop.bench.inject(f)
    loop.run(seconds)


def _stuck(loop: ClosedLoop, signal: str, value: Any, seconds: float,
           index: int | None = None) -> Stuck:
    return Stuck(signal=signal, index=index, value=value, start_s=loop.t,
                 end_s=loop.t + seconds)


def _held_integral(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per step, the integral up to that step of ``x`` held from each step to the next."""
    dt = np.diff(t)
    return np.concatenate(([0.0], np.cumsum(np.where(dt > 0, x[:-1] * dt, 0.0))))


def _band(t: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    """The integral of ``x`` up to the last step: held from each step to the next, and the
    lowest and highest a module may compute taking each interval at the value of either of
    its steps or anything between (spec: OBSA-REG-008)."""
    dt = np.where(np.diff(t) > 0, np.diff(t), 0.0)
    lo = float(np.sum(np.minimum(x[:-1], x[1:]) * dt))
    hi = float(np.sum(np.maximum(x[:-1], x[1:]) * dt))
    return float(np.sum(x[:-1] * dt)), lo, hi


def _band_error(measured: float, band: tuple[float, float, float]) -> float:
    """Distance of ``measured`` from the band, relative to the held integral."""
    held, lo, hi = band
    if not math.isfinite(measured):
        return math.inf
    dist = max(lo - measured, measured - hi, 0.0)
    if held <= 0.0:
        return dist if dist > 0.0 else 0.0
    return dist / held


def _baseline(h: Harness, loop: ClosedLoop) -> tuple[float, float]:
    """Every cell voltage well above the deep-discharge threshold and every temperature in
    the middle of the declared windows, for the whole run (later faults override them)."""
    p = h.params(LOG)
    v_low, v_high = _limits(h, "cell_voltage_V")
    v = min(float(p["deep_discharge_threshold_V"]) + 0.3, v_high)
    lo = max(float(p["extreme_temperature_min_degC"]),
             float(p["extreme_charge_temperature_min_degC"]))
    hi = min(float(p["extreme_temperature_max_degC"]),
             float(p["extreme_charge_temperature_max_degC"]))
    temp = 0.5 * (lo + hi)
    loop.bench.inject(Stuck(signal="cell_voltage_V", value=v, start_s=0.0))
    loop.bench.inject(Stuck(signal="cell_temperature_degC", value=temp, start_s=0.0))
    return v, temp


# ----------------------------------------------------------------------------- dates
@req("OBSA-REG-007")
def test_dates_reported(obsa: Harness) -> None:
    """The logger runs 2 s; both dates are compared with the declared ones on every step."""
    loop = _logger_loop(obsa)
    loop.run(2.0)
    p = obsa.params(LOG)
    worst, where = 0.0, {}
    for out, param in DATES:
        err = np.abs(loop.channel(out) - float(p[param]))
        e = float(err.max()) if np.all(np.isfinite(err)) else math.inf
        if not e <= worst:
            worst = e
            where = {f"largest {out} error": float(loop.t_s[int(np.nanargmax(
                np.where(np.isfinite(err), err, np.inf)))])}
    obsa.judge("OBSA-REG-007", {"date_error_s": worst},
               message=f"declared manufacture {float(p['manufacture_date_s']):.0f} s, service "
                       f"start {float(p['service_start_date_s']):.0f} s; {loop.steps} steps",
               events=where)


# ----------------------------------------------------------------------------- throughput
def _throughput_run(h: Harness, **bench: Any) -> ClosedLoop:
    """Seeded segments of charge, discharge and rest at C-rates from C_RATE of the declared
    cycle capacity (some below the charging threshold), with a pack voltage that follows the
    current (a seeded internal resistance) and moves by a seeded few per cent."""
    p = h.params(LOG)
    cap = float(p["equivalent_cycle_capacity_Ah"])
    i_low, i_high = _limits(h, "pack_current_A")
    v_low, v_high = _limits(h, "pack_voltage_V")
    rng = S.seeded_rng(h, "data logger throughput")
    loop = _logger_loop(h, **bench)
    loop.run(0.1)
    v0 = float(loop.seen["pack_voltage_V"])
    if not (math.isfinite(v0) and v0 > 0.0):
        v0 = 0.5 * v_high
    r = float(rng.uniform(0.02, 0.2)) * v0 / max(cap * 10.0, 1e-9)  # ~2…20 % at 10C
    net_Ah = 0.0  # discharged − charged so far

    def segment(current: float, seconds: float) -> None:
        nonlocal net_Ah
        current = float(np.clip(current, 0.9 * i_low, 0.9 * i_high))
        voltage = float(np.clip(v0 * (1.0 + rng.uniform(-0.05, 0.05)) + current * r,
                                0.01 * v_high, 0.99 * v_high))
        _hold(loop, seconds, _stuck(loop, "pack_current_A", current, seconds),
              _stuck(loop, "pack_voltage_V", voltage, seconds))
        net_Ah -= current * seconds / 3600.0

    for _ in range(THROUGHPUT_SEGMENTS):
        kind = rng.random()
        rate = math.exp(rng.uniform(math.log(C_RATE[0]), math.log(C_RATE[1])))
        current = rate * cap * (-1.0 if kind < DISCHARGE_SHARE else 1.0)
        segment(0.0 if kind > 0.95 else current, float(rng.uniform(*SEGMENT_S)))
    # a closing discharge, so that the discharged charge exceeds the charged one by
    # NET_DISCHARGE cycles: cycles counted from the total throughput show
    missing_Ah = NET_DISCHARGE * cap - net_Ah
    if missing_Ah > 0.0:
        current = max(-C_RATE[1] * cap, 0.9 * i_low)
        segment(current, min(missing_Ah * 3600.0 / -current, CLOSING_MAX_S))
    return loop


@req("OBSA-REG-008")
@req("OBSA-REG-009")
@req("OBSA-REG-010")
def test_throughput(obsa: Harness) -> None:
    """A seeded profile of charge, discharge and rest: the throughput counters at the end
    against the integrals of the logger's own inputs (the band of OBSA-REG-008), and the
    equivalent full cycles on every step against the discharged capacity it reported."""
    loop = _throughput_run(obsa)
    k = S.own_steps(loop, LOG)  # what the logger read: the inputs at its own steps
    t = np.asarray(loop.t_s, dtype=float)[k]
    i = loop.channel("pack_current_A")[k]
    v = loop.channel("pack_voltage_V")[k]
    ok_i = np.isfinite(i)
    ok_v = ok_i & np.isfinite(v) & (v > 0.0)
    charge = np.where(ok_i, np.maximum(i, 0.0), 0.0)
    discharge = np.where(ok_i, np.maximum(-i, 0.0), 0.0)
    per_h = 1.0 / 3600.0
    bands = {
        "charged_capacity_Ah": _band(t, charge * per_h),
        "discharged_capacity_Ah": _band(t, discharge * per_h),
        "charged_energy_Wh": _band(t, np.where(ok_v, v * charge, 0.0) * per_h),
        "discharged_energy_Wh": _band(t, np.where(ok_v, v * discharge, 0.0) * per_h),
    }
    got = {name: float(loop.channel(name)[-1]) for name in bands}
    err = {name: _band_error(got[name], bands[name]) for name in bands}
    true = {name: band[0] for name, band in bands.items()}
    summary = ", ".join(f"{n} {got[n]:.6g} (integral {true[n]:.6g}, band "
                        f"{bands[n][1]:.6g} … {bands[n][2]:.6g})" for n in true)
    end = {"end of the profile": float(t[-1])}
    obsa.judge("OBSA-REG-008", {
        "charged_energy_relative_error": err["charged_energy_Wh"],
        "discharged_energy_relative_error": err["discharged_energy_Wh"]},
        message=f"{THROUGHPUT_SEGMENTS} seeded segments over {t[-1]:.1f} s: {summary}",
        events=end)
    obsa.judge("OBSA-REG-009", {
        "charged_capacity_relative_error": err["charged_capacity_Ah"],
        "discharged_capacity_relative_error": err["discharged_capacity_Ah"]},
        message=f"{THROUGHPUT_SEGMENTS} seeded segments over {t[-1]:.1f} s: {summary}",
        events=end)
    cap = float(obsa.param(LOG, "equivalent_cycle_capacity_Ah"))
    cycles = np.abs(loop.channel("equivalent_full_cycles")
                    - loop.channel("discharged_capacity_Ah") / cap)
    cycles = np.where(np.isfinite(cycles), cycles, np.inf)
    worst = int(np.argmax(cycles))
    obsa.judge("OBSA-REG-010", {"cycle_count_error": float(cycles[worst])},
               message=f"equivalent_full_cycles {loop.channel('equivalent_full_cycles')[-1]:.6g}"
                       f" at the end, discharged_capacity_Ah "
                       f"{got['discharged_capacity_Ah']:.6g} over the declared "
                       f"equivalent_cycle_capacity_Ah {cap:g}",
               events={"largest error": float(loop.t_s[worst])})


# ----------------------------------------------------------------------------- deep discharge
def _deep_discharge_run(h: Harness) -> tuple[ClosedLoop, int, list[str]]:
    """Excursions below the declared threshold: the first, the last and seeded cells alone;
    the sampled cells overlapping (one excursion); a cell below, back just at or above the
    threshold and below again (two excursions); a cell below whose reading turns invalid
    and back (one excursion); an open wire (0 V, invalid) while no cell is below (none).
    Returns the loop, the excursions injected and what was done."""
    thr = float(h.param(LOG, "deep_discharge_threshold_V"))
    cells = S.sample_indices(h, "cell", "deep discharge cells")
    rng = S.seeded_rng(h, "deep discharge")
    loop = _logger_loop(h)
    _baseline(h, loop)
    loop.run(0.5)
    v_low, _ = _limits(h, "cell_voltage_V")

    def below() -> float:
        return max(thr - float(rng.uniform(*VOLTAGE_MARGIN_V)), v_low)

    def hold() -> float:
        return float(rng.uniform(*HOLD_S))

    done: list[str] = []
    excursions = 0
    if thr <= v_low:  # no reading can be below: nothing is injected
        return loop, 0, ["no cell voltage can be below the declared threshold"]
    for c in cells:  # one cell at a time
        s = hold()
        _hold(loop, s, _stuck(loop, "cell_voltage_V", below(), s, c))
        loop.run(hold())
        excursions += 1
        done.append(f"cell {c + 1} alone")
    if len(cells) > 1:  # overlapping: each cell falls while the previous is still below
        total = hold() * len(cells)
        starts = np.sort(rng.uniform(0.0, 0.4 * total, len(cells)))
        starts[0] = 0.0
        t0 = loop.t
        for c, s0 in zip(cells, starts, strict=True):
            loop.bench.inject(Stuck(signal="cell_voltage_V", index=c, value=below(),
                                    start_s=t0 + float(s0), end_s=t0 + 0.6 * total
                                    + float(s0)))
        loop.run(0.6 * total + float(starts[-1]) + 0.2)
        loop.run(hold())
        excursions += 1
        done.append(f"cells {', '.join(str(c + 1) for c in cells)} overlapping")
    c = cells[len(cells) // 2]  # below, just back at or above the threshold, below again
    s1, s2, s3 = hold(), hold(), hold()
    t0 = loop.t
    loop.bench.inject(Stuck(signal="cell_voltage_V", index=c, value=below(), start_s=t0,
                            end_s=t0 + s1 + s2 + s3))
    loop.bench.inject(Stuck(signal="cell_voltage_V", index=c,
                            value=thr + float(rng.uniform(0.0, JUST_ABOVE_V)),
                            start_s=t0 + s1, end_s=t0 + s1 + s2))
    loop.run(s1 + s2 + s3 + 0.2)
    loop.run(hold())
    excursions += 2
    done.append(f"cell {c + 1} twice, back just at or above the threshold in between")
    c = cells[-1]  # below, reading invalid for a while (its value above), then below again
    s1, s2, s3 = hold(), hold(), hold()
    t0 = loop.t
    loop.bench.inject(Stuck(signal="cell_voltage_V", index=c, value=below(), start_s=t0,
                            end_s=t0 + s1 + s2 + s3))
    loop.bench.inject(Stuck(signal="cell_voltage_V", index=c, value=thr + 0.2,
                            start_s=t0 + s1, end_s=t0 + s1 + s2))
    loop.bench.inject(Stuck(signal="cell_voltage_valid", index=c, value=False,
                            start_s=t0 + s1, end_s=t0 + s1 + s2))
    loop.run(s1 + s2 + s3 + 0.2)
    loop.run(hold())
    excursions += 1
    done.append(f"cell {c + 1} with its reading invalid during the excursion")
    c = cells[0]  # an open wire alone: invalid readings start nothing
    s = hold()
    _hold(loop, s, OpenWire(signal="cell_voltage_V", index=c, start_s=loop.t,
                            end_s=loop.t + s))
    loop.run(hold())
    done.append(f"an open wire at cell {c + 1} (not an excursion)")
    return loop, excursions, done


@req("OBSA-REG-011")
def test_deep_discharge_events(obsa: Harness) -> None:
    """Injected excursions below the declared deep_discharge_threshold_V are each counted
    once (see :func:`_deep_discharge_run`)."""
    loop, injected, done = _deep_discharge_run(obsa)
    counted = float(loop.channel("deep_discharge_events")[-1])
    obsa.judge("OBSA-REG-011", {"event_count_error": abs(counted - injected)},
               message=f"{injected} excursions injected ({'; '.join(done)}), "
                       f"deep_discharge_events {counted:g}",
               events={"end": loop.t_s[-1]})


# ----------------------------------------------------------------------------- temperatures
def _extreme_channels(h: Harness) -> list[TraceChannel]:
    """Per step, from the logger's inputs: whether a valid temperature is beyond each
    declared threshold, and whether the current is above the charging threshold."""
    p = h.params(LOG)
    thr = {k: float(p[k]) for k in ("extreme_temperature_max_degC",
                                    "extreme_temperature_min_degC",
                                    "extreme_charge_temperature_max_degC",
                                    "extreme_charge_temperature_min_degC",
                                    "charging_current_threshold_A")}

    def valid(pool: dict[str, Any]) -> np.ndarray:
        temp = np.asarray(pool["cell_temperature_degC"], dtype=float)
        ok = np.asarray(pool["cell_temperature_valid"], dtype=bool) & np.isfinite(temp)
        return temp[ok]

    def beyond(key: str, upper: bool) -> Callable[[dict[str, Any]], float]:
        def read(pool: dict[str, Any]) -> float:
            temp = valid(pool)
            return float(np.any(temp > thr[key]) if upper else np.any(temp < thr[key]))
        return read

    def charging(pool: dict[str, Any]) -> float:
        i = float(pool["pack_current_A"])
        return float(math.isfinite(i) and i > thr["charging_current_threshold_A"])

    return [TraceChannel("hot", "1", read=beyond("extreme_temperature_max_degC", True)),
            TraceChannel("cold", "1", read=beyond("extreme_temperature_min_degC", False)),
            TraceChannel("charge_hot", "1",
                         read=beyond("extreme_charge_temperature_max_degC", True)),
            TraceChannel("charge_cold", "1",
                         read=beyond("extreme_charge_temperature_min_degC", False)),
            TraceChannel("charging", "1", read=charging)]


def _temperature_run(h: Harness) -> tuple[ClosedLoop, list[str]]:
    """Per sampled sensor (first, last, seeded): hot and cold beyond the extreme window at
    rest; hot and cold beyond the charge window while charging above the threshold, while
    charging below it and while discharging; two sensors beyond at once; an invalid sensor
    reading an extreme temperature (not counted)."""
    p = h.params(LOG)
    t_low, t_high = _limits(h, "cell_temperature_degC")
    i_low, i_high = _limits(h, "pack_current_A")
    rng = S.seeded_rng(h, "extreme temperatures")
    sensors = S.sample_indices(h, "temperature_sensor", "extreme temperature sensors")
    loop = _logger_loop(h, _extreme_channels(h))
    _, mid = _baseline(h, loop)
    loop.run(0.5)
    thr_i = float(p["charging_current_threshold_A"])
    done: list[str] = []

    def temp(threshold: str, upper: bool) -> float | None:
        d = float(rng.uniform(*TEMPERATURE_MARGIN_K))
        x = float(p[threshold]) + (d if upper else -d)
        x = min(max(x, t_low), t_high)
        beyond = x > float(p[threshold]) if upper else x < float(p[threshold])
        return x if beyond else None

    def segment(sensor: int, value: float, current: float, label: str,
                valid: bool = True) -> None:
        s = float(rng.uniform(*HOLD_S))
        faults = [_stuck(loop, "cell_temperature_degC", value, s, sensor),
                  _stuck(loop, "pack_current_A", float(np.clip(current, i_low, i_high)), s)]
        if not valid:
            faults.append(_stuck(loop, "cell_temperature_valid", False, s, sensor))
        _hold(loop, s, *faults)
        loop.run(float(rng.uniform(0.2, 1.0)))
        done.append(label)

    above_i = thr_i + float(rng.uniform(0.5, 20.0))
    for sensor in sensors:
        n = sensor + 1
        for key, upper, word in (("extreme_temperature_max_degC", True, "hot"),
                                 ("extreme_temperature_min_degC", False, "cold")):
            x = temp(key, upper)
            if x is not None:
                segment(sensor, x, 0.0, f"sensor {n} {word} at rest")
        for key, upper, word in (("extreme_charge_temperature_max_degC", True, "hot"),
                                 ("extreme_charge_temperature_min_degC", False, "cold")):
            x = temp(key, upper)
            if x is None:
                continue
            segment(sensor, x, above_i, f"sensor {n} {word} charging")
            if thr_i > 0.0:
                segment(sensor, x, 0.5 * thr_i, f"sensor {n} {word} below the threshold")
            segment(sensor, x, -above_i, f"sensor {n} {word} discharging")
    segment(sensors[0], mid, above_i, "charging in the window")
    if len(sensors) > 1:  # two sensors beyond at once, overlapping
        x = temp("extreme_temperature_max_degC", True)
        if x is not None:
            s = float(rng.uniform(*HOLD_S))
            t0 = loop.t
            loop.bench.inject(Stuck(signal="cell_temperature_degC", index=sensors[0], value=x,
                                    start_s=t0, end_s=t0 + s))
            loop.bench.inject(Stuck(signal="cell_temperature_degC", index=sensors[-1],
                                    value=x, start_s=t0 + 0.5 * s, end_s=t0 + 1.5 * s))
            loop.run(1.5 * s + 0.5)
            done.append(f"sensors {sensors[0] + 1} and {sensors[-1] + 1} hot together")
    for key, upper, word in (("extreme_temperature_max_degC", True, "hot"),
                             ("extreme_temperature_min_degC", False, "cold")):
        x = temp(key, upper)
        if x is not None:
            segment(sensors[-1], x, 0.0, f"sensor {sensors[-1] + 1} invalid reading {word}",
                    valid=False)
    return loop, done


def _time_error(loop: ClosedLoop, counter: str, mask: np.ndarray) -> tuple[float, int, str]:
    """|accumulated − true time| per excursion of ``mask`` (held from step to step)."""
    t = np.asarray(loop.t_s, dtype=float)
    true = float(_held_integral(t, mask.astype(float))[-1])
    got = float(loop.channel(counter)[-1])
    edges = int(np.count_nonzero(mask[1:] & ~mask[:-1]) + int(bool(mask[0])))
    err = abs(got - true) if math.isfinite(got) else math.inf
    return err / max(edges, 1), edges, f"{counter} {got:.3f} s (true {true:.3f} s, {edges} " \
                                       f"excursions)"


@req("OBSA-REG-012")
@req("OBSA-REG-013")
def test_time_at_extreme_temperatures(obsa: Harness) -> None:
    """Time beyond the declared windows, and time charging beyond the charge window,
    against the time the logger's own inputs were there (see :func:`_temperature_run`)."""
    loop, done = _temperature_run(obsa)
    if not done:
        obsa.not_applicable("OBSA-REG-012", "no temperature can be beyond the declared window")
        obsa.not_applicable("OBSA-REG-013", "no temperature can be beyond the declared window")
        return
    ch = {n: loop.channel(n) > 0.5 for n in ("hot", "cold", "charge_hot", "charge_cold",
                                            "charging")}
    end = {"end": loop.t_s[-1]}
    message = f"{len(done)} segments: {', '.join(done)}"
    for rid, parts in (
            ("OBSA-REG-012", (("time_above_temperature_max_s", ch["hot"]),
                              ("time_below_temperature_min_s", ch["cold"]))),
            ("OBSA-REG-013", (("charge_time_above_temperature_max_s",
                               ch["charge_hot"] & ch["charging"]),
                              ("charge_time_below_temperature_min_s",
                               ch["charge_cold"] & ch["charging"])))):
        results = [_time_error(loop, counter, mask) for counter, mask in parts]
        obsa.judge(rid, {"time_error_per_excursion_s": max(r[0] for r in results)},
                   message=f"{'; '.join(r[2] for r in results)}; {message}", events=end)


# ----------------------------------------------------------------------------- never decrease
def count_decreases(loop: ClosedLoop) -> tuple[int, str, float]:
    """Steps in which any counter is lower than in the previous step, with the first."""
    bad = np.zeros(max(len(loop.t_s) - 1, 0), dtype=bool)
    first, t_first = "", math.nan
    for name in COUNTERS:
        x = loop.channel(name)
        dec = x[1:] < x[:-1]
        if dec.any():
            k = int(np.flatnonzero(dec)[0])
            if not first or loop.t_s[k + 1] < t_first:
                first, t_first = f"{name} {x[k]:.9g} → {x[k + 1]:.9g}", loop.t_s[k + 1]
        bad |= dec
    return int(np.count_nonzero(bad)), first, t_first


def _many_excursions(h: Harness) -> ClosedLoop:
    """MANY_EXCURSIONS deep discharges one after the other, each of a seeded sampled cell
    for two cell-monitor cycles, two cycles apart: the event counter goes past 255."""
    thr = float(h.param(LOG, "deep_discharge_threshold_V"))
    cells = S.sample_indices(h, "cell", "many deep discharges")
    rng = S.seeded_rng(h, "many deep discharges")
    loop = _logger_loop(h)
    _baseline(h, loop)
    v_low, _ = _limits(h, "cell_voltage_V")
    if thr <= v_low:
        return loop
    cycle = float(loop.bench.config.cell_monitor_cycle_s)
    for _ in range(MANY_EXCURSIONS):
        c = int(rng.choice(cells))
        _hold(loop, 2 * cycle, _stuck(loop, "cell_voltage_V", max(thr - 0.1, v_low), 2 * cycle,
                                      c))
        loop.run(2 * cycle)
    return loop


@req("OBSA-REG-014")
def test_counters_never_decrease(obsa: Harness) -> None:
    """The throughput profile from a late clock start (float time far from 0), the extreme
    temperatures, the deep discharges and MANY_EXCURSIONS more (an event counter past 255):
    no counter goes down on any step (the always-on monitor checks the same on every loop
    that runs the logger)."""
    start = float(S.seeded_rng(obsa, "late start").uniform(1.0e6, 1.0e8))
    loops = [_throughput_run(obsa, clock_start_s=start), _temperature_run(obsa)[0],
             _deep_discharge_run(obsa)[0], _many_excursions(obsa)]
    found = [(count_decreases(lp), lp) for lp in loops]
    total = sum(n for (n, _, _), _ in found)
    worst = next(((f, lp) for f, lp in found if f[0]), None)
    events: dict[str, float] = {}
    note = ""
    if worst is not None:
        obsa.loop = worst[1]
        events = {"first decrease": worst[0][2]}
        note = f"; first: {worst[0][1]} at t = {worst[0][2]:.3f} s"
    obsa.judge("OBSA-REG-014", {"counter_decreases": total},
               message=f"{sum(lp.steps for lp in loops)} steps in {len(loops)} runs (one from "
                       f"t = {start:.0f} s), {MANY_EXCURSIONS} deep discharges in the last{note}",
               events=events)


# ----------------------------------------------------------------------------- power loss
#: power cuts of OBSA-REG-015's run
POWER_CUTS = 4
#: the first cut, in declared save periods after the first step: beyond one, so that a
#: module that keeps nothing loses more than a period
FIRST_CUT_PERIODS = (1.3, 2.2)
#: the second, after its restart: just over one period, so that a save timer started at
#: power-up that runs slower than declared has not fired yet
SECOND_CUT_PERIODS = (1.05, 1.3)
#: the others, after their restart: seeded phases of the module's saves
LATER_CUT_PERIODS = (0.3, 2.0)
#: a cut comes at least this many logger steps after the start or the restart
MIN_CUT_STEPS = 10
#: a stimulus segment lasts this share of the declared period, and at least
#: MIN_SEGMENT_STEPS logger steps
SEGMENT_PERIODS = (0.03, 0.1)
MIN_SEGMENT_STEPS = 4
#: a counter stored in single precision comes back up to this much (relative) below what
#: it saved (float32 keeps about 6e-8)
KEPT_RELATIVE = 1e-6
#: the run goes on this long after the last restart
AFTER_LAST_S = 1.0


class _PowerLossStimulus:
    """The stimulus of OBSA-REG-015's run, laid out ahead of the clock in segments that
    cycle through charging with a sensor hot, discharging with one cold, charging with one
    cold and discharging with a deep discharge in its middle (the first, the last and seeded
    cells and sensors in turn), so that every counter grows during every save period:
    whatever a module fails to keep shows as lost time."""

    KINDS = ("charge hot", "discharge cold", "charge cold", "discharge deep")

    def __init__(self, h: Harness, loop: ClosedLoop, rng: np.random.Generator,
                 period_s: float, step_s: float, margin_s: float) -> None:
        p = h.params(LOG)
        self.loop, self.rng = loop, rng
        self.period_s, self.step_s, self.margin_s = period_s, step_s, margin_s
        self.cells = S.sample_indices(h, "cell", "power loss cells")
        self.sensors = S.sample_indices(h, "temperature_sensor", "power loss sensors")
        t_low, t_high = _limits(h, "cell_temperature_degC")
        v_low, _ = _limits(h, "cell_voltage_V")
        i_low, i_high = _limits(h, "pack_current_A")
        cap = float(p["equivalent_cycle_capacity_Ah"])
        self.hot = min(max(float(p["extreme_temperature_max_degC"]),
                           float(p["extreme_charge_temperature_max_degC"]))
                       + float(rng.uniform(*TEMPERATURE_MARGIN_K)), t_high)
        self.cold = max(min(float(p["extreme_temperature_min_degC"]),
                            float(p["extreme_charge_temperature_min_degC"]))
                        - float(rng.uniform(*TEMPERATURE_MARGIN_K)), t_low)
        self.below = max(float(p["deep_discharge_threshold_V"])
                         - float(rng.uniform(*VOLTAGE_MARGIN_V)), v_low)
        self.deep = self.below < float(p["deep_discharge_threshold_V"])
        charging = float(p["charging_current_threshold_A"])  # at most 10 A (its range)
        self.charge_A = min(max(float(rng.uniform(0.2, 2.0)) * cap, charging + 1.0),
                            0.9 * i_high)
        self.discharge_A = -min(float(rng.uniform(0.2, 2.0)) * cap, -0.9 * i_low)
        self.end_s = loop.t
        self.segments = 0
        self.excursions: list[tuple[float, float]] = []  # (start, end) of each deep discharge

    def extend(self, until_s: float) -> None:
        """Lay segments out up to ``until_s`` at least."""
        while self.end_s < until_s:
            kind = self.KINDS[self.segments % len(self.KINDS)]
            k = self.segments // len(self.KINDS)
            length = max(float(self.rng.uniform(*SEGMENT_PERIODS)) * self.period_s,
                         MIN_SEGMENT_STEPS * self.step_s)
            t0, t1 = self.end_s, self.end_s + length
            sensor = self.sensors[k % len(self.sensors)]
            current = self.charge_A if kind.startswith("charge") else self.discharge_A
            faults = [Stuck(signal="pack_current_A", value=current, start_s=t0, end_s=t1)]
            if kind.endswith("hot") or kind.endswith("cold"):
                faults.append(Stuck(signal="cell_temperature_degC", index=sensor,
                                    value=self.hot if kind.endswith("hot") else self.cold,
                                    start_s=t0, end_s=t1))
            elif self.deep:
                cell = self.cells[k % len(self.cells)]
                e0, e1 = t0 + 0.25 * length, t0 + 0.5 * length
                faults.append(Stuck(signal="cell_voltage_V", index=cell, value=self.below,
                                    start_s=e0, end_s=e1))
                self.excursions.append((e0, e1))
            for f in faults:
                self.loop.bench.inject(f)
            self.end_s = t1
            self.segments += 1

    def clear_of_excursions(self, t_cut: float) -> float:
        """``t_cut``, or later if a deep discharge is under way around it (a module
        restarted during one sees it anew: the statement of OBSA-REG-011 leaves open
        whether that counts, so no cut comes near one)."""
        for e0, e1 in self.excursions:
            if e0 - self.margin_s <= t_cut <= e1 + self.margin_s:
                t_cut = e1 + self.margin_s + 0.5 * self.step_s
        return t_cut


def _counter_rows(loop: ClosedLoop) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At the logger's own steps of ``loop``: the times, the counters (a column each, in
    COUNTERS' order) and the dates."""
    k = S.own_steps(loop, LOG)
    t = np.asarray(loop.t_s, dtype=float)[k]
    counters = np.column_stack([loop.channel(name)[k] for name in COUNTERS])
    dates = np.column_stack([loop.channel(out)[k] for out, _ in DATES])
    return t, counters, dates


def _judge_cut(periods: list[ClosedLoop], i: int) -> tuple[float, int, str]:
    """What the power cut after ``periods[i]`` lost: the lost time (from the latest step of
    the run so far at which every counter was at most its value at the first step after
    the restart, to the last step before the cut), the mismatches (counters above their
    value before the cut by more than their largest one-step increment, dates changed) and
    what was seen."""
    rows = [_counter_rows(lp) for lp in periods[:i + 1]]
    t = np.concatenate([r[0] for r in rows])
    counted = np.concatenate([r[1] for r in rows])
    t_after, after, dates_after = _counter_rows(periods[i + 1])
    if not len(t) or not len(t_after):
        return math.inf, len(COUNTERS), "no logger step before the cut or after the restart"
    restored, last = after[0], counted[-1]
    kept = np.all(counted <= restored + KEPT_RELATIVE * np.abs(restored), axis=1)
    kept_at = np.flatnonzero(kept)
    lost = float(t[-1] - t[kept_at[-1]]) if len(kept_at) else math.inf
    own = rows[-1][1]
    step_increase = (np.max(np.diff(own, axis=0), axis=0, initial=0.0) if len(own) > 1
                     else np.zeros(len(COUNTERS)))
    above = ~(restored <= last + np.maximum(step_increase, 0.0) + KEPT_RELATIVE * np.abs(last))
    moved = ~(dates_after[0] == rows[-1][2][-1])
    names = [n for n, bad in zip(COUNTERS, above, strict=True) if bad] + \
            [out for (out, _), bad in zip(DATES, moved, strict=True) if bad]
    drop = np.where(last > 0, (last - restored) / np.where(last > 0, last, 1.0), -np.inf)
    worst = int(np.argmax(np.where(np.isnan(drop), np.inf, drop)))  # the most lost, relatively
    seen = (f"last step before the cut at {t[-1]:.2f} s, first after the restart at "
            f"{t_after[0]:.2f} s; lost {lost:.2f} s of counting (e.g. {COUNTERS[worst]} "
            f"{last[worst]:.9g} → {restored[worst]:.9g})")
    if names:
        seen += f"; not as before the cut: {', '.join(names)}"
    return lost, len(names), seen


def _power_loss_run(h: Harness) -> tuple[list[ClosedLoop], list[float], int]:
    """The logger alone on a bench stepped at its own period, stimulated by
    :class:`_PowerLossStimulus`; its power cut POWER_CUTS times (see FIRST_CUT_PERIODS and
    the others) and restored at once: the loop of every power-on period, the cut times and
    the stimulus segments run."""
    period = float(h.param(LOG, "lifetime_save_period_s"))
    step = h.step_period(LOG)
    cycle = max(float(h.param("cell_monitor", "measurement_cycle_s")), step)
    rng = S.seeded_rng(h, "power loss")
    loop = _logger_loop(h, dt_s=step, cell_monitor_cycle_s=cycle)
    _baseline(h, loop)
    stimulus = _PowerLossStimulus(h, loop, rng, period, step, margin_s=cycle + 2.0 * step)
    periods, cuts = [loop], []
    least = MIN_CUT_STEPS * step
    after = max(float(rng.uniform(*FIRST_CUT_PERIODS)) * period, period + least)
    for n in range(POWER_CUTS):
        t_cut = loop.t + after
        stimulus.extend(t_cut + 2.0 * period)
        t_cut = stimulus.clear_of_excursions(t_cut)
        loop.run(t_cut - loop.t)  # the last step comes before t_cut, the next one after
        cuts.append(t_cut)
        loop = h.power_cycle(loop)
        periods.append(loop)
        span = SECOND_CUT_PERIODS if n == 0 else LATER_CUT_PERIODS
        after = max(float(rng.uniform(*span)) * period, least)
    stimulus.extend(loop.t + AFTER_LAST_S)
    loop.run(AFTER_LAST_S)
    return periods, cuts, stimulus.segments


@req("OBSA-REG-015")
def test_lifetime_data_survives_power_loss(obsa: Harness) -> None:
    """The module's power is cut POWER_CUTS times while the counters grow, and restored at
    once (configured again, not reset): at its first step after each restart, the counters
    against what the logger reported before the cut (see :func:`_judge_cut`)."""
    refusal = obsa.power_cycle_refusal()
    if refusal is not None:
        # never not applicable: a transport must not be a way around the requirement
        obsa.inconclusive("OBSA-REG-015", f"{refusal}, so what survives a power loss cannot be "
                                          "judged; certify the module over the python or "
                                          "process transport to have it judged")
        return
    periods, cuts, segments = _power_loss_run(obsa)
    judged = [_judge_cut(periods, i) for i in range(len(cuts))]
    worst = max(range(len(cuts)), key=lambda i: (judged[i][1] > 0, judged[i][0]))
    period = float(obsa.param(LOG, "lifetime_save_period_s"))
    lines = "; ".join(f"cut {i + 1} at {t:.2f} s: {judged[i][2]}" for i, t in enumerate(cuts))
    obsa.loop = periods[worst + 1]
    obsa.judge("OBSA-REG-015", {
        "lost_time_s": max(j[0] for j in judged),
        "restart_mismatches": sum(j[1] for j in judged)},
        message=f"declared lifetime_save_period_s {period:g} s; {segments} stimulus segments "
                f"over {obsa.loop.t:.1f} s, the power cut {len(cuts)} times: {lines}; "
                f"evidence around cut {worst + 1}",
        events={f"power cut {worst + 1}": cuts[worst],
                "restart": float(periods[worst + 1].t_s[0]) if periods[worst + 1].t_s
                else cuts[worst]})
