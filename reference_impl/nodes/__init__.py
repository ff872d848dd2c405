"""Nodes: the components of one controller wired together, as the spec's topology places them.

- :mod:`.node` — the reference blocks of any profile stepped in the profile's order; the
  full BMS is ``Node("full_bms", dimensions)``;
- :mod:`.bmu` — the BMU safety core: safety supervisor → contactor manager → diagnostics;
- :mod:`.can_cmu` and :mod:`.can_bmu` — a CMU (slave) and a BMU (master) on any python-can
  bus, speaking the CAN catalog of the spec (``spec/can/``; the DBC and the timing and E2E
  rules generated into ``reference_impl/can/``), with :mod:`.can_codec` (cantools, CRC-8
  SAE J1850, AUTOSAR E2E profile 1) and :mod:`.can_timing` (simulated or wall-clock time).

A node is itself a block (configure / reset / step); it connects its components by the
signal names of the data dictionary, the same names that every adapter and the bench use.
"""
