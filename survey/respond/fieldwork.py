"""A wave's fieldwork dates on the resident's path: before 开始日期 the survey is
not open yet, after 结束日期 it has ended (dates are calendar days in China)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import has_request_context
from flask_babel import gettext

from survey.models import utcnow
from survey.operations.quality import beijing_midnight, local_day

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


def _(text: str, **values) -> str:
    """*text* in the request's language (outside a request, e.g. the CLI: Chinese)."""
    return gettext(text, **values) if has_request_context() else text % values


def channel_state(is_open: bool, wave, today: date | None = None) -> tuple[str, str]:
    """A channel's state as residents meet it, for staff pages: (code, words).
    The stored open flag alone said 开放 after the wave's end date, although
    residents were refused; code is "open", "closed", "ended" or "not_yet"."""
    state, day = fieldwork_state(wave, today)
    if not is_open:
        if state == ENDED:
            return "closed", _("已关闭（调查也已于 %(d)s 截止）", d=day.isoformat())
        return "closed", _("已关闭")
    if state == ENDED:
        return "ended", _("已结束（调查已于 %(d)s 截止）", d=day.isoformat())
    if state == NOT_YET:
        return "not_yet", _("未开始（调查于 %(d)s 开始）", d=day.isoformat())
    return "open", _("开放")


def may_finish(channel, started_at: datetime, grace_seconds: float) -> bool:
    """Whether a questionnaire started at *started_at* (naive UTC) may still be
    finished on *channel* although the channel is closed or the fieldwork has
    ended: it was started before that happened, at most *grace_seconds* ago.
    Residents in the middle of the questionnaire lost their answers when an
    organizer closed a collection point or the end date ran out at midnight."""
    now, grace = utcnow(), timedelta(seconds=grace_seconds)
    cut_offs = []
    if not channel.is_open:
        if channel.closed_at is None:  # closed before closing times were kept
            return False
        cut_offs.append(channel.closed_at)
    state, day = fieldwork_state(channel.wave)
    if state == NOT_YET:
        return False
    if state == ENDED:  # the end date's midnight in China, in UTC
        cut_offs.append(beijing_midnight(day + timedelta(days=1)))
    return all(started_at < cut <= now < cut + grace for cut in cut_offs)
