"""The Lean bridge: everything that talks to Lean, under both sides (checks and evidence; the prover).

toolchain (native or portable, one `run_file`), process (the memory and time watchdog), project and
source (the package and its text), diagnostics (Lean's messages), batch and session (many checks per
process), olean / expr / library / pretty (compiled modules read in Python), audit (per theorem:
sorry, axioms, statement), build (model, trace, portable and `lake` builders).
"""
