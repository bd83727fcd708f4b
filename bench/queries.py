"""The neighbourhood lists at city scale: the app's code path against the obvious query.

For N random members (200 by default) of a database made by ``bench/generate.py``, times
in the same run, member after member, on the same connection:

* **app**: what the pages run — ``timeline.queries.cards`` (home timeline),
  ``exchanges.queries.near_me`` and ``loans.queries.near_me`` (objects near me), each
  read as its cards (the card's columns as plain rows, and their photos), and
  ``neighbours.queries.neighbour_page`` with a skill — SQL built by the ORM, one page
  of 20 (21 rows asked, as the pages do); each list is then asked again at once for
  the same member ("next visit", printed beside: the member's rows in PostgreSQL's
  buffers, their cells in the worker's caches; the first visit is what the targets
  read);
* **obvious**: the same page written the way one writes it first, in raw SQL: every
  post of the circle (bounding box on the spatial index, exact distance), filtered,
  sorted newest first, LIMIT 21; for neighbours, every member of the circle with the
  skill, sorted by distance band and name.

Both must return the same rows (ids, in order): the script stops otherwise. It prints
p50/p95 of each and the speed-up, then the same for page 10 (cursor after cursor, the
app's keyset against the obvious query's OFFSET 180), and, with ``--small-db``, the
whole table again on a database 10x smaller and the growth ratio (big / small). The
figures are also written as JSON (``--json``; bench/out/queries_<backend>.json by
default) for bench/report.py.

    .venv/bin/python bench/queries.py --db peuplade_bench_1m --small-db peuplade_bench_100k
    .venv/bin/python bench/queries.py --backend spatialite --db /tmp/peuplade_bench_100k.sqlite

``--generate`` makes a missing database first (bench/generate.py, same seed).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from peuplade import categories, geo
from peuplade.exchanges import queries as exchange_queries
from peuplade.extensions import db
from peuplade.loans import queries as loan_queries
from peuplade.models import Member, utcnow
from peuplade.neighbours import queries as neighbour_queries
from peuplade.pagination import TimeCursor
from peuplade.posts import queries as posts
from peuplade.timeline import queries as timelines

try:  # run as a script (bench/ on sys.path), or imported as bench.queries
    from _common import OUT, bench_app, database_url, pg_database_exists, write_figures
except ImportError:  # pragma: no cover
    from bench._common import OUT, bench_app, database_url, pg_database_exists, write_figures

PAGE = 20
DEEP_PAGE = 10
WARM_UP = 20


# --- The obvious queries ---------------------------------------------------------------

_NEAR = {
    "postgresql": (
        "p.position && ST_MakeEnvelope(:w, :s, :e, :n, 4326) AND "
        "ST_Distance(p.position::geography, "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) <= LEAST(:r, p.reach_m)"
    ),
    "sqlite": (
        "p.id IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'posts' "
        "AND f_geometry_column = 'position' AND search_frame = BuildMbr(:w, :s, :e, :n, 4326)) "
        "AND ST_Distance(p.position, MakePoint(:lon, :lat, 4326), 1) <= MIN(:r, p.reach_m)"
    ),
}
_POSTS = """
SELECT p.id FROM posts p
WHERE ((p.quartier_id IS NULL AND {near}) OR p.quartier_id = :quartier)
  AND p.status = 'open' AND p.hidden_at IS NULL
  AND (p.expires_at IS NULL OR p.expires_at > :now)
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = p.author_id AND b.blocked_id = :me)
  {extra}
ORDER BY p.created_at DESC, p.id DESC
LIMIT :limit OFFSET :offset
"""
_MEMBERS = {
    "postgresql": (
        "ST_Distance(m.public_position::geography, "
        "ST_SetSRID(ST_MakePoint(:plon, :plat), 4326)::geography)"
    ),
    "sqlite": "ST_Distance(m.public_position, MakePoint(:plon, :plat, 4326), 1)",
}
_NEIGHBOURS = """
SELECT m.id FROM members m
WHERE {near_member} AND m.id <> :me AND m.status <> 'banned'
  AND (EXISTS (SELECT 1 FROM member_skills s WHERE s.member_id = m.id AND s.skill = :skill)
       OR EXISTS (SELECT 1 FROM member_tags t WHERE t.member_id = m.id AND t.tag = :skill))
ORDER BY {band}, m.sort_name, m.id
LIMIT :limit OFFSET :offset
"""


def _band_sql(distance: str) -> str:
    """The band rank of privacy.band_rank, as a CASE over the bands' upper bounds."""
    from peuplade import privacy

    bounds = [upper for upper, _label in privacy.BANDS]
    cases = " ".join(f"WHEN {distance} < {upper} THEN {i}" for i, upper in enumerate(bounds))
    return f"CASE {cases} ELSE {len(bounds)} END"


