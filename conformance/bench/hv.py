"""The HV circuit: three contactors, precharge resistor, DC-link capacitor, load.

Topology: pack+ → main positive → link+; pack+ → precharge contactor → precharge
resistor → link+; pack− → main negative → link−; a bleeder resistor across the link.

* main positive and main negative closed: the link is the pack terminal voltage and the
  demanded load current flows (positive = charge). Closing onto a link that is not
  precharged moves its charge in one instant; every closing is logged with the voltage
  step, so a test can see an unprecharged close.
* precharge and main negative closed (main positive open): the link charges through the
  precharge resistor and the pack's R0; the RC is integrated exactly (Thevenin source
  with the bleeder), and the pack current is that capacitor's charging current.
* otherwise: no pack current; the link discharges through the bleeder.

Contactor faults act here, on the contacts; the feedback reads the contact state.

With ``power_path: fets`` the path is instead a charge and a discharge MOSFET in series,
back to back: the demanded current flows into the pack while the charge switch conducts
and out of it while the discharge switch conducts (the other switch's body diode carries
it); each switch follows its command at the next step. The link is then the pack terminal
voltage while a switch conducts, and there is nothing to precharge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .cells import SeriesString
from .clock import Clock
from .config import BenchConfig

CONTACTORS = ("main_positive", "main_negative", "precharge")
FETS = ("charge_fet", "discharge_fet")


def circuit_for(pack_max_V: float, precharge_tolerance_V: float, precharge_timeout_s: float,
                feedback_timeout_s: float) -> dict[str, float]:
    """The HV circuit a designer would build for a declared pack and contactor manager, as
    BenchConfig fields: a module is judged with hardware that fits its declaration.

    * precharge resistor: the link reaches half the declared tolerance within half the
      declared precharge timeout (at most the default 80 Ω);
    * bleeder: its divider holds the precharged link at most a tenth of the tolerance below
      the pack (at least the default 100 kΩ), so that precharge can complete;
    * contactors: they move within half the declared feedback timeout (at most the default
      30 ms closing, 15 ms opening).
    """
    d = BenchConfig
    e_folds = math.log(max(pack_max_V / (0.5 * precharge_tolerance_V), math.e))
    rp = min(d.precharge_resistance_ohm,
             0.5 * precharge_timeout_s / (d.link_capacitance_F * e_folds))
    half = 0.5 * feedback_timeout_s
    return {
        "precharge_resistance_ohm": rp,
        "bleeder_resistance_ohm": max(d.bleeder_resistance_ohm,
                                      rp * pack_max_V / (0.1 * precharge_tolerance_V)),
        "contactor_close_delay_s": min(d.contactor_close_delay_s, half),
        "contactor_open_delay_s": min(d.contactor_open_delay_s, half),
    }


class Contactor:
    """Coil command → contacts close/open after a fixed delay (whole steps, at least one)."""

    __slots__ = ("name", "commanded", "closed", "cmd_step", "close_steps", "open_steps",
                 "welded", "fail_to_close")

    def __init__(self, name: str, close_steps: int, open_steps: int) -> None:
        self.name = name
        self.commanded = False
        self.closed = False
        self.cmd_step = 0
        self.close_steps = close_steps
        self.open_steps = open_steps
        self.welded = False  # set by an active fault: closed contacts do not open
        self.fail_to_close = False  # set by an active fault: contacts do not close

    def command(self, close: bool, step: int) -> None:
        if close != self.commanded:
            self.commanded = close
            self.cmd_step = step

    def update(self, step: int) -> bool:
        """Move the contacts for the new step; True when they changed."""
        if self.commanded:
            if (not self.closed and not self.fail_to_close
                    and step - self.cmd_step >= self.close_steps):
                self.closed = True
                return True
        elif self.closed and not self.welded and step - self.cmd_step >= self.open_steps:
            self.closed = False
            return True
        return False


@dataclass
class MainPathClosing:
    """The moment the main path closed, with the voltage step across main positive."""

    t_s: float
    link_voltage_V: float
    pack_voltage_V: float

    @property
    def voltage_step_V(self) -> float:
        return self.pack_voltage_V - self.link_voltage_V


@dataclass
class HvCircuit:
    """State and step of the HV circuit; time constants precomputed for the fixed dt."""

    cfg: BenchConfig
    cells: SeriesString
    clock: Clock
    load_current_A: float = 0.0
    link_voltage_V: float = 0.0
    current_A: float = 0.0
    pack_voltage_V: float = 0.0
    open_resistor: bool = False  # precharge resistor open (fault)
    shorted_link: bool = False  # DC link shorted (fault)
    closings: list[MainPathClosing] = field(default_factory=list)

    def __post_init__(self) -> None:
        cfg, clock = self.cfg, self.clock
        close_steps = clock.steps_for(cfg.contactor_close_delay_s, minimum=1)
        open_steps = clock.steps_for(cfg.contactor_open_delay_s, minimum=1)
        self.contactors = tuple(Contactor(name, close_steps, open_steps) for name in CONTACTORS)
        self.main_positive, self.main_negative, self.precharge = self.contactors
        self.fets = tuple(Contactor(name, 1, 1) for name in FETS)
        self.charge_fet, self.discharge_fet = self.fets
        self.switched = cfg.power_path == "fets"
        dt, c, rb = cfg.dt_s, cfg.link_capacitance_F, cfg.bleeder_resistance_ohm
        self._a_bleed = math.exp(-dt / (rb * c))
        # precharge: source E behind R_s = R_pre + R_pack, bleeder R_b across the link
        r_s = cfg.precharge_resistance_ohm + self.cells.pack_r0_ohm
        self.precharge_series_ohm = r_s
        self.precharge_divider = rb / (rb + r_s)
        self.precharge_tau_s = c * r_s * rb / (r_s + rb)
        a = math.exp(-dt / self.precharge_tau_s)
        self._a_pre = a
        self._avg_pre = (1.0 - a) * self.precharge_tau_s / dt  # mean of the decaying part
        self._path_was_closed = False
        self._settle()

    # ---- step ----------------------------------------------------------------------------
    def advance(self) -> None:
        """Integrate [t, t+dt] with the contacts of t, then move the contacts to t+dt."""
        cells = self.cells
        mp, mn, pc = self.main_positive.closed, self.main_negative.closed, self.precharge.closed
        if self.switched:
            i_avg = self.current_A
            if not (self.charge_fet.closed or self.discharge_fet.closed):
                self.link_voltage_V *= self._a_bleed
        elif mn and mp:
            i_avg = self.current_A
        elif mn and pc and not self.open_resistor:
            e = cells.source_voltage_V()
            r_s = self.precharge_series_ohm
            if self.shorted_link:
                i_avg = -e / r_s
                self.link_voltage_V = 0.0
            else:
                v_inf = e * self.precharge_divider
                dv0 = self.link_voltage_V - v_inf
                i_avg = (v_inf + dv0 * self._avg_pre - e) / r_s
                self.link_voltage_V = v_inf + dv0 * self._a_pre
        else:
            i_avg = 0.0
            self.link_voltage_V = 0.0 if self.shorted_link else self.link_voltage_V * self._a_bleed
        cells.step(i_avg)
        clock = self.clock
        clock.tick()
        step = clock.step
        for c in self.fets if self.switched else self.contactors:
            if c.commanded is not c.closed:  # only a pending change can move the contacts
                c.update(step)
        self._settle()

    def _settle(self) -> None:
        """Instantaneous current and voltages for the contacts of now."""
        cells = self.cells
        e = cells.source_voltage_V()
        r_int = cells.pack_r0_ohm
        if self.switched:
            self._settle_switched(e, r_int)
            return
        mp, mn, pc = self.main_positive.closed, self.main_negative.closed, self.precharge.closed
        path_closed = mp and mn
        if path_closed:
            if self.shorted_link:
                i = -e / (r_int + self.cfg.link_short_resistance_ohm)
                self.link_voltage_V = 0.0
            else:
                i = self.load_current_A
                v_pack = e + r_int * i
                if not self._path_was_closed:
                    self.closings.append(MainPathClosing(self.clock.t, self.link_voltage_V, v_pack))
                    cells.add_charge(-self.cfg.link_capacitance_F * (v_pack - self.link_voltage_V))
                self.link_voltage_V = v_pack
        elif mn and pc and not self.open_resistor:
            v_link = 0.0 if self.shorted_link else self.link_voltage_V
            self.link_voltage_V = v_link
            i = (v_link - e) / self.precharge_series_ohm
        else:
            i = 0.0
            if self.shorted_link:
                self.link_voltage_V = 0.0
        self._path_was_closed = path_closed
        self.current_A = i
        self.pack_voltage_V = e + r_int * i

    def _settle_switched(self, e: float, r_int: float) -> None:
        """The switch-per-direction path: the demanded current if its direction conducts."""
        demand = self.load_current_A
        if demand > 0.0:
            i = demand if self.charge_fet.closed else 0.0
        else:
            i = demand if self.discharge_fet.closed else 0.0
        self.current_A = i
        self.pack_voltage_V = e + r_int * i
        if self.charge_fet.closed or self.discharge_fet.closed:
            self.link_voltage_V = self.pack_voltage_V

    def set_load_current(self, current_A: float) -> None:
        self.load_current_A = float(current_A)
        self._settle()
