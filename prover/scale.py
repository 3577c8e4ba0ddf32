"""Scale-out on Ray: `--workers N` spreads searches over N actors, each holding one warm Lean session.

- A local Ray is started for the run, or `--ray-address` joins an existing cluster; every node must see
  the Lean package at the same path (a shared file system).
- An actor declares one CPU and `ACTOR_MEMORY_BYTES` of memory, so Ray places no more actors on a node
  than its memory holds. Its Lean session and its verifying worker run under the memory watchdog.
- A crashed actor is restarted by Ray; a task that was in flight on it is run again, on another actor
  when one is free, up to `MAX_ATTEMPTS` times, and then reported as not proved, never as proved.
- A task carries all it depends on (the priors included) and each theorem is searched exactly as in a
  serial run (`prover.session.run_task`), so the results do not depend on the number of workers.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from prover.search.engine import SearchResult
from prover.session import ProofRecord, ProofTask, WarmSession
from verifier import settings
from verifier.errors import UserError
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.worker import pool_for, warm_workers

# Each actor reports its session's and its verifying worker's largest RSS, summed (an upper bound: the two
# peaks need not coincide; bench prints the largest). Measured over the 132 dev theorems with MCTS: 12.1
# GiB before the portable Lean ran with bounded malloc arenas (toolchain.base.PORTABLE_MALLOC), 10.3 GiB
# with them. 11 GiB covers that and still lets two actors onto this 24 GiB machine (23.5 GiB offered).
ACTOR_MEMORY_BYTES = 11 * 1024**3
MAX_ATTEMPTS = 2  # runs of one task when the actors running it die
MAX_RESTARTS = 4  # per actor


class ProverActor:
    """One warm Lean session and one verifying worker, kept for the actor's life."""

    def __init__(self, lean_dir: str, toolchain: str, verify_worker: bool) -> None:
        from verifier.lean.toolchain import require

        if not Path(lean_dir, "lakefile.toml").is_file():
            raise RuntimeError(f"{lean_dir}: no Lean package there on {socket.gethostname()} (every Ray node "
                               "must see the project at the same path)")
        chain = require(Path(lean_dir), toolchain)  # resolved on the actor's own node
        self.where = f"{socket.gethostname()}:{os.getpid()}"
        self._workers = contextlib.ExitStack()
        self._workers.enter_context(warm_workers(1 if verify_worker else 0))
        self.warm = WarmSession(chain, Path(lean_dir))

    def pid(self) -> int:
        return os.getpid()

    def run(self, task: ProofTask) -> ProofRecord:
        record = self.warm.run(task)
        record.worker = self.where
        pool = pool_for(self.warm.chain)
        session = self.warm.session.peak_rss if self.warm.session is not None else 0
        record.actor_rss = session + (pool.max_rss if pool is not None else 0)
        return record

    def close(self) -> None:
        self.warm.close()
        self._workers.close()


@dataclass(frozen=True)
class RayOptions:
    workers: int
    address: str | None = None  # None: a local Ray for this run
    verify_worker: bool = True


def check_address(address: str) -> None:
    """Fail in seconds, not after Ray's minutes of retries, when nothing listens at HOST:PORT."""
    if address == "auto":
        return
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--ray-address {address!r}: expected HOST:PORT or ray://HOST:PORT (or auto)")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise UserError(f"--ray-address {address}: nothing answers there ({exc.strerror or exc})",
                        hint="start the cluster with `ray start --head`, or leave --ray-address out") from None


