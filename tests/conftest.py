"""Shared fixtures. Tests that claim a proof compiles run the real Lean; a missing toolchain fails them."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import REPO
from verifier.folders import exclusive

# `make test` runs the files in two pytest-xdist processes (`-n 2 --dist loadscope`): most tests keep one core
# busy, so two streams fill the machine. Each file is one unit of work, so its module fixtures start once; the
# build and worker tests share the `cold` build; the longest units are handed out first.
_GROUP_OF = {"test_worker": "test_build"}
# Held across the two processes: one builds lean/ while the other waits, then finds it done.
_LOCKS = REPO / "test-artifacts"
_LONGEST_FIRST = ("test_prover_lean", "test_build", "test_evidence", "test_lean_session", "test_checks",
                  "test_audit", "test_scale")


@pytest.fixture(scope="session")
def toolchain():
    """The Lean toolchain the suite runs against. Missing is a failure, in CI and out of it."""
    from verifier.lean.toolchain import choose

    choice = choose(REPO / "lean")
    if choice.toolchain is None:
        pytest.fail("no Lean toolchain: run `quantproof toolchain --install` (the README's test command does): "
                    + "; ".join(choice.reasons.values()))
    return choice.toolchain


def _group(nodeid: str) -> str:
    stem = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return _GROUP_OF.get(stem, stem)


def _rank(item: pytest.Item) -> int:
    group = _group(item.nodeid)
    return _LONGEST_FIRST.index(group) if group in _LONGEST_FIRST else len(_LONGEST_FIRST)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Scopes are our groups. (xdist's own `loadgroup` renames node ids, which pytest 9 no longer allows.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return ByGroup(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`lean` marks exactly the tests that need the real toolchain: those that use the `toolchain` fixture
    (directly or through `project_build`) get it here; a hand-written `lean` mark on any other test is an
    error, so the mark cannot drift from what a test does."""
    wrong = [item.nodeid for item in items
             if item.get_closest_marker("lean") is not None and "toolchain" not in item.fixturenames]
    if wrong:
        raise pytest.UsageError("marked `lean` without using the `toolchain` fixture: " + ", ".join(wrong))
    for item in items:
        if "toolchain" in item.fixturenames:
            item.add_marker(pytest.mark.lean)
    items.sort(key=_rank)  # stable: within a group, the files' own order


def pytest_configure(config: pytest.Config) -> None:
    # Temporary projects live inside the checkout (--basetemp), so the portable Lean is exercised on
    # whatever folder the clone is in, not only under /tmp.
    (REPO / "test-artifacts").mkdir(exist_ok=True)


@pytest.fixture(scope="session")
def project_build(toolchain):
    """The real lean/ package, built (incrementally) once per session in two warm workers, as `quantproof build`
    does; it must build clean."""
    from verifier.lean.build import BuildOptions, build
    from verifier.lean.worker import warm_workers

    with exclusive(_LOCKS / "lean-build.lock"), warm_workers(2):
        result = build(REPO / "lean", toolchain, BuildOptions(jobs=2))
    assert result.status == "ok", [(d.location(), d.first_line()) for m in result.modules for d in m.diagnostics
                                   if d.severity == "error" or d.is_sorry]
    _REPLAY.start(toolchain, result)
    return result


@pytest.fixture(scope="session")
def cold(tmp_path_factory, toolchain):
    """The build fixture project built once from scratch, one Lean process per module (`--no-worker`), two at a
    time; shared by the build tests and the worker tests (which build it again in a worker and compare)."""
    from tests.helpers import copy_fixture
    from verifier.lean.build import BuildOptions, build
    from verifier.lean.worker import warm_workers

    root = copy_fixture("buildproj", tmp_path_factory.mktemp("cold"))
    with warm_workers(0):
        return root, build(root, toolchain, BuildOptions(jobs=2))


class _WarmReplay:
    """The kernel replay of the built project, started in the background as soon as it is built, so its saved
    verdict is ready when the evidence tests run `quantproof evidence` (one Lean process beside the tests')."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None

    def start(self, toolchain, result) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._replay, args=(toolchain, result), daemon=True)
            self.thread.start()

    @staticmethod
    def _replay(toolchain, result) -> None:
        from verifier.lean.replay import replay_build

        replay_build(toolchain, REPO / "lean", result)  # run at once by both processes: the second one waits

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()


_REPLAY = _WarmReplay()


@pytest.fixture(scope="session")
def replay_ready(project_build) -> None:
    """Wait for the background replay (tests that run the evidence pipeline reuse its verdict)."""
    _REPLAY.wait()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _REPLAY.wait()  # never leave a Lean child running after the suite
