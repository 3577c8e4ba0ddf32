"""Putting a search together for one theorem: environment, policy (priors, premises, local
definitions), search, kernel verification, and what is learned from a found proof."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prover.env.base import ProofEnv
from prover.env.portable import PortableEnv, SessionEnv
from prover.env.states import StartError, StateEnv, open_session
from prover.policy.candidates import Policy
from prover.policy.features import goal_features
from prover.policy.premises import PremiseIndex, library_lemmas
from prover.policy.priors import Priors, load_priors, seed_from_sources, tactic_kind
from prover.search.engine import MCTS, BestFirst, Budget, Search, SearchConfig, SearchResult
from prover.target import Target, load_target
from prover.verify import verify
from verifier.lean.session import LeanSession
from verifier.lean.source import blank_comments, scan_declarations
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.toolchain.cache import cache_root

METHODS = {"mcts": MCTS, "best-first": BestFirst}
MAX_VERIFICATIONS = 3  # found proofs checked per theorem before the search gives up on verifying


@dataclass
class ProofOutcome:
    result: SearchResult
    verified: bool
    verification: str
    new_text: str | None = None
    startup_s: float = 0.0  # Lean start-up, file loading and premise index, paid before the search's clock
    learned: list[tuple[str, list[str]]] = field(default_factory=list)  # (tactic kind, goal tags) of the proof


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
            cls._index = PremiseIndex(library_lemmas(chain.identity, chain.core_lib, chain.version.pointer_bytes,
                                                     cache_root()))
        return cls._index


def make_policy(chain: Toolchain, target: Target, priors: Priors) -> Policy:
    defs, facts = local_names(target)
    return Policy(priors, PremiseCache.get(chain).with_local(facts), defs)


BACKENDS = ("states", "session", "batch", "dojo")


def dojo_unavailable(chain: Toolchain, lean_dir: Path) -> str | None:
    """Why LeanDojo's own `Dojo` cannot run this package here, or None when it can."""
    if chain.kind != "native":
        return ("--backend dojo runs LeanDojo's own Dojo, which traces the package with a native Lean (elan's "
                "lean and lake); only the portable Lean is available here")
    if not (lean_dir / ".git").exists():
        return f"--backend dojo needs the Lean package to be the root of a git repository; {lean_dir} is not"
    return None


def dojo_env(lean_dir: Path, target: Target) -> ProofEnv:
    from lean_dojo import LeanGitRepo, Theorem

    from prover.env.dojo import DojoEnv

    repo = LeanGitRepo.from_path(lean_dir)
    return DojoEnv(Theorem(repo, target.file.absolute().relative_to(lean_dir.absolute()), target.name))


def make_env(chain: Toolchain, lean_dir: Path, target: Target, backend: str, heartbeats: int,
             session: LeanSession | None) -> tuple[ProofEnv, LeanSession | None]:
    """The backend's environment, and the session it started itself (the caller closes that one).
    `states` falls back to replaying candidates on the same session when Lean cannot make a proof
    state of the statement (an auto-bound implicit, say)."""
    if backend == "states":
        own = None if session is not None else open_session(chain, lean_dir, target)
        shared = session or own
        assert shared is not None
        try:
            return StateEnv(target, shared, heartbeats=heartbeats), own
        except StartError:
            return SessionEnv(chain, lean_dir, target, heartbeats=heartbeats, session=shared), own
    if backend == "session":
        return SessionEnv(chain, lean_dir, target, heartbeats=heartbeats, session=session), None
    if backend == "dojo":
        why = dojo_unavailable(chain, lean_dir)
        if why:
            raise RuntimeError(why)
        return dojo_env(lean_dir, target), None
    return PortableEnv(chain, lean_dir, target, heartbeats=heartbeats), None


