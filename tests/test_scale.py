"""The Ray scheduler with stand-in actors (no Lean): a task whose actor dies runs again on another one,
a task that keeps killing its actors is reported as not proved, and an actor past its restarts leaves
the pool; when none is left, the rest is reported, never dropped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prover.policy.priors import Priors
from prover.search.engine import SearchResult
from prover.session import ProofRecord, ProofTask


class StandIn:
    """Dies on `crash`, on `crash_once` the first time (a marker file remembers), else proves."""

    def pid(self) -> int:  # what the scheduler probes a restarted actor with
        return os.getpid()

    def run(self, task: ProofTask) -> ProofRecord:
        if task.theorem == "crash" or (task.theorem == "crash_once" and not task.file.exists()):
            task.file.touch()
            os._exit(1)
        result = SearchResult(task.theorem, task.method, True, "  rfl", 0.1, 1, 0, 0, 1, 0.1)
        return ProofRecord(task.key, result, True, "ok", 0.0, 0.1, worker=f"pid {os.getpid()}")


@pytest.fixture(scope="module")
def ray_up():
    import ray

    from prover.scale import RayOptions, _start_ray

    _start_ray(RayOptions(2))
    yield ray
    ray.shutdown()


def _tasks(tmp_path: Path, names: list[str]) -> list[ProofTask]:
    return [ProofTask(f"{i}", tmp_path / f"{name}-{i}.marker", name, "mcts", 1.0, Priors())
            for i, name in enumerate(names)]


def test_deaths_are_retried_elsewhere_and_reported(ray_up, tmp_path):
    from prover.scale import MAX_ATTEMPTS, schedule

    actors = [ray_up.remote(num_cpus=0, max_restarts=1)(StandIn).remote() for _ in range(2)]
    tasks = _tasks(tmp_path, ["a", "crash_once", "b", "crash", "c"])
    got: dict[str, ProofRecord] = {}
    schedule(actors, tasks, lambda rec: got.__setitem__(rec.result.theorem, rec), max_restarts=1)
    assert set(got) == {"a", "crash_once", "b", "crash", "c"}  # nothing dropped
    said = {n: (r.verification, r.attempts) for n, r in got.items()}
    assert all(got[n].proved and got[n].attempts == 1 for n in "abc"), said
    assert got["crash_once"].proved and got["crash_once"].attempts == 2, said
    assert not got["crash"].proved and got["crash"].attempts == MAX_ATTEMPTS
    assert f"died {MAX_ATTEMPTS} times" in got["crash"].verification and got["crash"].result.stopped == "worker died"


def test_with_every_actor_gone_the_rest_is_reported(ray_up, tmp_path):
    from prover.scale import schedule

    actors = [ray_up.remote(num_cpus=0, max_restarts=0)(StandIn).remote()]
    got: list[ProofRecord] = []
    schedule(actors, _tasks(tmp_path, ["crash", "a", "b"]), got.append, max_restarts=0)
    assert sorted(r.result.theorem for r in got) == ["a", "b", "crash"]
    assert not any(r.proved for r in got)
    assert all("every Ray worker died" in r.verification for r in got if r.result.theorem != "crash")
