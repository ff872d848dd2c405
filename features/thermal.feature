@full_bms @thermal_manager
Feature: Thermal manager — cooling, heating and the temperature spread (area THERM)
  The thermal manager requests cooling while the highest valid cell temperature is at or
  above the declared cooling_on_temperature_degC, until it falls to cooling_off; heating
  the mirror image on the lowest valid temperature; never both at once, cooling first; and
  it warns while the valid temperatures spread by more than the declared limit.

  It runs alone on the bench with ideal sensors. Every sensor rests midway between the
  declared heating_off and cooling_off temperatures; one sensor at a time — the first, the
  last and 2 seeded others, each on a fresh bench — is swept at 0.2 K/s across a threshold,
  starting 2 K before it (or set 2 K beyond it where only the priority is judged). Where
  the pack has another sensor, the one beside the swept one is invalid and reads beyond the
  threshold (a shorted sensor reads hot for cooling, an open one −50 °C for heating and the
  spread): only valid temperatures count. In the closed-loop scenarios nothing is driven:
  the bench's coolant and heaters follow the module's requests.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-THERM-001 @OBSA-THERM-002
  Scenario: Cooling is requested at cooling_on and withdrawn at cooling_off
    When the first, the last and 2 seeded temperature sensors are each swept up across the declared cooling_on_temperature_degC, then set 2 K above the declared cooling_off_temperature_degC and swept down across it
    Then cooling_request rises within 0.5 K of cooling_on and one step, judged against OBSA-THERM-001
    And cooling_request is kept until the highest valid temperature falls to cooling_off, judged against OBSA-THERM-002

  @OBSA-THERM-003 @OBSA-THERM-004
  Scenario: Heating is requested at heating_on and withdrawn at heating_off
    When the first, the last and 2 seeded temperature sensors are each swept down across the declared heating_on_temperature_degC, then set 2 K below the declared heating_off_temperature_degC and swept up across it
    Then heating_request rises within 0.5 K of heating_on and one step, judged against OBSA-THERM-003
    And heating_request is kept until the lowest valid temperature rises to heating_off, judged against OBSA-THERM-004

  @OBSA-THERM-005
  Scenario: Cooling wins when cooling and heating are both due
    When heating is requested for one sensor 2 K below heating_on, then the first, the last and 2 seeded other sensors are each set 2 K above cooling_on, and 2 K below cooling_off once cooling is requested
    Then the two requests are never raised in the same step, cooling is raised within one step and heating comes back within one step of cooling ending, judged against OBSA-THERM-005

  @OBSA-THERM-006
  Scenario: The temperature spread warning follows the spread both ways
    When the first, the last and 2 seeded temperature sensors are each made hotter, then colder, than the others until the valid temperatures spread by more than the declared temperature_spread_limit_K, and back
    Then the temperature_spread warning sets within 0.5 K of the limit and one step, and clears within 0.5 K of it, judged against OBSA-THERM-006

  @OBSA-THERM-002
  Scenario: Cooling brings the cells back in closed loop and ends at cooling_off
    When every cell starts 2 K above the declared cooling_on_temperature_degC with the bench's coolant following cooling_request
    Then the cooling brings the cells down and cooling_request is withdrawn within 0.5 K of cooling_off, judged against OBSA-THERM-002

  @OBSA-THERM-004
  Scenario: Heating brings the cells back in closed loop and ends at heating_off
    When every cell starts 2 K below the declared heating_on_temperature_degC with the bench's heaters following heating_request
    Then the heating brings the cells up and heating_request is withdrawn within 0.5 K of heating_off, judged against OBSA-THERM-004
