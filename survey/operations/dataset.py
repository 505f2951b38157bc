"""A wave's valid responses as plain columns, the input of ``analysis/``.

Data flows one way: stored responses → columns (lists) → analysis → estimates.
Only valid responses count: those not excluded by an organizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from survey.extensions import db
from survey.models import PopulationCell, Response

CELL_COLUMNS = ("district", "sex", "age_group", "urban_rural")


def valid_responses(wave_id: int):
    """``select()`` of a wave's valid (not excluded) responses, in storage order."""
    return (
        select(Response)
        .where(Response.wave_id == wave_id, Response.excluded.is_(False))
        .order_by(Response.id)
    )


@dataclass
class WaveColumns:
    """Respondent-level columns, aligned by position."""

    respondent_id: list[str] = field(default_factory=list)
    cells: dict[str, list[str | None]] = field(default_factory=dict)
    indicators: dict[str, list[float | None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.respondent_id)


def wave_columns(wave_id: int, indicator_names: list[str]) -> WaveColumns:
    """Cell variables and the named indicators of every valid response."""
    out = WaveColumns(
        cells={c: [] for c in CELL_COLUMNS},
        indicators={name: [] for name in indicator_names},
    )
    table = Response.__table__
    stmt = (
        select(table.c.receipt_code, table.c.indicators, *(table.c[c] for c in CELL_COLUMNS))
        .where(table.c.wave_id == wave_id, table.c.excluded.is_(False))
        .order_by(table.c.id)
        .execution_options(yield_per=5000, stream_results=True)
    )
    ids = out.respondent_id
    cells = [out.cells[c] for c in CELL_COLUMNS]
    series = [(name, out.indicators[name]) for name in indicator_names]
    for row in db.session.execute(stmt):  # Core rows: no ORM objects for large waves
        ids.append(row[0])
        values = row[1] or {}
        for target, value in zip(cells, row[2:], strict=True):
            target.append(value)
        for name, target in series:
            value = values.get(name)
            target.append(None if value is None else float(value))
    return out


def population_rows(wave_id: int) -> list[dict]:
    """The wave's population frame as rows {district, sex, age_group, urban_rural, population}."""
    rows = db.session.scalars(
        select(PopulationCell).where(PopulationCell.wave_id == wave_id).order_by(PopulationCell.id)
    )
    return [
        {
            "district": r.district,
            "sex": r.sex,
            "age_group": r.age_group,
            "urban_rural": r.urban_rural,
            "population": r.population,
        }
        for r in rows
    ]
