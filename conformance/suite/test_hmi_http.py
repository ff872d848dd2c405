"""Conformance test cases of the HMI API over HTTP (feature hmi_http; the binding is the
section http of interfaces/hmi_api.yaml).

The bench runs the module's components in closed loop (the whole BMS, or a gateway with the
HMI API), writes a seeded new value of every input of the HMI API that no component of the
module produces and the bench does not measure on every step, and pauses the loop after a
seeded number of steps (one to two refresh periods). While the loop holds still it asks the
module's service over HTTP — the manifest's ``hmi_http`` says where — and compares what it
serves with the outputs the component returned for that step: how long after the step the
snapshot resource serves the new snapshot (OBSA-HMI-005), the values every resource that
carries outputs serves (OBSA-HMI-006), that the declared token is required (OBSA-HMI-007),
that every write method on every resource is refused and changes nothing (OBSA-HMI-008, the
test of OBSA-HMI-004 over HTTP) and that the Annex VII resource serves the component's
inputs (OBSA-HMI-009, the test of OBSA-REG-016 over HTTP).

No framework is assumed: the bench speaks HTTP/1.1 (conformance/bench/hmi_http.py), an event
stream is optional (the binding's ``required: false``), and a service may poll its block
instead of being told of each step — within the refresh bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conformance.bench.hmi_http import Client, Reply
from conformance.harness.context import Harness, PreconditionFailed
from conformance.harness.loop import ClosedLoop
from conformance.spec.models import Http, HttpResource
from conformance.suite import steps as S

HMI = "hmi_api"
req = pytest.mark.requirement

#: pauses of the loop per test case, each after a seeded one to two refresh periods
SAMPLES = 10
#: how long the bench polls a resource for the snapshot of the step (at least), and how often
POLL_TIMEOUT_S, POLL_EVERY_S = 2.0, 0.002
#: the field every resource of a snapshot carries
SNAPSHOT_TIME = "hmi_snapshot_time_s"
#: the resource the refresh is judged on (the one that carries every scalar output)
SNAPSHOT = "snapshot"
#: the token case asks at every TOKEN_EVERY-th pause (three of the ten)
TOKEN_EVERY = 4
#: commands a write carries beside the outputs (those of the vehicle interface)
COMMANDS = {"close_request": True, "fault_reset_request": True}

Visit = Callable[[int, ClosedLoop, Client, list[dict[str, Any]], float], None]


def _binding(h: Harness) -> Http:
    http = h.spec.interfaces[HMI].http
    assert http is not None, "interfaces/hmi_api.yaml holds the HTTP binding"
    return http


class _Stimulus:
    """Seeded new values of the HMI API's inputs that nobody else writes."""

    def __init__(self, h: Harness, loop: ClosedLoop, rng: np.random.Generator) -> None:
        self.h, self.loop, self.rng = h, loop, rng
        produced = {p.signal for c in loop.components for p in h.spec.interfaces[c].outputs}
        measured = set(loop.bench.measurements())
        self.written = [p.signal for p in h.spec.interfaces[HMI].inputs
                        if p.signal not in produced and p.signal not in measured]

    def _value(self, signal: str) -> Any:
        sig = self.h.spec.signals[signal]
        current = self.loop.seen[signal]
        if sig.enum is not None:
            values = [v.value for v in self.h.spec.enums[sig.enum].values]
            if sig.dimension is None:
                return int(self.rng.choice(values))
            arr = np.array(current, dtype=np.int64, copy=True)
            if len(arr) and self.rng.random() < 0.2:
                arr[int(self.rng.integers(len(arr)))] = int(self.rng.choice(values))
            return arr
        if sig.dimension is not None or sig.type == "bool":
            return current
        lo = float(sig.range.min) if sig.range and sig.range.min is not None else 0.0
        hi = float(sig.range.max) if sig.range and sig.range.max is not None else lo + 1000.0
        hi = min(hi, lo + 1000.0)
        if sig.type == "int":
            return int(self.rng.integers(int(math.ceil(lo)), int(math.floor(hi)) + 1))
        return float(self.rng.uniform(lo, hi))

    def apply(self) -> None:
        for signal in self.written:
            self.loop.set(signal, self._value(signal))


def _record(loop: ClosedLoop, names: tuple[str, ...]) -> dict[str, Any]:
    return {"t": float(loop.t_s[-1]), **{n: np.array(loop.seen[n], copy=True) for n in names}}


