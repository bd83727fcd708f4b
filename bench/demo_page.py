"""The timeline page of the demo neighbourhood, in this process: what a page costs the
app itself, without gunicorn, the network or a city's worth of data.

The demo (``flask seed-demo``) is made afresh in a temporary SQLite file with the
project's migrations, or copied from ``--db`` (never changed in place). The app is
built with the production settings (``bench._common.InProcessSite``: CSRF, Secure
cookies over https, strong argon2; rate limits in ``memory://``), the demo's member
logs in through the form, then, after ``--warmup`` pages, ``--runs`` timed requests of
each: the timeline page and the trivial ``/bench/ping`` (as that member), with the SQL
statements of one of each. Prints them and writes bench/out/demo.json.

    .venv/bin/python bench/demo_page.py
    .venv/bin/python bench/demo_page.py --db /tmp/demo/demo.sqlite
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

try:  # run as a script (bench/ on sys.path), or imported as bench.demo_page
    from _common import OUT, InProcessSite, bench_app, database_url, migrate, write_figures
except ImportError:  # pragma: no cover
    from bench._common import OUT, InProcessSite, bench_app, database_url, migrate, write_figures

DEMO_EMAIL = "camille.b@demo.example.org"
PAGES = {"timeline": "/timeline", "ping": "/bench/ping"}


def make_demo(path: Path) -> float:
    """The demo neighbourhood in a new SQLite file at ``path``; seconds it took."""
    start = time.perf_counter()
    app = bench_app(database_url("spatialite", str(path)))
    migrate(app)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    if result.exit_code != 0:
        raise SystemExit(f"flask seed-demo failed:\n{result.output}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a demo SQLite file to copy (default: made)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path, default=OUT / "demo.json")
    args = parser.parse_args(argv)

    from peuplade.demo.cli import DEMO_PASSWORD
    from peuplade.extensions import db

    with tempfile.TemporaryDirectory(prefix="peuplade-bench-demo-") as folder:
        path = Path(folder) / "demo.sqlite"
        if args.db:
            shutil.copyfile(args.db, path)
            made_s = None
        else:
            made_s = make_demo(path)
            print(f"demo neighbourhood made in {made_s:.1f} s ({path})")
        site = InProcessSite(database_url("spatialite", str(path)))
        site.log_in(DEMO_EMAIL, DEMO_PASSWORD)
        figures = {}
        for name, url in PAGES.items():
            for _ in range(args.warmup):
                site.request("GET", url, 200)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                site.request("GET", url, 200)
                times.append((time.perf_counter() - start) * 1000)
            figures[name] = {
                "path": url,
                "median_ms": round(statistics.median(times), 2),
                "min_ms": round(min(times), 2),
                "runs": args.runs,
                "statements": site.statements,
            }
            f = figures[name]
            print(
                f"{url:<14} median {f['median_ms']:6.2f} ms (min {f['min_ms']:.2f}) over "
                f"{args.runs} runs, {f['statements']} SQL statements, as {DEMO_EMAIL}"
            )
        with site.app.app_context():
            db.engine.dispose()
    path = write_figures(
        "demo",
        {"source": str(args.db) if args.db else "flask seed-demo", "pages": figures},
        args.json,
    )
    print(f"figures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
