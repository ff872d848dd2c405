"""Functions: the BMS functions, built on the platform services.

- :mod:`.limits` — one quantity supervised on three levels (MOL, RSL, MSL) with hysteresis;
- :mod:`.safety` — the safety supervisor: limits, plausibility, timeouts, current limits;
- :mod:`.contactors` — the contactor and precharge manager;
- :mod:`.protection` — single-level protection of a pack switched by MOSFETs;
- :mod:`.cell_model`, :mod:`.soc`, :mod:`.soh`, :mod:`.sop` — the state estimators and the
  equivalent-circuit cell model they share;
- :mod:`.balancing` — passive cell balancing at rest;
- :mod:`.thermal` — the thermal manager: cooling and heating requests, temperature derating;
- :mod:`.charging` — charge control: the charger's current and voltage requests.
"""
