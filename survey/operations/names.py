"""Names staff type in (wave, organizer, city, district, collection point, display name)."""

from __future__ import annotations

import re

#: C0 and C1 control characters, tabs and line breaks among them. Word's Shift+Enter
#: pastes \x0b, which made openpyxl refuse every Excel export naming it, and a
#: line break split the method note's lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str, limit: int | None = None) -> str:
    """*text* as a name kept on one line: control characters and line breaks
    become a space, runs of spaces one, the ends trimmed; at most *limit* characters
    (None: any length, for names whose length is checked with a message)."""
    return " ".join(_CONTROL.sub(" ", text or "").split())[:limit]
