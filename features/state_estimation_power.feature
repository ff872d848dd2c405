@state_estimation @sop_estimator
Feature: SoP estimator — limits kept on a model of the true cells (area SOP)
  A state-of-power limit is a promise about the next sop_horizon_s, so the bench keeps it:
  it replays a test vector to the estimator (simulated cells repeated to the declared pack,
  read with the declared sensor errors; the true SoC and the true cells' ohmic resistance
  as its cell_soc and cell_resistance_ohm, what a perfect SoC and SoH estimator would
  report), configured with the characterization of the vector's nominal cell and the full
  and empty voltages of its SoC reference as its voltage limits. At the sample times each
  limit it reports is drawn from the vector's truth model (an equivalent circuit of each
  true cell fitted to the electrochemical model the vector was simulated with, which the
  module does not know), from the truth's state at that time.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-SOP-002 @OBSA-SOP-003
  Scenario Outline: SoP limits drawn from the truth of <vector>
    When the vector <vector> is replayed to the SoP estimator for 300 s around the time its cells come nearest a voltage limit, and at 6 seeded sample times and that time each limit it reports is drawn from the vector's truth model for the declared sop_horizon_s
    Then drawn as a constant current, the charge limit raises no true cell voltage more than 0.01 V above sop_charge_voltage_limit_V and the discharge limit lowers none more than 0.01 V below sop_discharge_voltage_limit_V, judged against OBSA-SOP-002
    And drawn as a constant string power, the charge and discharge power limits do the same, judged against OBSA-SOP-003

    Examples:
      | vector                  |
      | lfp-aged-cccv-40c       |
      | lfp-aged-cycles-25c     |
      | lfp-aged-pulses-10c     |
      | lfp-pack4-storage-25c   |
      | lfp-wltc-25c            |
      | nmc-aged-cycles-25c     |
      | nmc-aged-low-pulses-10c |
      | nmc-aged-pulses-25c     |
      | nmc-aged-wltc-40c       |
      | nmc-other-cccv-25c      |
      | nmc-other-cycles-40c    |
      | nmc-other-wltc-10c      |
      | nmc-pack4-wltc-25c      |
      | nmc-wltc-25c            |
