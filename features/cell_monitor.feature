@cell_monitoring_unit @cell_monitor
Feature: Cell monitor — cell voltages and temperatures of a CMU (area MEAS)
  The cell monitor of a cell monitoring unit reads the plant side: the true cell voltages
  and sensor temperatures as its input pins see them. A sense wire that opens leaves the
  cells on either side of it without a defined voltage; an open temperature sensor drives
  its input to the cold rail, a shorted one to the hot rail. The bench applies these faults
  at the input pins and judges what the module reports: every cell and sensor, at both
  ends of the range and at seeded operating points, each fault at a seeded phase of the
  module's own measurement cycle.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-MEAS-001
  Scenario: Cell voltages are accurate across the chemistry's window
    When every cell is set to its own seeded voltage around both ends of the declared chemistry's window (empty and full) and 3 seeded operating points in between, and each point is measured on every step of 8 measurement cycles after 2 settling cycles
    Then no cell voltage differs from the true voltage by more than the declared cell_voltage_accuracy_V and no reading is flagged invalid, judged against OBSA-MEAS-001

  @OBSA-MEAS-002
  Scenario: Cell temperatures are accurate wherever a temperature limit can be set
    When every temperature sensor is set to its own seeded temperature around both ends of the range of the safety supervisor's temperature limits and 3 seeded operating points in between, and each point is measured on every step of 8 measurement cycles after 2 settling cycles
    Then no temperature differs from the true temperature by more than the declared cell_temperature_accuracy_K and no reading is flagged invalid, judged against OBSA-MEAS-002

  @OBSA-MEAS-003
  Scenario: Every channel follows within one measurement cycle, and the age tells the cycle
    When the true values change on every step while cell_monitor_age_s is compared with the time since the module's last complete cycle, then every cell and every sensor steps its true value at its own seeded instant
    Then every measured value follows its step within the declared measurement_cycle_s and the age is right to one nominal step, judged against OBSA-MEAS-003

  @OBSA-MEAS-004
  Scenario: An open sense wire is flagged on the cells beside it
    When the first sense wire (below cell 1), the last (above the last cell) and 2 seeded others open, each on a fresh bench at a seeded phase of the measurement cycle
    Then both cells beside each wire read invalid within two measurement cycles, and none is missed, judged against OBSA-MEAS-004

  @OBSA-MEAS-005
  Scenario: An open temperature sensor is flagged
    When the first, the last and 2 seeded temperature sensors open (their input at the cold rail), each on a fresh bench at a seeded phase of the measurement cycle
    Then each sensor reads invalid within one measurement cycle, judged against OBSA-MEAS-005

  @OBSA-MEAS-005
  Scenario: A shorted temperature sensor is flagged
    When the first, the last and 2 seeded temperature sensors short (their input at the hot rail), each on a fresh bench at a seeded phase of the measurement cycle
    Then each sensor reads invalid within one measurement cycle, judged against OBSA-MEAS-005
