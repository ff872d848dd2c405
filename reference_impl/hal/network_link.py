"""The gateway's network link (spec: interfaces/network_link.yaml): whether the path to the
server carries data now.

A real link would report its modem's or socket's state; on the bench the plant's
``true_uplink_available`` is that state, so the reference passes it through unchanged, in
the same step. The MQTT gateway (:mod:`reference_impl.connectivity.mqtt_gateway`) derives
the same signal from its client's connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import Block


class NetworkLink(Block):
    """uplink_connected is true_uplink_available."""

    COMPONENT = "network_link"

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"uplink_connected": bool(inputs["true_uplink_available"])}
