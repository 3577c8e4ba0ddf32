"""`quantproof evidence` and `quantproof report`: the package, a real browser, and sabotage."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, one_line_error, run_cli

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def evidence(project_build, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("evidence") / "ev"
    proc = run_cli("evidence", "--out", str(out), "--examples-scale", "0.5")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "PASS: all 5 requirements proved, checked and unchanged" in proc.stdout
    return out


def test_three_files_with_a_versioned_schema(evidence):
    data = json.loads((evidence / "evidence.json").read_text())
    assert data["schema"] == "quantproof-evidence" and data["schema_version"] == 1
    assert data["verdict"]["status"] == "PASS" and data["verdict"]["failures"] == []
    for section in ("configuration", "scope", "method", "requirements", "audit", "assumptions", "checks", "mutants",
                    "trace", "tool_qualification", "problem_reports", "compliance", "figures"):
        assert data[section], section
    assert {r["id"] for r in data["requirements"]} == {"REQ-PACK", "REQ-QERR", "REQ-OVF", "REQ-MM", "REQ-TILE"}
    assert any(f["path"] == "lean/Quantproof/Quant.lean" and len(f["sha256"]) == 64
               for f in data["configuration"]["inputs"])
    assert data["configuration"]["toolchain"]["commit"].startswith("38f3c0c")
    assert all(m["caught"] for m in data["mutants"])
    assert data["trace"]["orphan_requirements"] == [] and data["trace"]["suspect_links"] == []
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
        assert "Requirements passing 5 5 PASS" in rows
        ARTIFACTS.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(ARTIFACTS / "report.png"))
    finally:
        driver.quit()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


# --- sabotage ---------------------------------------------------------------------------------------------
# One copy of the built project carries three sabotages in three modules (rebuilt together, to keep CI
# short); each must be named as the culprit with its own reason. That one bad item alone flips the verdict
# is shown on the judgement itself in test_each_problem_alone_flips_the_verdict.

PLAN_WITHIN_PROOF = """  intro t ht
  simp only [plan, List.mem_flatMap, List.mem_map] at ht
  obtain ⟨⟨r, rs⟩, hr, ⟨k, ks⟩, hk, ⟨c, cs⟩, hc, rfl⟩ := ht
  exact ⟨(mem_chunks hr).2, (mem_chunks hk).2, (mem_chunks hc).2⟩"""


def _edit(lean: Path, module: str, old: str, new: str) -> None:
    path = lean / "Quantproof" / f"{module}.lean"
    text = path.read_text()
    assert old in text, f"sabotage target moved in {module}.lean"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def sabotaged(project_build, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sabotage")
    lean = root / "lean"
    shutil.copytree(REPO / "lean", lean)  # built outputs included: only the sabotaged modules rebuild
    _edit(lean, "Tile", PLAN_WITHIN_PROOF, "  sorry")
    _edit(lean, "Pack", "/-- REQ-PACK: unpacking a packed valid pair gives the pair back. -/",
          "public axiom roundtrip_ax {a b : Int} : unpackPair (packPair a b) = (a, b)\n\n"
          "/-- REQ-PACK: unpacking a packed valid pair gives the pair back. -/")
    pack = lean / "Quantproof" / "Pack.lean"
    text = pack.read_text()
    proof = text[text.index("    unpackPair (packPair a b) = (a, b) := by"):text.index("/-- REQ-PACK: unpacking any")]
    pack.write_text(text.replace(proof, "    unpackPair (packPair a b) = (a, b) := roundtrip_ax\n\n"))
    _edit(lean, "Accum", "(hw : ∀ w ∈ ws, w.natAbs ≤ 8) (hK : as.length ≤ claimedMaxK) (n : Nat) :",
          "(hw : ∀ w ∈ ws, w.natAbs ≤ 8) (hK : as.length ≤ claimedMaxK) (n : Nat)\n"
          "    (hextra : ws.length = as.length) :")
    out = root / "ev"
    proc = run_cli("evidence", "--project", str(lean), "--out", str(out), "--examples-scale", "0.3",
                   "--no-differential")
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.startswith("FAIL")
    return json.loads((out / "evidence.json").read_text())


def _theorem_row(data: dict, name: str) -> dict:
    return next(t for r in data["requirements"] for t in r["theorems"] if t["name"] == name)


def test_sabotage_sorry_is_named(sabotaged):
    assert "REQ-TILE: Quantproof.plan_within uses sorry" in sabotaged["verdict"]["failures"]
    assert _theorem_row(sabotaged, "Quantproof.plan_within")["status"] == "sorry"
    assert sabotaged["build"]["status"] == "incomplete"


def test_sabotage_axiom_is_named(sabotaged):
    failures = sabotaged["verdict"]["failures"]
    assert "REQ-PACK: Quantproof.unpackPair_packPair rests on a project axiom" in failures
    assert "project declares axioms: Quantproof.roundtrip_ax" in failures


def test_sabotage_statement_change_is_named(sabotaged):
    assert "REQ-OVF: Quantproof.partial_sums_fit_int32 statement changed since review (suspect)" in \
        sabotaged["verdict"]["failures"]
    row = _theorem_row(sabotaged, "Quantproof.partial_sums_fit_int32")
    assert row["status"] == "proved" and row["review"] == "changed"  # compiled and proved, yet not reported proved
    assert "REQ-OVF -> Quantproof.partial_sums_fit_int32" in sabotaged["trace"]["suspect_links"]
    assert all(r["status"] == "FAIL" for r in sabotaged["requirements"] if r["id"] in ("REQ-OVF", "REQ-PACK",
                                                                                        "REQ-TILE"))


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
