"""Faulty CAN nodes: the reference CMU and BMU with one realistic defect each, and a correct
CMU made differently from the reference (``CAN_VARIANTS``). Each faulty node must fail the
requirements it breaks and no other (tests/faulty/test_can_catalogue.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import can
import numpy as np
from numpy.typing import NDArray

from reference_impl.interfaces import CanStackFault
from reference_impl.nodes.can_bmu import CanBmu
from reference_impl.nodes.can_cmu import CanCmu
from reference_impl.nodes.can_codec import (
    BusCodec,
    Received,
    RxStatus,
    crc8_sae_j1850,
    e2e_crc,
)
from reference_impl.nodes.can_timing import Periodic


# ------------------------------------------------------------------------------- CMUs
class WrongScaleCmu(CanCmu):
    """Cell voltages packed with a 1.1 mV step (a DBC edited by hand, the receiver's 1 mV
    kept): every voltage reads 9 % low."""

    def _send(self, name: str, values: Mapping[str, Any], t: float, mux: int) -> None:
        if name == "cmu_cell_voltages":
            values = {k: v / 1.1 if k.startswith("cell_voltage_V_") else v
                      for k, v in values.items()}
        super()._send(name, values, t, mux)


class ByteOrderCmu(CanCmu):
    """Cell voltages written with their two bytes swapped (a big-endian writer for a
    little-endian field): 3.600 V (raw 0x0E10) reads 4.110 V."""

    def _send(self, name: str, values: Mapping[str, Any], t: float, mux: int) -> None:
        if name != "cmu_cell_voltages":
            super()._send(name, values, t, mux)
            return
        msg = self.codec.encode(name, values, t, mux)
        f = self.codec.frames[name]
        x = int.from_bytes(msg.data, "little")
        for e in range(3):
            sig = f.message.get_signal_by_name(f"cell_voltage_V_{e}")
            mask = (1 << sig.length) - 1
            raw = (x >> sig.start) & mask
            swapped = (((raw & 0xFF) << 8) | (raw >> 8)) & mask
            x = (x & ~(mask << sig.start)) | (swapped << sig.start)
        data = bytearray(x.to_bytes(len(msg.data), "little"))
        assert f.rule.e2e is not None and f.crc_byte is not None
        data[f.crc_byte] = e2e_crc(f.rule.e2e, data, f.crc_byte)
        self._put(can.Message(arbitration_id=msg.arbitration_id, data=bytes(data),
                              is_extended_id=False, timestamp=t))


class FifteenCellsCmu(CanCmu):
    """Sends 5 voltage groups of 3 cells (15 cells): the module's 16th cell, alone in the
    sixth group, is never sent (an off-by-one in the group count)."""

    def _send(self, name: str, values: Mapping[str, Any], t: float, mux: int) -> None:
        per = self.layout.voltage_groups_per_module
        if name == "cmu_cell_voltages" and mux % per == per - 1:
            return
        super()._send(name, values, t, mux)


class StuckCounterCmu(CanCmu):
    """The status frame's alive counter never advances (the counter lives in a task that
    hung), its CRC still right."""

    def _send(self, name: str, values: Mapping[str, Any], t: float, mux: int) -> None:
        if name == "cmu_status":
            self.codec._tx_counter[(name, mux)] = 0
        super()._send(name, values, t, mux)


class NoDataIdCmu(CanCmu):
    """The temperature frames' CRC leaves out the data id (profile 1's implicit id
    forgotten): a correct receiver drops every one."""

    def _send(self, name: str, values: Mapping[str, Any], t: float, mux: int) -> None:
        msg = self.codec.encode(name, values, t, mux)
        if name == "cmu_cell_temperatures":
            data = bytearray(msg.data)
            data[0] = crc8_sae_j1850(bytes(data[1:]), 0x00, 0x00)
            msg = can.Message(arbitration_id=msg.arbitration_id, data=bytes(data),
                              is_extended_id=msg.is_extended_id, timestamp=t)
        self._put(msg)


class SlowTemperaturesCmu(CanCmu):
    """The temperature frames every 220 ms instead of 200 (a timer counted in the wrong
    tick)."""

    def reset(self) -> None:
        super().reset()
        self._schedules["cmu_cell_temperatures"] = Periodic(0.22)


class IgnoresCommandTimeoutCmu(CanCmu):
    """Keeps the balancing switches as last commanded when the master falls silent."""

    def _supervise_command(self, t: float) -> None:
        return


class StatusOnlyTimeoutCmu(CanCmu):
    """On the balancing command's timeout it clears the switches in its memory, and so in
    cmu_status, but never writes the driver: the pins keep the last command (the driver is
    written only when a command arrives)."""

    def _supervise_command(self, t: float) -> None:
        assert self._t0 is not None
        since = self._cmd_at if self._cmd_at is not None else self._t0
        if t - since > self._cmd_timeout_s + 1e-9 and self.switches.any():
            self.balancing_timeouts += 1
            self.switches = np.zeros(self.n_cells, dtype=bool)


class MirroredCellsCmu(CanCmu):
    """Reads the command's 16 bits most significant first: cell i's switch takes bit 15 − i,
    so it balances the mirror image of the cells named."""

    def _set_switches(self, closed: NDArray[np.bool_]) -> None:
        width = self.layout.cells_per_module
        bits = np.zeros(width, dtype=bool)
        bits[:len(closed)] = closed
        super()._set_switches(bits[::-1][:self.n_cells].copy())


class SilentAfterBusOffCmu(CanCmu):
    """After a send the controller refuses (bus-off), it stops sending and waits for a
    re-initialisation that only a power-on brings."""

    def reset(self) -> None:
        super().reset()
        self._gave_up = False

    def _put(self, msg: can.Message) -> None:
        if self._gave_up:
            return
        before = self.send_errors
        super()._put(msg)
        self._gave_up = self.send_errors > before


class _CrcOnlyCodec(BusCodec):
    """A receiver that checks the CRC but not the alive counter."""

    def _counter_status(self, f: Any, mux: int | None, counter: int, max_delta: int
                        ) -> RxStatus:
        return RxStatus.ACCEPTED


class AcceptsRepeatedCounterCmu(CanCmu):
    """Takes a balancing command whose alive counter repeats the previous one."""

    def reset(self) -> None:
        if not isinstance(getattr(self, "codec", None), _CrcOnlyCodec):
            self.codec = _CrcOnlyCodec("internal_can", "cmu")
        super().reset()


class _IndexingCodec(BusCodec):
    """A receiver that reads the module index of a balancing command from its last byte
    before checking the frame's length."""

    def decode(self, msg: can.Message) -> Any:
        if msg.arbitration_id == 0x110 and not msg.is_extended_id:
            _ = msg.data[4]  # IndexError on a short frame
        return super().decode(msg)


