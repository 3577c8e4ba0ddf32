"""The search loop shared by MCTS and best-first: select (goal, tactic) pairs, evaluate them in one
batch, grow the graph, propagate; stop on a proof, a dead root, or an exhausted budget."""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from lean_dojo import LeanError, ProofFinished, TacticState

from prover.env.base import ProofEnv
from prover.policy.candidates import CLOSERS, Candidate, Policy
from prover.policy.sweeps import sweep
from prover.search.tree import FAILED, OPEN, PROVED, Edge, GoalNode, Graph


@dataclass(frozen=True)
class Budget:
    """Stop after `seconds` of wall time or `lean_calls` tactic evaluations, whichever comes first."""

    seconds: float = 120.0
    lean_calls: int = 1_000_000


@dataclass(frozen=True)
class SearchConfig:
    batch_size: int = 40
    simulations_per_batch: int = 16
    expand_first: int = 8
    expand_more: int = 3
    widen_c: float = 2.0
    widen_alpha: float = 0.5
    c_puct: float = 1.5


@dataclass
class SearchResult:
    theorem: str
    method: str
    proved: bool
    script: str | None
    elapsed_s: float
    lean_calls: int
    lean_processes: int
    batches: int
    nodes: int
    solved_at_s: float | None = None
    solved_at_calls: int | None = None
    stopped: str = ""
    tree: dict = field(default_factory=dict)


Selection = list[tuple[GoalNode, Candidate, list[Edge]]]


