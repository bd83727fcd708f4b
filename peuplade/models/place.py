"""Named public places (squares, street corners) an author may pick instead of home.
The name is the source's (a Vélib' station's); ``label`` is how people say it."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peuplade.formats import place_label
from peuplade.models.base import Base


class Place(Base):
    __tablename__ = "places"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    # Where it came from (e.g. "velib:12109"), so re-imports update in place.
    source_ref: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    position = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)

    @property
    def label(self) -> str:
        """The name as people say it ("Legendre - Nollet": "Angle Legendre et Nollet"):
        what forms offer and what a post placed there keeps (``Post.place_name``)."""
        return place_label(self.name)

    def __repr__(self) -> str:
        return f"<Place {self.id}>"
