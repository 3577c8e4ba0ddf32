"""quantproof prover: MCTS proof search over Lean tactic states, behind a LeanDojo-shaped API."""
