"""Shared fixtures. Tests that claim a proof compiles run the real Lean; a missing toolchain fails them."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="session")
def toolchain():
    """The Lean toolchain the suite runs against. Missing is a failure, in CI and out of it."""
    from verifier.lean.toolchain import choose

    choice = choose(REPO / "lean")
    if choice.toolchain is None:
        pytest.fail("no Lean toolchain: run `quantproof toolchain --install` (the README's test command does): "
                    + "; ".join(choice.reasons.values()))
    return choice.toolchain


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

    with warm_workers(2):
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
        from verifier.lean.replay import replay_build

        if self.thread is None:
            self.thread = threading.Thread(target=replay_build, args=(toolchain, REPO / "lean", result), daemon=True)
            self.thread.start()

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
