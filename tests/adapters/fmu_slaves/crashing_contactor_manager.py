"""The example's contactor manager FMU, made to fail in doStep after ``fail_after_s``:
``how="raise"`` raises (pythonfmu returns fmi2Fatal), ``how="discard"`` reports the step as
not done (fmi2Discard), ``how="abort"`` kills the process."""

import os

from contactor_manager_fmu import ContactorManagerFmu


class CrashingContactorManager(ContactorManagerFmu):
    def __init__(self, fail_after_s=0.05, how="raise", **kwargs):
        super().__init__(**kwargs)
        self.fail_after_s = fail_after_s
        self.how = how

    def do_step(self, current_time, step_size):
        if current_time + step_size > self.fail_after_s:
            if self.how == "abort":
                os.abort()
            if self.how == "discard":
                return False
            raise RuntimeError(f"deliberate failure at t={current_time + step_size:g} s")
        return super().do_step(current_time, step_size)
