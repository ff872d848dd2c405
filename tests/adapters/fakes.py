"""Tiny component classes for the adapter tests: each misbehaves in one way."""

from __future__ import annotations

import time


class Echo:
    """Replies with ``inputs['reply']``: the test decides what the module answers."""

    def __init__(self) -> None:
        self.parameters: dict | None = None
        self.resets = 0

    def configure(self, parameters: dict) -> None:
        self.parameters = parameters

    def reset(self) -> None:
        self.resets += 1

    def step(self, t: float, inputs: dict) -> dict:
        return inputs["reply"]


class Spins(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        while True:
            pass


class Sleeps(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        time.sleep(100)
        return {}


class SwallowsEverything(Echo):
    """Catches the interruption once and replies late."""

    def step(self, t: float, inputs: dict) -> dict:
        try:
            time.sleep(100)
        except BaseException:  # noqa: B036 - the misbehaviour under test
            pass
        return inputs["reply"]


class HangsInConfigure(Echo):
    def configure(self, parameters: dict) -> None:
        time.sleep(100)


class Raises(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        raise ValueError("cell index 97 out of range")


class RaisesInReset(Echo):
    def reset(self) -> None:
        raise RuntimeError("fault memory locked")


class Exits(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        raise SystemExit(3)


class NoStep:
    def configure(self, parameters: dict) -> None: ...

    def reset(self) -> None: ...


class StepWithoutInputs(Echo):
    def step(self, t: float) -> dict:  # type: ignore[override]
        return {}


class BrokenInit(Echo):
    def __init__(self) -> None:
        raise OSError("license dongle not found")


def not_a_class() -> None:
    """A function where a class is expected."""