def _run(h: Harness, purpose: str, visit: Visit) -> tuple[ClosedLoop, str | None]:
    """The closed loop with the service: ``visit(k, loop, client, history, ended)`` at every
    pause (``ended``: the monotonic time the last step returned; ``history``: the HMI API's
    inputs after every step). Returns the loop and why the service never answered (None)."""
    endpoint = h.session.hmi_endpoint
    if endpoint is None:
        raise PreconditionFailed("the module declares no HTTP service (feature hmi_http)")
    rng = S.seeded_rng(h, purpose)
    loop = h.run()
    names = tuple(p.signal for p in h.spec.interfaces[HMI].inputs)
    period = float(h.param(HMI, "hmi_refresh_period_s"))
    most = max(1, loop.bench.clock.steps_for(2.0 * period))
    stimulus = _Stimulus(h, loop, rng)
    client = Client(endpoint)
    history: list[dict[str, Any]] = []
    try:
        stimulus.apply()
        loop.step()
        history.append(_record(loop, names))
        problem = client.wait_up(_binding(h).resource(SNAPSHOT).path,
                                 endpoint.startup_timeout_s)
        if problem is not None:
            return loop, problem
        for k in range(SAMPLES):
            for _ in range(int(rng.integers(1, most + 1))):
                stimulus.apply()
                loop.step()
                history.append(_record(loop, names))
            visit(k, loop, client, history, time.monotonic())
    finally:
        client.close()
    return loop, None


def _tolerance(h: Harness, signal: str) -> float:
    res = h.spec.signals[signal].resolution
    return float(res) if res is not None else 0.0


def _same(h: Harness, signal: str, served: Any, expected: Any) -> int:
    """How many elements of ``served`` differ from ``expected`` (all when missing or of
    another shape)."""
    want = np.atleast_1d(np.asarray(expected, dtype=float))
    try:
        got = np.atleast_1d(np.asarray(served, dtype=float))
    except (TypeError, ValueError):
        return max(len(want), 1)
    if got.shape != want.shape:
        return max(len(want), 1)
    tol = _tolerance(h, signal) * (1.0 + 1e-9) + 1e-9 * np.maximum(1.0, np.abs(want))
    return int(np.count_nonzero(~(np.abs(got - want) <= tol)))


def _poll(h: Harness, client: Client, res: HttpResource, want_t: float, ended: float
          ) -> tuple[Reply, float, bool]:
    """GET ``res`` until it serves the snapshot taken at ``want_t``: the last reply, the
    seconds since the step ended, and whether it came. A resource that answers neither 200
    nor 503 (missing, refused) is not polled further."""
    timeout = max(POLL_TIMEOUT_S, 10.0 * float(h.param(HMI, "hmi_refresh_period_s")))
    tol = max(_tolerance(h, SNAPSHOT_TIME), 1e-6)
    while True:
        reply = client.get(res.path)
        waited = time.monotonic() - ended
        if reply.status == 200 and isinstance(reply.body, dict):
            served = reply.body.get(SNAPSHOT_TIME)
            if isinstance(served, (int, float)) and abs(float(served) - want_t) <= tol:
                return reply, waited, True
        elif reply.status not in (0, 503):
            return reply, waited, False
        if waited > timeout:
            return reply, waited, False
        time.sleep(POLL_EVERY_S)


def _content_errors(h: Harness, res: HttpResource, body: Any, loop: ClosedLoop
                    ) -> tuple[int, list[str]]:
    """Fields of ``res`` in ``body`` missing or differing from the component's outputs."""
    count, wrong = 0, []
    body = body if isinstance(body, dict) else {}
    for name in res.outputs:
        n = _same(h, name, body.get(name), loop.seen[name])
        if n:
            count += n
            wrong.append(name)
    if res.dtc_rows is not None:
        want = np.asarray(loop.seen[res.dtc_rows], dtype=np.int64)
        rows = body.get("dtcs")
        table = [f"0x{fc.dtc:04X}" for _, fc in h.spec.dtc_table]
        if not isinstance(rows, list) or len(rows) != len(want):
            count += max(len(want), 1)
            wrong.append("dtcs")
        else:
            bad = sum(1 for row, code, status in zip(rows, table, want, strict=True)
                      if not isinstance(row, dict) or str(row.get("dtc", "")).upper()
                      != code.upper() or row.get("status") != int(status))
            if bad:
                count += bad
                wrong.append(f"dtcs ({bad} rows)")
    return count, wrong


