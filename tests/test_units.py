"""Human units: a radius and a reach chosen by their meaning ("5 min à pied · ~400 m"),
stored in metres as before (the API unchanged), a value set elsewhere kept as its own
choice; long texts without "caractères" hints (both backends)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from wtforms import Form

from peuplade.exchanges import services
from peuplade.extensions import db
from peuplade.forms import DISTANCE_CHOICES, DistanceField
from peuplade.models import Exchange, Member
from tests.conftest import BATIGNOLLES
from tests.helpers.browsers import as_member
from tests.helpers.pages import checked_value, text_of
from tests.test_exchanges_html import FORM, created_id, post_exchange

CHOICES = [
    ("200", "Ma rue · ~200 m"),
    ("400", "5 min à pied · ~400 m"),
    ("800", "10 min à pied · ~800 m"),
    ("1500", "Mon quartier · ~1,5 km"),
    ("5000", "Ma ville · 5 km"),
]


def radios(page: str, name: str) -> list[tuple[str, str]]:
    """(value, label text) of each radio button named ``name``, in page order."""
    found = []
    for tag in re.finditer(
        rf'<input type="radio" name="{name}" value="([^"]*)" id="([^"]*)"', page
    ):
        label = re.search(rf'<label for="{re.escape(tag.group(2))}">(.*?)</label>', page, re.S)
        found.append((tag.group(1), text_of(label.group(1))))
    return found


def test_signup_asks_for_a_radius_by_its_meaning(client):
    page = client.get("/register").get_data(as_text=True)
    assert radios(page, "radius_m") == CHOICES
    assert checked_value(page, "radius_m") == "800"
    assert "en mètres" not in page and 'type="number"' not in page
    # One group with its question; a big target per choice.
    assert re.search(
        r'<fieldset class="field field--group distance-choices"[^>]*id="radius_m"', page
    )
    assert page.count('class="radio radio--big"') == len(CHOICES)


def test_a_radius_set_through_the_api_is_its_own_choice_and_is_kept(app, make_member, client):
    member = make_member("Anne", email="anne@example.org", radius_m=2300)
    browser = as_member(app, member)
    page = browser.get("/account/profile").get_data(as_text=True)
    shown = radios(page, "radius_m")
    assert ("2300", "Personnalisé · ~2,3 km") in shown
    assert [value for value, _text in shown] == ["200", "400", "800", "1500", "2300", "5000"]
    assert checked_value(page, "radius_m") == "2300"
    # Sending the form back as shown changes nothing; another choice is stored in metres.
    data = {
        "display_name": "Anne",
        "radius_m": "2300",
        "bio": "",
        "tags": "",
        "email": "anne@example.org",
    }
    assert browser.post("/account/profile", data=data).status_code == 302
    assert db.session.scalar(select(Member.radius_m).where(Member.id == member.id)) == 2300
    assert browser.post("/account/profile", data={**data, "radius_m": "400"}).status_code == 302
    assert db.session.scalar(select(Member.radius_m).where(Member.id == member.id)) == 400
    page = browser.get("/account/profile").get_data(as_text=True)
    assert radios(page, "radius_m") == CHOICES and checked_value(page, "radius_m") == "400"


def test_a_reach_is_chosen_by_its_meaning_and_stored_in_metres(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES, radius_m=800)
    browser = as_member(app, author)
    page = browser.get("/exchanges/new").get_data(as_text=True)
    assert radios(page, "reach_m") == CHOICES
    assert checked_value(page, "reach_m") == "800"  # my own radius, at first
    assert "Portée de l'annonce, en mètres" not in page
    exchange = db.session.get(Exchange, created_id(post_exchange(browser, reach_m="400")))
    assert exchange.reach_m == 400


def test_editing_a_post_keeps_a_reach_set_through_the_api(app, make_member):
    author = make_member("Autrice", at=BATIGNOLLES)
    fields = {k: FORM[k] for k in ("kind", "title", "body", "category")}
    exchange = services.create_exchange(author, services.ExchangeInput(**fields, reach_m=2300))
    db.session.commit()
    browser = as_member(app, author)
    page = browser.get(f"/exchanges/{exchange.id}/edit").get_data(as_text=True)
    assert ("2300", "Personnalisé · ~2,3 km") in radios(page, "reach_m")
    assert checked_value(page, "reach_m") == "2300"
    r = browser.post(
        f"/exchanges/{exchange.id}/edit",
        data={**FORM, "location": "keep", "title": "Porter un piano", "reach_m": "2300"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Exchange, exchange.id).reach_m == 2300


@pytest.mark.parametrize("raw", ["", "beaucoup", "50", "9000", None])
def test_a_distance_out_of_range_offers_only_the_fixed_choices(app, raw):
    class Distance(Form):
        radius_m = DistanceField("Rayon")

    with app.test_request_context():
        field = Distance(data={"radius_m": raw}).radius_m
        assert field.checked() == ("" if raw in ("", "beaucoup", None) else raw)
        assert [int(value) for value, _text in field.choices()] == [
            metres for metres, _text in DISTANCE_CHOICES
        ]


def test_long_texts_say_no_character_counts(app, make_member):
    browser = as_member(app, make_member("Anne", at=BATIGNOLLES))
    for path in ("/news/new", "/exchanges/new", "/events/new"):
        page = browser.get(path).get_data(as_text=True)
        assert "caractères au plus" not in page, path
        # A counter, shown only near the limit by the script, for each long text.
        assert re.search(r'data-counter-for="body" data-limit="\d+"', page), path
        assert "js/counter.js" in page
