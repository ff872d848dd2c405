@bmu_basic_protection @protection
Feature: Basic protection — one switch per direction (area PROT)
  A pack whose power path has one MOSFET switch per direction: with the charge switch off
  no current flows into the pack, with the discharge switch off none flows out of it. Every
  quantity has one declared limit, a hysteresis and a delay; beyond a limit for its delay
  the protection switches off the direction that limit protects, reports the fault in
  protection_fault_flags and keeps the other direction available. The bench records whether
  each switch really conducts and the current that really flows, so a scenario judges the
  power path, whether the firmware or an analog front end cut it. Every test case starts
  from a fresh, settled bench with close_request raised, both switches on and no current
  demanded (ideal sensors), and runs the bench for 1 s after a cut before it judges the
  report of the fault.

  Background:
    Given the module on the bench, configured as its manifest declares

  @<requirement>
  Scenario Outline: <limit>: the <switch> direction is switched off at the declared limit
    When <quantity> is swept <sweeps> at <rate> <unit> per second, starting <lead> s before the limit, on <where>, until the <switch> switch is commanded off
    Then the <switch> switch is really off at the declared limit within the declared <delay> of the first sample beyond it, and the fault is reported within 1 s<other>, judged against <requirement>

    Examples:
      | limit                       | quantity                     | sweeps                                                                                        | rate | unit | lead | where                                                          | switch    | delay                         | other                                                        | requirement   |
      | cell over-voltage           | a cell voltage               | up across the declared cell_overvoltage_V                                                     | 0.02 | V    | 1    | the first, the last and one seeded cell, one by one            | charge    | cell_overvoltage_delay_s      | ; a 10 A discharge demanded afterwards still flows           | OBSA-PROT-001 |
      | cell under-voltage          | a cell voltage               | down across the declared cell_undervoltage_V                                                  | 0.02 | V    | 1    | the first, the last and one seeded cell, one by one            | discharge | cell_undervoltage_delay_s     | ; a 10 A charge demanded afterwards still flows              | OBSA-PROT-002 |
      | charge over-current         | the demanded charge current  | up across the declared charge_overcurrent_A                                                   | 10   | A    | 1    | the pack                                                       | charge    | charge_overcurrent_delay_s    | ; a 10 A discharge demanded afterwards still flows           | OBSA-PROT-003 |
      | discharge over-current      | the demanded discharge current | up across the declared discharge_overcurrent_A, staying below any declared short_circuit_A | 10   | A    | 1    | the pack                                                       | discharge | discharge_overcurrent_delay_s | ; a 10 A charge demanded afterwards still flows              | OBSA-PROT-004 |
      | charge temperature window    | a cell temperature           | up across the declared charge_temperature_max_degC and down across the declared charge_temperature_min_degC       | 0.4  | K    | 1    | the first, the last and one seeded temperature sensor, one by one | charge    | temperature_delay_s           |                                                              | OBSA-PROT-005 |
      | discharge temperature window | a cell temperature           | up across the declared discharge_temperature_max_degC and down across the declared discharge_temperature_min_degC | 0.4  | K    | 1    | the first, the last and one seeded temperature sensor, one by one | discharge | temperature_delay_s           |                                                              | OBSA-PROT-006 |

  @OBSA-PROT-007
  Scenario: Voltage and temperature faults release with the hysteresis, by themselves
    When on one seeded channel each, a measurement is held beyond the declared limit until its switch is off, then swept back at the rate below through the declared hysteresis and past it:
      | limit                       | held beyond by | switch    | swept back at | hysteresis                     |
      | cell_overvoltage_V          | 0.04 V         | charge    | 0.02 V/s      | cell_overvoltage_hysteresis_V  |
      | cell_undervoltage_V         | 0.04 V         | discharge | 0.02 V/s      | cell_undervoltage_hysteresis_V |
      | charge_temperature_max_degC | 0.8 K          | charge    | 0.4 K/s       | temperature_hysteresis_K       |
    Then each switch is on again within 1 s of its measurement back inside the limit by the declared hysteresis, and not before it (within the limit's tolerance), judged against OBSA-PROT-007

  @OBSA-PROT-008
  Scenario: An over-current cut stays until a reset
    When the charge current is demanded 20 A above the declared charge_overcurrent_A until the charge switch is off, then the demand is gone for 2 s without a reset, then comes a fault_reset_request pulse and 0.5 s more; likewise, on a fresh bench, the discharge current 20 A above the declared discharge_overcurrent_A
    Then each direction stays off without a reset and is switched on again within 0.1 s of the reset request, judged against OBSA-PROT-008

  @OBSA-PROT-009
  Scenario: A short circuit is cut at once
    When a discharge current of 1.5 times the declared short_circuit_A is demanded from a pack discharging 10 A, until the discharge switch is commanded off (at most 0.5 s), then the demand is gone and 2 s pass without a reset
    Then the discharge switch is really off within the declared short_circuit_delay_s of the first sample above short_circuit_A, discharge_overcurrent is reported within 1 s, and the direction stays off without a reset, judged against OBSA-PROT-009

  @OBSA-PROT-010
  Scenario: An open sense wire switches both directions off
    When the sense wire of one seeded cell voltage channel opens, then, on a fresh bench, that of one seeded temperature sensor
    Then both switches are really off within the declared invalid_measurement_delay_s of the first invalid sample, cell_voltage_invalid or cell_temperature_invalid is reported within 1 s, and no limit fault is reported, judged against OBSA-PROT-010
