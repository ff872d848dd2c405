"""Nodes: the components of one controller wired together, as the spec's topology places them.

- :mod:`.node` — the reference blocks of any profile stepped in the profile's order; the
  full BMS is ``Node("full_bms", dimensions)``;
- :mod:`.bmu` — the BMU safety core: safety supervisor → contactor manager → diagnostics.

A node is itself a block (configure / reset / step); it connects its components by the
signal names of the data dictionary, the same names that every adapter and the bench use.
"""
