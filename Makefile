# Everything a fresh machine needs, in two entry points:
#   make evidence   set up, then run the main job (build + audit + checks + evidence report)
#   make test       set up, then ruff and the whole test suite against the real Lean
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
QP     := $(BIN)/quantproof
OUT    ?= evidence
EVIDENCE_ARGS ?=

.PHONY: setup evidence test lint bench clean browser fortran

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Direct dependencies are pinned in pyproject.toml; constraints.txt pins every transitive one.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

setup: $(VENV)/.installed
	$(QP) toolchain --install

# Debian packages, installed only when missing: apt-get, as root or through sudo.
APT_INSTALL = SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

# gfortran: numpy.f2py compiles the design's Fortran unpacking, which the checks run against Lean.
fortran:
	@command -v gfortran >/dev/null 2>&1 || { $(APT_INSTALL) gfortran >/dev/null; }

# Debian's headless Chromium and its driver, for the report's browser test.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  $(APT_INSTALL) chromium chromium-driver >/dev/null; }

evidence: setup fortran
	$(QP) evidence --out $(OUT) $(EVIDENCE_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

test: setup fortran browser lint
	CI=$${CI:-} $(BIN)/pytest -n 2 --dist loadscope --no-loadscope-reorder

# Measurements behind the closing notes (long: about an hour and a half, most of it the prover benchmark)
bench: setup
	$(BIN)/python -m verifier.benchmarks.foundation --out $(OUT)-bench-foundation.json
	$(BIN)/python -m verifier.benchmarks.worker --out $(OUT)-bench-worker.json
	$(BIN)/python -m verifier.benchmarks.kernels --out $(OUT)-bench-kernels.json
	$(BIN)/python -m verifier.benchmarks.mutation --out $(OUT)-bench-mutation.json
	$(BIN)/python -m prover.latency --out $(OUT)-bench-latency.json
	$(QP) bench --out $(OUT)-bench-prover

clean:
	rm -rf lean/.lake $(OUT) $(OUT)-bench-* test-artifacts
