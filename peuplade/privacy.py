"""The privacy grid and distance bands: what others may learn of a member's place.

A member's home never leaves the server. Others see the member at a public position
(``Member.public_position``) made from this grid:

* ``cells(home)``: the keys of the cells holding the home, finest first: a cell of
  about 222 m x 222 m, the enclosing 2 x 2 cell (~444 m) and 4 x 4 cell (~890 m).
  Cells are nested, so two homes in one cell share every coarser cell too.
* ``centre(key)``: where a member of that cell is shown. Deterministic, so asking
  again and again gives the same point and nothing averages out. Which level a
  member is shown at - the finest cell whose crowd of established members has held,
  never finer than their own floor, or a point of their quartier - is decided and
  stored by account/blur.py; either way within ``PUBLIC_OFFSET_MAX_M`` of the home.
  ``level_for`` is the crowd rule on plain member counts.
* ``distance_band(metres)``: a coarse label ("< 250 m", "~500 m", "~1 km"...),
  always computed between two *public* positions, so that repeated queries
  cannot trilaterate a home to better than the grid; ``band_rank`` is its SQL.
"""

from __future__ import annotations

import math

from sqlalchemy import case

from peuplade.geo import LatLon, geodesic_distance_m, lat_lon

# Cell height in degrees of latitude: 0.002 deg = about 222 m.
GRID_LAT_DEG = 0.002
GRID_METRES = 222
# level_for's crowd: the default of the app's PRIVACY_CROWD_MIN (config.py).
CROWD_MIN = 3
# Level k cells gather FACTOR^k x FACTOR^k cells of level 0: ~222 m, ~444 m, ~890 m.
FACTOR = 2
LEVELS = 3

# A public position is never farther than this from the home it stands for: the
# coarsest cell's half-diagonal is ~630 m, and a "quartier only" position is used only
# when its point lies within QUARTIER_POINT_MAX_M of that cell's centre
# (account/blur.py). Queries about whom a post reaches pre-filter on public positions
# with this margin, then test homes exactly (posts/audience.py).
PUBLIC_OFFSET_MAX_M = 1600
QUARTIER_POINT_MAX_M = 900

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


def _lon_step(row: int) -> float:
    """Degrees of longitude of a cell in ``row``. Constant within each coarsest row
    (FACTOR^(LEVELS-1) rows), so that coarser cells are true rectangles of finer ones;
    it widens with the latitude so that cells stay about square."""
    band = FACTOR ** (LEVELS - 1)
    band_lat = (row // band + 0.5) * band * GRID_LAT_DEG
    return GRID_LAT_DEG / max(math.cos(math.radians(band_lat)), 0.01)


def _level0(home: LatLon) -> tuple[int, int]:
    """(row, column) of the ~222 m cell holding ``home``."""
    row = math.floor(home.lat / GRID_LAT_DEG)
    return row, math.floor((home.lon + 180.0) / _lon_step(row))


def _centre0(row: float, col: float) -> LatLon:
    """The point at fractional (row, column) of the ~222 m grid (cell centres are at
    whole + 0.5)."""
    centre_lat = row * GRID_LAT_DEG
    centre_lon = -180.0 + col * _lon_step(math.floor(row))
    centre_lat = max(min(centre_lat, 90.0), -90.0)
    centre_lon = max(min(centre_lon, 180.0), -180.0)
    return lat_lon(round(centre_lat, 6), round(centre_lon, 6))


def cells(home: LatLon) -> list[str]:
    """The keys of the cells holding ``home``, finest first: ``"k:row:col"``. A cell of
    level k+1 is exactly FACTOR x FACTOR cells of level k, so every cell lies in one
    coarser."""
    row, col = _level0(home)
    keys = []
    for level in range(LEVELS):
        size = FACTOR**level
        keys.append(f"{level}:{row // size}:{col // size}")
    return keys


def centre(key: str) -> LatLon:
    """The centre of a cell (of any level)."""
    level, row, col = (int(part) for part in key.split(":"))
    size = FACTOR**level
    # In units of ~222 m cells, the middle of the block (rows of a block share their
    # longitude step, see _lon_step).
    return _centre0(row * size + size / 2, col * size + size / 2)


def level_for(counts: list[int], crowd_min: int = CROWD_MIN) -> int:
    """The finest level whose cell holds at least ``crowd_min`` members, given the
    member counts of the member's cells (finest first); the coarsest otherwise."""
    for level, count in enumerate(counts[: LEVELS - 1]):
        if count >= crowd_min:
            return level
    return LEVELS - 1


def distance_band(metres: float | None) -> str | None:
    """The band label for a distance between two public positions."""
    if metres is None:
        return None
    for bound, label in BANDS:
        if metres < bound:
            return label
    return FAR_LABEL


# band_between's shortcut: between two points this close (and off the poles), a flat
# distance on the ellipsoid's local radii of curvature is within a few millimetres of the
# geodesic (worst seen: 0.09 m at 11 km, tests/test_fast_render.py); within
# _FLAT_MARGIN_M of a band's bound the geodesic decides, so the band is always the
# geodesic's band.
_FLAT_MAX_DEG = 0.1
_FLAT_MAX_LAT = 80.0
_FLAT_MARGIN_M = 1.0
_WGS84_A = 6378137.0
_WGS84_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)


def flat_distance_m(a: LatLon, b: LatLon) -> float | None:
    """The distance between two close points, flat on the ellipsoid's radii of curvature
    at their middle latitude; None when they are too far apart (or too near a pole) for
    it to be within millimetres of the geodesic."""
    dlat, dlon = b.lat - a.lat, b.lon - a.lon
    mid = math.radians((a.lat + b.lat) / 2)
    cos_mid = math.cos(mid)
    if (
        abs(dlat) > _FLAT_MAX_DEG
        or abs(dlon) * cos_mid > _FLAT_MAX_DEG
        or abs(a.lat) > _FLAT_MAX_LAT
        or abs(b.lat) > _FLAT_MAX_LAT
    ):
        return None
    sin_mid = math.sin(mid)
    w = 1 - _WGS84_E2 * sin_mid * sin_mid
    normal = _WGS84_A / math.sqrt(w)  # prime vertical radius
    meridional = normal * (1 - _WGS84_E2) / w
    return math.hypot(meridional * math.radians(dlat), normal * cos_mid * math.radians(dlon))


def band_between(a: LatLon | None, b: LatLon | None) -> str | None:
    """``distance_band(geodesic_distance_m(a, b))``, without the geodesic unless the flat
    distance falls within a metre of a band's bound (or the points are far apart)."""
    if a is None or b is None:
        return None
    metres = flat_distance_m(a, b)
    if metres is None or any(abs(metres - bound) <= _FLAT_MARGIN_M for bound, _ in BANDS):
        metres = geodesic_distance_m(a, b)
    return distance_band(metres)


def band_rank(distance_expr):
    """SQL: the index of the distance band (0 = closest), for ordering by band only."""
    return case(
        *((distance_expr < bound, rank) for rank, (bound, _label) in enumerate(BANDS)),
        else_=len(BANDS),
    )


def band_label_for_rank(rank: int) -> str:
    return BANDS[rank][1] if 0 <= rank < len(BANDS) else FAR_LABEL
