"""The thermal manager (spec: interfaces/thermal_manager.yaml, requirements OBSA-THERM-*).

Two hysteresis switches on the extremes of the cell temperatures, after Libre Solar
bms-firmware's 5 K temperature hysteresis, and a live spread check after foxBMS 2's
plausibility spread (10 K). Each step:

1. reduce the measurement record to the highest and lowest cell temperature over the sensors
   the cell monitor vouches for (valid and a number; an open or shorted sensor reads the end
   of its range and must not start the heater or the fan);
2. cooling: raised once the highest temperature has reached cooling_on_temperature_degC
   (``>=``, OBSA-THERM-001), withdrawn once it has fallen to cooling_off_temperature_degC
   (``<=``, OBSA-THERM-002); heating the mirror image on the lowest temperature
   (OBSA-THERM-003/004);
3. never both at once (OBSA-THERM-005): the two switches keep their own state, and while both
   are on only cooling is requested — an over-temperature threatens the cell, a cold cell
   only its chargeability; heating is requested again as soon as cooling ends, if still due;
4. the temperature_spread warning while highest − lowest > temperature_spread_limit_K
   (OBSA-THERM-006), not latched.

The component keeps no timer: a request follows the temperatures in the step in which they
are seen, whatever the step interval. With no valid temperature at all, both requests are
withdrawn (no actuator runs blind; the safety supervisor reports the invalid sensors) and the
spread is unknown, so no warning. safety_state does not change the requests: cooling a pack
in an over-temperature fault and heating one in an under-temperature fault is what the fault
calls for, and the requirements name no exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import Block, ConfigurationError
from ..interfaces import ThermalManagerFault
from .limits import Extremes

COMPONENT = "thermal_manager"
_SPREAD = int(ThermalManagerFault.TEMPERATURE_SPREAD)

#: The thresholds in the order OBSA-THERM-007 requires (strictly increasing).
_ORDER = ("heating_on_temperature_degC", "heating_off_temperature_degC",
          "cooling_off_temperature_degC", "cooling_on_temperature_degC")


class ThermalManager(Block):
    """Cooling and heating requests with hysteresis and the temperature-spread warning."""

    COMPONENT = COMPONENT

    def _setup(self, p: dict[str, Any]) -> None:
        """Check the thresholds are ordered (OBSA-THERM-007) and keep them."""
        levels = [p[name] for name in _ORDER]
        if not all(a < b for a, b in zip(levels, levels[1:], strict=False)):
            raise ConfigurationError(
                f"{COMPONENT}: parameters {' < '.join(_ORDER)}: expected strictly increasing, "
                f"found {' / '.join(str(v) for v in levels)}")
        self._heating_on, self._heating_off, self._cooling_off, self._cooling_on = levels
        self._spread_limit_K = p["temperature_spread_limit_K"]

    def reset(self) -> None:
        """Power-on state: no request, no warning."""
        self._cooling_due = False
        self._heating_due = False
        self._temperatures = Extremes()

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        hottest, coldest, _, _ = self._temperatures(inputs["cell_temperature_degC"],
                                                    inputs["cell_temperature_valid"])
        # no valid sensor: hottest = -inf and coldest = +inf, so both switches release
        if self._cooling_due:
            self._cooling_due = not hottest <= self._cooling_off
        else:
            self._cooling_due = hottest >= self._cooling_on
        if self._heating_due:
            self._heating_due = not coldest >= self._heating_off
        else:
            self._heating_due = coldest <= self._heating_on
        spread = hottest - coldest if hottest >= coldest else 0.0
        return {
            "cooling_request": self._cooling_due,
            "heating_request": self._heating_due and not self._cooling_due,
            "thermal_fault_flags": _SPREAD if spread > self._spread_limit_K else 0,
        }
