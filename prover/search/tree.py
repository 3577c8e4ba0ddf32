"""The AND/OR search graph: goal nodes (OR over tactics) and tactic edges (AND over resulting goals).

A goal is proved when one of its edges is; an edge is proved when all its goals are (MCTS-solver
propagation). A goal fails when every candidate was tried and every edge failed; an edge fails when
one of its goals fails, or when it makes no progress (a resulting goal is the goal itself). Goals
are shared by normalised text (a transposition table), so the graph is a DAG.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lean_dojo import TacticState

from prover.goals import Goal, normalize
from prover.policy.candidates import Candidate

OPEN, PROVED, FAILED = "open", "proved", "failed"


def goal_value(goal: Goal) -> float:
    """Heuristic value in (0, 1]: small goals with little context are nearer to done."""
    size = len(goal.target) + 0.3 * sum(len(h.type) for h in goal.hyps)
    return 1.0 / (1.0 + size / 150.0)


@dataclass(eq=False)
class GoalNode:
    key: str
    state: TacticState
    goal: Goal
    depth: int
    value: float
    candidates: list[Candidate] = field(default_factory=list)
    next_candidate: int = 0
    edges: list[Edge] = field(default_factory=list)
    parents: list[Edge] = field(default_factory=list)
    status: str = OPEN
    visits: int = 0
    value_sum: float = 0.0  # what simulations through this goal found below it (MCTS only)
    value_count: int = 0
    pending: int = 0  # candidates taken and not yet answered by Lean
    expanded: bool = False
    # the edge that proved this goal first: its goals were proved earlier, so following these edges
    # never loops (a later proved edge may lead back here through a transposition)
    proved_by: Edge | None = None

    @property
    def untried(self) -> int:
        return len(self.candidates) - self.next_candidate

    @property
    def estimate(self) -> float:
        """The goal's value updated by what the search found below it: the heuristic counts as one
        visit, and each simulation through the goal adds the value it brought back (HTPS-style). Without
        simulations (best-first) it is the heuristic alone."""
        if self.status == PROVED:
            return 1.0
        if self.status == FAILED:
            return 0.0
        return (self.value + self.value_sum) / (1 + self.value_count)


@dataclass(eq=False)
class Edge:
    tactic: str
    prior: float
    parent: GoalNode
    children: list[GoalNode] = field(default_factory=list)
    status: str = OPEN
    visits: int = 0
    value_sum: float = 0.0
    message: str = ""
    inflight: int = 0  # simulations of the current batch passing through (virtual loss)
    rejected: bool = False  # part of a found proof that did not verify: never counts as proved again

    @property
    def q(self) -> float:
        if self.status == PROVED:
            return 1.0
        return self.value_sum / self.visits if self.visits else self.static_value

    @property
    def static_value(self) -> float:
        return self.value_besides(None)

    def value_besides(self, skip: GoalNode | None) -> float:
        """The product of the open goals' values, leaving out `skip` (whose value a simulation brings)."""
        value = 1.0
        for child in self.children:
            if child is not skip:
                value *= child.estimate
        return value


class Graph:
    """Nodes by normalised goal text, the root, and status propagation."""

    def __init__(self, root_state: TacticState, root_goal: Goal, root_key: str | None = None) -> None:
        self.nodes: dict[str, GoalNode] = {}
        self.root = self.node(root_state, root_goal, 0, root_key)

    def node(self, state: TacticState, goal: Goal, depth: int, key: str | None = None) -> GoalNode:
        key = key or normalize(goal)
        if key not in self.nodes:
            self.nodes[key] = GoalNode(key, state, goal, depth, goal_value(goal))
        return self.nodes[key]

    def settle_goal(self, node: GoalNode) -> None:
        """Recompute a goal's status and propagate changes to the edges above it."""
        todo = [node]
        while todo:
            current = todo.pop()
            before = current.status
            proved = next((e for e in current.edges if e.status == PROVED), None)
            if proved is not None:
                current.status = PROVED
                current.proved_by = current.proved_by or proved
            elif (current.expanded and current.untried == 0 and current.pending == 0
                  and all(e.status == FAILED for e in current.edges)):
                current.status = FAILED
            if current.status == before:
                continue
            for edge in current.parents:
                if self._settle_edge(edge):
                    todo.append(edge.parent)

    @staticmethod
    def _settle_edge(edge: Edge) -> bool:
        before = edge.status
        if edge.rejected or any(c.status == FAILED for c in edge.children):
            edge.status = FAILED
        elif all(c.status == PROVED for c in edge.children):
            edge.status = PROVED
        return edge.status != before

    def add_edge(self, parent: GoalNode, candidate: Candidate, children: list[GoalNode], status: str,
                 message: str = "") -> Edge:
        edge = Edge(candidate.tactic, candidate.prior, parent, children, status, message=message)
        parent.pending = max(0, parent.pending - 1)
        if status == OPEN and any(c is parent for c in children):
            edge.status, edge.message = FAILED, "no progress: the goal comes back unchanged"
        parent.edges.append(edge)
        for child in children:
            child.parents.append(edge)
        if edge.status == OPEN:
            self._settle_edge(edge)
        self.settle_goal(parent)
        return edge

    def reject_proof(self, why: str) -> None:
        """The found proof did not verify: fail each of its edges and recompute every status from the
        edges Lean answered, so the search looks for another proof."""
        for node in self._proof_nodes():
            edge = node.proved_by
            if edge is not None:
                edge.rejected, edge.status, edge.message = True, FAILED, why[:300]
        for node in self.nodes.values():
            node.status, node.proved_by = OPEN, None
        for node in self.nodes.values():
            for edge in node.edges:
                if edge.children and not edge.rejected and edge.status != FAILED:
                    edge.status = OPEN
        for node in self.nodes.values():
            for edge in node.edges:
                if edge.children:
                    self._settle_edge(edge)
        for node in list(self.nodes.values()):
            self.settle_goal(node)

    def _proof_nodes(self) -> list[GoalNode]:
        out, stack, seen = [], [self.root], set()
        while stack:
            node = stack.pop()
            if id(node) in seen or node.proved_by is None:
                continue
            seen.add(id(node))
            out.append(node)
            stack.extend(node.proved_by.children)
        return out

    def proof(self) -> dict[int, tuple[str, list[int]]] | None:
        """For a proved root: state id -> (tactic, child state ids), choosing a proved edge at each goal."""
        if self.root.status != PROVED:
            return None
        steps: dict[int, tuple[str, list[int]]] = {}
        stack, seen = [(self.root, self.root.state.id)], set()
        while stack:
            node, sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            edge = node.proved_by
            assert edge is not None
            steps[sid] = (edge.tactic, [c.state.id for c in edge.children])
            stack.extend((c, c.state.id) for c in edge.children)
        return steps

    def to_json(self, limit: int = 400) -> dict:
        nodes = sorted(self.nodes.values(), key=lambda n: (n.depth, -n.visits))[:limit]
        index = {id(n): i for i, n in enumerate(nodes)}
        return {
            "root": index.get(id(self.root)),
            "nodes": [{"id": index[id(n)], "goal": n.goal.render(), "status": n.status, "visits": n.visits,
                       "value": round(n.value, 4), "depth": n.depth, "untried": n.untried} for n in nodes],
            "edges": [{"from": index[id(n)], "tactic": e.tactic, "prior": round(e.prior, 4), "status": e.status,
                       "visits": e.visits, "q": round(e.q, 4), "message": e.message[:200],
                       "to": [index[id(c)] for c in e.children if id(c) in index]}
                      for n in nodes for e in n.edges],
        }
