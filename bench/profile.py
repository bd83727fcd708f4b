"""Profile, in this process, what a member's requests cost in Python: one timeline page,
one trivial authenticated page (``/bench/ping``), one posted request and one offer.

The app is built here with the production settings (``bench._common.InProcessSite``:
strong argon2, CSRF on, Secure cookies over https; rate limits in ``memory://``, where
a deployment has Redis) on a bench database, and driven by Flask's test client as one
logged-in member: no gunicorn, no network, so the profile is the app's own work. The
posted request goes through the real form: GET ``/exchanges/new`` for its CSRF token,
then POST (a "request": the matching neighbours and the know-how count run; an
"offer": the matching requests are counted). Each
request is first run ``--warmup`` times (caches, prepared statements), then:

- timed ``--runs`` times without a profiler (median ms) and its SQL statements counted;
- profiled ``--runs`` times with pyinstrument (text and HTML) and with cProfile (text,
  by own time and by cumulative time), the runs of one request added together.

Files go to ``bench/out/profile-<database>-<request>.*``; the top entries are printed,
to be quoted in docs/SCALING.md. Writes into the database: the member's session and the
requests posted (bench data only).

    .venv/bin/python bench/profile.py --db peuplade_bench_1m
    .venv/bin/python bench/profile.py --backend spatialite --db /tmp/copy.sqlite --demo
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This file bears the name of the standard library's ``profile``, which cProfile imports:
# run as a script, bench/ comes first on sys.path, so it is left out while cProfile loads.
_BENCH = Path(__file__).resolve().parent
_saved_path = sys.path[:]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path[:] = _saved_path

from sqlalchemy.engine import make_url  # noqa: E402

try:  # run as a script (bench/ on sys.path), or imported as bench.profile
    from _common import OUT, InProcessSite, bench_member, database_url, write_figures
    from generate import PASSWORD, member_email
except ImportError:  # pragma: no cover
    from bench._common import OUT, InProcessSite, bench_member, database_url, write_figures
    from bench.generate import PASSWORD, member_email

try:
    from pyinstrument import Profiler
except ImportError:  # pragma: no cover - cProfile alone then
    Profiler = None

# The demo neighbourhood's member (flask seed-demo; the password is public).
DEMO_EMAIL = "camille.b@demo.example.org"
TOP = 25


def requests_of(site: InProcessSite) -> dict[str, Callable[[], None]]:
    """What is profiled, by name: each a callable running one request as the member."""
    posted = iter(range(1, 1_000_000))
    # The form's token, read once from its page: it holds for the session, so each run
    # is the POST alone.
    token = site.csrf_token("/exchanges/new")
    return {
        "timeline": lambda: site.request("GET", "/timeline", 200),
        "ping": lambda: site.request("GET", "/bench/ping", 200),
        "post-request": lambda: site.post_exchange("request", next(posted), token),
        "post-offer": lambda: site.post_exchange("offer", next(posted), token),
    }


def measure(site: InProcessSite, name: str, run: Callable[[], None], runs: int) -> dict:
    """Median wall milliseconds of ``runs`` runs and the statements of one."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    run()
    return {
        "median_ms": round(statistics.median(times), 2),
        "min_ms": round(min(times), 2),
        "statements": site.statements,
        "runs": runs,
    }


