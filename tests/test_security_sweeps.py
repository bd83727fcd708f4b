"""Sweeps driven by the URL map, so that a new route is covered the day it is added.

- Authorisation (IDOR): every route that takes an object id, called with the ids of
  everything a member owns, by a stranger (another member who cannot see any of it)
  and by an anonymous visitor: never the object, never a change.
- CSRF: every state-changing HTML form refuses a POST without its token, even from
  the owner of the object, and changes nothing.
- GET never changes state (read markers and last-seen times aside).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.routing import AnyConverter

from peuplade import geo
from peuplade.account import services as account
from peuplade.account.tokens import new_token
from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.location import LocationInput
from peuplade.messages import services as messages
from peuplade.models import ApiToken, Member, Place, utcnow
from peuplade.moderation import services as moderation
from peuplade.news import services as news
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD

# Columns a GET may write: read markers, last-seen times.
READ_MARKERS = {"read_at", "a_read_at", "b_read_at", "last_seen_at", "last_used_at"}
# POST routes whose credential is a signed token in the URL, not a session.
TOKEN_ROUTES = {"notifications.unsubscribe_confirm", "notifications.keep_open_confirm"}
SECRET = "Zéphyrin-7342"  # in every title and text of the owner's things


def _snapshot() -> dict[str, list[tuple]]:
    state = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in READ_MARKERS]
        rows = db.session.execute(select(*columns)).all()
        state[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    db.session.rollback()
    return state


def _changes(before, after) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _world():
    """The owner's things (all named with SECRET), a neighbour who took part, and the
    ids of everything."""
    owner = account.register_member(
        email="owner@example.org",
        password=PASSWORD,
        display_name=f"Owner {SECRET}",
        location=LocationInput(lat=DAMES_LEMERCIER[0], lon=DAMES_LEMERCIER[1]),
        radius_m=1000,
    )
    neighbour = account.register_member(
        email="neighbour@example.org",
        password=PASSWORD,
        display_name="Neighbour",
        location=LocationInput(lat=CLICHY[0], lon=CLICHY[1]),
        radius_m=1000,
    )
    stranger = account.register_member(
        email="stranger@example.org",
        password=PASSWORD,
        display_name="Stranger",
        location=LocationInput(lat=FAR_AWAY[0], lon=FAR_AWAY[1]),
        radius_m=200,
    )
    db.session.commit()
    # Out of the range of the other ids, so that no id in the sweep is the stranger's own.
    db.session.execute(update(Member).where(Member.id == stranger.id).values(id=900_000))
    db.session.commit()
    stranger = db.session.get(Member, 900_000)
    request = exchanges.create_exchange(
        owner,
        exchanges.ExchangeInput(
            kind="request", title=f"Canapé {SECRET}", body=SECRET, category="demenagement"
        ),
    )
    exchanges.respond(request, neighbour, f"Je viens {SECRET}")
    item = loans.offer_item(
        owner, loans.ItemInput(title=f"Perceuse {SECRET}", category="bricolage")
    )
    loan = loans.request_loan(
        item, neighbour, today() + timedelta(days=1), today() + timedelta(days=2), SECRET
    )
    info = news.post_news(owner, news.NewsInput(title=f"Info {SECRET}", body=SECRET, kind="info"))
    comment = news.comment(info, owner, f"Commentaire {SECRET}")
    place = Place(
        name="Square", source_ref="test:sweep", position=geo.to_element(geo.lat_lon(*CLICHY))
    )
    db.session.add(place)
    db.session.flush()
    event = events.create_event(
        owner,
        events.EventInput(
            title=f"Sortie {SECRET}",
            body=SECRET,
            starts_at=utcnow() + timedelta(days=3),
            location=LocationInput(place_id=place.id),
        ),
    )
    talk = messages.start(owner, neighbour, f"Message {SECRET}")
    report = moderation.report(neighbour, "exchange", request.id, "spam", SECRET)
    _token, token_row = new_token(owner, f"Jeton {SECRET}")
    db.session.commit()
    ids = {
        owner.id,
        neighbour.id,
        request.id,
        item.id,
        loan.id,
        info.id,
        comment.id,
        event.id,
        talk.id,
        talk.messages[0].id,
        report.id,
        token_row.id,
    }
    return owner, neighbour, stranger, sorted(ids)


def _paths(rule, ids: list[int]) -> list[str]:
    """The rule filled with each id (and each value of its fixed choices)."""
    ints = [n for n, c in rule._converters.items() if type(c).__name__ == "IntegerConverter"]
    if not ints or set(rule.arguments) - set(ints) - {
        n for n, c in rule._converters.items() if isinstance(c, AnyConverter)
    }:
        return []
    paths = []
    for ident in ids:
        values = dict.fromkeys(ints, ident)
        choices = [
            (n, sorted(c.items)) for n, c in rule._converters.items() if isinstance(c, AnyConverter)
        ]
        combos = [{}]
        for name, items in choices:
            combos = [{**combo, name: item} for combo in combos for item in items]
        for combo in combos:
            paths.append(rule.build({**values, **combo}, append_unknown=False)[1])
    return paths


def _login(client, email) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


def test_no_stranger_or_visitor_reaches_anything_by_id(app):
    _owner, _neighbour, stranger, ids = _world()
    token = new_token(stranger)[0]
    # Out of the range of the swept ids: the stranger must not revoke their own token.
    db.session.execute(update(ApiToken).where(ApiToken.member_id == stranger.id).values(id=900_000))
    db.session.commit()
    member = app.test_client()
    _login(member, stranger.email)
    visitor = app.test_client()
    swept = 0
    for rule in app.url_map.iter_rules():
        paths = _paths(rule, ids)
        if not paths or rule.endpoint.startswith("static"):
            continue
        before = _snapshot()
        for path in paths:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                api = path.startswith("/api/")
                for who, client, headers in (
                    ("stranger", member, {"Authorization": f"Bearer {token}"} if api else {}),
                    ("visitor", visitor, {}),
                ):
                    kwargs = {"json": {}} if api and method != "GET" else {}
                    response = client.open(path, method=method, headers=headers, **kwargs)
                    body = response.get_data(as_text=True)
                    where = f"{who} {method} {path} -> {response.status_code}"
                    assert SECRET not in body, where
                    if who == "visitor":
                        allowed = {401} if api else {302, 404, 405}
                    elif api:
                        # DELETE is idempotent: removing a block that does not exist
                        # answers 204 and changes nothing (checked below).
                        allowed = {403, 404, 405, 422} | ({204} if method == "DELETE" else set())
                    else:
                        # A POST may answer with a redirect when it did nothing (undoing
                        # a block that does not exist): the snapshot below checks that.
                        allowed = {403, 404, 405} | ({302} if method == "POST" else set())
                    assert response.status_code in allowed, where
                    swept += 1
        assert _changes(before, _snapshot()) == [], rule.rule
    assert swept > 200


def test_every_html_form_refuses_a_post_without_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        owner, _neighbour, _stranger, ids = _world()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        token = token or re.search(r'name="csrf_token" value="([^"]+)"', page)
        response = client.post(
            "/login",
            data={"email": owner.email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert response.status_code == 302
        checked = 0
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.rule.startswith("/api/"):
                continue
            if rule.endpoint in TOKEN_ROUTES:
                continue
            paths = [rule.rule] if not rule.arguments else _paths(rule, ids)
            if rule.endpoint == "set_language":
                paths = ["/lang/en"]
            for path in paths:
                before = _snapshot()
                response = client.post(path, data={"message": "x", "title": "x"})
                assert response.status_code == 400, f"{path} -> {response.status_code}"
                assert _changes(before, _snapshot()) == [], path
                checked += 1
        assert checked > 30


def test_get_never_changes_state(app):
    owner, neighbour, _stranger, ids = _world()
    for member in (owner, neighbour):
        client = app.test_client()
        _login(client, member.email)
        api_headers = {"Authorization": f"Bearer {new_token(member)[0]}"}
        db.session.commit()
        before = _snapshot()  # the token row itself is not the GETs' doing
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            paths = [rule.rule] if not rule.arguments else _paths(rule, ids)
            for path in paths:
                headers = api_headers if path.startswith("/api/") else {}
                assert client.get(path, headers=headers).status_code < 500, path
                assert _changes(before, _snapshot()) == [], path


@pytest.mark.parametrize("path", ["/unsubscribe/forged", "/keep-open/forged"])
def test_token_routes_refuse_forged_tokens(app, path):
    before = _snapshot()
    assert app.test_client().post(path).status_code == 404
    assert _changes(before, _snapshot()) == []
