@full_bms @hal_measurement
Feature: Measurement hardware abstraction — current sensor, HV voltages, insulation, contactor driver (area MEAS)
  The hardware-abstraction blocks read the plant side: the true pack current, pack and
  DC-link voltages, insulation resistance and contact positions at their input pins. Only
  the block under test runs; the bench drives the plant through both ends of each range
  and seeded points in between, and injects its pin faults there (a sensor that delivers
  nothing). A measurement is compared with the true value over the last step period, less
  half the signal's resolution, against the module's declared accuracies.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-MEAS-006
  Scenario: The current sensor's gain error stays within its declaration
    When the true pack current is held for 30 steps at each of 10% and 100% of the declared largest charge and discharge currents and 3 seeded fractions in between, in a seeded order
    Then no current reading is off by more than the declared current_gain_error of the true current beyond the declared offset, judged against OBSA-MEAS-006

  @OBSA-MEAS-007
  Scenario: The current sensor reads zero within its declared offset
    When the true pack current is zero for 30 steps with the HV path open, and after the largest charge current, the largest discharge current and 3 seeded currents
    Then no reading exceeds the declared current_offset_error_A, judged against OBSA-MEAS-007

  @OBSA-MEAS-008
  Scenario: Charge reads positive, discharge negative
    When the true pack current alternates in sign, from just above twice the declared offset to the largest current declared, each held for 30 steps
    Then no reading has the other sign than the true current, judged against OBSA-MEAS-008

  @OBSA-MEAS-009
  Scenario: A current sensor that stops delivering is seen to age
    When the true pack current changes on every step and the sensor's input delivers nothing in 3 seeded windows of one step to 3 current-sensor timeouts
    Then current_sensor_age_s is the time since the input last delivered, to one step, judged against OBSA-MEAS-009

  @OBSA-MEAS-010
  Scenario: Pack and DC-link voltages are accurate, the link precharging and discharging included
    When the pack is set empty, full and to seeded states of charge, and at each the DC link is discharged, precharged, closed at seeded currents of both signs and opened again
    Then neither voltage differs from the true one by more than the declared voltage_accuracy_V, judged against OBSA-MEAS-010

  @OBSA-MEAS-011
  Scenario: The insulation resistance is accurate from 10 kΩ to 10 MΩ
    When the true insulation resistance is set to 10 kΩ, 10 MΩ and seeded values in between, each measured for 2 s after 10 s
    Then no reading differs from the true resistance by more than the declared relative insulation_accuracy, judged against OBSA-MEAS-011

  @OBSA-MEAS-012
  Scenario: The contactor driver follows its commands and reports the contacts
    When each contactor in turn is commanded closed and open at seeded instants, then all together
    Then every coil follows its command and every feedback the true contact state within one step period, judged against OBSA-MEAS-012
