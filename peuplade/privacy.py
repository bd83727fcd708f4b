"""Public (blurred) positions and distance bands.

A member's home never leaves the server. What others see is derived here:

* ``public_position(home)``: the home snapped to the centre of a grid cell of
  about 220 m x 220 m. Deterministic, so asking again and again gives the same
  cell and nothing averages out.
* ``distance_band(metres)``: a coarse label ("< 250 m", "~500 m", "~1 km"...),
  always computed between two *public* positions, so that repeated queries
  cannot trilaterate a home to better than the grid.
"""

from __future__ import annotations

import math

from sqlalchemy import case

from peuplade.geo import LatLon, lat_lon

# Cell height in degrees of latitude: 0.002 deg = about 222 m.
GRID_LAT_DEG = 0.002
GRID_METRES = 222

# (upper bound in metres, label): the first bound above the distance wins.
BANDS: tuple[tuple[float, str], ...] = (
    (250, "< 250 m"),
    (750, "~500 m"),
    (1500, "~1 km"),
    (2500, "~2 km"),
    (3500, "~3 km"),
    (4500, "~4 km"),
    (6000, "~5 km"),
)
FAR_LABEL = "> 5 km"


def public_position(home: LatLon) -> LatLon:
    """The centre of the grid cell holding ``home``: cells are ~222 m on each side.

    Rows of cells are 0.002 deg of latitude high; within a row, cells are as
    wide in metres as they are high (the longitude step widens with latitude).
    """
    row = math.floor(home.lat / GRID_LAT_DEG)
    centre_lat = (row + 0.5) * GRID_LAT_DEG
    lon_step = GRID_LAT_DEG / max(math.cos(math.radians(centre_lat)), 0.01)
    col = math.floor((home.lon + 180.0) / lon_step)
    centre_lon = -180.0 + (col + 0.5) * lon_step
    centre_lat = max(min(centre_lat, 90.0), -90.0)
    centre_lon = max(min(centre_lon, 180.0), -180.0)
    return lat_lon(round(centre_lat, 6), round(centre_lon, 6))


def distance_band(metres: float | None) -> str | None:
    """The band label for a distance between two public positions."""
    if metres is None:
        return None
    for bound, label in BANDS:
        if metres < bound:
            return label
    return FAR_LABEL


def band_rank(distance_expr):
    """SQL: the index of the distance band (0 = closest), for ordering by band only."""
    return case(
        *((distance_expr < bound, rank) for rank, (bound, _label) in enumerate(BANDS)),
        else_=len(BANDS),
    )


def band_label_for_rank(rank: int) -> str:
    return BANDS[rank][1] if 0 <= rank < len(BANDS) else FAR_LABEL
