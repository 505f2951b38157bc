"""Data-quality flags computed when a response is stored, and exclusion by organizers.

Flags (a response may have several; flagged responses are reviewed, never dropped):
- ``min_duration``: faster than ``MIN_DURATION_SECONDS`` (a bot or a click-through);
- ``too_fast``: faster than ``QUALITY_TOO_FAST_SHARE`` (default 0.4) of the wave's
  median duration, once 20 responses exist (median from the duration histogram,
  as each process last read it: at most ``MEDIAN_TTL`` seconds ago);
- ``straight_lined``: the same answer to every scale item (4 or more answered);
- ``repeated_device``: another response of the wave came from the same device cookie;
- ``honeypot``: the hidden field was filled in (bots);
- ``many_from_client``: stored although its client (hashed address) was over the
  per-client submission limit (a shared Wi-Fi, or a script): set by the resident's
  submit view, survey/respond/controllers.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, exists, func, select, update

from survey.extensions import db
from survey.models import Channel, DurationBucket, QuotaCell, Response, Wave, utcnow
from survey.operations.audit import record
from survey.operations.errors import OperationError
from survey.operations.process_local import cached

#: Seconds a process keeps a wave's median duration (see wave_median_duration).
MEDIAN_TTL = 30.0
_MEDIAN_KEY = "survey_wave_median"

# Duration histogram: 10-second buckets, the last (3,600 s) open-ended. The
# database fills it as responses are stored (trigger response_counters, migration 0006).
BUCKET = 10
LAST_BUCKET = 3600


#: China's time (UTC+8, no daylight saving): what staff read and write.
BEIJING = timedelta(hours=8)


def local_day(moment=None):
    """Calendar day in China (UTC+8) of a naive UTC time."""
    return ((moment or utcnow()) + BEIJING).date()


def beijing_midnight(day: date) -> datetime:
    """The start of calendar day *day* in China, as a naive UTC time."""
    return datetime.combine(day, datetime.min.time()) - BEIJING


def beijing_time(moment) -> str:
    """A naive UTC time as staff read it: Beijing time, to the second."""
    return (moment + BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def utc_iso(moment: datetime) -> str:
    """A naive UTC time for machines: ISO 8601 with its offset
    (``2026-11-02T04:30:00+00:00``), which no reader can take for local time."""
    return moment.replace(tzinfo=UTC).isoformat(timespec="seconds")


def median_from_buckets(buckets: list[tuple[int, int]]) -> float | None:
    """Median duration (seconds) from (bucket start, count) pairs, interpolated in the bin."""
    total = sum(c for _, c in buckets)
    if total == 0:
        return None
    half = total / 2
    seen = 0
    for start, count in sorted(buckets):
        if seen + count >= half:
            width = BUCKET if start < LAST_BUCKET else 0
            return start + width * (half - seen) / count
        seen += count
    return float(sorted(buckets)[-1][0])


# Built once, on the tables (Core: no ORM compilation on every submission).
_BUCKETS, _CHANNELS, _RESPONSES = (
    DurationBucket.__table__,
    Channel.__table__,
    Response.__table__,
)
_WAVE_BUCKETS = (
    select(_BUCKETS.c.bucket, func.sum(_BUCKETS.c.count))
    .join(_CHANNELS, _CHANNELS.c.id == _BUCKETS.c.channel_id)
    .where(_CHANNELS.c.wave_id == bindparam("w"))
    .group_by(_BUCKETS.c.bucket)
)


@lru_cache(maxsize=64)
def _seen_devices(count: int):
    """``SELECT EXISTS(...), EXISTS(...)``: for each of *count* device hashes,
    whether it answered in the wave. An index probe each, which stops at the
    first row: a device with many answers (a kiosk tablet, the load test's
    clients, which keep their cookies) costs no more than a new one. (DISTINCT
    over the matching rows read all of them.) Built once per count."""
    return select(*(
        exists().where(_RESPONSES.c.wave_id == bindparam("w"),
                       _RESPONSES.c.device_hash == bindparam(f"h{i}"))
        for i in range(count)
    ))  # fmt: skip


def wave_median_duration(conn, wave_id: int) -> tuple[float | None, int]:
    """The wave's median duration and number of timed responses (*conn*: a Connection).

    Each process reads it at most every ``MEDIAN_TTL`` seconds: it moves slowly
    (thousands of responses), and reading it was one of the few statements of
    every batch of submissions."""

    def read() -> tuple[float | None, int]:
        rows = conn.execute(_WAVE_BUCKETS, {"w": wave_id}).all()
        return median_from_buckets([(b, int(c)) for b, c in rows]), sum(int(c) for _, c in rows)

    return cached(_MEDIAN_KEY, wave_id, MEDIAN_TTL, read)


def devices_seen(conn, wave_id: int, device_hashes) -> set[str]:
    """Which of these device hashes already answered in the wave (one query on *conn*)."""
    hashes = sorted({h for h in device_hashes if h})
    if not hashes:
        return set()
    params = {"w": wave_id} | {f"h{i}": h for i, h in enumerate(hashes)}
    answered = conn.execute(_seen_devices(len(hashes)), params).one()
    return {h for h, yes in zip(hashes, answered, strict=True) if yes}


def quality_flags(sub, duration: float, median_and_count, device_seen: bool) -> list[str]:
    """Flags for review, given the wave's median duration and number of timed
    responses, and whether the device already answered in the wave."""
    flags = []
    median, count = median_and_count
    share = current_app.config.get("QUALITY_TOO_FAST_SHARE", 0.4)
    if median and count >= 20 and duration < share * median:
        flags.append("too_fast")
    scale = [q.id for q in sub.questionnaire.questions if q.type == "scale"]
    given = [sub.answers[qid] for qid in scale if qid in sub.answers]
    if len(given) >= 4 and len(given) == len(scale) and len(set(given)) == 1:
        flags.append("straight_lined")
    if sub.device_hash and device_seen:
        flags.append("repeated_device")
    return flags


def _cell_of(response: Response):
    """The WHERE clause of *response*'s quota cell: its 城乡 cell under a plan by
    城乡, else the cell without (quota_gate matches cells the same way)."""
    return (
        QuotaCell.wave_id == response.wave_id,
        QuotaCell.district == response.district,
        QuotaCell.sex == response.sex,
        QuotaCell.age_group == response.age_group,
        QuotaCell.urban_rural.in_(("", response.urban_rural or "")),
    )


def same_cell(cell_urban_rural: str, like: Response | QuotaCell):
    """The WHERE clause of the responses in a cell, whose 城乡 is *cell_urban_rural*
    ('' under a plan not by 城乡: either answer); *like*: one of its responses, or
    the cell itself (both have its wave, district, sex and age group)."""
    clause = [
        Response.wave_id == like.wave_id,
        Response.district == like.district,
        Response.sex == like.sex,
        Response.age_group == like.age_group,
    ]
    if cell_urban_rural:
        clause.append(Response.urban_rural == cell_urban_rural)
    return clause


def lock_wave_places(session, wave_id: int) -> None:
    """Take the wave's lock for moving quota places outside submissions: held
    until the transaction ends, taken *first* (before any response or cell) by
    remaking the plan, editing a target, excluding, restoring and withdrawing.

    Without one order those deadlocked on PostgreSQL (excluding locks its
    response, then its cell; remaking locks the cells, then rewrites the
    responses' over-quota flags), or an exclusion moved a place in a cell the
    remake had just replaced, and the new cell kept counting the excluded
    response. ``FOR NO KEY UPDATE`` on the wave's row: submissions, which take
    only a key-share lock on it (their response's foreign key), do not wait.
    (SQLite's write transactions run one at a time: nothing to do.)"""
    session.execute(select(Wave.id).where(Wave.id == wave_id).with_for_update(key_share=True))


def lock_places_of(session, wave_id: int | None, wave_of_row) -> None:
    """:func:`lock_wave_places` for a change to one row (a response, a quota
    cell): the wave *wave_id* the caller names, or else the row's own wave, read
    by *wave_of_row* (``select(<Model>.wave_id).where(<Model>.id == ...)``). A
    row that does not exist locks nothing; the caller then finds it missing."""
    if wave_id is None:
        wave_id = session.scalar(wave_of_row) or 0
    lock_wave_places(session, wave_id)


def give_back_place(session, response: Response) -> None:
    """Free the quota place (or the over-quota count) a valid *response* holds:
    it is being excluded or withdrawn. A place within the quota goes to the
    cell's earliest valid response counted over quota, if any (soft policy, or
    a plan remade with smaller targets), so that the cell's counts stay those of
    its valid responses in order. A response in no cell of the plan holds
    nothing."""
    cell = session.execute(
        select(QuotaCell.id, QuotaCell.urban_rural).where(*_cell_of(response))
    ).first()
    if cell is None:
        return
    if not response.over_quota:
        waiting = session.scalar(
            select(Response.id)
            .where(
                *same_cell(cell.urban_rural, response),
                Response.over_quota.is_(True),
                Response.excluded.is_(False),
                Response.id != response.id,
            )
            .order_by(Response.id)
            .limit(1)
        )
        if waiting is None:
            session.execute(
                update(QuotaCell)
                .where(QuotaCell.id == cell.id, QuotaCell.achieved > 0)
                .values(achieved=QuotaCell.achieved - 1)
            )
            return
        # It takes the place: the cell's within-quota count stays, one fewer over.
        session.execute(update(Response).where(Response.id == waiting).values(over_quota=False))
    session.execute(
        update(QuotaCell)
        .where(QuotaCell.id == cell.id, QuotaCell.over_quota > 0)
        .values(over_quota=QuotaCell.over_quota - 1)
    )


def _take_place(session, response: Response) -> None:
    """A restored *response* takes a place in its cell again; when the cell has
    filled meanwhile it is counted over quota (restoring never refuses)."""
    within = session.execute(
        update(QuotaCell)
        .where(*_cell_of(response), QuotaCell.achieved < QuotaCell.target)
        .values(achieved=QuotaCell.achieved + 1)
    ).rowcount
    if within:
        response.over_quota = False
        return
    over = session.execute(
        update(QuotaCell).where(*_cell_of(response)).values(over_quota=QuotaCell.over_quota + 1)
    ).rowcount
    # No cell (a district outside the plan): not over any quota.
    response.over_quota = bool(over)


def set_excluded(
    response_id: int, excluded: bool, reason: str = "", wave_id: int | None = None
) -> Response:
    """Exclude a response from estimates and exports of valid data, or keep it
    (restore an excluded one, or mark a flagged one as reviewed and valid); with
    *wave_id*, only a response of that wave.

    An excluded response holds no quota place: excluding gives its place back
    (under the close policy the cell then takes another resident), restoring
    takes one again. Either way the response counts as reviewed. The response
    returned says what was done (``decision``: the audit log's action, or
    ``unchanged`` when it was so decided already: nothing is audited).
    """
    with db.write() as session:
        lock_places_of(session, wave_id, select(Response.wave_id).where(Response.id == response_id))
        # Locked and read afresh: two organizers (or a double click, or the
        # resident withdrawing) deciding at once would otherwise both act on the
        # old value and move the quota counts twice (PostgreSQL; SQLite's write
        # transactions run one at a time anyway).
        response = session.get(Response, response_id, with_for_update=True,
                                populate_existing=True)  # fmt: skip
        if response is None or (wave_id is not None and response.wave_id != wave_id):
            raise OperationError("本轮调查没有这份答卷。")
        if response.withdrawn_at is not None:
            raise OperationError("这份答卷已由受访者撤回并删除，无法再剔除、保留或恢复。")
        if excluded and not response.excluded:
            give_back_place(session, response)
            action = "response_exclude"
        elif not excluded and response.excluded:
            _take_place(session, response)
            action = "response_restore"
        elif not excluded and not response.reviewed:
            action = "response_keep"
        else:
            # Decided so already (a second click, or another organizer first):
            # nothing to change, and nothing more in the audit log.
            response.decision = "unchanged"
            return response
        response.excluded = excluded
        response.reviewed = True
        record(session, action, "response", response_id, {"reason": reason[:200]})
    response.decision = action
    return response


def response_for_review(wave_id: int, response_id: int) -> dict:
    """What an organizer reads before deciding on a flagged response: each
    question with the answer as the resident saw it (option labels), the flags,
    the time taken and when (Beijing time). Not a withdrawn one (erased)."""
    from survey.operations.questionnaires import questionnaire_of

    response = db.session.get(Response, response_id)
    if response is None or response.wave_id != wave_id or response.withdrawn_at is not None:
        raise OperationError("本轮调查没有这份答卷（或已由受访者撤回）。")
    q = questionnaire_of(response.questionnaire)
    rows = []
    for page in q.pages:
        for question in page.questions:
            if question.id not in response.answers:
                continue
            value = response.answers[question.id]
            labels = {o.value: o.label for o in question.options}
            if question.options_from:  # the city's districts: the value is the name
                shown = str(value)
            elif isinstance(value, list):
                shown = "、".join(labels.get(v, str(v)) for v in value) or "（未选）"
            else:
                shown = labels.get(value, str(value))
            rows.append((page.title, question.text, shown))
    return {"response": response, "answers": rows, "submitted": beijing_time(response.submitted_at)}
