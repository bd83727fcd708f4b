"""Browser tests: the real app served on loopback, driven by Debian's Chromium through
Playwright.

- Chromium is ``/usr/bin/chromium`` (``PEUPLADE_E2E_CHROMIUM`` overrides it). Playwright
  never downloads a browser here; without Chromium the tests FAIL, saying what to
  install (``make chromium`` or ``apt-get install chromium``).
- Each test gets its own app and server (werkzeug, threaded, on a port the system
  chooses: pytest-xdist workers never collide), on the session's backend, with CSRF
  on. Tables are emptied afterwards, as ``make_app`` does.
- Map tiles point at a loopback port where nothing answers, so no internet is needed
  and the "tiles unreachable" path is what the pages go through (the accessibility
  and screenshot test overrides ``tile_url`` with tests/fake_tiles.py, so the maps
  in the screenshots look like maps).
- Screenshots go to ``PEUPLADE_E2E_ARTIFACTS`` (default ``test-artifacts/e2e``).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.support import Translations
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from peuplade import create_app
from peuplade.extensions import db
from tests.conftest import PASSWORD, _empty_tables, _test_config

# Playwright must use the system's Chromium: never fetch one of its own.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

try:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
except ImportError as exc:  # pragma: no cover - a broken install, said plainly
    raise ImportError(
        "The browser tests need Playwright for Python: pip install -e '.[test]'"
    ) from exc

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PEUPLADE_E2E_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
DEMO_PASSWORD = "voisins de la rue des Dames"  # peuplade.demo.cli.DEMO_PASSWORD
DEMO_EMAIL = "camille.b@demo.example.org"  # first of data/demo-members.json

_ENGLISH = Translations.load(str(ROOT / "translations"), ["en"])


def tr(lang: str, french: str, **values) -> str:
    """A visible text as the page shows it in ``lang``: the French source, or its English
    translation from the catalog (so the tests follow the .po without repeating it)."""
    text = _ENGLISH.gettext(french) if lang == "en" else french
    return text % values if values else text


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("PEUPLADE_E2E_ARTIFACTS", ROOT / "test-artifacts" / "e2e"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chromium_args() -> list[str]:
    # Chromium refuses to start as root with its sandbox (containers, CI).
    return [*(["--no-sandbox"] if os.geteuid() == 0 else []), "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests (tests/e2e) need Debian's Chromium. "
            "Install it with `make chromium` (or `sudo apt-get install chromium`), or point "
            "PEUPLADE_E2E_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=_chromium_args()
    )
    yield browser
    browser.close()


@contextmanager
def _contexts(open_context) -> Iterator:
    """``factory(lang, **options)``: a browser context from ``open_context(index, lang,
    options)`` (desktop-sized unless ``viewport`` is given, 10 s timeouts); every one is
    closed on leaving."""
    contexts: list[BrowserContext] = []

    def factory(lang: str = "fr", **options) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        context = open_context(len(contexts), lang, options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    try:
        yield factory
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def profile_context(playwright, tmp_path) -> Iterator:
    """``profile_context(lang, **options)``: Chromium with a profile of its own on disk,
    as a person's browser is, where ``new_context`` gives incognito-like contexts (which
    Chromium will not install an app from); closed after the test."""

    def launch(index: int, lang: str, options: dict) -> BrowserContext:
        return playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{index}"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=_chromium_args(),
            locale=LOCALES[lang],
            **options,
        )

    with _contexts(launch) as factory:
        yield factory


@pytest.fixture(scope="session")
def dead_tile_url() -> Iterator[str]:
    """A tile URL on a loopback port that is bound but never listens: connections are
    refused at once, and no other process can take the port meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        yield f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"


@pytest.fixture(scope="module")
def fake_tiles():
    """Map tiles drawn locally from data/ (tests/fake_tiles.py), for the modules whose
    ``tile_url`` shows a real map (screenshots, axe, the CSP scan)."""
    from tests.fake_tiles import FakeTiles

    with FakeTiles() as tiles:
        yield tiles


