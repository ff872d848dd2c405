"""Platform services: what every function relies on.

- :mod:`.debounce` — a condition must persist for a declared time before it counts;
- :mod:`.diagnostics` — the fault memory: one status, counter and time stamps per DTC.
"""