def _start_ray(options: RayOptions) -> None:
    import ray

    if options.address:
        check_address(options.address)
    try:
        if options.address:
            ray.init(address=options.address, include_dashboard=False, log_to_driver=False)
        else:
            # "local": a new instance for this run, even where RAY_ADDRESS or `ray start` names another
            # the node's memory, not what is free at this instant (Ray's default): actors declare their
            # peaks, and a declaration is measured against the machine, not against a moment's load
            ray.init(address="local", num_cpus=options.workers, include_dashboard=False, log_to_driver=False,
                     object_store_memory=128 * 1024**2, _memory=psutil.virtual_memory().total)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {options.address}" if options.address else "a local Ray"
        raise UserError(f"cannot start {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                        hint=_connect_hint(options.address)) from None


def _connect_hint(address: str | None) -> str:
    """What to check. Ray (2.59+) starts `ray start` clusters with token authentication, yet sends a token
    to an address given explicitly only in token mode: it will not hand a local token to any address."""
    if not address:
        return "check --ray-address, or leave it out for a local Ray"
    if settings.read("RAY_AUTH_MODE") != "token":
        return ("if the cluster uses token authentication, as `ray start` does by default, set RAY_AUTH_MODE=token "
                "with its token in RAY_AUTH_TOKEN or ~/.ray/auth_token")
    return "check --ray-address and that the token in RAY_AUTH_TOKEN or ~/.ray/auth_token is the cluster's"


@contextlib.contextmanager
def ray_actors(chain: Toolchain, lean_dir: Path, options: RayOptions) -> Iterator[list]:
    """Ray up (local or joined) with `options.workers` actors; all torn down at the end."""
    import ray

    _start_ray(options)
    try:
        check_memory(options.workers)
    except UserError:
        ray.shutdown()
        raise
    remote = ray.remote(num_cpus=1, memory=ACTOR_MEMORY_BYTES, max_restarts=MAX_RESTARTS,
                        max_concurrency=1)(ProverActor)
    actors = [remote.remote(str(lean_dir.absolute()), chain.kind, options.verify_worker)
              for _ in range(options.workers)]
    try:
        _check_started(actors)
        yield actors
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.get(actor.close.remote(), timeout=30)
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
        ray.shutdown()


def check_memory(workers: int) -> None:
    """Actors that cannot all be placed would wait for memory forever: a one-line error instead."""
    import ray

    offered = ray.cluster_resources().get("memory", 0.0)
    if workers * ACTOR_MEMORY_BYTES > offered:
        raise UserError(f"--workers {workers} needs {workers * ACTOR_MEMORY_BYTES / 1024**3:g} GiB of memory for its "
                        f"actors ({ACTOR_MEMORY_BYTES / 1024**3:g} GiB each); the Ray cluster offers "
                        f"{offered / 1024**3:.1f} GiB", hint="use fewer --workers, or a larger cluster")


def _check_started(actors: list) -> None:
    """An actor that cannot start (no project on its node, say) is a one-line error, not a run of deaths."""
    import ray
    from ray.exceptions import RayActorError

    try:
        ray.get([actor.pid.remote() for actor in actors], timeout=300)
    except RayActorError as exc:
        cause = getattr(exc, "cause", None) or exc
        raise UserError(f"a Ray worker could not start: {str(cause).strip().splitlines()[-1][:300]}") from None


def _not_run(task: ProofTask, attempts: int, stopped: str, why: str) -> ProofRecord:
    """A task its workers could not finish: reported as such, never as proved."""
    result = SearchResult(task.theorem, task.method, False, None, 0.0, 0, 0, 0, 0, stopped=stopped)
    return ProofRecord(task.key, result, False, f"not proved: {why}", 0.0, 0.0, attempts=attempts)


def schedule(actors: list, tasks: list[ProofTask], on_record: Callable[[ProofRecord], None],
             on_submit: Callable[[int, ProofTask], None] | None = None, max_restarts: int = MAX_RESTARTS) -> None:
    """Run every task on the actors, one at a time per actor, in order. A task whose actor died is run
    again first, on another actor when one is idle; a dead actor takes work again only once Ray has
    restarted it (a probe answers), and leaves the pool after `max_restarts` deaths."""
    import ray
    from ray.exceptions import ActorUnavailableError, RayActorError, RayTaskError

    queue: deque[tuple[ProofTask, int, int | None]] = deque((t, 1, None) for t in tasks)  # task, attempt, avoid
    idle, deaths = list(range(len(actors))), [0] * len(actors)
    flight: dict = {}  # future -> (slot, task, attempt); task None for a probe of a restarting actor

    def probe(slot: int) -> None:
        flight[actors[slot].pid.remote()] = (slot, None, 0)

    while queue or any(task is not None for _, task, _ in flight.values()):
        while idle and queue:
            task, attempt, avoid = queue.popleft()
            slot = next((i for i in idle if i != avoid), idle[0])
            idle.remove(slot)
            flight[actors[slot].run.remote(task)] = (slot, task, attempt)
            if on_submit:
                on_submit(slot, task)
        if not flight:
            break  # tasks left and no actor to run them
        done, _ = ray.wait(list(flight), num_returns=1)
        slot, task, attempt = flight.pop(done[0])
        try:
            record = ray.get(done[0])
        except RayTaskError as exc:  # the search itself failed (its file changed under it, say)
            idle.append(slot)
            cause = getattr(exc, "cause", None) or exc
            record = _not_run(task, attempt, "search failed",
                              f"the search failed: {str(cause).strip().splitlines()[-1][:300]}")
        except RayActorError as exc:  # died, or unreachable while it restarts (both are RayActorErrors)
            restarting = isinstance(exc, ActorUnavailableError)
            if task is None:  # a probe: wait while it restarts; dead for good when the probe died
                if restarting:
                    time.sleep(0.5)
                    probe(slot)
                continue
            deaths[slot] += 1
            if deaths[slot] <= max_restarts:  # Ray restarts it; past that it is gone for good
                probe(slot)
            if attempt < MAX_ATTEMPTS:
                queue.appendleft((task, attempt + 1, slot))
                continue
            record = _not_run(task, attempt, "worker died",
                              f"the Ray worker died {attempt} times ({str(exc).splitlines()[0][:200]})")
        else:
            idle.append(slot)
            if task is None:
                continue  # a probe answered: the actor is back
        on_record(replace(record, attempts=attempt))
    for task, attempt, _ in queue:  # every actor is gone
        on_record(_not_run(task, attempt - 1, "no worker", "every Ray worker died for good before it could run"))


def run_tasks(chain: Toolchain, lean_dir: Path, tasks: list[ProofTask], on_record: Callable[[ProofRecord], None],
              options: RayOptions | None = None) -> None:
    """Every task, in this process with one warm session (`options` None), or on Ray actors."""
    if options is None:
        warm = WarmSession(chain, lean_dir)
        try:
            for task in tasks:
                on_record(warm.run(task))
        finally:
            warm.close()
        return
    with ray_actors(chain, lean_dir, options) as actors:
        schedule(actors, tasks, on_record)


def makespan(walls: list[float], actors: int, startup_s: float) -> float:
    """Wall time for `actors` to run searches of these durations, longest first, each to the actor that
    frees first, after each actor's start-up (LPT list scheduling)."""
    free = [startup_s] * actors
    for wall in sorted(walls, reverse=True):
        i = min(range(actors), key=free.__getitem__)
        free[i] += wall
    return max(free)


def actors_needed(walls: list[float], startup_s: float, target_s: float) -> int | None:
    """The fewest actors that run the searches within `target_s`; None when the longest search alone
    (plus start-up) exceeds it."""
    if not walls:
        return 0
    if startup_s + max(walls) > target_s:
        return None
    actors = 1
    while makespan(walls, actors, startup_s) > target_s:
        actors += 1
    return actors
