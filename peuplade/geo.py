"""THE one place for spatial SQL and geometry helpers.

Every spatial expression is a construct compiled per dialect: PostGIS
(PostgreSQL) and SpatiaLite (SQLite). No other module writes ``ST_*`` calls.

Radius queries are two steps on both backends:
1. a bounding-box filter that the spatial index answers (GiST ``&&`` on
   PostGIS; on SpatiaLite an explicit ``ROWID IN (SELECT ROWID FROM
   SpatialIndex ...)`` sub-query, because SpatiaLite never uses its R*Tree by
   itself);
2. an exact geodesic distance on the WGS84 ellipsoid, in metres.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from geoalchemy2 import Geometry, WKBElement, WKTElement
from geoalchemy2.shape import from_shape, to_shape
from geopy.distance import geodesic
from shapely.geometry import Point
from sqlalchemy import BigInteger, Float, String, any_, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

SRID = 4326
_BOX_MARGIN = 1.02  # the box must contain the whole circle: pad for spheroid and rounding


@dataclass(frozen=True)
class LatLon:
    """A WGS84 position. Construct with :func:`lat_lon` to validate it."""

    lat: float
    lon: float


def lat_lon(lat: object, lon: object) -> LatLon:
    """Validate and return a position; raises ``ValueError`` with a readable message."""
    try:
        lat_f, lon_f = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError("latitude and longitude must be numbers") from exc
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        raise ValueError("latitude and longitude must be finite numbers")
    if not -90.0 <= lat_f <= 90.0:
        raise ValueError("latitude must be between -90 and 90")
    if not -180.0 <= lon_f <= 180.0:
        raise ValueError("longitude must be between -180 and 180")
    return LatLon(lat_f, lon_f)


def to_element(pos: LatLon) -> WKBElement:
    """A value to store in a ``Geometry('POINT', 4326)`` column."""
    return from_shape(Point(pos.lon, pos.lat), srid=SRID)


def from_element(value: WKBElement | None) -> LatLon | None:
    """The position stored in a point column (server side only)."""
    if value is None:
        return None
    shape = to_shape(value)
    return LatLon(shape.y, shape.x)


def bounding_box(centre: LatLon, metres: float) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of a box holding the circle."""
    dlat = metres * _BOX_MARGIN / 110_574.0
    coslat = max(math.cos(math.radians(min(abs(centre.lat) + dlat, 90.0))), 1e-6)
    dlon = min(metres * _BOX_MARGIN / (111_320.0 * coslat), 180.0)
    return (
        max(centre.lon - dlon, -180.0),
        max(centre.lat - dlat, -90.0),
        min(centre.lon + dlon, 180.0),
        min(centre.lat + dlat, 90.0),
    )


def geodesic_distance_m(a: LatLon, b: LatLon) -> float:
    """Distance in metres on the WGS84 ellipsoid, computed in Python (same as the SQL)."""
    return geodesic((a.lat, a.lon), (b.lat, b.lon)).meters


# --- Feed cells ---------------------------------------------------------------------
# Newest-first lists near a member ("what is new within 1 km") are answered cell by
# cell: every post stores the key of the square cell holding its public position, at
# two sizes, and a B-tree on (cell, created_at, id) gives each cell's newest posts
# directly. The radius query then reads a few posts from each cell around the member
# instead of every post in the circle (docs/SCALING.md).

FEED_CELL_LAT_DEG = {"fine": 0.0045, "coarse": 0.018}  # ~500 m and ~2 km high
# Radii up to this use fine cells (at most ~49 of them); larger ones coarse cells.
FINE_CELLS_UP_TO_M = 1500
_ROW_OFFSET = 100_000
_COL_OFFSET = 1_000_000
_ROW_FACTOR = 10_000_000


def _cell_lon_deg(level: str, row: int) -> float:
    """Degrees of longitude of a cell in ``row``: cells stay about square."""
    step = FEED_CELL_LAT_DEG[level]
    centre_lat = (row + 0.5) * step
    return step / max(math.cos(math.radians(min(abs(centre_lat), 89.0))), 0.02)


def _cell_key(row: int, col: int) -> int:
    return (row + _ROW_OFFSET) * _ROW_FACTOR + col + _COL_OFFSET


def feed_cell(pos: LatLon, level: str) -> int:
    """The key of the ``level`` cell holding ``pos`` (a 64-bit integer)."""
    row = math.floor(pos.lat / FEED_CELL_LAT_DEG[level])
    return _cell_key(row, math.floor(pos.lon / _cell_lon_deg(level, row)))


