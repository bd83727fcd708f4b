"""Benchmark: ``flask privacy-refresh``, the daily job of crowd-blurring, at city scale.

Fills a throwaway database (a temporary SQLite file; a temporary database on the
PostgreSQL server) with N established members spread over Paris, shown at their
~890 m cell as a member is before any crowd has held, then times, in the same run and
on the same data:

* baseline  - the two grouped counts the job cannot do without (established members
              per ~222 m and per ~444 m cell), alone;
* first     - the first run: every crowd is new, nothing moves (the upgrade day);
* refine    - a stable period later: every member moves to the cell their crowd allows,
              their posts with them (the heaviest day the job can have);
* idle      - the next day: nothing changed, nothing moves (every other day).

    .venv/bin/python bench/privacy_refresh.py --backend postgis --members 100000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from geoalchemy2 import WKTElement
from sqlalchemy import func, insert, select, text, update

from peuplade import migrating

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.neighbours_radius import PARIS_BOX, postgis_database, spatialite_database
from peuplade import create_app, geo, privacy
from peuplade.account import blur
from peuplade.extensions import db
from peuplade.models import Member, PrivacyCell

CHUNK = 5000


def fill(n: int, seed: int) -> None:
    import random

    rng = random.Random(seed)
    south, north, west, east = PARIS_BOX
    joined = datetime.now(UTC) - timedelta(days=60)
    chunk: list[dict] = []
    for i in range(n):
        home = geo.LatLon(rng.uniform(south, north), rng.uniform(west, east))
        cells = privacy.cells(home)
        shown = privacy.centre(cells[2])
        chunk.append(
            {
                "email": f"voisin{i}@bench.invalid",
                "display_name": f"Voisin {i}",
                "password_hash": "-",
                "bio": "",
                "home": WKTElement(f"POINT({home.lon} {home.lat})", srid=geo.SRID),
                "public_position": WKTElement(f"POINT({shown.lon} {shown.lat})", srid=geo.SRID),
                "radius_m": 1000,
                "session_version": 1,
                "cell_0": cells[0],
                "cell_1": cells[1],
                "cell_2": cells[2],
                "email_confirmed_at": joined,
                "created_at": joined,
                "updated_at": joined,
            }
        )
        if len(chunk) == CHUNK:
            db.session.execute(insert(Member.__table__), chunk)
            chunk = []
    if chunk:
        db.session.execute(insert(Member.__table__), chunk)
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def baseline_ms(runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        for level, column in enumerate((Member.cell_0, Member.cell_1)):
            db.session.execute(
                select(column)
                .where(column.is_not(None), blur._counted(level, blur.utcnow()))
                .group_by(column)
                .having(func.count() >= 3)
            ).all()
        db.session.rollback()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def timed(now: datetime) -> tuple[float, blur.Summary]:
    start = time.perf_counter()
    summary = blur.refresh_all(now=now, commit_batches=True)
    db.session.commit()
    return (time.perf_counter() - start) * 1000, summary


def measure(url: str, n: int, runs: int, seed: int) -> None:
    app = create_app(
        {
            "PEUPLADE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "PRIVACY_CROWD_MIN": 3,
        }
    )
    with app.app_context():
        migrating.upgrade()
        db.session.execute(PrivacyCell.__table__.delete())  # the migration's seed: none
        db.session.commit()
        start = time.perf_counter()
        fill(n, seed)
        print(f"  {n} members filled in {time.perf_counter() - start:.1f} s")
        base = baseline_ms(runs)
        first, s1 = timed(blur.utcnow())
        # A stable period passes.
        db.session.execute(
            update(PrivacyCell).values(crowded_since=blur.utcnow() - timedelta(days=8))
        )
        db.session.commit()
        refine, s2 = timed(blur.utcnow())
        idle, s3 = timed(blur.utcnow())
        print(f"  {'':8} {'ms':>9} {'x baseline':>11}  what the job did")
        print(f"  {'baseline':8} {base:9.0f} {1:11.1f}  the two grouped counts alone")
        for label, ms, s in (("first", first, s1), ("refine", refine, s2), ("idle", idle, s3)):
            print(
                f"  {label:8} {ms:9.0f} {ms / base:11.1f}  {s.crowded} crowded cells "
                f"({s.newly_crowded} new), {s.qualified} qualified, {s.finer} finer, "
                f"{s.coarser} coarser"
            )
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgis", "spatialite"), default="postgis")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if args.backend == "postgis":
            url = stack.enter_context(postgis_database(args.server))
        else:
            url = stack.enter_context(spatialite_database())
        print(f"privacy-refresh, {args.backend}, {args.members} members")
        measure(url, args.members, args.runs, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
