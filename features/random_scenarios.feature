@bmu_safety_core @safety_supervisor @contactor_manager @diagnostics
Feature: Seeded random scenarios, the always-on monitors as the oracle
  The other scenarios set up one situation each. Here the whole module runs through random
  sequences of operator commands and bench faults that no one wrote down — a welded
  contactor during an over-current, a reset in the middle of a precharge retry, a dropout
  while derating — and the always-on monitors check every step of every sequence against the
  invariants of the safety core. The schedule is drawn from the module's seed (it comes from
  the manifest and is printed), so a run can be reproduced, and every schedule is in the
  evidence. Each invariant is checked only in a loop that ran its component, with every
  limit, window and tolerance taken from the spec and the manifest; a measurement reported
  invalid suspends the invariants that depend on it.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-SAFE-010 @OBSA-SAFE-011 @OBSA-SAFE-013 @OBSA-SAFE-014 @OBSA-SAFE-016 @OBSA-SAFE-017 @OBSA-SAFE-029
  @OBSA-CONT-001 @OBSA-CONT-003 @OBSA-CONT-005 @OBSA-CONT-006 @OBSA-CONT-010 @OBSA-CONT-011
  @OBSA-DIAG-001 @OBSA-DIAG-002 @OBSA-DIAG-003 @OBSA-DIAG-004
  Scenario: Random sequences of commands and faults, every step watched
    When 6 sequences of 6 s each play on the whole module, each on a fresh bench whose clock starts at the sequence's number times 1000 s, each scheduled from the module's seed: close_request raised within the first second, then 4 to 9 events drawn among faults of the bench's whole catalogue (some on one random channel, some ending by themselves), clearing every fault, fault_reset_request pulses of 0.05 s, close_request on or off, and a load current anywhere from 1.1 times the discharge current MSL, discharging, to 1.1 times the charge current MSL, charging
    Then on every step, the charge current limit is at most derating_factor times charge_current_max_mol_A once a cell voltage has been above cell_voltage_max_rsl_V for longer than the spec's derating delay, judged against OBSA-SAFE-010
    And on every step, the discharge current limit is at most derating_factor times discharge_current_max_mol_A once a cell voltage has been below cell_voltage_min_rsl_V for longer than the spec's derating delay, judged against OBSA-SAFE-011
    And no fault of the safety supervisor clears without a fault_reset_request within the spec's reset time before, judged against OBSA-SAFE-013
    And no reset clears a limit fault whose quantity, as the module saw it, is not back inside the MSL by the declared hysteresis or is not validly measured, judged against OBSA-SAFE-014
    And on every step with a latched fault, contactor_open_request is raised and both current limits are zero, judged against OBSA-SAFE-016
    And the deep-discharge lockout never clears once latched, judged against OBSA-SAFE-017
    And on every step, the charge current limit is at most derating_factor times charge_current_max_mol_A once the charge current has been above charge_current_max_rsl_A for longer than the spec's derating delay, judged against OBSA-SAFE-029
    And main positive is commanded closed only with the DC-link voltage within the declared precharge_voltage_tolerance_V of the pack voltage, judged against OBSA-CONT-001
    And no precharge attempt keeps the precharge contactor commanded closed without main positive for longer than the declared precharge_timeout_s, judged against OBSA-CONT-003
    And while precharge_failed is latched no close command rises and every contactor is commanded open within 0.1 s, and precharge_failed clears only on a fault_reset_request, judged against OBSA-CONT-005
    And every contactor is commanded open within 0.1 s of contactor_open_request, judged against OBSA-CONT-006
    And no close command rises while contactor_open_request is raised, judged against OBSA-CONT-010
    And while any other contactor fault is latched no close command rises and every contactor is commanded open within 0.1 s, and the fault clears only on a fault_reset_request, judged against OBSA-CONT-011
    And every DTC's occurrence counter counts each rising edge of its fault flag exactly once up to the first reset of the sequence, and never falls without a reset, judged against OBSA-DIAG-001
    And every DTC's first and last occurrence times match its flag's first and last rising edges within one step period (0.01 s) up to the first reset of the sequence, and the first time never moves without a reset, judged against OBSA-DIAG-002
    And no DTC turns inactive without a fault_reset_request, judged against OBSA-DIAG-003
    And a reset keeps every occurrence counter and time, and turns no active DTC inactive, judged against OBSA-DIAG-004
