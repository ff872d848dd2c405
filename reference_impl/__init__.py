"""OBSA reference implementation: a readable BMS, layered like the spec's architecture.

Every component is a synchronous block with ``configure(parameters)``, ``reset()`` and
``step(t, inputs) -> outputs``, keyed by the signal names of the data dictionary. The layers,
bottom up, are the sub-packages:

- :mod:`reference_impl.hal` — hardware abstraction: simulated drivers that turn the plant's
  physical truth into measurement records;
- :mod:`reference_impl.services` — platform services: debounce and the fault memory;
- :mod:`reference_impl.functions` — BMS functions: safety supervision, contactor control;
- :mod:`reference_impl.connectivity` — telemetry, logging, HMI (not yet specified);
- :mod:`reference_impl.nodes` — how components are wired together on one controller.

Every fact of the standard (enum values, fault bits, parameter defaults, DTC order) comes
from the generated module :mod:`reference_impl.interfaces`. The reference implementation
never imports the conformance toolkit: a vendor reads it as the baseline, not as a part of
the test harness.
"""
