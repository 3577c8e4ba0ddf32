"""report.html: one self-contained page (inline CSS and SVG, nothing fetched) rendered from evidence.json."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from verifier.evidence.figures import summary_svg, trace_svg

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#212121;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid #e0e0e0;padding-bottom:4px}
.verdict{padding:14px 18px;border-radius:6px;font-size:18px;font-weight:700;color:#fff;margin:12px 0}
.PASS{background:#2e7d32} .FAIL{background:#c62828}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;background:#fff}
th,td{border:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-word}
.ok{color:#2e7d32;font-weight:600} .bad{color:#c62828;font-weight:600} .warn{color:#ef6c00;font-weight:600}
.tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600}
.tag.ok{background:#e8f5e9} .tag.bad{background:#ffebee} .tag.warn{background:#fff3e0}
nav a{margin-right:10px;font-size:13px} details{margin:4px 0} summary{cursor:pointer}
.small{font-size:12px;color:#616161} svg{max-width:100%;height:auto}
"""

SECTIONS = [("summary", "Summary"), ("configuration", "Configuration index"), ("scope", "Scope"),
            ("method", "Method"), ("formalization", "Formalization review"), ("proofs", "Proof results"),
            ("assumptions", "Assumptions register"), ("preservation", "Property preservation"),
            ("tests", "Property and test results"), ("effectiveness", "Test effectiveness"),
            ("trace", "Trace matrix"), ("claims", "Claims audit"), ("tools", "Tool qualification"),
            ("problems", "Problem reports"), ("compliance", "Compliance summary")]


def e(value: object) -> str:
    return escape(str(value))


def tag(text: str, kind: str) -> str:
    return f'<span class="tag {kind}">{e(text)}</span>'


def status_tag(status: str) -> str:
    good = {"PASS", "proved", "reviewed", "met", "holds", "caught", "agree", "built", "up-to-date", "passed"}
    warn = {"holds-with-conditions", "not-checkable", "unreviewed", "incomplete", "skipped"}
    return tag(status, "ok" if status in good else "warn" if status in warn else "bad")


