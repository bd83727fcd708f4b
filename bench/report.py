"""The targets of issue 23, side by side: the figures recorded when it was filed, the
figures of this run, the target, and whether it is met.

Reads what the bench scripts of one ``make bench`` wrote under bench/out/ (each also
runs alone):

- ``queries_postgis.json``: bench/queries.py on the city and the city 10x smaller (the
  lists against the obvious query; growth);
- ``queries_spatialite.json``: bench/queries.py on the SpatiaLite city (100k posts);
- ``http_load.json``: bench/http_load.py (gunicorn under load: CPU per request,
  requests/s, posting, logins with and without the login pool, worker memory);
- ``demo.json``: bench/demo_page.py (the demo's timeline page in-process, and the SQL
  statements of a trivial authenticated request).

Prints the table, then the baselines measured in the same run (the obvious query, the
trivial route, a login alone), and writes it all to bench/out/report.md. A missing file
leaves its rows "not measured". Exit status 0 whatever is met: the table says it.

    .venv/bin/python bench/report.py
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # run as a script (bench/ on sys.path), or imported as bench.report
    from _common import OUT
except ImportError:  # pragma: no cover
    from bench._common import OUT

# Where the "today" column comes from.
TODAY_SOURCE = "issue 23, measured week of 2026-11-30 (1M members / 2M posts, quiet machine)"
FILES = ("queries_postgis", "queries_spatialite", "http_load", "demo")
LISTS = {"timeline": "timeline", "exchange": "exchanges", "item": "objects"}
Figures = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One line of the table: ``measure`` reads this run's value (None: not measured)
    as a text and a verdict (True met, False not met)."""

    name: str
    today: str
    target: str
    measure: Callable[[Figures], tuple[str, bool] | None]


def dig(data: Figures, *keys: str) -> Any:
    """``data[k1][k2]...``, or None if any is missing."""
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def _phase(data: Figures, pages_only: bool = False) -> Figures | None:
    """The timeline phase of http_load: with 5 % posts, or pages only."""
    phases = dig(data, "http_load", "phases") or {}
    if pages_only:
        if dig(data, "http_load", "settings", "post_share") == 0:
            return phases.get("timeline")
        return phases.get("timeline pages")
    if dig(data, "http_load", "settings", "post_share") == 0:
        return None  # the run had no posts
    return phases.get("timeline")


def cpu_per_request(pages_only: bool, limit: float) -> Callable[[Figures], tuple[str, bool] | None]:
    def measure(data: Figures) -> tuple[str, bool] | None:
        phase = _phase(data, pages_only)
        if phase is None:
            return None
        cpu = phase["cpu_ms_per_request"]
        text = f"{cpu['server']:.1f} ms ({cpu['gunicorn']:.1f} + {cpu['postgres']:.1f})"
        return text, cpu["server"] <= limit

    return measure


def ping_cpu(data: Figures) -> tuple[str, bool] | None:
    phase = dig(data, "http_load", "phases", "ping")
    if phase is None:
        return None
    cpu, rate = phase["cpu_ms_per_request"], phase["routes"]["GET /bench/ping"]["per_s"]
    text = (
        f"{cpu['server']:.2f} ms ({cpu['gunicorn']:.2f} + {cpu['postgres']:.2f}; {rate:.0f} req/s)"
    )
    floor = dig(data, "http_load", "phases", "floor")
    if floor is not None:  # Flask alone under the same gunicorn (bench/http_floor.py)
        text += f"; Flask alone {floor['cpu_ms_per_request']['server']:.2f} ms"
    stack = dig(data, "http_load", "phases", "stack floor")
    if stack is not None:  # the libraries loading the member (bench/http_stack_floor.py)
        text += f"; the stack loading the member {stack['cpu_ms_per_request']['server']:.2f} ms"
    return text, cpu["server"] <= 1.5


def ping_statements(data: Figures) -> tuple[str, bool] | None:
    n = dig(data, "demo", "pages", "ping", "statements")
    return None if n is None else (f"{n}", n <= 2)


