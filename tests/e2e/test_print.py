"""Paper, in a real browser: the lobby board of a busy neighbourhood (the demo's, with
the most requests and outings a board shows) prints on ONE A4 page, with none of the
site's navigation or forms; an exchange prints as a notice with its address."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from peuplade.board.queries import EVENTS_MAX, REQUESTS_MAX
from tests.e2e.conftest import DEMO_EMAIL, DEMO_PASSWORD, artifacts_dir, log_in, tr

PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


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
    page.get_by_label(tr(lang, "Qui contacter dans l'immeuble")).fill("Camille, 4e étage")
    page.get_by_role("button", name=tr(lang, "Mettre à jour l'affiche")).click()
    board = page.locator("article.board")
    # The demo is busy enough to fill the board: as many requests and outings as it shows.
    expect(board.locator("section").nth(0).locator("li")).to_have_count(REQUESTS_MAX)
    expect(board.locator("section").nth(1).locator("li")).to_have_count(EVENTS_MAX)
    expect(board).to_contain_text("Camille, 4e étage")
    expect(page.get_by_role("button", name=tr(lang, "Imprimer"))).to_be_visible()  # with JS

    page.emulate_media(media="print")
    expect(board).to_be_visible()
    for hidden in (".site-header", ".site-footer", "form", ".no-print"):
        expect(page.locator(hidden).first).to_be_hidden()
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
