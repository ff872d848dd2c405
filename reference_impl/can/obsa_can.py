"""The CAN catalog's facts that its DBC files do not hold, for the reference CAN nodes.

Generated from spec/can/*.yaml and spec/architecture.yaml by
``python -m conformance.spec.exporters`` (exporter ``can_reference``): do not edit. The frame
layouts (ids, data lengths, signals, scale, offset, multiplexers, the ``alive_counter`` and
``crc`` fields) are in the DBC files beside this module, the same files as the published
docs' (:data:`DBC_FILES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class E2eRule:
    """End-to-end protection of a frame: alive counter and CRC-8 (their fields are the DBC's
    ``alive_counter`` and ``crc`` signals)."""

    #: autosar_e2e_p1 (the data id enters the CRC) or obsa_counter_crc8 (no data id).
    profile: str
    #: 16-bit data id mixed into the CRC, low byte first; None: no data id.
    data_id: int | None
    #: crc8_sae_j1850 (polynomial 0x1D, start value and final XOR 0xFF) or
    #: crc8_sae_j1850_zero (polynomial 0x1D, start value 0x00, no final XOR).
    crc_algorithm: str
    #: Largest counter step from the previous frame a receiver accepts.
    max_delta_counter: int
    #: Values the alive counter takes before it wraps to 0 (AUTOSAR E2E profile 1: 15,
    #: i.e. 0 … 14; otherwise 2^bits of the DBC's alive_counter field).
    counter_values: int


@dataclass(frozen=True)
class FrameRule:
    """Timing, protection and multiplexing of one frame of the catalog."""

    bus: str
    senders: tuple[str, ...]
    receivers: tuple[str, ...]
    #: Period of a periodic frame (every multiplexer value once per period); None: event.
    period_s: float | None
    #: Tolerance of the period a receiver may expect.
    tolerance_s: float | None
    #: Smallest interval of an event-driven frame.
    min_interval_s: float | None
    #: Age of the last valid frame that is a reception timeout; None: no timeout.
    timeout_s: float | None
    #: Bound from the timeout to the completed reaction.
    reaction_time_s: float | None
    #: The receiver reports the timeout as rx_timeout (False: the reaction alone, e.g. a
    #: charger that is not plugged in; also False for a frame without a timeout).
    rx_timeout_fault: bool
    #: Array elements a multiplexed array signal carries per multiplexer value.
    elements_per_value: int | None
    #: Array elements of one module when the multiplexer values are numbered per module
    #: (value = module · ⌈elements_per_module / elements_per_value⌉ + k); None: not.
    elements_per_module: int | None
    e2e: E2eRule | None


#: The DBC file of every bus, beside this module.
DBC_FILES: Final[dict[str, str]] = {
    "internal_can": "obsa_internal_can.dbc",
    "vehicle_can": "obsa_vehicle_can.dbc",
}

#: Every frame of the catalog, by bus and frame name.
FRAMES: Final[dict[str, dict[str, FrameRule]]] = {
    "internal_can": {
        # Measurement synchronisation: every CMU starts a conversion of its cell voltages and
        # temperatures on reception, so that the cells of all modules are measured at one instant
        # (the BMU compares them with one current sample). Its counter and CRC are its whole
        # payload.
        # On timeout: The CMU goes on measuring on its own 100 ms clock: its measurements stay fresh
        # (cell_monitor_age_s in its cmu_status frame stays within the cycle) but are no longer
        # taken at the instant of the other modules'; no status bit reports it yet.
        "bmu_measurement_sync": FrameRule(
            bus="internal_can",
            senders=("bmu",),
            receivers=("cmu",),
            period_s=0.1,
            tolerance_s=0.001,
            min_interval_s=None,
            timeout_s=0.3,
            reaction_time_s=0.1,
            rx_timeout_fault=True,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0100,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # Balancing command of one module per frame (the multiplexer is the module index): one bit
        # per cell, true closes that cell's balancing switch.
        # On timeout: The CMU opens every balancing switch of its module: no cell is discharged
        # without a current command of the master.
        "bmu_balancing_cmd": FrameRule(
            bus="internal_can",
            senders=("bmu",),
            receivers=("cmu",),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=1.0,
            reaction_time_s=0.1,
            rx_timeout_fault=True,
            elements_per_value=16,
            elements_per_module=16,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0110,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # Cell voltages, three per frame, multiplexed by cell group, with their validity.
        # On timeout: The BMU reports the group's cells invalid (cell_voltage_valid false), which
        # the safety supervisor's invalid-measurement fault then judges.
        "cmu_cell_voltages": FrameRule(
            bus="internal_can",
            senders=("cmu",),
            receivers=("bmu",),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=0.3,
            reaction_time_s=0.01,
            rx_timeout_fault=True,
            elements_per_value=3,
            elements_per_module=16,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0200,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # Cell temperatures, three per frame, multiplexed by sensor group, with their validity (0.1
        # °C steps from −50 °C, the dictionary's resolution and range).
        # On timeout: The BMU reports the group's sensors invalid (cell_temperature_valid false),
        # which the safety supervisor's invalid-measurement fault then judges.
        "cmu_cell_temperatures": FrameRule(
            bus="internal_can",
            senders=("cmu",),
            receivers=("bmu",),
            period_s=0.2,
            tolerance_s=0.01,
            min_interval_s=None,
            timeout_s=0.6,
            reaction_time_s=0.01,
            rx_timeout_fault=True,
            elements_per_value=3,
            elements_per_module=8,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0210,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # Status and diagnostics of one CMU per frame: whether it balances and how old its
        # measurements are (a CMU whose conversions stall is seen here before its cells time out).
        # On timeout: The BMU treats the module's measurements as lost: every cell voltage and
        # temperature of the module invalid.
        "cmu_status": FrameRule(
            bus="internal_can",
            senders=("cmu",),
            receivers=("bmu",),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=0.3,
            reaction_time_s=0.01,
            rx_timeout_fault=True,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0220,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
    },
    "vehicle_can": {
        # The state request with heartbeat: the vehicle asks for the HV path closed or open and for
        # a fault reset; its alive counter is the heartbeat.
        # On timeout: Heartbeat lost: the BMU takes close_request as false and opens the HV path
        # (the contactor manager's opening, OBSA-CONT-006), and reports rx_timeout in
        # can_fault_flags.
        "vcu_state_request": FrameRule(
            bus="vehicle_can",
            senders=("vcu",),
            receivers=("bmu", "gateway"),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=1.0,
            reaction_time_s=0.2,
            rx_timeout_fault=True,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0210,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # BMS state, contactor state, charge phase, balancing and thermal requests.
        # On timeout: The vehicle control unit stops drawing and feeding current (the BMS state is
        # unknown); outside the BMS, stated for the vehicle's integrator.
        "bms_state": FrameRule(
            bus="vehicle_can",
            senders=("bmu",),
            receivers=("vcu", "charger", "gateway"),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=0.5,
            reaction_time_s=0.1,
            rx_timeout_fault=True,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0220,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # Faults and warnings as the components' fault-code bits (the bit of each fault code in its
        # interface).
        "bms_faults": FrameRule(
            bus="vehicle_can",
            senders=("bmu",),
            receivers=("vcu", "charger", "gateway"),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=None,
            reaction_time_s=None,
            rx_timeout_fault=False,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0222,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # Pack voltage, current (positive when the battery is charged, as in the dictionary) and
        # DC-link voltage in 0.1 V and 0.1 A steps.
        "bms_pack_measurements": FrameRule(
            bus="vehicle_can",
            senders=("bmu",),
            receivers=("vcu", "charger", "gateway"),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=None,
            reaction_time_s=None,
            rx_timeout_fault=False,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0230,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # The current limits of the safety supervisor, charge and discharge.
        # On timeout: The vehicle control unit and the charger take both current limits as zero;
        # outside the BMS, stated for the integrator.
        "bms_current_limits": FrameRule(
            bus="vehicle_can",
            senders=("bmu",),
            receivers=("vcu", "charger", "gateway"),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=0.5,
            reaction_time_s=0.1,
            rx_timeout_fault=True,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0232,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # The state-of-power estimator's power limits for its horizon, in 10 W steps.
        "bms_power_limits": FrameRule(
            bus="vehicle_can",
            senders=("bmu",),
            receivers=("vcu", "charger", "gateway"),
            period_s=0.1,
            tolerance_s=0.005,
            min_interval_s=None,
            timeout_s=None,
            reaction_time_s=None,
            rx_timeout_fault=False,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0233,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # State of charge, state of health (capacity) and state of certified energy.
        "bms_state_estimation": FrameRule(
            bus="vehicle_can",
            senders=("bmu",),
            receivers=("vcu", "charger", "gateway"),
            period_s=1.0,
            tolerance_s=0.05,
            min_interval_s=None,
            timeout_s=None,
            reaction_time_s=None,
            rx_timeout_fault=False,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="autosar_e2e_p1",
                data_id=0x0235,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=15,
            ),
        ),
        # Charger request: the charge control's voltage and current requests and its phase.
        # On timeout: The charger stops charging (output current zero); outside the BMS, stated for
        # the charger's integrator.
        "bms_charger_request": FrameRule(
            bus="vehicle_can",
            senders=("bmu",),
            receivers=("charger", "gateway"),
            period_s=1.0,
            tolerance_s=0.05,
            min_interval_s=None,
            timeout_s=5.0,
            reaction_time_s=1.0,
            rx_timeout_fault=True,
            elements_per_value=None,
            elements_per_module=None,
            e2e=E2eRule(
                profile="obsa_counter_crc8",
                data_id=None,
                crc_algorithm="crc8_sae_j1850_zero",
                max_delta_counter=1,
                counter_values=16,
            ),
        ),
        # The charger's presence: charger_connected is true while this frame arrives, false once it
        # times out (the can_stack interface's charger_connected).
        # On timeout: The BMU reports charger_connected false, and the charge control's requests
        # fall to zero. Not a fault: the frame stops whenever no charger is plugged in, so the BMU
        # reports no rx_timeout for it.
        "charger_status": FrameRule(
            bus="vehicle_can",
            senders=("charger",),
            receivers=("bmu", "gateway"),
            period_s=1.0,
            tolerance_s=0.05,
            min_interval_s=None,
            timeout_s=3.0,
            reaction_time_s=0.1,
            rx_timeout_fault=False,
            elements_per_value=None,
            elements_per_module=None,
            e2e=None,
        ),
    },
}

#: The components the architecture places on each node of its topology.
NODE_COMPONENTS: Final[dict[str, tuple[str, ...]]] = {
    "bmu": (
        "current_sensor",
        "contactor_driver",
        "isolation_monitor",
        "diagnostics",
        "safety_supervisor",
        "protection",
        "contactor_manager",
        "can_stack",
        "soc_estimator",
        "soh_estimator",
        "sop_estimator",
        "balancing",
        "thermal_manager",
        "charge_control",
        "data_logger",
        "hmi_api",
    ),
    "cmu": (
        "cell_monitor",
    ),
    "gateway": (
        "network_link",
        "telemetry",
    ),
}