def feed_level(metres: float) -> str:
    return "fine" if metres <= FINE_CELLS_UP_TO_M else "coarse"


@dataclass(frozen=True)
class FeedCells:
    """The cells of a radius query: ``central`` ones, mostly inside the circle, whose
    newest posts are nearly all near enough; ``edge`` ones, mostly outside it, where
    most posts are too far (read only back to the oldest post the central ones give)."""

    level: str
    central: tuple[int, ...]
    edge: tuple[int, ...]
    # Central cells whose four corners are well inside the circle: every post there is
    # within the radius, so only its own reach needs a distance.
    inside: frozenset[int] = frozenset()
    # Cells whose nearest point is farther than FAR_CELL_M from the centre: a post there
    # reaches the centre only if it reaches farther than FAR_CELL_M.
    far: frozenset[int] = frozenset()


# Beyond this distance from a home, only posts reaching farther can reach it: most posts
# reach their author's radius (~1 km), so the cells that far are read on the partial
# indexes of the posts reaching farther (models/post.py, ``ix_posts_far_*``). Their
# predicate states it ("reach_m > 1000"): changing it takes a migration of those indexes
# (tests/test_feed_cells.py compares the two).
FAR_CELL_M = 1000
# A cell is surely farther than FAR_CELL_M when its nearest point is beyond this share
# of it by the flat approximation (far more than its error over a few km).
_SURELY_FAR = 1.02
_SAMPLES = 4  # per side of a cell, to estimate how much of it lies in the circle
CENTRAL_SHARE = 0.5
# A cell is surely inside the circle when its farthest corner is within this share of
# the radius by the flat approximation (far more than its error over a few km).
_SURELY_INSIDE = 0.98


# A worker serves many members: keep the most recent ones (~3 KB each).
@lru_cache(maxsize=512)
def feed_cells_around(centre: LatLon, metres: float) -> FeedCells:
    """The cells that meet the circle (cells of the bounding box whose nearest point is
    farther are left out), split by the share of each inside it.

    Kept per (home, radius): a pure function that samples each cell (~1 ms), asked on
    every list a member opens, from the same few homes and radii."""
    level = feed_level(metres)
    step = FEED_CELL_LAT_DEG[level]
    west, south, east, north = bounding_box(centre, metres)
    reach = metres * _BOX_MARGIN
    y_m, x_m = 110_574.0, 111_320.0 * math.cos(math.radians(centre.lat))
    cells: list[tuple[float, int]] = []
    whole: set[int] = set()
    far: set[int] = set()
    r2, reach2 = metres * metres, reach * reach
    far2, inside2 = (FAR_CELL_M * _SURELY_FAR) ** 2, (metres * _SURELY_INSIDE) ** 2
    offsets = [(i + 0.5) / _SAMPLES for i in range(_SAMPLES)]
    for row in range(math.floor(south / step), math.floor(north / step) + 1):
        width = _cell_lon_deg(level, row)
        dy = (min(max(centre.lat, row * step), (row + 1) * step) - centre.lat) * y_m
        far_y = max(abs((row + j) * step - centre.lat) * y_m for j in (0, 1))
        sample_y2: list[float] | None = None  # the row's samples, squared: made once
        for col in range(math.floor(west / width), math.floor(east / width) + 1):
            dx = (min(max(centre.lon, col * width), (col + 1) * width) - centre.lon) * x_m
            nearest = dx * dx + dy * dy
            if nearest > reach2:
                continue
            far_x = max(abs((col + i) * width - centre.lon) * x_m for i in (0, 1))
            farthest = far_x * far_x + far_y * far_y
            # Every sample lies between the cell's nearest point and its farthest corner:
            # a cell wholly in or out of the circle needs none of them.
            if farthest <= r2:
                share = 1.0
            elif nearest > r2:
                share = 0.0
            else:
                if sample_y2 is None:
                    sample_y2 = [((row + o) * step - centre.lat) ** 2 * y_m**2 for o in offsets]
                xs = [((col + o) * width - centre.lon) ** 2 * x_m**2 for o in offsets]
                share = sum(x + y <= r2 for x in xs for y in sample_y2) / _SAMPLES**2
            key = _cell_key(row, col)
            cells.append((share, key))
            if nearest > far2:
                far.add(key)
            if farthest <= inside2:
                whole.add(key)
    cells.sort(reverse=True)
    central = tuple(key for share, key in cells if share >= CENTRAL_SHARE) or (cells[0][1],)
    edge = tuple(key for _share, key in cells if key not in central)
    return FeedCells(level, central, edge, frozenset(whole) & frozenset(central), frozenset(far))