def timeline_rate(data: Figures) -> tuple[str, bool] | None:
    phase = _phase(data)
    if phase is None:
        return None
    load = phase["timeline_load"]
    text = f"{load['per_s']:.1f} (p95 {_ms(load['p95_ms'])}, {phase['errors']} errors)"
    return text, load["per_s"] >= 100 and load["p95_ms"] <= 250 and phase["errors"] == 0


def throughput_ratio(data: Figures) -> tuple[str, bool] | None:
    """The median of the "pairs" phase's ratios (the timeline and the ping in turn, a
    few seconds apart) when measured, beside the 30-second phases' one; else that."""
    phase, ping = _phase(data), dig(data, "http_load", "phases", "ping")
    pairs = dig(data, "http_load", "pairs")
    single = None
    if phase is not None and ping is not None:
        single = phase["timeline_load"]["per_s"] / ping["routes"]["GET /bench/ping"]["per_s"]
    if pairs:
        each = "/".join(f"{p['ratio']:.3f}" for p in pairs["each"])
        text = f"{pairs['median_ratio']:.3f} (median of {len(pairs['each'])} pairs in turn: {each}"
        text += f"; the phases a minute apart: {single:.3f})" if single is not None else ")"
        return text, pairs["median_ratio"] >= 0.2
    if single is None:
        return None
    return f"{single:.3f}", single >= 0.2


def posting(data: Figures) -> tuple[str, bool] | None:
    route = dig(_phase(data) or {}, "routes", "POST /exchanges/new (request)")
    if not route:
        return None
    text = f"p50 {_ms(route['p50_ms'])}, p95 {_ms(route['p95_ms'])} ({route['requests']} posted)"
    return text, route["p95_ms"] <= 150


def neighbours(data: Figures) -> tuple[str, bool] | None:
    f = dig(data, "queries_postgis", "lists", "neighbours+skill")
    if f is None:
        return None
    text = f"p95 {_ms(f['app_p95_ms'])}, {f['speedup_p95']:.1f}x"
    return text, f["app_p95_ms"] <= 30 and f["speedup_p95"] >= 20


def list_path(kind: str) -> Callable[[Figures], tuple[str, bool] | None]:
    def measure(data: Figures) -> tuple[str, bool] | None:
        f = dig(data, "queries_postgis", "lists", kind)
        if f is None:
            return None
        text = f"{f['app_p50_ms']:.1f} / {f['app_p95_ms']:.1f} ms, {f['speedup_p50']:.1f}x at p50"
        return text, f["app_p50_ms"] <= 5 and f["app_p95_ms"] <= 10 and f["speedup_p50"] >= 20

    return measure


def growth(kind: str) -> Callable[[Figures], tuple[str, bool] | None]:
    def measure(data: Figures) -> tuple[str, bool] | None:
        g = dig(data, "queries_postgis", "growth", kind)
        if g is None:
            return None
        return f"{g['app_p95']:.2f}x (obvious {g['obvious_p95']:.2f}x)", g["app_p95"] <= 1.3

    return measure


def login_under_load(data: Figures) -> tuple[str, bool] | None:
    during = dig(data, "http_load", "logins_during_load") or {}
    pooled = during.get("timeline + logins, login pool")
    shared = during.get("timeline + logins")
    if pooled is None and shared is None:
        return None
    chosen = pooled or shared
    text = f"{_ms(chosen['p95_ms'])} ({'login pool' if pooled else 'no login pool'}"
    if pooled and shared:
        text += f"; {_ms(shared['p95_ms'])} in the app's pool"
    text += ")"
    return text, chosen["p95_ms"] <= 500 and chosen["errors"] == 0


def worker_memory(data: Figures) -> tuple[str, bool] | None:
    workers = dig(data, "http_load", "memory_mib", "app", "workers")
    if not workers:
        return None
    rss = max(w.get("rss", math.nan) for w in workers)
    pss = max(w.get("pss", math.nan) for w in workers)
    uss = max(w.get("uss", math.nan) for w in workers)
    preload = dig(data, "http_load", "settings", "preload")
    text = f"RSS {rss:.0f} MiB (PSS {pss:.0f}, USS {uss:.0f}; preload {'on' if preload else 'off'})"
    return text, rss <= 150


