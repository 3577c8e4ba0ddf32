"""Many small Lean checks in one Lean process.

A portable Lean process costs ~12 s to start, so checks (constants agree, theorems exist, the kernel
evaluates the spec on sampled inputs) are written as separate commands of one generated file; an
error in one command does not stop the others, and each message is mapped back to its snippet by
line. The file imports the project's compiled modules, so the project must be built first.

Silence is not success: Lean exits with 1 both when a file has errors and when it crashes (the
WebAssembly build runs out of stack on deep kernel evaluations), and after a crash the remaining
commands say nothing. So each snippet is followed by a mark command whose message shows that Lean got
past it; a snippet whose mark never answered fails.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from verifier.lean.diagnostics import Diagnostic
from verifier.lean.process import Limits
from verifier.lean.project import BUILD_LIB
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.verdicts import VerdictCache
from verifier.lean.worker import pool_for


@dataclass(frozen=True)
class Snippet:
    """Lean commands checked together; `key` is the caller's name for them."""

    key: str
    code: str


@dataclass(frozen=True)
class SnippetResult:
    key: str
    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    elapsed_s: float | None = None
    first_line: int = 0

    def first_error(self) -> str:
        for diag in self.diagnostics:
            if diag.severity == "error" or diag.is_sorry:
                return diag.first_line()
        return ""


@dataclass(frozen=True)
class BatchResult:
    results: tuple[SnippetResult, ...]
    header_errors: tuple[Diagnostic, ...]
    elapsed_s: float
    peak_rss_bytes: int
    killed: str | None
    reused: bool = False

    @property
    def ok(self) -> bool:
        return not self.header_errors and self.killed is None and all(r.ok for r in self.results)

    def by_key(self) -> dict[str, SnippetResult]:
        return {r.key: r for r in self.results}


def render(imports: Sequence[str], snippets: Sequence[Snippet], opens: Sequence[str] = (),
           preamble: str | None = None) -> tuple[str, list[range]]:
    """The file text and, per snippet, the range of its lines (1-based). A `preamble` (e.g. the part of a
    source file before a theorem) replaces the generated header."""
    if preamble is not None:
        lines = [*preamble.rstrip("\n").split("\n"), ""]
    else:
        lines = ["module", ""] + [f"import {m}" for m in imports] + [""]
    lines += [f"open {ns}" for ns in opens] + [""]
    spans: list[range] = []
    for snip in snippets:
        lines.append(f"-- snippet {snip.key}")
        start = len(lines) + 1
        lines += snip.code.rstrip("\n").splitlines()
        spans.append(range(start, len(lines) + 1))
        lines += [MARK, ""]
    return "\n".join(lines) + "\n", spans


MARK = "#check Nat"  # answers "Nat : Type" on its own line: Lean got this far


def _marked(diags: Sequence[Diagnostic], span: range) -> bool:
    """Whether the mark after the snippet at `span` answered."""
    return any(d.line == span.stop and d.severity == "information" for d in diags)


def run_batch(chain: Toolchain, lean_dir: Path, imports: Sequence[str], snippets: Sequence[Snippet],
              *, opens: Sequence[str] = (), limits: Limits | None = None, reuse: bool = False,
              preamble: str | None = None, profile: bool = False, slices: int = 1) -> BatchResult:
    """Check every snippet in one Lean process; results in the snippets' order.

    With `reuse`, a verdict saved for exactly the same file, compiled imports and toolchain is returned
    without starting Lean. With `slices` > 1 and warm workers, independent snippets run as that many
    slices at once, dealt round-robin, each a file of its own with the same header; the slices queue for the
    workers, so one can take a worker another job frees. Their results are mapped back to the lines of the
    one file, which keys the saved verdict either way."""
    text, spans = render(imports, snippets, opens, preamble)
    lib = lean_dir.absolute() / BUILD_LIB
    cache = VerdictCache(lean_dir, "batch")
    key = cache.key(chain, text, sorted(lib.rglob("*.olean*")))

    def compute() -> BatchResult:
        if slices > 1 and preamble is None and not profile and pool_for(chain) and len(snippets) >= 2 * slices:
            return _run_slices(chain, lean_dir, imports, opens, snippets, spans, slices, limits)
        return _run(chain, lean_dir, text, spans, snippets, limits, profile)

    return cache.reuse_or_compute(key, reuse, _from_json, compute, lambda result: result.killed is None)