class QuietHandler(WSGIRequestHandler):
    """No access log line per request: a failing test's output stays readable."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@dataclass
class LiveServer:
    app: Flask
    url: str

    def seed_demo(self) -> dict[str, str]:
        """The demo neighbourhood (``flask seed-demo``), plus one conversation so the
        messages pages have something to show. Returns a few paths worth visiting as
        the first demo member (DEMO_EMAIL)."""
        result = self.app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        from sqlalchemy import select

        from peuplade.messages import services as messages
        from peuplade.models import Exchange, Member

        with self.app.app_context():
            camille = db.session.scalars(select(Member).filter_by(email=DEMO_EMAIL)).one()
            others = db.session.scalars(
                select(Member).where(Member.id != camille.id).order_by(Member.id).limit(5)
            ).all()
            other = next(m for m in others if messages.may_write(m, camille))
            conversation = messages.start(other, camille, "Bonjour ! Tu as toujours la perceuse ?")
            messages.write(conversation, camille, "Oui, passe quand tu veux.")
            messages.write(conversation, other, "Merci, à samedi !")
            db.session.commit()
            exchanges = db.session.scalars(select(Exchange).order_by(Exchange.id)).all()
            mine = next(e for e in exchanges if e.author_id == camille.id and e.responses)
            theirs = next(e for e in exchanges if e.author_id != camille.id and e.status == "open")
            return {
                "exchange_mine": f"/exchanges/{mine.id}",
                "exchange_theirs": f"/exchanges/{theirs.id}",
                "conversation": f"/messages/{conversation.id}",
            }


@pytest.fixture
def tile_url(dead_tile_url) -> str:
    """The map tiles of the live server: unreachable unless a test module overrides it."""
    return dead_tile_url


@pytest.fixture
def tile_attribution() -> str:
    return "© OpenStreetMap contributors"


@pytest.fixture
def live_server_config() -> dict:
    """More settings of the live server (a module sends its e-mails to ``smtp``...)."""
    return {}


@contextmanager
def serve(backend: str, tile_url: str, tile_attribution: str, **settings) -> Iterator[LiveServer]:
    """The real app (CSRF on) served on a loopback port the system chooses; on leaving,
    the server stops and the tables are emptied, as ``make_app`` does."""
    app = create_app(
        _test_config(
            backend,
            WTF_CSRF_ENABLED=True,  # the real forms, tokens and all
            MAP_TILE_URL=tile_url,
            MAP_TILE_ATTRIBUTION=tile_attribution,
            **settings,
        )
    )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


@pytest.fixture
def live_server(backend, tile_url, tile_attribution, live_server_config) -> Iterator[LiveServer]:
    with serve(backend, tile_url, tile_attribution, **live_server_config) as server:
        yield server


@pytest.fixture
def new_context(browser) -> Iterator:
    """``new_context(lang, **options)``: a fresh browser context (its own cookies) whose
    Accept-Language asks for ``lang`` first; closed after the test."""
    with _contexts(
        lambda _, lang, options: browser.new_context(locale=LOCALES[lang], **options)
    ) as factory:
        yield factory


def log_in(page: Page, server: LiveServer, lang: str, email: str, password: str = PASSWORD):
    page.goto(server.url + "/login")
    page.get_by_label(tr(lang, "Adresse e-mail"), exact=True).fill(email)
    page.get_by_label(tr(lang, "Mot de passe"), exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name=tr(lang, "Se connecter")).click()
    page.wait_for_load_state()
    assert "/login" not in page.url, "login failed"
    # A member's own language setting (the demo members': French) outranks the browser's:
    # choose ``lang`` with the header's switch, as a member would.
    if page.locator("html").get_attribute("lang") != lang:
        switch = page.get_by_role(
            "group", name=tr(page.locator("html").get_attribute("lang"), "Langue")
        )
        switch.get_by_role("button", name={"fr": "Français", "en": "English"}[lang]).click()
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang
