"""From results to judgements: requirement status, the verdict, trace integrity, problem reports and
the compliance summary. Pure functions of the evidence data, so a re-render judges exactly as the run did.

A theorem counts as proved only if it compiled, the audit found no `sorry`, no project axiom and no
compiler-trust axiom in its closure, and its statement's hash equals the last reviewed hash.
"""

from __future__ import annotations

import networkx as nx

FAIL, PASS = "FAIL", "PASS"


def theorem_rows(req: dict, audit: dict, reviews: dict) -> list[dict]:
    by_name = {t["name"]: t for t in audit["theorems"]}
    missing = {m["name"]: m for m in audit["missing"]}
    rows = []
    for name in req["lean"]:
        t = by_name.get(name)
        if t is None:
            why = missing[name]["reason"] if name in missing else "not found in the compiled project"
            rows.append({"name": name, "status": "missing", "reason": why, "review": "unreviewed", "statement": "",
                         "hash": "", "reviewed_hash": reviews.get(name, {}).get("hash", "")})
            continue
        reviewed = reviews.get(name, {}).get("hash", "")
        review = "unreviewed" if not reviewed else "reviewed" if reviewed == t["statement_hash"] else "changed"
        rows.append({"name": name, "status": t["status"], "reason": "", "review": review, "statement": t["statement"],
                     "hash": t["statement_hash"], "reviewed_hash": reviewed, "file": t["file"], "line": t["line"]})
    return rows


def assess_requirement(req: dict, audit: dict, checks: dict, reviews: dict) -> dict:
    theorems = theorem_rows(req, audit, reviews)
    props = {p["name"]: p for p in checks.get("properties", [])}
    diffs = {d["name"]: d for d in checks.get("differential", [])}
    problems = []
    for t in theorems:
        if t["status"] != "proved":
            detail = {"sorry": "uses sorry", "extra-axiom": "rests on a project axiom",
                      "compiler-trust": "trusts the compiler (native_decide / ofReduceBool)",
                      "missing": f"missing ({t['reason']})"}.get(t["status"], t["status"])
            problems.append(f"{t['name']} {detail}")
        elif t["review"] != "reviewed":
            why = "changed since review" if t["review"] == "changed" else "never reviewed"
            problems.append(f"{t['name']} statement {why} (suspect)")
    prop_rows = []
    for name in req["python"]:
        p = props.get(name)
        if p is None:
            problems.append(f"property {name} was not run")
        elif not p["passed"]:
            problems.append(f"property {name} failed: {p.get('counterexample') or ''}".rstrip(": "))
        prop_rows.append(p or {"name": name, "passed": False, "missing": True})
    diff_rows = []
    for name in req.get("differential", []):
        d = diffs.get(name)
        if d is None:
            problems.append(f"differential {name} was not run")
        else:
            bad = sum(not c["agreed"] for c in d["cases"])
            if bad or not d["cases"]:
                problems.append(f"differential {name}: {bad} of {len(d['cases'])} cases disagree with Lean")
        diff_rows.append(d or {"name": name, "cases": [], "missing": True})
    if not req["lean"]:
        problems.append("no Lean theorem traces to this requirement")
    if not req["python"] and not req.get("differential"):
        problems.append("no executable check traces to this requirement")
    return {"id": req["id"], "title": req["title"], "text": req["text"], "theorems": theorems,
            "properties": prop_rows, "differential": diff_rows, "problems": problems,
            "status": PASS if not problems else FAIL}


def verdict(requirements: list[dict], build: dict, checks: dict, audit: dict) -> dict:
    failures = []
    if build.get("status") != "ok":
        bad = [f"{m['module']} {m['status']}" for m in build.get("modules", [])
               if m["status"] not in ("built", "up-to-date")]
        failures.append(f"build {build.get('status', 'missing')}: {', '.join(bad) or 'no modules'}")
    for req in requirements:
        failures += [f"{req['id']}: {p}" for p in req["problems"]]
    for t in audit.get("theorems", []):
        if t["status"] != "proved" and not any(t["name"] in f for f in failures):
            failures.append(f"untraced theorem {t['name']}: {t['status']}")
    if audit.get("declared_axioms"):
        failures.append(f"project declares axioms: {', '.join(audit['declared_axioms'])}")
    if audit.get("cross_check_mismatches"):
        failures += [f"#print axioms disagrees: {m}" for m in audit["cross_check_mismatches"]]
    if checks.get("lean_killed") or checks.get("lean_header_errors"):
        failures.append(f"differential Lean run failed: {checks.get('lean_killed') or checks['lean_header_errors'][0]}")
    if not checks.get("differential"):
        failures.append("differential checks were not run")
    passed = sum(r["status"] == PASS for r in requirements)
    status = PASS if not failures else FAIL
    line = (f"PASS: all {len(requirements)} requirements proved, checked and unchanged" if status == PASS
            else f"FAIL: {passed} of {len(requirements)} requirements pass; {failures[0]}"
                 + (f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""))
    return {"status": status, "line": line, "failures": failures, "requirements_passed": passed,
            "requirements_total": len(requirements)}


