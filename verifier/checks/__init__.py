"""`quantproof check`: closed forms, property checks, differential checks against Lean, claims audit."""
