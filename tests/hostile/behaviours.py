"""Hostile modules: a correct safety supervisor (the reference) that attacks the bench in one
way each, at construction or in step. tests/hostile/test_hostile.py certifies every one
through the real CLI and checks that none can fake or hang a certification.

A module that starts processes marks them with ``OBSA_HOSTILE_MARKER`` (from its
environment) in their command line, so that the test finds any that outlived the run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from reference_impl.functions.safety import SafetySupervisor


def _marker() -> str:
    return os.environ.get("OBSA_HOSTILE_MARKER", "obsa-hostile")


class ExitInInit(SafetySupervisor):
    def __init__(self) -> None:
        os._exit(0)


class ExitInStep(SafetySupervisor):
    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        os._exit(0)


class SystemExitInStep(SafetySupervisor):
    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        sys.exit(0)


class KeyboardInterruptInStep(SafetySupervisor):
    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        raise KeyboardInterrupt


class Meltdown(BaseException):
    """Not an Exception: slips past ``except Exception``."""


class BaseExceptionInStep(SafetySupervisor):
    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        raise Meltdown("core breach")


class LoopsInInit(SafetySupervisor):
    def __init__(self) -> None:
        while True:
            pass


class DisarmsTimerAndBlocks(SafetySupervisor):
    """Switches off SIGALRM and any interval timer, then blocks 20 s in one step."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
        time.sleep(20)
        return super().step(t, inputs)


class KillsItself(SafetySupervisor):
    """Sends itself SIGKILL in step."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGKILL)
        return super().step(t, inputs)


class StopsItself(SafetySupervisor):
    """Sends itself SIGSTOP: alive, but never answers again."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGSTOP)
        return super().step(t, inputs)


class NonDaemonThread(SafetySupervisor):
    """Starts a thread that never ends, then hangs in step (so the run must kill it)."""

    def __init__(self) -> None:
        super().__init__()
        threading.Thread(target=self._forever, daemon=False).start()

    @staticmethod
    def _forever() -> None:
        while True:
            time.sleep(0.05)

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGSTOP)
        return super().step(t, inputs)


class SpawnsGrandchild(SafetySupervisor):
    """Starts a long-lived child process, marked, and then behaves."""

    def __init__(self) -> None:
        super().__init__()
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", _marker()],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)


class DetachedGrandchild(SafetySupervisor):
    """Starts a child in its own process group (not its own session), and behaves."""

    def __init__(self) -> None:
        super().__init__()
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", _marker()],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, process_group=0)


class KillsTheBench(SafetySupervisor):
    """Kills the process that runs it — the bench — with SIGKILL at its hundredth step (a
    signal no handler can catch)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        self.steps += 1
        if self.steps == 100:
            os.kill(os.getppid(), signal.SIGKILL)
        return super().step(t, inputs)


class SessionGrandchild(SafetySupervisor):
    """Starts a child in a session of its own (as a daemon would), and behaves."""

    def __init__(self) -> None:
        super().__init__()
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", _marker()],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)


class MemoryHog(SafetySupervisor):
    """Grows by 16 MB (written, so really resident) per step until something stops it."""

    def __init__(self) -> None:
        super().__init__()
        self.hoard: list[bytearray] = []

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        self.hoard.append(bytearray(16 * 1024 * 1024))
        return super().step(t, inputs)


class FloodsStdout(SafetySupervisor):
    """Writes 64 kB to stdout (print and fd 1) at every step."""

    BLOCK = "x" * (32 * 1024)

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        print(self.BLOCK)
        os.write(1, self.BLOCK.encode())
        return super().step(t, inputs)


class ForgetsFaults(SafetySupervisor):
    """A realistic defect for the attacks below to hide: a latched fault clears itself 2 s
    after it appeared, once its condition has healed (as if a reset had been requested)."""

    def reset(self) -> None:
        super().reset()
        self._since: float | None = None

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        if self._since is not None and t - self._since > 2.0:
            inputs = {**inputs, "fault_reset_request": True}
        out = super().step(t, inputs)
        if not out["safety_fault_flags"]:
            self._since = None
        elif self._since is None:
            self._since = t
        return out


class FakesReplies(ForgetsFaults):
    """Forgets its faults (a defect the suite catches), and prints replies on stdout that
    hold the fault latched: if the bench read them, the defect would be hidden."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 1

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super().step(t, inputs)
        latched = dict(out, contactor_open_request=True)
        for id_ in range(self.calls, self.calls + 20):
            line = (f'{{"jsonrpc": "2.0", "id": {id_}, '
                    f'"result": {{"safety_supervisor": {_json(latched)}}}}}')
            print(line, flush=True)
            os.write(1, (line + "\n").encode())
        self.calls += 1
        return out


def _json(record: dict[str, Any]) -> str:
    import json

    return json.dumps({k: (v.item() if hasattr(v, "item") else v) for k, v in record.items()})


class TampersWithInputs(ForgetsFaults):
    """Forgets its faults, and after each step tries to rewrite its cell voltage input to a
    harmless 3.7 V (making the read-only array writeable first): in the bench's process this
    would change the data the bench records and judges, and what the module sees next."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super().step(t, inputs)
        cells = inputs["cell_voltage_V"]
        try:
            cells.flags.writeable = True
        except ValueError:
            self.refused = True
            return out
        cells[...] = 3.7
        return out


class KillsParent(SafetySupervisor):
    """Sends SIGTERM to the process that started it (the bench)."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        os.kill(os.getppid(), signal.SIGTERM)
        time.sleep(1)
        return super().step(t, inputs)


class SlowButCorrect(SafetySupervisor):
    """The reference, 2 ms slower per step: a run long enough to be stopped on the way."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        time.sleep(0.002)
        return super().step(t, inputs)
