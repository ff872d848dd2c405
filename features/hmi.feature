@full_bms @hmi_api
Feature: HMI API — the snapshot served to user interfaces and service tools (area HMI)
  The snapshot is judged against the HMI API's own inputs as it saw them. For the refresh
  period and the content the API runs alone from a seeded late clock: every input it reads
  is new on every step (the pack current and voltage and the cell readings through seeded ramps of the bench's
  measurements), the states and DTC statuses change at seeded instants. For the fault memory the diagnostics
  run in front of it and set the DTCs of the first, the last and seeded rows.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-HMI-001
  Scenario: The snapshot is refreshed at the declared period
    When the age of the snapshot is watched while every input of the HMI API changes on every step for 60 declared refresh periods
    Then the snapshot served is never older than the declared hmi_refresh_period_s plus one step, judged against OBSA-HMI-001

  @OBSA-HMI-002
  Scenario: The snapshot equals the inputs at its time
    When every field served is compared with its input while every input of the HMI API changes on every step for 60 declared refresh periods
    Then every field served equals its input at hmi_snapshot_time_s within the field's resolution, judged against OBSA-HMI-002

  @OBSA-HMI-003
  Scenario: The fault memory is readable through the HMI API
    When the diagnostics set and clear the DTCs of the first, the last and seeded rows, then a fault reset is requested
    Then the DTC statuses and the active count served equal the diagnostics' at the snapshot time on every step, judged against OBSA-HMI-003
