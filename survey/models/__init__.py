"""SQLAlchemy models, one module per feature; import them all from here."""

from survey.models.abuse import RateCounter
from survey.models.base import Base, utcnow
from survey.models.city import City, District
from survey.models.fieldwork import (
    DailyCount,
    DurationBucket,
    PopulationCell,
    QuotaCell,
    QuotaPlan,
)
from survey.models.questionnaire import QuestionnaireVersion
from survey.models.response import Response
from survey.models.staff import ROLES, AuditEvent, User, UserRole
from survey.models.wave import Channel, ChannelStats, Wave

__all__ = [
    "ROLES",
    "AuditEvent",
    "User",
    "UserRole",
    "Base",
    "Channel",
    "ChannelStats",
    "City",
    "DailyCount",
    "DurationBucket",
    "PopulationCell",
    "QuotaCell",
    "QuotaPlan",
    "RateCounter",
    "District",
    "QuestionnaireVersion",
    "Response",
    "Wave",
    "utcnow",
]
