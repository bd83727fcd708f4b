"""Benchmark: the neighbours radius query, with the spatial index and without it.

Fills a throwaway database (a temporary SQLite file; a temporary database on the
PostgreSQL server) with N members spread over Paris, inserted in bulk (no argon2,
no geocoding), then times, in the same run and on the same data:

* indexed   - ``geo.within_radius``: bounding box answered by the spatial index
              (GiST / SpatiaLite R*Tree) + exact geodesic distance;
* full scan - the same distance filter alone (``geo.distance_m(...) <= r``);
* page      - ``neighbours.queries.neighbours(viewer)`` limited to one page, as
              the /neighbours view runs it.

Both filters must return the same members; the script stops if they do not.

    .venv/bin/python bench/neighbours_radius.py --sizes 50000 200000 --runs 7
"""

from __future__ import annotations

import argparse
import logging
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from geoalchemy2 import WKTElement
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from peuplade import create_app, geo, migrating, privacy
from peuplade.extensions import db
from peuplade.models import Member
from peuplade.neighbours.queries import PAGE_SIZE, neighbours

# Paris inside the Boulevard Périphérique, roughly: (south, north, west, east).
PARIS_BOX = (48.816, 48.902, 2.255, 2.415)
# Where the viewers live: one per corner of the city and one in the middle.
VIEWERS = {
    "Batignolles": (48.88335, 2.31841),
    "Châtelet": (48.85837, 2.34700),
    "Nation": (48.84820, 2.39590),
    "Montparnasse": (48.84210, 2.32120),
    "République": (48.86750, 2.36380),
}
CHUNK = 5000


def member_rows(n: int, seed: int) -> Iterator[list[dict]]:
    """``n`` members uniformly spread over Paris, in chunks ready for a bulk insert."""
    rng = random.Random(seed)
    south, north, west, east = PARIS_BOX
    now = datetime.now(UTC)
    chunk: list[dict] = []
    for i in range(n):
        home = geo.LatLon(rng.uniform(south, north), rng.uniform(west, east))
        public = privacy.centre(privacy.cells(home)[0])  # as shown with crowd-blurring off
        chunk.append(
            {
                "email": f"voisin{i}@bench.invalid",
                "display_name": f"Voisin {i}",
                "password_hash": "-",  # nobody logs in: argon2 would only slow the fill
                "bio": "",
                "home": WKTElement(f"POINT({home.lon} {home.lat})", srid=geo.SRID),
                "public_position": WKTElement(f"POINT({public.lon} {public.lat})", srid=geo.SRID),
                "radius_m": 1000,
                "session_version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def spatialite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="peuplade-bench-") as folder:
        yield "sqlite:///" + str(Path(folder) / "bench.sqlite")


@contextmanager
def postgis_database(server_url: str) -> Iterator[str]:
    u = make_url(server_url)
    server = {"host": u.host, "port": u.port or 5432, "user": u.username, "password": u.password}
    name = f"peuplade_bench_{secrets.token_hex(4)}"
    with psycopg.connect(**server, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median_ms(query: Callable[[], object], runs: int) -> float:
    query()  # warm the caches: we measure the query, not the first disk read
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        query()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def measure(url: str, n: int, radius_m: int, runs: int, seed: int) -> dict:
    app = create_app(
        {
            "PEUPLADE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        migrating.upgrade()  # the schema and indexes a deployment gets
        start = time.perf_counter()
        for chunk in member_rows(n, seed):
            db.session.execute(insert(Member.__table__), chunk)
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        fill_s = time.perf_counter() - start

        indexed, scan, page, found = [], [], [], []
        for lat, lon in VIEWERS.values():
            centre = geo.lat_lon(lat, lon)
            by_index = select(Member.id).where(
                geo.within_radius(Member.public_position, centre, radius_m)
            )
            by_scan = select(Member.id).where(
                geo.distance_m(Member.public_position, geo.point(centre.lat, centre.lon))
                <= radius_m
            )
            ids = set(db.session.scalars(by_index))
            if ids != set(db.session.scalars(by_scan)):
                sys.exit(f"{url}: indexed and full-scan queries disagree at {centre}")
            found.append(len(ids))
            viewer = Member(
                id=0,
                home=geo.to_element(centre),
                public_position=geo.to_element(privacy.centre(privacy.cells(centre)[0])),
                radius_m=radius_m,
            )
            page_stmt = neighbours(viewer).limit(PAGE_SIZE)
            indexed.append(median_ms(lambda q=by_index: db.session.scalars(q).all(), runs))
            scan.append(median_ms(lambda q=by_scan: db.session.scalars(q).all(), runs))
            page.append(median_ms(lambda q=page_stmt: db.session.execute(q).all(), runs))
        db.session.remove()
        db.engine.dispose()
    return {
        "fill_s": fill_s,
        "found": statistics.median(found),
        "indexed": statistics.median(indexed),
        "scan": statistics.median(scan),
        "page": statistics.median(page),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000], help="members (N)")
    parser.add_argument("--radius", type=int, default=1000, help="radius in metres")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query and viewer")
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server where a throwaway database is created and dropped",
    )
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    backends = ("spatialite", "postgis") if args.backend == "both" else (args.backend,)
    print(
        f"Neighbours within {args.radius} m of {len(VIEWERS)} viewers in Paris; "
        f"median of {args.runs} runs per viewer, then median over viewers."
    )
    header = (
        f"{'backend':<11}{'N':>9}{'rows':>7}{'indexed ms':>12}{'full scan ms':>14}"
        f"{'ratio':>8}{'page ms':>9}{'fill s':>8}"
    )
    print(header)
    print("-" * len(header))
    for backend in backends:
        for n in args.sizes:
            with ExitStack() as stack:
                try:
                    url = stack.enter_context(
                        spatialite_database()
                        if backend == "spatialite"
                        else postgis_database(args.pg_url)
                    )
                except psycopg.OperationalError as exc:
                    print(f"{backend:<11}{n:>9}  skipped: no server at {args.pg_url} ({exc})")
                    continue
                r = measure(url, n, args.radius, args.runs, args.seed)
            print(
                f"{backend:<11}{n:>9}{r['found']:>7.0f}{r['indexed']:>12.1f}{r['scan']:>14.1f}"
                f"{r['scan'] / r['indexed']:>7.0f}x{r['page']:>9.1f}{r['fill_s']:>8.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
