"""Writing and reading an evidence folder: evidence.json, report.html, summary.md, all or nothing.

Reading validates the whole document against its types (pydantic, strict JSON mode): a damaged,
partial or foreign evidence.json is one line naming the first thing wrong, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from verifier.errors import UserError
from verifier.evidence import assess
from verifier.evidence.records import SCHEMA, SCHEMA_VERSION, EvidenceDocument
from verifier.evidence.render import render_html, render_markdown
from verifier.folders import can_create_beside
from verifier.serial import to_jsonable

FILES = ("evidence.json", "report.html", "summary.md")


def check_out_folder(out: Path) -> Path:
    """Refuse, before any work, a destination that is a file, a folder of something else, or unwritable."""
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a folder; choose another --out")
    if out.is_dir() and not (out / "evidence.json").is_file() and any(out.iterdir()):
        raise UserError(f"{out} exists and is not an evidence folder; choose another --out")
    can_create_beside(out, "evidence")
    return out


def write_evidence(doc: EvidenceDocument, out: Path) -> None:
    """Build the three files in a sibling temporary folder, then swap it into place."""
    out = check_out_folder(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        tmp.chmod(0o755)
    except OSError as exc:
        raise UserError(f"cannot write evidence to {out} ({exc.strerror or exc})") from None
    try:
        (tmp / "evidence.json").write_text(json.dumps(to_jsonable(doc), indent=1), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(doc), encoding="utf-8")
        (tmp / "summary.md").write_text(render_markdown(doc), encoding="utf-8")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@cache
def _adapter() -> TypeAdapter[EvidenceDocument]:
    return TypeAdapter(EvidenceDocument)


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "the document"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def parse_evidence(text: str, path: Path) -> EvidenceDocument:
    """The typed document in `text`, or a one-line error naming `path` and what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: not an evidence document (a JSON {type(data).__name__}, expected an object)")
    if data.get("schema") != SCHEMA or data.get("schema_version") != SCHEMA_VERSION:
        raise UserError(f"{path}: schema {data.get('schema')} v{data.get('schema_version')}, expected {SCHEMA} "
                        f"v{SCHEMA_VERSION}", hint="regenerate it with `quantproof evidence`")
    try:
        doc = _adapter().validate_json(text, strict=True)
    except ValidationError as exc:
        raise UserError(f"{path}: damaged evidence document: {_first_problem(exc)}",
                        hint="regenerate it with `quantproof evidence`") from None
    judged = assess.verdict(doc.requirements, doc.build, doc.checks, doc.audit, doc.replay, doc.mutants,
                            doc.trace)
    if judged.status != doc.verdict.status:
        raise UserError(f"{path}: its verdict {doc.verdict.status} does not follow from its own results "
                        f"(they give {judged.status})", hint="regenerate it with `quantproof evidence`")
    return doc


def read_evidence(folder: Path) -> EvidenceDocument:
    path = folder / "evidence.json"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UserError(f"{path}: cannot read ({why})", hint="run `quantproof evidence --out DIR` first") from None
    return parse_evidence(text, path)
