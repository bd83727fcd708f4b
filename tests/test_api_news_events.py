"""JSON API v1, news, events and the home timeline: lifecycle, scoping, permissions,
RSVP limits, bad input, pagination, statement counts, privacy."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from peuplade import geo
from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.models import Event, NewsComment, NewsPost, Place, Post, Rsvp, utcnow
from peuplade.news import schemas as ns
from peuplade.news import services as news
from peuplade.timeline import schemas as ts
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.test_api_exchanges import Caller
from tests.test_privacy import HOMES, VIEWER_HOME, _other_homes_leaked

NEWS = {"title": "Coupure d'eau mardi", "body": "De 9 h à 12 h, rue des Dames."}
SQUARE = (48.88335, 2.31841)


def _event_body(at: Place, **changes) -> dict:
    return {
        "title": "Pique-nique au square",
        "body": "Chacun apporte un plat.",
        "starts_at": (utcnow() + timedelta(days=3)).isoformat(),
        "location": {"place_id": at.id},
        **changes,
    }


def _rows() -> dict[str, int]:
    db.session.rollback()  # a fresh snapshot: the requests committed in other sessions
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Post, NewsPost, NewsComment, Event, Rsvp)
    }


def _fields(response, status: int = 422) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"].get("fields", {})


@pytest.fixture
def street(client, make_member):
    members = {
        "author": make_member("Autrice", at=DAMES_LEMERCIER),
        "alice": make_member("Alice", at=CLICHY),
        "bruno": make_member("Bruno", at=CLICHY),
        "far": make_member("Lointain", at=FAR_AWAY),  # about 7 km away
    }
    place = Place(name="Square des Batignolles", source_ref="test:square")
    place.position = geo.to_element(geo.lat_lon(*SQUARE))
    db.session.add(place)
    db.session.commit()
    callers = {name: Caller(client, m) for name, m in members.items()}
    return callers | {"members": members, "place": place}


# --- news ------------------------------------------------------------------------------


def test_news_published_read_commented_edited_and_deleted(street):
    author, alice, far = street["author"], street["alice"], street["far"]
    r = author.post("/news", json={**NEWS, "link": "https://eau.example.org/travaux"})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert set(created) == set(ns.NewsOut.model_fields)
    assert r.headers["Location"] == f"/api/v1/news/{created['id']}"
    assert (created["type"], created["kind"], created["scope"]) == ("news", "info", "radius")
    assert created["quartier"] is None and created["comments_count"] == 0
    assert created["author"] == {
        "id": author.member_id,
        "display_name": "Autrice",
        "avatar_url": None,
    }
    assert created["created_at"].endswith("+00:00")
    path = f"/news/{created['id']}"

    listed = alice.get("/news").get_json()
    assert [n["id"] for n in listed["items"]] == [created["id"]]
    assert listed["items"][0]["distance_band"] and listed["next_cursor"] is None
    r = alice.post(f"{path}/comments", json={"body": "Merci pour l'info !"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["author"]["display_name"] == "Alice"
    assert author.post(f"{path}/comments", json={"body": "Avec plaisir"}).status_code == 201
    page = author.get(f"{path}/comments?limit=1").get_json()
    assert [c["body"] for c in page["items"]] == ["Merci pour l'info !"]  # oldest first
    rest = author.get(f"{path}/comments?limit=1&cursor={page['next_cursor']}").get_json()
    assert [c["body"] for c in rest["items"]] == ["Avec plaisir"] and not rest["next_cursor"]
    assert alice.get(path).get_json()["comments_count"] == 2

    # Another member: 403; 7 km away: 404, and never listed.
    assert alice.patch(path, json={"title": "Piraté"}).status_code == 403
    assert alice.delete(path).status_code == 403
    assert far.get("/news").get_json()["items"] == []
    for r in (
        far.get(path),
        far.patch(path, json={"title": "Piraté"}),
        far.delete(path),
        far.get(f"{path}/comments"),
        far.post(f"{path}/comments", json={"body": "Coucou"}),
    ):
        assert r.status_code == 404, r.get_json()
    r = author.patch(path, json={"kind": "alerte", "link": ""})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["kind"], r.get_json()["link"]) == ("alerte", None)
    assert r.get_json()["title"] == NEWS["title"]
    assert [n["id"] for n in alice.get("/news/alerts").get_json()["items"]] == [created["id"]]
    assert alice.get("/news?kind=info").get_json()["items"] == []
    assert author.delete(path).status_code == 204
    assert alice.get(path).status_code == 404
    assert _rows()["NewsComment"] == 0


def test_quartier_news_reach_the_whole_quartier_and_only_it(client, make_member, make_quartier):
    make_quartier("grand-quartier", around=(48.87, 2.33), half=0.03)  # ~6 km across
    author = Caller(client, make_member("Autrice", at=(48.850, 2.315), radius_m=200))
    across = Caller(client, make_member("De l'autre bout", at=(48.895, 2.350), radius_m=200))
    outside = Caller(client, make_member("Dehors", at=(48.80, 2.33), radius_m=5000))
    r = author.post("/news", json={**NEWS, "scope": "quartier", "kind": "vie_de_quartier"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["quartier"] == {"slug": "grand-quartier", "name": "Grand-Quartier"}
    path = f"/news/{r.get_json()['id']}"
    assert [n["id"] for n in across.get("/news").get_json()["items"]] == [r.get_json()["id"]]
    assert across.get(path).get_json()["scope"] == "quartier"
    assert outside.get("/news").get_json()["items"] == []
    assert outside.get(path).status_code == 404
    assert "scope" in _fields(outside.post("/news", json={**NEWS, "scope": "quartier"}))


def test_bad_news_are_422_on_their_field_and_write_nothing(street):
    author = street["author"]
    path = f"/news/{author.post('/news', json=NEWS).get_json()['id']}"
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"body": "x" * 4001}, "body"),
        ({"kind": "rumeur"}, "kind"),
        ({"scope": "ville"}, "scope"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"title": 42}, "title"),
        ({"title": None}, "title"),
        ({"colour": "rouge"}, "colour"),
    ]
    before = _rows()
    for changes, field in cases:
        assert field in _fields(author.post("/news", json={**NEWS, **changes})), changes
        assert field in _fields(author.patch(path, json=changes)), changes
    assert set(_fields(author.post("/news", json={"title": "Sans texte"}))) == {"body"}
    assert "body" in _fields(author.post(f"{path}/comments", json={"body": "  "}))
    assert "body" in _fields(author.post(f"{path}/comments", json={"body": "x" * 1001}))
    for query, field in (("kind=rumeur", "kind"), ("limit=0", "limit")):
        assert field in _fields(author.get(f"/news?{query}")), query
    assert "cursor" in _fields(author.get("/news?cursor=x"), 400)
    assert "cursor" in _fields(author.get(f"{path}/comments?cursor=forged"), 400)
    assert _rows() == before
    assert author.get(path).get_json()["title"] == NEWS["title"]


# --- events ----------------------------------------------------------------------------


def test_event_announced_answered_until_full_then_over(street):
    author, alice, bruno, far = (street[n] for n in ("author", "alice", "bruno", "far"))
    starts = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    body = _event_body(street["place"], capacity=1, place="ignoré")
    body["starts_at"] = starts.astimezone(ZoneInfo("Europe/Paris")).isoformat()
    r = author.post("/events", json=body)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert set(created) == set(ns.EventDetailOut.model_fields)
    assert r.headers["Location"] == f"/api/v1/events/{created['id']}"
    assert created["type"] == "event" and created["place_name"] == "Square des Batignolles"
    assert created["position"] == {"lat": SQUARE[0], "lon": SQUARE[1]}
    assert datetime.fromisoformat(created["starts_at"]) == starts  # same instant, with offset
    assert created["starts_at"].endswith("+00:00")
    assert (created["capacity"], created["going_count"], created["my_answer"]) == (1, 0, None)
    path = f"/events/{created['id']}"

    assert [e["id"] for e in alice.get("/events").get_json()["items"]] == [created["id"]]
    r = alice.post(f"{path}/rsvp", json={"going": True})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"going": True, "going_count": 1, "capacity": 1}
    assert _fields(bruno.post(f"{path}/rsvp", json={"going": True}), 409) == {}
    assert bruno.post(f"{path}/rsvp", json={"going": False}).get_json()["going_count"] == 1
    seen = alice.get(path).get_json()
    assert seen["my_answer"] is True and seen["going"] == [
        {"id": alice.member_id, "display_name": "Alice", "avatar_url": None}
    ]
    assert bruno.get(path).get_json()["my_answer"] is False
    assert alice.post(f"{path}/rsvp", json={"going": False}).get_json()["going_count"] == 0
    assert bruno.post(f"{path}/rsvp", json={"going": True}).status_code == 200

    assert alice.patch(path, json={"title": "Piraté"}).status_code == 403
    assert alice.delete(path).status_code == 403
    assert far.get("/events").get_json()["items"] == []
    for r in (
        far.get(path),
        far.post(f"{path}/rsvp", json={"going": True}),
        far.patch(path, json={"title": "Piraté"}),
        far.delete(path),
    ):
        assert r.status_code == 404, r.get_json()
    r = author.patch(path, json={"capacity": 2, "title": "Grand pique-nique"})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["capacity"], r.get_json()["title"]) == (2, "Grand pique-nique")

    db.session.rollback()
    past = db.session.get(Event, created["id"])
    past.starts_at = past.expires_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    assert _fields(alice.post(f"{path}/rsvp", json={"going": True}), 409) == {}
    assert alice.get("/events").get_json()["items"] == []  # over: off the list
    assert alice.get(path).status_code == 200  # still readable
    assert author.delete(path).status_code == 204
    assert _rows()["Rsvp"] == 0


def test_bad_events_are_422_on_their_field_and_write_nothing(street):
    author, place = street["author"], street["place"]
    path = f"/events/{author.post('/events', json=_event_body(place)).get_json()['id']}"
    soon = utcnow() + timedelta(days=3)
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"starts_at": soon.replace(tzinfo=None).isoformat()}, "starts_at"),
        ({"starts_at": "samedi soir"}, "starts_at"),
        ({"starts_at": (utcnow() - timedelta(hours=1)).isoformat()}, "starts_at"),
        ({"ends_at": (soon - timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": "x"}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"location": {"place_id": 999_999}}, "location"),
        ({"location": "square"}, "location"),
        ({"starts_at": 1767225600}, "starts_at"),
        ({"reach_m": 9000}, "reach_m"),
        ({"going": True}, "going"),
        ({"capacity": None}, "capacity"),
    ]
    before = _rows()
    for changes, field in cases:
        body = {**_event_body(place, starts_at=soon.isoformat()), **changes}
        assert field in _fields(author.post("/events", json=body)), changes
        assert field in _fields(author.patch(path, json=changes)), changes
    naive = _fields(author.post("/events", json={**_event_body(place), "starts_at": "2030-06-01"}))
    assert "fuseau" in naive["starts_at"] and "+01:00" in naive["starts_at"]
    missing = {k: v for k, v in _event_body(place).items() if k != "location"}
    assert set(_fields(author.post("/events", json=missing))) == {"location"}
    for going in ("oui", None, 1):
        assert "going" in _fields(author.post(f"{path}/rsvp", json={"going": going})), going
    assert _rows() == before


# --- the home timeline -----------------------------------------------------------------


def _scene(members, place, rounds: int) -> list[int]:
    """``rounds`` of one post of each type by the author, oldest first."""
    author, bruno = members["author"], members["bruno"]
    made = []
    for i in range(rounds):
        made.append(
            exchanges.create_exchange(
                author,
                exchanges.ExchangeInput(
                    kind="offer", title=f"Offre {i}", body="Texte", category="cuisine"
                ),
            ).id
        )
        made.append(
            loans.offer_item(
                bruno if i % 2 else author,
                loans.ItemInput(title=f"Perceuse {i}", description="", category="bricolage"),
            ).id
        )
        made.append(news.post_news(author, news.NewsInput(title=f"Info {i}", body="Texte")).id)
        when = utcnow() + timedelta(days=2)
        made.append(
            events.create_event(
                author,
                events.EventInput(
                    title=f"Sortie {i}",
                    body="Texte",
                    starts_at=when,
                    location=LocationInput(place_id=place.id),
                ),
            ).id
        )
        db.session.commit()
    return made


def test_feed_mixes_every_type_newest_first_in_keyset_pages(app, street):
    alice = street["alice"]
    made = _scene(street["members"], street["place"], 3)
    seen, cursor = [], ""
    while True:
        page = alice.get(f"/feed?limit=5&cursor={cursor}").get_json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [x["id"] for x in seen] == sorted(made, reverse=True)
    shapes = {
        "exchange": ts.FeedExchangeOut,
        "item": ts.FeedItemOut,
        "news": ns.NewsOut,
        "event": ns.EventOut,
    }
    for entry in seen:
        assert set(entry) == set(shapes[entry["type"]].model_fields), entry["type"]
    assert [x["type"] for x in seen[:4]] == ["event", "news", "item", "exchange"]
    only = alice.get("/feed?types=news,event").get_json()["items"]
    assert {x["type"] for x in only} == {"news", "event"} and len(only) == 6
    assert street["far"].get("/feed").get_json()["items"] == []
    # One's own posts are not in one's timeline: the author sees only Bruno's object.
    own = street["author"].get("/feed").get_json()["items"]
    assert [(x["type"], x["lender"]["display_name"]) for x in own] == [("item", "Bruno")]
    for query, field in (
        ("types=news,rumeurs", "types"),
        ("limit=101", "limit"),
    ):
        assert set(_fields(alice.get(f"/feed?{query}"))) == {field}, query
    assert set(_fields(alice.get("/feed?cursor=x"), 400)) == {"cursor"}


def test_a_longer_feed_page_costs_no_more_statements(app, street):
    alice = street["alice"]
    _scene(street["members"], street["place"], 6)

    def statements(limit: int) -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            r = alice.get(f"/feed?limit={limit}")
            assert r.status_code == 200 and len(r.get_json()["items"]) == limit
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    statements(1)  # the token's first use is recorded once: not part of the list's cost
    assert statements(20) == statements(5)


# --- privacy ---------------------------------------------------------------------------


def test_no_news_event_or_feed_answer_contains_a_members_home(client, make_member):
    members = [make_member(name, at=at, radius_m=2000) for name, at in HOMES.items()]
    members.append(make_member("Viewer", at=VIEWER_HOME, radius_m=2000))
    alice, bruno, chloe, viewer = (Caller(client, m) for m in members)
    bodies = []
    r = alice.post("/news", json=NEWS)
    bodies.append(r.get_data(as_text=True))
    news_path = f"/news/{r.get_json()['id']}"
    point = {"lat": 48.8851, "lon": 2.3195}
    r = bruno.post("/events", json={**_event_body_at(point), "capacity": 5})
    bodies.append(r.get_data(as_text=True))
    event_path = f"/events/{r.get_json()['id']}"
    for caller in (alice, bruno, chloe, viewer):
        caller.post(f"{news_path}/comments", json={"body": "Merci"})
        caller.post(f"{event_path}/rsvp", json={"going": True})
        for p in (news_path, f"{news_path}/comments", event_path, "/news", "/events", "/feed"):
            bodies.append(caller.get(p).get_data(as_text=True))
    everything = "\n".join(bodies)
    assert '"display_name":"Chlo' in everything and '"position"' in everything
    assert _other_homes_leaked(everything, members) == []


def _event_body_at(point: dict) -> dict:
    return {
        "title": "Pique-nique au square",
        "body": "Chacun apporte un plat.",
        "starts_at": (utcnow() + timedelta(days=3)).isoformat(),
        "location": point,
    }
