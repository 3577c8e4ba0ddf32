"""report.html and summary.md from the typed document, through Jinja2 templates (templates/).

The HTML environment autoescapes everything; only the figures, produced here as SVG, are marked safe.
The page is self-contained: inline CSS and SVG, nothing fetched.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from verifier.evidence.figures import summary_svg, trace_svg
from verifier.evidence.records import EvidenceDocument

SECTIONS = (("summary", "Summary"), ("configuration", "Configuration index"), ("scope", "Scope"),
            ("method", "Method"), ("formalization", "Formalization review"), ("proofs", "Proof results"),
            ("assumptions", "Assumptions register"), ("preservation", "Property preservation"),
            ("tests", "Property and test results"), ("effectiveness", "Test effectiveness"),
            ("trace", "Trace matrix"), ("claims", "Claims audit"), ("tools", "Tool qualification"),
            ("problems", "Problem reports"), ("compliance", "Compliance summary"))

GOOD = frozenset({"PASS", "proved", "reviewed", "met", "holds", "caught", "agree", "built", "up-to-date", "passed",
                  "harmless"})
WARN = frozenset({"holds-with-conditions", "not-checkable", "unreviewed", "incomplete", "skipped"})


def tone(status: str) -> str:
    """The colour class of a status word: ok, warn or bad."""
    return "ok" if status in GOOD else "warn" if status in WARN else "bad"


def counts(doc: EvidenceDocument) -> list[tuple[str, int, int]]:
    """(what, passing, total) for the summary table and bar chart."""
    theorems = doc.audit.theorems
    cases = [c for d in doc.checks.differential for c in d.cases]
    return [
        ("Requirements passing", sum(r.status == "PASS" for r in doc.requirements), len(doc.requirements)),
        ("Theorems proved (kernel, no sorry, no extra axiom)", sum(t.status == "proved" for t in theorems),
         len(theorems) + len(doc.audit.missing)),
        ("Requirement statements reviewed", sum(t.review == "reviewed" for r in doc.requirements for t in r.theorems),
         sum(len(r.theorems) for r in doc.requirements)),
        ("Property checks passing", sum(p.passed for p in doc.checks.properties), len(doc.checks.properties)),
        ("Differential cases agreeing", sum(c.agreed for c in cases), len(cases)),
        ("Injected faults caught", sum(m.caught for m in doc.mutants), len(doc.mutants)),
    ]


@cache
def _environment() -> Environment:
    """Autoescaping for the HTML templates (`*.html.j2`), none for Markdown."""
    env = Environment(loader=PackageLoader("verifier.evidence", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                                   disabled_extensions=("md.j2", "css"), default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["tone"] = tone
    env.globals["sections"] = SECTIONS
    return env


def render_html(doc: EvidenceDocument) -> str:
    table = counts(doc)
    figures = {"summary": Markup(summary_svg(table)), "trace": Markup(trace_svg(doc.requirements))}
    return _environment().get_template("report.html.j2").render(doc=doc, counts=table, figures=figures)


def render_markdown(doc: EvidenceDocument) -> str:
    return _environment().get_template("summary.md.j2").render(doc=doc, counts=counts(doc))
