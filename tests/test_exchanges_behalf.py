"""Posting for a neighbour who is not online ("publié par Marc pour Mme Dupont"): only
with that neighbour's consent recorded, shown to everyone who sees the exchange,
answers reaching the member who posted, who passes them on. Forms, API, export."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select

from peuplade.errors import ValidationFailed
from peuplade.exchanges import services
from peuplade.extensions import db
from peuplade.models import Exchange, Notification
from tests.conftest import BATIGNOLLES, CLICHY
from tests.helpers.browsers import as_member
from tests.helpers.pages import text_of
from tests.test_api_exchanges import NEW, Caller
from tests.test_exchanges_html import cards, created_id, post_exchange

DUPONT = "Mme Dupont"


@pytest.fixture
def pair(app, make_member):
    marc = make_member("Marc", at=BATIGNOLLES, email="marc@example.org")
    lea = make_member("Léa", at=CLICHY, email="lea@example.org")
    return marc, lea


def _stored(exchange_id: int) -> Exchange:
    db.session.rollback()
    return db.session.get(Exchange, exchange_id)


def test_the_service_refuses_a_name_without_consent_and_records_it_with(pair):
    marc, _ = pair
    data = services.ExchangeInput(**NEW, on_behalf_of="  Mme   Dupont ")
    with pytest.raises(ValidationFailed) as refused:
        services.create_exchange(marc, data)
    assert set(refused.value.fields) == {"behalf_consent"}
    db.session.rollback()

    data.behalf_consent = True
    made = services.create_exchange(marc, data)
    db.session.commit()
    assert made.on_behalf_of == DUPONT  # spaces tidied as for display names
    assert made.behalf_consent_at == made.created_at
    own = services.create_exchange(marc, services.ExchangeInput(**NEW, behalf_consent=True))
    assert own.on_behalf_of is None and own.behalf_consent_at is None  # a box alone: own post


@pytest.mark.parametrize("name", ["x", "y" * (services.BEHALF_MAX + 1)])
def test_a_name_too_short_or_too_long_is_refused_on_its_field(pair, name):
    marc, _ = pair
    with pytest.raises(ValidationFailed) as refused:
        services.create_exchange(
            marc, services.ExchangeInput(**NEW, on_behalf_of=name, behalf_consent=True)
        )
    assert set(refused.value.fields) == {"on_behalf_of"}


def test_the_form_without_consent_is_refused_and_keeps_what_was_typed(app, pair):
    marc, _ = pair
    browser = as_member(app, marc)
    before = db.session.scalar(select(db.func.count()).select_from(Exchange))
    r = post_exchange(browser, on_behalf_of=DUPONT, title="Courses du mardi")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "Publiez pour quelqu&#39;un seulement avec son accord" in page
    assert 'value="Mme Dupont"' in page and 'value="Courses du mardi"' in page
    assert 'href="#behalf_consent"' in page  # the error summary leads to the box
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Exchange)) == before


def test_neighbours_see_both_names_and_answers_reach_the_member_who_posted(app, pair):
    marc, lea = pair
    marcs = as_member(app, marc)
    exchange_id = created_id(
        post_exchange(marcs, on_behalf_of=DUPONT, behalf_consent="y", title="Courses du mardi")
    )

    mine = text_of(marcs.get(f"/exchanges/{exchange_id}").get_data(as_text=True))
    assert "Vous publiez cette annonce pour Mme Dupont, avec son accord" in mine
    assert "Votre annonce, pour Mme Dupont" in text_of(
        marcs.get("/exchanges/mine").get_data(as_text=True)
    )

    leas = as_member(app, lea)
    shown = text_of(leas.get(f"/exchanges/{exchange_id}").get_data(as_text=True))
    assert "Mme Dupont n'est pas sur Peuplade : Marc publie cette annonce avec son accord" in shown
    (card,) = [
        c for c in cards(leas.get("/exchanges").get_data(as_text=True)) if c["id"] == exchange_id
    ]
    assert "Publié par Marc pour Mme Dupont" in card["text"]
    assert "Publié par Marc pour Mme Dupont" in text_of(leas.get("/").get_data(as_text=True))

    r = leas.post(f"/exchanges/{exchange_id}/responses", data={"message": "Je fais ses courses."})
    assert r.status_code == 302
    db.session.rollback()
    told = db.session.scalars(select(Notification).where(Notification.kind == "response")).all()
    assert [n.member_id for n in told] == [marc.id]


def test_editing_keeps_the_consent_for_the_same_name_and_asks_again_for_a_new_one(app, pair):
    marc, _ = pair
    made = services.create_exchange(
        marc, services.ExchangeInput(**NEW, on_behalf_of=DUPONT, behalf_consent=True)
    )
    db.session.commit()
    recorded = made.behalf_consent_at
    browser = as_member(app, marc)
    form = browser.get(f"/exchanges/{made.id}/edit").get_data(as_text=True)
    assert 'value="Mme Dupont"' in form

    fields = {
        "kind": "request",
        "title": "Courses du jeudi",
        "body": made.body,
        "category": made.category,
        "starts_on": "",
        "ends_on": "",
        "location": "keep",
        "reach_m": str(made.reach_m),
        "on_behalf_of": DUPONT,
    }
    assert browser.post(f"/exchanges/{made.id}/edit", data=fields).status_code == 302
    assert _stored(made.id).behalf_consent_at == recorded

    r = browser.post(f"/exchanges/{made.id}/edit", data={**fields, "on_behalf_of": "M. Martin"})
    assert r.status_code == 422
    assert _stored(made.id).on_behalf_of == DUPONT

    r = browser.post(
        f"/exchanges/{made.id}/edit",
        data={**fields, "on_behalf_of": "M. Martin", "behalf_consent": "y"},
    )
    assert r.status_code == 302
    assert _stored(made.id).on_behalf_of == "M. Martin"
    assert _stored(made.id).behalf_consent_at > recorded

    assert (
        browser.post(f"/exchanges/{made.id}/edit", data={**fields, "on_behalf_of": ""}).status_code
        == 302
    )
    cleared = _stored(made.id)
    assert cleared.on_behalf_of is None and cleared.behalf_consent_at is None


def test_the_api_asks_for_consent_and_null_makes_it_the_authors_own_again(client, pair):
    marc, lea = pair
    api = Caller(client, marc)
    r = api.post("/exchanges", json={**NEW, "on_behalf_of": DUPONT})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"behalf_consent"}

    r = api.post("/exchanges", json={**NEW, "on_behalf_of": DUPONT, "behalf_consent": True})
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["on_behalf_of"] == DUPONT
    seen = Caller(client, lea).get(f"/exchanges/{made['id']}").get_json()
    assert seen["on_behalf_of"] == DUPONT and seen["author"]["display_name"] == "Marc"

    r = api.patch(f"/exchanges/{made['id']}", json={"behalf_consent": "yes"})
    assert r.status_code == 422 and "behalf_consent" in r.get_json()["error"]["fields"]
    r = api.patch(f"/exchanges/{made['id']}", json={"on_behalf_of": None})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["on_behalf_of"] is None
    assert _stored(made["id"]).behalf_consent_at is None


def test_the_name_is_in_the_authors_export(app, pair):
    marc, _ = pair
    services.create_exchange(
        marc, services.ExchangeInput(**NEW, on_behalf_of=DUPONT, behalf_consent=True)
    )
    db.session.commit()
    browser = as_member(app, marc)
    r = browser.get("/account/export")
    assert r.status_code == 200, r.status_code
    with zipfile.ZipFile(io.BytesIO(r.get_data())) as archive:
        rows = json.loads(archive.read("peuplade-export.json"))["exchanges"]
    assert [row["on_behalf_of"] for row in rows] == [DUPONT]
    assert rows[0]["behalf_consent_at"]
