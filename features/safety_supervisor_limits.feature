@bmu_safety_core @safety_supervisor
Feature: Safety supervisor — the declared limits (area SAFE)
  The safety supervisor watches every cell voltage, every cell temperature and the pack
  current against three levels the module declares in its manifest: the maximum operating
  limit (MOL, a warning), the reduced-service limit (RSL, derating) and the maximum safe
  limit (MSL, a latched fault that opens the HV path). Each scenario drives the bench across
  one declared level and judges the module's reaction against the spec's acceptance
  criteria, with the limits and delays the module declared.

  Background:
    Given the module on the bench, configured as its manifest declares

  @<requirement>
  Scenario Outline: <limit>: the fault latches at the declared MSL within the declared delay
    When <quantity> is swept <direction> across the declared <msl> at <rate> <unit> per second, the first, the last and sampled channels one by one
    Then the <fault> fault latches at the MSL within the declared <delay>, judged against <requirement>

    Examples:
      | limit                      | quantity                     | direction | msl                                  | rate | unit | fault                      | delay                                      | requirement   |
      | cell over-voltage          | the cell voltage, at rest,   | up        | cell_voltage_max_msl_V               | 0.01 | V    | cell_overvoltage           | cell_voltage_max_fault_delay_s             | OBSA-SAFE-001 |
      | cell under-voltage         | the cell voltage, at rest,   | down      | cell_voltage_min_msl_V               | 0.01 | V    | cell_undervoltage          | cell_voltage_min_fault_delay_s             | OBSA-SAFE-002 |
