"""The map page fetches Leaflet only when the map is shown: at once on a wide screen, on
a phone when the member asks for it ("Afficher la carte"); nothing moves meanwhile."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_EMAIL, DEMO_PASSWORD, DESKTOP, log_in, tr

# Lighthouse's phone: the list's top is on the first screen, where a shift counts.
PHONE = {"width": 412, "height": 823}


@pytest.fixture
def tile_url(fake_tiles) -> str:
    return fake_tiles.url_template


def count_layout_shifts(page) -> None:
    page.evaluate(
        """() => { window.__shift = 0; new PerformanceObserver(list => {
             for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value;
           }).observe({type: 'layout-shift', buffered: true}); }"""
    )


def leaflet_requests(page) -> list[str]:
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "leaflet" in r.url else None)
    return fetched


@pytest.mark.postgis_only
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_phone_shows_the_list_first_and_the_map_on_request(live_server, new_context, lang):
    live_server.seed_demo()
    page = new_context(lang, viewport=PHONE).new_page()
    log_in(page, live_server, lang, DEMO_EMAIL, DEMO_PASSWORD)
    fetched = leaflet_requests(page)
    page.goto(live_server.url + "/map")
    count_layout_shifts(page)
    page.wait_for_load_state("networkidle")

    assert fetched == [], "a phone fetched Leaflet before the map was asked for"
    # The map is folded and the button shown from the first paint: the script that
    # opens the map on request moves nothing (it pushed the list 0.12 of the screen).
    shift = page.evaluate("() => window.__shift")
    assert shift < 0.02, f"the page moved as it loaded (layout shift {shift:.3f})"
    the_map = page.get_by_role("region", name=tr(lang, "Carte des annonces du voisinage"))
    expect(the_map).to_be_hidden()
    expect(page.locator(".map-list__items > li").first).to_be_visible()

    page.get_by_role("button", name=tr(lang, "Afficher la carte")).click()
    expect(the_map).to_be_visible()
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    assert any(u.endswith("leaflet.js") for u in fetched)
    assert any(u.endswith("leaflet.markercluster.js") for u in fetched)
    # The button is gone and the focus is on the map, not lost on the page.
    expect(page.get_by_role("button", name=tr(lang, "Afficher la carte"))).to_be_hidden()
    assert page.evaluate("() => document.activeElement.id") == "map"


@pytest.mark.postgis_only
def test_a_wide_screen_draws_the_map_at_once_without_moving_the_page(live_server, new_context):
    live_server.seed_demo()
    page = new_context("fr", viewport=DESKTOP).new_page()
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(live_server.url + "/map")
    count_layout_shifts(page)
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    expect(page.get_by_role("button", name="Afficher la carte")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    shift = page.evaluate("() => window.__shift")
    assert shift < 0.02, f"the page moved while the map was drawn (layout shift {shift:.3f})"


@pytest.mark.postgis_only
def test_without_javascript_the_map_page_is_its_list_and_says_why(live_server, new_context):
    live_server.seed_demo()
    page = new_context("fr", viewport=PHONE, java_script_enabled=False).new_page()
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(live_server.url + "/map")
    # (Playwright's text search skips <noscript>: the paragraph is found by its class.)
    note = page.locator(".map__noscript")
    expect(note).to_be_visible()
    expect(note).to_contain_text("La carte a besoin de JavaScript")
    # No button that does nothing, no empty box where the map would be.
    expect(page.get_by_role("button", name="Afficher la carte")).to_be_hidden()
    expect(page.get_by_role("region", name="Carte des annonces du voisinage")).to_be_hidden()
    expect(page.locator(".map-list__items > li").first).to_be_visible()
