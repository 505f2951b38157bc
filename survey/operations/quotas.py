"""Quota plans: allocate a sample to district × sex × age group cells (or
district × 城乡 × sex × age group); edit targets."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update

from analysis.allocation import allocate_cells, allocate_districts
from survey.extensions import db
from survey.models import (
    Channel,
    ChannelStats,
    PopulationCell,
    QuotaCell,
    QuotaPlan,
    Response,
    Wave,
    utcnow,
)
from survey.operations.audit import record
from survey.operations.errors import OperationError
from survey.operations.quality import lock_places_of, lock_wave_places, same_cell
from survey.operations.questionnaires import questionnaire_of

#: The largest sample size or quota target accepted (a city's survey has thousands;
#: anything near this is a typing error, and the database column is a 32-bit integer).
MAX_SAMPLE = 1_000_000


def _check_size(n: int, label: str) -> None:
    if n < 0:
        raise OperationError(f"{label}不能为负数。")
    if n > MAX_SAMPLE:
        raise OperationError(f"{label} {n} 过大：最多 {MAX_SAMPLE:,}。")


#: How a plan's cells are cut, as the pages and the audit log say it.
CELLS_PLAIN = "区县 × 性别 × 年龄组"
CELLS_URBAN_RURAL = "区县 × 城乡 × 性别 × 年龄组"


def cells_label(by_urban_rural: bool) -> str:
    return CELLS_URBAN_RURAL if by_urban_rural else CELLS_PLAIN


def _check_urban_rural(wave: Wave, cells: list[PopulationCell]) -> None:
    """A plan by 城乡 needs the frame's urban/rural split and the question."""
    if any(not cell.urban_rural for cell in cells):
        raise OperationError(
            "人口数据没有城乡（城镇/农村）分组，无法按城乡制定配额："
            "请导入含“城乡”列的人口数据，或按区县 × 性别 × 年龄组制定配额。"
        )
    if not questionnaire_of(wave.questionnaire).roles.get("urban_rural"):
        raise OperationError(
            "本轮调查的问卷没有城乡（居住在城镇还是农村）题目，无法按城乡制定配额："
            "请按区县 × 性别 × 年龄组制定配额。"
        )


