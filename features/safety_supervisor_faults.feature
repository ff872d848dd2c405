@bmu_safety_core @safety_supervisor
Feature: Safety supervisor — latched faults, resets and the lockout (area SAFE)
  A fault of the safety supervisor latches: it opens the HV path, zeroes the current limits
  and stays until a fault_reset_request arrives once its condition has healed — by the
  declared hysteresis for a limit, without hysteresis for the other conditions. A reset
  never clears a fault whose condition persists, and never the deep-discharge lockout.

  Scenarios that check each limit kind latch the fault of six of them in turn, each on a
  fresh bench with ideal sensors: cell over- and under-voltage, charge and discharge
  over-current, and discharge over- and under-temperature (the charge-temperature faults
  apply only while charging). A measured quantity is driven five sweep margins beyond its
  declared MSL on one cell or temperature sensor drawn from the run's seed — 0.1 V for a
  cell voltage, 2 K for a temperature — and a current 50 A beyond its MSL with the HV path
  closed. A kind whose fault cannot be latched at all is left out and named in the report
  (its own MSL requirement fails). "Sampled" cells are drawn from the run's seed (fewer on a
  pack too small for them), each on a fresh bench.

  Background:
    Given the module on the bench, configured as its manifest declares

  # ------------------------------------------------------------------------ latching
  @OBSA-SAFE-013
  Scenario: Each limit kind's fault stays latched after its condition clears
    When each of the six limit kinds' faults is latched in turn, then its condition is removed (the sensor reads its true value again, or the current returns to zero) and 15 s pass without a reset request
    Then no fault clears without a reset request, judged against OBSA-SAFE-013

  @OBSA-SAFE-013
  Scenario: A latched over-voltage fault holds for 15 s
    When at rest the first cell reads 0.1 V above the declared cell_voltage_max_msl_V until the cell_overvoltage fault latches, then reads its true value again for 15 s without a reset request
    Then the cell_overvoltage fault stays latched, judged against OBSA-SAFE-013

  @OBSA-SAFE-016
  Scenario: Each limit kind's fault opens the HV path and zeroes both current limits
    When each of the six limit kinds' faults is latched in turn with the HV path closed and current flowing (the cell and temperature kinds while charging at 10 A), and the bench runs 1 s more
    Then contactor_open_request rises in the step the fault latches and both current limits stay at zero while it is latched, judged against OBSA-SAFE-016

  # ------------------------------------------------------------------------ no reset while the condition persists
  @OBSA-SAFE-014
  Scenario: No reset while a measured quantity is beyond its MSL or not yet back by the hysteresis
    When each of the four measured limit kinds' faults (cell over- and under-voltage, discharge over- and under-temperature) is latched in turn, a reset is requested while the quantity is still beyond the declared MSL, and another once it is back inside the MSL by only half the declared hysteresis
    Then neither reset clears the fault, judged against OBSA-SAFE-014

  @OBSA-SAFE-014
  Scenario: No reset of an over-current fault on a current reading that is not a number
    When the discharge current, the HV path closed, is set 20 A above the declared discharge_current_max_msl_A until the discharge_overcurrent fault latches, the current returns to zero, 0.3 s later the current sensor starts reading NaN (not a number), and 0.2 s after that a reset is requested
    Then the discharge_overcurrent fault stays latched, judged against OBSA-SAFE-014

  @OBSA-SAFE-014
  Scenario: A charge over-temperature fault does not heal because charging stopped
    When the pack is charged at 10 A with the HV path closed, the second temperature sensor (the first of a single-sensor pack) reads 1 K above the declared charge_temperature_max_msl_degC until the charge_overtemperature fault latches (the bench keeps charging), then the current returns to zero and, 0.5 s on, with the temperature still 1 K above the MSL, a reset is requested
    Then the charge_overtemperature fault stays latched, judged against OBSA-SAFE-014

  # ------------------------------------------------------------------------ a reset clears a healed fault
  @OBSA-SAFE-015
  Scenario: A reset clears each limit kind's fault once its condition has healed
    When each of the six limit kinds' faults is latched in turn, its condition is removed (the sensor reads its true value again, or the current returns to zero), and two cell-monitor cycles and 0.2 s later a 50 ms reset request is sent
    Then the fault flag clears and the safety state leaves fault within 0.1 s of the request, judged against OBSA-SAFE-015

  @OBSA-SAFE-015
  Scenario: A reset request held raised clears the fault as soon as the condition heals
    When at rest the first cell reads 0.1 V above the declared cell_voltage_max_msl_V until the cell_overvoltage fault latches, a reset request is raised and held, 0.3 s later the cell reads its true value again, and the request is released two cell-monitor cycles and 0.5 s after that
    Then the fault flag clears and the safety state leaves fault within 0.1 s of the first sample at or below cell_voltage_max_msl_V minus cell_voltage_max_hysteresis_V, judged against OBSA-SAFE-015

  @OBSA-SAFE-014 @OBSA-SAFE-015
  Scenario: One reset with two faults latched clears only the healed one
    When at rest the last cell reads 0.1 V below the declared cell_voltage_min_msl_V and the first cell 0.1 V above the declared cell_voltage_max_msl_V until both the cell_undervoltage and the cell_overvoltage faults latch, then the first cell reads its true value again, and two cell-monitor cycles and 0.2 s later one reset is requested
    Then the healed cell_overvoltage fault clears within 0.1 s of the request, judged against OBSA-SAFE-015
    And the cell_undervoltage fault, whose cell is still below its MSL, stays latched, judged against OBSA-SAFE-014

  # ------------------------------------------------------------------------ the deep-discharge lockout
  @OBSA-SAFE-017
  Scenario: A deep discharge locks out and a reset does not clear it
    When the cell voltage, at rest, is swept down across the declared deep_discharge_voltage_V from 20 mV above it at 10 mV per second, on the first, the last and two sampled cells, one by one; each cell then reads its true value again and, two cell-monitor cycles and 0.2 s later, a reset is requested
    Then the deep_discharge lockout latches within the declared deep_discharge_delay_s and the reset does not clear it, judged against OBSA-SAFE-017

  @OBSA-SAFE-017
  Scenario: A second reset does not clear the lockout either
    When the last cell's voltage, at rest, is swept down across the declared deep_discharge_voltage_V from 20 mV above it at 10 mV per second until the deep_discharge lockout latches, the cell then reads its true value again and, two cell-monitor cycles and 0.2 s later, two reset requests are sent 1 s apart
    Then the deep_discharge lockout latches within the declared deep_discharge_delay_s and neither reset clears it, judged against OBSA-SAFE-017
