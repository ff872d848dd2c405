@full_bms @balancing
Feature: Balancing — passive balancing of the cells above the lowest, at rest (area BAL)
  At rest, the balancing bleeds every valid cell that reads more than the declared
  balancing_threshold_V above the lowest valid cell, until it is within the threshold less
  the declared balancing_hysteresis_V; the pack is at rest once the current has stayed below
  the declared balancing_rest_current_A for balancing_rest_time_s; nothing is balanced while
  a cell reads below balancing_min_cell_voltage_V, a temperature is above
  balancing_max_temperature_degC or invalid, or the safety state is fault or lockout.

  It runs alone on the bench, stepped at its step period (1 s), with ideal sensors shaped by
  measurement faults: the cells read at least 50 mV above the declared minimum voltage and
  the sensors 5 K below the declared maximum temperature. The first, the last and 2 seeded
  other cells (or sensors) are stimulated; a blocking condition is held for 5 steps and
  judged after one step.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-BAL-001
  Scenario: Balancing starts above the declared threshold
    When at rest the first, the last and 2 seeded other cells read from below the declared balancing_threshold_V above the lowest cell up to 100 mV beyond it, at 2 mV per step, while the other cells read half-way to the threshold
    Then each swept cell is commanded within one step of its difference exceeding the threshold, at the threshold within 5 mV, and no cell is commanded that is not due, judged against OBSA-BAL-001

  @OBSA-BAL-002
  Scenario: Balancing stops with hysteresis
    When at rest the first, the last and 2 seeded other cells are balanced 100 mV beyond the declared balancing_threshold_V, then read down at 2 mV per step to 30 mV below the threshold less the declared balancing_hysteresis_V
    Then each swept cell stops at the threshold less the hysteresis within 5 mV, judged against OBSA-BAL-002

  @OBSA-BAL-003
  Scenario: Balancing waits for the declared rest
    When a cell reads 100 mV beyond the threshold while the measured current is a discharge above the declared balancing_rest_current_A, then exactly it, then below it for half the declared balancing_rest_time_s, at it for one step, below it again, and last a charge above it
    Then no cell is commanded while the current is at or above the rest current, nor before the declared rest time below it, judged against OBSA-BAL-003

  @OBSA-BAL-004
  Scenario: No balancing while a cell is below the declared minimum voltage
    When at rest with a seeded cell balanced, the first, the last and 2 seeded other cells each read 10 mV below the declared balancing_min_cell_voltage_V
    Then no cell is commanded while a cell reads below it, judged against OBSA-BAL-004

  @OBSA-BAL-005
  Scenario: No balancing while a temperature is above the declared maximum or invalid
    When at rest with a seeded cell balanced, the first, the last and 2 seeded other temperature sensors each read 1 K above the declared balancing_max_temperature_degC, then are flagged invalid
    Then no cell is commanded while a sensor reads above the maximum or is invalid, judged against OBSA-BAL-005

  @OBSA-BAL-006
  Scenario: No balancing while the safety state is fault or lockout
    When at rest with a seeded cell balanced, the safety state is fault, then normal, then lockout
    Then no cell is commanded while the safety state is fault or lockout, judged against OBSA-BAL-006

  @OBSA-BAL-007
  Scenario: Balancing ignores invalid cells
    When at rest the first, the last and 2 seeded other cells each read high but invalid, then with an open sense wire (0 V, invalid)
    Then no invalid cell is commanded and no valid cell is commanded because an invalid one read lowest, judged against OBSA-BAL-007
