@full_bms @data_logger @lifetime_data
Feature: Data logger — the lifetime data of Regulation (EU) 2023/1542 Annex VII part B (area REG)
  The data logger runs alone on a bench with ideal sensors and the HV path open; its inputs
  are the bench's measurements, driven by stuck-at readings of the pack current and voltage,
  of the cell voltages and temperatures and of their valid flags, so every input is known.
  Each counter is judged against the logger's own inputs as the trace recorded them: only
  its arithmetic and its counting rules are judged. Currents are drawn from the run's seed
  in multiples of the declared equivalent_cycle_capacity_Ah; thresholds and windows are the
  declared ones; the channels are the first, the last and seeded cells and sensors.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-REG-007
  Scenario: The declared dates are reported unchanged
    When the data logger runs for 2 s
    Then both dates equal the declared manufacture_date_s and service_start_date_s on every step, judged against OBSA-REG-007

  @OBSA-REG-008 @OBSA-REG-009 @OBSA-REG-010
  Scenario: Throughput and equivalent full cycles follow the logger's own inputs
    When the measured pack current runs through 40 seeded segments of charge, discharge and rest and a closing discharge, with a pack voltage that follows it
    Then the charged and discharged energy at the end lie within 0.1 % of the integrals of the logger's inputs, judged against OBSA-REG-008
    And the charged and discharged capacity at the end lie within 0.1 % of the integrals of the logger's inputs, judged against OBSA-REG-009
    And the equivalent full cycles equal the discharged capacity over the declared cycle capacity on every step, judged against OBSA-REG-010

  @OBSA-REG-011
  Scenario: Every deep-discharge excursion is counted once
    When the first, the last and seeded cells fall below the declared deep_discharge_threshold_V one at a time, then together overlapping, then one twice with a return just at or above the threshold in between, then one with its reading invalid during the excursion, and an open wire reads 0 V while no cell is below
    Then deep_discharge_events equals the excursions injected, judged against OBSA-REG-011

  @OBSA-REG-012 @OBSA-REG-013
  Scenario: Time at and time charging at extreme temperatures
    When the first, the last and seeded sensors go beyond the declared extreme and charge windows at rest, charging above and below the declared charging_current_threshold_A and discharging, two sensors overlap and an invalid sensor reads an extreme temperature
    Then the accumulated time at extreme temperatures equals the time the logger's valid inputs were beyond within one nominal step per excursion, judged against OBSA-REG-012
    And the accumulated time charging at extreme temperatures equals the time the logger's valid inputs were beyond while charging within one nominal step per excursion, judged against OBSA-REG-013

  @OBSA-REG-014
  Scenario: No lifetime counter ever decreases
    When the throughput profile runs from a seeded late clock start, then the extreme temperatures, the deep discharges and 300 more deep discharges one after the other
    Then no counter is lower than on the step before, judged against OBSA-REG-014

  @OBSA-REG-015
  Scenario: The lifetime data survives a power loss
    When the module's power is cut 4 times while the pack is charged and discharged at extreme temperatures and deep discharges, the first cut more than one declared lifetime_save_period_s after the start and the second just over one after its restart, and each time the module is started again and configured without a reset
    Then at the logger's first step after each restart every counter has lost at most one declared lifetime_save_period_s of counting, none is above its value before the cut and the dates are unchanged, judged against OBSA-REG-015
