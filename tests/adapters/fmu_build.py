"""Building FMUs for the tests: the example's (examples/fmu_safety_core) and variants of
them, each in a child process (pythonfmu imports the slave scripts to describe them)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fmu_safety_core"
SLAVES = Path(__file__).resolve().parent / "fmu_slaves"
COMPONENTS = ("safety_supervisor", "contactor_manager", "diagnostics")


def _python(code: str) -> None:
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


def build_example(dest: Path, cells: int = 96, temperature_sensors: int = 24) -> dict[str, Path]:
    """The example's three FMUs in ``dest``; component → file."""
    _python("from pathlib import Path; from examples.fmu_safety_core.build import build; "
            f"build(Path({str(dest)!r}), {cells}, {temperature_sensors})")
    return {c: dest / f"{c}.fmu" for c in COMPONENTS}


def build_crashing_contactor_manager(fmu: Path, how: str, fail_after_s: float) -> Path:
    """The example's contactor manager failing in doStep after ``fail_after_s`` (``how``:
    'raise' → fmi2Error, 'abort' → the process dies)."""
    _python("from pathlib import Path; from examples.fmu_safety_core.build import build_one; "
            f"build_one(Path({str(SLAVES / 'crashing_contactor_manager.py')!r}), "
            f"Path({str(fmu)!r}), {{'how': {how!r}, 'fail_after_s': {fail_after_s!r}}}, "
            f"(Path({str(EXAMPLE / 'contactor_manager_fmu.py')!r}),))")
    return fmu


def with_description(source: Path, target: Path, edit: str, replacement: str) -> Path:
    """A copy of the FMU ``source`` whose modelDescription.xml has the first match of the
    regular expression ``edit`` replaced (the binaries stay: only the description lies)."""
    shutil.copyfile(source, target)
    with zipfile.ZipFile(source) as zin:
        text = zin.read("modelDescription.xml").decode()
        entries = [(i, zin.read(i)) for i in zin.infolist() if i.filename != "modelDescription.xml"]
    changed, n = re.subn(edit, replacement, text, count=1)
    assert n == 1, f"{edit!r} not found in the description"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("modelDescription.xml", changed)
        for info, data in entries:
            zout.writestr(info, data)
    return target
