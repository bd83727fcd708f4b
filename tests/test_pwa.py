"""The installed app's server side (peuplade/pwa): the manifest, the service worker, the
offline page, the feed page the worker keeps, and the logout that clears it all.

The worker itself runs in Chromium: tests/e2e/test_installed_app.py (installability, reading the
feed offline, nothing kept after logging out)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from peuplade.headers import CLEAR_SITE_DATA, OFFLINE_FORGET, OFFLINE_KEEP
from peuplade.pwa import icons
from peuplade.pwa.routes import SHELL_FILES
from tests.helpers.browsers import as_member
from tests.test_exchanges_html import quick
from tests.test_exchanges_html import street as street  # the fixture

ROOT = Path(__file__).resolve().parents[1]
WORKER = (ROOT / "templates" / "pwa" / "sw.js").read_text()


def _manifest(client, lang: str) -> dict:
    response = client.get(f"/manifest.{lang}.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    return json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("lang", "name"),
    [("fr", "Peuplade : l'entraide entre voisins"), ("en", "Peuplade: neighbours helping")],
)
def test_the_manifest_makes_an_installable_app_in_its_language(app, lang, name):
    manifest = _manifest(app.test_client(), lang)
    assert manifest["lang"] == lang
    assert manifest["name"].startswith(name)
    assert manifest["short_name"] == "Peuplade"
    assert manifest["start_url"] == manifest["scope"] == manifest["id"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0b4f6c" and manifest["background_color"] == "#ffffff"
    purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes


def test_the_manifest_s_icons_are_pngs_of_the_sizes_it_says(app):
    client = app.test_client()
    for icon in _manifest(client, "fr")["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        image = Image.open(io.BytesIO(response.get_data()))
        assert image.format == "PNG"
        assert "{}x{}".format(*image.size) == icon["sizes"]
        if icon["purpose"] == "maskable":
            # Full bleed: the launcher's mask may cut anywhere outside the safe zone.
            assert image.convert("RGBA").getpixel((0, 0))[3] == 255
        else:
            assert image.convert("RGBA").getpixel((0, 0))[3] == 0  # the rounded corner


def test_the_committed_icons_are_what_flask_pwa_icons_draws(app, tmp_path):
    # The files in the repository, against what the drawing code makes now...
    for name, (size, maskable) in icons.files().items():
        committed = Image.open(ROOT / "static" / "icons" / name).convert("RGBA")
        difference = ImageChops.difference(committed, icons.draw(size, maskable)).getbbox()
        assert difference is None, f"static/icons/{name} differs: run flask pwa-icons"
    # ...and the command writes them (into a copy of the static folder, not the repo's).
    kept = app.static_folder
    app.static_folder = str(tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=["pwa-icons"])
    finally:
        app.static_folder = kept
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "icons").iterdir()) == sorted(icons.files())


def test_an_unknown_language_has_no_manifest_nor_offline_page(app):
    client = app.test_client()
    assert client.get("/manifest.de.webmanifest").status_code == 404
    assert client.get("/offline/de").status_code == 404


def test_the_worker_is_served_from_the_root_and_checked_at_each_visit(app):
    response = app.test_client().get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    # What it keeps: the shell's files and the offline pages, by the site's own URLs.
    shell = json.loads(re.search(r"const SHELL_URLS = (\[.*?\]);", body).group(1))
    assert {f"/static/{name}" for name in SHELL_FILES} <= set(shell)
    offline = json.loads(re.search(r"const OFFLINE = (\{.*?\});", body).group(1))
    assert offline == {"fr": "/offline/fr", "en": "/offline/en"}
    assert f"const KEEP_HEADER = {json.dumps(OFFLINE_KEEP[0])};" in body
    assert 'const FEED_PATH = "/";' in body and 'const LOGOUT_PATH = "/logout";' in body
    # Every URL it puts aside at install answers, or the install would fail.
    client = app.test_client()
    for url in [*shell, *offline.values()]:
        assert client.get(url).status_code == 200, url


def test_the_worker_s_version_follows_its_files(app, tmp_path):
    import shutil

    from peuplade.pwa import routes

    first = routes.version()
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert first in app.test_client().get("/sw.js").get_data(as_text=True)
    # A copy of the static folder, changed as a release would change it.
    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static, ignore=shutil.ignore_patterns("vendor"))
    kept = app.static_folder
    app.static_folder = str(static)
    try:
        app.extensions.pop(routes._VERSION)
        assert routes.version() == first  # the same files, the same version
        css = static / "css" / "peuplade.css"
        css.write_bytes(css.read_bytes() + b"\n/* a release */\n")
        app.extensions.pop(routes._VERSION)
        assert routes.version() != first
    finally:
        app.static_folder = kept
        app.extensions.pop(routes._VERSION, None)


def test_every_page_links_the_manifest_and_registers_the_worker(app, street):
    browser = as_member(app, street["author"])
    page = browser.get("/exchanges").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.fr.webmanifest">' in page
    # One address for the worker whatever the language: a new one would install it again.
    assert 'data-worker="/sw.js"' in page
    anonymous = app.test_client().get("/login", headers={"Accept-Language": "en"})
    assert '<link rel="manifest" href="/manifest.en.webmanifest">' in anonymous.get_data(
        as_text=True
    )


def test_the_offline_page_shows_nobody_even_when_asked_by_a_member(app, street):
    author = street["author"]
    browser = as_member(app, author)
    for lang, title in (("fr", "Vous êtes hors ligne."), ("en", "You are offline.")):
        page = browser.get(f"/offline/{lang}").get_data(as_text=True)
        assert f'<html lang="{lang}">' in page
        assert title in page
        assert author.display_name not in page and author.email not in page
        assert "csrf_token" not in page and "/logout" not in page


def test_the_feed_s_first_page_asks_to_be_kept_and_carries_its_hidden_note(app, street):
    browser = as_member(app, street["author"])
    response = browser.get("/")
    assert response.headers.get(OFFLINE_KEEP[0]) == OFFLINE_KEEP[1]
    page = response.get_data(as_text=True)
    # The very markers the worker replaces (templates/pwa/sw.js), once each.
    for marker in re.findall(r"'(data-offline=\"[a-z]+\" hidden)'", WORKER):
        assert page.count(marker) == 1, marker
    # ...and the one of the two days it shows ("today" or "earlier").
    assert """'data-offline="' + when + '" hidden'""" in WORKER
    assert '? "today" : "earlier"' in WORKER
    for shown in ("today", "earlier"):
        assert page.count(f'data-offline="{shown}" hidden') == 1
    day = re.search(r'data-offline-day="(\d{4}-\d{2}-\d{2})"', page).group(1)
    assert re.search(r"Hors ligne — vu à \d{1,2} h \d{2}<", page)
    assert re.search(rf"Hors ligne — vu le \d+ \w+ {day[:4]} à \d{{1,2}} h \d{{2}}<", page)


def test_only_the_feed_s_first_page_is_kept(app, street):
    browser = as_member(app, street["author"])
    for path in ("/timeline", "/?type=exchange", "/?cursor=nonsense", "/exchanges"):
        response = browser.get(path)
        assert OFFLINE_KEEP[0] not in response.headers, path
        assert 'data-offline="note"' not in response.get_data(as_text=True), path
    # Nobody logged in: the welcome page, which makes the worker forget a kept feed.
    welcome = app.test_client().get("/")
    assert welcome.status_code == 200 and welcome.headers[OFFLINE_KEEP[0]] == OFFLINE_FORGET


def test_a_post_cannot_forge_the_markers_the_worker_replaces(app, street):
    quick(street["alice"], title='data-offline="note" hidden data-offline-day="1999-01-01"')
    page = as_member(app, street["author"]).get("/").get_data(as_text=True)
    # The title is on the page, escaped: its quotes are not the markers' quotes.
    assert "data-offline=&#34;note&#34; hidden data-offline-day=&#34;1999-01-01&#34;" in page
    assert page.count('data-offline="note" hidden') == 1
    assert len(re.findall(r'data-offline-day="', page)) == 1


def test_the_note_is_in_english_on_an_english_page(app, street):
    browser = as_member(app, street["author"])
    browser.post("/lang/en", data={"next": "/"})
    page = browser.get("/").get_data(as_text=True)
    assert re.search(r"Offline — seen at \d{2}:\d{2}<", page)
    assert re.search(r"Offline — seen on \w+ \d+, \d{4} at \d{2}:\d{2}<", page)


def test_logging_out_clears_the_site_s_cache_and_storage(app, street):
    browser = as_member(app, street["author"])
    response = browser.post("/logout")
    assert response.status_code == 302
    assert response.headers[CLEAR_SITE_DATA[0]] == CLEAR_SITE_DATA[1]
    # Nothing else asks a browser to clear anything.
    assert CLEAR_SITE_DATA[0] not in browser.get("/").headers


def test_pages_shown_to_nobody_logged_in_ask_the_worker_to_forget_the_feed(app, street):
    """A session that ended elsewhere, or by its age: the next page the browser gets is
    an anonymous one, and the worker forgets the feed it kept for that member."""
    visitor = app.test_client()
    for path in ("/", "/login", "/register", "/no-such-page"):
        assert visitor.get(path).headers.get(OFFLINE_KEEP[0]) == OFFLINE_FORGET, path
    member = as_member(app, street["author"])
    for path in ("/exchanges", "/more", "/no-such-page"):
        assert OFFLINE_KEEP[0] not in member.get(path).headers, path
    assert member.get("/").headers[OFFLINE_KEEP[0]] == OFFLINE_KEEP[1]
    # Not on what is not a page (the worker only reads navigations anyway).
    assert OFFLINE_KEEP[0] not in visitor.get("/static/css/peuplade.css").headers
    # Logging in (maybe someone else on this phone) makes the worker forget too.
    body = visitor.get("/sw.js").get_data(as_text=True)
    assert 'const LOGIN_PATH = "/login";' in body
    assert "url.pathname === LOGOUT_PATH || url.pathname === LOGIN_PATH" in body


def test_pages_say_their_language_for_the_worker_s_offline_page(app, street):
    assert app.test_client().get("/login").headers["Content-Language"] == "fr"
    english = app.test_client().get("/login", headers={"Accept-Language": "en"})
    assert english.headers["Content-Language"] == "en"
    browser = as_member(app, street["author"])
    assert browser.get("/").headers["Content-Language"] == "fr"
    browser.post("/lang/en", data={"next": "/"})
    assert browser.get("/").headers["Content-Language"] == "en"
    assert "Content-Language" not in browser.get("/static/css/peuplade.css").headers
    body = app.test_client().get("/sw.js").get_data(as_text=True)
    assert 'response.headers.get("Content-Language")' in body
