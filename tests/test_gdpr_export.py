"""Export of my data (GDPR arts. 15 and 20): everything about me is in it, my own home
included; nothing that identifies anybody else (art. 20(4)) - no name, e-mail, home
position, or words they wrote - even where we shared a thread."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest

from peuplade.account.tokens import new_token
from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.gdpr import services
from peuplade.gdpr.schemas import ExportOut
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.location import LocationInput
from peuplade.messages import services as messages
from peuplade.models import Member, utcnow
from peuplade.moderation import services as moderation
from peuplade.news import services as news
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER

# Distinctive values: if any of these shows up in my export, someone else leaked in.
OTHER_NAME = "Zéphyrine Quatremains"
OTHER_EMAIL = "zephyrine.quatremains@example.net"
OTHER_BIO = "Présentation très personnelle de Zéphyrine"
THIRD_NAME = "Ulysse Bloquépourdebon"
THEIR_WORDS = [
    "Réponse confidentielle de la voisine",
    "Message privé de la voisine, rien que pour moi",
    "Commentaire écrit par la voisine",
    "Remerciement rédigé par la voisine",
    "Demande d'emprunt rédigée par la voisine",
]
MY_WORDS = [
    "Monter une étagère au salon",
    "Mon offre de coup de main samedi",
    "Mon commentaire sur le vide-grenier",
    "Mon message à la voisine",
    "Ma demande d'emprunt de l'escabeau",
    "Mon merci pour l'étagère",
    "Ce commentaire me semble douteux",
]


def coordinates(point: tuple[float, float]) -> list[str]:
    """A home as it could be written anywhere: each coordinate to 4 decimals."""
    return [f"{point[0]:.4f}", f"{point[1]:.4f}"]


@dataclass
class Neighbourhood:
    me: Member
    other: Member
    third: Member


def populate(make_member) -> Neighbourhood:
    """Me and a neighbour who share one of everything; a third member I block."""
    me = make_member(
        "Anne Export",
        at=BATIGNOLLES,
        email="anne.export@example.org",
        bio="Je répare les vélos.",
        skills=["bricolage"],
        tags=["vélo"],
    )
    other = make_member(
        OTHER_NAME, at=DAMES_LEMERCIER, email=OTHER_EMAIL, bio=OTHER_BIO, skills=["jardinage"]
    )
    third = make_member(THIRD_NAME, at=CLICHY, email="ulysse.bloque@example.net")
    new_token(me)

    # An exchange of mine, answered by the neighbour, who helped and thanked me.
    mine = exchanges.create_exchange(
        me,
        exchanges.ExchangeInput(
            kind="request", title=MY_WORDS[0], body="Perceuse fournie.", category="bricolage"
        ),
    )
    exchanges.respond(mine, other, THEIR_WORDS[0])
    exchanges.close_exchange(mine, me, "done", other.id)
    exchanges.thank(mine, me, MY_WORDS[5])
    exchanges.thank(mine, other, THEIR_WORDS[3])
    # An exchange of hers that I answered.
    hers = exchanges.create_exchange(
        other,
        exchanges.ExchangeInput(
            kind="offer", title="Cours de jardinage", body="Le dimanche.", category="jardinage"
        ),
    )
    exchanges.respond(hers, me, MY_WORDS[1])

    # Objects lent both ways.
    my_item = loans.offer_item(
        me, loans.ItemInput(title="Escabeau", description="3 marches", category="bricolage")
    )
    her_item = loans.offer_item(
        other, loans.ItemInput(title="Taille-haie", description="", category="jardinage")
    )
    # From today: a hand-over is noted from the loan's first day.
    start, due = today(), today() + timedelta(days=3)
    lent = loans.request_loan(my_item, other, start, due, THEIR_WORDS[4])
    for step in (loans.accept, loans.hand_over, loans.mark_returned):
        step(lent, me)
    loans.request_loan(her_item, me, start, due, MY_WORDS[4])

    # News and comments both ways, an outing each, answers both ways.
    my_news = news.post_news(
        me, news.NewsInput(title="Vide-grenier rue des Dames", body="Dimanche matin.")
    )
    news.comment(my_news, other, THEIR_WORDS[2])
    her_news = news.post_news(other, news.NewsInput(title="Fête des voisins", body="Au square."))
    news.comment(her_news, me, MY_WORDS[2])
    soon = utcnow() + timedelta(days=3)
    my_event = events.create_event(
        me,
        events.EventInput(
            title="Balade au parc",
            body="Départ 10 h.",
            starts_at=soon,
            location=LocationInput(lat=48.8870, lon=2.3200),  # ~400 m from my home
        ),
    )
    her_event = events.create_event(
        other,
        events.EventInput(
            title="Pique-nique",
            body="Chacun apporte un plat.",
            starts_at=soon,
            location=LocationInput(lat=48.8820, lon=2.3260),  # ~470 m from hers
        ),
    )
    events.rsvp(my_event, other, True)
    events.rsvp(her_event, me, True)

    # A conversation, a report, a block.
    conversation = messages.start(me, other, MY_WORDS[3])
    messages.write(conversation, other, THEIR_WORDS[1])
    moderation.report(me, "news", her_news.id, "other", MY_WORDS[6])
    moderation.block(me, third.id)
    db.session.commit()
    return Neighbourhood(me, other, third)


@pytest.fixture
def hood(app, make_member) -> Neighbourhood:
    return populate(make_member)


def _text(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


def test_my_export_has_all_my_data(hood):
    data = services.export(hood.me)
    ExportOut.model_validate(data)  # exactly the documented fields (extra="forbid")
    text = _text(data)
    account = data["account"]
    assert account["email"] == "anne.export@example.org"
    assert account["display_name"] == "Anne Export"
    assert account["skills"] == ["bricolage"] and account["tags"] == ["vélo"]
    assert (account["home"]["lat"], account["home"]["lon"]) == BATIGNOLLES  # mine: included
    for words in MY_WORDS:
        assert words in text, words
    assert len(data["api_tokens"]) == 1 and "token_hash" not in text
    assert {n["kind"] for n in data["notifications"]} >= {"response", "thanks", "loan_requested"}
    assert data["notification_settings"]["response"] in ("on", "digest", "off")
    assert [loan["role"] for loan in data["loans"]] == ["lender", "borrower"]
    assert data["loans"][0]["status"] == "returned"
    assert data["rsvps"][0]["going"] is True and data["events"][0]["going_count"] == 1
    assert data["reports"][0]["details"] == MY_WORDS[6]


def test_nobody_else_is_in_my_export(hood):
    text = _text(services.export(hood.me))
    for leak in (
        OTHER_NAME,
        "Zéphyrine",
        OTHER_EMAIL,
        OTHER_BIO,
        THIRD_NAME,
        "ulysse.bloque@example.net",
        *THEIR_WORDS,
    ):
        assert leak not in text, leak
    for value in coordinates(DAMES_LEMERCIER) + coordinates(CLICHY):
        assert value not in text, value


def test_the_other_party_keeps_one_pseudonym_throughout(hood):
    data = services.export(hood.me)
    label = data["exchanges"][0]["helper"]
    assert label and label != OTHER_NAME
    assert data["exchanges"][0]["responses_received"][0]["from"] == label
    assert data["thanks_received"][0]["from"] == label
    assert data["loans"][0]["other_party"] == label
    assert data["conversations"][0]["with"] == label
    blocked = data["blocks"][0]["member"]
    assert blocked and blocked != label
    mine, theirs = data["conversations"][0]["messages"]
    assert mine == {**mine, "mine": True, "author": None, "body": MY_WORDS[3]}
    assert theirs["mine"] is False and theirs["author"] == label and theirs["body"] is None


def test_her_export_does_not_name_me(hood):
    text = _text(services.export(hood.other))
    assert OTHER_EMAIL in text
    for leak in ("Anne Export", "anne.export@example.org", *MY_WORDS[1:4], MY_WORDS[4]):
        assert leak not in text, leak
    for value in coordinates(BATIGNOLLES):
        assert value not in text, value


def test_html_download(client, auth, hood):
    r = client.get("/account/export")
    assert r.status_code == 302 and "/login" in r.headers["Location"]  # login required
    auth.login("anne.export@example.org")
    r = client.get("/account")
    assert "/account/export" in r.get_data(as_text=True)
    r = client.get("/account/export")
    assert r.status_code == 200
    # A ZIP: the JSON, and the member's photos (tests/test_photos_gdpr.py).
    assert r.mimetype == "application/zip"
    assert "peuplade-mes-donnees.zip" in r.headers["Content-Disposition"]
    assert "attachment" in r.headers["Content-Disposition"]
    assert "no-store" in r.headers["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(r.get_data())) as archive:
        assert archive.namelist() == ["peuplade-export.json"]  # no photo sent
        text = archive.read("peuplade-export.json").decode("utf-8")
    data = json.loads(text)
    ExportOut.model_validate(data)
    assert data["account"]["email"] == "anne.export@example.org"
    assert data["photos"] == []
    assert OTHER_NAME not in text


def test_api_export(api, hood):
    assert api.get("/me/export").status_code == 401
    api.login("anne.export@example.org")
    r = api.get("/me/export")
    assert r.status_code == 200
    assert "no-store" in r.headers["Cache-Control"]
    data = r.get_json()
    ExportOut.model_validate(data)
    assert data["account"]["id"] == hood.me.id
    assert OTHER_EMAIL not in r.get_data(as_text=True)
    assert len(data["api_tokens"]) == 2  # the fixture's, and this one (metadata only)


def test_export_changes_nothing(app, hood):
    """A GET: exporting twice gives the same data (but the time it was made)."""
    first, second = services.export(hood.me), services.export(hood.me)
    first.pop("generated_at"), second.pop("generated_at")
    assert first == second
    assert not db.session.dirty and not db.session.new
