"""Lighthouse on the pages a neighbour opens first, as a phone sees them.

Lighthouse (npm ``lighthouse``, pinned in package.json, installed by ``make test``
with ``npm ci``) drives Debian's Chromium through ``CHROME_PATH``: no browser is
downloaded. Mobile emulation (Lighthouse's default: a mid-range phone, slow 4G and a
4× slower CPU, simulated). Targets (issue 21): performance ≥ 95, accessibility 100,
best practices 100, SEO ≥ 90, on the visitor page, login, sign-up, the feed, the
publish chooser, an exchange, an object and the map.

Performance varies from run to run on a busy two-core machine (Lighthouse's own
documentation advises the median of several runs, on a machine doing nothing else): the
test is marked ``alone`` (``make test`` runs it after the parallel suite), and a page whose
first run misses a target is run twice more and judged on the median of its three runs,
category by category. Accessibility, best practices and SEO do not vary: one run decides.

The scores are printed at the end of the test session (the figures in the terminal
summary) and written with each report to ``PEUPLADE_E2E_ARTIFACTS/lighthouse``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from peuplade.extensions import db
from tests.e2e.conftest import CHROMIUM, DEMO_EMAIL, DEMO_PASSWORD, ROOT, artifacts_dir, log_in

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 90}
RUNS_WHEN_MISSED = 3


@pytest.fixture
def tile_url(fake_tiles) -> str:
    """The map page with real-looking tiles: an unreachable tile server would put
    network errors in the console, which best practices counts."""
    return fake_tiles.url_template


@pytest.fixture(scope="module")
def lighthouse() -> Path:
    if not os.access(LIGHTHOUSE, os.X_OK) or shutil.which("node") is None:
        pytest.fail(
            f"{LIGHTHOUSE} is missing: the Lighthouse checks need Node.js and the npm "
            "packages of package.json. `make test` installs them (`npm ci`); by hand: "
            "`npm ci` at the project's root (and `apt-get install nodejs npm`).",
            pytrace=False,
        )
    return LIGHTHOUSE


def run_lighthouse(binary: Path, url: str, cookie: str | None, report: Path) -> dict[str, int]:
    """One Lighthouse run on ``url``: the four category scores, out of 100."""
    flags = [
        "--headless=new",
        "--disable-dev-shm-usage",
        "--lang=fr-FR",  # Accept-Language: the site's first language for visitors
    ]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    command = [
        str(binary),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--form-factor=mobile",
        "--max-wait-for-load=30000",
        f"--chrome-flags={' '.join(flags)}",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and report.exists(), (
        f"lighthouse failed on {url} (exit {done.returncode}):\n{done.stderr[-2000:]}"
    )
    result = json.loads(report.read_text(encoding="utf-8"))
    assert not result.get("runtimeError"), f"lighthouse on {url}: {result['runtimeError']}"
    return {c: round(100 * (result["categories"][c]["score"] or 0)) for c in CATEGORIES}


def misses(scores: dict[str, int]) -> list[str]:
    return [f"{c} {scores[c]} < {TARGETS[c]}" for c in CATEGORIES if scores[c] < TARGETS[c]]


def failing_audits(report: Path) -> str:
    """The audits that cost points, for the failure message."""
    result = json.loads(report.read_text(encoding="utf-8"))
    # Lighthouse's measure of the machine's speed at that moment: ~2,500 when quiet here.
    lines = [f"    (benchmark index {result['environment'].get('benchmarkIndex')})"]
    for audit in result["audits"].values():
        score = audit.get("score")
        if score is None or score >= 1 or audit.get("scoreDisplayMode") == "informative":
            continue
        if audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings"):
            lines.append(f"    {audit['id']}: {score} {audit.get('displayValue', '')}")
    return "\n".join(lines[:16])


def pages_to_check(server) -> dict[str, str]:
    """name → path, for the visitor pages and the demo member's pages."""
    paths = server.seed_demo()
    from peuplade.models import Item, Member

    with server.app.app_context():
        camille = db.session.scalars(select(Member).filter_by(email=DEMO_EMAIL)).one()
        item = db.session.scalars(
            select(Item).where(Item.author_id != camille.id).order_by(Item.id)
        ).first()
    member_pages = {
        "feed": "/",
        "publish": "/publish",
        "exchange": paths["exchange_theirs"],
        "object": f"/objects/{item.id}",
        "map": "/map",
    }
    return member_pages


# One backend: the pages are the same templates on both (as for axe), and each page takes
# Lighthouse about ten seconds. Alone on the machine (`make test` runs it after the
# parallel suite): total blocking time is the main thread's observed busy time, scaled
# by the phone's slowdown, and a neighbouring test's work on the same two cores once
# turned the map's 100 into a 94 (TBT 0 → 260 ms, the same page).
@pytest.mark.spatialite_only
@pytest.mark.alone
def test_lighthouse_scores_on_a_phone(live_server, new_context, lighthouse, record_property):
    member_pages = pages_to_check(live_server)
    visitor_pages = {"visitor": "/", "login": "/login", "register": "/register"}

    page = new_context("fr").new_page()
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    page.close()

    folder = artifacts_dir() / "lighthouse"
    folder.mkdir(parents=True, exist_ok=True)
    problems, lines = [], []
    for name, path, session in [
        *((n, p, None) for n, p in visitor_pages.items()),
        *((n, p, cookie) for n, p in member_pages.items()),
    ]:
        url = live_server.url + path
        runs, report = [], folder / f"{name}.json"
        for attempt in range(RUNS_WHEN_MISSED):
            report = folder / f"{name}-{attempt + 1}.json"
            runs.append(run_lighthouse(lighthouse, url, session, report))
            if attempt == 0 and not misses(runs[0]):
                break
        scores = {c: round(statistics.median(r[c] for r in runs)) for c in CATEGORIES}
        if session:
            # The member's pages must really be the member's (not the login page).
            final = json.loads(report.read_text(encoding="utf-8"))["finalDisplayedUrl"]
            assert "/login" not in final, f"{name}: lighthouse was sent to {final}"
        figures = "/".join(str(scores[c]) for c in CATEGORIES)
        runs_note = f" (median of {len(runs)} runs)" if len(runs) > 1 else ""
        lines.append(f"lighthouse {name:<9} {path:<22} {figures}{runs_note}")
        if missed := misses(scores):
            problems.append(f"{name} ({path}): {', '.join(missed)}\n{failing_audits(report)}")
    for line in lines:
        record_property("figure", line)
    print("\n".join(["perf/a11y/best-practices/seo (targets ≥95/100/100/≥90)", *lines]))
    assert not problems, "Lighthouse targets missed:\n" + "\n".join(problems)