def spatialite_timeline(data: Figures) -> tuple[str, bool] | None:
    f = dig(data, "queries_spatialite", "lists", "timeline")
    if f is None:
        return None
    text = f"p95 {_ms(f['app_p95_ms'])}"
    if dig(data, "queries_spatialite", "file_read_first"):
        text += " (the file read once first, as a serving app's stays cached)"
    return text, f["app_p95_ms"] <= 10


def demo_timeline(data: Figures) -> tuple[str, bool] | None:
    f = dig(data, "demo", "pages", "timeline")
    return None if f is None else (f"{_ms(f['median_ms'])}", f["median_ms"] <= 6)


ROWS = (
    Row(
        "server CPU per request, timeline phase (gunicorn + PostgreSQL, 5 % posts)",
        "~106 ms (27 + 79)",
        "<= 15 ms",
        cpu_per_request(pages_only=False, limit=15),
    ),
    Row(
        "server CPU per timeline page, pages only (--post-share 0)",
        "~64 ms (51 + 13)",
        "<= 12 ms",
        cpu_per_request(pages_only=True, limit=12),
    ),
    Row(
        "server CPU per trivial authenticated request (/bench/ping as a member)",
        "~3.3 ms (2.9 + 0.4; 540 req/s)",
        "<= 1.5 ms",
        ping_cpu,
    ),
    Row(
        "SQL statements per trivial authenticated request (demo, in-process)",
        "5 (a 404 page)",
        "<= 2",
        ping_statements,
    ),
    Row(
        "requests/s in the timeline phase, 16 keep-alive clients, 0 errors",
        "18.2 (p95 3.3 s)",
        ">= 100, p95 <= 250 ms",
        timeline_rate,
    ),
    Row(
        "timeline load throughput / trivial route throughput",
        "0.034",
        ">= 0.2",
        throughput_ratio,
    ),
    Row(
        "posting a request (matching neighbours, know-how count, notifications)",
        "p50 4.0 s, p95 17 s",
        "p95 <= 150 ms",
        posting,
    ),
    Row(
        "neighbours with a skill, app vs obvious (p95)",
        "p95 2.8 s, 1.0x",
        "p95 <= 30 ms and >= 20x",
        neighbours,
    ),
    *(
        Row(
            f"{label} query path (ORM included), p50 / p95",
            today,
            "<= 5 / <= 10 ms, >= 20x obvious at p50",
            list_path(kind),
        )
        for (kind, label), today in zip(
            LISTS.items(), ("12.9 / 21.8 ms", "12.6 / 31.5 ms", "12.3 / 17.4 ms"), strict=True
        )
    ),
    *(
        Row(f"growth 100k -> 1M (p95), {label}", today, "<= 1.3x", growth(kind))
        for (kind, label), today in zip(
            (*LISTS.items(), ("neighbours+skill", "neighbours with a skill")),
            ("1.58x", "2.39x", "1.69x", "23x"),
            strict=True,
        )
    ),
    Row(
        "login p95 while the timeline load runs",
        "1.8 s (254 ms alone)",
        "<= 0.5 s",
        login_under_load,
    ),
    Row("worker RSS after the load", "191 MiB", "<= 150 MiB", worker_memory),
    Row(
        "SpatiaLite, 100k posts, timeline p95",
        "18.9 ms",
        "<= 10 ms",
        spatialite_timeline,
    ),
    Row(
        "demo data, timeline page in-process (test client, median)",
        "~27 ms",
        "<= 6 ms",
        demo_timeline,
    ),
)


def load(folder: Path) -> Figures:
    """Every bench file found in ``folder``, by name."""
    data = {}
    for name in FILES:
        path = folder / f"{name}.json"
        if path.exists():
            data[name] = json.loads(path.read_text())
    return data


def table(data: Figures) -> list[list[str]]:
    """The rows: measure, today, this run, target, met."""
    rows = []
    for row in ROWS:
        try:
            result = row.measure(data)
        except (KeyError, TypeError, ZeroDivisionError) as exc:
            result = (f"unreadable ({type(exc).__name__}: {exc})", False)
        if result is None:
            rows.append([row.name, row.today, "not measured", row.target, "-"])
        else:
            text, met = result
            rows.append([row.name, row.today, text, row.target, "met" if met else "NOT met"])
    return rows


