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
def evidence(project_build, replay_ready, tmp_path_factory) -> Path:
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
    assert data["figures"]["timings_s"]["mutants"] > 0  # the mutants' own run, not the wait for them
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
# One copy of the built project carries every source sabotage, all in Tile (the module nothing else imports, so
# the rebuild stays short) and in one new module; each must be named as the culprit with its own reason. That
# one bad item alone flips the verdict is shown on the judgement itself (tests/test_judgement.py).

UNTILED_HEAD = "tiledMatmul (plan reserve M K N) x w i l = rsum K fun j => x i j * w j l := by\n"
GROUPS_HEAD = "public theorem plan_scale_groups (reserve M K N : Nat) :"
GROUPS_PROOF = "  fun t ht => groupsTouched_aligned (plan_red_aligned reserve M K N t ht)"
FITS_HEAD = "/-- REQ-TILE: every tile's reduction and column extents fit the 320×320 array. -/"
WITHIN_HEAD = "/-- REQ-TILE: every tile lies inside the matmul's iteration space. -/"


def _edit(lean: Path, module: str, old: str, new: str) -> None:
    path = lean / "Quantproof" / f"{module}.lean"
    text = path.read_text()
    assert old in text, f"sabotage target moved in {module}.lean"
    path.write_text(text.replace(old, new, 1))


def _sabotage_proofs(lean: Path) -> None:
    """A `sorry` and a project axiom."""
    tile = lean / "Quantproof" / "Tile.lean"
    text = tile.read_text()
    proof = text[text.index(UNTILED_HEAD) + len(UNTILED_HEAD):text.rindex("end Quantproof")]
    tile.write_text(text.replace(proof, "  sorry\n\n"))
    _edit(lean, "Tile", GROUPS_PROOF, "  sabotage_ax.elim")
    _edit(lean, "Tile", GROUPS_HEAD, f"public axiom sabotage_ax : False\n\n{GROUPS_HEAD}")


def _sabotage_tile(lean: Path) -> None:
    """A statement change, a definition drift under unchanged statements, and a theorem moved beside a
    declaration the kernel never checked (fixtures/sabotage/Bogus.lean), all under REQ-TILE."""
    _edit(lean, "Tile", "public theorem mem_groupsTouched {k0 k G : Nat} :",
          "public theorem mem_groupsTouched {k0 k G : Nat} (hextra : 0 < k) :")
    # the same bytes, written so a reviewer would not blink
    _edit(lean, "Tile", "Nat := actRowBytes k + actScaleRowBytes + accRowBytes n + outRowBytes n",
          "Nat := accRowBytes n + outRowBytes n + actRowBytes k + actScaleRowBytes")
    tile = lean / "Quantproof" / "Tile.lean"
    text = tile.read_text()
    within = text[text.index(FITS_HEAD):text.index(WITHIN_HEAD)]
    tile.write_text(text.replace(within, ""))
    # the theorem moves into the module that adds the unchecked declaration (one module importing Lean, not two)
    bogus = (FIXTURES / "sabotage" / "Bogus.lean").read_text()
    bogus = bogus.replace("import Lean\n", "import Lean\npublic import Quantproof.Tile\n", 1)
    cheat = within.split(" := by")[0] + " :=\n  fun _ _ => (Quantproof.bogus).elim\n"
    (lean / "Quantproof" / "Bogus.lean").write_text(f"{bogus}\nnamespace Quantproof\n\n{cheat}\nend Quantproof\n")
    # the library's glob (Quantproof.*) builds it; the root does not import it, so the root need not load Lean


def _sabotage_syntax(lean: Path) -> None:
    """A macro that would turn `decide` into a proof of anything in every module importing this one."""
    bogus = lean / "Quantproof" / "Bogus.lean"
    bogus.write_text(bogus.read_text() + "\nmacro_rules | `(tactic| decide) => `(tactic| exact lcProof)\n")