def obvious_posts(viewer: Member, kind: str, offset: int = 0) -> list[int]:
    dialect = db.engine.dialect.name
    home = geo.from_element(viewer.home)
    w, s, e, n = geo.bounding_box(home, viewer.radius_m)
    extra = {
        "timeline": "AND p.author_id <> :me",
        "exchange": "AND p.type = 'exchange'",
        "item": "AND p.author_id <> :me AND p.type = 'item'",
    }[kind]
    sql = _POSTS.format(near=_NEAR[dialect], extra=extra)
    params = {
        "w": w, "s": s, "e": e, "n": n, "lat": home.lat, "lon": home.lon,
        "r": viewer.radius_m, "quartier": viewer.quartier_id if kind == "timeline" else None,
        "now": utcnow(), "me": viewer.id, "limit": PAGE + 1, "offset": offset,
    }  # fmt: skip
    if dialect == "sqlite":
        params["now"] = params["now"].replace(tzinfo=None)
    return list(db.session.execute(text(sql), params).scalars())


def obvious_neighbours(viewer: Member, skill: str, offset: int = 0) -> list[int]:
    dialect = db.engine.dialect.name
    home, public = geo.from_element(viewer.home), geo.from_element(viewer.public_position)
    w, s, e, n = geo.bounding_box(home, viewer.radius_m)
    within = (
        "m.public_position && ST_MakeEnvelope(:w, :s, :e, :n, 4326) AND ST_Distance("
        "m.public_position::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)"
        " <= :r"
        if dialect == "postgresql"
        else "m.id IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'members' AND "
        "f_geometry_column = 'public_position' AND search_frame = BuildMbr(:w, :s, :e, :n, 4326))"
        " AND ST_Distance(m.public_position, MakePoint(:lon, :lat, 4326), 1) <= :r"
    )
    sql = _NEIGHBOURS.format(near_member=within, band=_band_sql(_MEMBERS[dialect]))
    params = {
        "w": w, "s": s, "e": e, "n": n, "lat": home.lat, "lon": home.lon, "r": viewer.radius_m,
        "plat": public.lat, "plon": public.lon, "me": viewer.id, "skill": skill,
        "limit": PAGE + 1, "offset": offset,
    }  # fmt: skip
    return list(db.session.execute(text(sql), params).scalars())


# --- The app's code path ----------------------------------------------------------------


def app_posts(viewer: Member, kind: str, after: TimeCursor | None = None) -> list:
    if kind == "timeline":
        # The page reads its cards as plain rows (timeline.queries.cards), not objects.
        prepared = timelines.cards(viewer, after=after, limit=PAGE + 1)
        return timelines.as_cards(prepared.run(db.session.execute).all())
    # As the pages run them (pagination.fetch_page): the kept statement, its values apart,
    # read as the lists' cards (plain rows of exactly what a card shows).
    if kind == "exchange":
        prepared = exchange_queries.near_me(
            viewer, after=after, limit=PAGE + 1, rows=exchange_queries.card_columns
        )
        return exchange_queries.as_cards(prepared.run(db.session.execute).all())
    prepared = loan_queries.near_me(
        viewer, after=after, limit=PAGE + 1, rows=loan_queries.card_columns
    )
    return loan_queries.as_cards(prepared.run(db.session.execute).all())


def app_neighbours(viewer: Member, skill: str, cursor: str | None = None):
    return neighbour_queries.neighbour_page(viewer, skill, cursor, PAGE)


# --- Timing ----------------------------------------------------------------------------


