"""The exchanges' and objects' lists read their cards as plain rows
(``exchanges.queries.card_columns``, ``loans.queries.card_columns``), not objects with
their authors' whole rows: a card made from a row must render exactly as the same
exchange or object did, field for field, and the pages load no post object."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template_string
from flask_login import login_user
from sqlalchemy import event as sa_event

from peuplade.auth import sessions
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.exchanges.routes import _cards as exchange_cards
from peuplade.extensions import db
from peuplade.loans import queries as loan_queries
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.models import Post
from peuplade.photos import services as photos
from peuplade.posts.labels import Bands
from tests import photofiles
from tests.conftest import CLICHY, DAMES_LEMERCIER

EXCHANGE_CARD = (
    '{% from "exchanges/_macros.html" import card with context %}'
    "{% for c in cards %}{{ card(c, first=loop.first) }}{% endfor %}"
)
ITEM_CARD = (
    '{% from "loans/_macros.html" import card with context %}'
    "{% for c in cards %}{{ card(c, first=loop.first) }}{% endfor %}"
)


def _street(make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    reader = make_member("Lecteur", at=CLICHY, email="lecteur@example.org", skills=("courses",))
    soon = today() + timedelta(days=3)
    made = [
        exchanges.create_exchange(
            author,
            exchanges.ExchangeInput(
                kind="request", title="Courses", body="Pour elle", category="courses",
                on_behalf_of="Mme Dupont", behalf_consent=True, starts_on=soon,
            ),
        ),
        exchanges.create_exchange(
            author,
            exchanges.ExchangeInput(
                kind="offer", title="Confitures", body="Maison", category="cuisine",
                starts_on=soon, ends_on=soon + timedelta(days=2),
            ),
        ),
        loans.offer_item(
            author,
            loans.ItemInput(title="Perceuse", description="", category="bricolage",
                            condition="comme_neuf"),
        ),
        loans.offer_item(
            author,
            loans.ItemInput(title="Échelle", description="", category="autre", available=False),
        ),
    ]  # fmt: skip
    photos.add_photo(made[0], photofiles.jpeg_bytes((800, 600)), "Le cabas", author)
    photos.add_photo(made[0], photofiles.jpeg_bytes((600, 800)), "La liste", author)
    photos.add_photo(made[2], photofiles.jpeg_bytes((800, 600)), "La perceuse", author)
    db.session.commit()
    return reader


def test_an_exchange_card_from_a_row_renders_as_the_exchange(app, make_member):
    reader = _street(make_member)
    objects = exchange_queries.near_me(reader, limit=50).run(db.session.scalars).all()
    rows = exchange_queries.near_me(reader, limit=50, rows=exchange_queries.card_columns)
    cards = exchange_queries.as_cards(rows.run(db.session.execute).all())
    assert [c.id for c in cards] == [e.id for e in objects] and len(cards) == 2
    with app.test_request_context("/exchanges"):
        sessions.start(reader)
        login_user(reader)
        from_rows = render_template_string(EXCHANGE_CARD, cards=exchange_cards(cards))
        from_objects = render_template_string(EXCHANGE_CARD, cards=exchange_cards(objects))
    assert from_rows == from_objects
    for shown in ("Mme Dupont", "Confitures", "card__photo", 'class="band"', "Du "):
        assert shown in from_rows, shown


def test_an_object_card_from_a_row_renders_as_the_object(app, make_member):
    reader = _street(make_member)
    objects = loan_queries.near_me(reader, limit=50).run(db.session.scalars).all()
    rows = loan_queries.near_me(reader, limit=50, rows=loan_queries.card_columns)
    items = loan_queries.as_cards(rows.run(db.session.execute).all())
    assert [c.id for c in items] == [i.id for i in objects] and len(items) == 2

    def cards_of(found):
        statuses, bands = loan_queries.item_statuses(found), Bands(reader)
        return [{"item": i, "band": bands.band(i), "status": statuses[i.id]} for i in found]

    with app.test_request_context("/objects"):
        sessions.start(reader)
        login_user(reader)
        from_rows = render_template_string(ITEM_CARD, cards=cards_of(items))
        from_objects = render_template_string(ITEM_CARD, cards=cards_of(objects))
    assert from_rows == from_objects
    for shown in ("Perceuse", "card--unavailable", "card__photo", 'class="band"', "Autrice"):
        assert shown in from_rows, shown


def test_the_lists_load_no_post_object(client, auth, make_member):
    _street(make_member)
    auth.login("lecteur@example.org")
    loaded = []

    def on_load(target, _context):
        loaded.append(target)

    sa_event.listen(Post, "load", on_load, propagate=True)
    try:
        pages = {path: client.get(path) for path in ("/exchanges", "/for-you", "/objects")}
    finally:
        sa_event.remove(Post, "load", on_load)
    for path, page in pages.items():
        assert page.status_code == 200, path
    assert "Courses" in pages["/for-you"].get_data(as_text=True)  # a request in my skills
    assert "Perceuse" in pages["/objects"].get_data(as_text=True)
    assert loaded == []
