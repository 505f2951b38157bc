"""Quota checks on the resident's path, exact under concurrency.

Close policy: ``UPDATE quota_cell SET achieved = achieved + 1 WHERE id = :id
AND achieved < target`` inside the submit transaction; a row count of 0 means
the cell is full and nothing is stored. PostgreSQL re-checks the condition
after waiting for the row lock; SQLite runs one writer at a time (BEGIN
IMMEDIATE). Soft policy: the same update, else ``over_quota + 1`` and the
response is stored and flagged.

A batch of submissions (the submit writer's group commit) on PostgreSQL first
takes, in one statement, every place of the cells that have room for all of the
batch's residents in them (:data:`_TAKE_PLACES`); only what that could not take
goes one statement at a time. Every statement of the transaction is a round trip
from a writer thread that shares its interpreter with the request threads, and
the cells' row locks were held through all of them.

A wave's cells are either all district × sex × age group (``urban_rural`` '')
or all district × 城乡 × sex × age group. The statements match a respondent's
cell as ``urban_rural IN ('', <their answer>)``: whichever kind the plan is,
exactly one cell matches, and the resident's path needs no knowledge of the
plan (no read of it, nothing cached that a remade plan would make stale).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import bindparam, literal, select, text, update

from questionnaires.engine import answers_to_labels
from survey.extensions import db
from survey.models import QuotaCell

ROLES = ("district", "sex", "age_group", "urban_rural")


def cells_of(q, answers: dict) -> dict[str, str | None]:
    """The respondent's cell variables (frame labels) from their answers."""
    labels = answers_to_labels(q, answers)
    return {role: labels.get(qid) for role, qid in q.roles.items() if role in ROLES}


def _complete(cells: dict) -> bool:
    """Whether the respondent's quota cell is known (district, sex and age group;
    their 城乡 matters only to a plan by it)."""
    return all(cells.get(k) for k in ("district", "sex", "age_group"))


def _urban_rural(cells: dict) -> str:
    """The respondent's 城乡 as cells store it ('' when unanswered: then only a
    plan not by 城乡 has a cell for them)."""
    return cells.get("urban_rural") or ""


def _cell(session_or_conn, wave_id: int, cells: dict):
    """(id, achieved, target, urban_rural) of the respondent's quota cell, or None
    (*session_or_conn*: a session or a connection)."""
    if not _complete(cells):
        return None
    return session_or_conn.execute(
        select(QuotaCell.id, QuotaCell.achieved, QuotaCell.target, QuotaCell.urban_rural).where(
            QuotaCell.wave_id == wave_id,
            QuotaCell.district == cells["district"],
            QuotaCell.sex == cells["sex"],
            QuotaCell.age_group == cells["age_group"],
            QuotaCell.urban_rural.in_(("", _urban_rural(cells))),
        )
    ).first()


def is_full_before_submit(channel, cells: dict) -> bool:
    """True when the respondent's cell is known and already full (close policy)."""
    if channel.wave.quota_policy != "close":
        return False
    cell = _cell(db.session, channel.wave_id, cells)
    return cell is not None and cell.achieved >= cell.target


def cell_by_urban_rural(wave_id: int, cells: dict) -> bool:
    """Whether the respondent's cell is one of a plan by 城乡 (for the words of
    the 名额已满 page)."""
    cell = _cell(db.session, wave_id, cells)
    return cell is not None and bool(cell.urban_rural)


# Built once: the statement of every submission (no per-call construction), on
# the table itself (an ORM-enabled UPDATE would also evaluate it in the session).
_CELLS = QuotaCell.__table__
_TAKE_PLACE = (
    update(_CELLS)
    .where(
        _CELLS.c.wave_id == bindparam("w"),
        _CELLS.c.district == bindparam("d"),
        _CELLS.c.sex == bindparam("s"),
        _CELLS.c.age_group == bindparam("a"),
        _CELLS.c.urban_rural.in_((literal(""), bindparam("u"))),
        _CELLS.c.achieved < _CELLS.c.target,
    )
    .values(achieved=_CELLS.c.achieved + 1)
)