class CrashesOnShortFrameCmu(CanCmu):
    """Indexes a short balancing command: the node goes down on the first one."""

    def reset(self) -> None:
        if not isinstance(getattr(self, "codec", None), _IndexingCodec):
            self.codec = _IndexingCodec("internal_can", "cmu")
        super().reset()


class TwoModulesCmu(CanCmu):
    """Configured for two modules: sends its cell and temperature groups also under the
    next module's multiplexer values (the same readings twice), doubling its load."""

    def _send(self, name: str, values: Mapping[str, Any], t: float, mux: int) -> None:
        super()._send(name, values, t, mux)
        per = {"cmu_cell_voltages": self.layout.voltage_groups_per_module,
               "cmu_cell_temperatures": self.layout.temperature_groups_per_module}
        if name in per:
            super()._send(name, values, t, mux + per[name])


class SpreadCmu(CanCmu):
    """Correct, but made differently: its frames start 40 ms after power-on and its cell
    voltage groups are spread over the cycle, one per 10 ms step, instead of a burst."""

    def reset(self) -> None:
        super().reset()
        self._offset_s = 0.04
        self._spread: list[tuple[float, str, dict[str, Any], int]] = []

    def _send_due(self, t: float) -> None:
        if self._t0 is not None and t < self._t0 + self._offset_s - 1e-9:
            return
        queued: list[tuple[str, Mapping[str, Any], int]] = []
        original = self._send

        def collect(name: str, values: Mapping[str, Any], t_: float, mux: int) -> None:
            queued.append((name, values, mux))

        self._send = collect  # type: ignore[method-assign]
        try:
            super()._send_due(t)
        finally:
            self._send = original  # type: ignore[method-assign]
        k = 0
        for name, values, mux in queued:
            if name == "cmu_cell_voltages":
                self._spread.append((t + 0.01 * k, name, dict(values), mux))
                k += 1
            else:
                original(name, values, t, mux)
        due = [s for s in self._spread if s[0] <= t + 1e-9]
        self._spread = [s for s in self._spread if s[0] > t + 1e-9]
        for _, name, values, mux in due:
            original(name, values, t, mux)


