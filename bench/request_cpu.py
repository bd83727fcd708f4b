"""Benchmark: the CPU one request costs, in this process and in its PostgreSQL backend,
for an A/B of a request's fixed costs (a round trip less, a hook cheaper).

The app is built here with the production settings (``bench._common.InProcessSite``)
on a bench database and driven by Flask's test client as one logged-in member, so one
pooled connection serves every request and its backend's CPU is read from
``/proc/<pid>/stat`` (PostgreSQL on this machine). Each path is run ``--requests``
times, ``--repeat`` times over; the best repetition is printed (the machine's other
work only ever adds to a figure): Python's CPU (``time.process_time``), the backend's,
their sum and the wall time, per request. The app's request log goes to stderr, as in
a deployment: send it to a file or to /dev/null, not to a terminal.

On a machine whose speed wanders, run the old code and the new in turn, several times
(``PYTHONPATH`` picks the checkout; a worktree holds the old one):

    .venv/bin/python bench/request_cpu.py --db peuplade_bench_1m 2>/dev/null
    PYTHONPATH=/tmp/old .venv/bin/python /tmp/old/bench/request_cpu.py \
        --db peuplade_bench_1m 2>/dev/null
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

try:  # run as a script (bench/ on sys.path), or imported as bench.request_cpu
    from _common import InProcessSite, bench_member, database_url
    from generate import PASSWORD, member_email
except ImportError:  # pragma: no cover
    from bench._common import InProcessSite, bench_member, database_url
    from bench.generate import PASSWORD, member_email

WARMUP = 50


def backend_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pid(site: InProcessSite) -> int:
    from peuplade.extensions import db

    with site.app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
    return pid


def measure(site: InProcessSite, path: str, requests: int, repeat: int) -> dict[str, float]:
    """The best of ``repeat`` runs of ``requests`` GETs of ``path``: ms per request."""
    for _ in range(WARMUP):
        site.request("GET", path, 200)
    pid = backend_pid(site)  # one thread, one pooled connection: every request's
    best: dict[str, float] | None = None
    for _ in range(repeat):
        python, backend, wall = time.process_time(), backend_cpu_s(pid), time.perf_counter()
        for _ in range(requests):
            site.request("GET", path, 200)
        figures = {
            "python_ms": (time.process_time() - python) * 1000 / requests,
            "postgres_ms": (backend_cpu_s(pid) - backend) * 1000 / requests,
            "wall_ms": (time.perf_counter() - wall) * 1000 / requests,
        }
        figures["cpu_ms"] = figures["python_ms"] + figures["postgres_ms"]
        if best is None or figures["cpu_ms"] < best["cpu_ms"]:
            best = figures
    if backend_pid(site) != pid:
        raise SystemExit("the requests did not all use one connection: figures are wrong")
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="PostGIS bench database name or URL")
    parser.add_argument("--paths", nargs="+", default=["/bench/ping", "/timeline"])
    parser.add_argument("--requests", type=int, default=1000, help="per repetition")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1, help="draws the member")
    args = parser.parse_args(argv)
    url = database_url("postgis", args.db)
    site = InProcessSite(url)
    site.log_in(member_email(bench_member(url, args.seed)), PASSWORD)
    print(f"{args.db}: best of {args.repeat} x {args.requests} requests, as one member")
    for path in args.paths:
        f = measure(site, path, args.requests, args.repeat)
        print(
            f"  {path:<16} CPU {f['cpu_ms']:.3f} ms = Python {f['python_ms']:.3f} "
            f"+ PostgreSQL {f['postgres_ms']:.3f}; wall {f['wall_ms']:.3f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
