"""Steps of the CAN layer's scenarios (area CAN): each sentence runs its test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_can import (
    BAD_FRAMES_PER_KIND,
    BALANCING_COMMANDS,
    BALANCING_HOLD_S,
    BUS_OFF_S,
    ESTIMATES_JUDGED_S,
    FAULTED_CLOSE_S,
    FLOOD_S,
    INITIAL_SOC_ERROR,
    MALFORMED_FRAMES,
    MALFORMED_S,
    OVER_MSL_K,
    TRAFFIC_S,
)

CAN = "test_can"


@when("the node runs for {seconds:d} s with every cell at a seeded state of charge and "
      "temperature and the plant under a seeded load current, the BMS master closing its HV "
      "path on the vehicle's request")
def traffic(context: Any, seconds: int) -> None:
    if seconds != TRAFFIC_S:
        raise SuiteError(f"the test case runs the node for {TRAFFIC_S:g} s; the scenario says "
                         f"{seconds} s")
    run_case(context, f"{CAN}::test_traffic")


@when("{crc:d} frames with a bad CRC and {counter:d} with a repeated alive counter are "
      "injected, each asking the node to act at once (the vehicle to open the HV path, the "
      "master to close every balancing switch)")
def bad_frames(context: Any, crc: int, counter: int) -> None:
    if (crc, counter) != (BAD_FRAMES_PER_KIND, BAD_FRAMES_PER_KIND):
        raise SuiteError(f"the test case injects {BAD_FRAMES_PER_KIND} frames of each kind; "
                         f"the scenario says {crc} and {counter}")
    run_case(context, f"{CAN}::test_bad_frames_are_discarded")


@when("the frame the node's safe reaction hangs on stops (the vehicle's state request, the "
      "master's balancing command)")
def lost_frame(context: Any) -> None:
    run_case(context, f"{CAN}::test_lost_frame_reaction")


@when("{frames:d} seeded unknown, short, error and remote frames are injected over "
      "{seconds:d} s on every bus of the node, then {flood:d} s of frames saturating each bus "
      "at priorities below the catalog's")
def malformed(context: Any, frames: int, seconds: int, flood: int) -> None:
    if (frames, seconds, flood) != (MALFORMED_FRAMES, MALFORMED_S, FLOOD_S):
        raise SuiteError(f"the test case injects {MALFORMED_FRAMES} frames over "
                         f"{MALFORMED_S:g} s, then floods for {FLOOD_S:g} s; the scenario "
                         f"says {frames} over {seconds} s and {flood} s")
    run_case(context, f"{CAN}::test_malformed_frames_survived")


@when("the vehicle asks to close, then to open the HV path, then a cell is held {kelvin:d} K "
      "above the declared discharge over-temperature MSL until a fault shows and the vehicle "
      "asks to close for {seconds:d} s")
def state_request(context: Any, kelvin: int, seconds: int) -> None:
    if (kelvin, seconds) != (OVER_MSL_K, FAULTED_CLOSE_S):
        raise SuiteError(f"the test case holds the cell {OVER_MSL_K:g} K above the MSL and "
                         f"asks to close for {FAULTED_CLOSE_S:g} s; the scenario says {kelvin} K "
                         f"and {seconds} s")
    run_case(context, f"{CAN}::test_state_request_followed")


@when("the master commands {count:d} seeded sets of the module's cells, the third naming "
      "none, each for {seconds:d} s, then falls silent")
def balancing_command(context: Any, count: int, seconds: int) -> None:
    if (count, seconds) != (BALANCING_COMMANDS, BALANCING_HOLD_S):
        raise SuiteError(f"the test case sends {BALANCING_COMMANDS} commands of "
                         f"{BALANCING_HOLD_S:g} s each; the scenario says {count} of {seconds} s")
    run_case(context, f"{CAN}::test_balancing_command_followed")


@when("each bus of the node is bus-off for {seconds:g} s in turn")
def bus_off(context: Any, seconds: float) -> None:
    if seconds != BUS_OFF_S:
        raise SuiteError(f"the test case holds each bus bus-off for {BUS_OFF_S:g} s; the "
                         f"scenario says {seconds:g} s")
    run_case(context, f"{CAN}::test_bus_off_recovered")


@when("the BMS master runs past its declared SoC convergence time and {seconds:d} s more on "
      "a new pack, every cell up to {error:g} to one seeded side of the declared initial SoC "
      "and the plant under a seeded load current")
def state_estimates(context: Any, seconds: int, error: float) -> None:
    if (seconds, error) != (ESTIMATES_JUDGED_S, INITIAL_SOC_ERROR):
        raise SuiteError(f"the test case judges {ESTIMATES_JUDGED_S:g} s after the declared "
                         f"convergence time, the cells up to {INITIAL_SOC_ERROR:g} from the "
                         f"initial SoC; the scenario says {seconds} s and {error:g}")
    run_case(context, f"{CAN}::test_state_estimates")
