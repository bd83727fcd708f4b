"""The lobby board: a printable page of the open requests and upcoming outings around a
member's building - only what their neighbourhood shows, narrowed by distance, with
absolute links, no home anywhere, options checked, French and English."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from peuplade import geo
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Place, utcnow
from tests.conftest import BATIGNOLLES, CLICHY
from tests.test_exchanges_scoping import offset
from tests.test_news_events import _event
from tests.test_privacy import _other_homes_leaked


def _sheet(page: str) -> str:
    (sheet,) = re.findall(r'<article class="board".*?</article>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", sheet)).split())


def _place_at(name: str, metres_north: float) -> Place:
    at = offset(geo.lat_lon(*BATIGNOLLES), metres_north)
    place = Place(name=name, source_ref=f"test:{name}", position=geo.to_element(geo.lat_lon(*at)))
    db.session.add(place)
    db.session.commit()
    return place


def _request(author, title: str, place: Place, **changes):
    made = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request",
            title=title,
            body="Texte",
            category="courses",
            location=LocationInput(place_id=place.id),
            **changes,
        ),
    )
    db.session.commit()
    return made


@pytest.fixture
def street(app, make_member, auth):
    me = make_member("Moi", at=BATIGNOLLES, email="moi@example.org", radius_m=1000)
    marc = make_member("Marc", at=CLICHY)
    near, farther = _place_at("Coin proche", 150), _place_at("Coin plus loin", 700)
    posts = {
        "near": _request(
            marc, "Courses pour Mme Dupont", near, on_behalf_of="Mme Dupont", behalf_consent=True
        ),
        "farther": _request(marc, "Monter une armoire", farther),
        "offer": exchanges.create_exchange(
            marc,
            exchanges.ExchangeInput(
                kind="offer",
                title="Cours de tricot",
                body="Texte",
                category="couture",
                location=LocationInput(place_id=near.id),
            ),
        ),
        "closed": _request(marc, "Déjà fait", near),
        "soon": _event(marc, near, title="Goûter du hall", starts_at=utcnow() + timedelta(days=2)),
        "later": _event(
            marc, farther, title="Vide-grenier", starts_at=utcnow() + timedelta(days=9)
        ),
    }
    exchanges.close_exchange(posts["closed"], marc, "cancelled", None)
    db.session.commit()
    auth.login("moi@example.org")
    return {"me": me, "marc": marc, **posts}


def test_anonymous_visitors_are_sent_to_login(client):
    r = client.get("/board")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_sheet_lists_open_requests_and_upcoming_outings_of_my_neighbourhood(client, street):
    r = client.get("/board")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    sheet = _sheet(page)
    assert "Publié par Marc pour Mme Dupont" in sheet
    assert "Monter une armoire" in sheet
    assert "Cours de tricot" not in sheet and "Déjà fait" not in sheet  # offers, closed
    assert sheet.index("Goûter du hall") < sheet.index("Vide-grenier")  # soonest first
    link = f"{client.application.config['PUBLIC_URL']}/exchanges/{street['near'].id}"
    assert f"Annonce n° {street['near'].id} : {link}" in sheet
    assert 'media="print"' in page and "css/print.css" in page
    assert not _other_homes_leaked(page, [street["me"], street["marc"]])


def test_a_smaller_distance_keeps_only_the_nearest_and_a_contact_is_printed(client, street):
    r = client.get("/board", query_string={"around": "500", "contact": "Marc, 3e étage gauche"})
    assert r.status_code == 200
    sheet = _sheet(r.get_data(as_text=True))
    assert "Courses pour Mme Dupont" in sheet and "Goûter du hall" in sheet
    assert "Monter une armoire" not in sheet and "Vide-grenier" not in sheet
    assert "à moins de 500 m de cet immeuble" in sheet
    assert "ou adressez-vous à : Marc, 3e étage gauche" in sheet


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"around": "5000"}, "around"),
        ({"around": "abc"}, "around"),
        ({"contact": "x" * 121}, "contact"),
    ],
)
def test_bad_options_are_explained_and_the_default_sheet_still_shows(client, street, args, field):
    r = client.get("/board", query_string=args)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert f'href="#{field}"' in page  # the error summary points at the field
    sheet = _sheet(page)
    assert "Monter une armoire" in sheet  # my whole neighbourhood, as by default
    assert "x" * 121 not in sheet


def test_the_board_in_english(client, street):
    r = client.get("/board", headers={"Accept-Language": "en"})
    sheet = _sheet(r.get_data(as_text=True))
    assert "Neighbours helping neighbours" in sheet
    assert "Posted by Marc for Mme Dupont" in sheet
