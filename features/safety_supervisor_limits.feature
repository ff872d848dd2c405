@bmu_safety_core @safety_supervisor
Feature: Safety supervisor — the declared limits (area SAFE)
  The safety supervisor watches every cell voltage, every cell temperature and the pack
  current against three levels the module declares in its manifest: the maximum operating
  limit (MOL, a warning), the reduced-service limit (RSL, derating) and the maximum safe
  limit (MSL, a latched fault that opens the HV path). Each scenario drives the bench across
  one declared level and judges the module's reaction against the spec's acceptance
  criteria, with the limits and delays the module declared.

  Unless a scenario says otherwise the bench's sensors are ideal (no noise), and a sweep goes
  on until the fault latches or the quantity is four sweep margins beyond the limit. The
  "sampled" cells and temperature sensors are drawn from the run's seed (printed in the
  report, so the run can be reproduced), fewer on a pack too small for them; each channel is
  swept on a fresh bench, one by one.

  Background:
    Given the module on the bench, configured as its manifest declares

  # ------------------------------------------------------------------------ the MSL faults
  @<requirement>
  Scenario Outline: <limit>: the fault latches at the declared MSL within the declared delay
    When <quantity> is swept <direction> across the declared <msl> from <margin> <unit> inside it at <rate> <unit> per second, <state>, on the first, the last and two sampled <channels>, one by one
    Then the <fault> fault latches at the MSL within the declared <delay>, judged against <requirement>

    Examples: the cell quantities
      | limit                       | quantity             | direction | msl                                | margin | rate | unit | state                                           | channels            | fault                      | delay                                   | requirement   |
      | cell over-voltage           | the cell voltage     | up        | cell_voltage_max_msl_V             | 0.02   | 0.01 | V    | at rest                                         | cells               | cell_overvoltage           | cell_voltage_max_fault_delay_s          | OBSA-SAFE-001 |
      | cell under-voltage          | the cell voltage     | down      | cell_voltage_min_msl_V             | 0.02   | 0.01 | V    | at rest                                         | cells               | cell_undervoltage          | cell_voltage_min_fault_delay_s          | OBSA-SAFE-002 |
      | charge over-temperature     | the cell temperature | up        | charge_temperature_max_msl_degC    | 0.4    | 0.2  | K    | the HV path closed and the pack charged at 10 A | temperature sensors | charge_overtemperature     | charge_temperature_max_fault_delay_s    | OBSA-SAFE-005 |
      | charge under-temperature    | the cell temperature | down      | charge_temperature_min_msl_degC    | 0.4    | 0.2  | K    | the HV path closed and the pack charged at 10 A | temperature sensors | charge_undertemperature    | charge_temperature_min_fault_delay_s    | OBSA-SAFE-006 |
      | discharge over-temperature  | the cell temperature | up        | discharge_temperature_max_msl_degC | 0.4    | 0.2  | K    | at rest                                         | temperature sensors | discharge_overtemperature  | discharge_temperature_max_fault_delay_s | OBSA-SAFE-007 |
      | discharge under-temperature | the cell temperature | down      | discharge_temperature_min_msl_degC | 0.4    | 0.2  | K    | at rest                                         | temperature sensors | discharge_undertemperature | discharge_temperature_min_fault_delay_s | OBSA-SAFE-008 |

  @<requirement>
  Scenario Outline: <limit>: the fault latches at the declared MSL within the declared delay
    When the <current> current, the HV path closed, is ramped up across the declared <msl> from <margin> A below it at <rate> A per second
    Then the <fault> fault latches at the MSL within the declared <delay>, judged against <requirement>

    Examples: the pack current
      | limit                 | current   | msl                         | margin | rate | fault                 | delay                               | requirement   |
      | charge over-current   | charge    | charge_current_max_msl_A    | 10     | 5    | charge_overcurrent    | charge_current_max_fault_delay_s    | OBSA-SAFE-003 |
      | discharge over-current| discharge | discharge_current_max_msl_A | 10     | 5    | discharge_overcurrent | discharge_current_max_fault_delay_s | OBSA-SAFE-004 |

  # ------------------------------------------------------------------------ the MSL on a late clock
  @OBSA-SAFE-001
  Scenario Outline: cell over-voltage on a late clock (<boundary>): it passes <clock> s, where <what>
    A module keeps time in its own types. Here the module's clock starts late, so that it
    passes the boundary of one of them in the middle of the over-voltage debounce.

    When the module's clock passes <clock> s half the declared cell_voltage_max_fault_delay_s after the voltage of the cell a third into the string, swept up at 0.01 V per second from 0.02 V below it, crosses the declared cell_voltage_max_msl_V, at rest
    Then the cell_overvoltage fault latches at the MSL within the declared cell_voltage_max_fault_delay_s, judged against OBSA-SAFE-001

    Examples:
      | boundary              | clock       | what                                           |
      | uint16_ms_wrap        | 65.536      | 16-bit millisecond ticks wrap                  |
      | float32_2s_resolution | 16777216    | float32 seconds resolve only 2 s               |
      | uint32_ms_wrap        | 4294967.296 | 32-bit millisecond ticks wrap                  |

  # ------------------------------------------------------------------------ the MOL warning
  @OBSA-SAFE-009
  Scenario: Cell voltage: the warning sets at the declared MOL and clears with the declared hysteresis
    When the cell voltage, at rest, is swept up from 20 mV below the declared cell_voltage_max_mol_V to 10 mV above it at 10 mV per second, then back down at 10 mV per second to 30 mV below the declared cell_voltage_max_mol_V minus cell_voltage_max_hysteresis_V, and likewise down across cell_voltage_min_mol_V and back up past cell_voltage_min_mol_V plus cell_voltage_min_hysteresis_V, on the first, the last and one sampled cell, one by one
    Then the cell_overvoltage or cell_undervoltage warning flag sets at the MOL within 0.1 s and clears only once the cell voltage is back inside the MOL by the declared hysteresis, judged against OBSA-SAFE-009

  # ------------------------------------------------------------------------ derating at the RSL
  @<requirement>
  Scenario Outline: <limit>: the <limit_channel> is derated beyond the declared RSL
    When the cell voltage, at rest, is swept <direction> from 10 mV inside the declared <rsl> to 10 mV beyond it at 10 mV per second and held there for 1 s, on the first, the last and two sampled cells, one by one
    Then <limit_channel> falls to at most derating_factor times the declared <mol> within 0.1 s and stays there while the cell is beyond the RSL, judged against <requirement>

    Examples:
      | limit                    | direction | rsl                    | limit_channel             | mol                         | requirement   |
      | cell voltage above RSL   | up        | cell_voltage_max_rsl_V | charge_current_limit_A    | charge_current_max_mol_A    | OBSA-SAFE-010 |
      | cell voltage below RSL   | down      | cell_voltage_min_rsl_V | discharge_current_limit_A | discharge_current_max_mol_A | OBSA-SAFE-011 |

  @OBSA-SAFE-029
  Scenario: Charge current above RSL: the charge_current_limit_A is derated beyond the declared RSL
    When the charge current, the HV path closed, is ramped up from 5 A below the declared charge_current_max_rsl_A to 10 A above it at 5 A per second and held there for 1 s
    Then charge_current_limit_A falls to at most derating_factor times the declared charge_current_max_mol_A within 0.1 s and stays there while the current is beyond the RSL, judged against OBSA-SAFE-029

  # ------------------------------------------------------------------------ the charge window
  @<requirement>
  Scenario Outline: Cell temperature <side> the charge window: no charging
    When the cell temperature, at rest, is swept <direction> from 0.4 K inside the declared <rsl> to 0.4 K beyond it at 0.2 K per second and held there for 1 s, on the first, the last and two sampled temperature sensors, one by one
    Then charge_current_limit_A is zero from 0.1 s after the temperature left the window, judged against <requirement>

    Examples:
      | side  | direction | rsl                             | requirement   |
      | below | down      | charge_temperature_min_rsl_degC | OBSA-SAFE-018 |
      | above | up        | charge_temperature_max_rsl_degC | OBSA-SAFE-019 |

  @OBSA-SAFE-031
  Scenario: A cell temperature beyond a charge MSL at rest latches no charge-temperature fault
    When at rest, with no current flowing, the second temperature sensor (the first of a single-sensor pack) reads 1 K above the declared charge_temperature_max_msl_degC, and then, on a fresh bench, 1 K below the declared charge_temperature_min_msl_degC, each for the longer of the declared charge_temperature_max_fault_delay_s and charge_temperature_min_fault_delay_s plus 1 s
    Then neither charge_overtemperature nor charge_undertemperature latches, judged against OBSA-SAFE-031

  # ------------------------------------------------------------------------ debounce
  @OBSA-SAFE-012
  Scenario: Violations shorter than the declared delay are debounced
    When the pack is charged at 30 % of the declared charge_current_max_msl_A, one cell drawn from the run's seed reads 50 mV above the declared cell_voltage_max_msl_V for the most cell-monitor samples that last less than the declared cell_voltage_max_fault_delay_s minus two step periods, twice, 1 s apart, and then the charge current steps 10 A above the declared charge_current_max_msl_A for the most steps that last less than the declared charge_current_max_fault_delay_s minus two step periods, twice, 1 s apart (a spike that cannot be that short is left out; with neither, the requirement does not apply)
    Then no cell_overvoltage or charge_overcurrent fault latches, judged against OBSA-SAFE-012

  @OBSA-SAFE-012
  Scenario: Short current spikes 1 s apart never add up to a fault
    When the pack is charged at 30 % of the declared charge_current_max_msl_A and the charge current steps 10 A above the declared charge_current_max_msl_A five times, 1 s apart, each time for the most steps that last less than the declared charge_current_max_fault_delay_s minus two step periods (with no such step, the requirement does not apply)
    Then no charge_overcurrent fault latches, judged against OBSA-SAFE-012

  # ------------------------------------------------------------------------ declarations and nominal operation
  @OBSA-SAFE-027
  Scenario: The declared limits are ordered
    When the MOL, RSL and MSL of each of the spec's limit sets are read from the module's configuration (declared in the manifest, else the spec's defaults)
    Then each upper limit has MOL < RSL < MSL and each lower limit MOL > RSL > MSL, judged against OBSA-SAFE-027

  @OBSA-SAFE-028
  Scenario: No false trips in normal operation
    When the HV path is closed and the pack current follows a sine of 0.3 rad per second for 60 s, its charge half-waves peaking at half the declared charge_current_max_mol_A and its discharge half-waves at half the declared discharge_current_max_mol_A, with every sensor as noisy as its declared accuracy
    Then no fault other than the insulation warning rises and no opening of the HV path is requested, judged against OBSA-SAFE-028