@dataclass
class Series:
    app: list[float] = field(default_factory=list)
    obvious: list[float] = field(default_factory=list)
    # The same member's page asked again at once ("next visit"): what is left once the
    # member's own rows are in PostgreSQL's buffers and their cells in the worker's
    # caches. The lists only; reported beside the first visit, which the targets read.
    again: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """p50/p95 of both, in ms, and the speed-ups (obvious / app)."""
        a50, a95 = _pct(self.app, 50), _pct(self.app, 95)
        o50, o95 = _pct(self.obvious, 50), _pct(self.obvious, 95)
        return {
            "members": len(self.app),
            "app_p50_ms": round(a50, 2),
            "app_p95_ms": round(a95, 2),
            "obvious_p50_ms": round(o50, 2),
            "obvious_p95_ms": round(o95, 2),
            "speedup_p50": round(o50 / a50, 2),
            "speedup_p95": round(o95 / a95, 2),
            **(
                {
                    "again_p50_ms": round(_pct(self.again, 50), 2),
                    "again_p95_ms": round(_pct(self.again, 95), 2),
                }
                if self.again
                else {}
            ),
        }

    def row(self, name: str) -> str:
        a50, a95 = _pct(self.app, 50), _pct(self.app, 95)
        o50, o95 = _pct(self.obvious, 50), _pct(self.obvious, 95)
        return (
            f"{name:<22} {a50:8.2f} {a95:8.2f} {o50:10.1f} {o95:10.1f} "
            f"{o50 / a50:8.1f}x {o95 / a95:8.1f}x"
        )


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def _same(name: str, viewer: Member, app_ids: list[int], obvious_ids: list[int]) -> None:
    if app_ids != obvious_ids:
        raise SystemExit(
            f"{name}: member {viewer.id} gets different rows\n  app:     {app_ids}\n"
            f"  obvious: {obvious_ids}"
        )


def _deep_cursor(viewer: Member, kind: str) -> tuple[TimeCursor | None, int]:
    """The cursor of page DEEP_PAGE (and how many rows come before it), walked page by
    page as a reader would."""
    after, before = None, 0
    for _ in range(DEEP_PAGE - 1):
        rows = app_posts(viewer, kind, after)
        if len(rows) <= PAGE:
            return None, before
        before += PAGE
        after = TimeCursor.decode(posts.cursor_after(rows[PAGE - 1]))
    return after, before


