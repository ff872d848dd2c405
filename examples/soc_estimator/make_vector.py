"""Write an obsa-vector/1 test vector from a cycler's log of one cell, for
``obsa certify --vectors DIR``.

The log is a CSV with the columns ``t_s`` (evenly sampled, from 0), ``current_A`` (positive
when the cell is charged), ``voltage_V`` and ``temperature_degC``. The truth SoC is counted
from the logged current, on the SoC reference of the cell's characterization, from the SoC
the cell was brought to before the log started (``--initial-soc``: e.g. discharged to the
empty voltage at the reference current, then charged by a known charge); ``--capacity-Ah``
and ``--resistance-ohm`` are the cell's measured reference capacity and ohmic resistance.
The characterization (obsa-ecm/1) is copied beside the vector, as the format asks. A log
coarser than the step the vector is replayed at is resampled (``--dt-s``) by linear
interpolation.

    python make_vector.py LOG.csv --id ID --profile drive-city --initial-soc 0.86 \\
        --capacity-Ah 5.2 --resistance-ohm 0.033 --characterization CELL.ecm.json \\
        --dt-s 0.1 --out DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from conformance.vectors import VectorError, write_vector


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("log", type=Path, help="the cycler's CSV log")
    p.add_argument("--id", required=True, help="the vector's id (its file name)")
    p.add_argument("--profile", default="drive", help="what it stands for (default drive: "
                   "a drive cycle, judged by the drive-cycle test cases)")
    p.add_argument("--description", default="", help="one line: the cell, the test")
    p.add_argument("--initial-soc", type=float, required=True)
    p.add_argument("--capacity-Ah", type=float, required=True)
    p.add_argument("--resistance-ohm", type=float, required=True)
    p.add_argument("--characterization", type=Path, required=True)
    p.add_argument("--dt-s", type=float, default=None,
                   help="resample the log to this step by linear interpolation (a drive "
                   "cycle is replayed to the soc_estimator at its 0.1 s step, so it is "
                   "sampled at 0.1 s); default: the log's own step")
    p.add_argument("--out", type=Path, required=True, help="the vector directory")
    args = p.parse_args(argv)

    log = np.genfromtxt(args.log, delimiter=",", names=True)
    t = log["t_s"]
    if args.dt_s is not None:
        fine = np.arange(0.0, t[-1] + args.dt_s / 2, args.dt_s)
        log = {name: np.interp(fine, t, log[name]) for name in log.dtype.names}
        t = fine
    current = log["current_A"]
    counted_Ah = np.concatenate(([0.0], np.cumsum(np.diff(t) * (current[1:] + current[:-1])
                                                  / 2.0))) / 3600.0
    soc = args.initial_soc + counted_Ah / args.capacity_Ah
    cell = json.loads(args.characterization.read_text(encoding="utf-8"))
    info = {
        "id": args.id, "description": args.description or f"{args.log.name}, measured",
        "chemistry": cell["chemistry"], "parameter_set": "measured",
        "characterization": args.characterization.name, "profile": args.profile,
        "temperature_degC": float(np.mean(log["temperature_degC"])), "n_cells": 1,
        "dt_s": float(t[1] - t[0]), "duration_s": float(t[-1]), "seed": 0,
        "generator": "make_vector.py", "pybamm_version": "none (measured)",
        "soc_reference": cell["soc_reference"],
    }
    arrays = {"t_s": t, "current_A": current, "cell_voltage_V": log["voltage_V"][:, None],
              "cell_temperature_degC": log["temperature_degC"][:, None],
              "cell_soc": soc[:, None], "cell_capacity_Ah": np.array([args.capacity_Ah]),
              "cell_resistance_ohm": np.array([args.resistance_ohm])}
    try:
        path = write_vector(args.out, info, arrays)
    except VectorError as exc:
        print(f"make_vector.py: {exc}", file=sys.stderr)
        return 2
    shutil.copy(args.characterization, args.out / args.characterization.name)
    print(f"wrote {path} ({len(t)} samples, {t[-1]:g} s, SoC {soc.min():.3f} to "
          f"{soc.max():.3f}) and {args.out / args.characterization.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
