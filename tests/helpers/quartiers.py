"""Square quartiers: a ``Quartier`` row whose outline is a rectangle of longitudes and
latitudes, committed. In a test, the ``make_quartier`` fixture (tests/conftest.py) is
this ``add_quartier`` in the test's app; code that runs outside a fixture (a world
builder shared by several tests) calls ``add_quartier`` in the current app context."""

from __future__ import annotations

from peuplade import geo
from peuplade.extensions import db
from peuplade.models import Quartier

# West, south, east, north: a square over the 17e holding the test points of
# tests/conftest.py (BATIGNOLLES, CLICHY, DAMES_LEMERCIER), not FAR_AWAY.
AROUND_THE_17E = (2.30, 48.87, 2.34, 48.90)


def square_wkt(west: float, south: float, east: float, north: float) -> str:
    """The rectangle as a WKT multipolygon (lon lat), from its south-west corner."""
    return (
        f"MULTIPOLYGON((({west} {south}, {east} {south}, {east} {north}, "
        f"{west} {north}, {west} {south})))"
    )


def add_quartier(
    slug: str = "batignolles",
    *,
    around: tuple[float, float] | None = None,
    half: float = 0.01,
    bounds: tuple[float, float, float, float] = AROUND_THE_17E,
    name: str | None = None,
    **columns,
) -> Quartier:
    """Add and commit a quartier: ``half`` degrees each way around the point ``around``
    (lat, lon), or else between ``bounds`` (west, south, east, north). Named after its
    slug unless ``name`` is given; ``columns`` are other columns (``arrondissement``)."""
    if around is not None:
        lat, lon = around
        bounds = (lon - half, lat - half, lon + half, lat + half)
    quartier = Quartier(
        slug=slug,
        name=slug.title() if name is None else name,
        geom=geo.geometry_from_wkt(square_wkt(*bounds)),
        **columns,
    )
    db.session.add(quartier)
    db.session.commit()
    return quartier
