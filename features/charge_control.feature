@full_bms @charge_control
Feature: Charge control — constant-current / constant-voltage charge requests (area CHG)
  The charge control asks the charger for a voltage and a current: the smallest permitted
  current until the highest cell reaches the declared charge_voltage_limit_V, then less so
  that no cell exceeds it, and nothing once the current has fallen below the termination
  current or while charging is not permitted.

  It runs alone on the bench, stepped at its step period, with the bench's CC-CV charger,
  which follows its requests with a lag of one step period and is rated above every
  request. The bench closes the HV path itself and sets the inputs the other components
  would produce: the contactor state, the safety state, the supervisor's charge current
  limit and the SoP limit. A whole charge starts with the fullest cell a seeded 20 to 50 mV
  of open-circuit voltage, plus its resistive drop at the declared charge_current_max_A,
  below the limit and the other cells up to 0.05 of state of charge below it.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-CHG-001
  Scenario: The voltage request never exceeds the number of cells times the limit
    When the charge runs in constant current while the limits step through 8 seeded segments of 1 s, then a whole charge runs from a seeded start with a seeded cell the fullest
    Then the voltage request never exceeds the number of series cells times charge_voltage_limit_V, judged against OBSA-CHG-001

  @OBSA-CHG-002
  Scenario: No cell exceeds the limit in a whole closed-loop charge
    When whole charges run until the phase is complete, the first, the last and 2 seeded cells each the fullest on a fresh bench, with the other cells spread below it
    Then no true cell voltage exceeds charge_voltage_limit_V by more than 0.01 V, judged against OBSA-CHG-002

  @OBSA-CHG-003
  Scenario: The current request respects the declared maximum and both limits
    When the charge runs in constant current while the limits step through 8 seeded segments of 1 s
    Then the current request never exceeds charge_current_max_A, charge_current_limit_A or sop_charge_current_limit_A of the same step, judged against OBSA-CHG-003

  @OBSA-CHG-004
  Scenario: Nothing is requested while charging is not permitted
    When the charge runs in constant current and, one at a time for a seeded 1 to 2 s, the charger disconnects, the contactor state takes every value but closed, the safety state is fault and lockout, and charge_current_limit_A is zero
    Then after one step the current request is zero and the phase inhibited or idle, judged against OBSA-CHG-004

  @OBSA-CHG-005
  Scenario: The smallest limit is requested in constant current
    When the charge runs in constant current while the limits step through 8 seeded segments of 1 s, every cell below the limit
    Then the smallest of the three limits is requested, to 0.1 A, and the phase is constant_current, after one step of each change, judged against OBSA-CHG-005

  @OBSA-CHG-006
  Scenario: The charge ends at the termination current
    When a whole charge runs from a seeded start with a seeded cell the fullest until the phase is complete, and the charger stays connected 5 s more
    Then the measured current is below charge_termination_current_A when the phase becomes complete and nothing is requested after it, judged against OBSA-CHG-006
