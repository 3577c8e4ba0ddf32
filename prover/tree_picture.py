"""The search tree drawn for people: goals as boxes, tactics on the edges, the proof in bold green.

Failed tactics are not drawn one by one (there are many); each goal shows how many failed. Only goals
reachable through tactics that did not fail are drawn, nearest first, up to a limit.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt

COLOURS = {"proved": "#2e7d32", "failed": "#c62828", "open": "#546e7a"}


def _layout(children: dict[int, list[int]], root: int) -> dict[int, tuple[float, float]]:
    """Leaves get consecutive x slots, a parent sits above the middle of its children."""
    pos: dict[int, tuple[float, float]] = {}
    next_x = [0.0]

    def place(node: int, depth: int, seen: frozenset[int]) -> float:
        kids = [k for k in children.get(node, []) if k not in seen and k not in pos]
        if not kids:
            x = next_x[0]
            next_x[0] += 1.0
        else:
            xs = [place(k, depth + 1, seen | {node}) for k in kids]
            x = (min(xs) + max(xs)) / 2
        pos.setdefault(node, (x, -1.6 * depth))
        return pos[node][0]

    place(root, 0, frozenset())
    return pos


def tree_svg(tree: dict, title: str, max_nodes: int = 40) -> str:
    nodes = {n["id"]: n for n in tree.get("nodes", [])}
    root = tree.get("root")
    edges = [e for e in tree.get("edges", []) if e["status"] != "failed"]
    failed = {}
    for e in tree.get("edges", []):
        if e["status"] == "failed":
            failed[e["from"]] = failed.get(e["from"], 0) + 1
    children: dict[int, list[int]] = {}
    labels: dict[tuple[int, int], tuple[str, str]] = {}
    order = sorted(edges, key=lambda e: (e["status"] != "proved", -e["visits"]))
    if any(e["status"] == "proved" for e in edges):
        # a proof exists: draw it, with at most two other open alternatives per goal
        shown: dict[int, int] = {}
        kept = []
        for e in order:
            if e["status"] == "proved" or shown.get(e["from"], 0) < 2:
                kept.append(e)
                shown[e["from"]] = shown.get(e["from"], 0) + (e["status"] != "proved")
        order = kept
    keep = {root}
    for e in order:
        for t in e["to"]:
            if len(keep) >= max_nodes and t not in keep:
                continue
            if e["from"] in keep or len(keep) < max_nodes:
                children.setdefault(e["from"], []).append(t)
                labels[(e["from"], t)] = (e["tactic"], e["status"])
                keep.update({e["from"], t})
    closing = list({e["from"]: e for e in reversed(order) if not e["to"] and e["status"] == "proved"}.values())
    if root is None or root not in nodes:
        return "<svg xmlns='http://www.w3.org/2000/svg'/>"
    pos = _layout(children, root)
    width = max(x for x, _ in pos.values()) + 1
    depth = -min(y for _, y in pos.values()) / 1.6 + 1
    fig, ax = plt.subplots(figsize=(min(40, max(7, 2.6 * width)), max(2.5, 1.5 * depth)))
    ax.axis("off")
    ax.set_title(f"search tree of {title} (failed tactics counted per goal)", fontsize=9)
    for (a, b), (tactic, status) in labels.items():
        if a in pos and b in pos:
            (x0, y0), (x1, y1) = pos[a], pos[b]
            proved = status == "proved"
            ax.plot([x0, x1], [y0, y1], color=COLOURS.get(status, "#9e9e9e"), lw=2.4 if proved else 0.8, zorder=1)
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, tactic[:30], fontsize=6, ha="center", va="center", zorder=3,
                    color=COLOURS.get(status, "#616161"), bbox={"boxstyle": "round,pad=0.1", "fc": "#fafafa",
                                                                 "ec": "none", "alpha": 0.9})
    for e in closing:
        if e["from"] in pos:
            x, y = pos[e["from"]]
            ax.text(x, y - 0.55, f"✓ {e['tactic'][:30]}", fontsize=6, ha="center", color=COLOURS["proved"])
    for nid, (x, y) in pos.items():
        node = nodes.get(nid)
        if node is None:
            continue
        target = node["goal"].split("⊢", 1)[-1].strip().replace("\n", " ")
        text = target[:44] + ("…" if len(target) > 44 else "")
        if failed.get(nid):
            text += f"\n{failed[nid]} tactics failed"
        ax.text(x, y, text, fontsize=6.5, ha="center", va="center", zorder=4,
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": COLOURS.get(node["status"], "#9e9e9e"),
                      "lw": 1.4})
    ax.set_xlim(-0.8, width - 0.2)
    ax.set_ylim(-1.6 * depth + 0.6, 0.8)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]
