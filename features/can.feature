@cmu_can @bms_can @can_stack
Feature: CAN layer — a node judged by its frames on the catalog's buses (area CAN)
  The module is a node of the CAN catalog on its buses: a CMU on the internal bus, or the
  BMS master on the internal and the vehicle bus. The bench emulates the nodes it talks to
  (the CMUs from the plant, the master, the vehicle controller and the charger) and judges
  only what is on the bus, so a board paced in real time and a Python node stepped in
  simulated time meet the same scenarios.

  Background:
    Given the module on the bench, configured as its manifest declares

  @OBSA-CAN-001 @OBSA-CAN-002 @OBSA-CAN-003 @OBSA-CAN-004 @OBSA-CAN-008
  Scenario: The node's traffic follows the catalog
    When the node runs for 20 s with every cell at a seeded state of charge and temperature and the plant under a seeded load current, the BMS master closing its HV path on the vehicle's request
    Then every periodic frame of its node comes within 3 of its periods, with the catalog's identifier and length, judged against OBSA-CAN-001
    And the intervals of each frame lie within its tolerance of the period on average and within twice the tolerance in 99 % of them, judged against OBSA-CAN-002
    And every value decodes inside its range, and the plant-measuring ones to the plant's truth within the declared accuracy and one step, judged against OBSA-CAN-003
    And every alive counter is the previous one plus 1 and every CRC the catalog's, judged against OBSA-CAN-004
    And the frames load each bus no more than the catalog's estimate for them, judged against OBSA-CAN-008

  @OBSA-CAN-005
  Scenario: Corrupt and stale frames are discarded
    When 2 frames with a bad CRC and 2 with a repeated alive counter are injected, each asking the node to act at once (the vehicle to open the HV path, the master to close every balancing switch)
    Then none acts and a node that sends can_fault_flags reports each in its next fault frame, judged against OBSA-CAN-005

  @OBSA-CAN-006
  Scenario: A lost frame brings the safe reaction in time
    When the frame the node's safe reaction hangs on stops (the vehicle's state request, the master's balancing command)
    Then the node's frames show the reaction complete within the timeout and reaction time, and not before the timeout, judged against OBSA-CAN-006

  @OBSA-CAN-007
  Scenario: Unknown, short, error and remote frames and a saturated bus are survived
    When 1000 seeded unknown, short, error and remote frames are injected over 5 s on every bus of the node, then 1 s of frames saturating each bus at priorities below the catalog's
    Then the node's state in its frames does not change and no frame it sends goes missing, judged against OBSA-CAN-007

  @OBSA-CAN-009
  Scenario: The BMS master follows the vehicle's state request
    When the vehicle asks to close, then to open the HV path, then a cell is held 5 K above the declared discharge over-temperature MSL until a fault shows and the vehicle asks to close for 3 s
    Then the HV path closes within 2 s and opens within 0.2 s of the request, and stays open while the fault is latched, judged against OBSA-CAN-009

  @OBSA-CAN-010
  Scenario: The CMU executes the master's balancing command
    When the master commands 4 seeded sets of the module's cells, the third naming none, each for 1 s, then falls silent
    Then the balancing switches follow each command within 0.1 s, close exactly the cells named and all open by the command's timeout and reaction time, judged against OBSA-CAN-010

  @OBSA-CAN-011
  Scenario: The node sends again after its controller was bus-off
    When each bus of the node is bus-off for 0.55 s in turn
    Then every periodic frame of that bus comes again within its period and tolerance of the recovery, and a node that sends can_fault_flags reports the bus-off, judged against OBSA-CAN-011

  @OBSA-CAN-012
  Scenario: The BMS master's state estimates on the bus agree with the plant
    When the BMS master runs past its declared SoC convergence time and 30 s more on a new pack, every cell up to 0.1 to one seeded side of the declared initial SoC and the plant under a seeded load current
    Then every pack_soc, soh_capacity and soce decodes inside its range, soh_capacity within the declared capacity accuracy of the plant's and pack_soc, after the declared time, within OBSA-SOC-003's largest error of the plant's, judged against OBSA-CAN-012
