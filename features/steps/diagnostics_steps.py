"""Steps of the fault memory's scenarios (area DIAG): the diagnostics block runs alone and
the harness writes the fault flags the other components would produce."""

from __future__ import annotations

from typing import Any

from conformance.suite import steps as S
from features.steps.verdicts import given, judge, then, when

DIAG = "diagnostics"


@given("the fault memory alone on the bench for {seconds:g} s, recording the {fault} "
       "trouble code of the {component}")
def fault_memory_alone(context: Any, seconds: float, fault: str, component: str) -> None:
    h = context.obsa
    context.loop = h.run(components=[DIAG],
                         channels=S.dtc_channels(h.dtc_row(component, fault), "dtc"))
    context.fault, context.component = fault, component
    context.loop.run(seconds)


@when("the flag is raised and lowered in {flags_signal}:")
def pulse_flag(context: Any, flags_signal: str) -> None:
    owner = context.obsa.spec.signals[flags_signal].flags_of
    if owner != context.component:
        raise AssertionError(f"{flags_signal} holds the flags of {owner}, "
                             f"not of {context.component}")
    mask = context.obsa.bit(context.component, context.fault)
    context.rises = [
        S.pulse_flag(context.loop, flags_signal, mask, float(row["high_s"]), float(row["low_s"]))
        for row in context.table
    ]


@then("the trouble code's activation and count are judged against {requirement}")
def judge_activation(context: Any, requirement: str) -> None:
    active = context.obsa.enum("dtc_status", "active")
    events = {f"flag rises ({i + 1})": r for i, r in enumerate(context.rises)}
    judge(context, requirement, S.dtc_activation(context.loop, "dtc", active, context.rises),
          events=events, message=f"{context.fault} flag raised {len(context.rises)} times")
