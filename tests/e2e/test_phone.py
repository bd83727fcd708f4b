"""The demo member (camille) on a 375 x 667 phone and a 1280 x 800 screen, in French and
in English: the first two posts of the feed (an alert counts as one) start on the first
screen, the main navigation has at most five entries, and each daily journey is counted
in screens (pages loaded after the feed) and taps.

The counts are in the test names (``post-a-request-2screens+result-7taps``): a journey
that takes more or fewer fails and its name must change with it. They are printed too
(``pytest -s``), and written to ``journeys.txt`` beside the screenshots. What counts as a
tap: a click on a link or a button, a tap on a text field (then the keyboard), two for a
list or a date (open it, choose).

One demo neighbourhood is seeded for the whole module (seeding takes a while on two
cores): the journeys each pick a post they can still act on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from peuplade.extensions import db
from peuplade.localtime import today
from peuplade.models import Event, Exchange, Item, Loan, Member, Rsvp, utcnow
from tests.e2e.conftest import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    LiveServer,
    artifacts_dir,
    log_in,
    serve,
    tr,
)

VIEWPORTS = {"phone": {"width": 375, "height": 667}, "desktop": {"width": 1280, "height": 800}}
NAV_MAX = 5

# The journeys and their budgets: (screens after the feed, the result page included; taps).
JOURNEYS = {
    "read-the-feed": (1, 1),
    "post-a-request": (3, 7),
    "answer-a-request": (3, 4),
    "borrow-an-object": (3, 7),
    "rsvp-to-an-outing": (3, 3),
}


def _journey_id(name: str) -> str:
    screens, taps = JOURNEYS[name]
    if name == "read-the-feed":
        return f"{name}-{screens}screen-{taps}tap"
    return f"{name}-{screens - 1}screens+result-{taps}taps"


@dataclass
class Demo:
    server: LiveServer
    paths: dict[str, str]


@pytest.fixture(scope="module")
def demo(backend, dead_tile_url) -> Iterator[Demo]:
    """The app served on loopback with the demo neighbourhood, for the whole module (as
    tests/e2e/conftest.py's ``live_server``, seeded once)."""
    (artifacts_dir() / "journeys.txt").unlink(missing_ok=True)  # this run's counts only
    with serve(backend, dead_tile_url, "© OpenStreetMap contributors") as live:
        yield Demo(server=live, paths=live.seed_demo())


def _signed_in(demo: Demo, new_context, lang: str, viewport: str) -> Page:
    page = new_context(lang, viewport=VIEWPORTS[viewport]).new_page()
    log_in(page, demo.server, lang, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(demo.server.url + "/")  # the feed, as on opening the app again
    return page


def _nav(page: Page, lang: str) -> Locator:
    return page.get_by_role("navigation", name=tr(lang, "Navigation principale"))


def _posts(page: Page) -> Locator:
    """The posts of the feed in order: the alerts' strip items, then the cards."""
    return page.locator(".alert-strip__item, .cards--feed > li")


@pytest.mark.postgis_only
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_first_posts_are_on_the_first_screen(
    demo, new_context, lang, viewport, record_property
):
    page = _signed_in(demo, new_context, lang, viewport)
    size = VIEWPORTS[viewport]
    nav = _nav(page, lang)
    expect(nav).to_be_visible()
    entries = nav.get_by_role("link")
    assert entries.count() <= NAV_MAX
    expect(nav.get_by_role("link", name=tr(lang, "Publier"), exact=True)).to_be_in_viewport()
    bar = nav.bounding_box()
    if viewport == "phone":  # a bar fixed at the bottom of the screen
        assert round(bar["y"] + bar["height"]) == size["height"]
        for i in range(entries.count()):
            box = entries.nth(i).bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, entries.nth(i).inner_text()
        visible_to = bar["y"]  # what the bar leaves of the screen
    else:
        assert bar["y"] < 100  # one row in the header
        visible_to = size["height"]

    posts = _posts(page)
    assert posts.count() >= 2
    tops = [round(posts.nth(i).bounding_box()["y"]) for i in range(2)]
    line = f"first screen {lang} {viewport}: the first two posts start at {tops} px"
    line += f" (screen: {round(visible_to)} px)"
    print("\n" + line)
    record_property("figure", line)
    assert all(top < visible_to for top in tops), tops
    # Compact, still readable: 16 px and more for titles and bylines.
    for selector in (".cards--feed h3", ".cards--feed .card__by", ".chip"):
        px = page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert px >= 16, (selector, px)
    assert (
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        <= 0
    )
    shots = artifacts_dir()
    page.screenshot(path=shots / f"{lang}-feed-{viewport}.png")
    if viewport == "phone":
        for name, path in (("publish", "/publish"), ("more", "/more")):
            page.goto(demo.server.url + path)
            page.screenshot(path=shots / f"{lang}-{name}-phone.png")


@dataclass
class Journey:
    """Counts what a neighbour does from the feed: pages loaded and taps."""

    page: Page
    screens: int = 0
    taps: int = 0
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("load", self._loaded)

    def _loaded(self, _page) -> None:
        self.screens += 1

    def stop(self) -> None:
        self.page.wait_for_load_state()
        self.page.remove_listener("load", self._loaded)

    def go(self, target: Locator) -> None:
        """A tap that opens a page (a link, or a button that sends a form)."""
        with self.page.expect_navigation():
            target.click()
        self.taps += 1

    def type(self, target: Locator, text: str) -> None:
        target.fill(text)  # one tap on the field, then the keyboard
        self.taps += 1

    def pick(self, target: Locator, *, label: str | None = None, day=None) -> None:
        """A list or a date: open it, choose."""
        if label is not None:
            target.select_option(label=label)
        else:
            target.fill(day.isoformat())
        self.taps += 2


def _feed_link(page: Page, href: str) -> Locator:
    return page.locator(f'.cards--feed a[href="{href}"]')


def _ids_on_page(page: Page, kind: str) -> list[int]:
    links = page.locator(f'.cards--feed a[href^="/{kind}/"]')
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    found = [re.fullmatch(rf"/{kind}/(\d+)", href) for href in hrefs]
    return [int(m.group(1)) for m in found if m]


def _first_open(demo: Demo, kind: str, ids: list[int]) -> str:
    """The first post of the page that camille can still act on (answer, borrow, come)."""
    with demo.server.app.app_context():
        me = db.session.scalars(select(Member).filter_by(email=DEMO_EMAIL)).one()
        for post_id in ids:
            if kind == "exchanges":
                e = db.session.get(Exchange, post_id)
                if (
                    e.kind == "request"
                    and e.status == "open"
                    and e.author_id != me.id
                    and all(r.author_id != me.id for r in e.responses)
                ):
                    return f"/exchanges/{post_id}"
            elif kind == "objects":
                item = db.session.get(Item, post_id)
                busy = db.session.scalars(
                    select(Loan).where(Loan.item_id == post_id, Loan.due >= today())
                ).first()
                if item.available and item.author_id != me.id and busy is None:
                    return f"/objects/{post_id}"
            else:
                event = db.session.get(Event, post_id)
                mine = db.session.scalars(
                    select(Rsvp).where(Rsvp.event_id == post_id, Rsvp.member_id == me.id)
                ).first()
                going = sum(1 for r in event.rsvps if r.going)
                if (
                    event.starts_at > utcnow()
                    and event.author_id != me.id
                    and mine is None
                    and (event.capacity is None or going < event.capacity)
                ):
                    return f"/events/{post_id}"
    pytest.fail(f"no {kind} left for camille to act on in the demo feed")


def _run(demo: Demo, page: Page, lang: str, name: str) -> Journey:
    j = Journey(page)
    if name == "read-the-feed":
        first = page.locator(".cards--feed > li h3 a").first
        title = first.inner_text()
        j.go(first)
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
    elif name == "post-a-request":
        title = {"fr": "Porter un canapé samedi", "en": "Carry a sofa on Saturday"}[lang]
        j.go(_nav(page, lang).get_by_role("link", name=tr(lang, "Publier"), exact=True))
        j.go(page.get_by_role("link", name=tr(lang, "Demander un coup de main"), exact=True))
        j.type(page.get_by_label(tr(lang, "Titre"), exact=True), title)
        j.type(
            page.get_by_label(tr(lang, "Description"), exact=True),
            "Du 3e au rez-de-chaussée, 10 minutes.",
        )
        j.pick(page.get_by_label(tr(lang, "Catégorie"), exact=True), label=tr(lang, "Déménagement"))
        j.go(page.get_by_role("main").get_by_role("button", name=tr(lang, "Publier")))
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.locator(".flash--success")).to_be_visible()
    elif name == "answer-a-request":
        j.go(page.get_by_role("link", name=tr(lang, "Échanges"), exact=True))
        target = _first_open(demo, "exchanges", _ids_on_page(page, "exchanges"))
        j.go(_feed_link(page, target))
        j.type(page.get_by_label(tr(lang, "Votre message")), "Je passe demain vers 10 h.")
        j.go(page.get_by_role("button", name=tr(lang, "Je peux vous aider")))
        expect(page.get_by_role("heading", name=tr(lang, "Votre réponse"))).to_be_visible()
    elif name == "borrow-an-object":
        with demo.server.app.app_context():
            start = today() + timedelta(days=3)
        j.go(page.get_by_role("link", name=tr(lang, "Objets"), exact=True))
        target = _first_open(demo, "objects", _ids_on_page(page, "objects"))
        j.go(_feed_link(page, target))
        form = page.get_by_role("form", name=tr(lang, "Emprunter cet objet"))
        j.pick(form.get_by_label(tr(lang, "Du"), exact=True), day=start)
        j.pick(form.get_by_label(tr(lang, "Au"), exact=True), day=start + timedelta(days=2))
        j.go(form.get_by_role("button", name=tr(lang, "Demander à emprunter")))
        expect(page.locator(".flash--success")).to_be_visible()
    else:  # rsvp-to-an-outing
        j.go(page.get_by_role("link", name=tr(lang, "Sorties"), exact=True))
        target = _first_open(demo, "events", _ids_on_page(page, "events"))
        j.go(_feed_link(page, target))
        j.go(page.get_by_role("button", name=tr(lang, "J'y vais")))
        expect(page.get_by_role("button", name=tr(lang, "J'y vais"))).to_have_attribute(
            "aria-pressed", "true"
        )
    j.stop()
    return j


@pytest.mark.postgis_only
@pytest.mark.parametrize("name", list(JOURNEYS), ids=[_journey_id(n) for n in JOURNEYS])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_daily_journey_from_the_feed_on_a_phone(demo, new_context, lang, name, record_property):
    page = _signed_in(demo, new_context, lang, "phone")
    journey = _run(demo, page, lang, name)
    line = f"{lang} {name}: {journey.screens} screens (result included), {journey.taps} taps"
    print("\n" + line)
    record_property("figure", "journey " + line)
    with open(artifacts_dir() / "journeys.txt", "a", encoding="utf-8") as out:
        out.write(line + "\n")
    if name == "post-a-request":  # the target: the chooser, the form, then it is posted
        assert journey.screens - 1 <= 2
    assert (journey.screens, journey.taps) == JOURNEYS[name], (
        f"{line}: the budget in this test's name says {JOURNEYS[name]}"
    )
