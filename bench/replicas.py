"""Benchmark: timeline throughput with 1 primary against 1 primary + 1 streaming
replica, and 2 against 4 gunicorn workers (docs/SCALING.md, "Beyond one machine").

Everything runs on this machine: a throwaway primary cluster (initdb on a free port,
loaded with bench/generate.py), a replica made from it with ``pg_basebackup -R``
(streaming replication on loopback), gunicorn serving the app as bench/http_load.py
does (production settings, its load client, imported from it). For each of the four
set-ups: log K members in, warm up, then C clients browse for S seconds (~95 % GET
/timeline, a quarter of them "Voir plus"; ~5 % POST /exchanges/new, which sends their
author's next pages to the primary: read-your-writes).

Prints per set-up: timeline requests/s, p50/p95, errors, and the share of the reads of
the posts table that the replica served (each server's own pg_stat_statements).

On one 2-core machine the primary, the replica, gunicorn and the client share the same
cores: a replica adds no CPU here, so the figures show the routing's cost and
correctness, not the capacity a second machine adds. See docs/SCALING.md.

    .venv/bin/python bench/replicas.py --members 100000 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import http_load  # noqa: E402
from bench.generate import generate  # noqa: E402
from tests.throwaway_pg import Cluster  # noqa: E402

SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "hot_standby_feedback": "on",
    "shared_buffers": "256MB",
    "fsync": "off",  # a throwaway bench cluster: nothing to keep
}
POST_READS = (
    "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
    " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'peuplade_bench'"
    " AND s.query ~* '^\\s*(select|with)' AND s.query LIKE '%posts%'"
)


def post_reads(cluster: Cluster) -> int:
    with cluster.connect("peuplade_bench", autocommit=True) as conn:
        return int(conn.execute(POST_READS).fetchone()[0])


def run_setup(args, url: str, replica_url: str | None, workers: int, primary, replica) -> dict:
    os.environ["DATABASE_REPLICA_URLS"] = replica_url or ""
    options = SimpleNamespace(workers=workers, worker_class="sync", threads=1, rate_limits=False)
    ids = http_load.eligible_members(
        url, args.clients * 4, seed=workers + (10 if replica_url else 0)
    )
    members = [http_load.Member(i) for i in ids]
    mix = http_load.Mix(post_share=0.05, more_share=0.25)
    log_path = Path(tempfile.gettempdir()) / f"peuplade-bench-replicas-{os.getpid()}.log"
    with http_load.gunicorn(options, url, log_path) as server:
        logins = http_load.login_all(server.port, members, args.clients)
        http_load.closed_loop(server.port, members, args.clients, 3, http_load.browse, mix, 1)
        before = post_reads(primary), post_reads(replica)
        start = time.perf_counter()
        stats = http_load.closed_loop(
            server.port, members, args.clients, args.seconds, http_load.browse, mix, 2
        )
        wall = time.perf_counter() - start
        after = post_reads(primary), post_reads(replica)
    on_primary, on_replica = after[0] - before[0], after[1] - before[1]
    timeline = sorted(
        stats.latencies.get(http_load.TIMELINE, []) + stats.latencies.get(http_load.MORE, [])
    )
    errors = stats.total_errors() + logins.total_errors()
    return {
        "setup": f"{'1 primary + 1 replica' if replica_url else '1 primary':<22} {workers} workers",
        "req/s": len(timeline) / wall,
        "p50": http_load.percentile(timeline, 50) * 1000,
        "p95": http_load.percentile(timeline, 95) * 1000,
        "errors": errors,
        "replica share": on_replica / max(1, on_primary + on_replica),
        "samples": stats.samples[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with Cluster(SETTINGS) as primary:
        url = primary.url("peuplade_bench")
        generate(url, "postgis", args.members, replace=True, check=False)
        with primary.connect("peuplade_bench", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("VACUUM ANALYZE")
        loaded = time.perf_counter() - started
        with Cluster(SETTINGS, primary=primary) as replica:
            replica.wait_replayed(timeout_s=300)
            copied = time.perf_counter() - started - loaded
            print(
                f"city of {args.members:,} members loaded in {loaded:.0f} s,"
                f" replica made in {copied:.0f} s"
            )
            print(
                f"{args.clients} clients, {args.seconds:.0f} s per set-up, {os.cpu_count()} cores"
            )
            rows = []
            for replica_url in (None, replica.url("peuplade_bench")):
                for workers in (2, 4):
                    rows.append(run_setup(args, url, replica_url, workers, primary, replica))
    print(
        f"\n  {'set-up':<34}{'timeline req/s':>15}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}"
        f"{'replica share':>15}"
    )
    for row in rows:
        print(
            f"  {row['setup']:<34}{row['req/s']:>15.1f}{row['p50']:>9.1f}{row['p95']:>9.1f}"
            f"{row['errors']:>8}{row['replica share']:>14.0%}"
        )
        for sample in row["samples"]:
            print(f"    {sample}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
