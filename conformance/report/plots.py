"""Evidence plots as PNG files, exported on request (``obsa certify --png`` writes them
to ``evidence-png/`` beside the report).

report.html draws its plots in the reader's browser; this module draws the same plots
(the same panels, :mod:`.panels`) with matplotlib for whoever needs image files: a
document, a ticket, a mail. matplotlib is imported only here and only when a PNG is asked
for, so a certification that does not ask never loads it. It is used through its object
API with the Agg canvas: no global pyplot state, no display needed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from .files import write_bytes_atomic
from .model import Evidence, Report
from .panels import MAX_POINTS, channel_arrays, choose_panels, envelope, figures

DPI = 72

__all__ = ["DPI", "MAX_POINTS", "envelope", "png_name", "trace_png", "write_pngs"]


def trace_png(evidence: Evidence, title: str = "") -> bytes | None:
    """PNG of the evidence trace; None when there is nothing to plot."""
    arrays = channel_arrays(evidence)
    panels = choose_panels(evidence, arrays)
    if not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    t = np.asarray(evidence.t_s, dtype=float)
    height_in = 0.7 + 1.5 * len(panels)
    fig = Figure(figsize=(7.5, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    # fixed margins: tight_layout would cost a second full draw
    fig.subplots_adjust(left=0.1, right=0.98, hspace=0.12,
                        top=1 - 0.45 / height_in, bottom=0.4 / height_in)
    axes: Any = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    events = sorted(evidence.events.items(), key=lambda e: e[1])
    for ax, panel in zip(axes, panels, strict=True):
        for k in panel.channels:
            tt, vv = envelope(t, arrays[k])
            ax.plot(tt, vv, label=evidence.channels[k].name, linewidth=1.0,
                    drawstyle="steps-post" if panel.steps else "default")
        ax.set_ylabel(panel.label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=panel.steps))
        ax.grid(True, linewidth=0.3)
        ax.legend(fontsize=7, loc="upper left", framealpha=0.6)
        for k, (name, at) in enumerate(events):
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


def png_name(number: int, test_case: str) -> str:
    """``07-test_safety_supervisor.py-test_cell_overvoltage.png``: numbered like the
    report.html figures, the test case's node id reduced to characters safe in a file name."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", test_case).strip("-.")[:120]
    return f"{number:02d}-{slug or 'trace'}.png"


def write_pngs(report: Report, out_dir: Path | str) -> list[Path]:
    """One PNG per test case that recorded a trace (the plots of report.html), in
    ``out_dir``; returns their paths."""
    out = Path(out_dir)
    written = []
    for number, fig in enumerate(figures(report)):
        png = trace_png(fig.evidence, f"{', '.join(fig.requirements)} — {fig.test_case}")
        if png is not None:
            written.append(write_bytes_atomic(out / png_name(number, fig.test_case), png))
    return written