def trace(requirements: list[dict], audit: dict) -> dict:
    """Requirement -> theorem -> supporting lemma graph; orphans, untraced theorems, suspect links."""
    graph = nx.DiGraph()
    theorems = {t["name"]: t for t in audit["theorems"]}
    for t in audit["theorems"]:
        graph.add_node(t["name"], kind="theorem")
        for used in t.get("uses_project", []):
            if used in theorems:
                graph.add_edge(t["name"], used)
    for req in requirements:
        graph.add_node(req["id"], kind="requirement")
        for row in req["theorems"]:
            graph.add_edge(req["id"], row["name"])
    traced: dict[str, list[str]] = {}
    for req in requirements:
        for name in nx.descendants(graph, req["id"]):
            traced.setdefault(name, []).append(req["id"])
    untraced = sorted(n for n in theorems if n not in traced)
    orphans = [r["id"] for r in requirements if not r["theorems"] or not (r["properties"] or r["differential"])]
    suspect = [f"{r['id']} -> {t['name']}" for r in requirements for t in r["theorems"] if t["review"] != "reviewed"]
    matrix = [{"requirement": r["id"], "theorems": [t["name"] for t in r["theorems"]],
               "supporting": sorted(n for n, reqs in traced.items() if r["id"] in reqs and n not in
                                    {t["name"] for t in r["theorems"]}),
               "properties": [p["name"] for p in r["properties"]],
               "differential": [d["name"] for d in r["differential"]]} for r in requirements]
    return {"matrix": matrix, "orphan_requirements": orphans, "untraced_theorems": untraced,
            "suspect_links": suspect, "traced_theorems": len(traced)}


def problem_reports(requirements: list[dict], build: dict, checks: dict, audit: dict,
                    mutants: list[dict]) -> list[dict]:
    reports = []
    for m in build.get("modules", []):
        for d in m.get("diagnostics", []):
            if d["severity"] == "error" or d["kind"] == "hasSorry":
                reports.append({"kind": "build", "subject": f"{d['file']}:{d['line']}", "text": d["text"][:300],
                                "disposition": "open: must be fixed before the evidence can pass"})
    for req in requirements:
        for p in req["problems"]:
            reports.append({"kind": "requirement", "subject": req["id"], "text": p, "disposition": "open"})
    for c in checks.get("claims", []):
        if c["verdict"] in ("false", "holds-with-conditions"):
            reports.append({"kind": "design claim", "subject": c["claim"], "text": c["value"],
                            "disposition": "reported against the design documents; the proved statement is the "
                                           "corrected claim" if c["verdict"] != "false" or "Lean" in c["evidence"]
                                           else "reported against the design documents"})
    for m in mutants:
        if not m["caught"]:
            reports.append({"kind": "test effectiveness", "subject": m["name"], "text": f"injected fault not caught: "
                            f"{m['fault']}", "disposition": "open: strengthen the property"})
    reports.append({"kind": "limitation", "subject": "axiom audit", "text": audit.get("limitation", ""),
                    "disposition": "accepted: the core library is trusted as shipped by the Lean project"})
    return reports


def compliance(requirements: list[dict], verdict_: dict, trace_: dict, checks: dict, mutants: list[dict],
               config: dict, audit: dict) -> list[dict]:
    def row(objective: str, text: str, evidence: str, ok: bool) -> dict:
        return {"objective": objective, "description": text, "evidence": evidence, "status": "met" if ok else "not met"}

    all_proved = all(t["status"] == "proved" for r in requirements for t in r["theorems"])
    reviewed = all(t["review"] == "reviewed" for r in requirements for t in r["theorems"])
    props_ok = all(p.get("passed") for r in requirements for p in r["properties"])
    diff_ok = bool(checks.get("differential")) and all(not any(not c["agreed"] for c in d["cases"])
                                                        for d in checks.get("differential", []))
    return [
        row("DO-178C §7 / §11.4", "Configuration identified", "Configuration index", not config.get("dirty", True)),
        row("FM.A-3 / FM.A-4 (FM.6.3.i)", "Formal statements accurately express the requirements (reviewed)",
            "Formalization review", reviewed),
        row("FM.A-5 (FM.6.3.6)", "Formal analysis results correct and complete (proofs kernel-checked, no sorry, "
            "no extra axioms)", "Proof results, axiom audit", all_proved and not audit.get("declared_axioms")),
        row("FM.6.2.1.c / FM.6.7.1.2", "Assumptions identified and justified", "Assumptions register", True),
        row("FM.6.7.f / A-6", "Property preservation: executable code computes the formal model",
            "Property preservation (differential)", diff_ok),
        row("A-6 / A-7", "Executable code complies with the requirements (property tests)", "Property and test results",
            props_ok),
        row("A-7", "Test procedures are effective (injected faults caught)", "Test effectiveness",
            all(m["caught"] for m in mutants)),
        row("§11.21", "Bidirectional trace, no orphans or suspect links", "Trace matrix",
            not trace_["orphan_requirements"] and not trace_["suspect_links"]),
        row("DO-330 / §12.2", "Tools identified and qualification need assessed", "Tool qualification", True),
        row("Accomplishment summary", "All requirements proved, checked and unchanged", "Verdict",
            verdict_["status"] == PASS),
    ]