def make_plan(
    wave: Wave,
    total: int | None = None,
    per_district: dict[str, int] | None = None,
    min_per_district: int = 0,
    actor_name: str | None = None,
    by_urban_rural: bool = False,
) -> QuotaPlan:
    """Create or replace the wave's quota plan from its population frame.

    Either *total* (split by district population, each district at least
    *min_per_district*) or *per_district* sizes. Cells are district × sex × age
    group, or with *by_urban_rural* district × 城乡 × sex × age group (refused
    when the frame has no urban/rural split or the questionnaire no such
    question). Cells get targets in proportion to their population (urban/rural
    summed unless the plan is by it) by the largest-remainder rule, so district
    and grand totals are exact.

    The new cells count the valid responses stored already (a plan remade during
    fieldwork), in the same transaction: see :func:`_recount`. The plan returned
    says how many (``recounted``).
    """
    _check_size(min_per_district, "每个区县最少样本量")
    for n in (per_district or {}).values():
        _check_size(int(n), "各区县样本量")
    if total is not None:
        _check_size(total, "总样本量")
        if total == 0:
            raise OperationError("总样本量必须大于 0。")
    cells = list(
        db.session.scalars(
            select(PopulationCell).filter_by(wave_id=wave.id).order_by(PopulationCell.id)
        )
    )
    if not cells:
        raise OperationError("请先导入本轮调查的人口数据，再制定配额。")
    if by_urban_rural:
        _check_urban_rural(wave, cells)
    by_district: dict[str, dict[tuple, float]] = {}
    for cell in cells:
        key = (cell.urban_rural if by_urban_rural else "", cell.sex, cell.age_group)
        block = by_district.setdefault(cell.district, {})
        block[key] = block.get(key, 0) + cell.population
    # Cells in the frame's order, a district's 城镇 cells before its 农村 ones
    # (sorted() keeps the sex × age order within each).
    first_seen: dict[str, int] = {}
    for key in (key for block in by_district.values() for key in block):
        first_seen.setdefault(key[0], len(first_seen))
    by_district = {
        district: dict(sorted(block.items(), key=lambda item: first_seen[item[0][0]]))
        for district, block in by_district.items()
    }
    if per_district:
        unknown = set(per_district) - set(by_district)
        if unknown:
            raise OperationError(f"人口数据中没有这些区县：{'、'.join(sorted(unknown))}")
        sizes = {d: int(per_district.get(d, 0)) for d in by_district}
        if any(n < 0 for n in sizes.values()):
            raise OperationError("各区县样本量不能为负数。")
    elif total:
        try:
            sizes = allocate_districts(
                int(total), {d: sum(b.values()) for d, b in by_district.items()}, min_per_district
            )
        except ValueError as exc:
            raise OperationError(str(exc)) from exc
    else:
        raise OperationError("请填写总样本量或各区县样本量。")
    with db.write() as session:
        _lock_counters(session, wave.id)
        session.execute(delete(QuotaCell).where(QuotaCell.wave_id == wave.id))
        targets = {
            (district, *key): target
            for district, block in by_district.items()
            for key, target in allocate_cells(sizes[district], block).items()
        }
        counts, over_target = _recount(session, wave.id, targets, by_urban_rural)
        for (district, urban_rural, sex, age), target in targets.items():
            within, over = counts.get((district, urban_rural, sex, age), (0, 0))
            session.add(
                QuotaCell(wave_id=wave.id, district=district, urban_rural=urban_rural, sex=sex,
                          age_group=age, target=target, achieved=within, over_quota=over)
            )  # fmt: skip
        plan = session.get(QuotaPlan, wave.id) or QuotaPlan(wave_id=wave.id)
        plan.total = sum(sizes.values())
        plan.per_district = sizes
        plan.min_per_district = min_per_district
        plan.by_urban_rural = by_urban_rural
        plan.created_at = utcnow()
        session.add(plan)
        recounted = sum(within + over for within, over in counts.values())
        record(session, "quota_plan", "wave", wave.id,
               {"total": plan.total, "per_district": sizes, "min": min_per_district,
                "cells": cells_label(by_urban_rural), "recounted": recounted,
                "over_target": over_target},
               actor_name=actor_name)  # fmt: skip
    plan.recounted = (recounted, over_target)
    return plan


def recount_text(plan: QuotaPlan) -> str:
    """What :func:`make_plan` recounted, for the page and the CLI ('' when the
    wave had no valid response yet)."""
    counted, over = plan.recounted
    if not counted:
        return ""
    return f"已按现有有效答卷重新计数：{counted} 份计入新的配额单元" + (
        f"，其中 {over} 份超出新目标，计为超额。" if over else "。"
    )


def _lock_counters(session, wave_id: int) -> None:
    """Wait for the wave's submissions being stored, and hold off the next ones,
    until the new plan is committed (PostgreSQL; SQLite's write transactions run
    one at a time): the recount must see every response that holds a place.

    First the wave's lock for moving places (:func:`lock_wave_places`): an
    exclusion, restoration or withdrawal under way finishes before the recount,
    and the next waits for the new cells.

    The submit writer locks the quota cells it takes places in (by id), then its
    channels' counters (the response trigger, by channel): the same order here,
    so neither waits for the other in a cycle. A submission in a cell that had
    no row locks only its channel's counters, and waits there."""
    lock_wave_places(session, wave_id)
    session.execute(
        select(QuotaCell.id).where(QuotaCell.wave_id == wave_id).order_by(QuotaCell.id)
        .with_for_update()
    ).all()  # fmt: skip
    session.execute(
        select(ChannelStats.channel_id)
        .join(Channel, Channel.id == ChannelStats.channel_id)
        .where(Channel.wave_id == wave_id)
        .order_by(ChannelStats.channel_id)
        .with_for_update(of=ChannelStats)
    ).all()


_SET_OVER = (
    update(Response.__table__)
    .where(Response.__table__.c.id == bindparam("rid"))
    .values(over_quota=bindparam("over"))
)


