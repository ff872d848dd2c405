Feature: BMU safety core
  The safety supervisor, the contactor manager and the fault memory of a BMU, verified on
  the bench against the spec's acceptance criteria and the limits the module declares in its
  manifest. Each scenario is tagged with the requirements it judges; a scenario whose
  requirements do not apply to the module (profile, component, feature) is skipped.

  @OBSA-SAFE-001
  Scenario: Cell over-voltage latches at the declared MSL within the declared delay
    Given the module at rest on the bench with ideal sensors
    When one cell voltage is swept up across the declared cell_voltage_max_msl_V at 0.01 V/s
    Then the cell_overvoltage fault latches within the declared cell_voltage_max_fault_delay_s
    And the trip is judged against OBSA-SAFE-001

  @OBSA-SAFE-002
  Scenario: Cell under-voltage latches at the declared MSL within the declared delay
    Given the module at rest on the bench with ideal sensors
    When one cell voltage is swept down across the declared cell_voltage_min_msl_V at 0.01 V/s
    Then the cell_undervoltage fault latches within the declared cell_voltage_min_fault_delay_s
    And the trip is judged against OBSA-SAFE-002

  @OBSA-SAFE-013
  Scenario: A latched fault stays latched when its condition clears
    Given the module at rest on the bench with ideal sensors
    And a cell over-voltage fault latched 0.1 V above the declared MSL
    When the cell voltage is back to normal for 5 s without a reset request
    Then the fault has not cleared by itself, judged against OBSA-SAFE-013

  @OBSA-CONT-001 @OBSA-CONT-002
  Scenario: The HV path closes through precharge
    Given the module on the bench with its declared sensor accuracy
    When the HV path is requested closed
    Then the voltage across main positive when it closes is judged against OBSA-CONT-001
    And the closing is judged against OBSA-CONT-002

  @OBSA-DIAG-001
  Scenario: A trouble code becomes active with its flag and counts each occurrence
    Given the fault memory alone on the bench for 0.5 s, recording the cell_overvoltage trouble code of the safety_supervisor
    When the flag is raised and lowered in safety_fault_flags:
      | high_s | low_s |
      | 0.3    | 0.7   |
      | 0.2    | 0.8   |
      | 0.1    | 1.0   |
    Then the trouble code's activation and count are judged against OBSA-DIAG-001
