"""Whether an array can change behind its identity.

The bench hands out read-only snapshots (sensor samples, the start values of the signal
pool) and keeps them until something new is measured; whoever sees the same frozen object
again may reuse what it computed from it (an encoding, a validation, a comparison)."""

from __future__ import annotations

from typing import Any

import numpy as np


def frozen(value: Any) -> bool:
    """True for a read-only numpy array whose data nobody can write: it owns its data, or
    what it views is read-only too."""
    if type(value) is not np.ndarray or value.flags.writeable:
        return False
    base = value.base
    return base is None or not getattr(base, "flags", value.flags).writeable