def _recount(
    session, wave_id: int, targets: dict[tuple, int], by_urban_rural: bool, *where
) -> tuple[dict[tuple, tuple[int, int]], int]:
    """Count the wave's valid stored responses (neither excluded nor withdrawn)
    into the new cells, as migration 0008 counted the old ones: in each cell its
    earliest responses (by number) up to the target hold places, the rest are
    counted over quota and flagged so (under either policy: they are stored and
    valid, and a place freed later goes to the earliest of them, as excluding
    does; under the close policy the cell then takes no one new). A response in
    no cell of the plan holds no place and is over no quota.

    Returns (within, over) per cell key (district, 城乡 or '', sex, age group) and
    the number counted over quota; rewrites the responses' over-quota flags that
    change. *where*: only these responses (one cell's: :func:`_recount_cell`)."""
    rows = session.execute(
        select(Response.id, Response.district, Response.urban_rural, Response.sex,
               Response.age_group, Response.over_quota)
        .where(Response.wave_id == wave_id, Response.excluded.is_(False), *where)
        .order_by(Response.id)
    ).all()  # fmt: skip
    counts: dict[tuple, list[int]] = {}
    changed = []
    for rid, district, urban_rural, sex, age, was_over in rows:
        key = (district, (urban_rural or "") if by_urban_rural else "", sex, age)
        over = False
        if key in targets:
            within_over = counts.setdefault(key, [0, 0])
            over = within_over[0] >= targets[key]
            within_over[over] += 1
        if over != was_over:
            changed.append({"rid": rid, "over": over})
    if changed:
        session.connection().execute(_SET_OVER, changed)
    over_target = sum(over for _, over in counts.values())
    return {key: (within, over) for key, (within, over) in counts.items()}, over_target


def set_target(
    cell_id: int, target: int, actor_name: str | None = None, wave_id: int | None = None
) -> QuotaCell:
    """Change one cell's target (audited with the old and new value); with
    *wave_id*, only a cell of that wave.

    The cell's valid responses are counted again against the new target, as
    :func:`make_plan` counts them: the earliest up to the target hold places,
    the rest are over quota. (A lowered target left the cell counting more
    places than it had, none of them over quota; a raised one left responses
    flagged over quota in a cell with room, which then went to new residents.)
    The cell returned says how many are over quota (``over_quota``)."""
    _check_size(target, "配额")
    with db.write() as session:
        # After a plan being remade at the same moment (which replaces the cells).
        lock_places_of(session, wave_id, select(QuotaCell.wave_id).where(QuotaCell.id == cell_id))
        # Locked: a submission in the cell waits, then sees the new counts.
        cell = session.get(QuotaCell, cell_id, with_for_update=True, populate_existing=True)
        if cell is None or (wave_id is not None and cell.wave_id != wave_id):
            raise OperationError("本轮调查没有这个配额单元。")
        old = cell.target
        cell.target = target
        cell.achieved, cell.over_quota = _recount_cell(session, cell)
        record(session, "quota_change", "quota_cell", cell.id,
               {"cell": cell_name(cell), "old": old, "new": target,
                "over_quota": cell.over_quota},
               actor_name=actor_name)  # fmt: skip
    return cell


def _recount_cell(session, cell: QuotaCell) -> tuple[int, int]:
    """Count the valid stored responses of one *cell* against its target, as
    :func:`_recount` does for a whole plan; rewrites the over-quota flags that
    change. Returns (within, over)."""
    key = (cell.district, cell.urban_rural, cell.sex, cell.age_group)
    counts, _ = _recount(session, cell.wave_id, {key: cell.target}, bool(cell.urban_rural),
                         *same_cell(cell.urban_rural, cell))  # fmt: skip
    return counts.get(key, (0, 0))


def cell_name(cell: QuotaCell) -> str:
    """A cell as the audit log names it: 咸安区/男/18-29岁, or 咸安区/城镇/男/18-29岁."""
    parts = (cell.district, cell.urban_rural, cell.sex, cell.age_group)
    return "/".join(part for part in parts if part)


def quota_cells(wave_id: int) -> list[QuotaCell]:
    return list(
        db.session.scalars(select(QuotaCell).filter_by(wave_id=wave_id).order_by(QuotaCell.id))
    )
