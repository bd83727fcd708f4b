"""Benchmark: a request's matching fan-out at city scale, nearest first against the whole
reach, in the same run, on the same requests.

A new request tells the ``NOTIFY_MATCHING_MAX`` nearest neighbours who know its
category (``notifications.services.notify_matching_request``). For N requests of a
database made by ``bench/generate.py`` (the same ids every run: every k-th request), it
times, alternately on each request:

* **whole reach** (the baseline): the members of the category within the request's
  whole reach, every one measured, sorted, the first 50 kept (``MATCH_STEPS_M`` empty:
  the code before the search went nearest first);
* **nearest first**: within 200 m, then 400, 800, 1,600 m, then the reach, stopping as
  soon as 50 are found (``nearest_knowing``).

Both must choose the same members in the same order: the script stops otherwise. Each
run's notifications are rolled back. Prints p50/p95 of the members' statement and of
the whole fan-out (statement, notifications written), and the ratios.

    .venv/bin/python bench/fanout.py --db peuplade_bench_1m
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from sqlalchemy import func, select

try:  # run as a script (bench/ on sys.path), or imported as bench.fanout
    from _common import bench_app, database_url
except ImportError:  # pragma: no cover
    from bench._common import bench_app, database_url


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="peuplade_bench_1m", help="PostGIS database or URL")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)

    from peuplade.extensions import db
    from peuplade.models import Exchange
    from peuplade.notifications import services

    app = bench_app(database_url("postgis", args.db))
    steps = services.MATCH_STEPS_M
    with app.app_context():
        total = db.session.scalar(
            select(func.count()).select_from(Exchange).where(Exchange.kind == "request")
        )
        every = max(1, total // (args.requests + args.warmup))
        ids = db.session.scalars(
            select(Exchange.id)
            .where(Exchange.kind == "request")
            .order_by(Exchange.id)
            .limit(args.requests + args.warmup)
            .offset(every // 2)
        ).all()
        limit = app.config["NOTIFY_MATCHING_MAX"]
        found = {"whole reach": [], "nearest first": []}
        fanned = {"whole reach": [], "nearest first": []}
        for n, exchange_id in enumerate(ids):
            chosen = {}
            both = [("whole reach", ()), ("nearest first", steps)]
            # Each goes first on every other request: neither finds the request's rows
            # always warmed by the other.
            for name, with_steps in both if n % 2 else both[::-1]:
                # The fan-out as notify_matching_request runs it reads the module's steps.
                services.MATCH_STEPS_M = with_steps
                try:
                    exchange = db.session.get(Exchange, exchange_id)
                    start = time.perf_counter()
                    chosen[name] = services.nearest_knowing(exchange, limit, with_steps)
                    middle = time.perf_counter()
                    services.notify_matching_request(exchange)
                    end = time.perf_counter()
                finally:
                    services.MATCH_STEPS_M = steps
                    db.session.rollback()
                if n >= args.warmup:
                    found[name].append((middle - start) * 1000)
                    # The fan-out as it runs: choosing again, then writing the notifications.
                    fanned[name].append((end - middle) * 1000)
            if chosen["whole reach"] != chosen["nearest first"]:
                raise SystemExit(f"request {exchange_id}: the two searches chose differently")
        db.session.remove()
        db.engine.dispose()

    print(f"matching fan-out, {args.db}, {len(found['whole reach'])} requests, 50 told")
    print(f"{'':<28}{'whole reach':>14}{'nearest first':>15}{'ratio':>8}")
    for label, series in (("choosing, p50 ms", found), ("fan-out (+ writing), p50", fanned)):
        base, new = (
            statistics.median(series["whole reach"]),
            statistics.median(series["nearest first"]),
        )
        print(f"{label:<28}{base:>14.1f}{new:>15.1f}{base / new:>7.1f}x")
    for label, series in (("choosing, p95 ms", found), ("fan-out (+ writing), p95", fanned)):
        base, new = _pct(series["whole reach"], 95), _pct(series["nearest first"], 95)
        print(f"{label:<28}{base:>14.1f}{new:>15.1f}{base / new:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
