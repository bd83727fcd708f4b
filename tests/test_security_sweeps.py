"""Sweeps driven by the URL map, so that a new route is covered the day it is added.

- Authorisation (IDOR): every route that takes an object id, called with the ids of
  everything a member owns, by a stranger (another member who cannot see any of it)
  and by an anonymous visitor: never the object, never a change.
- CSRF: every state-changing HTML form refuses a POST without its token, even from
  the owner of the object, and changes nothing.
- GET never changes state (read markers and last-seen times aside).
- Photos (issue 22): every photo URL (a post's photo and thumbnail, a face) answers 404
  to a stranger out of reach, a blocked member and a visitor, 200 to a neighbour.
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
from peuplade.models import ApiToken, Member, Place, Post, utcnow
from peuplade.moderation import services as moderation
from peuplade.news import services as news
from peuplade.photos import processing
from peuplade.photos import services as photos
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD
from tests.photofiles import jpeg_bytes

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


# What each argument of a photo route is, for one photo.
PHOTO_ARGUMENTS = {
    "photo_id": lambda photo: photo.id,
    "token": lambda photo: photo.token,
    "member_id": lambda photo: photo.member_id,
}


def _photo_paths(app, photo) -> list[str]:
    """Every URL of the media blueprint that serves ``photo`` (each variant): the URL
    map's own rules, so a new photo route is swept the day it is added."""
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("media."):
            continue
        fixed = {n: c for n, c in rule._converters.items() if isinstance(c, AnyConverter)}
        unknown = set(rule.arguments) - set(PHOTO_ARGUMENTS) - set(fixed)
        assert not unknown, f"{rule.rule}: teach the photo sweep {sorted(unknown)}"
        if photo.is_avatar != ("member_id" in rule.arguments):
            continue
        values = {
            name: PHOTO_ARGUMENTS[name](photo) for name in rule.arguments if name not in fixed
        }
        combos = [{}]
        for name, converter in fixed.items():
            combos = [{**combo, name: item} for combo in combos for item in sorted(converter.items)]
        for combo in combos:
            paths.append(rule.build({**values, **combo}, append_unknown=False)[1])
    return paths


def test_no_stranger_blocked_member_or_visitor_sees_a_photo(app):
    owner, neighbour, stranger, _ids = _world()
    blocked = account.register_member(
        email="blocked@example.org",
        password=PASSWORD,
        display_name="Blocked",
        location=LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
        radius_m=1000,
    )
    db.session.commit()
    moderation.block(owner, blocked.id)
    posts = db.session.scalars(select(Post).where(Post.author_id == owner.id)).all()
    assert {p.type for p in posts} == {"exchange", "item", "news", "event"}
    shown = [photos.add_photo(post, jpeg_bytes(), f"Photo {post.type}", owner) for post in posts]
    shown.append(photos.set_avatar(owner, jpeg_bytes((400, 400))))
    staged = photos.stage_photo(owner, processing.process(jpeg_bytes()), "", "k" * 32)
    db.session.commit()
    with app.test_request_context():
        public = {p.id: _photo_paths(app, p) for p in shown}
        private = _photo_paths(app, staged)
    assert all(len(paths) == 2 for paths in public.values())  # full and thumbnail
    token = new_token(stranger)[0]
    db.session.commit()
    clients = {}
    for who, member in (("neighbour", neighbour), ("stranger", stranger), ("blocked", blocked)):
        clients[who] = app.test_client()
        _login(clients[who], member.email)
    clients["visitor"] = app.test_client()
    swept = 0
    for paths in public.values():
        for path in paths:
            # Who may see the post (or the member) sees its photos: the sweep can fail.
            assert clients["neighbour"].get(path).status_code == 200, path
            for who in ("stranger", "blocked", "visitor"):
                response = clients[who].get(path)
                assert response.status_code == 404, f"{who} {path}"
                assert response.mimetype != "image/jpeg", f"{who} {path}"
                swept += 1
            bearer = clients["visitor"].get(path, headers={"Authorization": f"Bearer {token}"})
            assert bearer.status_code == 404, f"stranger's token {path}"
            other_variant = re.sub(r"/(full|thumb)\.jpg$", "/original.jpg", path)
            assert clients["neighbour"].get(other_variant).status_code == 404, other_variant
    # A photo kept for a form not sent yet: its sender's only.
    owner_client = app.test_client()
    _login(owner_client, owner.email)
    for path in private:
        assert owner_client.get(path).status_code == 200, path
        for who in clients:
            assert clients[who].get(path).status_code == 404, f"{who} {path}"
    # A wrong token is a 404 even for whoever may see the photo.
    for photo in shown:
        for path in public[photo.id]:
            wrong = path.replace(photo.token, "A" * len(photo.token))
            assert clients["neighbour"].get(wrong).status_code == 404, wrong
    assert swept == 3 * 2 * len(shown)
