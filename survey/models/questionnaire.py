"""Stored questionnaire versions (the definition as validated data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, utcnow


class QuestionnaireVersion(Base):
    """One version of a questionnaire; responses point at the version they answered.

    A version is immutable once it has responses: changing the definition then
    requires a new ``version`` number (enforced by ``register_questionnaire``).
    """

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The definition's ``id`` (e.g. eco-satisfaction-standard).
    slug: Mapped[str] = mapped_column(String(100))
    #: The definition's ``version`` number.
    version: Mapped[int]
    #: Title shown to residents.
    title: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the canonical definition; detects edits of a used version.
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The validated definition as plain data (shown in the report appendix).
    definition: Mapped[dict]
    #: When this version was first loaded.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
