"""bench/report.py: issue 23's targets table read from the bench scripts' JSON files —
each row met, not met or not measured from the figures it is given."""

from __future__ import annotations

import json

from bench import report


def _phase(per_s: float, p95_ms: float, server_ms: float, errors: int = 0, **routes) -> dict:
    return {
        "wall_s": 30.0,
        "requests": int(per_s * 30),
        "errors": errors,
        "routes": routes,
        "timeline_load": {"requests": int(per_s * 30), "per_s": per_s, "p95_ms": p95_ms},
        "cpu_s": {"machine": 40.0},
        "cpu_ms_per_request": {"gunicorn": server_ms - 1, "postgres": 1.0, "server": server_ms},
    }


def _figures(post_share: float = 0.05) -> dict:
    ping = {"per_s": 600.0, "p95_ms": 20.0}
    phases = {
        "timeline": _phase(
            120.0,
            200.0,
            14.0,
            **{"POST /exchanges/new (request)": {"p50_ms": 60.0, "p95_ms": 140.0, "requests": 50}},
        ),
        "timeline pages": _phase(150.0, 150.0, 13.0),
        "ping": _phase(0.0, 0.0, 1.2, **{"GET /bench/ping": ping}),
    }
    return {
        "http_load": {
            "settings": {"post_share": post_share, "preload": True},
            "phases": phases,
            "logins_during_load": {
                "timeline + logins": {"p95_ms": 1800.0, "errors": 0},
                "timeline + logins, login pool": {"p95_ms": 450.0, "errors": 0},
            },
            "memory_mib": {"app": {"workers": [{"rss": 140.0, "pss": 70.0, "uss": 50.0}]}},
        },
        "demo": {"pages": {"ping": {"statements": 3}, "timeline": {"median_ms": 5.5}}},
    }


def _verdicts(data: dict) -> dict[str, str]:
    return {row[0]: row[-1] for row in report.table(data)}


def test_each_row_says_met_not_met_or_not_measured():
    verdicts = _verdicts(_figures())
    assert (
        verdicts["server CPU per request, timeline phase (gunicorn + PostgreSQL, 5 % posts)"]
        == "met"
    )
    # 13 ms per page is over the 12 ms target.
    assert verdicts["server CPU per timeline page, pages only (--post-share 0)"] == "NOT met"
    assert (
        verdicts["server CPU per trivial authenticated request (/bench/ping as a member)"] == "met"
    )
    assert (
        verdicts["SQL statements per trivial authenticated request (demo, in-process)"] == "NOT met"
    )
    assert verdicts["timeline load throughput / trivial route throughput"] == "met"  # 0.2
    assert verdicts["login p95 while the timeline load runs"] == "met"  # the login pool's
    assert verdicts["worker RSS after the load"] == "met"
    assert verdicts["demo data, timeline page in-process (test client, median)"] == "met"
    # No queries_*.json: their rows are not measured, and said so.
    assert verdicts["SpatiaLite, 100k posts, timeline p95"] == "-"
    assert verdicts["growth 100k -> 1M (p95), timeline"] == "-"


def test_an_error_in_the_timeline_phase_fails_its_row():
    data = _figures()
    data["http_load"]["phases"]["timeline"]["errors"] = 1
    row = "requests/s in the timeline phase, 16 keep-alive clients, 0 errors"
    assert _verdicts(data)[row] == "NOT met"


def test_a_run_with_pages_only_fills_the_pages_row_and_not_the_posts_rows():
    data = _figures(post_share=0)
    del data["http_load"]["phases"]["timeline pages"]
    rows = {row[0]: row for row in report.table(data)}
    assert rows["server CPU per timeline page, pages only (--post-share 0)"][2].startswith(
        "14.0 ms"
    )
    assert rows["posting a request (matching neighbours, know-how count, notifications)"][-1] == "-"


def test_the_report_is_written_from_the_files_found(tmp_path):
    (tmp_path / "demo.json").write_text(json.dumps({"measured_at": "now", "pages": {}}))
    assert report.main(["--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert (
        "| demo data, timeline page in-process (test client, median) | ~27 ms | not measured |"
        in text
    )
    assert "http_load: missing" in text and "demo: now on" in text


def test_the_baselines_give_the_next_visit_beside_the_first_when_measured():
    first = {"app_p50_ms": 7.8, "app_p95_ms": 14.3, "obvious_p50_ms": 246.3}
    first |= {"obvious_p95_ms": 821.1, "speedup_p50": 31.6, "speedup_p95": 57.2}
    lists = {"timeline": {**first, "again_p50_ms": 4.6, "again_p95_ms": 10.1}, "item": first}
    lines = report.baselines({"queries_postgis": {"lists": lists}})
    assert lines[0].startswith("postgis timeline: app 7.8 / 14.3 ms")
    assert lines[0].endswith("; the same page asked again at once 4.6 / 10.1 ms")
    assert lines[1].startswith("postgis item: app 7.8 / 14.3 ms") and "again" not in lines[1]


def test_the_trivial_route_is_read_against_both_floors_which_are_not_timeline_phases():
    data = _figures()
    del data["demo"]
    phases = data["http_load"]["phases"]
    phases["stack floor"] = _phase(0.0, 0.0, 0.9, **{"GET /bench/ping": {"per_s": 900.0}})
    phases["floor"] = _phase(0.0, 0.0, 0.4, **{"GET /bench/ping": {"per_s": 2000.0}})
    rows = {row[0]: row for row in report.table(data)}
    trivial = rows["server CPU per trivial authenticated request (/bench/ping as a member)"][2]
    assert trivial.endswith("; Flask alone 0.40 ms; the stack loading the member 0.90 ms")
    lines = report.baselines(data)
    assert any(line.startswith("stack floor, Flask + Flask-Login") for line in lines)
    assert any(
        line.startswith("floor, Flask alone under the same gunicorn: 2000.0") for line in lines
    )
    # Only the timeline phases are given as a share of the trivial route.
    assert not any(line.startswith(("'stack floor'", "'floor'")) for line in lines)


def test_the_ratio_is_the_median_of_the_pairs_in_turn_when_measured():
    """bench/http_load.py's "pairs" phase (the timeline and the ping in turn) gives the
    ratio row its figure, the 30-second phases' one beside; without it, that one."""
    data = _figures()  # phases a minute apart: 120 / 600 = 0.200
    name = "timeline load throughput / trivial route throughput"
    assert _verdicts(data)[name] == "met"
    each = [{"ratio": r, "timeline_per_s": 100.0, "ping_per_s": 100 / r} for r in (0.19, 0.18, 0.3)]
    data["http_load"]["pairs"] = {"seconds": 10.0, "each": each, "median_ratio": 0.19}
    row = {row[0]: row for row in report.table(data)}[name]
    assert (
        row[2]
        == "0.190 (median of 3 pairs in turn: 0.190/0.180/0.300; the phases a minute apart: 0.200)"
    )
    assert row[-1] == "NOT met"


def test_the_spatialite_row_says_when_the_file_was_read_first():
    data = {"queries_spatialite": {"lists": {"timeline": {"app_p95_ms": 8.8}}}}
    name = "SpatiaLite, 100k posts, timeline p95"
    assert {row[0]: row for row in report.table(data)}[name][2] == "p95 8.8 ms"
    data["queries_spatialite"]["file_read_first"] = True
    row = {row[0]: row for row in report.table(data)}[name]
    assert row[2] == "p95 8.8 ms (the file read once first, as a serving app's stays cached)"
    assert row[-1] == "met"
