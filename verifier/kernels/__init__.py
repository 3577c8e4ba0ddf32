"""The executable twins of the Lean specs: NumPy 3.5-bit kernels, vectorised, no Python loop over elements."""
