"""Putting a search together for one theorem: environment, policy (priors, premises, local
definitions), search, kernel verification, and what is learned from a found proof."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from prover.env.portable import PortableEnv, SessionEnv
from prover.policy.candidates import Policy
from prover.policy.features import goal_features
from prover.policy.premises import PremiseIndex
from prover.policy.priors import Priors, load_priors, seed_from_sources, tactic_kind
from prover.search.engine import MCTS, BestFirst, Budget, Search, SearchConfig, SearchResult
from prover.target import Target
from prover.verify import verify
from verifier.lean.library import build_core_index
from verifier.lean.session import LeanSession
from verifier.lean.source import blank_comments, scan_declarations
from verifier.lean.toolchain.base import Toolchain

METHODS = {"mcts": MCTS, "best-first": BestFirst}


@dataclass
class ProofOutcome:
    result: SearchResult
    verified: bool
    verification: str
    new_text: str | None = None


def local_names(target: Target) -> tuple[list[str], list[str]]:
    """Definitions and proved theorems declared before the target in its file. A theorem still proved
    by `sorry` is no premise: a proof resting on it proves nothing."""
    decls = scan_declarations(target.preamble)
    lines = blank_comments(target.preamble).split("\n")
    defs = [d.name for d in decls if d.kind in ("def", "abbrev")]
    facts = [d.name for d in decls if d.kind in ("theorem", "lemma")
             and "sorry" not in " ".join(lines[d.line - 1: d.end_line]).split()]
    return defs, facts


def seed_priors(lean_dir: Path) -> Priors:
    """Tactic counts from the package's own finished proofs (not its .lake, not the benchmark set)."""
    paths = [p for p in sorted(lean_dir.rglob("*.lean"))
             if ".lake" not in p.relative_to(lean_dir).parts and p.relative_to(lean_dir).parts[0] != "Bench"]
    return seed_from_sources(paths)


def default_priors(lean_dir: Path) -> Priors:
    """What earlier `prove` runs learned, or else the package's own proofs."""
    priors = load_priors()
    return priors if priors.total else seed_priors(lean_dir)


class PremiseCache:
    """The core library's premise index, built once per process."""

    _index: PremiseIndex | None = None

    @classmethod
    def get(cls, chain: Toolchain) -> PremiseIndex:
        if cls._index is None:
            cls._index = PremiseIndex.build(list(build_core_index(chain)))
        return cls._index


def make_policy(chain: Toolchain, target: Target, priors: Priors) -> Policy:
    defs, facts = local_names(target)
    base = PremiseCache.get(chain)
    premises = PremiseIndex(base.names, base.tokens, base.idf, facts)
    return Policy(priors, premises, defs)


BACKENDS = ("session", "batch")


def make_env(chain: Toolchain, lean_dir: Path, target: Target, backend: str, heartbeats: int,
             session: LeanSession | None) -> PortableEnv:
    if backend == "session":
        return SessionEnv(chain, lean_dir, target, heartbeats=heartbeats, session=session)
    return PortableEnv(chain, lean_dir, target, heartbeats=heartbeats)


def prove(chain: Toolchain, lean_dir: Path, target: Target, budget: Budget, method: str = "mcts",
          priors: Priors | None = None, config: SearchConfig | None = None, verify_proof: bool = True,
          heartbeats: int = 100_000, backend: str = "session", session: LeanSession | None = None) -> ProofOutcome:
    """Search for a proof, then check it as a whole. `session` (backend "session") may be shared across
    theorems of one file; otherwise the search starts and stops its own."""
    priors = priors or default_priors(lean_dir)
    env = make_env(chain, lean_dir, target, backend, heartbeats, session)
    try:
        search: Search = METHODS[method](env, make_policy(chain, target, priors), config)
        result = search.run(budget, target.name)
    finally:
        env.close()
    if not result.proved or not result.script:
        return ProofOutcome(result, False, f"no proof found ({result.stopped})")
    if not verify_proof:
        return ProofOutcome(result, False, "not verified")
    verdict = verify(chain, lean_dir, target, result.script)
    if verdict.ok:
        learn(priors, search)
    return ProofOutcome(result, verdict.ok, verdict.message, verdict.new_text)


def learn(priors: Priors, search: Search) -> None:
    """Count the kinds of the tactics in the proof, by the features of the goals they closed or split."""
    steps = search.graph.proof() or {}
    by_state = {n.state.id: n for n in search.graph.nodes.values()}
    for sid, (tactic, _) in steps.items():
        node = by_state.get(sid)
        if node is not None:
            priors.learn(tactic_kind(tactic), goal_features(node.goal).tags)


def write_tree(result: SearchResult, folder: Path) -> tuple[Path, Path]:
    """The search tree as JSON, and drawn as SVG."""
    from prover.tree_picture import tree_svg

    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", result.theorem)
    json_path = folder / f"{stem}.tree.json"
    json_path.write_text(json.dumps(asdict(result), indent=1))
    svg_path = folder / f"{stem}.tree.svg"
    svg_path.write_text(tree_svg(result.tree, result.theorem))
    return json_path, svg_path
