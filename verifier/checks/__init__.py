"""`quantproof check`: closed forms, property checks, differential checks against Lean, claims audit."""

import os

# Installed packages may register Hypothesis plugins (trio does). The checks' runs must not depend on what
# else is installed, and loading them costs a third of a second per command.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
