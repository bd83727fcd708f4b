"""Places as people say them, searched as they type (nearest the member's PUBLIC position
first, public places only), and a venue of the author's own: a name in their words and a
point picked on the map, never at their home (both backends)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from peuplade import geo
from peuplade.account import blur
from peuplade.extensions import db
from peuplade.formats import place_label
from peuplade.models import Event, Exchange, Place
from peuplade.posts.services import HOME_KEEP_AWAY_M
from tests.conftest import BATIGNOLLES, CLICHY, FAR_AWAY
from tests.helpers.browsers import as_member
from tests.helpers.pages import coordinate_strings, input_value, text_of
from tests.test_exchanges_html import FORM, created_id, post_exchange
from tests.test_exchanges_scoping import offset

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "places-paris.geojson"


def _add_place(name: str, at: tuple[float, float], ref: str | None = None) -> Place:
    place = Place(
        name=name, source_ref=ref or f"test:{name}", position=geo.to_element(geo.lat_lon(*at))
    )
    db.session.add(place)
    db.session.commit()
    return place


def _exchanges() -> int:
    return db.session.scalar(select(func.count()).select_from(Exchange))


# --- names as people say them -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Legendre - Nollet", "Angle Legendre et Nollet"),
        ("Navier - Epinettes", "Angle Navier et Épinettes"),
        ("Croix Nivert - Square Saint-Lambert", "Square Saint-Lambert, côté Croix Nivert"),
        ("Gare du Nord - Saint-Vincent de Paul", "Gare du Nord, côté Saint-Vincent de Paul"),
        ("Hôpital - Campo-Formio", "Angle Hôpital et Campo-Formio"),  # the boulevard
        ("Mairie du 9ème", "Mairie du 9e"),
        ("Square des Batignolles", "Square des Batignolles"),
        ("Eglise d'Auteuil", "Église d'Auteuil"),
    ],
)
def test_a_station_name_becomes_what_people_say(name, label):
    assert place_label(name) == label


def test_every_shipped_place_has_a_readable_label():
    names = [f["properties"]["name"] for f in json.loads(SHIPPED.read_text())["features"]]
    assert len(names) > 1000
    labels = [place_label(name) for name in names]
    assert all(label.strip() for label in labels)
    assert not [label for label in labels if " - " in label]  # no station-style name left
    assert not [label for label in labels if re.search(r"\d(ème|eme)\b", label)]
    corners = [label for label in labels if label.startswith("Angle ")]
    assert len(corners) > 500 and "Angle Legendre et Nollet" in labels


def test_the_form_offers_places_by_their_spoken_name_and_a_post_keeps_it(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    place = _add_place("Legendre - Nollet", offset(geo.lat_lon(*BATIGNOLLES), 400))
    browser = as_member(app, author)
    form = browser.get("/exchanges/new").get_data(as_text=True)
    assert f'<option value="{place.id}">Angle Legendre et Nollet</option>' in form
    assert "Legendre - Nollet" not in form
    exchange = db.session.get(Exchange, created_id(post_exchange(browser, location=str(place.id))))
    assert exchange.place_name == "Angle Legendre et Nollet"


# --- searched as you type ---------------------------------------------------------------


def _search(browser, q: str = "") -> list[dict]:
    r = browser.get("/places/search", query_string={"q": q})
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()["places"]


def test_search_needs_a_member(client):
    r = client.get("/places/search?q=square")
    assert r.status_code in (302, 401) and r.mimetype != "application/json"


def test_search_orders_from_the_public_position_not_the_home(app, make_member):
    member = make_member("Anne", at=BATIGNOLLES)
    home = geo.from_element(member.home)
    public = geo.from_element(member.public_position)
    away = geo.geodesic_distance_m(home, public)
    assert away > 50  # alone in their cell: shown at a coarse centre, away from home
    # Beyond the home, seen from the public position: nearest the home, farther from the
    # public position than the other place.
    beyond = (home.lat + (home.lat - public.lat) * 0.5, home.lon + (home.lon - public.lon) * 0.5)
    near_home = _add_place("Square Près de Chez Elle", beyond)
    near_public = _add_place("Square du Centre", (public.lat, public.lon))
    _add_place("Square de la Nation", FAR_AWAY)  # 7 km: not offered
    found = _search(as_member(app, member), "square")
    assert [p["id"] for p in found] == [near_public.id, near_home.id]
    assert [p["label"] for p in found] == ["Square du Centre", "Square Près de Chez Elle"]
    # Only what a public place says: id, spoken name, distance band; no coordinates.
    assert all(set(p) == {"id", "label", "distance"} for p in found)
    body = json.dumps(found)
    for written in coordinate_strings((home.lat, home.lon), (public.lat, public.lon)):
        assert written not in body


def test_search_ignores_case_and_accents_and_reads_both_names(app, make_member):
    member = make_member("Anne", at=BATIGNOLLES)
    corner = _add_place("Navier - Epinettes", offset(geo.lat_lon(*BATIGNOLLES), 300))
    _add_place("Legendre - Nollet", offset(geo.lat_lon(*BATIGNOLLES), 500))
    browser = as_member(app, member)
    assert [p["label"] for p in _search(browser, "ÉPINETTES")] == ["Angle Navier et Épinettes"]
    assert [p["id"] for p in _search(browser, "angle navier")] == [corner.id]
    assert _search(browser, "rue imaginaire") == []
    assert len(_search(browser, "")) == 2  # nothing typed: the nearest
    assert _search(browser, "x" * 5000) == []  # a long query is cut, never an error


def test_a_place_found_farther_than_the_list_is_kept_on_a_form_shown_again(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES, radius_m=500)
    far_place = _add_place("Place de Clichy", CLICHY)  # ~650 m: not in the 500 m list
    browser = as_member(app, author)
    assert f'value="{far_place.id}"' not in browser.get("/exchanges/new").get_data(as_text=True)
    r = post_exchange(browser, location=str(far_place.id), title="")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert re.search(rf'<option selected value="{far_place.id}">Place de Clichy</option>', page)
    exchange = db.session.get(
        Exchange, created_id(post_exchange(browser, location=str(far_place.id)))
    )
    assert exchange.place_name == "Place de Clichy"


# --- a venue of one's own -----------------------------------------------------------------


def test_a_free_venue_with_a_point_on_the_map(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    cafe = offset(geo.lat_lon(*BATIGNOLLES), 600)
    browser = as_member(app, author)
    exchange_id = created_id(
        post_exchange(
            browser,
            venue="Café Le Bon Coin",
            venue_lat=f"{cafe[0]:.6f}",
            venue_lon=f"{cafe[1]:.6f}",
        )
    )
    exchange = db.session.get(Exchange, exchange_id)
    assert exchange.place_name == "Café Le Bon Coin"
    assert geo.geodesic_distance_m(geo.from_element(exchange.position), geo.lat_lon(*cafe)) < 1
    assert "Café Le Bon Coin" in text_of(
        browser.get(f"/exchanges/{exchange_id}").get_data(as_text=True)
    )


def test_a_venue_name_alone_is_shown_at_my_public_position(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    exchange = db.session.get(
        Exchange, created_id(post_exchange(as_member(app, author), venue="devant la boulangerie"))
    )
    assert exchange.place_name == "devant la boulangerie"
    assert geo.from_element(exchange.position) == geo.from_element(author.public_position)


def test_a_venue_name_with_a_public_place_keeps_the_place_position(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    square = _add_place("Square des Batignolles", offset(geo.lat_lon(*BATIGNOLLES), 300))
    exchange = db.session.get(
        Exchange,
        created_id(
            post_exchange(as_member(app, author), location=str(square.id), venue="le kiosque")
        ),
    )
    assert exchange.place_name == "le kiosque"
    assert geo.from_element(exchange.position) == geo.from_element(square.position)


@pytest.mark.parametrize("metres", [0, 40, HOME_KEEP_AWAY_M - 10])
def test_a_venue_point_at_home_is_refused_and_the_rest_kept(app, make_member, metres):
    author = make_member("Autrice", at=BATIGNOLLES)
    point = offset(geo.lat_lon(*BATIGNOLLES), metres)
    r = post_exchange(
        as_member(app, author),
        title="Arroser mes plantes",
        venue="chez moi",
        venue_lat=f"{point[0]:.6f}",
        venue_lon=f"{point[1]:.6f}",
    )
    assert r.status_code == 422 and _exchanges() == 0
    page = r.get_data(as_text=True)
    assert "tout près de chez vous" in text_of(page)
    assert input_value(page, "title") == "Arroser mes plantes"
    assert input_value(page, "venue") == "chez moi"
    # The refused point is not sent again, and never written back into the page.
    assert input_value(page, "location-lat") in (None, "")
    for written in coordinate_strings(point, BATIGNOLLES):
        assert written not in page


def test_a_venue_point_just_beyond_the_privacy_distance_is_accepted(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    point = offset(geo.lat_lon(*BATIGNOLLES), HOME_KEEP_AWAY_M + 15)
    r = post_exchange(
        as_member(app, author), venue_lat=f"{point[0]:.6f}", venue_lon=f"{point[1]:.6f}"
    )
    exchange = db.session.get(Exchange, created_id(r))
    assert exchange.place_name is None and exchange.at_author is False
    # Its page says where it is, not "près de chez" its author.
    page = text_of(as_member(app, author).get(f"/exchanges/{exchange.id}").get_data(as_text=True))
    assert "Un lieu choisi sur la carte" in page and "Près de chez Autrice" not in page


def _moved_with_a_coarser_floor(author, exchange) -> tuple[bool, bool]:
    """(the author's public position changed, the post followed it) after the author
    chose the coarsest floor."""
    before = geo.from_element(author.public_position)
    blur.set_floor(author, "quartier")
    db.session.commit()
    db.session.refresh(author)
    db.session.refresh(exchange)
    now_at = geo.from_element(author.public_position)
    return now_at != before, geo.from_element(exchange.position) == now_at


def test_a_post_named_in_my_words_moves_with_my_public_position(app, make_member):
    # Shown at my public position: when it becomes coarser, the post must follow at once,
    # or it would keep showing the finer cell (docs/privacy.md: "coarsen at once").
    author = make_member("Autrice", at=BATIGNOLLES)
    exchange = db.session.get(
        Exchange, created_id(post_exchange(as_member(app, author), venue="devant la boulangerie"))
    )
    assert exchange.at_author is True
    moved, followed = _moved_with_a_coarser_floor(author, exchange)
    assert moved and followed
    assert exchange.place_name == "devant la boulangerie"


def test_a_post_at_a_point_of_my_choosing_stays_there(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    point = offset(geo.lat_lon(*BATIGNOLLES), HOME_KEEP_AWAY_M + 200)
    exchange = db.session.get(
        Exchange,
        created_id(
            post_exchange(
                as_member(app, author), venue_lat=f"{point[0]:.6f}", venue_lon=f"{point[1]:.6f}"
            )
        ),
    )
    chosen = geo.from_element(exchange.position)
    moved, followed = _moved_with_a_coarser_floor(author, exchange)
    assert moved and not followed
    assert geo.from_element(exchange.position) == chosen


def test_the_api_refuses_a_point_at_home_too(app, make_member, api):
    author = make_member("Autrice", at=BATIGNOLLES, email="autrice@example.org")
    api.login("autrice@example.org")
    body = {
        "kind": "request",
        "title": "Porter un canapé",
        "body": "Samedi matin.",
        "category": "demenagement",
        "location": {"lat": BATIGNOLLES[0], "lon": BATIGNOLLES[1]},
    }
    r = api.post("/exchanges", json=body)
    assert r.status_code == 422 and "location" in json.dumps(r.get_json())
    assert _exchanges() == 0
    cafe = offset(geo.lat_lon(*BATIGNOLLES), 600)
    r = api.post("/exchanges", json={**body, "location": {"lat": cafe[0], "lon": cafe[1]}})
    assert r.status_code == 201, r.get_json()
    assert author.id == db.session.scalar(select(Exchange.author_id))


def test_a_venue_name_too_long_is_said_on_its_field(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    r = post_exchange(as_member(app, author), venue="é" * 161)
    assert r.status_code == 422 and _exchanges() == 0
    assert re.search(r'id="venue-error"', r.get_data(as_text=True))


def test_the_map_opens_at_my_public_position_never_at_home(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    public = geo.from_element(author.public_position)
    page = as_member(app, author).get("/exchanges/new").get_data(as_text=True)
    assert f'data-centre="{public.lat:.6f},{public.lon:.6f}"' in page
    for written in coordinate_strings(BATIGNOLLES):
        assert written not in page
    assert 'data-search-url="/places/search"' in page and "js/place-picker.js" in page


def test_an_outing_at_a_venue_of_my_own(app, make_member):
    author = make_member("Organisatrice", at=BATIGNOLLES)
    cafe = offset(geo.lat_lon(*BATIGNOLLES), 700)
    day = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=3)).date()
    browser = as_member(app, author)
    data = {
        "title": "Café tricot",
        "body": "On tricote ensemble.",
        "starts_on": day.isoformat(),
        "starts_time": "15:00",
        "place": "",
        "venue": "Café Le Bon Coin",
    }
    r = browser.post("/events/new", data=data)  # a name alone does not say where
    assert r.status_code == 422
    assert input_value(r.get_data(as_text=True), "venue") == "Café Le Bon Coin"
    r = browser.post(
        "/events/new", data={**data, "venue_lat": str(cafe[0]), "venue_lon": str(cafe[1])}
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    event = db.session.scalar(select(Event))
    assert event.place_name == "Café Le Bon Coin"
    # On edit, a new name without a new place asks where it is, and changes nothing.
    r = browser.post(
        f"/events/{event.id}/edit", data={**data, "place": "keep", "venue": "Chez Paulette"}
    )
    assert r.status_code == 422 and "Dites aussi où est ce lieu" in text_of(
        r.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Event, event.id).place_name == "Café Le Bon Coin"


def test_exchange_form_fields_keep_their_names(app, make_member):
    """Tests and scripts that post the form keep working: same field names."""
    page = as_member(app, make_member()).get("/exchanges/new").get_data(as_text=True)
    for name in FORM:
        assert f'name="{name}"' in page
