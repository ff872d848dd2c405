@bmu_safety_core @contactor_manager
Feature: Contactor and precharge manager — closing, opening and contactor faults (area CONT)
  The contactor manager closes the HV path on close_request through the precharge contactor
  (main negative, precharge, then main positive once the DC link is within the declared
  precharge_voltage_tolerance_V of the pack, then precharge open), opens it when
  close_request falls or contactor_open_request rises (main positive first, main negative
  at most opening_delay_s later), retries a failed precharge a bounded number of times, and
  latches its contactor faults (precharge failed, welded contactor, feedback mismatch) until
  fault_reset_request. The bench models the contactors, their feedback, the precharge
  resistor and the DC link; it injects the faults (an open precharge resistor, a welded
  contactor, a contactor that never closes). Where a scenario says "the contactor manager
  alone", the other components of the module do not run and the bench writes the requests
  they would produce; otherwise the whole module runs in closed loop.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-CONT-001 @OBSA-CONT-002
  Scenario: The HV path closes through precharge on a healthy circuit
    When close_request is raised on a healthy HV circuit after 0.3 s at rest, and the bench runs until contactor_state reports closed (at most 8 s) and 0.5 s more
    Then main positive is first commanded closed with the DC-link voltage within the declared precharge_voltage_tolerance_V of the pack voltage, judged against OBSA-CONT-001
    And main negative, precharge and main positive are first commanded closed in that order, each in a later step, contactor_state reports closed within 2 s of the request, and 0.1 s later the precharge contactor is commanded open, judged against OBSA-CONT-002

  @OBSA-CONT-001
  Scenario Outline: The DC-link voltage reads <value>: main positive stays open
    When the DC-link voltage reads <value> from a close request on, the request raised after 0.3 s at rest and held for the declared precharge_timeout_s and 0.5 s more
    Then main positive is never commanded closed onto a DC link whose voltage is no measurement, judged against OBSA-CONT-001

    Examples:
      | value |
      | NaN   |
      | +inf  |
      | -inf  |

  @OBSA-CONT-003 @OBSA-CONT-004 @OBSA-CONT-005
  Scenario: Every precharge attempt fails on an open precharge resistor
    When the precharge resistor is open, so that the DC link never charges, and close_request is raised after 0.3 s and held until precharge_failed is set (at most precharge_max_attempts × (precharge_timeout_s + precharge_retry_wait_s) + 2 s), then 10 s more
    Then no precharge attempt keeps the precharge contactor commanded closed longer than the declared precharge_timeout_s, judged against OBSA-CONT-003
    And exactly the declared precharge_max_attempts attempts are made, each at least the declared precharge_retry_wait_s after the end of the previous one, judged against OBSA-CONT-004
    And precharge_failed is set and contactor_state is error at the end, and no contactor is commanded closed in the 10 s after the failure, judged against OBSA-CONT-005

  @OBSA-CONT-004
  Scenario: The retry wait and the attempt count survive requests that flicker during the wait
    When the contactor manager alone, its precharge resistor open, serves a close_request raised after 0.3 s, and 0.5 s into each retry wait the requests flicker for one step (close_request dropped after the odd attempts, contactor_open_request raised after the even ones), for precharge_max_attempts × (precharge_timeout_s + precharge_retry_wait_s) + 5 s
    Then exactly the declared precharge_max_attempts attempts are made, each at least the declared precharge_retry_wait_s after the end of the previous one, judged against OBSA-CONT-004

  @OBSA-CONT-005
  Scenario: Everything opens after the last failed attempt
    When the contactor manager alone, its precharge resistor open, serves a close_request raised after 0.3 s and held for precharge_max_attempts × (precharge_timeout_s + precharge_retry_wait_s) + 12 s
    Then from the declared opening_delay_s plus one step after the end of the last attempt on, for 10 s, precharge_failed is set, contactor_state is error and no contactor is commanded closed, judged against OBSA-CONT-005

  @OBSA-CONT-005
  Scenario: A close request toggled after the failed precharge closes nothing
    When the precharge resistor is open, close_request is raised after 0.3 s and held until precharge_failed is set, then twice withdrawn 0.5 s later and raised again 0.5 s after that, and 5 s more pass without a reset request
    Then precharge_failed stays set, contactor_state stays error and no contactor is commanded closed from the failure on, judged against OBSA-CONT-005

  @OBSA-CONT-006 @OBSA-CONT-010
  Scenario: The HV path opens on contactor_open_request while close_request stays raised
    When the contactor manager alone closes the HV path on request, and 0.5 s later contactor_open_request is raised with close_request still raised, for 5 s
    Then every contactor is commanded open within 0.1 s of contactor_open_request, judged against OBSA-CONT-006
    And no close command rises while contactor_open_request is raised, judged against OBSA-CONT-010

  @OBSA-CONT-006 @OBSA-CONT-010
  Scenario: contactor_open_request in the middle of precharge
    When the contactor manager alone is precharging on a close_request, and 0.05 s after the precharge contactor is commanded closed contactor_open_request is raised for 3 s with close_request held, then both fall and 0.5 s more pass
    Then every contactor is commanded open within 0.1 s of contactor_open_request, judged against OBSA-CONT-006
    And no close command rises during the 3 s the open request stands, judged against OBSA-CONT-010

  @OBSA-CONT-007
  Scenario: Opening order when close_request is withdrawn
    When the HV path is closed on request, and 0.5 s later close_request is withdrawn and the bench runs 1 s
    Then main negative is commanded open no earlier than main positive and at most the declared opening_delay_s plus one step after it, judged against OBSA-CONT-007

  @OBSA-CONT-007
  Scenario: Opening order on contactor_open_request
    When the contactor manager alone closes the HV path on request, and 0.5 s later contactor_open_request is raised with close_request still raised, for 1 s
    Then main negative is commanded open no earlier than main positive and at most the declared opening_delay_s plus one step after it, judged against OBSA-CONT-007

  @OBSA-CONT-008
  Scenario: Each contactor welded in turn
    When each contactor in turn is welded on a fresh bench and then commanded open: main positive and main negative by withdrawing close_request 0.3 s after the HV path closed (then watched 1.5 s), the precharge contactor by the closing sequence itself (watched 4 s from the close request)
    Then the contactor's weld fault is set and contactor_state reports error within the declared contactor_feedback_timeout_s of its open command, judged against OBSA-CONT-008

  @OBSA-CONT-008 @OBSA-CONT-011
  Scenario: A weld fault and a reset while the contactor still reads closed
    When the contactor manager alone closes the HV path, main positive is then welded for 2.5 s and 0.3 s into the weld close_request is withdrawn; a fault_reset_request pulse comes 1 s into the weld, while main positive still reads closed, and another 3 s into it, once it reads open, then 0.5 s more pass
    Then the weld fault is set within the declared contactor_feedback_timeout_s of the open command, a weld fault cleared by the first reset while the contactor still reads closed counting only from when it is set again, judged against OBSA-CONT-008
    And the weld fault does not clear by itself before the first reset, and is clear after the reset that comes once the contactor reads open, judged against OBSA-CONT-011

  @OBSA-CONT-009
  Scenario: Each contactor in turn never closes when commanded
    When each contactor in turn never closes when commanded: on a fresh bench close_request is raised after 0.2 s and held for 4 s
    Then feedback_mismatch is set within the declared contactor_feedback_timeout_s of the contactor's close command, and within 0.1 s after the declared opening_delay_s every contactor is commanded open, judged against OBSA-CONT-009

  @OBSA-CONT-011
  Scenario: A feedback mismatch stays latched until a reset
    When main negative fails to close for the first 1.5 s: close_request is raised after 0.2 s until feedback_mismatch is set (at most 1.2 s), then withdrawn; the contactor works again and 5 s pass without a reset, then a fault_reset_request pulse of 0.05 s and 0.5 s more
    Then feedback_mismatch does not clear during those 5 s without a reset, and the reset request clears it, judged against OBSA-CONT-011

  @OBSA-CONT-012
  Scenario: contactor_state through precharge retries and a feedback mismatch
    When the contactor manager alone, its precharge resistor open, serves a close_request raised after 0.3 s and held for precharge_max_attempts × (precharge_timeout_s + precharge_retry_wait_s) + 2 s; then, on a fresh bench, main negative never closes and close_request, raised after 0.3 s, is held 1 s
    Then contactor_state reports precharging while the request is served and the path is not closed (aborts and retry waits included), and error while a contactor fault is latched, judged against OBSA-CONT-012