@pytest.fixture(scope="module")
def sabotaged(project_build, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sabotage")
    lean = root / "lean"
    shutil.copytree(REPO / "lean", lean)  # built outputs included: only the sabotaged modules rebuild
    _sabotage_proofs(lean)
    _sabotage_tile(lean)
    _sabotage_syntax(lean)
    out = root / "ev"
    sarif = root / "ev.sarif"
    # one `lean` process per module (the three rebuilt ones cost less so than two workers' start-up), which
    # also runs the pipeline's `--no-worker` path end to end
    proc = run_cli("evidence", "--project", str(lean), "--out", str(out), "--examples-scale", "0.3",
                   "--no-differential", "--no-worker", "--sarif", str(sarif))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.startswith("FAIL")
    return {**json.loads((out / "evidence.json").read_text()), "sarif_path": str(sarif)}


def _theorem_row(data: dict, name: str) -> dict:
    return next(t for r in data["requirements"] for t in r["theorems"] if t["name"] == name)


def test_sabotage_sorry_is_named(sabotaged):
    assert "REQ-TILE: Quantproof.tiled_eq_untiled uses sorry" in sabotaged["verdict"]["failures"]
    assert _theorem_row(sabotaged, "Quantproof.tiled_eq_untiled")["status"] == "sorry"
    assert sabotaged["build"]["status"] == "incomplete"


def test_sabotage_axiom_is_named(sabotaged):
    failures = sabotaged["verdict"]["failures"]
    assert "REQ-TILE: Quantproof.plan_scale_groups rests on a project axiom" in failures
    assert "project declares axioms: Quantproof.sabotage_ax" in failures


def test_sabotage_statement_change_is_named(sabotaged):
    failures = sabotaged["verdict"]["failures"]
    changed = [f for f in failures if f.startswith("REQ-TILE: Quantproof.mem_groupsTouched changed since review")]
    assert len(changed) == 1 and "the statement changed" in changed[0]
    row = _theorem_row(sabotaged, "Quantproof.mem_groupsTouched")
    assert row["status"] == "proved" and row["review"] == "changed"  # compiled and proved, yet not reported proved
    assert "REQ-TILE -> Quantproof.mem_groupsTouched" in sabotaged["trace"]["suspect_links"]
    assert {r["id"]: r["status"] for r in sabotaged["requirements"]}["REQ-TILE"] == "FAIL"


def test_sabotage_definition_drift_is_named(sabotaged):
    """The statement of plan_tileBytes_le is unchanged, but a definition under it is not: suspect, naming it."""
    failures = sabotaged["verdict"]["failures"]
    drift = [f for f in failures if f.startswith("REQ-TILE: Quantproof.plan_tileBytes_le changed since review")]
    assert len(drift) == 1 and "definition Quantproof.rowBytes changed" in drift[0]
    assert "the statement changed" not in drift[0]
    row = _theorem_row(sabotaged, "Quantproof.plan_tileBytes_le")
    assert row["status"] == "proved" and row["review"] == "changed" and "Quantproof.rowBytes" in row["covers"]


def test_sabotage_unchecked_declaration_is_caught_by_replay(sabotaged):
    """`Quantproof.bogus : False` was added without the kernel; the audit alone calls the theorem proved."""
    assert _theorem_row(sabotaged, "Quantproof.plan_fits_array")["status"] == "proved"
    failures = sabotaged["verdict"]["failures"]
    assert any(f.startswith("REQ-TILE: Quantproof.plan_fits_array fails kernel replay: Quantproof.bogus: ")
               for f in failures)
    rejected = {f["name"]: f["message"] for f in sabotaged["replay"]["failures"]}
    assert "(kernel) declaration type mismatch" in rejected["Quantproof.bogus"]
    assert set(rejected) == {"Quantproof.bogus", "Quantproof.plan_fits_array"}  # and what rests on it
    assert sabotaged["replay"]["complete"] and sabotaged["replay"]["checked"] > 300


def test_sabotage_weakening_option_is_named(sabotaged):
    options = {(o["file"], o["name"]): o for o in sabotaged["audit"]["options"]}
    option = options[("lean/Quantproof/Bogus.lean", "debug.skipKernelTC")]
    assert option["verdict"] == "weakens" and option["scope"] == "the next command"
    assert (f"lean/Quantproof/Bogus.lean:{option['line']}: set_option debug.skipKernelTC true (weakens: "
            "declarations are not sent to the Lean kernel)") in sabotaged["verdict"]["failures"]


def test_sabotage_syntax_extension_is_named(sabotaged):
    assert any(f.startswith("project declares syntax extensions") and "macro `" in f and "(Quantproof.Bogus)" in f
               for f in sabotaged["verdict"]["failures"])


def test_sabotage_sarif_reads_back_with_its_rules_and_locations(sabotaged):
    from sarif_pydantic import Sarif

    sarif = Sarif.model_validate_json(Path(sabotaged["sarif_path"]).read_text())
    assert sarif.version == "2.1.0" and len(sarif.runs) == 1
    run = sarif.runs[0]
    _no_unknown_fields(sarif)
    rules = {r.id for r in run.tool.driver.rules}
    results = {(r.rule_id, r.message.text.split(":")[0]): r for r in run.results}
    assert {r.rule_id for r in run.results} <= rules
    for rule in ("REQ-TILE/theorem-not-proved", "REQ-TILE/suspect-link", "REQ-TILE/replay-rejected",
                 "replay-rejected", "option-weakens-checking", "syntax-extension"):
        assert rule in rules, rule
    unproved = next(r for (rid, subject), r in results.items()
                    if rid == "REQ-TILE/theorem-not-proved" and "tiled_eq_untiled" in subject)
    where = unproved.locations[0].physical_location
    assert where.artifact_location.uri == "lean/Quantproof/Tile.lean" and where.region.start_line > 1
    macro = next(r for (rid, _), r in results.items() if rid == "syntax-extension")
    assert macro.locations[0].physical_location.artifact_location.uri == "lean/Quantproof/Bogus.lean"
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


def test_sabotage_kernel_bug(project_build, replay_ready, toolchain, tmp_path, monkeypatch):
    import numpy as np

    from verifier.checks import differential, properties
    from verifier.evidence.collect import EvidenceOptions, collect

    def floor_levels(x, s, qmin, qmax):
        return np.clip(np.floor(np.asarray(x, np.float64) / np.asarray(s, np.float64)), qmin, qmax).astype(np.int8)

    monkeypatch.setattr(properties, "quantize_levels", floor_levels)
    monkeypatch.setattr(differential, "quantize_levels", floor_levels)
    # only the quantizer's differential family (the full batch runs in tests/test_checks.py): the others are then
    # missing, which fails their requirements too, but the bug must be named where it is
    every_family = differential.families
    monkeypatch.setattr(differential, "families",
                        lambda seed, n=24: [f for f in every_family(seed, n) if f.name == "quantize"])
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


def test_constant_mismatch_fails_the_requirement_resting_on_it(project_build, replay_ready, toolchain,
                                                                monkeypatch):
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