def reserve(conn, submission) -> str:
    """Reserve a quota place inside the submit transaction (*conn*: its Core
    connection): ok / over / full.

    The common case (a cell with room) is one statement; the cell is looked up
    only when no row was updated (no plan for the cell, or the cell is full)."""
    wave = submission.channel.wave
    cells = submission.cells
    if not _complete(cells):
        return "ok"  # no plan for this wave or cell: every cell is open
    taken = conn.execute(
        _TAKE_PLACE,
        {
            "w": wave.id,
            "d": cells["district"],
            "s": cells["sex"],
            "a": cells["age_group"],
            "u": _urban_rural(cells),
        },
    ).rowcount
    if taken == 1:
        return "ok"
    cell = _cell(conn, wave.id, cells)
    if cell is None:
        return "ok"  # no plan for this wave or cell: every cell is open
    if wave.quota_policy == "close":
        return "full"
    conn.execute(
        update(_CELLS).where(_CELLS.c.id == cell.id).values(over_quota=_CELLS.c.over_quota + 1)
    )
    return "over"


#: PostgreSQL: for each cell and number *k* of the batch's residents in it, take
#: all *k* places if the cell has room for them. The batch comes as (wave,
#: district, sex, age group, 城乡 answer, k); under a plan not by 城乡 two such
#: rows (城镇, 农村) share one cell, whose places are taken together (summed:
#: an UPDATE ... FROM would apply only one of two joined rows). Locks the
#: batch's cells in id order (every writer does, so none waits for another in a
#: cycle) and returns the cells whose places were taken; PostgreSQL re-checks
#: the room on the newest row after waiting for a lock.
_TAKE_PLACES = text("""
WITH wanted AS (
    SELECT * FROM unnest(CAST(:w AS integer[]), CAST(:d AS text[]), CAST(:s AS text[]),
                         CAST(:a AS text[]), CAST(:u AS text[]), CAST(:k AS integer[]))
                  AS t(w, d, s, a, u, k)
), locked AS MATERIALIZED (
    SELECT q.id, wanted.k FROM quota_cell AS q
    JOIN wanted ON q.wave_id = wanted.w AND q.district = wanted.d
               AND q.sex = wanted.s AND q.age_group = wanted.a
               AND q.urban_rural IN ('', wanted.u)
    ORDER BY q.id
    FOR UPDATE OF q
), summed AS (
    SELECT id, sum(k) AS k FROM locked GROUP BY id
)
UPDATE quota_cell AS q SET achieved = q.achieved + summed.k
FROM summed
WHERE q.id = summed.id AND q.achieved + summed.k <= q.target
RETURNING q.wave_id, q.district, q.sex, q.age_group, q.urban_rural
""")


def _key(submission) -> tuple | None:
    cells = submission.cells
    if not _complete(cells):
        return None
    return (submission.channel.wave.id, cells["district"], cells["sex"], cells["age_group"],
            _urban_rural(cells))  # fmt: skip


def reserve_places(conn, submissions: list) -> list[str]:
    """Reserve quota places for *submissions* (given by cell) inside the submit
    transaction (*conn*: its Core connection): ok / over / full for each, as
    :func:`reserve` would one after the other.

    On PostgreSQL one statement first takes the places of every cell with room
    for all of its residents in the batch; the rest (no plan for the cell, a cell
    full or with room for only some) go through :func:`reserve`, one by one."""
    outcomes: list[str | None] = [None] * len(submissions)
    if conn.dialect.name == "postgresql":
        keys = [_key(submission) for submission in submissions]
        wanted = Counter(key for key in keys if key is not None)
        if wanted:
            w, d, s, a, u = (list(column) for column in zip(*wanted, strict=True))
            taken = set(
                map(tuple, conn.execute(_TAKE_PLACES, {"w": w, "d": d, "s": s, "a": a, "u": u,
                                                       "k": list(wanted.values())}))
            )  # fmt: skip
            for i, key in enumerate(keys):
                # The cell is the respondent's 城乡 cell, or (a plan not by 城乡) ''.
                if key is not None and (key in taken or (*key[:4], "") in taken):
                    outcomes[i] = "ok"
    return [
        outcome if outcome is not None else reserve(conn, submission)
        for outcome, submission in zip(outcomes, submissions, strict=True)
    ]
