"""Test vectors: recorded truth for the state-estimation profile.

A vector is what a simulated pack did — current, every cell's terminal voltage and
temperature, and its true state of charge, capacity and resistance — computed by an
electrochemical model the module under test does not know (PyBaMM), so that an estimator can
be judged against a truth it did not produce. :mod:`.format` defines the files and reads
them; the generator (:mod:`.generate`, PyBaMM needed only there) writes them.
"""

from .format import (
    ARRAYS,
    FORMAT,
    SocReference,
    Vector,
    VectorError,
    VectorInfo,
    load_vector,
    load_vectors,
    write_vector,
)

__all__ = ["ARRAYS", "FORMAT", "SocReference", "Vector", "VectorError", "VectorInfo",
           "load_vector", "load_vectors", "write_vector"]
