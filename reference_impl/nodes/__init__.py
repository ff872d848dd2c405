"""Nodes: the components of one controller wired together, as the spec's topology places them.

- :mod:`.bmu` — the BMU safety core: safety supervisor → contactor manager → diagnostics.

A node is itself a block (configure / reset / step); it connects its components by the
signal names of the data dictionary, the same names that every adapter and the bench use.
"""