# --- a list of cell keys as ONE bound parameter ------------------------------------------
# Whatever the number of cells, one parameter: one statement shape, compiled (and planned)
# once. PostgreSQL takes an array of BIGINT, SQLite a JSON list read with json_each.
# Any list of integer keys travels the same way (the matching notifications' member ids:
# notifications.services._matching_insert).


def cell_keys_value(keys: Iterable[int], dialect: str) -> list[int] | str:
    """The value of a ``cell_keys`` parameter holding ``keys``, for ``dialect``."""
    keys = list(keys)
    return keys if dialect == "postgresql" else json.dumps(keys)


def cell_keys(dialect: str, name: str | None = None, keys: Iterable[int] = ()):
    """SQL: a list of cell keys as one bound parameter: named ``name`` (its value,
    ``cell_keys_value``, given with the statement: ``posts.queries.newest_nearby``), or
    without a name, holding ``keys``."""
    type_ = ARRAY(BigInteger) if dialect == "postgresql" else String
    if name is None:
        value = literal(cell_keys_value(keys, dialect), type_)
    else:
        value = bindparam(name, type_=type_)
    # Typed in the text: an empty list written out as a literal (``ARRAY[]``, in a
    # printed statement or a test's plan) has no type of its own on PostgreSQL.
    return cast(value, type_) if dialect == "postgresql" else value


def cell_key_rows(keys, dialect: str):
    """SQL: the keys of a ``cell_keys`` parameter as rows: (a table-valued function to
    select from, its column of keys)."""
    if dialect == "postgresql":
        rows = func.unnest(keys).table_valued("key").render_derived()
        return rows, rows.c.key
    rows = func.json_each(keys).table_valued("value")
    return rows, rows.c.value


def in_cells(cell, keys, dialect: str):
    """SQL: ``cell`` (a column of cell keys) is one of the keys of a ``cell_keys``
    parameter."""
    if dialect == "postgresql":
        return cell == any_(keys)
    _rows, key = cell_key_rows(keys, dialect)
    return cell.in_(select(key))


# --- SQL constructs ---------------------------------------------------------------------


class point(FunctionElement):
    """``point(lat, lon)``: a WGS84 point expression."""

    type = Geometry("POINT", srid=SRID)
    inherit_cache = True
    name = "peuplade_point"

    def __init__(self, lat: float | ColumnElement, lon: float | ColumnElement):
        # Numbers, or expressions such as bound parameters (a statement built once and
        # run for many homes: ``posts.queries.newest_nearby``).
        super().__init__(*(_coordinate(v) for v in (lon, lat)))


def _coordinate(value: float | ColumnElement) -> ColumnElement:
    if isinstance(value, int | float):
        return literal(float(value), Float)
    # An expression: a bound parameter, a column (a mapped attribute included).
    return value.__clause_element__() if hasattr(value, "__clause_element__") else value


@compiles(point)
def _point_postgis(element, compiler, **kw):
    x, y = (compiler.process(c, **kw) for c in element.clauses)
    return f"ST_SetSRID(ST_MakePoint({x}, {y}), {SRID})"


@compiles(point, "sqlite")
def _point_spatialite(element, compiler, **kw):
    x, y = list(element.clauses)
    return f"MakePoint({compiler.process(x, **kw)}, {compiler.process(y, **kw)}, {SRID})"


class distance_m(FunctionElement):
    """``distance_m(a, b)``: geodesic distance in metres between two point expressions."""

    type = Float()
    inherit_cache = True
    name = "peuplade_distance_m"


@compiles(distance_m)
def _distance_postgis(element, compiler, **kw):
    a, b = list(element.clauses)
    return (
        f"ST_Distance(CAST({compiler.process(a, **kw)} AS geography), "
        f"CAST({compiler.process(b, **kw)} AS geography))"
    )


