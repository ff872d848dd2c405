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


class SeesOpenRequest(Echo):
    """A contactor manager that counts the open requests it sees (in precharge_attempts)."""

    def step(self, t: float, inputs: dict) -> dict:
        return {"main_positive_close_cmd": False, "main_negative_close_cmd": False,
                "precharge_close_cmd": False, "contactor_state": 0,
                "precharge_attempts": int(inputs["contactor_open_request"]),
                "contactor_fault_flags": 0}


class DescribesInputs(Echo):
    """Writes what it received to stderr: type, dtype, writeability, values, and whether
    the array can be made writeable."""

    def step(self, t: float, inputs: dict) -> dict:
        import sys

        for name, value in sorted(inputs.items()):
            if hasattr(value, "dtype") and value.ndim:
                print(name, "ndarray", value.dtype, f"writeable={value.flags.writeable}",
                      value.tolist(), file=sys.stderr)
                try:
                    value.flags.writeable = True
                except ValueError:
                    print(name, "cannot be made writeable", file=sys.stderr)
                else:
                    value[...] = 0
            else:
                print(name, type(value).__name__, value, file=sys.stderr)
        return {"safety_state": 0, "safety_warning_flags": 0, "safety_request_flags": 0,
                "safety_fault_flags": 0, "charge_current_limit_A": 0.0,
                "discharge_current_limit_A": 0.0, "contactor_open_request": False}


class Interrupts(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        raise KeyboardInterrupt


class Meltdown(BaseException):
    """Not an Exception: a module's own BaseException subclass."""


class RaisesBaseException(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        raise Meltdown("core breach")


class ExitsHard(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        import os

        os._exit(0)


class KillsItself(Echo):
    def step(self, t: float, inputs: dict) -> dict:
        import os
        import signal

        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        return {}


class IgnoresAlarm(Echo):
    """Disarms the timer an in-process adapter would use, then blocks."""

    def step(self, t: float, inputs: dict) -> dict:
        import signal

        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
        time.sleep(20)
        return inputs["reply"]


class HangsInInit(Echo):
    def __init__(self) -> None:
        while True:
            time.sleep(0.01)


class PrintsFakeReplies(Echo):
    """Prints JSON-RPC replies on stdout, as if it could answer for the bench."""

    def step(self, t: float, inputs: dict) -> dict:
        import os

        fake = '{"jsonrpc": "2.0", "id": 3, "result": {}}\n'
        print(fake, end="", flush=True)
        os.write(1, fake.encode())
        return inputs["reply"]


class AlwaysRequestsOpen(Echo):
    """A safety supervisor that always requests the contactors to open."""

    def step(self, t: float, inputs: dict) -> dict:
        return {"safety_state": 0, "safety_warning_flags": 0, "safety_request_flags": 0,
                "safety_fault_flags": 0, "charge_current_limit_A": 0.0,
                "discharge_current_limit_A": 0.0, "contactor_open_request": True}


class RequestsOpenAsText(Echo):
    """A safety supervisor whose open request is the text 'yes' (a contactor manager that
    reads it as a number chokes on it)."""

    def step(self, t: float, inputs: dict) -> dict:
        return {"safety_state": 0, "safety_warning_flags": 0, "safety_request_flags": 0,
                "safety_fault_flags": 0, "charge_current_limit_A": 0.0,
                "discharge_current_limit_A": 0.0, "contactor_open_request": "yes"}


class TurnsBad(Echo):
    """A safety supervisor with the same valid reply every step until t = 25 ms, then
    ``BAD`` in it: the bench must catch the step it changes, whatever it skipped before."""

    BAD: dict = {}

    def step(self, t: float, inputs: dict) -> dict:
        reply = {"safety_state": 0, "safety_warning_flags": 0, "safety_request_flags": 0,
                 "safety_fault_flags": 0, "charge_current_limit_A": 10.0,
                 "discharge_current_limit_A": 10.0, "contactor_open_request": False}
        if t >= 0.025:
            reply.update(self.BAD)
        return reply


class TurnsNaN(TurnsBad):
    BAD = {"charge_current_limit_A": float("nan")}


class TurnsFloatFlags(TurnsBad):
    BAD = {"safety_fault_flags": 0.0}


class TurnsText(TurnsBad):
    BAD = {"contactor_open_request": "no"}


class FailsWhenAsked(Echo):
    """Echoes, except the step whose inputs ask it to raise, to hang or to exit."""

    def step(self, t: float, inputs: dict) -> dict:
        if inputs.get("raise"):
            raise ValueError(f"asked to fail at t={t:g}")
        if inputs.get("hang"):
            while True:
                pass
        if inputs.get("exit"):
            import os
            import sys

            sys.stderr.write(f"fatal: asked to exit at t={t:g}\n")
            sys.stderr.flush()
            os._exit(7)
        return inputs["reply"]


class CountsInRam(Echo):
    """Counts its steps in RAM and reports the count as its charge current limit: a power
    loss starts it again from nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def step(self, t: float, inputs: dict) -> dict:
        self.count += 1
        return {**inputs["reply"], "charge_current_limit_A": float(self.count)}


class CountsInNvm(CountsInRam):
    """Counts its steps in its non-volatile store (``OBSA_NVM_DIR``): saved at every step,
    restored at configure; each process leaves a file ``pid-<pid>`` holding the store it
    was given."""

    @staticmethod
    def _store():
        import os
        from pathlib import Path

        directory = os.environ.get("OBSA_NVM_DIR")
        return Path(directory) if directory else None

    def configure(self, parameters: dict) -> None:
        import os

        super().configure(parameters)
        store = self._store()
        if store is not None:
            saved = store / "count"
            self.count = int(saved.read_text()) if saved.exists() else 0
            (store / f"pid-{os.getpid()}").write_text(str(store))

    def step(self, t: float, inputs: dict) -> dict:
        reply = super().step(t, inputs)
        store = self._store()
        if store is not None:
            (store / "count").write_text(str(self.count))
        return reply


class BricksOnRestart(Echo):
    """Starts once; started again with its store (``OBSA_NVM_DIR``) it finds its own mark
    there and fails to start, as firmware that bricks on a checksum it wrote itself."""

    def __init__(self) -> None:
        import os
        from pathlib import Path

        super().__init__()
        mark = Path(os.environ["OBSA_NVM_DIR"]) / "started"
        if mark.exists():
            raise OSError("flash checksum error")
        mark.write_text("1")
