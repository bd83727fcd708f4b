"""Paper, in a real browser: the lobby board of a busy neighbourhood (the demo's, with
the most requests and outings a board shows, the longest texts, the longest contact)
prints on ONE A4 page, with its QR code, the contact of the neighbour who prints it and
the tear-off strips at the foot of the page, none of the site's navigation or forms; an
exchange prints as a notice with its address."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from peuplade.board.forms import FLOOR_MAX
from peuplade.board.queries import EVENTS_MAX, REQUESTS_MAX
from peuplade.board.routes import STRIPS, short_address
from tests.e2e.conftest import DEMO_EMAIL, DEMO_PASSWORD, artifacts_dir, log_in, tr

PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
# What print.css prints on: an A4 sheet inside its 12 mm margins (186 x 273 mm), in CSS
# pixels (96 per inch), for the print screenshots.
A4_PRINTABLE = {"width": 703, "height": 1032}


def _longest_texts(server) -> None:
    """Every open request at its longest title and posted for a neighbour with the longest
    name: the board's worst case."""
    from sqlalchemy import select

    from peuplade.exchanges.services import BEHALF_MAX, TITLE_MAX
    from peuplade.extensions import db
    from peuplade.models import Exchange, utcnow

    tail = " : avec un peu de patience et quelques outils, merci d'avance à tous les voisins"
    name = "Mme Dupont-Lefèvre, ma voisine du deuxième étage, porte gauche, au fond de la cour"
    with server.app.app_context():
        for e in db.session.scalars(select(Exchange).where(Exchange.kind == "request")):
            e.title = (e.title + tail)[:TITLE_MAX]
            e.on_behalf_of, e.behalf_consent_at = name[:BEHALF_MAX], utcnow()
        db.session.commit()


@pytest.mark.postgis_only
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_lobby_board_prints_on_one_page(live_server, new_context, lang):
    paths = live_server.seed_demo()
    _longest_texts(live_server)
    page = new_context(lang).new_page()
    log_in(page, live_server, lang, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(live_server.url + "/more")
    page.get_by_role("link", name=tr(lang, "Imprimer une affiche pour le hall")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Affiche pour le hall de l'immeuble")
    )
    # The first name is offered; the floor (at its longest) and a phone number are typed.
    expect(page.get_by_label(tr(lang, "Votre prénom"))).to_have_value("Camille B.")
    floor = ("4e étage, porte du fond à gauche après l'ascenseur" * 2)[:FLOOR_MAX]
    page.get_by_label(tr(lang, "Votre étage ou votre porte")).fill(floor)
    page.get_by_label(tr(lang, "Votre numéro de téléphone")).fill("+33 6 12 34 56 78")
    page.get_by_role("button", name=tr(lang, "Mettre à jour l'affiche")).click()
    # POSTed, never in an address (the server's port may hold any digits: not the host).
    address = urlsplit(page.url)
    assert address.path == "/board" and address.query == "" and address.fragment == ""
    board = page.locator("article.board")
    # The demo is busy enough to fill the board: as many requests and outings as it shows.
    expect(board.locator("section").nth(0).locator("li")).to_have_count(REQUESTS_MAX)
    expect(board.locator("section").nth(1).locator("li")).to_have_count(EVENTS_MAX)
    expect(board.locator("footer")).to_contain_text(f"Camille B., {floor.strip()}, 06 12 34 56 78")
    site = short_address(live_server.app.config["PUBLIC_URL"])
    expect(board.locator("footer")).to_contain_text(site)
    strips = board.locator(".board__strip")
    expect(strips).to_have_count(STRIPS)
    expect(strips.first).to_contain_text("06 12 34 56 78")
    qr = board.get_by_role("img", name=tr(lang, "Code QR : inscription sur %(site)s", site=site))
    expect(qr).to_be_visible()
    expect(page.get_by_role("button", name=tr(lang, "Imprimer"))).to_be_visible()  # with JS

    page.emulate_media(media="print")
    page.set_viewport_size(A4_PRINTABLE)
    expect(board).to_be_visible()
    for hidden in (".site-header", ".site-footer", "form", ".no-print"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(qr).to_be_visible()
    # All the strips printed, side by side, along the foot of the board, text turned.
    boxes = [strips.nth(i).bounding_box() for i in range(STRIPS)]
    assert all(abs(box["y"] - boxes[0]["y"]) < 1 for box in boxes)
    assert boxes[0]["height"] > 1.5 * boxes[0]["width"]  # vertical strips
    board_box = board.bounding_box()
    assert boxes[0]["y"] + boxes[0]["height"] <= board_box["y"] + board_box["height"] + 1
    assert (
        strips.first.locator(".board__strip-text").evaluate("e => getComputedStyle(e).writingMode")
        == "vertical-rl"
    )
    page.screenshot(path=artifacts_dir() / f"{lang}-board-print.png", full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    (artifacts_dir() / f"{lang}-board.pdf").write_bytes(pdf)
    assert len(PDF_PAGE.findall(pdf)) == 1, "the lobby board must fit on one A4 page"

    # An exchange prints as a notice: its text and address, no navigation nor forms.
    page.emulate_media(media="screen")
    page.goto(live_server.url + paths["exchange_theirs"])
    page.emulate_media(media="print")
    expect(page.locator(".print-only")).to_be_visible()
    expect(page.locator(".print-only")).to_contain_text(live_server.app.config["PUBLIC_URL"])
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("main form").first).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    pdf = page.pdf(format="A4")
    (artifacts_dir() / f"{lang}-exchange.pdf").write_bytes(pdf)
    assert len(PDF_PAGE.findall(pdf)) >= 1