def prove(chain: Toolchain, lean_dir: Path, target: Target, budget: Budget, method: str = "mcts",
          priors: Priors | None = None, config: SearchConfig | None = None, verify_proof: bool = True,
          heartbeats: int = 100_000, backend: str = "states", session: LeanSession | None = None) -> ProofOutcome:
    """Search for a proof, then check it as a whole. `session` (backends "states" and "session") may be
    shared across theorems of files with the same header; otherwise the search starts and stops its own.
    The session's start-up is paid before the search's clock starts, and reported apart."""
    priors = priors or default_priors(lean_dir)
    startup0 = session.startup_s if session is not None else 0.0
    env, own = make_env(chain, lean_dir, target, backend, heartbeats, session)
    shared = session or own
    startup = (shared.startup_s - startup0) if shared is not None else 0.0
    policy_start = time.monotonic()
    policy = make_policy(chain, target, priors)  # the first call per toolchain builds the premise index
    startup += time.monotonic() - policy_start
    search: Search = METHODS[method](env, policy, config)
    start, attempts, verdict = time.monotonic(), 0, None
    try:
        while True:
            spent = time.monotonic() - start
            result = search.run(Budget(budget.seconds - spent, budget.lean_calls), target.name)
            if not result.proved or not result.script or not verify_proof:
                break
            verdict = verify(chain, lean_dir, target, result.script)
            attempts += 1
            if verdict.ok or attempts >= MAX_VERIFICATIONS or time.monotonic() - start >= budget.seconds:
                break
            # the session accepted a proof the file does not: look for another one in the time left
            search.graph.reject_proof(f"the found proof did not verify: {verdict.message}")
    finally:
        env.close()
        if own is not None:
            own.close()
    result.elapsed_s = round(time.monotonic() - start, 2)
    if not result.proved or not result.script:
        why = f"; {attempts} found proofs did not verify, the last: {verdict.message}" if verdict else ""
        return ProofOutcome(result, False, f"no proof found ({result.stopped}){why}", startup_s=startup)
    if verdict is None:
        return ProofOutcome(result, False, "not verified", startup_s=startup)
    learned = proof_lessons(search) if verdict.ok else []
    return ProofOutcome(result, verdict.ok, verdict.message, verdict.new_text, startup, learned)


def proof_lessons(search: Search) -> list[tuple[str, list[str]]]:
    """The kinds of the tactics in the proof, with the features of the goals they closed or split. The
    caller decides whether to learn them: `prove` keeps them, `bench` measures a frozen policy."""
    steps = search.graph.proof() or {}
    by_state = {n.state.id: n for n in search.graph.nodes.values()}
    return [(tactic_kind(tactic), sorted(goal_features(by_state[sid].goal).tags))
            for sid, (tactic, _) in steps.items() if sid in by_state]


def learn(priors: Priors, lessons: list[tuple[str, list[str]]]) -> None:
    for kind, tags in lessons:
        priors.learn(kind, frozenset(tags))


@dataclass(frozen=True)
class ProofTask:
    """One search to run, in this process or on a Ray actor: everything it depends on travels with it, so
    where it runs cannot change its result."""

    key: str
    file: Path
    theorem: str
    method: str
    budget_s: float
    priors: Priors
    calls: int = 100_000
    backend: str = "states"
    heartbeats: int = 100_000


@dataclass
class ProofRecord:
    """What a search found and what the kernel said of it (plain data: it crosses processes)."""

    key: str
    result: SearchResult  # the search's own account, tree included; its script may not have verified
    proved: bool  # verified: the whole theorem compiled with the script and passed the axiom audit
    verification: str
    startup_s: float
    wall_s: float
    new_text: str | None = None
    learned: list[tuple[str, list[str]]] = field(default_factory=list)
    worker: str = "local"  # where it ran: "local", or the Ray actor's node and process
    attempts: int = 1  # more than 1 when a worker died with the task in flight and it was run again
    actor_rss: int = 0  # on a Ray actor: its session's and its verifying worker's largest RSS so far, summed

    @property
    def seconds(self) -> float | None:
        """Time to solve when solved, else the time spent."""
        return self.result.solved_at_s if self.proved else self.result.elapsed_s


def run_task(chain: Toolchain, lean_dir: Path, task: ProofTask, session: LeanSession | None) -> ProofRecord:
    """One theorem's search and verification, as both the serial path and a Ray actor run it."""
    start = time.monotonic()
    target = load_target(task.file, task.theorem)
    # a copy: the task's priors stay as given, whatever the search does with them
    priors = Priors(Counter(task.priors.total), {k: Counter(v) for k, v in task.priors.by_feature.items()})
    outcome = prove(chain, lean_dir, target, Budget(task.budget_s, task.calls), task.method, priors,
                    heartbeats=task.heartbeats, backend=task.backend, session=session)
    return ProofRecord(task.key, outcome.result, outcome.verified, outcome.verification,
                       round(outcome.startup_s, 2), round(time.monotonic() - start, 2), outcome.new_text,
                       outcome.learned)


class WarmSession:
    """One Lean session for a run of searches: it serves every file with the same header (a reset and the
    new file's text), and restarts only when the header changes. Started on the first search that needs it."""

    def __init__(self, chain: Toolchain, lean_dir: Path) -> None:
        self.chain, self.lean_dir = chain, lean_dir
        self.session: LeanSession | None = None

    def for_task(self, task: ProofTask) -> LeanSession | None:
        if task.backend not in ("states", "session"):
            return None
        if self.session is None:
            self.session = open_session(self.chain, self.lean_dir, load_target(task.file, task.theorem))
        return self.session

    def run(self, task: ProofTask) -> ProofRecord:
        return run_task(self.chain, self.lean_dir, task, self.for_task(task))

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


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