def measure(url: str, members: int, seed: int) -> dict[str, Series]:
    app = bench_app(url)
    results: dict[str, Series] = {}
    with app.app_context():
        top = db.session.scalar(select(func.max(Member.id)))
        rnd = random.Random(seed)
        ids = rnd.sample(range(1, top + 1), min(members, top))
        skills = list(categories.SLUGS)
        cases = []
        for member_id in ids:
            viewer = db.session.get(Member, member_id)
            cases.append((viewer, rnd.choice(skills)))
        kinds = ("timeline", "exchange", "item")
        # A first pass over a few members fills the caches, then every member is timed.
        for warm in (True, False):
            series = {name: Series() for name in (*kinds, "neighbours+skill")}
            for viewer, skill in cases[:WARM_UP] if warm else cases:
                for kind in kinds:
                    t_app, rows = _timed(lambda v=viewer, k=kind: app_posts(v, k))
                    t_again, _rows = _timed(lambda v=viewer, k=kind: app_posts(v, k))
                    t_obv, obv = _timed(lambda v=viewer, k=kind: obvious_posts(v, k))
                    _same(kind, viewer, [r.id for r in rows], obv)
                    series[kind].app.append(t_app)
                    series[kind].again.append(t_again)
                    series[kind].obvious.append(t_obv)
                t_app, page = _timed(lambda v=viewer, s=skill: app_neighbours(v, s))
                t_obv, obv = _timed(lambda v=viewer, s=skill: obvious_neighbours(v, s))
                _same("neighbours", viewer, [m.id for m, _band in page.items], obv[:PAGE])
                series["neighbours+skill"].app.append(t_app)
                series["neighbours+skill"].obvious.append(t_obv)
            if not warm:
                results.update(series)
        deep = {kind: Series() for kind in kinds}
        for viewer, _skill in cases[: max(20, len(cases) // 4)]:
            for kind in kinds:
                after, before = _deep_cursor(viewer, kind)
                if after is None:
                    continue
                app_posts(viewer, kind, after)  # warm
                t_app, rows = _timed(lambda v=viewer, k=kind, a=after: app_posts(v, k, a))
                t_obv, obv = _timed(lambda v=viewer, k=kind, b=before: obvious_posts(v, k, b))
                _same(f"{kind} page {DEEP_PAGE}", viewer, [r.id for r in rows], obv)
                deep[kind].app.append(t_app)
                deep[kind].obvious.append(t_obv)
        for kind, s in deep.items():
            if s.app:
                results[f"{kind} page {DEEP_PAGE}"] = s
        db.session.remove()
        db.engine.dispose()
    return results


HEADER = (
    f"{'list':<22} {'app p50':>8} {'app p95':>8} {'obvious p50':>10} {'obvious p95':>10} "
    f"{'speedup50':>9} {'speedup95':>9}"
)


def report(title: str, results: dict[str, Series]) -> None:
    print(f"\n{title}  (ms; {len(next(iter(results.values())).app)} members)")
    print(HEADER)
    for name, s in results.items():
        print(s.row(name))
    again = [(name, s) for name, s in results.items() if s.again]
    if again:
        print("the same member's page asked again at once (next visit), app p50 / p95:")
        for name, s in again:
            print(f"  {name:<20} {_pct(s.again, 50):8.2f} {_pct(s.again, 95):8.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgis", "spatialite"), default="postgis")
    parser.add_argument("--db", required=True, help="database name / URL, or SQLite file")
    parser.add_argument("--small-db", help="the same city 10x smaller, for the growth ratio")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="default: bench/out/queries_<backend>.json")
    parser.add_argument(
        "--generate",
        nargs=2,
        type=int,
        metavar=("MEMBERS", "SMALL_MEMBERS"),
        help="make missing databases first (bench/generate.py, posts = 2 x members)",
    )
    parser.add_argument(
        "--shared-buffers",
        metavar="SIZE",
        help="PostGIS: run on a throwaway cluster started with this shared_buffers (e.g. "
        "4GB; tests/throwaway_pg.py), the cities made there (--generate) and read into its "
        "buffers (pg_prewarm) before the timing: a server whose memory holds the city",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="SpatiaLite: time the file as the OS cache holds it (by default it is read "
        "through once first, as a serving app's pages stay cached; this machine's kernel "
        "pages out file pages untouched for about a minute: docs/SCALING.md)",
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.shared_buffers:
            if args.backend != "postgis" or not args.generate:
                parser.error("--shared-buffers needs the postgis backend and --generate")
            from tests.throwaway_pg import Cluster

            cluster = stack.enter_context(Cluster({"shared_buffers": args.shared_buffers}))
            args.db, args.small_db = (
                cluster.url(name) if name else None for name in (args.db, args.small_db)
            )
            print(f"throwaway cluster on port {cluster.port}, shared_buffers {args.shared_buffers}")
        return _run(args)


def _prewarm(url: str) -> None:
    """Read every table and index of ``url``'s database into the server's buffers."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            blocks = conn.execute(
                text(
                    "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c WHERE c.relkind IN ('r', 'i')"
                    " AND c.relnamespace = 'public'::regnamespace"
                )
            ).scalar()
        print(f"prewarmed {make_url(url).database}: {blocks} blocks", flush=True)
    finally:
        engine.dispose()


def _read_through(path: Path) -> None:
    """Read a SQLite file once, so that the timing finds it in the OS cache as a
    serving app's would be, not paged out by an idle minute before (docs/SCALING.md)."""
    start, size = time.perf_counter(), 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            size += len(chunk)
    print(f"read {path} ({size / 2**20:.0f} MiB) in {time.perf_counter() - start:.2f} s")


def _run(args: argparse.Namespace) -> int:
    targets = [("", args.db)] + ([("small", args.small_db)] if args.small_db else [])
    if args.generate:
        from generate import generate

        for (_label, target), size in zip(targets, args.generate, strict=False):
            url = database_url(args.backend, target)
            missing = (
                not pg_database_exists(url)
                if args.backend == "postgis"
                else not Path(target).exists()
            )
            if missing:
                print(f"generating {target} ({size} members)...", flush=True)
                generate(target, args.backend, size, seed=args.seed)
            if args.shared_buffers:
                _prewarm(url)
    measured = {}
    read_first = args.backend == "spatialite" and not args.cold
    for label, target in targets:
        url = database_url(args.backend, target)
        if read_first:
            _read_through(Path(target))
        measured[label] = measure(url, args.members, args.seed)
        report(f"{args.backend} {target}", measured[label])
    growth = {}
    if args.small_db:
        print(f"\ngrowth ({args.db} / {args.small_db}), p95 of the app and of the obvious query")
        for name, big in measured[""].items():
            small = measured["small"].get(name)
            if small:
                growth[name] = {
                    "app_p95": round(_pct(big.app, 95) / _pct(small.app, 95), 2),
                    "obvious_p95": round(_pct(big.obvious, 95) / _pct(small.obvious, 95), 2),
                }
                print(
                    f"{name:<22} app {growth[name]['app_p95']:5.2f}x   "
                    f"obvious {growth[name]['obvious_p95']:5.2f}x"
                )
    path = write_figures(
        f"queries_{args.backend}",
        {
            "backend": args.backend,
            "database": args.db,
            "small_database": args.small_db,
            "lists": {name: s.figures() for name, s in measured[""].items()},
            "small_lists": {name: s.figures() for name, s in measured.get("small", {}).items()},
            "growth": growth,
            **({"file_read_first": read_first} if args.backend == "spatialite" else {}),
        },
        args.json or OUT / f"queries_{args.backend}.json",
    )
    print(f"figures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
