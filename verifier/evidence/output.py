"""Writing and reading an evidence folder: evidence.json, report.html, summary.md, all or nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from verifier.errors import UserError
from verifier.evidence.collect import SCHEMA, SCHEMA_VERSION
from verifier.evidence.render_html import counts, render_html


def render_markdown(data: dict) -> str:
    v = data["verdict"]
    lines = [f"# quantproof evidence: {v['status']}", "", v["line"], ""]
    lines += ["| Evidence | Passing | Total |", "| --- | ---: | ---: |"]
    lines += [f"| {label} | {ok} | {total} |" for label, ok, total in counts(data)]
    lines += ["", "| Requirement | Status | Problems |", "| --- | --- | --- |"]
    lines += [f"| {r['id']} {r['title']} | {r['status']} | {'; '.join(r['problems']) or '—'} |"
              for r in data["requirements"]]
    lines += ["", "## Claims of the design documents", ""]
    lines += [f"- **{c['verdict']}**: {c['claim']} — {c['value']}" for c in data["checks"]["claims"]]
    if v["failures"]:
        lines += ["", "## Failures", ""] + [f"- {f}" for f in v["failures"]]
    config = data["configuration"]
    lines += ["", f"Commit `{config['commit']}`{' (uncommitted changes)' if config['dirty'] else ''}, "
                  f"{config['toolchain']['kind']} Lean {config['toolchain']['lean_version']}; "
                  f"generated {data['generated_at']}.", ""]
    return "\n".join(lines)


def write_evidence(data: dict, out: Path) -> None:
    """Build the three files in a sibling temporary folder, then swap it into place."""
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a folder; choose another --out")
    if out.is_dir() and not (out / "evidence.json").is_file() and any(out.iterdir()):
        raise UserError(f"{out} exists and is not an evidence folder; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        tmp.chmod(0o755)
    except OSError as exc:
        raise UserError(f"cannot write evidence to {out} ({exc.strerror or exc})") from None
    try:
        (tmp / "evidence.json").write_text(json.dumps(data, indent=1, sort_keys=False), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(data), encoding="utf-8")
        (tmp / "summary.md").write_text(render_markdown(data), encoding="utf-8")
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


def read_evidence(folder: Path) -> dict:
    path = folder / "evidence.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})", hint="run `quantproof evidence --out DIR` first") \
            from None
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if data.get("schema") != SCHEMA or data.get("schema_version") != SCHEMA_VERSION:
        raise UserError(f"{path}: schema {data.get('schema')} v{data.get('schema_version')}, expected {SCHEMA} "
                        f"v{SCHEMA_VERSION}", hint="regenerate it with `quantproof evidence`")
    return data
