"""Cities and their county-level districts (the strata of every survey)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base


class City(Base):
    """A city (or county) applying to be an eco-civilization demonstration zone."""

    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Official name, e.g. 咸宁市; unique.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: Province, e.g. 湖北省.
    province: Mapped[str] = mapped_column(String(100), default="")
    districts: Mapped[list[District]] = relationship(
        back_populates="city", order_by="District.sort_order"
    )


class District(Base):
    """A county-level district (区/县/县级市): a stratum and a reporting domain."""

    __tablename__ = "district"
    __table_args__ = (UniqueConstraint("city_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The city the district belongs to.
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    #: Official name, e.g. 咸安区; this exact text is used in population frames.
    name: Mapped[str] = mapped_column(String(100))
    #: Resident population at the latest census (all ages), for information.
    census_population: Mapped[int | None]
    #: Display order (official order in statistical yearbooks).
    sort_order: Mapped[int] = mapped_column(default=0)
    city: Mapped[City] = relationship(back_populates="districts")
