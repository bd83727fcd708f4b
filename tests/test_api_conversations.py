"""JSON API v1, conversations: inbox, unread counts, permissions, bad input, privacy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.messages import schemas as cs
from peuplade.models import Conversation, Message
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.test_api_exchanges import Caller
from tests.test_privacy import _other_homes_leaked

ROUTES = {
    ("/api/v1/conversations", "get"),
    ("/api/v1/conversations", "post"),
    ("/api/v1/conversations/unread", "get"),
    ("/api/v1/conversations/{conversation_id}/messages", "get"),
    ("/api/v1/conversations/{conversation_id}/messages", "post"),
}


def _rows() -> tuple[int, int]:
    db.session.rollback()  # a fresh snapshot: the requests committed in other sessions
    return (
        db.session.scalar(select(func.count()).select_from(Conversation)),
        db.session.scalar(select(func.count()).select_from(Message)),
    )


@pytest.fixture
def street(client, make_member):
    members = {
        "anne": make_member("Anne", at=DAMES_LEMERCIER),
        "bruno": make_member("Bruno", at=CLICHY),
        "chloe": make_member("Chloé", at=CLICHY),
        "far": make_member("Lointain", at=FAR_AWAY),  # about 7 km away, nothing shared
    }
    return {name: Caller(client, m) for name, m in members.items()} | {"members": members}


def test_neighbours_talk_with_unread_counts_and_nobody_else_reads(street):
    anne, bruno, chloe = street["anne"], street["bruno"], street["chloe"]
    offer = exchanges.create_exchange(
        street["members"]["anne"],
        exchanges.ExchangeInput(
            kind="offer", title="Prêt d'échelle", body="3 mètres.", category="bricolage"
        ),
    )
    db.session.commit()
    r = bruno.post(
        "/conversations",
        json={
            "member_id": anne.member_id,
            "about": {"type": "exchange", "id": offer.id},
            "message": "Bonjour, l'échelle est libre samedi ?",
        },
    )
    assert r.status_code == 201, r.get_json()
    talk = r.get_json()
    assert set(talk) == {"id", "with", "about", "last_message_at", "unread"}
    cs.ConversationOut.model_validate(talk)
    assert talk["with"] == {"id": anne.member_id, "display_name": "Anne", "avatar_url": None}
    assert talk["about"] == {"type": "exchange", "id": offer.id, "title": "Prêt d'échelle"}
    assert talk["unread"] == 0  # my own message
    path = f"/conversations/{talk['id']}/messages"
    assert r.headers["Location"] == f"/api/v1{path}"

    assert anne.get("/conversations/unread").get_json() == {"unread": 1}
    inbox = anne.get("/conversations").get_json()
    assert inbox["next_cursor"] is None
    assert [(c["id"], c["unread"], c["with"]["display_name"]) for c in inbox["items"]] == [
        (talk["id"], 1, "Bruno")
    ]
    r = anne.post(path, json={"message": "Oui, passez à 10 h."})
    assert r.status_code == 201, r.get_json()
    assert set(r.get_json()) == set(cs.MessageOut.model_fields)
    assert r.get_json()["author"] == {
        "id": anne.member_id,
        "display_name": "Anne",
        "avatar_url": None,
    }
    assert anne.post(path, json={"message": "Sonnez deux fois."}).status_code == 201
    assert bruno.get("/conversations/unread").get_json() == {"unread": 2}

    # Bruno reads page by page: oldest first; only the last page marks it read.
    first = bruno.get(f"{path}?limit=2").get_json()
    assert [m["body"] for m in first["items"]] == [
        "Bonjour, l'échelle est libre samedi ?",
        "Oui, passez à 10 h.",
    ]
    assert first["next_cursor"]
    assert bruno.get("/conversations/unread").get_json() == {"unread": 2}
    rest = bruno.get(f"{path}?limit=2&cursor={first['next_cursor']}").get_json()
    assert [m["body"] for m in rest["items"]] == ["Sonnez deux fois."]
    assert rest["next_cursor"] is None
    assert bruno.get("/conversations/unread").get_json() == {"unread": 0}
    assert bruno.get("/conversations").get_json()["items"][0]["unread"] == 0
    assert anne.get("/conversations/unread").get_json() == {"unread": 0}

    # A third member, even a neighbour, cannot tell the conversation exists.
    assert chloe.get("/conversations").get_json()["items"] == []
    before = _rows()
    assert chloe.get(path).status_code == 404
    assert chloe.post(path, json={"message": "Je m'invite"}).status_code == 404
    assert bruno.get("/conversations/2147483647/messages").status_code == 404
    assert _rows() == before

    members = list(street["members"].values())
    for caller in (anne, bruno):
        for url in ("/conversations", path, "/conversations/unread"):
            body = caller.get(url).get_data(as_text=True)
            assert _other_homes_leaked(body, members) == [], url


def test_strangers_and_unknown_members_are_refused(street):
    anne, far = street["anne"], street["far"]
    r = far.post("/conversations", json={"member_id": anne.member_id, "message": "Bonjour"})
    assert r.status_code == 403, r.get_json()
    r = far.post("/conversations", json={"member_id": 2147483647, "message": "Bonjour"})
    assert r.status_code == 404, r.get_json()
    r = anne.post("/conversations", json={"member_id": anne.member_id, "message": "Moi"})
    assert r.status_code == 403, r.get_json()
    assert _rows() == (0, 0)


def test_bad_input_is_refused_and_nothing_is_written(street):
    anne, bruno = street["anne"], street["bruno"]
    r = bruno.post("/conversations", json={"member_id": anne.member_id, "message": "Bonjour"})
    assert r.status_code == 201, r.get_json()
    path = f"/conversations/{r.get_json()['id']}/messages"
    before = _rows()
    start = {"member_id": anne.member_id, "message": "Bonjour"}
    cases = [
        ("/conversations", {**start, "message": "   "}, "message"),
        ("/conversations", {**start, "message": "x" * 4001}, "message"),
        ("/conversations", {"member_id": anne.member_id}, "message"),
        ("/conversations", {**start, "message": 42}, "message"),
        ("/conversations", {**start, "member_id": "deux"}, "member_id"),
        ("/conversations", {**start, "member_id": 2**31}, "member_id"),
        ("/conversations", {**start, "about": {"type": "planète", "id": 1}}, "about"),
        ("/conversations", {**start, "about": {"type": "exchange", "id": 999999}}, "about"),
        ("/conversations", {**start, "about": {"type": "item"}}, "about"),
        ("/conversations", {**start, "about": None}, "about"),
        ("/conversations", {**start, "surprise": 1}, "surprise"),
        (path, {"message": ""}, "message"),
        (path, {"message": "x" * 4001}, "message"),
        (path, {}, "message"),
    ]
    for url, body, field in cases:
        r = bruno.post(url, json=body)
        assert r.status_code == 422, (body, r.get_json())
        assert field in r.get_json()["error"]["fields"], (body, r.get_json())
    r = bruno.get(f"{path}?cursor=abimé")
    assert r.status_code == 400 and "cursor" in r.get_json()["error"]["fields"]
    assert _rows() == before


def test_every_conversation_route_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented >= ROUTES
    starting = spec["paths"]["/api/v1/conversations"]["post"]
    assert {"201", "403", "404", "422"} <= set(starting["responses"])
    assert spec["components"]["schemas"]["ConversationOut"]["required"][1] == "with"
