@state_estimation @soh_estimator
Feature: SoH estimator — capacity, resistance and the Annex VII data judged against independent truth (areas SOH, REG)
  The bench replays a cycle vector to the estimator: an aged cell, or another cell than
  characterized, simulated by PyBaMM doing two full cycles between the reference voltages
  of its SoC (CC-CV charge at C/2, rest, C/3 discharge paused half-way for a 10 s 1C pulse,
  rest), repeated to the declared pack and read with the declared sensor errors. The
  estimator is configured with the characterization of the vector's nominal cell and that
  cell's beginning-of-life values; it is judged at the end of the second full cycle.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-SOH-001 @OBSA-SOH-002 @OBSA-REG-001 @OBSA-REG-003 @OBSA-REG-005 @OBSA-REG-006
  Scenario Outline: SoH after two full cycles of <vector>
    When the cycle vector <vector> is replayed to the SoH estimator from its start, right after reset(), the estimator configured with the characterization and beginning-of-life values of its nominal cell
    Then after the second full cycle every cell_capacity_Ah and pack_capacity_Ah is within the declared capacity_accuracy of the true capacity of its cell and of the string, judged against OBSA-SOH-001
    And every cell_resistance_ohm and pack_resistance_ohm is within the declared resistance_accuracy of the true ohmic resistance, judged against OBSA-SOH-002
    And soh_capacity is within the declared capacity_accuracy of the true string capacity over rated_capacity_Ah, judged against OBSA-REG-001
    And soh_resistance is within the declared resistance_accuracy of the true string resistance over the cell count times initial_resistance_ohm, judged against OBSA-REG-005
    And round_trip_efficiency is within 0.005 of the energy out over the energy in of the second full cycle by the estimator's own inputs, judged against OBSA-REG-003
    And soce is within 5 % of the true energy of the string's second C/3 discharge over certified_energy_Wh, judged against OBSA-REG-006

    Examples:
      | vector               |
      | lfp-aged-cycles-25c  |
      | nmc-aged-cycles-25c  |
      | nmc-other-cycles-40c |