@req("OBSA-HMI-005")
def test_http_snapshot_lag(obsa: Harness) -> None:
    """At every pause: the wall-clock time from the end of the step until the snapshot
    resource serves the component's hmi_snapshot_time_s."""
    res = _binding(obsa).resource(SNAPSHOT)
    lags: list[float] = []
    events: dict[str, float] = {}

    def visit(k: int, loop: ClosedLoop, client: Client, history: list[dict[str, Any]],
              ended: float) -> None:
        _, waited, came = _poll(obsa, client, res, float(loop.seen[SNAPSHOT_TIME]), ended)
        lags.append(waited if came else math.inf)
        if lags[-1] >= max(lags):
            events["slowest snapshot"] = float(loop.t_s[-1])

    loop, problem = _run(obsa, "hmi http lag", visit)
    lag = max(lags) if lags else math.inf
    shown = ", ".join("never" if math.isinf(x) else f"{x * 1e3:.1f}" for x in lags)
    obsa.judge("OBSA-HMI-005", {"http_lag_s": lag},
               message=problem or f"{res.path} served the snapshot of the step after "
                                  f"[{shown}] ms at {len(lags)} seeded pauses",
               events=events)


@req("OBSA-HMI-006")
def test_http_content(obsa: Harness) -> None:
    """At every pause, every resource that carries outputs (and no inputs) polled until it
    serves the step's snapshot: fields missing or differing from the component's outputs."""
    http = _binding(obsa)
    judged = [r for r in http.resources if r.media_type == "application/json"
              and r.outputs and not r.inputs and not r.includes]
    worst, where = 0, ""
    events: dict[str, float] = {}

    def visit(k: int, loop: ClosedLoop, client: Client, history: list[dict[str, Any]],
              ended: float) -> None:
        nonlocal worst, where
        for res in judged:
            reply, _, came = _poll(obsa, client, res, float(loop.seen[SNAPSHOT_TIME]), ended)
            if not came and not res.required and reply.status == 404:
                continue  # an optional resource the service leaves out
            if came:
                count, wrong = _content_errors(obsa, res, reply.body, loop)
            else:
                count = _content_errors(obsa, res, None, loop)[0]
                wrong = [f"not served (status {reply.status or reply.problem})"]
            if count > worst:
                worst, where = count, f"{res.path}: {', '.join(wrong)}"
                events["worst snapshot"] = float(loop.t_s[-1])

    _, problem = _run(obsa, "hmi http content", visit)
    if problem is not None:
        worst = max(worst, 1)
    paths = ", ".join(r.path for r in judged)
    obsa.judge("OBSA-HMI-006", {"http_mismatched_fields": worst},
               message=problem or (f"{paths} at {SAMPLES} seeded pauses; "
                                   + (f"worst {where}" if worst else "every field equal")),
               events=events)


@req("OBSA-HMI-008")
def test_http_read_only(obsa: Harness) -> None:
    """At every pause, every write method of the binding on every resource, with a body
    naming every output and the vehicle's commands: answered with a status below 400, or a
    field of the snapshot resource changed by the writes (the loop holds still)."""
    http = _binding(obsa)
    snapshot = http.resource(SNAPSHOT)
    outputs = [p.signal for p in obsa.spec.interfaces[HMI].outputs]
    accepted: list[str] = []
    events: dict[str, float] = {}

    def visit(k: int, loop: ClosedLoop, client: Client, history: list[dict[str, Any]],
              ended: float) -> None:
        before, _, _ = _poll(obsa, client, snapshot, float(loop.seen[SNAPSHOT_TIME]), ended)
        body = {**{name: 0 for name in outputs}, **COMMANDS}
        for res in http.resources:
            for method in http.write_methods:
                reply = client.request(method, res.path, body)
                if 0 < reply.status < 400:
                    accepted.append(f"{method} {res.path} → {reply.status}")
                    events.setdefault("write accepted", float(loop.t_s[-1]))
        after = client.get(snapshot.path)
        if before.status == 200 and isinstance(before.body, dict):
            changed = [n for n in snapshot.outputs
                       if n in before.body and (not isinstance(after.body, dict) or _same(
                           obsa, n, after.body.get(n), before.body[n]))]
            if changed:
                accepted.append(f"{snapshot.path} changed by the writes: {', '.join(changed)}")
                events.setdefault("write accepted", float(loop.t_s[-1]))

    _, problem = _run(obsa, "hmi http writes", visit)
    if problem is not None:  # nothing was written: no verdict on the writes
        raise PreconditionFailed(problem, blame="OBSA-HMI-005")
    tried = len(http.resources) * len(http.write_methods) * SAMPLES
    shown = "; ".join(dict.fromkeys(accepted))
    obsa.judge("OBSA-HMI-008", {"writes_accepted": len(accepted)},
               message=(f"{tried} write requests ({', '.join(http.write_methods)} on "
                        f"{len(http.resources)} resources at {SAMPLES} pauses); "
                        + (f"accepted: {shown}" if accepted else "every one refused")),
               events=events)


