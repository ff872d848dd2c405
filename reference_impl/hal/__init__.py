"""Hardware abstraction: simulated drivers between the plant and the BMS functions.

Each driver is a block like every other component: it takes the plant's physical truth
(``true_*`` signals) and returns the measurement records of the data dictionary, quantised to
each signal's resolution and clamped to its range. The drivers are ideal otherwise — no noise,
offset or delay: the conformance bench injects those faults between plant and module, so the
reference stays a clean baseline.

- :mod:`.cell_monitor` — cell voltages and temperatures with validity, measured once per cycle;
- :mod:`.current_sensor` — pack current, pack and DC-link voltage;
- :mod:`.contactor_driver` — coils on command, auxiliary contacts read back;
- :mod:`.isolation_monitor` — insulation resistance.
- :mod:`.network_link` — whether the gateway's uplink carries data.
"""
