"""User-facing errors: one line, naming what is wrong, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input or environment; the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        text = " ".join(message.split())
        if hint:
            text = f"{text} ({' '.join(hint.split())})"
        super().__init__(text)
