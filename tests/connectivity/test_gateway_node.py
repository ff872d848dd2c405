"""The reference telemetry gateway composes like the other profiles: Node("telemetry_gateway")
steps the network link, the telemetry and the HMI API in the profile's order, at their own
periods, from what the vehicle bus gives the gateway and the uplink's availability."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference_impl.interfaces import COMPONENT_INPUTS, COMPONENT_PERIOD_S, PROFILE_COMPONENTS
from reference_impl.nodes.node import Node

from .test_mqtt_gateway import inputs as bus_inputs

ORDER = PROFILE_COMPONENTS["telemetry_gateway"]
LIFETIME = {name: 0.0 for name in COMPONENT_INPUTS["hmi_api"]
            if name not in bus_inputs(0) and name != "dtc_status"}


def _inputs(k: int, uplink: bool) -> dict[str, Any]:
    return {**bus_inputs(k), **LIFETIME, "dtc_status": np.zeros(2, dtype=np.int64),
            "true_uplink_available": uplink}


def test_the_gateway_node_is_the_profiles_blocks_in_order() -> None:
    node = Node("telemetry_gateway", {"cell": 2, "temperature_sensor": 2})
    assert list(node.components) == list(ORDER) == ["network_link", "telemetry", "hmi_api"]
    assert node.carried == []  # nothing is read before it is produced


def test_the_gateway_node_buffers_while_the_uplink_is_down_and_drains_after() -> None:
    node = Node("telemetry_gateway", {"cell": 2, "temperature_sensor": 2})
    node.configure({"telemetry": {"publish_period_s": 1.0, "buffer_capacity_records": 50},
                    "hmi_api": {"hmi_refresh_period_s": 0.1}})
    node.reset()
    dt = min(COMPONENT_PERIOD_S[c] for c in ORDER)
    published, backlog = 0, []
    for k in range(int(round(30.0 / dt))):
        t = k * dt
        signals = node.step(t, _inputs(k, uplink=not 5.0 <= t < 15.0))
        published += bool(signals["telemetry_record_published"])
        backlog.append(int(signals["telemetry_backlog_records"]))
        if k > 0:
            assert signals["hmi_snapshot_time_s"] > t - 0.1 - 1e-9  # HMI served live
    assert max(backlog) >= 9  # ten seconds down at one record a second
    assert backlog[-1] == 0  # drained once the link is back
    assert published >= 29  # every record of 30 s reaches the server, late or not
    assert signals["hmi_cell_voltage_V"].shape == (2,)
