"""Survey waves (e.g. 2026年度) and collection channels (QR codes)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, utcnow
from survey.models.city import City, District
from survey.models.questionnaire import QuestionnaireVersion


class Wave(Base):
    """One round of the survey in one city, e.g. 咸宁市 2026年度."""

    __tablename__ = "wave"
    __table_args__ = (CheckConstraint("quota_policy in ('close', 'soft')", name="quota_policy"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The city surveyed.
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    #: Name shown to staff and in reports, e.g. 2026年度.
    name: Mapped[str] = mapped_column(String(100))
    #: Who runs the survey (shown to residents on the landing page).
    organizer: Mapped[str] = mapped_column(String(200), default="")
    #: The questionnaire version residents answer in this wave.
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    #: Planned fieldwork dates.
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    #: What happens when a respondent's quota cell is full: close or soft.
    quota_policy: Mapped[str] = mapped_column(String(10), default="close")
    #: Creation time.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The earlier wave the report compares with (None: the city's latest wave
    #: before this one), chosen by a statistician, e.g. to skip a pilot.
    previous_wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id"))
    #: Last year's published figures, for a city whose earlier surveys were not
    #: run on this platform: {domain ("全市" or a district): {"satisfaction": %,
    #: "participation": %}}. When set, the report compares with these.
    previous_figures: Mapped[dict | None]
    #: Where those figures come from (a report's title, a year), for the report.
    previous_source: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: The wave's analysis settings for publication (发布口径), saved by a
    #: statistician from the estimates page: {"weighting", "margins", "ci",
    #: "level", "target", "min_cell"} (``Settings.query()``). The exports page,
    #: the CLI and the report weight with these; None: the defaults.
    analysis_settings: Mapped[dict | None]

    city: Mapped[City] = relationship()
    questionnaire: Mapped[QuestionnaireVersion] = relationship()


class Channel(Base):
    """A place a QR code points to: a district plus a collection point label.

    Every visit, start, screen-out, quota-full, completion and receipt is counted
    in :class:`ChannelStats` (one row per channel, updated atomically).
    """

    __tablename__ = "channel"
    #: One collection-point name per district and wave (checked by create_channel
    #: too, with a clear message; the index settles two creations at once).
    __table_args__ = (
        Index("uq_channel_wave_district_label", "wave_id", "district_id", "label", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The wave this channel collects for.
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    #: The district whose residents the channel targets (pre-selects the answer).
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    #: Collection point, e.g. 社区海报、访问员 张三.
    label: Mapped[str] = mapped_column(String(200))
    #: Unguessable URL token (secrets.token_urlsafe).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Closed channels show 本次调查已结束 and accept nothing.
    is_open: Mapped[bool] = mapped_column(default=True)
    #: When it was last closed (None while open): residents who had started
    #: before may still finish for ``FINISH_GRACE_SECONDS``.
    closed_at: Mapped[datetime | None]
    #: Creation time.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    wave: Mapped[Wave] = relationship()
    district: Mapped[District] = relationship()
    stats: Mapped[ChannelStats] = relationship(back_populates="channel", uselist=False)


class ChannelStats(Base):
    """Funnel counters of a channel; incremented with ``UPDATE ... SET x = x + 1``."""

    __tablename__ = "channel_stats"

    #: The channel counted.
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), primary_key=True)
    #: Landing page views.
    visits: Mapped[int] = mapped_column(default=0)
    #: Residents who consented and opened the questionnaire.
    starts: Mapped[int] = mapped_column(default=0)
    #: Residents screened out (age, residence, environment staff).
    screen_outs: Mapped[int] = mapped_column(default=0)
    #: Residents turned away because their quota cell was full.
    quota_full: Mapped[int] = mapped_column(default=0)
    #: Stored responses.
    completions: Mapped[int] = mapped_column(default=0)
    #: Receipts given: one per stored response (a retry or a reload of the
    #: thank-you page does not count again).
    receipts: Mapped[int] = mapped_column(default=0)

    channel: Mapped[Channel] = relationship(back_populates="stats")