def baselines(data: Figures) -> list[str]:
    """What the same run measured to compare with: the obvious query, the trivial
    route, a login alone, the machine's load."""
    lines = []
    for backend in ("postgis", "spatialite"):
        lists = dig(data, f"queries_{backend}", "lists") or {}
        for name, f in lists.items():
            lines.append(
                f"{backend} {name}: app {f['app_p50_ms']:.1f} / {f['app_p95_ms']:.1f} ms, "
                f"obvious {f['obvious_p50_ms']:.1f} / {f['obvious_p95_ms']:.1f} ms (p50 / p95): "
                f"{f['speedup_p50']:.1f}x / {f['speedup_p95']:.1f}x"
                + (
                    f"; the same page asked again at once {f['again_p50_ms']:.1f} / "
                    f"{f['again_p95_ms']:.1f} ms"
                    if "again_p50_ms" in f
                    else ""
                )
            )
    phases = dig(data, "http_load", "phases") or {}
    ping = phases.get("ping")
    if ping:
        route = ping["routes"]["GET /bench/ping"]
        lines.append(
            f"trivial route /bench/ping as a member: {route['per_s']:.1f} req/s, "
            f"p95 {_ms(route['p95_ms'])}, {ping['cpu_ms_per_request']['server']:.2f} ms "
            "of server CPU per request"
        )
        floors = (
            (
                "stack floor",
                "stack floor, Flask + Flask-Login + Flask-SQLAlchemy loading the member",
            ),
            ("floor", "floor, Flask alone"),
        )
        for name, label in floors:
            if name in phases:
                alone = phases[name]["routes"]["GET /bench/ping"]
                cpu = phases[name]["cpu_ms_per_request"]["server"]
                lines.append(
                    f"{label} under the same gunicorn: {alone['per_s']:.1f} req/s, "
                    f"{cpu:.2f} ms of server CPU per request"
                )
        for name, phase in phases.items():
            if name not in ("ping", "floor", "stack floor") and phase["timeline_load"]["requests"]:
                rate = phase["timeline_load"]["per_s"]
                lines.append(
                    f"'{name}': {rate:.1f} req/s = {rate / route['per_s']:.3f} of the trivial "
                    f"route; server CPU {phase['cpu_ms_per_request']['server']:.1f} ms/request; "
                    f"machine busy {phase['cpu_s']['machine']:.1f} CPU-s in {phase['wall_s']:.1f} s"
                )
    alone = dig(data, "http_load", "logins_before_load")
    if alone:
        lines.append(
            f"login alone (before the load): p50 {_ms(alone['p50_ms'])}, "
            f"p95 {_ms(alone['p95_ms'])} over {alone['logins']}"
        )
    for f in (dig(data, "demo", "pages") or {}).values():
        lines.append(
            f"demo in-process {f['path']}: median {_ms(f['median_ms'])}, "
            f"{f['statements']} SQL statements"
        )
    return lines


def sources(data: Figures) -> list[str]:
    lines = []
    for name in FILES:
        document = data.get(name)
        if document is None:
            lines.append(f"{name}: missing")
            continue
        where = document.get("database") or document.get("source") or ""
        small = document.get("small_database")
        where += f" (and {small})" if small else ""
        lines.append(f"{name}: {document.get('measured_at', '?')} on {where}")
    return lines


def render(data: Figures) -> str:
    rows = table(data)
    header = ["measure", "today", "this run", "target", "met"]
    out = [
        "# Issue 23: targets against this run",
        "",
        f"'today': {TODAY_SOURCE}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
        "## Baselines measured in the same run",
        "",
        *(f"- {line}" for line in baselines(data)),
        "",
        "## Sources",
        "",
        *(f"- {line}" for line in sources(data)),
    ]
    met = sum(r[-1] == "met" for r in rows)
    measured = sum(r[-1] != "-" for r in rows)
    out += ["", f"{met} of {measured} measured targets met ({len(rows)} rows)."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the bench files are")
    args = parser.parse_args(argv)
    text = render(load(args.out))
    print(text)
    (args.out / "report.md").write_text(text)
    print(f"written: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