def table(headers: list[str], rows: Iterable[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def counts(data: dict) -> list[tuple[str, int, int]]:
    reqs, audit, checks = data["requirements"], data["audit"], data["checks"]
    theorems = audit["theorems"]
    cases = [c for d in checks.get("differential", []) for c in d["cases"]]
    return [
        ("Requirements passing", sum(r["status"] == "PASS" for r in reqs), len(reqs)),
        ("Theorems proved (kernel, no sorry, no extra axiom)", sum(t["status"] == "proved" for t in theorems),
         len(theorems) + len(audit["missing"])),
        ("Requirement statements reviewed", sum(t["review"] == "reviewed" for r in reqs for t in r["theorems"]),
         sum(len(r["theorems"]) for r in reqs)),
        ("Property checks passing", sum(p["passed"] for p in checks["properties"]), len(checks["properties"])),
        ("Differential cases agreeing", sum(c["agreed"] for c in cases), len(cases)),
        ("Injected faults caught", sum(m["caught"] for m in data["mutants"]), len(data["mutants"])),
    ]


def section_summary(data: dict) -> str:
    rows = [[e(label), f'<span class="num" data-count="{e(label)}">{ok}</span>', str(total),
             status_tag("PASS" if ok == total and total else "FAIL")] for label, ok, total in counts(data)]
    reqs = table(["Requirement", "Title", "Theorems", "Checks", "Status"],
                 [[f"<a href='#{e(r['id'])}'>{e(r['id'])}</a>", e(r["title"]), str(len(r["theorems"])),
                   str(len(r["properties"]) + len(r["differential"])), status_tag(r["status"])]
                  for r in data["requirements"]])
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in data["figures"]["timings_s"].items())
    return (table(["Evidence", "Passing", "Total", "Status"], rows, "summary") + summary_svg(counts(data))
            + reqs + f'<p class="small">Run times: {e(timings)}.</p>')


def section_configuration(data: dict) -> str:
    c = data["configuration"]
    tc = c["toolchain"]
    head = table(["Item", "Value"], [
        ["commit", f"<code>{e(c['commit'])}</code>" + (" " + tag("uncommitted changes", "bad") if c["dirty"] else "")],
        ["toolchain", e(f"{tc['kind']} Lean {tc['lean_version']} ({tc['target']}), commit {tc['commit']}")],
        ["chosen because", e(tc.get("reason", ""))],
        ["node / npm integrity", e(f"{tc.get('node_version', '—')} / {tc.get('npm_integrity', '—')}")],
        ["patched lean.js sha256", f"<code>{e(tc.get('patched_lean_js_sha256', '—'))}</code>"],
        ["glue fixes", e(", ".join(tc.get("glue_fixes") or []))],
        ["python / platform", e(f"{c['python']} / {c['platform']}")],
        ["packages", e(", ".join(f"{k} {v}" for k, v in c["packages"].items()))],
        ["command lines", "<br>".join(f"<code>{e(x)}</code>" for x in c["commands"])],
    ])
    files = table(["File", "sha256", "Bytes"], [[f"<code>{e(f['path'])}</code>", f"<code>{e(f['sha256'])}</code>",
                                                  str(f["bytes"])] for f in c["inputs"]])
    return head + f"<details><summary>sha256 of all {len(c['inputs'])} input files</summary>{files}</details>"


def section_scope(data: dict) -> str:
    s = data["scope"]
    return (f"<p>Software level claimed: <b>{e(s['software_level'])}</b>.</p>"
            "<p>Objectives met by formal proof:</p><ul>" + "".join(f"<li>{e(x)}</li>" for x in s["by_proof"]) + "</ul>"
            "<p>Objectives met by test:</p><ul>" + "".join(f"<li>{e(x)}</li>" for x in s["by_test"]) + "</ul>"
            "<p>Exclusions:</p><ul>" + "".join(f"<li>{e(x)}</li>" for x in s["exclusions"]) + "</ul>")


def section_method(data: dict) -> str:
    m = data["method"]
    return table(["Item", "Value"], [
        ["Lean", e(f"{m['lean_version']} ({m['target']}), commit {m['lean_commit']}")],
        ["Logic", e(m["logic"])],
        ["Accepted axioms", ", ".join(f"<code>{e(a)}</code>" for a in m["accepted_axioms"])],
        ["Rejected", ", ".join(f"<code>{e(a)}</code>" for a in m["rejected"])],
        ["Soundness argument", e(m["soundness"])],
        ["Limitation", e(m["audit_limitation"])],
    ])


def section_formalization(data: dict) -> str:
    out = []
    for r in data["requirements"]:
        rows = [[f"<code>{e(t['name'])}</code>", f"<code>{e(t['statement'])}</code>",
                 f"<code>{e(t['hash'][:16])}</code>", status_tag(t["review"]) if t["review"] != "changed"
                 else tag("suspect: changed since review", "bad")] for t in r["theorems"]]
        out.append(f"<h3 id='{e(r['id'])}'>{e(r['id'])}: {e(r['title'])} {status_tag(r['status'])}</h3>"
                   f"<p>{e(r['text'])}</p>" + table(["Theorem", "Lean statement", "Statement hash", "Review"], rows))
        if r["problems"]:
            out.append("<ul>" + "".join(f"<li class='bad'>{e(p)}</li>" for p in r["problems"]) + "</ul>")
    return "".join(out)


def section_proofs(data: dict) -> str:
    a = data["audit"]
    rows = [[f"<code>{e(t['name'])}</code>", e(f"{t['file']}:{t['line']}"), status_tag(t["status"]),
             "yes" if t["uses_sorry"] else "no", e(", ".join(t["project_axioms"]) or "none"),
             e(", ".join(t["compiler_trust"]) or "none"), e(", ".join(t["standard_axioms"]) or "none"),
             f"<details><summary>{len(t['rests_on'])} constants in {len(t['rests_on_modules'])} modules</summary>"
             f"<span class='mono'>{e(', '.join(t['rests_on']))}</span></details>"]
            for t in a["theorems"]]
    rows += [[f"<code>{e(m['name'])}</code>", e(f"{m['file']}:{m['line']}"), status_tag("not compiled"),
              "—", "—", "—", "—", e(m["reason"])] for m in a["missing"]]
    note = (f"<p class='small'>Read from the compiled .olean files ({a['pointer_bytes'] * 8}-bit, Lean "
            f"{e(a['lean_version'])}). {e(a['limitation'])}</p>")
    if a.get("declared_axioms"):
        note += f"<p class='bad'>The project declares axioms: {e(', '.join(a['declared_axioms']))}</p>"
    return note + table(["Theorem", "Where", "Status", "sorry", "Project axioms", "Compiler trust",
                         "Standard axioms", "Rests on (core library)"], rows)


def section_assumptions(data: dict) -> str:
    rows = []
    for item in data["assumptions"]:
        for h in item["hypotheses"]:
            rows.append([f"<code>{e(item['theorem'])}</code>", e(item["requirement"]),
                         f"<code>{e(h['statement'])}</code>", e(h["discharge"])])
    return f"<p>{len(rows)} hypotheses over {len(data['assumptions'])} theorems.</p>" + table(
        ["Theorem", "Requirement", "Hypothesis", "How it is discharged"], rows)


def section_preservation(data: dict) -> str:
    rows = []
    for d in data["checks"].get("differential", []):
        bad = sum(not c["agreed"] for c in d["cases"])
        detail = "".join(f"<li><code>{e(c['lean_expr'][:200])}</code> NumPy: {e(c['numpy_value'])} "
                         f"{e(c['lean_message'][:120])}</li>" for c in d["cases"] if not c["agreed"])
        rows.append([e(d["req"]), f"<code>{e(d['lean_definition'])}</code>", f"<code>{e(d['numpy_function'])}</code>",
                     e(d["semantics"]), str(len(d["cases"])), status_tag("agree" if not bad else f"{bad} disagree")
                     + (f"<ul>{detail}</ul>" if detail else "")])
    checks = data["checks"]
    head = (f"<p>The Lean kernel evaluated every case (generated <code>example : spec(inputs) = numpy_answer := "
            f"by decide</code>) in one process: {checks.get('differential_cases', 0)} cases, "
            f"{checks.get('disagreements', 0)} disagreements, {checks.get('lean_elapsed_s', 0):.1f} s"
            + (" (verdicts reused: same cases, same compiled modules)" if checks.get("lean_reused") else "") + ".</p>")
    if not rows:
        head = "<p class='bad'>Differential checks were not run.</p>"
    return head + table(["Req", "Lean definition", "NumPy function", "Semantics", "Cases", "Result"], rows)


def section_tests(data: dict) -> str:
    rows = [[e(p["req"]), f"<code>{e(p['name'])}</code>", e(p["description"]), e(p["strategy"]), str(p["seed"]),
             str(p["examples_run"]), str(p["examples_filtered"]),
             "—" if p["worst_margin"] is None else f"{p['worst_margin']:.3g} ({e(p['margin_meaning'])})",
             status_tag("passed" if p["passed"] else "failed") + (f"<br><code>{e(p['counterexample'])}</code>"
                                                                  if p.get("counterexample") else "")]
            for p in data["checks"]["properties"]]
    closed = table(["Req", "Closed form", "Expression", "Value", "Expected", "Result"],
                   [[e(c["req"]), e(c["name"]), f"<code>{e(c['expression'])}</code>", e(c["value"]), e(c["expected"]),
                     status_tag("agree" if c["agreed"] else "disagree")] for c in data["checks"]["closed_forms"]])
    return table(["Req", "Property", "Checks", "Strategy", "Seed", "Examples", "Filtered", "Worst margin", "Verdict"],
                 rows) + "<h3>Closed forms (sympy)</h3>" + closed


def section_effectiveness(data: dict) -> str:
    rows = [[e(m["req"]), f"<code>{e(m['name'])}</code>", e(m["fault"]), e(", ".join(m["properties"])),
             status_tag("caught" if m["caught"] else "missed")] for m in data["mutants"]]
    return "<p>Faults injected into the kernels; each must make a property fail.</p>" + table(
        ["Req", "Mutant", "Injected fault", "Properties run", "Result"], rows)


def section_trace(data: dict) -> str:
    t = data["trace"]
    rows = [[e(m["requirement"]), "<br>".join(f"<code>{e(x)}</code>" for x in m["theorems"]),
             f"<details><summary>{len(m['supporting'])}</summary><span class='mono'>{e(', '.join(m['supporting']))}"
             "</span></details>", "<br>".join(e(x) for x in m["properties"]),
             "<br>".join(e(x) for x in m["differential"])] for m in t["matrix"]]
    issues = (f"<p>Orphan requirements: {e(', '.join(t['orphan_requirements']) or 'none')}. "
              f"Untraced theorems: {e(', '.join(t['untraced_theorems']) or 'none')}. "
              f"Suspect links: {e(', '.join(t['suspect_links']) or 'none')}. "
              f"{t['traced_theorems']} theorems trace to a requirement (directly or as supporting lemmas).</p>")
    return issues + table(["Requirement", "Theorems", "Supporting lemmas", "Properties", "Differential"], rows) + \
        trace_svg(t, data["requirements"])


def section_claims(data: dict) -> str:
    rows = [[e(c["claim"]), e(c["source"]), e(c["value"]), status_tag(c["verdict"]), e(c["evidence"])]
            for c in data["checks"]["claims"]]
    model = [[e(r["layer"]), str(r["m"]), e(r["tile"]), str(r["tiles"]), f"{r['tile_bytes']:,}",
              f"{r['utilisation']:.2%}", f"{r['intensity']:.1f}", e(r["bound"])]
             for r in data["checks"].get("roofline", [])]
    return (table(["Claim (design documents)", "Source", "Measured or proved", "Verdict", "Evidence"], rows)
            + "<h3>LPU model: LLaMA-70B layers on the planner's tiles</h3><p class='small'>320x320 PEs, 220 KiB "
              "per tile; 900 MHz clock and 80 TB/s on-chip bandwidth assumed (the design documents give none); "
              "a tile of r x k x n takes r + k + n - 2 cycles (systolic fill and drain).</p>"
            + table(["Layer", "M", "Tile", "Tiles", "Bytes per tile", "PE utilisation", "MAC per byte", "Bound"],
                    model))


def section_tools(data: dict) -> str:
    return table(["Tool", "Use", "DO-330 criterion", "TQL", "Why"],
                 [[e(t["tool"]), e(t["use"]), e(t["criterion"]), e(t["tql"]), e(t["why"])]
                  for t in data["tool_qualification"]])


def section_problems(data: dict) -> str:
    return table(["Kind", "Subject", "Report", "Disposition"],
                 [[e(p["kind"]), e(p["subject"]), e(p["text"]), e(p["disposition"])] for p in data["problem_reports"]])


def section_compliance(data: dict) -> str:
    return table(["Objective", "Description", "Evidence", "Status"],
                 [[e(c["objective"]), e(c["description"]), e(c["evidence"]), status_tag(c["status"])]
                  for c in data["compliance"]])


def render_html(data: dict) -> str:
    v = data["verdict"]
    nav = "".join(f"<a href='#{sid}'>{e(title)}</a>" for sid, title in SECTIONS)
    body = "".join(f"<section id='{sid}'><h2>{e(title)}</h2>{globals()['section_' + sid](data)}</section>"
                   for sid, title in SECTIONS)
    failures = ""
    if v["failures"]:
        failures = "<ul>" + "".join(f"<li class='bad'>{e(f)}</li>" for f in v["failures"]) + "</ul>"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>quantproof evidence: "
            f"{e(v['status'])}</title><style>{CSS}</style></head><body><main>"
            f"<h1>quantproof evidence package</h1><p class='small'>DO-178C / DO-333 evidence for the 3.5-bit "
            f"quantized kernel, generated {e(data['generated_at'])} by quantproof {e(data['quantproof_version'])} "
            f"(schema {e(data['schema_version'])}).</p>"
            f"<div class='verdict {e(v['status'])}' id='verdict'>{e(v['line'])}</div>{failures}<nav>{nav}</nav>"
            f"{body}</main></body></html>")
