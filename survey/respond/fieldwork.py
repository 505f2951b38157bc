"""A wave's fieldwork dates on the resident's path: before 开始日期 the survey is
not open yet, after 结束日期 it has ended (dates are calendar days in China)."""

from __future__ import annotations

from datetime import date

from survey.operations.quality import local_day

#: The survey is open (no dates, or today within them).
OPEN = "open"
#: Before the wave's start date.
NOT_YET = "not_yet"
#: After the wave's end date.
ENDED = "ended"


def fieldwork_state(wave, today: date | None = None) -> tuple[str, date | None]:
    """(OPEN, None), (NOT_YET, start date) or (ENDED, end date) for *wave* on *today*
    (China's calendar day now when not given). Both dates are included in the
    fieldwork; a date not set does not restrict."""
    today = today or local_day()
    if wave.starts_on is not None and today < wave.starts_on:
        return NOT_YET, wave.starts_on
    if wave.ends_on is not None and today > wave.ends_on:
        return ENDED, wave.ends_on
    return OPEN, None
