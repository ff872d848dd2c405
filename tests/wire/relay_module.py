"""A module that breaks the wire contract in one way, on purpose: ``python relay_module.py
MODE`` serves the reference safety core (``obsa serve reference_impl/manifest.yaml`` in a
child process) and relays every
line, except that it misbehaves as MODE says — at obsa.hello, or at the first step of the
safety supervisor, so that a test case without the supervisor in the loop still passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conformance.manifest import safety_core_manifest_path

HELLO_MODES = {"silent", "other_spec"}


def supervisor_step(request: dict) -> bool:
    params = request.get("params") or {}
    return (request["method"] == "safety_supervisor.step"
            or (request["method"] == "obsa.step"
                and "safety_supervisor" in params.get("components", [])))


def misbehave(mode: str, request: dict, reply: dict) -> str | None:
    """The line to write instead of ``reply`` (None: write nothing)."""
    result = reply.get("result")
    outputs = result.get("safety_supervisor") if request["method"] == "obsa.step" else result
    if mode == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "stall":
        time.sleep(3600)
    if mode == "garbage":
        return "hello, world"
    if mode == "wrong_id":
        reply["id"] += 1
    elif mode == "missing_field":
        del outputs["safety_state"]
    elif mode == "extra_field":
        outputs["bonus_V"] = 1.0
    elif mode == "nan":
        outputs["charge_current_limit_A"] = float("nan")
    elif mode == "inf":
        outputs["charge_current_limit_A"] = float("inf")
    elif mode == "huge_line":
        sys.stdout.write("x" * (17 * 1024 * 1024))
        sys.stdout.flush()
        time.sleep(3600)
    return json.dumps(reply)  # NaN and Infinity: written as Python's json does, not JSON


def main(mode: str) -> None:
    reference = subprocess.Popen([sys.executable, "-m", "conformance", "serve",
                                  str(safety_core_manifest_path())],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert reference.stdin is not None and reference.stdout is not None
    for line in sys.stdin:
        request = json.loads(line)
        if request["method"] == "obsa.hello" and mode == "silent":
            time.sleep(3600)
        reference.stdin.write(line)
        reference.stdin.flush()
        reply = json.loads(reference.stdout.readline())
        out: str | None = json.dumps(reply)
        if request["method"] == "obsa.hello" and mode == "other_spec":
            reply["result"]["spec_version"] = "0.2.0"
            out = json.dumps(reply)
        elif mode not in HELLO_MODES and supervisor_step(request) and "result" in reply:
            out = misbehave(mode, request, reply)
        if out is not None:
            sys.stdout.write(out + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
