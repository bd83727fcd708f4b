"""The main pages in a real browser, in French and in English, with the demo
neighbourhood: no serious or critical axe-core violation, no horizontal scrolling on a
375 px wide phone nor with the text at 200 %, and screenshots (French, desktop and phone)
written to PEUPLADE_E2E_ARTIFACTS for a human to look at.

axe-core (tests/vendor/axe-core) is run with ``page.evaluate``: the pages' CSP
(``script-src 'self'``) blocks the inline script that ``page.add_script_tag`` would
insert, while DevTools evaluation is not subject to it. So the scan sees the pages under
their real policy, without ``bypass_csp``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import (
    AXE_JS,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DESKTOP,
    PHONE,
    artifacts_dir,
    log_in,
)

AXE_SOURCE = AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def tile_url(fake_tiles) -> str:
    """Local tiles drawn from data/ (tests/fake_tiles.py): the screenshots show a map,
    and axe sees the map as members do."""
    return fake_tiles.url_template


@pytest.fixture
def tile_attribution() -> str:
    return "Quartiers : Ville de Paris, ODbL (tuiles de test)"


BLOCKING = ("serious", "critical")
DOUBLE_TEXT = """() => {
  const root = document.documentElement;
  const size = parseFloat(getComputedStyle(root).fontSize);
  root.style.setProperty("font-size", 2 * size + "px", "important");
}"""

ANONYMOUS = [
    ("login", "/login"),
    ("register", "/register"),
    ("privacy-anonymous", "/privacy"),
    ("offline", "/offline/{lang}"),  # what the installed app shows without a network
]
MEMBER = [
    ("timeline", "/"),
    ("publish", "/publish"),
    ("more", "/more"),
    ("map", "/map"),
    ("exchanges", "/exchanges"),
    ("exchange-new", "/exchanges/new"),
    ("event-new", "/events/new"),
    ("exchange-mine", "{exchange_mine}"),
    ("exchange-theirs", "{exchange_theirs}"),
    ("objects", "/objects"),
    ("news", "/news"),
    ("events", "/events"),
    ("messages", "/messages"),
    ("conversation", "{conversation}"),
    ("account", "/account"),
    ("notifications", "/notifications"),
    ("privacy", "/privacy"),
]


def axe_violations(page: Page) -> list[str]:
    """Serious and critical axe-core violations of the page, one readable line each."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for v in results["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        targets = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:8])
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})\n    {targets}")
    return lines


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


# The pages are the same templates on both backends: scanning them once (PostGIS, as in
# production) keeps the browser tests near a minute on two cores; the scenario of
# test_scenario.py runs on both.
@pytest.mark.postgis_only
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_main_pages_are_accessible(live_server, new_context, lang):
    paths = live_server.seed_demo()
    shots = artifacts_dir() if lang == "fr" else None
    problems: list[str] = []

    def check(page: Page, name: str, url: str) -> None:
        page.set_viewport_size(DESKTOP)
        page.goto(url)  # waits for the load event: scripts have run
        for line in axe_violations(page):
            problems.append(f"{lang} {name} ({url}):\n{line}")
        if shots:
            page.screenshot(path=shots / f"fr-{name}-desktop.png", full_page=True)
            # What one sees on opening the page (docs/images/ has two of these); for the
            # map, what one sees once scrolled down to it.
            if name == "map":
                page.evaluate(
                    "() => { document.getElementById('map-title').scrollIntoView();"
                    " window.scrollBy(0, -16); }"
                )
            page.screenshot(path=shots / f"fr-{name}-desktop-top.png")
        # Text at 200 % (what the browser's font size setting does: the stylesheet sizes
        # everything in rem/em from the root), desktop width.
        page.evaluate(DOUBLE_TEXT)
        if (extra := overflow(page)) > 0:
            problems.append(f"{lang} {name}: {extra}px of horizontal scroll with text at 200 %")
        page.evaluate("() => document.documentElement.style.removeProperty('font-size')")
        # A phone: the same page, narrowed (the layout follows, as on rotating a tablet).
        page.set_viewport_size(PHONE)
        if (extra := overflow(page)) > 0:
            problems.append(f"{lang} {name}: {extra}px of horizontal scroll at {PHONE['width']}px")
        if shots:
            page.screenshot(path=shots / f"fr-{name}-phone.png", full_page=True)

    anonymous = new_context(lang).new_page()
    for name, path in ANONYMOUS:
        check(anonymous, name, live_server.url + path.format(lang=lang))

    member = new_context(lang).new_page()
    log_in(member, live_server, lang, DEMO_EMAIL, DEMO_PASSWORD)
    for name, path in MEMBER:
        check(member, name, live_server.url + path.format(**paths))

    assert not problems, "Accessibility problems:\n" + "\n".join(problems)
