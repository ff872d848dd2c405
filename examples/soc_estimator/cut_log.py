"""Cut ``drive_log.csv``, the cycler's log of the walkthrough, from a shipped test vector:
one cell of ``nmc-other-wltc-10c`` (PyBaMM's OKane2022 cell at 10 °C over WLTC class 3b), one
sample per second, as a cycler logs it.

    python examples/soc_estimator/cut_log.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conformance.paths import vectors_dir
from conformance.vectors import load_vector

SOURCE = "nmc-other-wltc-10c"
EVERY = 10  # samples of 0.1 s: one per second


def main() -> None:
    v = load_vector(vectors_dir() / f"{SOURCE}.json")
    rows = np.arange(0, v.n_samples, EVERY)
    table = np.column_stack([v["t_s"][rows], v["current_A"][rows],
                             v["cell_voltage_V"][rows, 0], v["cell_temperature_degC"][rows, 0]])
    out = Path(__file__).with_name("drive_log.csv")
    np.savetxt(out, table, delimiter=",", fmt=["%.1f", "%.5f", "%.5f", "%.2f"],
               header="t_s,current_A,voltage_V,temperature_degC", comments="")
    print(f"wrote {out}: {len(rows)} rows; the cell: capacity "
          f"{float(v['cell_capacity_Ah'][0]):.4g} Ah, R0 {float(v['cell_resistance_ohm'][0]):.4g}"
          f" ohm, SoC at 0 s {float(v['cell_soc'][0, 0]):.4f}")


if __name__ == "__main__":
    main()
