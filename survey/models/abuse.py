"""Rate-limit counters shared by every app process (no Redis needed)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base


class RateCounter(Base):
    """Requests counted per key in a fixed time window.

    Keys never contain an IP address: they are e.g. ``submit:client:<rotating
    salted hash>`` or ``submit:channel:<id>``. Old windows are purged.
    """

    __tablename__ = "rate_counter"

    #: What is limited and for whom.
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: Start of the window (unix seconds, a multiple of the window length).
    window: Mapped[int] = mapped_column(primary_key=True)
    #: Requests seen in the window.
    count: Mapped[int] = mapped_column(default=0)
