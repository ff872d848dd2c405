"""The bench's side of a gateway's network link: whether the path from the gateway to its
server carries data (the plant signal ``true_uplink_available`` at the network_link's input
pins), with the outages a test case schedules.

The link is up except inside an outage, a half-open window ``[start_s, end_s)`` of
simulated time: a step at ``start_s`` sees it down, a step at ``end_s`` up again. Outages
may overlap; ``end_s`` None lasts to the end of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class UplinkError(ValueError):
    """An outage that cannot be: its window is not a time interval."""


@dataclass(frozen=True)
class Outage:
    """The link down from ``start_s`` (included) to ``end_s`` (excluded; None: for good)."""

    start_s: float
    end_s: float | None = None

    def active(self, t: float) -> bool:
        return self.start_s <= t and (self.end_s is None or t < self.end_s)


class Uplink:
    """Availability of the gateway's uplink over simulated time; see the module docstring."""

    def __init__(self) -> None:
        self._outages: list[Outage] = []

    def outage(self, start_s: float, end_s: float | None = None) -> Outage:
        """Take the link down from ``start_s`` to ``end_s`` (None: for good)."""
        if not (isinstance(start_s, (int, float)) and math.isfinite(start_s)):
            raise UplinkError(f"Uplink.outage: start_s: expected a finite time in s, found "
                              f"{start_s!r}")
        if end_s is not None and not (isinstance(end_s, (int, float)) and math.isfinite(end_s)
                                      and end_s > start_s):
            raise UplinkError(f"Uplink.outage: end_s: expected None or a finite time after "
                              f"start_s ({start_s} s), found {end_s!r}")
        o = Outage(float(start_s), None if end_s is None else float(end_s))
        self._outages.append(o)
        return o

    @property
    def outages(self) -> tuple[Outage, ...]:
        return tuple(self._outages)

    def available(self, t: float) -> bool:
        """Whether the path carries data at ``t``."""
        return not any(o.active(t) for o in self._outages)
