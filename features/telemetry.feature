@telemetry_gateway @telemetry
Feature: Telemetry — records published while the link is up, buffered while it is down (area CONN)
  The network link and the telemetry run in closed loop on a bench stepped at the
  telemetry's step period; the bench takes the gateway's uplink down and up, and the
  telemetry is judged against the link as it saw it. Every input of a record changes on
  every step (seeded values written by the harness, noisy readings of the bench's sensors).
  What was sampled is known from the declared period: the first record's time stamp starts
  a grid of publish_period_s, and every record belongs to the grid point nearest its time
  stamp. The outages are drawn from the run's seed and scaled by the declared buffer.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-CONN-001
  Scenario: One record per declared period while the link is up
    When the link stays up for 40 declared publish periods from a seeded late clock start
    Then every record lies within one step of the grid of publish_period_s from the first, one per period, judged against OBSA-CONN-001

  @OBSA-CONN-002
  Scenario: A record carries its inputs at its time stamp
    When the records published with the link up, after a short outage and after an outage longer than the buffer are compared with the inputs at their time stamps
    Then every field equals its input at telemetry_record_time_s within the field's resolution, judged against OBSA-CONN-002

  @OBSA-CONN-003
  Scenario: No record is lost in an outage shorter than the buffer
    When the link goes down for a seeded share of the declared buffer_capacity_records periods, then 12 times for one to three steps, and stays up until the backlog is drained
    Then every record due during the outages is published after them and none while the link is down, judged against OBSA-CONN-003

  @OBSA-CONN-004
  Scenario: Records are published in time order
    When the records published after the short outages and after an outage longer than the buffer are read in publication order
    Then every time stamp is later than the one published before, judged against OBSA-CONN-004

  @OBSA-CONN-005
  Scenario: An overflowing buffer drops the oldest records and counts them
    When the link goes down for the declared buffer_capacity_records periods and a seeded share more, and stays up until the backlog is drained
    Then the newest records of the outage are published, no more than the buffer holds, and telemetry_dropped_records counts the records never published, judged against OBSA-CONN-005

  @OBSA-CONN-006
  Scenario: The backlog drains one record per step
    When the steps after the short outages and after an outage longer than the buffer are watched while the telemetry reports a backlog
    Then a record is published in every step with the link up and a backlog, judged against OBSA-CONN-006

  @OBSA-CONN-007
  Scenario: The backlog survives a power loss
    When the link goes down for a seeded share of the declared buffer_capacity_records periods, the module's power is cut in the middle of the outage and it is started again and configured without a reset, and the link stays up until the backlog is drained
    Then every record sampled before the cut is published after the restart, in time order before the newer records and none twice, judged against OBSA-CONN-007