def cprofile_text(profile: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue()


def profile_one(prefix: Path, run: Callable[[], None], runs: int) -> dict[str, Path]:
    """Profile ``runs`` runs with pyinstrument (if installed) and cProfile; the files."""
    files = {}
    if Profiler is not None:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(runs):
            run()
        profiler.stop()
        files["pyinstrument"] = prefix.with_suffix(".pyinstrument.txt")
        files["pyinstrument"].write_text(profiler.output_text(show_all=False))
        files["flat"] = prefix.with_suffix(".flat.txt")
        files["flat"].write_text(profiler.output_text(flat=True))
        files["html"] = prefix.with_suffix(".html")
        files["html"].write_text(profiler.output_html())
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(runs):
        run()
    profile.disable()
    files["cprofile"] = prefix.with_suffix(".cprofile.txt")
    files["cprofile"].write_text(
        f"{runs} runs\n\n== by own time (tottime) ==\n"
        + cprofile_text(profile, "tottime", 80)
        + "\n== by cumulative time ==\n"
        + cprofile_text(profile, "cumulative", 80)
    )
    files["cprofile-top"] = prefix.with_suffix(".top.txt")
    files["cprofile-top"].write_text(
        "== by own time ==\n"
        + cprofile_text(profile, "tottime", TOP)
        + "\n== by cumulative time ==\n"
        + cprofile_text(profile, "cumulative", TOP)
    )
    return files


_SECONDS = re.compile(r"^[\s|`-]*(\d+\.\d+) ")


def _flat_top(text: str, limit: int) -> str:
    """The first ``limit`` functions of pyinstrument's flat list (by own time)."""
    rows = [line for line in text.splitlines() if re.match(r"^\d+\.\d+ ", line)]
    return "\n".join(rows[:limit])


def _tree_top(text: str, share: float) -> str:
    """pyinstrument's call tree without the frames under ``share`` of the total time, and
    without its banner; the test client's own frames above the app are dropped."""
    lines = [line for line in text.splitlines() if _SECONDS.match(line)]
    if not lines:
        return ""
    total = float(_SECONDS.match(lines[0]).group(1))
    kept = [line for line in lines if float(_SECONDS.match(line).group(1)) >= share * total]
    start = next((i for i, line in enumerate(kept) if "Flask.wsgi_app" in line), 0)
    return "\n".join(kept[start:])


def _label(backend: str, target: str) -> str:
    if backend == "spatialite":
        return Path(make_url(database_url(backend, target)).database or target).stem
    return make_url(database_url(backend, target)).database or "postgis"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgis", "spatialite"), default="postgis")
    parser.add_argument("--db", default="peuplade_bench_1m", help="database name / URL, or file")
    parser.add_argument("--demo", action="store_true", help=f"log in as {DEMO_EMAIL}")
    parser.add_argument("--member", type=int, help="bench member id (default: drawn)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10, help="timed, then profiled")
    parser.add_argument("--only", nargs="*", help="timeline, ping, post-request, post-offer")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    url = database_url(args.backend, args.db)
    label = _label(args.backend, args.db)
    if args.demo:
        from peuplade.demo.cli import DEMO_PASSWORD

        email, password = DEMO_EMAIL, DEMO_PASSWORD
    else:
        email, password = member_email(args.member or bench_member(url, args.seed)), PASSWORD
    site = InProcessSite(url)
    site.log_in(email, password)
    print(f"{args.backend} {label}, logged in as {email}; production settings, CSRF on")
    OUT.mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict] = {}
    for name, run in requests_of(site).items():
        if args.only and name not in args.only:
            continue
        for _ in range(args.warmup):
            run()
        figures[name] = measure(site, name, run, args.runs)
        files = profile_one(OUT / f"profile-{label}-{name}", run, args.runs)
        figures[name]["files"] = {kind: str(path) for kind, path in files.items()}
        f = figures[name]
        print(
            f"\n=== {name}: median {f['median_ms']} ms (min {f['min_ms']}) over {f['runs']} "
            f"runs, {f['statements']} SQL statements; profiled {args.runs} runs"
        )
        if "pyinstrument" in files:
            print(f"--- by own time (pyinstrument, seconds over {args.runs} runs) ---")
            print(_flat_top(files["flat"].read_text(), TOP))
            print("--- call tree (pyinstrument; frames of 3 % of the time or more) ---")
            print(_tree_top(files["pyinstrument"].read_text(), 0.03))
        print("--- cProfile ---")
        print(files["cprofile-top"].read_text())
        print("files: " + ", ".join(str(p) for p in files.values()))
    write_figures(
        "profile",
        {"backend": args.backend, "database": label, "member": email, "requests": figures},
        OUT / f"profile-{label}.json",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
