"""The lobby board: a printable page of the open requests and upcoming outings around a
member's building - only what their neighbourhood shows, narrowed by distance, with
the site's address written short, no home anywhere, options checked, French and
English; the contact of the neighbour who prints it (first name, floor, phone: as they
choose, POSTed, never in an address, never stored) on tear-off strips; a QR code drawn
on the server for those who have a phone."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import segno

from peuplade import geo
from peuplade.board.forms import french_phone
from peuplade.board.routes import STRIPS, short_address
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
    # The site's address as people write it: no scheme, no trailing slash.
    assert f"Annonce n° {street['near'].id} : localhost:5000/exchanges/{street['near'].id}" in sheet
    assert "Sur internet : localhost:5000" in sheet
    assert "http" not in sheet
    assert 'media="print"' in page and "css/print.css" in page
    assert not _other_homes_leaked(page, [street["me"], street["marc"]])


def _strips(page: str) -> list[str]:
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", strip)).split())
        for strip in re.findall(r'<li class="board__strip".*?</li>', page, re.S)
    ]


def test_a_smaller_distance_keeps_only_the_nearest_and_the_contact_is_printed(client, street):
    r = client.post(
        "/board",
        data={"around": "500", "name": "Marc", "floor": "3e étage gauche", "phone": ""},
    )
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    sheet = _sheet(page)
    assert "Courses pour Mme Dupont" in sheet and "Goûter du hall" in sheet
    assert "Monter une armoire" not in sheet and "Vide-grenier" not in sheet
    assert "à moins de 500 m de cet immeuble" in sheet
    assert "Adressez-vous à : Marc, 3e étage gauche" in sheet
    strips = _strips(page)
    assert len(strips) == STRIPS
    assert set(strips) == {"Marc, 3e étage gauche Peuplade — entraide entre voisins localhost:5000"}


def test_my_first_name_is_offered_and_printed_until_i_change_it(client, street):
    page = client.get("/board").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="name"[^>]*value="Moi"', page)
    assert "Adressez-vous à : Moi" in _sheet(page)
    assert _strips(page)[0].startswith("Moi Peuplade")
    # The form is POSTed: what is typed (a phone number) never travels in an address.
    assert re.search(r'<form method="post" action="/board"', page)


def test_giving_nothing_prints_no_contact_but_still_the_strips_with_the_site(client, street):
    page = client.post("/board", data={"name": "", "floor": "", "phone": ""}).get_data(as_text=True)
    assert "Adressez-vous à" not in _sheet(page)
    assert _strips(page)[0] == "Peuplade — entraide entre voisins localhost:5000"


@pytest.mark.parametrize(
    "typed",
    [
        "0612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        " 06 12 34 56 78 ",
    ],
)
def test_a_french_phone_number_is_printed_as_the_lobby_reads_it(client, street, typed):
    r = client.post("/board", data={"name": "Moi", "floor": "2e droite", "phone": typed})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Adressez-vous à : Moi, 2e droite, 06 12 34 56 78" in _sheet(page)
    assert all(strip.startswith("Moi, 2e droite 06 12 34 56 78 ") for strip in _strips(page))


@pytest.mark.parametrize(
    "typed",
    [
        "123",
        "06 12 34 56",
        "06 12 34 56 78 9",
        "+44 20 7946 0958",
        "0012345678",
        "appelez-moi",
        "06 12 34 56 7x",
        "6" * 31,
    ],
)
def test_french_phone_refuses_what_is_not_a_french_number(typed):
    assert french_phone(typed) is None


def test_a_phone_number_is_never_in_the_request_log(client, street, capsys):
    capsys.readouterr()
    client.post("/board", data={"name": "Moi", "phone": "06 12 34 56 78"})
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if '"logger": "peuplade.request"' in line]
    assert len(lines) == 1 and '"path": "/board"' in lines[0]
    assert "12 34" not in err and "12345678" not in err


def test_a_phone_number_in_the_address_is_ignored(client, street):
    page = client.get("/board", query_string={"phone": "0698765432"}).get_data(as_text=True)
    sheet = _sheet(page)
    assert "06 98 76 54 32" not in sheet and "0698765432" not in sheet
    assert not re.search(r'<input[^>]*id="phone"[^>]*value="[^"]', page)


@pytest.mark.parametrize(
    ("data", "field", "kept"),
    [
        ({"around": "5000"}, "around", None),
        ({"around": "abc"}, "around", None),
        ({"name": "x" * 61}, "name", "x" * 61),
        ({"floor": "y" * 41}, "floor", "y" * 41),
        ({"phone": "06 12 34"}, "phone", "06 12 34"),
        ({"phone": "+44 20 7946 0958"}, "phone", "+44 20 7946 0958"),
    ],
)
def test_bad_options_are_explained_the_typed_text_kept_and_the_sheet_still_shows(
    client, street, data, field, kept
):
    r = client.post("/board", data={"name": "Moi", **data})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert f'href="#{field}"' in page  # the error summary points at the field
    sheet = _sheet(page)
    assert "Monter une armoire" in sheet  # my whole neighbourhood, as by default
    if kept:
        assert re.search(rf'<input[^>]*id="{field}"[^>]*value="{re.escape(kept)}"', page)
        assert kept not in sheet  # refused: not printed
    else:
        assert "Adressez-vous à : Moi" in sheet  # the rest is printed


def test_the_qr_code_leads_to_sign_up_drawn_here_with_a_text_alternative(client, street):
    page = client.get("/board").get_data(as_text=True)
    (svg,) = re.findall(r"<svg[^>]*board__qr-code.*?</svg>", page, re.S)
    assert 'role="img"' in svg and 'aria-label="Code QR : inscription sur localhost:5000"' in svg
    # The very code of the sign-up page's address (segno draws the same for the same text).
    expected = segno.make("http://localhost:5000/register", error="m").svg_inline(
        scale=1, border=2, omitsize=True
    )
    (drawn,) = re.findall(r' d="([^"]+)"', svg)
    assert re.findall(r' d="([^"]+)"', expected) == [drawn]
    # Said in words beside it, and nothing fetched from elsewhere.
    assert "visez ce code avec l'appareil photo pour vous inscrire" in html.unescape(page)
    assert "<img" not in _sheet_html(page)


def _sheet_html(page: str) -> str:
    (sheet,) = re.findall(r'<article class="board".*?</article>', page, re.S)
    return sheet


def test_the_sites_address_is_written_short_from_public_url(client, street):
    client.application.config["PUBLIC_URL"] = "https://peuplade.example.org"
    page = client.get("/board").get_data(as_text=True)
    sheet = _sheet(page)
    assert "Sur internet : peuplade.example.org" in sheet
    assert f"peuplade.example.org/exchanges/{street['near'].id}" in sheet
    assert "https://" not in sheet


@pytest.mark.parametrize(
    ("url", "short"),
    [
        ("https://peuplade.example.org", "peuplade.example.org"),
        ("https://peuplade.example.org/", "peuplade.example.org"),
        ("http://127.0.0.1:5093", "127.0.0.1:5093"),
        ("https://example.org/peuplade/", "example.org/peuplade"),
    ],
)
def test_short_address(url, short):
    assert short_address(url) == short


def test_the_board_in_english(client, street):
    r = client.get("/board", headers={"Accept-Language": "en"})
    sheet = _sheet(r.get_data(as_text=True))
    assert "Neighbours helping neighbours" in sheet
    assert "Posted by Marc for Mme Dupont" in sheet
