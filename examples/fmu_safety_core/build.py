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
import sys
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
    dest.mkdir(parents=True, exist_ok=True)
    pack = {"cell_count": cells, "temperature_sensor_count": temperature_sensors}
    return {component: build_one(HERE / script, dest / f"{component}.fmu",
                                 pack if component == "safety_supervisor" else None)
            for component, script in SCRIPTS.items()}


def build_one(script: Path, fmu: Path, newargs: dict[str, object] | None = None,
              extra: tuple[Path, ...] = ()) -> Path:
    """Build the FMU of one slave script (which may import ``reference_block``, the
    ``reference_impl`` package and the ``extra`` files, all bundled) into the file ``fmu``;
    ``newargs`` replaces default arguments of the model class's ``__init__``."""
    from pythonfmu.builder import FmuBuilder

    fmu.parent.mkdir(parents=True, exist_ok=True)
    if str(HERE) not in sys.path:  # a script may build on this folder's model classes
        sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory(prefix="obsa-fmu-build-") as tmp:
        staged = Path(tmp) / "reference_impl"  # the package without caches or manifests
        shutil.copytree(REFERENCE, staged,
                        ignore=shutil.ignore_patterns("__pycache__", "*.yaml"))
        files = [HERE / "reference_block.py", staged, *extra]
        return Path(FmuBuilder.build_FMU(script, dest=fmu, project_files=files,
                                         newargs=newargs))


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
