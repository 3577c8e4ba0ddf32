"""`quantproof evidence` and `quantproof report`: the package, a real browser, and sabotage."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, REPO, one_line_error, run_cli
from verifier.lean.toolchain import glue
from verifier.requirements import spec

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def evidence(project_build, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("evidence") / "ev"
    proc = run_cli("evidence", "--out", str(out), "--examples-scale", "0.5", "--sarif", str(out.parent / "ev.sarif"))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert f"PASS: all {len(spec().requirements)} requirements proved, checked and unchanged" in proc.stdout
    return out


def test_a_passing_run_writes_a_valid_empty_sarif_log(evidence):
    from sarif_pydantic import Sarif

    sarif = Sarif.model_validate_json((evidence.parent / "ev.sarif").read_text())
    assert sarif.version == "2.1.0" and sarif.runs[0].tool.driver.name == "quantproof"
    assert sarif.runs[0].results == []


def test_three_files_with_a_versioned_schema(evidence):
    data = json.loads((evidence / "evidence.json").read_text())
    assert data["schema"] == "quantproof-evidence" and data["schema_version"] == 1
    assert data["verdict"]["status"] == "PASS" and data["verdict"]["failures"] == []
    for section in ("configuration", "scope", "method", "requirements", "audit", "assumptions", "checks", "mutants",
                    "trace", "tool_qualification", "problem_reports", "compliance", "figures"):
        assert data[section], section
    assert {r["id"] for r in data["requirements"]} == {"REQ-PACK", "REQ-QERR", "REQ-OVF", "REQ-MM", "REQ-TILE",
                                                       "REQ-SCALE", "REQ-ACT", "REQ-E2E"}
    assert any(f["path"] == "lean/Quantproof/Quant.lean" and len(f["sha256"]) == 64
               for f in data["configuration"]["inputs"])
    assert data["configuration"]["toolchain"]["commit"].startswith("38f3c0c")
    assert all(m["caught"] for m in data["mutants"])
    assert data["trace"]["orphan_requirements"] == [] and data["trace"]["suspect_links"] == []
    assert data["replay"]["passed"] and data["replay"]["checked"] > 300 and data["replay"]["failures"] == []
    assert data["checks"]["constants"] and all(c["agreed"] for c in data["checks"]["constants"])
    assert {c["name"] for c in data["checks"]["constants"]} == set(spec().constants)
    assert data["audit"]["options"] == []
    measured = data["configuration"]["toolchain"]["measured_sha256"]
    assert measured["lean.js"] == glue.PATCHED_SHA256 and data["configuration"]["toolchain"]["library_files"] > 2000
    assert "# quantproof evidence: PASS" in (evidence / "summary.md").read_text()


def test_report_is_self_contained(evidence):
    html = (evidence / "report.html").read_text()
    assert "<svg" in html and "<style>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html


def test_report_rerenders_from_saved_results(evidence, tmp_path):
    again = tmp_path / "again"
    proc = run_cli("report", "--from", str(evidence), "--out", str(again))
    assert proc.returncode == 0 and proc.stdout.startswith("PASS")
    assert (again / "report.html").read_text() == (evidence / "report.html").read_text()
    assert json.loads((again / "evidence.json").read_text()) == json.loads((evidence / "evidence.json").read_text())


def test_report_in_a_real_browser(evidence):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,2400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    try:
        driver.get((evidence / "report.html").as_uri())
        data = json.loads((evidence / "evidence.json").read_text())
        verdict = driver.find_element("id", "verdict")
        assert verdict.is_displayed() and verdict.text == data["verdict"]["line"]
        rows = [r.text for r in driver.find_elements("css selector", "table.summary tbody tr")]
        theorems = len(data["audit"]["theorems"])
        assert f"Theorems proved (kernel, no sorry, no extra axiom) {theorems} {theorems} PASS" in rows
        total = len(data["requirements"])
        assert f"Requirements passing {total} {total} PASS" in rows
        ARTIFACTS.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(ARTIFACTS / "report.png"))
    finally:
        driver.quit()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


# --- sabotage ---------------------------------------------------------------------------------------------
# One copy of the built project carries every source sabotage, in four modules rebuilt together (to keep CI
# short); each must be named as the culprit with its own reason. That one bad item alone flips the verdict
# is shown on the judgement itself (tests/test_judgement.py).

MAX_PROOF = """  have h1 := matmul_error_le hs hle xs ws hw
  have h2 := Rat.mul_le_mul_of_nonneg_left (sumRabs_le xs hx) (show 0 ≤ s / 2 by grind)
  grind"""
SEED_PROOF = """    rabs (dotRat xs ws - dotRat xs (ws.map (quantDeq s qmin qmax))) ≤ xs.length * s := by
  have := matmul_error_le_max hs hle xs ws hw hx
  grind"""
INT8_HEAD = "public theorem matmul_error_seed_false_int8 :"


def _edit(lean: Path, module: str, old: str, new: str) -> None:
    path = lean / "Quantproof" / f"{module}.lean"
    text = path.read_text()
    assert old in text, f"sabotage target moved in {module}.lean"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def sabotaged(project_build, tmp_path_factory) -> dict:
    """Five sabotages, in Matmul and Accum (the modules few others import, so the rebuild stays short) and in
    two new modules."""
    root = tmp_path_factory.mktemp("sabotage")
    lean = root / "lean"
    shutil.copytree(REPO / "lean", lean)  # built outputs included: only the sabotaged modules rebuild
    _edit(lean, "Matmul", MAX_PROOF, "  sorry")
    _edit(lean, "Matmul", INT8_HEAD, f"public axiom sabotage_ax : False\n\n{INT8_HEAD}")
    matmul = lean / "Quantproof" / "Matmul.lean"
    text = matmul.read_text()
    int8 = text[text.index(INT8_HEAD):text.index("/-- Half a step rounds")]
    matmul.write_text(text.replace(int8, int8.split(" := by")[0] + " :=\n  sabotage_ax.elim\n\n"))
    _edit(lean, "Accum", "(hw : ∀ w ∈ ws, w.natAbs ≤ 8) (hK : as.length ≤ claimedMaxK) (n : Nat) :",
          "(hw : ∀ w ∈ ws, w.natAbs ≤ 8) (hK : as.length ≤ claimedMaxK) (n : Nat)\n"
          "    (hextra : ws.length = as.length) :")
    # a definition changed under unchanged statements: the same value, written so a reviewer would not blink
    _edit(lean, "Matmul", "  dequantize s (quantize s qmin qmax w)", "  (quantize s qmin qmax w : Rat) * s")
    # a requirement theorem proved from a declaration the kernel never checked (fixtures/sabotage/Bogus.lean):
    # it moves to a module of its own, since importing Lean beside Matmul's proofs exceeds the memory limit
    matmul = lean / "Quantproof" / "Matmul.lean"
    text = matmul.read_text()
    seed = text[text.index("/-- REQ-MM: the design's `≤ K × scale`, under"):
                text.index("/-- REQ-MM: the design's `≤ K × scale` is false")]
    matmul.write_text(text.replace(seed, ""))
    shutil.copy(FIXTURES / "sabotage" / "Bogus.lean", lean / "Quantproof" / "Bogus.lean")
    cheat = seed.replace(SEED_PROOF, SEED_PROOF.split(" := by")[0] + " :=\n  (Quantproof.bogus).elim")
    (lean / "Quantproof" / "Seed.lean").write_text(
        "module\n\npublic import Quantproof.Matmul\npublic import Quantproof.Bogus\n\n/-! REQ-MM, sabotaged. -/\n\n"
        f"namespace Quantproof\n\n{cheat}end Quantproof\n")
    root_module = lean / "Quantproof.lean"
    root_module.write_text(root_module.read_text().replace(
        "public import Quantproof.Tile", "public import Quantproof.Tile\npublic import Quantproof.Seed"))
    out = root / "ev"
    sarif = root / "ev.sarif"
    proc = run_cli("evidence", "--project", str(lean), "--out", str(out), "--examples-scale", "0.3",
                   "--no-differential", "--sarif", str(sarif))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.startswith("FAIL")
    return {**json.loads((out / "evidence.json").read_text()), "sarif_path": str(sarif)}


def _theorem_row(data: dict, name: str) -> dict:
    return next(t for r in data["requirements"] for t in r["theorems"] if t["name"] == name)


def test_sabotage_sorry_is_named(sabotaged):
    assert "REQ-MM: Quantproof.matmul_error_le_max uses sorry" in sabotaged["verdict"]["failures"]
    assert _theorem_row(sabotaged, "Quantproof.matmul_error_le_max")["status"] == "sorry"
    assert sabotaged["build"]["status"] == "incomplete"


def test_sabotage_axiom_is_named(sabotaged):
    failures = sabotaged["verdict"]["failures"]
    assert "REQ-MM: Quantproof.matmul_error_seed_false_int8 rests on a project axiom" in failures
    assert "project declares axioms: Quantproof.sabotage_ax" in failures


def test_sabotage_statement_change_is_named(sabotaged):
    assert "REQ-OVF: Quantproof.partial_sums_fit_int32 changed since review (suspect): the statement changed" in \
        sabotaged["verdict"]["failures"]
    row = _theorem_row(sabotaged, "Quantproof.partial_sums_fit_int32")
    assert row["status"] == "proved" and row["review"] == "changed"  # compiled and proved, yet not reported proved
    assert "REQ-OVF -> Quantproof.partial_sums_fit_int32" in sabotaged["trace"]["suspect_links"]
    assert all(r["status"] == "FAIL" for r in sabotaged["requirements"] if r["id"] in ("REQ-OVF", "REQ-MM"))


def test_sabotage_definition_drift_is_named(sabotaged):
    """The statements of REQ-MM are unchanged, but a definition under them is not: suspect, naming it."""
    failures = sabotaged["verdict"]["failures"]
    drift = [f for f in failures if f.startswith("REQ-MM: Quantproof.matmul_error_le changed since review (suspect)")]
    assert len(drift) == 1 and "definition Quantproof.quantDeq changed" in drift[0]
    assert "the statement changed" not in drift[0]
    row = _theorem_row(sabotaged, "Quantproof.matmul_error_le")
    assert row["status"] == "proved" and row["review"] == "changed" and "Quantproof.quantDeq" in row["covers"]


def test_sabotage_unchecked_declaration_is_caught_by_replay(sabotaged):
    """`Quantproof.bogus : False` was added without the kernel; the audit alone calls the theorem proved."""
    assert _theorem_row(sabotaged, "Quantproof.matmul_error_le_seed")["status"] == "proved"
    failures = sabotaged["verdict"]["failures"]
    assert any(f.startswith("REQ-MM: Quantproof.matmul_error_le_seed fails kernel replay: Quantproof.bogus: ")
               for f in failures)
    rejected = {f["name"]: f["message"] for f in sabotaged["replay"]["failures"]}
    assert "(kernel) declaration type mismatch" in rejected["Quantproof.bogus"]
    assert set(rejected) == {"Quantproof.bogus", "Quantproof.matmul_error_le_seed"}  # and what rests on it
    assert sabotaged["replay"]["complete"] and sabotaged["replay"]["checked"] > 300


def test_sabotage_weakening_option_is_named(sabotaged):
    options = {(o["file"], o["name"]): o for o in sabotaged["audit"]["options"]}
    option = options[("lean/Quantproof/Bogus.lean", "debug.skipKernelTC")]
    assert option["verdict"] == "weakens" and option["scope"] == "the next command"
    assert (f"lean/Quantproof/Bogus.lean:{option['line']}: set_option debug.skipKernelTC true (weakens: "
            "declarations are not sent to the Lean kernel)") in sabotaged["verdict"]["failures"]


def test_sabotage_sarif_reads_back_with_its_rules_and_locations(sabotaged):
    from sarif_pydantic import Sarif

    sarif = Sarif.model_validate_json(Path(sabotaged["sarif_path"]).read_text())
    assert sarif.version == "2.1.0" and len(sarif.runs) == 1
    run = sarif.runs[0]
    _no_unknown_fields(sarif)
    rules = {r.id for r in run.tool.driver.rules}
    results = {(r.rule_id, r.message.text.split(":")[0]): r for r in run.results}
    assert {r.rule_id for r in run.results} <= rules
    for rule in ("REQ-MM/theorem-not-proved", "REQ-OVF/suspect-link", "REQ-MM/suspect-link",
                 "REQ-MM/replay-rejected", "replay-rejected", "option-weakens-checking"):
        assert rule in rules, rule
    unproved = next(r for (rid, subject), r in results.items()
                    if rid == "REQ-MM/theorem-not-proved" and "matmul_error_le_max" in subject)
    where = unproved.locations[0].physical_location
    assert where.artifact_location.uri == "lean/Quantproof/Matmul.lean" and where.region.start_line > 1
    fingerprints = [r.partial_fingerprints["quantproofFinding/v1"] for r in run.results]
    assert len(set(fingerprints)) == len(fingerprints)  # one alert per finding, stable across runs


def _no_unknown_fields(model) -> None:
    """sarif-pydantic keeps unknown keys as extras: a misspelt SARIF property would hide there."""
    from pydantic import BaseModel

    if isinstance(model, BaseModel):
        extras = {k: v for k, v in (model.model_extra or {}).items() if k != "$schema"}
        assert not extras, (type(model).__name__, extras)
        for name in type(model).model_fields:
            _no_unknown_fields(getattr(model, name))
    elif isinstance(model, (list, tuple)):
        for item in model:
            _no_unknown_fields(item)
    elif isinstance(model, dict):
        for item in model.values():
            _no_unknown_fields(item)


def test_sabotage_kernel_bug(project_build, toolchain, tmp_path, monkeypatch):
    import numpy as np

    from verifier.checks import differential, properties
    from verifier.evidence.collect import EvidenceOptions, collect

    def floor_levels(x, s, qmin, qmax):
        return np.clip(np.floor(np.asarray(x, np.float64) / np.asarray(s, np.float64)), qmin, qmax).astype(np.int8)

    monkeypatch.setattr(properties, "quantize_levels", floor_levels)
    monkeypatch.setattr(differential, "quantize_levels", floor_levels)
    doc = collect(toolchain, REPO / "lean", REPO, ["evidence"], EvidenceOptions(examples_scale=0.3))
    failures = doc.verdict.failures
    assert doc.verdict.status == "FAIL"
    assert any(f.startswith("REQ-QERR: property quant_error_in_range failed") for f in failures)
    assert any(f.startswith("REQ-QERR: differential quantize:") and "disagree with Lean" in f for f in failures)


def test_evidence_never_overwrites_a_foreign_folder(evidence, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    assert "is not a folder" in one_line_error(run_cli("report", "--from", str(evidence), "--out", str(afile)))
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    assert "not an evidence folder" in one_line_error(run_cli("report", "--from", str(evidence), "--out", str(other)))
    assert afile.read_text() == "keep me" and (other / "mine.txt").read_text() == "keep me"


def test_constant_mismatch_fails_the_requirement_resting_on_it(project_build, toolchain, monkeypatch):
    """requirements.toml and Lean disagree on claimed_max_k: the kernel says which value Lean has, and the
    requirements whose theorems rest on Quantproof.claimedMaxK fail."""
    from dataclasses import replace

    from verifier.checks import runner
    from verifier.evidence.collect import EvidenceOptions, collect
    from verifier.requirements import spec

    real = spec()
    drifted = replace(real, constants={**real.constants,
                                       "claimed_max_k": replace(real.constants["claimed_max_k"], value=4096)})
    monkeypatch.setattr(runner, "spec", lambda: drifted)
    doc = collect(toolchain, REPO / "lean", REPO, ["evidence"],
                  EvidenceOptions(examples_scale=0.1, run_differential=False))
    check = next(c for c in doc.checks.constants if c.name == "claimed_max_k")
    assert not check.agreed and check.lean_value == "8192"
    assert "REQ-OVF: constant claimed_max_k: Lean Quantproof.claimedMaxK = 8192, requirements.toml says 4096" in \
        doc.verdict.failures
    assert all(c.agreed for c in doc.checks.constants if c.name != "claimed_max_k")


def test_damaged_evidence_documents_are_refused(evidence, tmp_path):
    """A field removed deep inside, or a verdict edited to disagree with the results, is named."""
    data = json.loads((evidence / "evidence.json").read_text())
    del data["requirements"][1]["theorems"][0]["status"]
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "evidence.json").write_text(json.dumps(data))
    line = one_line_error(run_cli("report", "--from", str(tmp_path / "deep")))
    assert "damaged evidence document: requirements.1.theorems.0.status: Field required" in line
    data = json.loads((evidence / "evidence.json").read_text())
    data["replay"]["failures"] = [{"name": "Quantproof.x", "message": "(kernel) rejected"}]
    (tmp_path / "edited").mkdir()
    (tmp_path / "edited" / "evidence.json").write_text(json.dumps(data))
    line = one_line_error(run_cli("report", "--from", str(tmp_path / "edited")))
    assert "its verdict PASS does not follow from its own results (they give FAIL)" in line
