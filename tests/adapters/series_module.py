"""A module that offers ``obsa.step_series``, written against the wire contract alone (no
OBSA import), with the ways a series reply can break the contract.

    python series_module.py MODE

It serves ``safety_supervisor``: every step replies every output at its minimum, its
``charge_current_limit_A`` the step's time. MODE ``ok`` does that; ``short`` leaves the last
step of a series out of the reply; ``garbage`` replies a line that is not JSON to a series;
``exit`` exits in the middle of a series (after the step at t = 5 s).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

OUTPUTS = {
    "safety_state": 0, "safety_warning_flags": 0, "safety_request_flags": 0,
    "safety_fault_flags": 0, "charge_current_limit_A": 0.0, "discharge_current_limit_A": 0.0,
    "contactor_open_request": False,
}


def serve(offers: dict, step: Callable[[dict], dict],
          series: Callable[[dict], object | None]) -> None:
    """Answer the bench's requests on stdin, one line each: ``obsa.hello`` with ``offers``
    added, a step with ``step(params)``, a series with ``series(params)`` (None: it wrote its
    own line)."""
    for line in sys.stdin:
        msg = json.loads(line)
        method, id_, params = msg["method"], msg["id"], msg["params"]
        result: object = None
        if method == "obsa.hello":
            result = {"protocol": "1.0",
                      "module": {"vendor": "Test", "name": "fake", "version": "0"},
                      "spec_version": params["spec_version"],
                      "components": ["safety_supervisor"], **offers}
        elif method == "safety_supervisor.step":
            result = step(params)
        elif method == "obsa.step_series":
            result = series(params)
            if result is None:
                continue
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": id_, "result": result}) + "\n")
        sys.stdout.flush()


def _series(params: dict, mode: str) -> object | None:
    result = []
    for t in params["t"]:
        result.append({**OUTPUTS, "charge_current_limit_A": float(t)})
        if mode == "exit" and t >= 5.0:
            sys.exit(7)
    if mode == "short":
        result.pop()
    if mode == "garbage":
        sys.stdout.write("hello, world\n")
        sys.stdout.flush()
        return None
    return result


def main(mode: str) -> None:
    serve({"series": True}, lambda p: {**OUTPUTS, "charge_current_limit_A": float(p["t"])},
          lambda p: _series(p, mode))


if __name__ == "__main__":
    main(sys.argv[1])
