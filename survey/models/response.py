"""Stored responses: raw answers, derived indicators, cell variables, paradata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, utcnow
from survey.models.questionnaire import QuestionnaireVersion
from survey.models.wave import Channel


class Response(Base):
    """One accepted questionnaire. Never deleted by the application once stored
    (exclusion is a flag; withdrawal by the respondent is handled separately)."""

    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_wave_cell", "wave_id", "district", "sex", "age_group"),
        # covers the cell counts of valid responses (weights of exports)
        Index(
            "ix_response_wave_valid_cell",
            "wave_id",
            "excluded",
            "district",
            "sex",
            "age_group",
            "urban_rural",
        ),  # fmt: skip
        Index("ix_response_wave_flagged", "wave_id", "is_flagged"),
        Index("ix_response_device_hash", "wave_id", "device_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One-time id carried by the form; makes submission idempotent.
    submission_id: Mapped[str] = mapped_column(String(40), unique=True)
    #: Short code shown to the respondent on the thank-you page.
    receipt_code: Mapped[str] = mapped_column(String(16), unique=True)
    #: Wave and channel the answer came through.
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    #: The questionnaire version answered.
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    #: Raw answers: {question id: value or list of values}.
    answers: Mapped[dict]
    #: Derived indicator values per respondent: {name: number or null}.
    indicators: Mapped[dict]
    #: Cell variables (labels as used in the population frame).
    district: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(20))
    age_group: Mapped[str | None] = mapped_column(String(20))
    urban_rural: Mapped[str | None] = mapped_column(String(20))
    #: When the resident opened the questionnaire and when it was stored (UTC).
    started_at: Mapped[datetime]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Seconds between start and submit.
    duration_seconds: Mapped[float]
    #: Coarse device class, e.g. mobile-wechat, mobile, tablet, desktop.
    device_class: Mapped[str] = mapped_column(String(30), default="unknown")
    #: Salted hash of the client address; the salt rotates daily. Never a raw IP.
    client_hash: Mapped[str] = mapped_column(String(32), default="")
    #: Accepted although its quota cell was full (soft quota policy).
    over_quota: Mapped[bool] = mapped_column(default=False)
    #: Excluded from estimates and exports of valid data by an organizer. An
    #: excluded response holds no quota place (survey/operations/quality.py).
    excluded: Mapped[bool] = mapped_column(default=False)
    #: An organizer has decided on this flagged response (excluded, kept or
    #: restored): it no longer counts as 待核查.
    reviewed: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Data-quality flags set at submit time: too_fast, straight_lined,
    #: repeated_device, honeypot, many_from_client ... (reviewed by organizers;
    #: survey/operations/quality.py lists them).
    flags: Mapped[list] = mapped_column(default=list)
    #: True when ``flags`` is not empty (indexed: the review list reads only these).
    is_flagged: Mapped[bool] = mapped_column(default=False)
    #: Salted hash of the anonymous device cookie (repeat detection); never the cookie.
    device_hash: Mapped[str] = mapped_column(String(32), default="")
    #: Set when the respondent withdrew with the receipt code: answers are erased,
    #: the row stays as a tombstone so that counts remain explainable.
    withdrawn_at: Mapped[datetime | None]

    channel: Mapped[Channel] = relationship()
    questionnaire: Mapped[QuestionnaireVersion] = relationship()
