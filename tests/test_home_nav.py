"""The main navigation (at most five entries for a member: Fil, Publier, Messages,
Notifications, Plus, with the unread counts and an inline SVG bell), the "Plus" page that
holds every other page (moderation for moderators only), the "Publier" chooser that
leads to every kind of post's form (posting for a neighbour without internet included),
and the page description search engines read. French and English."""

from __future__ import annotations

import html
import re

import pytest

from peuplade.extensions import db
from peuplade.messages import services as messages
from peuplade.moderation import services as moderation
from tests.conftest import BATIGNOLLES, CLICHY
from tests.helpers.browsers import as_member
from tests.helpers.pages import text_of

ENGLISH = {"Accept-Language": "en"}
HEADERS = {"fr": {}, "en": ENGLISH}


def _nav(page: str) -> str:
    found = re.search(r'<nav class="main-nav[^"]*" id="main-nav".*?</nav>', page, re.S)
    assert found, "no main navigation"
    return found.group(0)


def _hrefs(fragment: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'<a [^>]*href="([^"]*)"', fragment)]


def _section(page: str, heading_id: str) -> str:
    """The <section> labelled by the heading ``heading_id``."""
    found = re.search(rf'<section [^>]*aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert found, heading_id
    return found.group(0)


@pytest.fixture
def pair(app, make_member):
    anne = make_member("Anne", at=BATIGNOLLES, email="anne@example.org")
    bruno = make_member("Bruno", at=CLICHY, email="bruno@example.org")
    return anne, bruno


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_member_has_five_entries_with_unread_counts_and_an_svg_bell(app, pair, lang):
    anne, bruno = pair
    messages.start(bruno, anne, "Bonjour Anne, tu as une échelle ?")  # a message, a notification
    db.session.commit()
    browser = as_member(app, anne)
    page = browser.get("/", headers=HEADERS[lang]).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    nav = _nav(page)
    assert nav.count("<li>") == 5
    assert _hrefs(nav) == ["/", "/publish", "/messages", "/notifications", "/more"]
    words = {
        "fr": ["Fil", "Publier", "Messages (1 non lu)", "Notifications (1 nouvelle)", "Plus"],
        "en": ["Feed", "Post", "Messages (1 unread)", "Notifications (1 new)", "More"],
    }[lang]
    entries = [text_of(li) for li in re.findall(r"<li>(.*?)</li>", nav, re.S)]
    assert [e.replace(" 1 (", " (") for e in entries] == words  # the number, then its words
    # The bell: a drawing hidden from screen readers, beside its word; no emoji.
    bell = re.search(r'<a [^>]*href="/notifications".*?</a>', nav, re.S).group(0)
    assert re.search(r'<svg class="icon"[^>]*aria-hidden="true"', bell)
    assert "🔔" not in page and "&#128276;" not in page
    assert nav.count("<svg") == 5 and nav.count('aria-hidden="true"') >= 5
    assert 'aria-current="page"' in re.search(r'<a [^>]*href="/"[^>]*>', nav).group(0)
    # Everything else moved to "Plus": no logout button nor "Mes voisins" in the bar.
    assert "/logout" not in nav and "/neighbours" not in nav
    assert 'class="lang-switch"' in page  # the language stays one tap away
    assert "menu.js" not in page


def test_no_count_when_everything_is_read(app, pair):
    anne, _ = pair
    nav = _nav(as_member(app, anne).get("/more").get_data(as_text=True))
    assert "tab__count" not in nav
    assert 'aria-current="page"' in re.search(r'<a [^>]*href="/more"[^>]*>', nav).group(0)
    # The lists "Plus" leads to keep it marked: one knows where one is; but it is not
    # "the current page" there (aria-current="true", not "page").
    browser = as_member(app, anne)
    for path in ("/map", "/neighbours", "/account"):
        nav = _nav(browser.get(path).get_data(as_text=True))
        assert re.findall(r'<a [^>]*href="([^"]*)"[^>]*aria-current="true"', nav) == ["/more"]
        assert 'aria-current="page"' not in nav


def test_the_kept_navigation_follows_the_counts_the_page_and_the_language(app, pair):
    """The members' navigation is rendered once and kept (peuplade.fragments) under
    everything it shows: a new message, a message read, another page or language is
    another navigation at once, never a stale count or entry."""
    anne, bruno = pair
    browser = as_member(app, anne)
    assert "tab__count" not in _nav(browser.get("/more").get_data(as_text=True))
    conversation = messages.start(bruno, anne, "Bonjour Anne, tu as une échelle ?")
    db.session.commit()
    nav = _nav(browser.get("/more").get_data(as_text=True))
    assert "Messages 1 (1 non lu)" in text_of(nav) and "(1 nouvelle)" in text_of(nav)
    browser.get(f"/messages/{conversation.id}")  # read: the message and its notification
    nav = _nav(browser.get("/more").get_data(as_text=True))
    assert "tab__count" not in nav
    assert 'aria-current="page"' in re.search(r'<a [^>]*href="/more"[^>]*>', nav).group(0)
    nav = _nav(browser.get("/").get_data(as_text=True))
    assert 'aria-current="page"' in re.search(r'<a [^>]*href="/"[^>]*>', nav).group(0)
    assert "aria-current" not in re.search(r'<a [^>]*href="/more"[^>]*>', nav).group(0)
    english = _nav(browser.get("/more", headers=ENGLISH).get_data(as_text=True))
    assert "More" in text_of(english) and "Plus" not in text_of(english)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_visitors_keep_login_register_and_the_language(client, lang):
    page = client.get("/", headers=HEADERS[lang]).get_data(as_text=True)
    nav = _nav(page)
    assert _hrefs(nav) == ["/login", "/register"]
    assert "main-nav--tabs" not in page and 'class="with-tabs"' not in page
    switch = re.search(r'<div class="lang-switch".*?</div>', page, re.S).group(0)
    assert switch.count("<form") == 2
    for path in ("/publish", "/more"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")


PLUS = {
    "/account",
    "/account/avatar",
    "/exchanges/mine",
    "/objects/mine",
    "/loans",
    "/neighbours",
    "/for-you",
    "/exchanges",
    "/objects",
    "/news",
    "/events",
    "/map",
    "/board",
    "/publish#behalf-title",
    "/privacy",
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_plus_page_leads_everywhere_else_moderation_for_moderators(
    app, pair, make_quartier, lang
):
    anne, bruno = pair
    quartier = make_quartier("batignolles", around=BATIGNOLLES)
    moderation.appoint(bruno, quartier.id)
    db.session.commit()

    page = as_member(app, anne).get("/more", headers=HEADERS[lang]).get_data(as_text=True)
    main = page.split('<main id="contenu"', 1)[1]
    assert set(_hrefs(main)) == PLUS
    assert 'action="/logout"' in main
    # Each destination says in a sentence what it is for.
    assert main.count('class="more-entry__help"') == len(PLUS)
    assert "/moderation" not in page

    modo = as_member(app, bruno).get("/more", headers=HEADERS[lang]).get_data(as_text=True)
    modo_main = modo.split('<main id="contenu"', 1)[1]
    assert set(_hrefs(modo_main)) == PLUS | {"/moderation"}
    assert "/moderation" not in _nav(modo)  # the bar stays at five
    words = {"fr": ("Mon profil", "Mes voisins", "Se déconnecter"), "en": ("My profile",)}[lang]
    for word in words:
        assert word in text_of(main), word
    assert f'<html lang="{lang}">' in page


CHOICES = {
    "request": "/exchanges/new?kind=request",
    "offer": "/exchanges/new?kind=offer",
    "item": "/objects/new",
    "news": "/news/new",
    "lost": "/news/new?kind=perdu_trouve",
    "alert": "/news/new?kind=alerte",
    "event": "/events/new",
    "behalf": "/exchanges/new?kind=request",
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_publier_is_one_chooser_for_every_kind(app, pair, lang):
    anne, _ = pair
    browser = as_member(app, anne)
    page = browser.get("/publish", headers=HEADERS[lang]).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    for choice, target in CHOICES.items():
        item = re.search(rf'<li class="choice" id="choice-{choice}">.*?</li>', page, re.S)
        assert item, choice
        assert _hrefs(item.group(0)) == [target], choice
        help_text = re.search(r'<p class="choice__help"[^>]*>(.*?)</p>', item.group(0), re.S)
        assert len(text_of(help_text.group(1))) > 20, choice  # a sentence of help
    # Posting for a neighbour without internet: its own section, saying where the
    # form asks for the neighbour's name.
    behalf = _section(page, "behalf-title")
    assert "choice-behalf" in behalf
    if lang == "fr":
        assert "Pour qui ?" in text_of(behalf)
    assert 'aria-current="page"' in re.search(r'<a [^>]*href="/publish"[^>]*>', _nav(page)).group(0)

    # Each form opens with its kind chosen.
    def checked(path: str, name: str) -> str:
        form = browser.get(path, headers=HEADERS[lang])
        assert form.status_code == 200, path
        tag = re.search(rf'<input type="radio" name="{name}" value="(\w+)"[^>]*checked', form.text)
        return tag.group(1)

    assert checked(CHOICES["request"], "kind") == "request"
    assert checked(CHOICES["offer"], "kind") == "offer"
    assert checked(CHOICES["lost"], "kind") == "perdu_trouve"
    assert checked(CHOICES["alert"], "kind") == "alerte"
    for path in (CHOICES["item"], CHOICES["news"], CHOICES["event"]):
        assert browser.get(path).status_code == 200, path


def test_every_page_has_a_description_a_page_may_say_its_own(app, client, pair):
    def description(page: str) -> str:
        found = re.search(r'<meta name="description" content="([^"]+)">', page)
        assert found
        return html.unescape(found.group(1))

    login = description(client.get("/login").get_data(as_text=True))
    assert "entraide entre voisins" in login
    assert description(client.get("/login", headers=ENGLISH).get_data(as_text=True))
    anne, _ = pair
    chooser = description(as_member(app, anne).get("/publish").get_data(as_text=True))
    assert chooser != login and "prêter un objet" in chooser
