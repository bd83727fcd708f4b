"""JSON API v1, exchanges: lifecycle, scoping, permissions, bad input, lists, privacy."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from peuplade import geo
from peuplade.account.tokens import new_token
from peuplade.exchanges import schemas as xs
from peuplade.exchanges import services
from peuplade.extensions import db
from peuplade.localtime import today
from peuplade.models import Exchange, ExchangeResponse, Place, Post, Thanks
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER
from tests.test_exchanges_scoping import offset
from tests.test_privacy import HOMES, VIEWER_HOME, _other_homes_leaked

NEW = {
    "kind": "request",
    "title": "Porter un canapé",
    "body": "Samedi matin, deuxième étage sans ascenseur.",
    "category": "demenagement",
}


class Caller:
    """One member talking to the API with a bearer token of their own."""

    def __init__(self, client, member):
        self.client = client
        self.member_id = member.id
        self.headers = {"Authorization": f"Bearer {new_token(member)[0]}"}
        db.session.commit()

    def get(self, path):
        return self.client.get("/api/v1" + path, headers=self.headers)

    def post(self, path, json=None):
        return self.client.post("/api/v1" + path, json=json, headers=self.headers)

    def patch(self, path, json=None):
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers)

    def delete(self, path):
        return self.client.delete("/api/v1" + path, headers=self.headers)


def _rows() -> dict[str, int]:
    db.session.rollback()  # a fresh snapshot: the requests committed in other sessions
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Post, Exchange, ExchangeResponse, Thanks)
    }


def quick(author, **changes) -> Exchange:
    """An exchange written straight through the service (to set the scene)."""
    exchange = services.create_exchange(author, services.ExchangeInput(**{**NEW, **changes}))
    db.session.commit()
    return exchange


def _fields(response, status: int = 422) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"].get("fields", {})


@pytest.fixture
def street(client, make_member):
    far = offset(geo.lat_lon(*BATIGNOLLES), 3000)
    members = {
        "author": make_member("Autrice", at=BATIGNOLLES, radius_m=1500),
        "alice": make_member("Alice", at=CLICHY, skills=["demenagement"]),
        "bruno": make_member("Bruno", at=DAMES_LEMERCIER, skills=["jardinage"]),
        "far": make_member("Lointain", at=far, radius_m=1000, skills=["demenagement"]),
    }
    return {name: Caller(client, m) for name, m in members.items()} | {"members": members}


# --- lifecycle ------------------------------------------------------------------------


def test_request_answered_closed_and_thanked_both_ways(street):
    author, alice, bruno = street["author"], street["alice"], street["bruno"]
    r = author.post("/exchanges", json={**NEW, "starts_on": str(today() + timedelta(days=3))})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert set(created) == set(xs.ExchangeDetailOut.model_fields)
    assert r.headers["Location"] == f"/api/v1/exchanges/{created['id']}"
    assert created["status"] == "open" and created["reach_m"] == 1500
    assert created["author"] == {
        "id": author.member_id,
        "display_name": "Autrice",
        "avatar_url": None,
    }
    assert created["starts_on"] == str(today() + timedelta(days=3))
    assert created["place_name"] is None and created["helper"] is None
    assert created["neighbours_who_know_how"] == 1  # Alice; Lointain is out of reach
    assert created["responses"] == [] and created["matches"] == []
    path = f"/exchanges/{created['id']}"

    listed = alice.get("/exchanges").get_json()
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    assert set(listed["items"][0]) == set(xs.ExchangeOut.model_fields)
    assert listed["items"][0]["distance_band"] == "~500 m"
    assert listed["next_cursor"] is None
    assert [e["id"] for e in alice.get("/for-you").get_json()["items"]] == [created["id"]]
    assert bruno.get("/for-you").get_json()["items"] == []  # not his know-how

    r = alice.post(f"{path}/responses", json={"message": "Je peux vous aider samedi."})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["author"]["display_name"] == "Alice"
    assert bruno.post(f"{path}/responses", json={"message": "Moi aussi"}).status_code == 201
    assert _fields(alice.post(f"{path}/responses", json={"message": "Encore"}), 409) == {}

    seen = alice.get(path).get_json()
    assert seen["my_response"]["message"] == "Je peux vous aider samedi."
    assert seen["responses"] is None and seen["matches"] is None
    assert seen["responses_count"] == 2
    mine = author.get(path).get_json()
    assert [x["author"]["display_name"] for x in mine["responses"]] == ["Alice", "Bruno"]
    assert mine["my_response"] is None

    r = author.post(f"{path}/close", json={"outcome": "done", "helper_id": alice.member_id})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "done"
    assert r.get_json()["helper"] == {
        "id": alice.member_id,
        "display_name": "Alice",
        "avatar_url": None,
    }
    assert author.post(f"{path}/close", json={"outcome": "cancelled"}).status_code == 409
    assert alice.post(f"{path}/responses", json={"message": "Trop tard"}).status_code == 409
    assert alice.get("/exchanges").get_json()["items"] == []  # closed: off the lists
    assert bruno.get(path).get_json()["status"] == "done"  # responders see the outcome

    r = author.post(f"{path}/thanks", json={"message": "Merci Alice, au top !"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["to_member"]["id"] == alice.member_id
    assert alice.post(f"{path}/thanks", json={"message": "Avec plaisir !"}).status_code == 201
    assert author.post(f"{path}/thanks", json={"message": "Encore merci"}).status_code == 409
    assert bruno.post(f"{path}/thanks", json={"message": "Et moi ?"}).status_code == 403
    assert len(author.get(path).get_json()["thanks"]) == 2

    assert bruno.get(f"/members/{alice.member_id}").get_json()["thanks_count"] == 1
    assert bruno.get(f"/members/{author.member_id}").get_json()["thanks_count"] == 1
    assert alice.get(f"/members/{street['bruno'].member_id}").get_json()["thanks_count"] == 0


def test_an_offer_lists_the_requests_it_could_answer(street):
    request = quick(street["members"]["alice"], title="Monter une armoire")
    r = street["author"].post(
        "/exchanges", json={**NEW, "kind": "offer", "title": "J'ai un diable"}
    )
    assert r.status_code == 201, r.get_json()
    assert [m["id"] for m in r.get_json()["matches"]] == [request.id]
    assert r.get_json()["neighbours_who_know_how"] is None  # counted for requests only


# --- scoping and permissions ----------------------------------------------------------


def test_outside_my_neighbourhood_is_404_and_unlisted_but_the_author_sees_it(street):
    far = street["far"]
    exchange = quick(street["members"]["author"])
    path = f"/exchanges/{exchange.id}"
    assert far.get(path).status_code == 404
    assert far.get("/exchanges").get_json()["items"] == []
    assert far.get("/for-you").get_json()["items"] == []  # in his skills, yet too far
    for r in (
        far.patch(path, json={"title": "Piraté"}),
        far.delete(path),
        far.post(f"{path}/responses", json={"message": "Coucou"}),
        far.post(f"{path}/close", json={"outcome": "cancelled"}),
        far.post(f"{path}/thanks", json={"message": "Merci"}),
    ):
        assert r.status_code == 404, r.get_json()
        assert r.get_json()["error"]["code"] == "not_found"
    assert street["author"].get(path).status_code == 200
    # The author's own exchange stays theirs to see even when it no longer reaches home.
    lonely = quick(far_member := street["members"]["far"])
    assert far.get(f"/exchanges/{lonely.id}").get_json()["author"]["id"] == far_member.id
    assert street["alice"].get(f"/exchanges/{lonely.id}").status_code == 404
    assert street["alice"].get("/exchanges/2147483648").status_code == 404
    assert street["alice"].get("/exchanges/99999999999999999999").status_code == 404


def test_only_the_author_edits_closes_or_deletes_and_nobody_answers_their_own(street):
    author, alice = street["author"], street["alice"]
    exchange = quick(street["members"]["author"])
    path = f"/exchanges/{exchange.id}"
    before = _rows()
    assert alice.patch(path, json={"title": "Piraté"}).status_code == 403
    assert alice.delete(path).status_code == 403
    assert alice.post(f"{path}/close", json={"outcome": "cancelled"}).status_code == 403
    assert author.post(f"{path}/responses", json={"message": "Moi !"}).status_code == 403
    assert author.post(f"{path}/thanks", json={"message": "Merci"}).status_code == 409
    fields = _fields(author.post(f"{path}/close", json={"outcome": "done", "helper_id": 1}))
    assert set(fields) == {"helper_id"}  # nobody answered yet
    assert _fields(author.post(f"{path}/close", json={"outcome": "fini"})).keys() == {"outcome"}
    assert _rows() == before
    assert author.get(path).get_json()["title"] == NEW["title"]

    assert author.post(f"{path}/close", json={"outcome": "cancelled"}).status_code == 200
    assert author.patch(path, json={"title": "Autre titre"}).status_code == 409
    assert alice.post(f"{path}/responses", json={"message": "Trop tard"}).status_code == 409
    assert author.post(f"{path}/thanks", json={"message": "Merci"}).status_code == 409
    assert author.delete(path).status_code == 204
    assert author.get(path).status_code == 404
    assert _rows()["Exchange"] == before["Exchange"] - 1


# --- editing --------------------------------------------------------------------------


def test_patch_changes_the_given_fields_and_null_clears_a_date(street):
    author = street["author"]
    day = today() + timedelta(days=5)
    exchange = quick(street["members"]["author"], starts_on=day, ends_on=day + timedelta(days=2))
    path = f"/exchanges/{exchange.id}"
    r = author.patch(path, json={"title": "Porter une armoire", "ends_on": None, "reach_m": 800})
    assert r.status_code == 200, r.get_json()
    changed = r.get_json()
    assert changed["title"] == "Porter une armoire"
    assert changed["body"] == NEW["body"]
    assert (changed["starts_on"], changed["ends_on"]) == (str(day), None)
    assert changed["reach_m"] == 800
    # All or nothing: a good title with a bad category changes nothing.
    bad = author.patch(path, json={"title": "Nouveau titre", "category": "plomberie"})
    assert set(_fields(bad)) == {"category"}
    for body, field in (
        ({"title": None}, "title"),
        ({"kind": "demande"}, "kind"),
        ({"starts_on": str(today() - timedelta(days=1))}, "starts_on"),
        ({"ends_on": str(day - timedelta(days=1))}, "ends_on"),
        ({"starts_on": "demain"}, "starts_on"),
        ({"location": None}, "location"),
        ({"reach_m": 9000}, "reach_m"),
        ({"status": "done"}, "status"),
    ):
        assert field in _fields(author.patch(path, json=body)), body
    expected = {
        "title": "Porter une armoire",
        "category": "demenagement",
        "starts_on": str(day),
        "ends_on": None,
        "reach_m": 800,
        "status": "open",
    }
    now = author.get(path).get_json()
    assert {key: now[key] for key in expected} == expected


def test_posting_at_a_public_place(street):
    place = Place(
        name="Square des Batignolles",
        source_ref="test:square",
        position=geo.to_element(geo.lat_lon(48.8851, 2.3195)),
    )
    db.session.add(place)
    db.session.commit()
    r = street["author"].post("/exchanges", json={**NEW, "location": {"place_id": place.id}})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["place_name"] == "Square des Batignolles"
    assert r.get_json()["position"] == {"lat": 48.8851, "lon": 2.3195}


# --- bad input ------------------------------------------------------------------------


def test_every_bad_input_is_a_422_on_its_field_and_writes_nothing(street):
    author = street["author"]
    far_place = Place(
        name="Place de la Nation",
        source_ref="test:nation",
        position=geo.to_element(geo.lat_lon(48.8483, 2.3959)),
    )
    db.session.add(far_place)
    db.session.commit()
    first = today()
    cases = [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"body": ""}, "body"),
        ({"body": "x" * 4001}, "body"),
        ({"kind": "demande"}, "kind"),
        ({"category": "plomberie"}, "category"),
        ({"starts_on": str(first - timedelta(days=1))}, "starts_on"),
        (
            {"starts_on": str(first + timedelta(days=5)), "ends_on": str(first + timedelta(4))},
            "ends_on",
        ),
        ({"starts_on": "31/12/2030"}, "starts_on"),
        ({"starts_on": "2030-02-30"}, "starts_on"),
        ({"ends_on": "2030-1-5"}, "ends_on"),
        ({"starts_on": 20301231}, "starts_on"),
        ({"reach_m": 50}, "reach_m"),
        ({"reach_m": 9000}, "reach_m"),
        ({"reach_m": "abc"}, "reach_m"),
        ({"reach_m": True}, "reach_m"),
        ({"reach_m": 1000.5}, "reach_m"),
        ({"location": {"place_id": 999_999}}, "location"),
        ({"location": {"place_id": far_place.id}}, "location"),
        ({"location": {"place_id": "un"}}, "location"),
        ({"location": {"lat": math.nan, "lon": 2.32}}, "location"),
        ({"location": {"lat": 200, "lon": 2.32}}, "location"),
        ({"location": {"lat": 48.84, "lon": 2.40}}, "location"),  # Nation: 5 km away
        ({"location": {"lat": 48.88}}, "location"),
        ({"location": "chez moi"}, "location"),
        ({"colour": "rouge"}, "colour"),
        ({"title": 42}, "title"),
        ({"category": ["cuisine"]}, "category"),
        ({"title": None}, "title"),
        ({"location": None}, "location"),
        ({"reach_m": None}, "reach_m"),
        ({"starts_on": None}, "starts_on"),
    ]
    before = _rows()
    for changes, field in cases:
        r = author.post("/exchanges", json={**NEW, **changes})
        assert r.status_code == 422, (changes, r.get_json())
        error = r.get_json()["error"]
        assert error["code"] == "validation_failed"
        assert field in error["fields"], (changes, error)
        assert error["fields"][field].strip(), changes
    r = author.post("/exchanges", json={k: v for k, v in NEW.items() if k != "kind"})
    assert set(_fields(r)) == {"kind"}
    # Every business problem is reported at once.
    r = author.post(
        "/exchanges", json={**NEW, "title": "", "category": "?", "reach_m": 1, "body": ""}
    )
    assert set(_fields(r)) == {"title", "category", "reach_m", "body"}
    r = author.client.post(
        "/api/v1/exchanges", data="pas du json", headers=author.headers, content_type="text/plain"
    )
    assert r.status_code == 400
    assert _rows() == before


def test_bad_list_parameters_are_422_on_their_field(street):
    alice = street["alice"]
    for query, field in (
        ("kind=demande", "kind"),
        ("category=plomberie", "category"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("q=" + "x" * 201, "q"),
    ):
        assert field in _fields(alice.get(f"/exchanges?{query}")), query
    # A cursor we did not sign is malformed input: 400, naming it.
    assert "cursor" in _fields(alice.get("/exchanges?cursor=forged"), 400)
    assert "cursor" in _fields(alice.get("/for-you?cursor=forged"), 400)


# --- lists ----------------------------------------------------------------------------


def test_pages_of_10_walk_25_exchanges_without_duplicates_or_gaps(street):
    author = street["members"]["author"]
    ids = {quick(author, title=f"Annonce {n}").id for n in range(25)}
    seen: list[int] = []
    sizes = []
    cursor = ""
    while True:
        page = street["alice"].get(f"/exchanges?limit=10&cursor={cursor}").get_json()
        sizes.append(len(page["items"]))
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [10, 10, 5]
    assert len(seen) == len(set(seen)) and set(seen) == ids
    assert seen == sorted(seen, reverse=True)  # newest first


def test_search_and_filters(street):
    author, bruno = street["members"]["author"], street["members"]["bruno"]
    bike = quick(author, title="Réparer un vélo", body="Roue voilée.", category="bricolage")
    plants = quick(bruno, title="Arroser les plantes", body="En août.", category="jardinage")
    offer = quick(bruno, kind="offer", title="Je prête ma perceuse", category="bricolage")
    alice = street["alice"]

    def ids(query: str) -> set[int]:
        r = alice.get(f"/exchanges?{query}")
        assert r.status_code == 200, r.get_json()
        return {e["id"] for e in r.get_json()["items"]}

    assert ids("") == {bike.id, plants.id, offer.id}
    assert ids("q=vélo") == {bike.id}
    assert ids("q=plantes") == {plants.id}
    assert ids("q=roue") == {bike.id}  # the description too
    assert ids("kind=offer") == {offer.id}
    assert ids("category=bricolage") == {bike.id, offer.id}
    assert ids("kind=request&category=bricolage") == {bike.id}
    assert ids("q=piano") == set()


def test_a_longer_list_costs_no_more_queries(app, street):
    """Authors, helpers and response counts come with the page, not one query per item."""
    author, bruno = street["members"]["author"], street["members"]["bruno"]
    quick(author, title="La première")

    def statements() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert street["alice"].get("/exchanges").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    statements()  # the token's first use is recorded once: not part of the list's cost
    few = statements()
    for n in range(10):
        e = quick(bruno if n % 2 else author, title=f"Annonce {n}")
        services.respond(e, author if n % 2 else bruno, "Oui")
    db.session.commit()
    assert len(street["alice"].get("/exchanges").get_json()["items"]) == 11
    assert statements() == few


# --- privacy --------------------------------------------------------------------------


def test_no_exchange_answer_contains_a_members_home(client, make_member):
    members = [
        make_member(name, at=at, radius_m=2000, skills=["bricolage"]) for name, at in HOMES.items()
    ]
    members.append(make_member("Viewer", at=VIEWER_HOME, radius_m=2000, skills=["bricolage"]))
    alice, bruno, chloe, viewer = (Caller(client, m) for m in members)
    bodies = []
    r = alice.post("/exchanges", json={**NEW, "category": "bricolage"})
    bodies.append(r.get_data(as_text=True))
    path = f"/exchanges/{r.get_json()['id']}"
    bruno.post("/exchanges", json={**NEW, "kind": "offer", "category": "bricolage"})
    for caller in (bruno, chloe, viewer):
        bodies.append(caller.post(f"{path}/responses", json={"message": "Oui"}).get_data(True))
    for caller in (alice, bruno, chloe, viewer):
        for p in (path, "/exchanges", "/for-you"):
            bodies.append(caller.get(p).get_data(as_text=True))
    r = alice.post(f"{path}/close", json={"outcome": "done", "helper_id": bruno.member_id})
    bodies.append(r.get_data(as_text=True))
    bodies.append(bruno.post(f"{path}/thanks", json={"message": "Merci"}).get_data(True))
    everything = "\n".join(bodies)
    # The check saw real data: the responders' names and the posts' positions.
    assert '"display_name":"Chlo' in everything and '"position"' in everything
    assert _other_homes_leaked(everything, members) == []
