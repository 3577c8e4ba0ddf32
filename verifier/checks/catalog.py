"""Every property check, in one place: the format's (properties.py), the planner's
(planner_properties.py), the kernel's (kernel_properties.py) and the input guards' (guard_properties.py);
run in this process (`run_all`) or spread over forked worker processes (`PropertyRun`)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from verifier.checks.guard_properties import GUARD_PROPERTIES
from verifier.checks.kernel_properties import KERNEL_PROPERTIES
from verifier.checks.model import DEFAULT_SEED, PropertyResult
from verifier.checks.planner_properties import PLANNER_PROPERTIES
from verifier.checks.properties import BASE_PROPERTIES, Property, run_property
from verifier.kernels import pack
from verifier.lean.process import die_with_parent

T = TypeVar("T")

PROPERTIES: tuple[Property, ...] = BASE_PROPERTIES + PLANNER_PROPERTIES + KERNEL_PROPERTIES + GUARD_PROPERTIES


def _selected(only: set[str] | None) -> list[Property]:
    return [p for p in PROPERTIES if only is None or p.name in only]


def run_all(seed_value: int = DEFAULT_SEED, scale: float = 1.0, only: set[str] | None = None) -> list[PropertyResult]:
    """Run every property (or those named in `only`) with one seed and example scale."""
    return [run_property(p, seed_value, scale) for p in _selected(only)]


def _run_named(name: str, seed_value: int, scale: float) -> PropertyResult:
    return run_property(next(p for p in PROPERTIES if p.name == name), seed_value, scale)


def _died(prop: Property, seed_value: int, why: str) -> PropertyResult:
    return PropertyResult(prop.name, prop.req, prop.description, prop.strategy, seed_value, 0, 0, None,
                          prop.margin_meaning, False, f"the worker process running it died ({why})", 0.0)


def _single_threaded() -> bool:
    """No thread but this one, or the kernels' idle pool threads (a forked child makes its own pool)."""
    here = threading.current_thread()
    return all(t is here or t.name.startswith(pack.POOL_THREADS) for t in threading.enumerate())


NICE = 10


def _worker_start() -> None:
    """None outlives a killed command; and a cold build's Lean, which the whole run waits for, comes first:
    the properties take the cores it leaves idle (with nothing else to run, they get all of them)."""
    die_with_parent()
    os.nice(NICE)


class PropertyRun:
    """The properties, started at once in `workers` forked processes; `results()` waits for them. Used as a
    context manager: leaving it stops the workers.

    Forked, not spawned: a worker sees this process as it is when the run starts, a kernel patched in
    place included (in-process mutants and tests rely on that). A fork is only safe with no other thread
    alive, whose locks the child would inherit held (the kernels' idle pool excepted); with other threads, or
    one worker, the properties run here, in `results()`. The results are the same either way: every property
    has its own seed."""

    def __init__(self, seed_value: int = DEFAULT_SEED, scale: float = 1.0, workers: int = 2,
                 only: set[str] | None = None) -> None:
        self.seed, self.scale, self.props = seed_value, scale, _selected(only)
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[PropertyResult]] = []
        if workers > 1 and _single_threaded():
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_worker_start)
            self._futures = [self._pool.submit(_run_named, p.name, seed_value, scale) for p in self.props]

    def __enter__(self) -> PropertyRun:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    @property
    def forked(self) -> bool:
        return self._pool is not None

    def results(self) -> list[PropertyResult]:
        if self._pool is None:
            return [run_property(p, self.seed, self.scale) for p in self.props]
        return [self._result(p, f) for p, f in zip(self.props, self._futures, strict=True)]

    def _result(self, prop: Property, future: Future[PropertyResult]) -> PropertyResult:
        try:
            return future.result()
        except BrokenProcessPool as exc:  # killed (out of memory, a signal): the property is not passed
            return _died(prop, self.seed, str(exc) or type(exc).__name__)

    def beside(self, job: Callable[..., T], *args: object) -> Callable[[], T]:
        """`job(*args)` queued after the properties on the same workers; the returned call waits for its
        answer. Run here instead, when called, if the run is not forked or its workers died."""
        if self._pool is not None:
            with contextlib.suppress(BrokenProcessPool):
                future = self._pool.submit(job, *args)
                return lambda: _answer(future, job, args)
        return lambda: job(*args)


def _answer(future: Future[T], job: Callable[..., T], args: tuple) -> T:
    try:
        return future.result()
    except BrokenProcessPool:
        return job(*args)
