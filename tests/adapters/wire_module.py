"""A module written against the wire contract alone, as a C vendor would write it: no OBSA
import, one JSON-RPC request per line in, one reply per line out.

    python wire_module.py MODE

MODE ``ok`` implements obsa.hello and safety_supervisor.configure / reset / step (every
output at its minimum); the other modes break the contract in one way each.
"""

from __future__ import annotations

import json
import sys
import time

OUTPUTS = {
    "safety_state": 0, "safety_warning_flags": 0, "safety_request_flags": 0,
    "safety_fault_flags": 0, "charge_current_limit_A": 0.0, "discharge_current_limit_A": 0.0,
    "contactor_open_request": False,
}


def reply(id_, result):
    return {"jsonrpc": "2.0", "id": id_, "result": result}


def main(mode: str) -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        method, id_ = msg["method"], msg["id"]
        if method == "obsa.hello":
            out = reply(id_, {"protocol": "1.0" if mode != "old_protocol" else "0.9",
                              "module": {"vendor": "Test", "name": "fake", "version": "0"},
                              "spec_version": msg["params"]["spec_version"],
                              "components": ["safety_supervisor"] if mode != "no_component"
                              else []})
            if mode == "no_module":
                del out["result"]["module"]
        elif mode == "wrong_id" and method.endswith(".step"):
            out = reply(id_ + 1, OUTPUTS)
        elif mode == "garbage" and method.endswith(".step"):
            sys.stdout.write("hello, world\n")
            sys.stdout.flush()
            continue
        elif mode == "no_newline" and method.endswith(".step"):
            sys.stdout.write("x" * 100000)
            sys.stdout.flush()
            continue
        elif mode == "stall" and method.endswith(".step"):
            time.sleep(3600)
        elif mode == "exit" and method.endswith(".step"):
            sys.stderr.write("fatal: out of licences\n")
            sys.exit(7)
        elif method.endswith(".step"):
            out = reply(id_, OUTPUTS)
        else:
            out = reply(id_, None)
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
