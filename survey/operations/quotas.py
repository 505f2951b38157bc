"""Quota plans: allocate a sample to district × sex × age group cells; edit targets."""

from __future__ import annotations

from sqlalchemy import delete, select

from analysis.allocation import allocate_cells, allocate_districts
from survey.extensions import db
from survey.models import PopulationCell, QuotaCell, QuotaPlan, Wave, utcnow
from survey.operations.audit import record
from survey.operations.errors import OperationError

#: The largest sample size or quota target accepted (a city's survey has thousands;
#: anything near this is a typing error, and the database column is a 32-bit integer).
MAX_SAMPLE = 1_000_000


def _check_size(n: int, label: str) -> None:
    if n < 0:
        raise OperationError(f"{label}不能为负数。")
    if n > MAX_SAMPLE:
        raise OperationError(f"{label} {n} 过大：最多 {MAX_SAMPLE:,}。")


def make_plan(
    wave: Wave,
    total: int | None = None,
    per_district: dict[str, int] | None = None,
    min_per_district: int = 0,
    actor_name: str | None = None,
) -> QuotaPlan:
    """Create or replace the wave's quota plan from its population frame.

    Either *total* (split by district population, each district at least
    *min_per_district*) or *per_district* sizes. Cells get targets in proportion
    to their population (urban/rural summed) by the largest-remainder rule, so
    district and grand totals are exact. Achieved counts are kept.
    """
    _check_size(min_per_district, "每个区县最少样本量")
    for n in (per_district or {}).values():
        _check_size(int(n), "各区县样本量")
    if total is not None:
        _check_size(total, "总样本量")
        if total == 0:
            raise OperationError("总样本量必须大于 0。")
    cells = list(db.session.scalars(select(PopulationCell).filter_by(wave_id=wave.id)))
    if not cells:
        raise OperationError("请先导入本轮调查的人口数据，再制定配额。")
    by_district: dict[str, dict[tuple, float]] = {}
    for cell in cells:
        key = (cell.sex, cell.age_group)
        block = by_district.setdefault(cell.district, {})
        block[key] = block.get(key, 0) + cell.population
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
        achieved = {
            (c.district, c.sex, c.age_group): (c.achieved, c.over_quota)
            for c in session.scalars(select(QuotaCell).filter_by(wave_id=wave.id))
        }
        session.execute(delete(QuotaCell).where(QuotaCell.wave_id == wave.id))
        for district, block in by_district.items():
            for (sex, age), target in allocate_cells(sizes[district], block).items():
                done, over = achieved.get((district, sex, age), (0, 0))
                session.add(
                    QuotaCell(wave_id=wave.id, district=district, sex=sex, age_group=age,
                              target=target, achieved=done, over_quota=over)
                )  # fmt: skip
        plan = session.get(QuotaPlan, wave.id) or QuotaPlan(wave_id=wave.id)
        plan.total = sum(sizes.values())
        plan.per_district = sizes
        plan.min_per_district = min_per_district
        plan.created_at = utcnow()
        session.add(plan)
        record(session, "quota_plan", "wave", wave.id,
               {"total": plan.total, "per_district": sizes, "min": min_per_district},
               actor_name=actor_name)  # fmt: skip
    return plan


def set_target(
    cell_id: int, target: int, actor_name: str | None = None, wave_id: int | None = None
) -> QuotaCell:
    """Change one cell's target (audited with the old and new value); with
    *wave_id*, only a cell of that wave."""
    _check_size(target, "配额")
    with db.write() as session:
        cell = session.get(QuotaCell, cell_id)
        if cell is None or (wave_id is not None and cell.wave_id != wave_id):
            raise OperationError("本轮调查没有这个配额单元。")
        old = cell.target
        cell.target = target
        record(session, "quota_change", "quota_cell", cell.id,
               {"cell": f"{cell.district}/{cell.sex}/{cell.age_group}", "old": old, "new": target},
               actor_name=actor_name)  # fmt: skip
    return cell


def quota_cells(wave_id: int) -> list[QuotaCell]:
    return list(
        db.session.scalars(select(QuotaCell).filter_by(wave_id=wave_id).order_by(QuotaCell.id))
    )
