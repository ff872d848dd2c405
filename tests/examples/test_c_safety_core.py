"""The C safety core (examples/c_safety_core) is certified over the process transport.

It is a third-party-style module: one C program, cJSON from the system, written against the
spec and the wire contract. The test builds it with the system compiler into a temporary
directory, writes a copy of its manifest whose command is the built binary, and runs
``obsa certify`` as a vendor would.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conformance.spec import load_spec

from ..certified import assert_certified

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "c_safety_core"


def build(out_dir: Path) -> Path:
    """Build the example with gcc into ``out_dir``; the path of the program."""
    if shutil.which("gcc") is None or shutil.which("make") is None:
        pytest.fail("building the C example needs gcc and make")
    proc = subprocess.run(["make", "-s", "-C", str(EXAMPLE), f"BUILD={out_dir}", "CC=gcc",
                           "CFLAGS=-O2 -std=c11 -Wall -Wextra -Wpedantic -Werror"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "cjson/cJSON.h" in proc.stderr:
        pytest.fail("the C example needs cJSON: apt-get install libcjson-dev (.ci/run does)")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not proc.stderr.strip(), f"compiler warnings:\n{proc.stderr}"
    return out_dir / "c_safety_core"


def manifest_for(program: Path, out_dir: Path) -> Path:
    """A copy of the example's manifest that starts ``program``."""
    data = yaml.safe_load((EXAMPLE / "manifest.yaml").read_text(encoding="utf-8"))
    data["adapter"]["options"]["command"] = [str(program)]
    path = out_dir / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_the_c_safety_core_is_certified(tmp_path: Path) -> None:
    program = build(tmp_path)
    assert_certified(manifest_for(program, tmp_path), tmp_path / "out", "--no-html")


def test_by_hand_as_the_readme_shows(tmp_path: Path) -> None:
    """The README's printf session: hello, then an unknown method, then garbage."""
    program = build(tmp_path)
    requests = "\n".join([
        '{"jsonrpc":"2.0","id":1,"method":"obsa.hello","params":{"protocol":"1.0",'
        '"spec_version":"0.3.0","components":{}}}',
        '{"jsonrpc":"2.0","id":2,"method":"safety_supervisor.explode","params":{}}',
        "not json",
    ]) + "\n"
    proc = subprocess.run([str(program)], input=requests, capture_output=True, text=True,
                          timeout=10)
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and len(replies) == 3
    assert replies[0]["result"]["components"] == ["safety_supervisor", "contactor_manager",
                                                  "diagnostics"]
    assert replies[0]["result"]["batch"] is True
    assert [r.get("error", {}).get("code") for r in replies[1:]] == [-32601, -32700]


def test_the_dtc_table_of_the_c_example_is_the_spec_s() -> None:
    """The C fault memory copies the spec's DTC list by hand: it must not drift from it."""
    spec = load_spec()
    expected = sorted((code.dtc, component, code.bit)
                      for component, iface in spec.interfaces.items()
                      for code in iface.fault_codes)
    source = (EXAMPLE / "src" / "diagnostics.c").read_text(encoding="utf-8")
    signal_of = dict(re.findall(r'\[(\w+)\] = "(\w+_fault_flags)"', source))
    rows = [(int(dtc, 16), spec.signals[signal_of[src]].flags_of, int(bit))
            for dtc, src, bit in re.findall(r"\{(0x[0-9A-Fa-f]+), (\w+), (\d+)\}", source)]
    assert rows == expected
