"""Small closed-loop helpers for the bench tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.bench import Bench

OPEN = {"main_positive_close_cmd": False, "main_negative_close_cmd": False,
        "precharge_close_cmd": False}
PRECHARGE = {"main_positive_close_cmd": False, "main_negative_close_cmd": True,
             "precharge_close_cmd": True}
CLOSED = {"main_positive_close_cmd": True, "main_negative_close_cmd": True,
          "precharge_close_cmd": False}


def close_path(bench: Bench, tolerance_V: float = 1.0, timeout_s: float = 3.0) -> None:
    """Precharge (on true voltages), then close main positive and open precharge."""
    bench.apply(PRECHARGE)
    end = bench.t + timeout_s
    while bench.t < end:
        bench.advance()
        tr = bench.truth(arrays=False)
        if (tr["true_precharge_closed"]
                and abs(tr["true_link_voltage_V"] - tr["true_pack_voltage_V"]) < tolerance_V):
            break
    else:
        raise AssertionError("precharge did not complete")
    bench.apply({**CLOSED, "precharge_close_cmd": True})
    while not bench.truth(arrays=False)["true_main_positive_closed"]:
        bench.advance()
    bench.apply(CLOSED)
    bench.run(0.05)


def differences(a: dict[str, Any], b: dict[str, Any]) -> set[tuple[str, int | None]]:
    """(signal, index) of every value that differs between two measurement records."""
    out: set[tuple[str, int | None]] = set()
    for name, va in a.items():
        vb = b[name]
        if isinstance(va, np.ndarray):
            out.update((name, int(i)) for i in np.flatnonzero(va != vb))
        elif va != vb:
            out.add((name, None))
    return out
