@full_bms @hmi_api @hmi_http
Feature: HMI API over HTTP — the module's own service judged over the network (area HMI)
  The module's components run in closed loop; every input of the HMI API that no component
  of the module produces and the bench does not measure gets a seeded new value on every
  step. After a seeded one to two refresh periods the bench holds the loop still and asks
  the module's HTTP service — where the manifest's hmi_http says — for the resources of the
  binding in interfaces/hmi_api.yaml, and compares what it serves with what the component
  returned for that step. The port is the bench's choice, given to the module in
  OBSA_HMI_HTTP_PORT; the declared token in OBSA_HMI_HTTP_TOKEN.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-HMI-005
  Scenario: The snapshot resource serves each new snapshot within the refresh period
    When the snapshot resource is polled after the step at 10 seeded pauses
    Then it serves the component's hmi_snapshot_time_s within hmi_refresh_period_s of wall-clock time after the step, judged against OBSA-HMI-005

  @OBSA-HMI-006
  Scenario: The resources serve the component's outputs
    When every resource that carries outputs is read at 10 seeded pauses, once it serves the step's snapshot
    Then every field and every DTC row equals the component's output within the signal's resolution, judged against OBSA-HMI-006

  @OBSA-HMI-008
  Scenario: Every write is refused over HTTP
    When every write method of the binding is sent to every resource with a body naming every output and the vehicle's commands at 10 seeded pauses
    Then every write is answered with a status of 400 or more and nothing served changes, judged against OBSA-HMI-008

  @OBSA-HMI-007
  Scenario: The declared token is required
    When every resource the service serves is asked without the token and with another one at 3 seeded pauses
    Then every such request is answered 401, judged against OBSA-HMI-007

  @OBSA-HMI-009
  Scenario: The Annex VII data are readable over HTTP
    When the Annex VII resource is read at 10 seeded pauses, once it serves the step's snapshot
    Then every datum equals the component's input between the snapshot and the pause, judged against OBSA-HMI-009
