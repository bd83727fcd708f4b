"""The installed app in Chromium (peuplade/pwa): installable (the DevTools protocol's
``Page.getInstallabilityErrors`` finds nothing), the feed read offline after a visit
with its "Hors ligne — vu à ..." and its photo, any other page answered by the offline
page, and nothing of the member's left in the browser's caches after logging out.

The network is switched off by Playwright (``context.set_offline``), as a phone in a
cellar or a lift; the live server keeps running."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.models import Member
from peuplade.photos import services as photos
from tests.e2e.conftest import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    PHONE,
    LiveServer,
    artifacts_dir,
    log_in,
    tr,
)
from tests.photofiles import jpeg_bytes

TITLE = "Perceuse à percussion à prêter ce week-end"
NOTE = {
    "fr": r"^Hors ligne — vu à \d{1,2} h \d{2}\s*$",
    "en": r"^Offline — seen at \d{2}:\d{2}\s*$",
}
# (The patterns are matched in the browser, by JavaScript: \w is ASCII there.)
NOTE_EARLIER = {
    "fr": r"^Hors ligne — vu le \d{1,2} \S+ \d{4} à \d{1,2} h \d{2}\s*$",
    "en": r"^Offline — seen on \S+ \d{1,2}, \d{4} at \d{2}:\d{2}\s*$",
}
# The kept page as if seen on another day (the worker compares it with today's).
_SEEN_LONG_AGO = """async () => {
  const cache = await caches.open("peuplade-feed");
  const kept = await cache.match("/");
  const html = (await kept.text())
    .replace(/data-offline-day="[^"]+"/, 'data-offline-day="2000-01-01"');
  await cache.put("/", new Response(html, { headers: kept.headers }));
}"""

_CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(name + " " + request.url);
  }
  return urls;
}"""


def _a_photographed_offer_near_camille(server: LiveServer) -> None:
    """The newest post of Camille's feed: a neighbour's offer, with a photo."""
    with server.app.app_context():
        camille = db.session.scalars(select(Member).filter_by(email=DEMO_EMAIL)).one()
        neighbour = db.session.scalars(
            select(Member).where(Member.id != camille.id).order_by(Member.id)
        ).first()
        offer = exchanges.create_exchange(
            neighbour,
            exchanges.ExchangeInput(
                kind="offer", title=TITLE, body="Avec sa mallette et deux forets.",
                category="bricolage",
            ),
        )  # fmt: skip
        photos.add_photo(offer, jpeg_bytes(), "La perceuse dans sa mallette", neighbour)
        db.session.commit()


def _wait(page: Page, script: str, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.1)


def _controlled_and_kept(page: Page, server: LiveServer) -> None:
    """The worker installed and controlling the page, and the feed kept by it."""
    page.goto(server.url + "/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now through the worker, which keeps the page
    _wait(page, "!!navigator.serviceWorker.controller", "the worker to control the page")
    _wait(
        page,
        "caches.match('/', {cacheName: 'peuplade-feed'}).then((r) => !!r)",
        "the feed to be kept",
    )


@pytest.mark.postgis_only
def test_peuplade_is_installable(live_server, profile_context):
    live_server.seed_demo()
    context = profile_context("fr", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.pages[0]
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    _controlled_and_kept(page, live_server)
    cdp = context.new_cdp_session(page)
    answer = cdp.send("Page.getInstallabilityErrors")
    assert answer["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.fr.webmanifest") and not manifest["errors"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_feed_reads_offline_and_nothing_is_left_after_logging_out(
    live_server, profile_context, lang
):
    live_server.seed_demo()
    _a_photographed_offer_near_camille(live_server)
    context = profile_context(lang, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.pages[0]
    log_in(page, live_server, lang, DEMO_EMAIL, DEMO_PASSWORD)
    _controlled_and_kept(page, live_server)
    titles = page.locator(".card--timeline h3").all_inner_texts()
    assert titles[0] == TITLE, titles[:3]
    assert page.locator(".offline-note").is_hidden()  # online: no note
    _wait(
        page,
        "caches.open('peuplade-feed').then((c) => c.keys()).then((k) => k.length >= 2)",
        "the feed's photo to be kept",
    )

    # Offline: the feed as it was seen, its note, its photo.
    context.set_offline(True)
    page.goto(live_server.url + "/")
    note = page.locator(".offline-note")
    expect(note).to_be_visible()
    expect(note).to_have_text(re.compile(NOTE[lang]), use_inner_text=True)
    assert page.locator(".card--timeline h3").all_inner_texts() == titles
    photo = page.locator("img.card__photo").first
    expect(photo).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", photo.element_handle())
    page.screenshot(path=str(artifacts_dir() / f"pwa-offline-feed-{lang}-phone.png"))
    # Seen on an earlier day, the note says which.
    page.evaluate(_SEEN_LONG_AGO)
    page.goto(live_server.url + "/")
    expect(note).to_have_text(re.compile(NOTE_EARLIER[lang]), use_inner_text=True)
    # Another page, never kept: the offline page, in the member's language.
    page.goto(live_server.url + "/exchanges")
    expect(page.get_by_role("heading", name=tr(lang, "Vous êtes hors ligne."))).to_be_visible()
    assert page.locator("html").get_attribute("lang") == lang
    page.screenshot(path=str(artifacts_dir() / f"pwa-offline-page-{lang}-phone.png"))

    # Back online, logging out leaves nothing of the member's in the browser's caches.
    context.set_offline(False)
    page.goto(live_server.url + "/more")
    page.get_by_role("button", name=tr(lang, "Se déconnecter")).click()
    page.wait_for_load_state()
    expect(page.get_by_role("link", name=tr(lang, "Se connecter")).first).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # registered again
    kept = page.evaluate(_CACHED_URLS)
    assert not [u for u in kept if "peuplade-feed" in u or "/photos/" in u], kept
    assert all("/static/" in u or "/offline/" in u for u in kept), kept
    # Offline again, the feed's address no longer shows the member's feed.
    page.reload()
    _wait(page, "!!navigator.serviceWorker.controller", "the new worker to control the page")
    context.set_offline(True)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name=tr(lang, "Vous êtes hors ligne."))).to_be_visible()
    assert TITLE not in page.content()