# ------------------------------------------------------------------------------- BMUs
class IgnoresHeartbeatBmu(CanBmu):
    """Goes on with the vehicle's last request when the state request stops (no heartbeat
    supervision): the HV path stays closed."""

    def _supervise_timeouts(self, t: float) -> int:
        self._request_at = t if self._request_at is not None else None
        return super()._supervise_timeouts(t)


class CurrentSignBmu(CanBmu):
    """Sends the pack current positive when discharged (the sign convention of many
    chargers, not the dictionary's)."""

    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        flipped = dict(signals)
        if "pack_current_A" in flipped:
            flipped["pack_current_A"] = -float(flipped["pack_current_A"])
        super()._send_due(t, flipped)


class IgnoresOpenRequestBmu(CanBmu):
    """Once the vehicle has asked to close, it keeps the request until the heartbeat is lost:
    a request to open is never taken (the close request latched in the receive handler)."""

    def _vehicle(self, rx: Received, t: float) -> None:
        held = self._request["close_request"]
        super()._vehicle(rx, t)
        if rx.name == "vcu_state_request" and held:
            self._request["close_request"] = True


class ResetOnCloseBmu(CanBmu):
    """Takes a rising close request as a fault reset as well (both bits of the state request
    handled by one routine): once the condition has cleared, a latched fault goes at the
    vehicle's next request to close."""

    def _vehicle(self, rx: Received, t: float) -> None:
        was = self._request["close_request"]
        super()._vehicle(rx, t)
        if rx.name == "vcu_state_request" and self._request["close_request"] and not was:
            self._request["fault_reset_request"] = True


class StateOnlyBusOffBmu(CanBmu):
    """Shows a bus-off as a state while it lasts, not as an event owed to the vehicle: the
    vehicle bus's bus-off, which no frame can carry while it lasts, is never reported."""

    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        self._flags_unsent &= ~int(CanStackFault.VEHICLE_BUS_OFF)
        super()._send_due(t, signals)


class SwappedLimitsBmu(CanBmu):
    """Packs the discharge current limit into the charge limit's field and the charge limit
    into the discharge's (two signals of one frame swapped in its mapping table)."""

    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        swapped = dict(signals)
        if "charge_current_limit_A" in swapped and "discharge_current_limit_A" in swapped:
            swapped["charge_current_limit_A"] = signals["discharge_current_limit_A"]
            swapped["discharge_current_limit_A"] = signals["charge_current_limit_A"]
        super()._send_due(t, swapped)


