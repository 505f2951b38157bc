"""Fieldwork control: the population frame, quota plans and cells, and the
pre-aggregated counters the organizer's dashboard reads (it never scans responses)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, utcnow


class PopulationCell(Base):
    """One cell of a wave's population frame (residents aged 18+)."""

    __tablename__ = "population_cell"
    __table_args__ = (
        UniqueConstraint("wave_id", "district", "sex", "age_group", "urban_rural"),
        CheckConstraint("population >= 0", name="population_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The wave whose frame this is.
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    #: Cell labels exactly as residents' answers are stored (e.g. 咸安区, 男, 18-29岁).
    district: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(20))
    age_group: Mapped[str] = mapped_column(String(20))
    #: 城镇 / 农村, or '' when the frame has no urban/rural split.
    urban_rural: Mapped[str] = mapped_column(String(20), default="")
    #: Number of residents in the cell.
    population: Mapped[int]


class QuotaPlan(Base):
    """How a wave's sample was allocated to quota cells."""

    __tablename__ = "quota_plan"

    #: The wave planned (one plan per wave).
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), primary_key=True)
    #: Total planned sample size (when allocated from a total).
    total: Mapped[int | None]
    #: Planned size per district {district: n} (after minimums).
    per_district: Mapped[dict] = mapped_column(default=dict)
    #: Minimum per district used when allocating a total.
    min_per_district: Mapped[int] = mapped_column(default=0)
    #: When the plan was (re)made.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Cells by district × 城乡 × sex × age group (True), or district × sex × age
    #: group (False, the default): the frame's urban/rural split summed.
    by_urban_rural: Mapped[bool] = mapped_column(default=False, server_default=false())

    #: Not stored: set by ``make_plan`` on the plan it returns, the valid stored
    #: responses it counted into the new cells and how many of them exceed their
    #: cell's target (counted over quota).
    recounted = (0, 0)


class QuotaCell(Base):
    """Target and achieved count for district × sex × age group, or district ×
    城乡 × sex × age group when the plan is by urban/rural (``QuotaPlan.by_urban_rural``).

    ``achieved`` is incremented in the same transaction that stores a response,
    with ``UPDATE ... SET achieved = achieved + 1 WHERE achieved < target`` under
    the close policy, so that exactly ``target`` responses are accepted.
    """

    __tablename__ = "quota_cell"
    __table_args__ = (
        UniqueConstraint("wave_id", "district", "sex", "age_group", "urban_rural"),
        CheckConstraint("target >= 0", name="target_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The wave.
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    #: Cell labels.
    district: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(20))
    age_group: Mapped[str] = mapped_column(String(20))
    #: 城镇 / 农村 as residents' answers store it, or '' when the plan is not by
    #: urban/rural (every cell of a wave is one kind or the other).
    urban_rural: Mapped[str] = mapped_column(String(20), default="", server_default="")
    #: Planned number of valid responses (editable by organizers; audited).
    target: Mapped[int] = mapped_column(default=0)
    #: Responses stored within the target.
    achieved: Mapped[int] = mapped_column(default=0)
    #: Responses accepted beyond the target (soft policy).
    over_quota: Mapped[int] = mapped_column(default=0)


class DailyCount(Base):
    """Completions per channel and day (for the completions-per-day chart)."""

    __tablename__ = "daily_count"

    #: The channel.
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), primary_key=True)
    #: Local (Asia/Shanghai) calendar day.
    day: Mapped[date] = mapped_column(primary_key=True)
    #: Stored responses that day.
    completions: Mapped[int] = mapped_column(default=0)


class DurationBucket(Base):
    """Histogram of completion durations per channel (median without a scan).

    ``bucket`` is the lower bound in seconds of a 10-second-wide bin
    (the last bin, 3600, holds everything longer).
    """

    __tablename__ = "duration_bucket"

    #: The channel.
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), primary_key=True)
    #: Lower bound of the bin in seconds.
    bucket: Mapped[int] = mapped_column(primary_key=True)
    #: Responses whose duration fell in the bin.
    count: Mapped[int] = mapped_column(default=0)
