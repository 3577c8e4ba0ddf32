"""Reviewed statements: the hash of each requirement theorem's statement when a person last reviewed it.

Kept in verifier/spec/reviewed.toml, in the repository. A statement whose hash differs from its
reviewed hash (or that was never reviewed) is *suspect* until `quantproof review` records it again.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from verifier.atomic_write import write_text_atomic
from verifier.errors import UserError

REVIEW_FILE = Path(__file__).resolve().parent / "spec" / "reviewed.toml"


@dataclass(frozen=True)
class Review:
    theorem: str
    hash: str
    reviewer: str
    date: str


def load_reviews(path: Path = REVIEW_FILE) -> dict[str, Review]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {name: Review(name, r["hash"], r.get("reviewer", ""), r.get("date", ""))
                for name, r in data.get("reviewed", {}).items()}
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a valid review record ({exc})") from None


def review_status(name: str, current_hash: str, reviews: dict[str, Review]) -> str:
    """reviewed | changed | unreviewed"""
    review = reviews.get(name)
    if review is None:
        return "unreviewed"
    return "reviewed" if review.hash == current_hash else "changed"


HEADER = ("# Reviewed statement hashes: written by `quantproof review`; a changed statement is suspect until\n"
          "# reviewed again. The hash is sha256 of the statement's canonical form (verifier/lean/audit.py).\n\n")


def save_reviews(reviews: dict[str, Review], path: Path = REVIEW_FILE) -> None:
    """Written by a TOML writer, so any reviewer name or date survives the next read."""
    table = {name: {"hash": r.hash, "reviewer": r.reviewer, "date": r.date} for name, r in sorted(reviews.items())}
    write_text_atomic(path, HEADER + tomli_w.dumps({"reviewed": table}))


def record(reviews: dict[str, Review], hashes: dict[str, str], reviewer: str) -> dict[str, Review]:
    today = time.strftime("%Y-%m-%d")
    updated = dict(reviews)
    for name, digest in hashes.items():
        updated[name] = Review(name, digest, reviewer, today)
    return updated
