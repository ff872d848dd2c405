@bmu_safety_core @diagnostics
Feature: Diagnostics — the fault memory (area DIAG)
  The fault memory holds one row per fault code of the spec (a DTC): its status (active,
  stored, inactive), its occurrence counter and the times of its first and last occurrence.
  A DTC is active while its fault flag is raised, stored once the flag has fallen, and
  inactive again after a fault_reset_request, which keeps the counters and the times. In
  these scenarios the fault memory runs alone: the bench writes the fault flags the other
  components would produce, so that each DTC's true history is known to the step.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-DIAG-001 @OBSA-DIAG-002 @OBSA-DIAG-003
  Scenario: Occurrences, times and the stored status of sampled DTCs
    When the fault memory runs alone and, on the first, the last and 2 seeded of its rows that its flag inputs drive, the fault flag is raised three times (0.3 s high and 0.7 s low, 0.2 s high and 0.8 s low, 0.1 s high and 1 s low), then 30 s pass without a reset request
    Then each DTC is active within one step period (0.01 s) of every rise of its flag and counts exactly three occurrences, judged against OBSA-DIAG-001
    And each DTC's first and last occurrence times are recorded to within one step period (0.01 s) of the flag's first and last rise, judged against OBSA-DIAG-002
    And no DTC is reported inactive from 0.35 s after its flag first rose to the end of the 30 s, judged against OBSA-DIAG-003

  @OBSA-DIAG-001
  Scenario: The occurrence counter counts past 255
    When the fault memory runs alone and the cell_undervoltage flag is raised 300 times, two step periods (0.02 s) high and two low
    Then the DTC is active within one step period (0.01 s) of every rise and its occurrence counter reaches exactly 300, judged against OBSA-DIAG-001

  @OBSA-DIAG-001
  Scenario: Fault codes of components outside the claimed profiles are DTCs too
    When the fault memory runs alone and the flag of the first fault code, in DTC order, of a component outside the claimed profiles (or, when the profiles hold them all, of a component other than the safety supervisor and the contactor manager) is raised twice, 0.2 s high and 0.5 s low
    Then its DTC is active within one step period (0.01 s) of each rise and counts exactly two occurrences, judged against OBSA-DIAG-001

  @OBSA-DIAG-002
  Scenario Outline: Occurrence times across the instant <boundary> s, where <what>
    When the fault memory runs alone on a clock started 0.5 s before <boundary> s, where <what>, and the cell_overvoltage flag is raised twice, 0.2 s high and 0.33 s low, once before that instant and once after it
    Then both occurrence times are recorded to within one step period (0.01 s) of the flag's rises, judged against OBSA-DIAG-002

    Examples:
      | boundary    | what                                      |
      | 65.536      | 16-bit millisecond ticks wrap             |
      | 16777216    | time in float32 seconds resolves only 2 s |
      | 4294967.296 | 32-bit millisecond ticks wrap             |

  @OBSA-DIAG-003
  Scenario: A stored DTC is kept for a minute and a half
    When the fault memory runs alone, the charge_overcurrent flag is raised once for 0.5 s, and 90 s pass without a reset request
    Then the DTC is never reported inactive after its flag fell, judged against OBSA-DIAG-003

  @OBSA-DIAG-004
  Scenario: A reset clears the status, not the history
    When the fault memory runs alone: the flag of the first of its rows that its flag inputs drive rises for 0.2 s and falls (the DTC stored), 0.3 s later the flag of the last such row rises and stays raised (the DTC active), and 0.3 s later a fault_reset_request pulse of 0.05 s comes, then 0.3 s more
    Then the reset turns the stored DTC inactive within 0.02 s, changes no occurrence counter nor time, and leaves the active DTC active, judged against OBSA-DIAG-004