class HastyHeartbeatBmu(CanBmu):
    """Takes the state request as lost after 0.5 s instead of the catalog's 1 s (a timeout
    set to five periods): it opens the HV path before the vehicle may expect it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timeout_s = {**self._timeout_s, "vcu_state_request": 0.5}


class SilentCrcBmu(CanBmu):
    """Discards a frame with a bad CRC but reports crc_error only in the step it happened,
    which the 100 ms fault frame almost never carries."""

    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        self._flags_unsent &= ~int(CanStackFault.CRC_ERROR)
        super()._send_due(t, signals)


class SocOffsetBmu(CanBmu):
    """Sends pack_soc 0.1 too high, clamped to 1 (its SoC table indexed one 10 % step too far
    in the frame's mapping): in range, and wrong by twice the largest error allowed."""

    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        shifted = dict(signals)
        if "pack_soc" in shifted:
            shifted["pack_soc"] = min(1.0, float(shifted["pack_soc"]) + 0.1)
        super()._send_due(t, shifted)


class PermilleSocBmu(CanBmu):
    """Correct, but made differently: it keeps the state estimates in per mille (a 16-bit
    fixed-point store) and sends them converted back, so pack_soc, soh_capacity and soce
    move in steps of 0.001 instead of the frame's 0.0001."""

    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        rounded = dict(signals)
        for name in ("pack_soc", "soh_capacity", "soce"):
            if name in rounded:
                rounded[name] = round(float(rounded[name]) * 1000) / 1000
        super()._send_due(t, rounded)


class LateStartBmu(CanBmu):
    """Correct, but made differently: it sends nothing in its first 50 ms (its CAN
    controller comes up after its blocks), so every frame runs 50 ms behind the
    reference's grid."""

    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        if self._t0 is not None and t < self._t0 + 0.05 - 1e-9:
            return
        super()._send_due(t, signals)


class _TripHighBmu(CanBmu):
    """A BMU whose safety supervisor compares the upper limit ``QUANTITY`` against its MSL
    plus ``BY`` (a wrong calibration constant); the level a reset needs is still derived from
    the declared MSL (as tests/faulty/modules.py OvThresholdHigh, on the node)."""

    QUANTITY = ""
    BY = 0.0

    def reset(self) -> None:
        super().reset()
        supervisor = self.functions.components["safety_supervisor"]
        for limit in getattr(supervisor, "_limits", ()):
            if limit.name == self.QUANTITY:
                limit.msl += self.BY


class HighOverVoltageBmu(_TripHighBmu):
    """Trips the cell over-voltage 50 mV above the declared MSL: the vehicle sees the fault
    on the bus, late and high."""

    QUANTITY, BY = "cell_voltage_max", 0.05


class HotDischargeBmu(_TripHighBmu):
    """Lets the cells discharge 10 K past the declared over-temperature MSL before it trips
    (a limit written for another chemistry): the swept temperature never trips it."""

    QUANTITY, BY = "discharge_temperature_max", 10.0


class _ContactorBmu(CanBmu):
    """A BMU whose contactor manager adds ``EXTRA_S`` to its timer ``TIMER`` (a wrong
    calibration): what it does late shows on its contactor pins, which the bench reads at
    the step they change, not a frame later."""

    TIMER = ""
    EXTRA_S = 0.0

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        super().configure(parameters)
        manager = self.functions.components["contactor_manager"]
        setattr(manager, self.TIMER, getattr(manager, self.TIMER) + self.EXTRA_S)


class LongPrechargeBmu(_ContactorBmu):
    """Keeps each failed precharge attempt going 80 ms past the declared
    precharge_timeout_s (its timer waits for a contactor's release as well): less than a
    frame's period of the bus, which a time read on the pin must not be allowed."""

    TIMER, EXTRA_S = "_timeout_s", 0.08


class LateNegativeOpeningBmu(_ContactorBmu):
    """Opens main negative 60 ms after the declared opening_delay_s (a relay's release time
    counted twice): the order holds, the delay does not."""

    TIMER, EXTRA_S = "_opening_delay_s", 0.06


class BriskContactorsBmu(CanBmu):
    """Correct, but made differently: its contactor manager gives a precharge attempt up
    after 60 % of the declared precharge_timeout_s and waits no opening delay, so main
    negative opens the step after main positive (the reference: the declared 20 ms, two
    steps). Its times on the contactor pins are well inside the limits that the bench judges
    without a frame's lag; nothing may be refused for them."""

    PRECHARGE_SHARE = 0.6

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        super().configure(parameters)
        manager: Any = self.functions.components["contactor_manager"]
        manager._timeout_s *= self.PRECHARGE_SHARE
        manager._opening_delay_s = 0.0


@dataclass(frozen=True)
class CanFaulty:
    cls: type
    node: str
    breaks: frozenset[str]

    @property
    def name(self) -> str:
        return self.cls.__name__


def _f(cls: type, node: str, *breaks: str) -> CanFaulty:
    return CanFaulty(cls, node, frozenset(breaks))


CAN_CATALOGUE = (
    _f(FifteenCellsCmu, "cmu", "OBSA-CAN-001"),
    _f(WrongScaleCmu, "cmu", "OBSA-CAN-003"),
    _f(ByteOrderCmu, "cmu", "OBSA-CAN-003"),
    _f(StuckCounterCmu, "cmu", "OBSA-CAN-004"),
    _f(NoDataIdCmu, "cmu", "OBSA-CAN-004"),
    _f(SlowTemperaturesCmu, "cmu", "OBSA-CAN-002"),
    _f(IgnoresCommandTimeoutCmu, "cmu", "OBSA-CAN-006", "OBSA-CAN-010"),
    _f(StatusOnlyTimeoutCmu, "cmu", "OBSA-CAN-010"),
    _f(MirroredCellsCmu, "cmu", "OBSA-CAN-010"),
    _f(SilentAfterBusOffCmu, "cmu", "OBSA-CAN-011"),
    _f(AcceptsRepeatedCounterCmu, "cmu", "OBSA-CAN-005"),
    _f(CrashesOnShortFrameCmu, "cmu", "OBSA-CAN-007"),
    _f(TwoModulesCmu, "cmu", "OBSA-CAN-008"),
    _f(IgnoresHeartbeatBmu, "bmu", "OBSA-CAN-006"),
    _f(HastyHeartbeatBmu, "bmu", "OBSA-CAN-006"),
    _f(CurrentSignBmu, "bmu", "OBSA-CAN-003"),
    _f(SilentCrcBmu, "bmu", "OBSA-CAN-005"),
    _f(IgnoresOpenRequestBmu, "bmu", "OBSA-CAN-009"),
    _f(SwappedLimitsBmu, "bmu", "OBSA-CAN-003"),
    _f(ResetOnCloseBmu, "bmu", "OBSA-CAN-009"),
    _f(StateOnlyBusOffBmu, "bmu", "OBSA-CAN-011"),
    _f(SocOffsetBmu, "bmu", "OBSA-CAN-012"),
)

#: BMU nodes whose safety core is wrong in a way the bus shows: over CAN, the safety-core
#: test cases fail them for what they break and nothing the reference node passes
#: (tests/adapters/test_can_bridge.py)
SAFETY_OVER_CAN = (_f(HighOverVoltageBmu, "bmu", "OBSA-SAFE-001"),
                   _f(HotDischargeBmu, "bmu", "OBSA-SAFE-007"),
                   _f(LongPrechargeBmu, "bmu", "OBSA-CONT-003"),
                   _f(LateNegativeOpeningBmu, "bmu", "OBSA-CONT-007"))

#: correct nodes made differently from the reference: each must be certified
CAN_VARIANTS = (_f(SpreadCmu, "cmu"), _f(LateStartBmu, "bmu"), _f(PermilleSocBmu, "bmu"))
