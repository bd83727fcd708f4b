"""The pages under their real Content-Security-Policy (``style-src 'self'``, no
'unsafe-inline' for scripts or styles), in Chromium, at 375 px and 1280 px: not one
violation on the main pages, with the vendored libraries at work - Leaflet and its
marker clusters on the map (clusters opened, a popup shown, the filter used), the home
picker on the registration and home pages, Swagger UI on /api/docs (an operation opened,
"Try it out", the schemas, the "Authorize" dialog) - and on the print views.

Every page gets, before any of its own scripts, a ``securitypolicyviolation`` listener
(``add_init_script``: DevTools injection, not itself subject to the policy) that keeps
what was refused; the console's "Content Security Policy" messages are kept as well.
Screenshots of the pages the accessibility test does not take (``csp-*.png``) go to
PEUPLADE_E2E_ARTIFACTS, so a change of stylesheet can be looked at."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DESKTOP,
    PHONE,
    LiveServer,
    artifacts_dir,
    log_in,
)

LISTEN = """
(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__cspViolations.push(
      e.effectiveDirective + " refused " + (e.blockedURI || "?") + " at " +
      (e.sourceFile || e.documentURI) + ":" + e.lineNumber + ":" + e.columnNumber +
      (e.sample ? " (" + e.sample + ")" : "")
    );
  }, true);
})();
"""

# Read once the page has settled: violation events are queued as tasks.
COLLECTED = """() => new Promise((resolve) =>
  setTimeout(() => resolve(window.__cspViolations || ["(the listener is missing)"]), 150))"""


@pytest.fixture
def tile_url(fake_tiles) -> str:
    """Real tiles (tests/fake_tiles.py): Leaflet draws and positions them, as in use."""
    return fake_tiles.url_template


class Scan:
    """One browser context at one width, collecting violations page after page."""

    def __init__(self, server: LiveServer, page: Page, width: str) -> None:
        self.server, self.page, self.width = server, page, width
        self.found: list[str] = []
        self._console: list[str] = []
        page.add_init_script(LISTEN)
        page.on(
            "console",
            lambda m: self._console.append(m.text) if "Content Security Policy" in m.text else None,
        )

    def visit(self, name: str, path: str, act: Callable[[Page], None] | None = None) -> Page:
        page = self.page
        page.emulate_media(media="screen")
        response = page.goto(self.server.url + path)
        assert response is not None and response.status < 500, f"{name}: {path}"
        csp = response.headers.get("content-security-policy", "")
        assert "style-src 'self';" in csp, f"{name}: {csp}"
        if act:
            act(page)
        self.check(name)
        return page

    def check(self, name: str) -> None:
        for line in self.page.evaluate(COLLECTED) + self._console:
            self.found.append(f"{self.width} {name} ({self.page.url}): {line}")
        self._console.clear()
        self.page.evaluate("() => { window.__cspViolations = []; }")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=artifacts_dir() / f"csp-{name}-{self.width}.png", full_page=True)


def first_link(page: Page, pattern: str) -> str:
    """The path of the first link of the page matching ``pattern`` (a regex on the path)."""
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)")
    path = next((h for h in hrefs if re.fullmatch(pattern, h)), None)
    assert path, f"no link to {pattern} on {page.url}"
    return path


def use_the_map(page: Page) -> None:
    """Clusters and markers drawn, a cluster opened (zoom animation), a marker's popup,
    a type chosen with the chips (the page again, filtered). On a phone the map is drawn
    on request: the button first."""
    opener = page.get_by_role("button", name="Afficher la carte")
    if opener.is_visible():
        opener.click()
    clusters = page.locator(".leaflet-marker-icon.marker-cluster")
    expect(clusters.first).to_be_visible()
    expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    clusters.first.click()
    page.wait_for_timeout(800)  # the cluster's zoom and spread animations
    singles = page.locator(".leaflet-marker-icon:not(.marker-cluster)")
    expect(singles.last).to_be_visible()
    # A marker inside the map's visible frame (after the cluster's zoom some are outside
    # it, hidden by the frame, on a narrow phone map).
    frame = page.locator("#map").bounding_box()
    single = None
    for i in range(singles.count()):
        box = singles.nth(i).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        if (
            frame["x"] < x < frame["x"] + frame["width"]
            and frame["y"] < y < frame["y"] + frame["height"]
        ):
            single = singles.nth(i)
            break
    assert single is not None, "no single marker inside the map's frame"
    single.click()
    expect(page.locator(".leaflet-popup-content")).to_be_visible()
    page.locator(".leaflet-control-zoom-out").click()
    page.wait_for_timeout(500)
    page.get_by_role("link", name="Sorties").first.click()
    page.wait_for_load_state()


def place_home(page: Page) -> None:
    """The home picker: a point placed by a click, taken away, placed again."""
    picker = page.locator(".home-picker__map")
    expect(picker).to_be_visible()
    expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    box = picker.bounding_box()
    assert box
    marker = page.locator(".home-picker .leaflet-marker-icon")
    picker.click(position={"x": box["width"] / 2 + 20, "y": box["height"] / 2 + 10})
    expect(marker).to_be_visible()
    page.locator(".home-picker__clear").click()
    expect(marker).to_have_count(0)
    picker.click(position={"x": box["width"] / 2 - 30, "y": box["height"] / 2 - 20})
    expect(marker).to_be_visible()


def sign_up_steps(page: Page) -> None:
    """The sign-up's three steps: the first filled in, the map unfolded and a point
    placed on the second, the third shown."""
    page.get_by_label("Votre nom", exact=True).fill("Zoé")
    page.get_by_label("Adresse e-mail", exact=True).fill("zoe@example.org")
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    page.get_by_label("Mot de passe, encore une fois", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Suivant").click()
    page.get_by_text("Ou placer mon domicile sur la carte").click()
    place_home(page)
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_role("button", name="Créer mon compte")).to_be_visible()


def use_swagger_ui(page: Page) -> None:
    """An operation opened, "Try it out", a response's schema, the "Schemas" section
    (virtualised: scrolled), the "Authorize" dialog opened and closed."""
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    try_it = page.locator(".try-out__btn").first
    expect(try_it).to_be_visible()
    try_it.click()
    page.get_by_role("tab", name="Schema").first.click()  # a response's schema
    models = page.locator(".models .models-virtual-item")  # "Schemas": open by default
    expect(models.first).to_be_visible()
    models.first.locator(".json-schema-2020-12-expand-deep-button").click()
    expect(models.first.locator(".json-schema-2020-12-body").first).to_be_visible()
    page.locator(".models-scroll").evaluate("box => box.scrollBy(0, 2000)")  # virtualised
    page.locator(".btn.authorize").first.click()
    expect(page.locator(".dialog-ux .modal-ux")).to_be_visible()
    page.locator(".dialog-ux .close-modal").click()


def print_view(page: Page) -> None:
    """The page as printed (print.css)."""
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()


ANONYMOUS = [
    ("login", "/login", None),
    ("forgot-password", "/password/forgot", None),
    ("privacy-anonymous", "/privacy", None),
    ("not-found", "/no-such-page", None),
]

MEMBER = [
    ("timeline", "/", None),
    ("news-timeline", "/timeline", None),
    ("publish", "/publish", None),
    ("more", "/more", None),
    ("for-you", "/for-you", None),
    ("exchanges", "/exchanges", None),
    ("exchange-new", "/exchanges/new", None),
    ("exchange-mine", "{exchange_mine}", None),
    ("objects", "/objects", None),
    ("loans", "/loans", None),
    ("news", "/news", None),
    ("events", "/events", None),
    ("neighbours", "/neighbours", None),
    ("messages", "/messages", None),
    ("conversation", "{conversation}", None),
    ("account", "/account", None),
    ("edit-profile", "/account/profile", None),
    ("notifications", "/notifications", None),
    ("notification-settings", "/account/notifications", None),
    ("blocks", "/account/blocks", None),
    ("privacy", "/privacy", None),
]


# The same templates and scripts on both backends: scanned once (PostGIS, as in
# production), like the accessibility test.
@pytest.mark.postgis_only
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_no_content_security_policy_violation(live_server, new_context, width):
    paths = live_server.seed_demo()
    viewport = {"phone": PHONE, "desktop": DESKTOP}[width]

    anonymous = Scan(live_server, new_context("fr", viewport=viewport).new_page(), width)
    anonymous.visit("register", "/register", sign_up_steps)
    anonymous.shot("register")
    anonymous.visit("api-docs", "/api/docs", use_swagger_ui)
    anonymous.shot("api-docs")
    for name, path, act in ANONYMOUS:
        anonymous.visit(name, path, act)

    member = Scan(live_server, new_context("fr", viewport=viewport).new_page(), width)
    log_in(member.page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    member.check("login")
    if width == "phone":  # the bar at the bottom of the screen, no script needed
        expect(member.page.locator("#main-nav")).to_be_visible()
    for name, path, act in MEMBER:
        member.visit(name, path.format(**paths), act)

    member.visit("map", "/map", use_the_map)
    member.shot("map")
    member.visit("home", "/account/home", place_home)
    member.shot("home")

    # A page of each kind of post, and a neighbour's profile, reached by their links.
    page = member.visit("exchange-theirs", paths["exchange_theirs"])
    profile = first_link(page, r"/profile/\d+")
    member.visit("profile", profile)
    member.shot("profile")
    for name, index, pattern in [
        ("object", "/objects", r"/objects/\d+"),
        ("news-item", "/news", r"/news/\d+"),
        ("event", "/events", r"/events/\d+"),
    ]:
        member.visit(name + "-list", index)
        member.visit(name, first_link(member.page, pattern))

    # Print views: the lobby board and an exchange as a notice.
    member.visit("board", "/board", print_view)
    member.shot("board-print")
    member.visit("exchange-print", paths["exchange_theirs"], print_view)
    member.shot("exchange-print")

    found = anonymous.found + member.found
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)
