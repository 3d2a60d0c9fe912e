"""Text safe to print on a terminal: indexed articles and readers' questions must not drive it."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls but tab and newline


def clean(text: str) -> str:
    """Drop control characters from indexed text so an article cannot drive the terminal."""
    return CONTROL.sub("", text)
