"""A module that offers ``obsa.step_series`` with packed arrays, written against the wire
contract alone (no OBSA import, no numpy), with the ways a packed reply can break it.

    python packed_module.py MODE

It serves ``safety_supervisor``: every step replies every output at its minimum, its
``charge_current_limit_A`` the step's time and its ``discharge_current_limit_A`` the step's
``pack_current_A`` input. MODE ``ok`` replies packed arrays; ``list`` replies the list of
records (a module may); ``nan`` a NaN at the step at t = 3.5 s; ``enum`` a safety_state of
99 at t = 1.5 s; ``dtype`` charge_current_limit_A as i8; ``shape`` one step short; ``bytes``
data one item short; ``bool`` a contactor_open_request byte of 2 at t = 2 s; ``missing`` no
safety_fault_flags.
"""

from __future__ import annotations

import math
import struct
import sys

# run as a script: its directory is on the path (the JSON-RPC loop and the outputs of the
# module without packed arrays)
from series_module import OUTPUTS, serve

CODES = {"f8": "d", "f4": "f", "i8": "q", "b1": "?"}


def unpack(value: dict) -> list:
    count = 1
    for d in value["shape"]:
        count *= d
    return list(struct.unpack(f"<{count}{CODES[value['dtype']]}",
                              bytes.fromhex(value["data"])))


def pack(code: str, values: list, shape: list | None = None) -> dict:
    if code == "b1":
        raw = bytes(int(v) for v in values)
    else:
        raw = struct.pack(f"<{len(values)}{CODES[code]}", *values)
    return {"dtype": code, "shape": shape or [len(values)],
            "data": raw.hex()}


def series(params: dict, mode: str) -> object:
    packed = params.get("encoding") == "packed"
    times = unpack(params["t"]) if packed else params["t"]
    current = params["inputs"]["pack_current_A"]
    current = unpack(current) if packed else current
    records = [{**OUTPUTS, "charge_current_limit_A": float(t),
                "discharge_current_limit_A": float(i)} for t, i in zip(times, current, strict=True)]
    if mode == "list" or not packed:
        return records
    columns = {name: [r[name] for r in records] for name in OUTPUTS}
    if mode == "nan":
        columns["charge_current_limit_A"][times.index(3.5)] = math.nan
    if mode == "enum":
        columns["safety_state"][times.index(1.5)] = 99
    if mode == "bool":
        columns["contactor_open_request"][times.index(2.0)] = 2
    out = {name: pack("f8" if type(OUTPUTS[name]) is float else
                      "b1" if type(OUTPUTS[name]) is bool else "i8", values)
           for name, values in columns.items()}
    if mode == "dtype":
        out["charge_current_limit_A"] = pack("i8", [int(t) for t in times])
    if mode == "shape":
        out["safety_state"]["shape"] = [len(times) - 1]
    if mode == "bytes":
        out["discharge_current_limit_A"] = pack("f8", columns["discharge_current_limit_A"][1:],
                                                [len(times)])
    if mode == "missing":
        del out["safety_fault_flags"]
    return out


def main(mode: str) -> None:
    serve({"series": True, "packed": True},
          lambda p: {**OUTPUTS, "charge_current_limit_A": float(p["t"]),
                     "discharge_current_limit_A": float(p["inputs"]["pack_current_A"])},
          lambda p: series(p, mode))


if __name__ == "__main__":
    main(sys.argv[1])
