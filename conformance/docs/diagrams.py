"""Graphviz (dot) sources of the architecture diagrams, drawn from the spec alone: the layers
and their components, the BMU/CMU topology, and the signal flow of each profile."""

from __future__ import annotations

from collections import defaultdict

from ..spec.loader import Spec

FONT = 'fontname="Helvetica", fontsize=11'
NODE_COLOURS = {"master": "#d6e4f0", "slave": "#e2f0d9", "gateway": "#fbe5d6"}


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def layers(spec: Spec, per_row: int = 4) -> str:
    """One box per layer, the highest on top, its components in rows inside it, each
    coloured by the node it runs on."""
    role = {n.id: n.role for n in spec.architecture.topology.nodes}
    out = ["digraph layers {", f"  graph [{FONT}, rankdir=TB, nodesep=0.3, ranksep=0.15];",
           f"  node [{FONT}, shape=plaintext];"]
    ordered = sorted(spec.architecture.layers, key=lambda layer: layer.order, reverse=True)
    for layer in ordered:
        comps = [c for c in spec.architecture.components if c.layer == layer.id]
        rows = [comps[i:i + per_row] for i in range(0, len(comps), per_row)] or [[]]
        cells = []
        for row in rows:
            tds = "".join(
                f'<td bgcolor="{NODE_COLOURS.get(role.get(c.node, ""), "#eeeeee")}" '
                f'cellpadding="6">{_html(c.title)}<br/><font point-size="9">{_html(c.id)} '
                f"({_html(c.node)})</font></td>" for c in row)
            cells.append(f"<tr>{tds}</tr>")
        label = (f'<<table border="1" cellborder="1" cellspacing="4" color="#888888">'
                 f'<tr><td colspan="{per_row}" border="0"><b>{layer.order} · '
                 f"{_html(layer.title)}</b></td></tr>{''.join(cells)}</table>>")
        out.append(f"  {layer.id} [label={label}];")
    for high, low in zip(ordered, ordered[1:], strict=False):
        out.append(f"  {high.id} -> {low.id} [style=invis];")
    legend = " ".join(
        f'<td bgcolor="{colour}">{_html(r)}</td>' for r, colour in NODE_COLOURS.items())
    out.append(f'  legend [label=<<table border="0" cellspacing="4"><tr><td>node role:</td>'
               f"{legend}</tr></table>>];")
    out.append(f"  {ordered[-1].id} -> legend [style=invis];")
    out.append("}")
    return "\n".join(out) + "\n"


def topology(spec: Spec) -> str:
    """The nodes (role and multiplicity) and the buses between them."""
    topo = spec.architecture.topology
    out = ["digraph topology {", f"  graph [{FONT}, rankdir=LR];",
           f"  node [{FONT}, shape=box3d, style=filled];", f"  edge [{FONT}, dir=both];"]
    for node in topo.nodes:
        comps = [c.id for c in spec.architecture.components if c.node == node.id]
        label = f"{node.title}\n{node.role}, ×{node.multiplicity}\n" + "\n".join(comps)
        out.append(f"  {node.id} [label={_q(label)}, "
                   f'fillcolor="{NODE_COLOURS.get(node.role, "#eeeeee")}"];')
    for link in topo.links:
        out.append(f"  {link.source} -> {link.target} [label={_q(link.bus)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _label(signals: list[str], limit: int = 10) -> str:
    shown = signals[:limit]
    if len(signals) > limit:
        shown.append(f"… {len(signals) - limit} more")
    return "\n".join(shown)


def signal_flow(spec: Spec, profile_id: str) -> str:
    """The components of a profile in execution order, each edge the signals one produces
    and another reads; what no component of the profile produces comes from a component
    outside the profile (dashed), from the plant (the bench's physical truth) or from the
    vehicle, the charger or the operator; outputs no component of the profile reads leave
    it."""
    profile = spec.profiles[profile_id]
    comps = [c for c in profile.components if c in spec.interfaces]
    producers: dict[str, list[str]] = defaultdict(list)
    for c in comps:
        for port in spec.interfaces[c].outputs:
            producers[port.signal].append(c)
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    read: set[str] = set()
    for c in comps:
        for port in spec.interfaces[c].inputs:
            read.add(port.signal)
            sources = [p for p in producers.get(port.signal, []) if p != c]
            if sources:
                for p in sources:
                    edges[(p, c)].append(port.signal)
                continue
            if port.signal in producers:  # the component reads its own output back
                continue
            outside = [p for p, itf in spec.interfaces.items() if p not in comps
                       and any(o.signal == port.signal for o in itf.outputs)]
            if outside:
                for p in outside:
                    edges[(f"ext_{p}", c)].append(port.signal)
                continue
            sig = spec.signals.get(port.signal)
            origin = sig.source if sig is not None and sig.source else "other"
            edges[(f"src_{origin}", c)].append(port.signal)
    for c in comps:
        for port in spec.interfaces[c].outputs:
            if port.signal not in read:
                edges[(c, "sink")].append(port.signal)
    titles = {"src_plant": "plant (bench)", "src_external": "vehicle, charger, operator",
              "src_other": "components outside the profile", "sink": "outputs of the profile"}
    out = [f"digraph flow_{profile_id} {{", f"  graph [{FONT}, rankdir=LR, ranksep=1.2];",
           f"  node [{FONT}, shape=box, style=\"rounded,filled\", fillcolor=\"#d6e4f0\"];",
           '  edge [fontname="Helvetica", fontsize=9];']
    used = {n for pair in edges for n in pair}
    for n, title in titles.items():
        if n in used:
            out.append(f'  {n} [label={_q(title)}, shape=note, fillcolor="#f2f2f2"];')
    for n in sorted(u for u in used if u.startswith("ext_")):
        comp = n.removeprefix("ext_")
        title = spec.components[comp].title if comp in spec.components else comp
        label = _q(title + " (outside the profile)")
        out.append(f'  {n} [label={label}, style="rounded,dashed", fillcolor="#ffffff"];')
    for i, c in enumerate(comps, start=1):
        title = spec.components[c].title if c in spec.components else c
        out.append(f"  {c} [label={_q(str(i) + '. ' + title)}];")
    for (a, b), signals in edges.items():
        out.append(f"  {a} -> {b} [label={_q(_label(sorted(set(signals))))}];")
    out.append("}")
    return "\n".join(out) + "\n"
