"""The search tree drawn for people: goals as boxes by depth, tactic edges coloured by status."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt

COLOURS = {"proved": "#2e7d32", "failed": "#c62828", "open": "#546e7a"}


def tree_svg(tree: dict, title: str, max_nodes: int = 60) -> str:
    nodes = sorted(tree.get("nodes", []), key=lambda n: (n["depth"], -n["visits"]))[:max_nodes]
    keep = {n["id"] for n in nodes}
    by_depth: dict[int, list[dict]] = {}
    for n in nodes:
        by_depth.setdefault(n["depth"], []).append(n)
    pos = {}
    width = max((len(v) for v in by_depth.values()), default=1)
    for depth, row in by_depth.items():
        for i, n in enumerate(row):
            pos[n["id"]] = ((i + 0.5) * width / len(row), -depth)
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * width), max(3, 1.4 * (len(by_depth) + 1))))
    ax.axis("off")
    ax.set_title(f"search tree: {title}", fontsize=10)
    for e in tree.get("edges", []):
        if e["from"] not in keep:
            continue
        x0, y0 = pos[e["from"]]
        targets = [t for t in e["to"] if t in keep] or [None]
        for t in targets:
            x1, y1 = pos[t] if t is not None else (x0, y0 - 0.45)
            ax.plot([x0, x1], [y0, y1], color=COLOURS.get(e["status"], "#9e9e9e"), lw=1.0, alpha=0.8)
        if e["status"] != "failed" or len(tree["edges"]) < 40:
            ax.text((x0 + (pos[targets[0]][0] if targets[0] is not None else x0)) / 2, y0 - 0.45,
                    e["tactic"][:28], fontsize=6, ha="center", color=COLOURS.get(e["status"], "#616161"))
    for n in nodes:
        x, y = pos[n["id"]]
        target = n["goal"].split("⊢", 1)[-1].strip()
        ax.text(x, y, target[:40] + ("…" if len(target) > 40 else ""), fontsize=6.5, ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": COLOURS.get(n["status"], "#9e9e9e")})
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]
