"""Build the three FMUs of the example with pythonfmu.

    python -m examples.fmu_safety_core.build DEST [--cells N] [--temperature-sensors N]

writes ``safety_supervisor.fmu``, ``contactor_manager.fmu`` and ``diagnostics.fmu`` into
DEST. Each bundles this folder's ``reference_block.py`` and a copy of ``reference_impl``;
the pack size (96 cells, 24 temperature sensors by default, the pack of ``manifest.yaml``)
is fixed when the FMU is built, as for any generated FMU.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parents[1] / "reference_impl"
SCRIPTS = {
    "safety_supervisor": "safety_supervisor_fmu.py",
    "contactor_manager": "contactor_manager_fmu.py",
    "diagnostics": "diagnostics_fmu.py",
}


def build(dest: Path, cells: int = 96, temperature_sensors: int = 24) -> dict[str, Path]:
    """Build every FMU into ``dest``; component → .fmu file."""
    from pythonfmu.builder import FmuBuilder

    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="obsa-fmu-build-") as tmp:
        staged = Path(tmp) / "reference_impl"  # the package without caches or manifests
        shutil.copytree(REFERENCE, staged,
                        ignore=shutil.ignore_patterns("__pycache__", "*.yaml"))
        for component, script in SCRIPTS.items():
            newargs = ({"cell_count": cells, "temperature_sensor_count": temperature_sensors}
                       if component == "safety_supervisor" else None)
            out[component] = Path(FmuBuilder.build_FMU(
                HERE / script, dest=dest / f"{component}.fmu",
                project_files=[HERE / "reference_block.py", staged], newargs=newargs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--cells", type=int, default=96)
    parser.add_argument("--temperature-sensors", type=int, default=24)
    args = parser.parse_args()
    for component, path in build(args.dest, args.cells, args.temperature_sensors).items():
        print(f"{component}: {path}")


if __name__ == "__main__":
    main()