def _run_slices(chain: Toolchain, lean_dir: Path, imports: Sequence[str], opens: Sequence[str],
                snippets: Sequence[Snippet], spans: list[range], slices: int, limits: Limits | None) -> BatchResult:
    # dealt round-robin: a family's cases sit together and their costs differ a hundredfold, so consecutive
    # slices would leave one worker with most of the work
    parts = [list(range(i, len(snippets), slices)) for i in range(slices)]

    def one(part: list[int]) -> BatchResult:
        mine = [snippets[i] for i in part]
        text, part_spans = render(imports, mine, opens)
        batch = _run(chain, lean_dir, text, part_spans, mine, limits, False)
        moved = tuple(_shift(r, spans[i].start - span.start)  # to where the snippet sits in the one file
                      for r, i, span in zip(batch.results, part, part_spans, strict=True))
        return replace(batch, results=moved)

    start = time.monotonic()
    with ThreadPoolExecutor(len(parts)) as pool:
        done = list(pool.map(one, parts))
    placed: dict[int, SnippetResult] = {}
    for part, batch in zip(parts, done, strict=True):
        placed.update(zip(part, batch.results, strict=True))
    results = [placed[i] for i in range(len(snippets))]
    if [r.key for r in results] != [s.key for s in snippets]:
        raise RuntimeError("batch slices did not answer every snippet once, in order")
    header = tuple(dict.fromkeys(d for batch in done for d in batch.header_errors))
    killed = "; ".join(dict.fromkeys(batch.killed for batch in done if batch.killed)) or None
    return BatchResult(tuple(results), header, round(time.monotonic() - start, 2),
                       max(batch.peak_rss_bytes for batch in done), killed)


def _shift(result: SnippetResult, lines: int) -> SnippetResult:
    moved = tuple(replace(d, line=d.line + lines, end_line=None if d.end_line is None else d.end_line + lines)
                  for d in result.diagnostics)
    return replace(result, diagnostics=moved, first_line=result.first_line + lines)


def _from_json(data: dict) -> BatchResult:
    results = tuple(SnippetResult(r["key"], r["ok"], tuple(Diagnostic(**d) for d in r["diagnostics"]),
                                  r.get("elapsed_s"), r.get("first_line", 0)) for r in data["results"])
    header = tuple(Diagnostic(**d) for d in data["header_errors"])
    return BatchResult(results, header, data["elapsed_s"], data["peak_rss_bytes"], data["killed"], True)


def _run(chain: Toolchain, lean_dir: Path, text: str, spans: list[range], snippets: Sequence[Snippet],
         limits: Limits | None, profile: bool) -> BatchResult:
    flags = {"profiler": "true", "profiler.threshold": "1"} if profile else {}
    lean = chain.run_file(text, search_path=[lean_dir.absolute() / BUILD_LIB], options=flags,
                          file_name="QuantproofBatch.lean", limits=limits)
    run, output = lean.process, lean.output
    diags = output.diagnostics
    inside = {id(d) for d in diags for span in spans if d.line in span}
    header = tuple(d for d in diags if id(d) not in inside and d.severity == "error")
    if run.killed is None and run.returncode != 0 and not any(d.severity == "error" for d in diags):
        header += (Diagnostic("error", "quantproof.leanCrash", f"Lean exited with {run.returncode}: "
                              f"{run.stderr.strip()[-300:]}", lean.source.name, 1, 0),)
    # a snippet passes only if its own lines are clean and the file as a whole ran (imports included)
    healthy = run.killed is None and not header
    results = []
    for snip, span in zip(snippets, spans, strict=True):
        mine = tuple(d for d in diags if d.line in span)
        if not _marked(diags, span):
            mine += (Diagnostic("error", "quantproof.notReached", f"Lean stopped before this snippet's end (exit "
                                f"{run.returncode}): no verdict", lean.source.name, span.start, 0),)
        bad = any(d.severity == "error" or d.is_sorry for d in mine)
        times = [t.seconds for t in output.timings if t.line in span]
        results.append(SnippetResult(snip.key, healthy and not bad, mine, round(sum(times), 4) if times else None,
                                     span.start))
    return BatchResult(tuple(results), header, round(run.elapsed_s, 2), run.peak_rss_bytes, run.killed)