@compiles(distance_m, "sqlite")
def _distance_spatialite(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"ST_Distance({compiler.process(a, **kw)}, {compiler.process(b, **kw)}, 1)"


def _spatialite_index_filter(col, frame_sql: str, compiler, **kw) -> str:
    """``<rowid> IN (SELECT ROWID FROM SpatialIndex ...)``: SpatiaLite's R*Tree is only
    used when asked for by name, for the table and column of ``col``."""
    table = col.table
    base = table
    while hasattr(base, "element"):  # an alias of the table
        base = base.element
    names = (literal(base.name, String), literal(col.name, String))
    table_name, column_name = (compiler.process(n, **kw) for n in names)
    # Integer primary keys are SQLite's rowid.
    return (
        f"{compiler.process(table.c.id, **kw)} IN (SELECT ROWID FROM SpatialIndex "
        f"WHERE f_table_name = {table_name} AND f_geometry_column = {column_name} "
        f"AND search_frame = {frame_sql})"
    )


class in_box(FunctionElement):
    """``in_box(col, w, s, e, n)``: the spatial-index part of a radius query."""

    # No Boolean type: on SQLite that would render "(... IN (...)) = 1", which hides the
    # ROWID IN (...) shape from the planner.
    inherit_cache = True
    name = "peuplade_in_box"


@compiles(in_box)
def _in_box_postgis(element, compiler, **kw):
    col, w, s, e, n = (compiler.process(c, **kw) for c in element.clauses)
    return f"({col} && ST_MakeEnvelope({w}, {s}, {e}, {n}, {SRID}))"


@compiles(in_box, "sqlite")
def _in_box_spatialite(element, compiler, **kw):
    clauses = list(element.clauses)
    w, s, e, n = (compiler.process(c, **kw) for c in clauses[1:])
    frame = f"BuildMbr({w}, {s}, {e}, {n}, {SRID})"
    return f"({_spatialite_index_filter(clauses[0], frame, compiler, **kw)})"


def within_radius(col, centre: LatLon, metres: float):
    """Rows whose point ``col`` lies within ``metres`` of ``centre`` (spatial index used)."""
    w, s, e, n = bounding_box(centre, metres)
    box = in_box(col, *(literal(v, Float) for v in (w, s, e, n)))
    return box & (distance_m(col, point(centre.lat, centre.lon)) <= float(metres))


class contains_point(FunctionElement):
    """``contains_point(polygon_col, point_expr)``: point-in-polygon, spatial index used."""

    inherit_cache = True  # untyped on purpose, see in_box
    name = "peuplade_contains_point"


@compiles(contains_point)
def _contains_postgis(element, compiler, **kw):
    poly, pt = (compiler.process(c, **kw) for c in element.clauses)
    return f"ST_Contains({poly}, {pt})"


@compiles(contains_point, "sqlite")
def _contains_spatialite(element, compiler, **kw):
    poly_col, pt_expr = list(element.clauses)
    poly, pt = compiler.process(poly_col, **kw), compiler.process(pt_expr, **kw)
    index = _spatialite_index_filter(poly_col, pt, compiler, **kw)
    return f"({index} AND ST_Contains({poly}, {pt}) = 1)"


def geometry_from_wkt(wkt: str):
    """A WKT literal expression in WGS84 (for polygons loaded by the CLI)."""
    return WKTElement(wkt, srid=SRID)


# --- Reading a stored point quickly -------------------------------------------------------
# Lists read one position per row (a post's public position, for its distance band):
# a point's WKB is 21 bytes (25 with an SRID, PostGIS's and SpatiaLite's EWKB), two
# doubles at a known offset, so unpacking them directly gives the same coordinates as
# shapely's parser for a small part of its cost. Anything else (another geometry type,
# Z or M values, an empty point) goes through shapely as before.

_WKB_POINT = 1
_EWKB_SRID_FLAG = 0x20000000
_WKB_XY = {1: struct.Struct("<dd"), 0: struct.Struct(">dd")}
_WKB_TYPE = {1: struct.Struct("<I"), 0: struct.Struct(">I")}


def point_of(value: WKBElement | None) -> LatLon | None:
    """The position stored in a point column, as :func:`from_element` reads it."""
    if value is None:
        return None
    data = value.data
    try:
        raw = bytes.fromhex(data) if isinstance(data, str) else bytes(data)
    except (TypeError, ValueError):  # WKT, or anything but WKB: the general reader
        return from_element(value)
    if len(raw) in (21, 25) and raw[0] in (0, 1):
        order = raw[0]
        kind = _WKB_TYPE[order].unpack_from(raw, 1)[0]
        offset = {_WKB_POINT: 5, _WKB_POINT | _EWKB_SRID_FLAG: 9}.get(kind)
        if offset is not None and offset + 16 == len(raw):
            x, y = _WKB_XY[order].unpack_from(raw, offset)
            if x == x and y == y:  # not NaN: an empty point has no position
                return LatLon(y, x)
    return from_element(value)
