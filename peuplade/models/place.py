"""Named public places (squares, street corners) an author may pick instead of home."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peuplade.models.base import Base


class Place(Base):
    __tablename__ = "places"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    # Where it came from (e.g. "velib:12109"), so re-imports update in place.
    source_ref: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    position = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)

    def __repr__(self) -> str:
        return f"<Place {self.id}>"
