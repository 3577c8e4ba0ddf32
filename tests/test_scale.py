"""The Ray scheduler with stand-in actors (no Lean): a task whose actor dies runs again on another one,
a task that keeps killing its actors is reported as not proved, and an actor past its restarts leaves
the pool; when none is left, the rest is reported, never dropped. And a real `ray start` cluster: joined
in token mode, refused without it with a one-line hint."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def token_cluster(tmp_path):
    """A real cluster as `ray start --head` makes one (token authentication by default since Ray 2.59),
    stopped with its process group, so a Ray the user runs elsewhere on the machine is left alone."""
    import signal
    import subprocess
    import sys

    from prover.scale import check_address
    from verifier.errors import UserError

    port, token = _free_port(), tmp_path / "auth_token"
    token.write_text(secrets.token_hex(32))  # its own token: `ray start` makes one only if ~/.ray has none
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    head = subprocess.Popen([str(Path(sys.executable).parent / "ray"), "start", "--head", "--block",
                             "--port", str(port), "--num-cpus", "1", "--include-dashboard", "false",
                             "--ray-client-server-port", str(_free_port()), "--disable-usage-stats"],
                            env={**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)},
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=(tmp_path / "head.log").open("w"))
    try:
        for _ in range(120):
            try:
                check_address(f"127.0.0.1:{port}")
                break
            except UserError:
                time.sleep(0.5)
        else:
            pytest.fail(f"ray start --head did not listen on port {port} in 60 s: see {tmp_path / 'head.log'}")
        yield f"127.0.0.1:{port}", env, token
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, signal.SIGKILL)


def test_the_local_ray_offers_the_machines_memory_and_refuses_what_does_not_fit(ray_up):
    import psutil

    from prover.scale import ACTOR_MEMORY_BYTES, check_memory
    from verifier.errors import UserError

    total = psutil.virtual_memory().total
    assert abs(ray_up.cluster_resources()["memory"] - total) < 1024**2  # not what happened to be free
    check_memory(int(total // ACTOR_MEMORY_BYTES))  # as many actors as fit: no error
    with pytest.raises(UserError, match=r"--workers \d+ needs .* GiB of memory for its actors"):
        check_memory(int(total // ACTOR_MEMORY_BYTES) + 1)


def test_a_token_cluster_is_joined_in_token_mode_and_refused_with_a_hint(token_cluster, tmp_path):
    import subprocess
    import sys

    from tests.helpers import REPO, copy_fixture, one_line_error

    address, env, token = token_cluster  # env: no RAY_* (a local Ray in this process sets RAY_AUTH_MODE)
    goals = copy_fixture("proverproj", tmp_path) / "Pv" / "Goals.lean"
    refused = subprocess.run([sys.executable, "-m", "verifier.cli", "prove", f"{goals}:helper", "--workers", "1",
                              "--ray-address", address], env=env, cwd=REPO, capture_output=True, text=True,
                             timeout=300)
    message = one_line_error(refused)
    assert f"cannot start the Ray cluster at {address}" in message and "RAY_AUTH_MODE=token" in message
    join = ("import ray; from prover.scale import RayOptions, _start_ray; "
            f"_start_ray(RayOptions(1, {address!r})); print(ray.cluster_resources()['CPU'])")
    with_token = {**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    joined = subprocess.run([sys.executable, "-c", join], env=with_token, capture_output=True, text=True, timeout=300)
    assert joined.returncode == 0 and joined.stdout.split()[-1] == "1.0", joined.stderr[-2000:]
