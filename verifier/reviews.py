"""Reviewed statements: what each requirement theorem meant when a person last reviewed it.

Kept in verifier/spec/reviewed.toml, in the repository. The recorded hash pins the statement *and*
every project definition it depends on (`verifier.lean.audit`: `pinned`); the statement's own hash and
each definition's hash are kept beside it, so a change names what changed. A theorem whose pinned hash
differs from its reviewed one (or that was never reviewed) is *suspect* until `quantproof review`
records it again.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from verifier.atomic_write import write_text_atomic
from verifier.errors import UserError
from verifier.lean.audit import TheoremAudit

REVIEW_FILE = Path(__file__).resolve().parent / "spec" / "reviewed.toml"


@dataclass(frozen=True)
class Review:
    """One recorded review: the pinned hash, and the statement's and each definition's hash behind it."""

    theorem: str
    hash: str
    reviewer: str
    date: str
    statement_hash: str = ""
    definitions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Meaning:
    """What a theorem means now, as the audit pins it: the pinned hash and its parts."""

    hash: str
    statement_hash: str
    definitions: dict[str, str]


def meaning_of(theorem: TheoremAudit) -> Meaning:
    return Meaning(theorem.pinned_hash, theorem.statement_hash, {p.name: p.hash for p in theorem.pinned})


def load_reviews(path: Path = REVIEW_FILE) -> dict[str, Review]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {name: Review(name, r["hash"], r.get("reviewer", ""), r.get("date", ""), r.get("statement_hash", ""),
                             {str(k): str(v) for k, v in r.get("definitions", {}).items()})
                for name, r in data.get("reviewed", {}).items()}
    except (tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: not a valid review record ({exc})") from None


def review_status(name: str, current_hash: str, reviews: dict[str, Review]) -> str:
    """reviewed | changed | unreviewed, against the pinned hash"""
    review = reviews.get(name)
    if review is None:
        return "unreviewed"
    return "reviewed" if review.hash == current_hash else "changed"


def review_changes(review: Review | None, now: Meaning) -> tuple[str, ...]:
    """What differs from the review, naming the statement or each definition that changed."""
    if review is None:
        return ("never reviewed",)
    if review.hash == now.hash:
        return ()
    changes = []
    # a review recorded before definitions were pinned holds the statement's hash as its hash
    if (review.statement_hash or review.hash) != now.statement_hash:
        changes.append("the statement changed")
    before, after = review.definitions, now.definitions
    for name in sorted(set(before) | set(after)):
        if name not in before:
            changes.append(f"definition {name} is new to it")
        elif name not in after:
            changes.append(f"definition {name} no longer in it")
        elif before[name] != after[name]:
            changes.append(f"definition {name} changed")
    return tuple(changes) or ("its pinned hash changed",)


HEADER = ("# Reviewed requirement theorems: written by `quantproof review`. `hash` pins the statement and every\n"
          "# project definition it depends on (verifier/lean/audit.py); a theorem whose pinned hash changes is\n"
          "# suspect until reviewed again. `statement_hash` and `definitions` say what a change touched.\n\n")


def save_reviews(reviews: dict[str, Review], path: Path = REVIEW_FILE) -> None:
    """Written by a TOML writer, so any reviewer name or date survives the next read."""
    table = {name: {"hash": r.hash, "reviewer": r.reviewer, "date": r.date, "statement_hash": r.statement_hash,
                    "definitions": dict(sorted(r.definitions.items()))} for name, r in sorted(reviews.items())}
    write_text_atomic(path, HEADER + tomli_w.dumps({"reviewed": table}))


def record(reviews: dict[str, Review], meanings: dict[str, Meaning], reviewer: str) -> dict[str, Review]:
    today = time.strftime("%Y-%m-%d")
    updated = dict(reviews)
    for name, now in meanings.items():
        updated[name] = Review(name, now.hash, reviewer, today, now.statement_hash, dict(now.definitions))
    return updated
