"""What the evidence plots show: one figure per test case that recorded a trace, and which
of its channels are drawn on which panel.

One choice for both drawings of a trace: the plot the reader's browser draws in report.html
and the PNG exported on request (:mod:`.plots`). Channels are grouped into panels (cell
voltages, currents, cell temperatures, other voltages, fault flags, states and commands;
flags and states drawn as steps); a panel of flat lines is left out, except the flags and
state panels. Numpy only: choosing panels must not load a plotting library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import Evidence, Report

MAX_LINES = 6
MAX_POINTS = 1500

PANELS: tuple[tuple[str, str, bool], ...] = (
    # (panel, y label, shown even when every channel in it is constant), in priority order
    ("flags", "fault flags", True),
    ("state", "state / command", True),
    ("cell_voltage", "cell voltage (V)", False),
    ("cell_temperature", "cell temperature (°C)", False),
    ("current", "current (A)", False),
    ("voltage", "voltage (V)", False),
    ("other", "", False),
)
"""Panels in priority order: the reaction (flags, states) first, then every quantity that
moved. At most MAX_PANELS are drawn, in the display order of DISPLAY."""
DISPLAY = ("cell_voltage", "cell_temperature", "current", "voltage", "other", "flags", "state")
MAX_PANELS = 4
STEP_PANELS = ("flags", "state")

CELL_VOLTAGE_MAX_V = 10.0
"""A voltage channel above this (median) is a pack or link voltage, not a cell's."""


@dataclass(frozen=True)
class Panel:
    """One panel of a trace plot: its y label and the channels drawn on it (by index)."""

    key: str
    label: str
    steps: bool
    channels: tuple[int, ...]


def panel_of(name: str, unit: str, values: np.ndarray) -> str:
    """Which panel a channel goes to: by name first (cell quantities), then by unit."""
    if name.startswith("cell_voltage") and unit == "V":
        finite = values[np.isfinite(values)]
        if not finite.size or float(np.median(np.abs(finite))) < CELL_VOLTAGE_MAX_V:
            return "cell_voltage"
    if name.startswith("cell_temperature") and unit == "degC":
        return "cell_temperature"
    if unit == "A":
        return "current"
    if unit == "V":
        return "voltage"
    if unit == "1":
        return "flags" if name.endswith("_flags") else "state"
    return "other"


def channel_arrays(evidence: Evidence) -> list[np.ndarray]:
    """Every channel's values as floats, one per sample time (NaN where none)."""
    n = len(evidence.t_s)
    out = []
    for ch in evidence.channels:
        values = np.array(ch.values[:n], dtype=float)  # None becomes NaN
        if len(values) < n:
            values = np.concatenate([values, np.full(n - len(values), np.nan)])
        out.append(values)
    return out


def _flat(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return not finite.size or bool(finite.min() == finite.max())


def choose_panels(evidence: Evidence, arrays: list[np.ndarray] | None = None) -> list[Panel]:
    """The panels of the evidence's plot, in display order; empty when nothing was recorded."""
    if not evidence.channels or not evidence.t_s:
        return []
    arrays = channel_arrays(evidence) if arrays is None else arrays
    groups: dict[str, list[int]] = {}
    units: dict[str, str] = {}
    for k, (ch, values) in enumerate(zip(evidence.channels, arrays, strict=True)):
        panel = panel_of(ch.name, ch.unit, values)
        groups.setdefault(panel, []).append(k)
        units.setdefault(panel, ch.unit)

    def make(key: str, label: str) -> Panel:
        return Panel(key, label or units[key], key in STEP_PANELS,
                     tuple(groups[key][:MAX_LINES]))

    chosen = [make(key, label) for key, label, always in PANELS
              if key in groups and (always or not all(_flat(arrays[i]) for i in groups[key]))]
    if not chosen:  # everything flat: still show what was recorded
        chosen = [make(key, label) for key, label, _ in PANELS if key in groups]
    return sorted(chosen[:MAX_PANELS], key=lambda p: DISPLAY.index(p.key))


def envelope(t: np.ndarray, v: np.ndarray, max_points: int = MAX_POINTS
             ) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` samples, keeping the min and the max of every bucket, so a
    long trace stays cheap to draw and a one-sample spike stays visible."""
    n = len(t)
    if n <= max_points:
        return t, v
    buckets = max_points // 2
    width = -(-n // buckets)
    grid = np.concatenate([v, np.full(buckets * width - n, np.nan)]).reshape(buckets, width)
    nan = np.isnan(grid)
    lo = np.argmin(np.where(nan, np.inf, grid), axis=1)
    hi = np.argmax(np.where(nan, -np.inf, grid), axis=1)
    base = np.arange(buckets) * width
    idx = np.unique(np.concatenate([base + lo, base + hi]))
    idx = idx[idx < n]
    return t[idx], v[idx]


@dataclass
class Figure:
    """One test case's plot: its anchor, what it verifies and its trace."""

    anchor: str
    test_case: str
    requirements: list[str]
    evidence: Evidence


def figures(report: Report) -> list[Figure]:
    """One figure per test case that recorded a trace. The results of one test case share
    its trace, so their events are drawn together on one plot."""
    by_case: dict[str, Figure] = {}
    for r in report.results:
        ev = r.evidence
        if not (ev.channels and ev.t_s):
            continue
        fig = by_case.get(r.test_case)
        if fig is None:
            by_case[r.test_case] = Figure(f"evidence-{len(by_case)}", r.test_case,
                                          [r.requirement], ev)
        else:
            fig.requirements.append(r.requirement)
            fig.evidence = fig.evidence.model_copy(
                update={"events": {**fig.evidence.events, **ev.events}})
    return list(by_case.values())