@req("OBSA-HMI-007")
def test_http_token(obsa: Harness) -> None:
    """At every TOKEN_EVERY-th pause, every resource the service serves with the token (a JSON
    one polled until it serves the step's snapshot), asked without it and with another one:
    replies other than 401."""
    endpoint = obsa.session.hmi_endpoint
    if endpoint is not None and endpoint.token is None:
        obsa.not_applicable("OBSA-HMI-007", "the manifest declares no token (hmi_http.token)")
        return
    http = _binding(obsa)
    wrong: list[str] = []
    asked = 0
    events: dict[str, float] = {}

    def visit(k: int, loop: ClosedLoop, client: Client, history: list[dict[str, Any]],
              ended: float) -> None:
        nonlocal asked
        if k % TOKEN_EVERY:
            return
        assert endpoint is not None and endpoint.token is not None
        other = "x" + endpoint.token[::-1]
        for res in http.resources:
            if res.media_type == "application/json":
                # waited for like every other case: a service may serve a step's data late
                reply, _, _ = _poll(obsa, client, res, float(loop.seen[SNAPSHOT_TIME]), ended)
                status = reply.status
            else:
                status = client.request("GET", res.path).status
            if status != 200:
                continue  # not served (an optional resource left out, or no data yet)
            for token, label in ((False, "no token"), (other, "another token")):
                asked += 1
                status = client.request("GET", res.path, token=token).status
                if status != 401:
                    wrong.append(f"GET {res.path} with {label} → {status}")
                    events.setdefault("served without the token", float(loop.t_s[-1]))

    _, problem = _run(obsa, "hmi http token", visit)
    if problem is not None:
        raise PreconditionFailed(problem, blame="OBSA-HMI-005")
    if asked == 0:
        raise PreconditionFailed("no resource of the binding answered 200 to a request with "
                                 "the declared token: nothing to ask without it",
                                 blame="OBSA-HMI-006")
    obsa.judge("OBSA-HMI-007", {"unauthorised_replies": len(wrong)},
               message=(f"{asked} requests without the token or with another; "
                        + ("; ".join(dict.fromkeys(wrong)) if wrong
                           else "every one answered 401")),
               events=events)


@req("OBSA-HMI-009")
def test_http_annex_vii(obsa: Harness) -> None:
    """At every pause, the resource that carries the Annex VII inputs, polled until it serves
    the step's snapshot: data missing or equal to no value the input had from the step
    before the snapshot to the pause."""
    http = _binding(obsa)
    carriers = [r for r in http.resources if r.inputs and r.media_type == "application/json"]
    worst, where = 0, ""
    events: dict[str, float] = {}

    def visit(k: int, loop: ClosedLoop, client: Client, history: list[dict[str, Any]],
              ended: float) -> None:
        nonlocal worst, where
        for res in carriers:
            reply, _, came = _poll(obsa, client, res, float(loop.seen[SNAPSHOT_TIME]), ended)
            body = reply.body if came and isinstance(reply.body, dict) else {}
            times = np.asarray([r["t"] for r in history])
            start = int(np.searchsorted(times, float(loop.seen[SNAPSHOT_TIME]) - 1e-6))
            window = history[max(0, start - 1):]
            bad = [n for n in res.inputs
                   if n not in body or all(_same(obsa, n, body[n], r[n]) for r in window)]
            if len(bad) > worst:
                worst = len(bad)
                state = "" if came else f" (not served: status {reply.status or reply.problem})"
                where = f"{res.path}{state}: {', '.join(bad)}"
                events["worst snapshot"] = float(loop.t_s[-1])

    _, problem = _run(obsa, "hmi http annex vii", visit)
    if problem is not None:
        worst = max(worst, sum(len(r.inputs) for r in carriers))
    names = sum(len(r.inputs) for r in carriers)
    obsa.judge("OBSA-HMI-009", {"annex_vii_mismatches": worst},
               message=problem or (f"{names} Annex VII data on "
                                   f"{', '.join(r.path for r in carriers)} at {SAMPLES} pauses; "
                                   + (f"worst {where}" if worst else "every datum served")),
               events=events)
