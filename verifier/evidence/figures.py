"""Inline SVG figures for the report (matplotlib's SVG backend; nothing fetched at view time)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt
import networkx as nx

from verifier.evidence.records import RequirementAssessment

matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, selectable
matplotlib.rcParams["svg.hashsalt"] = "quantproof"  # deterministic ids


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})  # reproducible
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def trace_svg(requirements: tuple[RequirementAssessment, ...]) -> str:
    """Requirements (left) -> theorems (middle) -> checks (right); red edges are suspect or failing links."""
    graph = nx.DiGraph()
    status = {}
    for req in requirements:
        graph.add_node(req.id, layer=0)
        status[req.id] = req.status
        for t in req.theorems:
            graph.add_node(t.name, layer=1)
            graph.add_edge(req.id, t.name, ok=t.status == "proved" and t.review == "reviewed")
        for p in req.properties:
            graph.add_node(p.name, layer=2)
            graph.add_edge(req.id, p.name, ok=p.passed)
        for d in req.differential:
            node = f"Lean = NumPy: {d.name}"
            graph.add_node(node, layer=2)
            graph.add_edge(req.id, node, ok=d.passed)
    layers: dict[int, list[str]] = {0: [], 1: [], 2: []}
    for node, data in graph.nodes(data=True):
        layers[data["layer"]].append(node)
    pos = {}
    tallest = max(len(v) for v in layers.values()) or 1
    for layer, nodes in layers.items():
        for i, node in enumerate(nodes):
            pos[node] = (layer * 3.0, -(i + 0.5) * tallest / max(len(nodes), 1))
    fig, ax = plt.subplots(figsize=(13, max(4, 0.28 * tallest)))
    ax.axis("off")
    for u, v, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.plot([x0, x1], [y0, y1], color="#2e7d32" if data["ok"] else "#c62828", lw=0.8, alpha=0.7)
    for node, (x, y) in pos.items():
        layer = graph.nodes[node]["layer"]
        colour = ("#2e7d32" if status.get(node) == "PASS" else "#c62828") if layer == 0 else "#37474f"
        label = node.removeprefix("Quantproof.")
        ax.text(x, y, label, fontsize=7 if layer else 9, ha="right" if layer == 0 else "left", va="center",
                color=colour, fontweight="bold" if layer == 0 else "normal",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "lw": 0.6})
    ax.set_xlim(-2.5, 9)
    return _svg(fig)


def summary_svg(counts: list[tuple[str, int, int]]) -> str:
    """Horizontal bars: passed out of total, per kind of evidence."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(counts) + 0.4))
    labels = [c[0] for c in counts]
    ax.barh(labels, [c[2] for c in counts], color="#eeeeee", edgecolor="#9e9e9e")
    ax.barh(labels, [c[1] for c in counts], color=["#2e7d32" if c[1] == c[2] else "#c62828" for c in counts])
    for i, (_, ok, total) in enumerate(counts):
        ax.text(max(total, 1) * 1.01, i, f"{ok}/{total}", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xticks([])
    return _svg(fig)
