"""Functions: the BMS functions, built on the platform services.

- :mod:`.limits` — one quantity supervised on three levels (MOL, RSL, MSL) with hysteresis;
- :mod:`.safety` — the safety supervisor: limits, plausibility, timeouts, current limits;
- :mod:`.contactors` — the contactor and precharge manager.
"""
