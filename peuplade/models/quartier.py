"""Named quartiers: polygons loaded from GeoJSON (flask import-quartiers)."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peuplade.models.base import Base, TimestampMixin


def _raw_name(context) -> str | None:
    """A quartier added without a display name shows its name as it came."""
    return context.get_current_parameters().get("name")


class Quartier(TimestampMixin, Base):
    __tablename__ = "quartiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    # The name as the open data gives it ("Epinettes"): what a re-import compares.
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    # The name pages show ("Épinettes"): the import's correction table
    # (data/quartiers-paris-noms.csv), else the name as it came.
    display_name: Mapped[str] = mapped_column(String(120), nullable=False, default=_raw_name)
    # Where the polygon came from (e.g. "c_quinsee 7511765"), so re-imports update in place.
    source_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    arrondissement: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Deferred: a quartier is loaded with every signed-in member (Member.quartier, each
    # request) for its name; its polygon (a few KB) is read only where it is used.
    geom = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False, deferred=True
    )

    def __repr__(self) -> str:
        return f"<Quartier {self.slug}>"
