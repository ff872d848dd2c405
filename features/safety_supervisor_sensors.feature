@bmu_safety_core @safety_supervisor
Feature: Safety supervisor — measurements it cannot trust (area SAFE)
  Besides the limits, the safety supervisor latches a fault when a measurement cannot be
  trusted: a pack voltage that disagrees with the sum of the cells, a cell voltage or a
  temperature sensor reported invalid, a sensor that stops delivering, and an insulation
  resistance below the declared threshold. An invalid reading is never taken for a limit
  violation, and these conditions heal without hysteresis. Each scenario starts at rest on
  a fresh bench with ideal sensors; "sampled" channels are drawn from the run's seed (fewer
  on a pack too small for them), each on a fresh bench.

  Background:
    Given the module on the bench, configured as its manifest declares

  # ------------------------------------------------------------------------ plausibility
  @OBSA-SAFE-020
  Scenario: A pack voltage off the sum of the cells by more than the declared tolerance is a fault
    When at rest the pack voltage reading starts 0.2 V (or half the declared pack_voltage_tolerance_V, if less) inside the tolerance off the sum of the cell voltages and drifts across it at 0.2 V per second, once upwards and once downwards
    Then the pack_voltage_implausible fault latches within the declared plausibility_fault_delay_s of the difference exceeding the tolerance, judged against OBSA-SAFE-020

  @OBSA-SAFE-020
  Scenario: A drifting ADC of the whole BMS makes the pack voltage implausible
    When at rest with the module's own cell_monitor and current_sensor in the loop, one drift of its front ends at a time, each on a fresh bench and from the calibrated reading, moves the difference between the pack voltage and the sum of the cells by the declared pack_voltage_tolerance_V every 10 s until the fault latches, for at most 20 s and the declared plausibility_fault_delay_s and 0.5 s: the cell monitor's gain of every cell, downwards and upwards, and the pack-voltage measurement's offset, upwards and downwards (a gain that would take a cell beyond the declared RSLs before the fault is due is left out, saying so; a module without those components of its own is not applicable)
    Then the pack_voltage_implausible fault latches within the declared plausibility_fault_delay_s of the difference between the module's own readings exceeding the tolerance, judged against OBSA-SAFE-020

  # ------------------------------------------------------------------------ invalid channels
  @<requirement>
  Scenario Outline: An open wire on <one>: the invalid-measurement fault latches
    When at rest an open wire makes one channel report invalid, on the first, the last and two sampled <channels>, one by one
    Then the <fault> fault latches within the declared <delay> of the first invalid sample, judged against <requirement>

    Examples:
      | one                  | channels            | fault                    | delay                            | requirement   |
      | a cell voltage       | cells               | cell_voltage_invalid     | cell_voltage_invalid_delay_s     | OBSA-SAFE-021 |
      | a temperature sensor | temperature sensors | cell_temperature_invalid | cell_temperature_invalid_delay_s | OBSA-SAFE-022 |

  @OBSA-SAFE-030
  Scenario: An invalid reading is not a limit violation
    When at rest the last cell's sense wire and the first temperature sensor's wire open at once (the cell reads 0 V and the sensor −50 °C, both reported invalid) for 2 s
    Then no cell_undervoltage, deep_discharge, charge_undertemperature or discharge_undertemperature fault latches, judged against OBSA-SAFE-030

  # ------------------------------------------------------------------------ lost sensors
  @<requirement>
  Scenario Outline: The <sensor> stops delivering: the timeout fault latches
    When at rest the <sensor> stops delivering measurements, until the fault latches or for the declared <timeout> and 1 s
    Then the <fault> fault latches within 0.02 s of <age> exceeding the declared <timeout>, judged against <requirement>

    Examples:
      | sensor         | timeout                  | fault                  | age                  | requirement   |
      | cell monitor   | cell_monitor_timeout_s   | cell_monitor_timeout   | cell_monitor_age_s   | OBSA-SAFE-023 |
      | current sensor | current_sensor_timeout_s | current_sensor_timeout | current_sensor_age_s | OBSA-SAFE-024 |

  # ------------------------------------------------------------------------ insulation
  @OBSA-SAFE-025
  Scenario: An insulation resistance below the declared error threshold is a fault
    When at rest the insulation resistance drops to half the declared insulation_error_ohm
    Then the insulation_fault latches within the declared insulation_fault_delay_s of the first sample below the threshold, judged against OBSA-SAFE-025

  @OBSA-SAFE-026
  Scenario: An insulation resistance below the declared warning threshold sets the warning
    When at rest the insulation resistance drops to halfway between the declared insulation_warning_ohm and insulation_error_ohm
    Then the insulation_warning flag sets within 0.1 s of the first sample below the warning threshold, judged against OBSA-SAFE-026

  # ------------------------------------------------------------------------ conditions without hysteresis heal at once
  @OBSA-SAFE-015
  Scenario: A pack voltage back within the tolerance is healed: a reset clears the plausibility fault
    When at rest the pack voltage reading is 2 V more than the declared pack_voltage_tolerance_V off the sum of the cells until the pack_voltage_implausible fault latches, then 90 % of the tolerance off it, and 0.3 s later a reset is requested
    Then the fault flag clears within 0.1 s of the request, judged against OBSA-SAFE-015

  @OBSA-SAFE-015
  Scenario: An insulation resistance back above the threshold is healed: a reset clears the insulation fault
    When at rest the insulation resistance is half the declared insulation_error_ohm until the insulation_fault latches, then 2 % above it, and 0.3 s later a reset is requested
    Then the fault flag clears within 0.1 s of the request, judged against OBSA-SAFE-015

  @OBSA-SAFE-015
  Scenario: A cell monitor delivering again is healed: a reset clears the timeout fault
    When at rest the cell monitor stops delivering for the declared cell_monitor_timeout_s and 0.5 s, the cell_monitor_timeout fault latches, and two cell-monitor cycles after it delivers again a reset is requested
    Then the fault flag clears within 0.1 s of the request, judged against OBSA-SAFE-015
