@state_estimation
Feature: SoH and SoP estimators — what they report before and beyond estimating (areas SOH, SOP)
  The bench replays a test vector to the estimator as to the SoC estimator: simulated cells
  repeated to the declared pack, read with the declared sensor errors; the SoC the SoH and
  SoP estimators take is the truth, the resistance the SoP estimator takes is the true
  cells' ohmic resistance, and the safety state is set by the scenario.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-SOH-003 @OBSA-SOH-004 @soh_estimator
  Scenario: The SoH estimator starts from the declared values and keeps its definitions
    When the nominal NMC drive cycle is replayed to the SoH estimator from 600 s to its end, right after reset()
    Then its first cell_capacity_Ah is the declared rated_capacity_Ah within 0.001 Ah and its first cell_resistance_ohm the declared initial_resistance_ohm within 1 µΩ, judged against OBSA-SOH-004
    And at every step soh_capacity is the smallest cell_capacity_Ah over rated_capacity_Ah and soh_resistance the sum of cell_resistance_ohm over the cell count times initial_resistance_ohm, within 0.001, judged against OBSA-SOH-003

  @OBSA-SOP-001 @OBSA-SOP-004 @sop_estimator
  Scenario: The SoP estimator stays within the safety limits and reports no power while faulted
    When the nominal NMC drive cycle is replayed to the SoP estimator from 600 s to 900 s, the safety supervisor's limits 1C charge and 2C discharge, the safety state fault from 630 s to 660 s
    Then its current limits never exceed the safety supervisor's, judged against OBSA-SOP-001
    And all four limits are zero while the safety state is fault, judged against OBSA-SOP-004