class Search:
    """Owns the graph; `select` is the method (MCTS or best-first)."""

    method = "search"

    def __init__(self, env: ProofEnv, policy: Policy, config: SearchConfig | None = None) -> None:
        self.env, self.policy = env, policy
        self.config = config or SearchConfig()
        self.started = False
        self.carried: Selection = []  # taken, not run: the batch stopped at a proof
        root = env.init_state()
        self.graph = Graph(root, self._goal(root), env.node_key(root))

    def _goal(self, state: TacticState):
        return self.env.goal(state)

    def ensure_candidates(self, node: GoalNode) -> None:
        if not node.expanded:
            node.candidates = self.policy.candidates(node.goal, root=node is self.graph.root)
            node.expanded = True

    def take(self, node: GoalNode, count: int) -> list[Candidate]:
        self.ensure_candidates(node)
        chosen = node.candidates[node.next_candidate: node.next_candidate + count]
        node.next_candidate += len(chosen)
        node.pending += len(chosen)
        return chosen

    def first_batch(self) -> Selection:
        """The one-shot closers on the root first, so the search never loses to them; then structure."""
        root = self.graph.root
        self.ensure_candidates(root)
        closers = [c for c in root.candidates if c.tactic in CLOSERS]
        rest = [c for c in root.candidates if c.tactic not in CLOSERS]
        root.candidates = closers + rest
        return [(root, c, []) for c in self.take(root, self.config.batch_size)]

    def select(self) -> Selection:
        raise NotImplementedError

    def integrate(self, selection: Selection, results: list) -> None:
        for (node, candidate, path), result in zip(selection, results, strict=True):
            for edge in path:
                edge.inflight = max(0, edge.inflight - 1)
            if isinstance(result, ProofFinished):
                edge = self.graph.add_edge(node, self.narrow(node, candidate), [], PROVED)
            elif isinstance(result, LeanError):
                edge = self.graph.add_edge(node, candidate, [], FAILED, result.error[:300])
            else:
                states = self.env.goals(result)
                children = [self.graph.node(s, self._goal(s), node.depth + 1, self.env.node_key(s)) for s in states]
                # a transposition keeps the earlier node: the new state is not needed
                self.env.release([s for s, c in zip(states, children, strict=True) if c.state.id != s.id])
                edge = self.graph.add_edge(node, candidate, children, OPEN)
            self.backpropagate(path, node, edge)
        for node in {id(n): n for n, _, _ in selection}.values():
            self.graph.settle_goal(node)

    def narrow(self, node: GoalNode, candidate: Candidate) -> Candidate:
        """A sweep that closed the goal, as its first alternative that closes it alone (found by halving,
        then run once alone), so the script shows that one step; the sweep itself if they disagree."""
        alts, tried = list(candidate.alternatives), False
        if len(alts) < 2 or not self.env.one_at_a_time:  # a batch backend pays a Lean start per call
            return candidate
        while len(alts) > 1:
            half = alts[: len(alts) // 2]
            tried = self._closes(node, sweep(half))
            alts = half if tried else alts[len(half):]
        if not (tried or self._closes(node, alts[0])):
            return candidate
        return Candidate(alts[0], candidate.prior)

    def _closes(self, node: GoalNode, tactic: str) -> bool:
        result = self.env.run_tacs([(node.state, tactic)])[0]
        if isinstance(result, TacticState):
            self.env.release([result])
        return isinstance(result, ProofFinished)

    def evaluate(self, selection: Selection) -> None:
        """Run a batch and integrate it. One candidate at a time where the backend runs them so, stopping at
        a proof of the theorem: the rest are carried over, in case the proof fails verification."""
        step = 1 if self.env.one_at_a_time else max(1, len(selection))
        for i in range(0, len(selection), step):
            chunk = selection[i: i + step]
            self.integrate(chunk, self.env.run_tacs([(n.state, c.tactic) for n, c, _ in chunk]))
            if self.graph.root.status == PROVED:
                self.carried = selection[i + step:]
                return

    def backpropagate(self, path: list[Edge], leaf: GoalNode, edge: Edge) -> None:
        value = 1.0 if edge.status == PROVED else 0.0 if edge.status == FAILED else edge.static_value
        leaf.visits += 1
        self.back_value(leaf, value)
        for upper in reversed(path):
            value *= upper.value_besides(leaf)
            upper.visits += 1
            upper.value_sum += value
            upper.parent.visits += 1
            self.back_value(upper.parent, value)
            leaf = upper.parent

    def back_value(self, node: GoalNode, value: float) -> None:
        """What a simulation found below a goal; only MCTS keeps it (best-first scores statically)."""

    def run(self, budget: Budget, name: str, on_batch: Callable[[SearchResult], None] | None = None) -> SearchResult:
        start = time.monotonic()
        stats0 = self.env.stats
        batches, solved_at, solved_calls, stopped = 0, None, None, ""
        # a second run goes on from the graph as it stands (after a found proof failed to verify)
        selection = self.carried + self.select() if self.started else self.first_batch()
        self.carried = []
        if not self.started:
            self.origin = (start, stats0)  # what a result reports counts from the first run
        self.started = True
        while True:
            calls = self.env.stats.lean_calls - stats0.lean_calls
            elapsed = time.monotonic() - start
            if self.graph.root.status == PROVED:
                stopped = "proved"
                if solved_at is None:  # another proof already in the graph after one was rejected
                    solved_at = time.monotonic() - self.origin[0]
                    solved_calls = self.env.stats.lean_calls - self.origin[1].lean_calls
                break
            if self.graph.root.status == FAILED:
                stopped = "every candidate failed"
                break
            if elapsed >= budget.seconds or calls >= budget.lean_calls:
                stopped = "budget"
                break
            if not selection:
                stopped = "nothing left to try"
                break
            selection = selection[: max(1, budget.lean_calls - calls)]
            self.env.limit_time(budget.seconds - elapsed)
            self.evaluate(selection)
            batches += 1
            if self.graph.root.status == PROVED and solved_at is None:
                solved_at = time.monotonic() - self.origin[0]
                solved_calls = self.env.stats.lean_calls - self.origin[1].lean_calls
            if on_batch:
                on_batch(self._result(name, *self.origin, batches, solved_at, solved_calls, "running"))
            selection = self.select() if self.graph.root.status == OPEN else []
        return self._result(name, *self.origin, batches, solved_at, solved_calls, stopped)

    def _result(self, name: str, start: float, stats0, batches: int, solved_at: float | None,
                solved_calls: int | None, stopped: str) -> SearchResult:
        steps = self.graph.proof()
        script = self.env.proof_script(steps, self.graph.root.state.id) if steps else None
        stats = self.env.stats
        return SearchResult(name, self.method, steps is not None, script, round(time.monotonic() - start, 2),
                            stats.lean_calls - stats0.lean_calls, stats.lean_processes - stats0.lean_processes,
                            batches, len(self.graph.nodes), solved_at, solved_calls, stopped, self.graph.to_json())


class MCTS(Search):
    """PUCT over AND/OR goals with progressive widening, virtual loss and MCTS-solver statuses; each goal's
    value is updated by what the search finds below it, and a descent goes on into the hardest goal a
    tactic left (HTPS-style)."""

    method = "mcts"

    def back_value(self, node: GoalNode, value: float) -> None:
        node.value_sum += value
        node.value_count += 1

    def allowed_edges(self, node: GoalNode) -> int:
        return math.ceil(self.config.widen_c * (node.visits + 1) ** self.config.widen_alpha)

    def simulate(self, pending: dict[int, int], room: int) -> tuple[GoalNode, list[Candidate], list[Edge]] | None:
        """One descent; takes at most `room` candidates, so nothing taken is left out of the batch (a taken
        candidate that never reaches Lean would keep its goal pending for good)."""
        node, path, seen = self.graph.root, [], {id(self.graph.root)}
        while True:
            self.ensure_candidates(node)
            in_batch = pending.get(id(node), 0)
            if node.edges == [] and in_batch == 0 and node.untried:
                return node, self.take(node, min(room, self.config.expand_first)), path
            if node.untried and len(node.edges) + in_batch < self.allowed_edges(node):
                return node, self.take(node, min(room, self.config.expand_more)), path
            live = [e for e in node.edges if e.status == OPEN and not any(id(c) in seen for c in e.children)]
            if not live:
                if node.untried:
                    return node, self.take(node, min(room, self.config.expand_more)), path
                for edge in path:
                    edge.inflight = max(0, edge.inflight - 1)
                return None
            edge = max(live, key=lambda e: self.puct(node, e))
            edge.inflight += 1
            path.append(edge)
            # of the goals a tactic left, the one the search found hardest so far: it decides the edge
            child = min((c for c in edge.children if c.status == OPEN), key=lambda c: c.estimate)
            seen.add(id(child))
            node = child

    def puct(self, node: GoalNode, edge: Edge) -> float:
        inflight = edge.inflight
        q = (edge.value_sum + (edge.static_value if not edge.visits else 0.0)) / (edge.visits + inflight + 1)
        return q + self.config.c_puct * edge.prior * math.sqrt(node.visits + 1) / (1 + edge.visits + inflight)

    def select(self) -> Selection:
        selection: Selection = []
        pending: dict[int, int] = {}
        for _ in range(self.config.simulations_per_batch):
            if len(selection) >= self.config.batch_size:
                break
            found = self.simulate(pending, self.config.batch_size - len(selection))
            if found is None or not found[1]:
                for edge in (found[2] if found else ()):
                    edge.inflight = max(0, edge.inflight - 1)  # a descent that took nothing holds no edge
                continue
            node, candidates, path = found
            pending[id(node)] = pending.get(id(node), 0) + len(candidates)
            selection += [(node, c, path) for c in candidates]
        return selection


class BestFirst(Search):
    """The same actions ranked by a static score: prior × goal value × how promising the way to the goal
    is; no visit statistics, no exploration bonus."""

    method = "best-first"

    def reachable(self) -> dict[int, tuple[GoalNode, float]]:
        """Each open goal with the score of its most promising way from the root: the largest product
        of edge values along a path. Edge values are at most 1, so Dijkstra on the product settles each
        goal once, however many transpositions join the paths (a relaxing walk can take exponential time)."""
        best: dict[int, tuple[GoalNode, float]] = {}
        heap = [(-1.0, 0, self.graph.root)]
        tie = itertools.count(1)
        while heap:
            negative, _, node = heapq.heappop(heap)
            if id(node) in best:
                continue
            best[id(node)] = (node, -negative)
            for edge in node.edges:
                if edge.status != OPEN:
                    continue
                score = -negative * min(1.0, edge.static_value)
                for child in edge.children:
                    if child.status == OPEN and id(child) not in best:
                        heapq.heappush(heap, (-score, next(tie), child))
        return best

    def select(self) -> Selection:
        scored = []
        for node, reach in self.reachable().values():
            self.ensure_candidates(node)
            stop = min(len(node.candidates), node.next_candidate + self.config.batch_size)
            for i in range(node.next_candidate, stop):
                candidate = node.candidates[i]
                scored.append((candidate.prior * node.value * reach, id(node), i, node, candidate))
        scored.sort(key=lambda s: (-s[0], s[1], s[2]))
        top = scored[: self.config.batch_size]
        # a node's candidates are ranked by prior, so the ones chosen from it are its next ones: take them
        for node, count in Counter(s[3] for s in top).items():
            self.take(node, count)
        return [(node, candidate, []) for *_, node, candidate in top]
