"""Evidence plots: the recorded trace around the event, as a PNG for the HTML report.

Channels are grouped into panels (cell voltages, currents, cell temperatures, other
voltages, fault flags, states and commands; flags and states drawn as steps); a panel of
flat lines is left out, except the flags and state panels. The evidence's
events are vertical lines on every panel. Long traces are reduced to a min/max envelope,
so a plot stays cheap and a one-sample spike stays visible. matplotlib is used through its
object API with the Agg canvas: no global pyplot state, no display needed.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .model import Evidence

MAX_LINES = 6
MAX_POINTS = 1500
DPI = 72


def envelope(t: np.ndarray, v: np.ndarray, max_points: int = MAX_POINTS
             ) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` samples, keeping the min and the max of every bucket."""
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


CELL_VOLTAGE_MAX_V = 10.0
"""A voltage channel above this (median) is a pack or link voltage, not a cell's."""


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


def _panels(evidence: Evidence, n: int) -> list[tuple[str, str, list[tuple[str, np.ndarray]]]]:
    groups: dict[str, list[tuple[str, np.ndarray]]] = {}
    units: dict[str, str] = {}
    for ch in evidence.channels:
        values = np.array(ch.values[:n], dtype=float)  # None becomes NaN
        if len(values) < n:
            values = np.concatenate([values, np.full(n - len(values), np.nan)])
        panel = panel_of(ch.name, ch.unit, values)
        groups.setdefault(panel, []).append((ch.name, values))
        units.setdefault(panel, ch.unit)
    out = []
    for panel, label, always in PANELS:
        lines = groups.get(panel, [])
        if not lines:
            continue
        if not always and all(np.nanmin(v) == np.nanmax(v) if np.isfinite(v).any() else True
                              for _, v in lines):
            continue  # a flat line tells nothing about the event
        out.append((panel, label or units[panel], lines[:MAX_LINES]))
    if not out:  # everything flat: still show what was recorded
        out = [(p, label or units[p], groups[p][:MAX_LINES]) for p, label, _ in PANELS
               if p in groups]
    return sorted(out[:MAX_PANELS], key=lambda p: DISPLAY.index(p[0]))


def trace_png(evidence: Evidence, title: str = "") -> bytes | None:
    """PNG of the evidence trace; None when there is nothing to plot."""
    if not evidence.channels or not evidence.t_s:
        return None
    t = np.asarray(evidence.t_s, dtype=float)
    panels = _panels(evidence, len(t))
    if not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    height_in = 0.7 + 1.5 * len(panels)
    fig = Figure(figsize=(7.5, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    # fixed margins: tight_layout would cost a second full draw
    fig.subplots_adjust(left=0.1, right=0.98, hspace=0.12,
                        top=1 - 0.45 / height_in, bottom=0.4 / height_in)
    axes: Any = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (panel, label, lines) in zip(axes, panels, strict=True):
        steps = panel in ("flags", "state")
        for name, values in lines:
            tt, vv = envelope(t, values)
            ax.plot(tt, vv, label=name, linewidth=1.0,
                    drawstyle="steps-post" if steps else "default")
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=steps))
        ax.grid(True, linewidth=0.3)
        ax.legend(fontsize=7, loc="upper left", framealpha=0.6)
        for k, (name, at) in enumerate(sorted(evidence.events.items(), key=lambda e: e[1])):
            ax.axvline(at, color="tab:red", linestyle="--", linewidth=0.8)
            if ax is axes[0]:  # labels alternate sides so close events stay readable
                ax.annotate(f"{name} " if k % 2 == 0 else f" {name}", (at, 1.0),
                            xycoords=("data", "axes fraction"), fontsize=7, color="tab:red",
                            va="bottom", ha="right" if k % 2 == 0 else "left")
    axes[-1].set_xlabel("t (s)", fontsize=8)
    axes[-1].xaxis.set_major_locator(MaxNLocator(nbins=6))  # fewer ticks: each is an artist
    if title:
        fig.suptitle(title, fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
