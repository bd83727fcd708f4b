"""JSON API v1, notifications: my list (newest first, paged, read-only), marking read
(mine only), email settings, bad input, tokens and privacy. Both backends."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from peuplade import pagination
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.messages import services as messages
from peuplade.models import Notification, NotificationSetting
from peuplade.notifications import schemas as ns
from peuplade.notifications.kinds import KINDS
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER
from tests.test_api_exchanges import Caller
from tests.test_privacy import _other_homes_leaked

ROUTES = {
    ("/api/v1/notifications", "get"),
    ("/api/v1/notifications/read", "post"),
    ("/api/v1/me/notification-settings", "get"),
    ("/api/v1/me/notification-settings", "patch"),
}
DEFAULTS = {name: kind.default for name, kind in KINDS.items()}
# Keys that would give away where someone lives, or how to reach them.
PRIVATE_KEYS = {"lat", "lon", "position", "home", "email", "distance_band"}


def _read_state(member) -> dict[int, bool]:
    """Each of the member's notifications: read or not, as committed."""
    db.session.rollback()  # a fresh snapshot: the requests committed in other sessions
    rows = db.session.execute(
        select(Notification.id, Notification.read_at).where(Notification.member_id == member.id)
    )
    return {ident: read_at is not None for ident, read_at in rows}


def _fields(response, status: int = 422) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"].get("fields", {})


def _keys(value) -> set[str]:
    """Every key anywhere in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


@pytest.fixture
def street(client, make_member):
    """Anne asked for help; Bruno and Chloé answered, Bruno wrote to her about it and
    Anne wrote back. Anne has three notifications, Bruno one, Chloé none."""
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    chloe = make_member("Chloé", at=BATIGNOLLES)
    request = exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="request", title="Monter un canapé", body="Au 3e.", category="demenagement"
        ),
    )
    db.session.commit()
    exchanges.respond(request, bruno, "Je peux samedi.")
    db.session.commit()
    exchanges.respond(request, chloe, "Moi aussi.")
    db.session.commit()
    talk = messages.start(bruno, anne, "Vers 10 h ?", messages.Subject("exchange", request.id))
    db.session.commit()
    messages.write(talk, anne, "Parfait.")
    db.session.commit()
    members = {"anne": anne, "bruno": bruno, "chloe": chloe}
    return {name: Caller(client, m) for name, m in members.items()} | {
        "members": members,
        "request": request,
        "talk": talk,
    }


def test_my_notifications_newest_first_in_pages_and_listing_reads_nothing(street):
    anne, bruno, chloe = street["anne"], street["bruno"], street["chloe"]
    request, talk = street["request"], street["talk"]
    mine = sorted(_read_state(street["members"]["anne"]), reverse=True)
    assert len(mine) == 3

    r = anne.get("/notifications?limit=2")
    assert r.status_code == 200, r.get_json()
    first = r.get_json()
    assert set(first) == {"items", "next_cursor", "unread"}
    ns.NotificationPage.model_validate(first)
    assert first["unread"] == 3 and first["next_cursor"]
    newest = first["items"][0]
    assert set(newest) == set(ns.NotificationOut.model_fields)
    assert newest["kind"] == "message"
    assert newest["text"] == "Bruno vous a écrit."
    assert newest["subject"] == {"type": "conversation", "id": talk.id, "title": "Monter un canapé"}
    assert newest["actor"] == {"id": bruno.member_id, "display_name": "Bruno", "avatar_url": None}
    assert newest["read"] is False
    assert datetime.fromisoformat(newest["created_at"]).utcoffset() is not None
    answered = first["items"][1]
    assert answered["kind"] == "response"
    assert answered["text"] == "Chloé a répondu à votre annonce « Monter un canapé »."
    assert answered["subject"] == {
        "type": "exchange",
        "id": request.id,
        "title": "Monter un canapé",
    }

    rest = anne.get(f"/notifications?limit=2&cursor={first['next_cursor']}").get_json()
    assert rest["next_cursor"] is None and rest["unread"] == 3
    assert [n["actor"]["display_name"] for n in rest["items"]] == ["Bruno"]
    assert [n["id"] for n in first["items"] + rest["items"]] == mine
    assert [n["id"] for n in anne.get("/notifications").get_json()["items"]] == mine

    # Reading the list marks nothing: API clients say what they have shown.
    assert not any(_read_state(street["members"]["anne"]).values())
    # Each sees their own only.
    theirs = bruno.get("/notifications").get_json()
    assert [(n["kind"], n["actor"]["display_name"]) for n in theirs["items"]] == [
        ("message", "Anne")
    ]
    assert theirs["unread"] == 1
    assert chloe.get("/notifications").get_json() == {
        "items": [],
        "next_cursor": None,
        "unread": 0,
    }


def test_the_text_follows_the_request_language(client, street):
    anne = street["anne"]
    headers = {**anne.headers, "Accept-Language": "en"}
    page = client.get("/api/v1/notifications", headers=headers).get_json()
    assert [n["text"] for n in page["items"]] == [
        "Bruno wrote to you.",
        "Chloé answered your post “Monter un canapé”.",
        "Bruno answered your post “Monter un canapé”.",
    ]


def test_bad_cursors_and_limits_are_refused(street):
    anne, bruno = street["anne"], street["bruno"]
    bruno_cursor = bruno.get("/notifications?limit=1").get_json()
    assert bruno_cursor["next_cursor"] is None  # he has one: no next page
    good = anne.get("/notifications?limit=1").get_json()["next_cursor"]
    forged = [
        "abimé",
        good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),  # signature broken
        pagination.encode("message", ["2030-01-01T00:00:00+00:00", 1]),  # another list's
        pagination.encode("time", ["2030-01-01T00:00:00", 1]),  # no offset
        pagination.encode("time", ["demain", 1]),
        pagination.encode("time", {"id": 1}),
    ]
    for cursor in forged:  # not ours: malformed (400)
        assert "cursor" in _fields(anne.get(f"/notifications?cursor={cursor}"), 400), cursor
    # Longer than any cursor we make: refused by the parameter's declared length (422).
    assert "cursor" in _fields(anne.get("/notifications?cursor=" + "x" * 501))
    for limit in ("0", "101", "beaucoup", "-1"):
        assert "limit" in _fields(anne.get(f"/notifications?limit={limit}")), limit


def test_marking_read_by_ids_and_all_never_touches_anyone_else(street):
    anne, bruno = street["anne"], street["bruno"]
    anne_member, bruno_member = street["members"]["anne"], street["members"]["bruno"]
    newest, *older = sorted(_read_state(anne_member), reverse=True)
    (bruno_note,) = _read_state(bruno_member)

    r = anne.post("/notifications/read", json={"ids": [newest, bruno_note, 2147483647]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"unread": 2}
    assert _read_state(anne_member) == {newest: True} | dict.fromkeys(older, False)
    assert _read_state(bruno_member) == {bruno_note: False}  # not mine: silently ignored
    page = anne.get("/notifications").get_json()
    assert [n["read"] for n in page["items"]] == [True, False, False]
    assert page["unread"] == 2

    # Bruno cannot mark Anne's, either.
    assert bruno.post("/notifications/read", json={"ids": older}).get_json() == {"unread": 1}
    assert not any(_read_state(anne_member)[i] for i in older)

    assert anne.post("/notifications/read", json={"ids": []}).get_json() == {"unread": 2}
    assert anne.post("/notifications/read", json={}).get_json() == {"unread": 0}
    assert all(_read_state(anne_member).values())
    assert _read_state(bruno_member) == {bruno_note: False}
    assert bruno.get("/notifications").get_json()["unread"] == 1


def test_bad_read_bodies_are_refused_and_nothing_changes(street):
    anne = street["anne"]
    before = _read_state(street["members"]["anne"])
    cases = [
        ({"ids": [1], "surprise": True}, "surprise"),
        ({"ids": None}, "ids"),
        ({"ids": "1"}, "ids"),
        ({"ids": ["1"]}, "ids"),
        ({"ids": [True]}, "ids"),
        ({"ids": [0]}, "ids"),
        ({"ids": [2**31]}, "ids"),
        ({"ids": list(range(1, 102))}, "ids"),
    ]
    for body, field in cases:
        assert field in _fields(anne.post("/notifications/read", json=body)), body
    r = anne.client.post(
        "/api/v1/notifications/read",
        data="{ids",
        headers={**anne.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.get_json()
    r = anne.client.post("/api/v1/notifications/read", data="ids=1", headers=anne.headers)
    assert r.status_code == 400, r.get_json()
    assert _read_state(street["members"]["anne"]) == before


def test_email_settings_are_read_and_changed_kind_by_kind(street):
    anne, bruno, chloe = street["anne"], street["bruno"], street["chloe"]
    r = anne.get("/me/notification-settings")
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"settings": DEFAULTS}
    assert DEFAULTS["matching_request"] == "digest" and DEFAULTS["response"] == "on"

    r = anne.patch(
        "/me/notification-settings",
        json={"settings": {"response": "off", "matching_request": "on", "message": "digest"}},
    )
    assert r.status_code == 200, r.get_json()
    changed = DEFAULTS | {"response": "off", "matching_request": "on", "message": "digest"}
    assert r.get_json() == {"settings": changed}
    assert anne.get("/me/notification-settings").get_json() == {"settings": changed}
    assert anne.patch("/me/notification-settings", json={"settings": {}}).get_json() == {
        "settings": changed
    }
    # Only mine changed.
    assert bruno.get("/me/notification-settings").get_json() == {"settings": DEFAULTS}
    assert chloe.get("/me/notification-settings").get_json() == {"settings": DEFAULTS}

    # The choice is the one the app uses: a new response to Anne sends no email.
    db.session.rollback()
    later = exchanges.create_exchange(
        street["members"]["anne"],
        exchanges.ExchangeInput(
            kind="request", title="Tenir une échelle", body="Une heure.", category="bricolage"
        ),
    )
    exchanges.respond(later, street["members"]["bruno"], "J'arrive.")
    db.session.commit()
    note = db.session.scalars(
        select(Notification).where(
            Notification.subject_type == "exchange", Notification.subject_id == later.id
        )
    ).one()
    assert (note.kind, note.email_state) == ("response", "none")


def test_bad_settings_are_refused_with_field_messages_and_nothing_changes(street):
    anne = street["anne"]
    anne_id = street["members"]["anne"].id
    assert anne.patch("/me/notification-settings", json={"settings": {"rsvp": "off"}}).status_code
    before = anne.get("/me/notification-settings").get_json()

    fields = _fields(
        anne.patch(
            "/me/notification-settings",
            json={"settings": {"response": "off", "planète": "on", "thanks": "parfois"}},
        )
    )
    assert set(fields) == {"settings.planète", "settings.thanks"}
    assert all(isinstance(m, str) and m for m in fields.values())
    for body, field in [
        ({"settings": {"message": 1}}, "settings.message"),
        ({"settings": {"message": None}}, "settings.message"),
        ({"settings": {"message": "ON"}}, "settings.message"),
        ({"settings": {"response": "off"}, "surprise": 1}, "surprise"),
        ({"settings": None}, "settings"),
        ({"settings": ["response"]}, "settings"),
        ({"settings": "off"}, "settings"),
        ({}, "settings"),
        ({"settings": {f"k{i}": "on" for i in range(20)}}, "settings"),
    ]:
        assert field in _fields(anne.patch("/me/notification-settings", json=body)), body
    assert anne.get("/me/notification-settings").get_json() == before
    db.session.rollback()
    rows = db.session.scalars(
        select(NotificationSetting).where(NotificationSetting.member_id == anne_id)
    ).all()
    assert {(s.kind, s.email) for s in rows} == {("rsvp", "off")}


@pytest.mark.parametrize(("path", "method"), sorted(ROUTES))
@pytest.mark.parametrize("authorization", [None, "Bearer pas-un-jeton"])
def test_a_token_is_required(client, street, path, method, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    before = _read_state(street["members"]["anne"])
    r = client.open(
        path,
        method=method.upper(),
        headers=headers,
        json={"settings": {"response": "off"}} if method == "patch" else {},
    )
    assert r.status_code == 401, r.get_json()
    assert r.get_json()["error"]["code"] == "unauthorized"
    assert _read_state(street["members"]["anne"]) == before
    anne = street["anne"]
    assert anne.get("/me/notification-settings").get_json() == {"settings": DEFAULTS}


def test_no_answer_carries_a_position_or_an_email(street):
    members = list(street["members"].values())
    for name in ("anne", "bruno", "chloe"):
        caller = street[name]
        answers = [
            caller.get("/notifications"),
            caller.get("/me/notification-settings"),
            caller.post("/notifications/read", json={}),
            caller.patch("/me/notification-settings", json={"settings": {"rsvp": "digest"}}),
        ]
        for r in answers:
            assert r.status_code == 200, r.get_json()
            body = r.get_data(as_text=True)
            assert _other_homes_leaked(body, members) == [], body
            assert not _keys(r.get_json()) & PRIVATE_KEYS, body
            assert "@example.org" not in body


def test_every_notification_route_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented >= ROUTES
    listing = spec["paths"]["/api/v1/notifications"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"cursor", "limit"}
    assert {"200", "401", "422"} <= set(listing["responses"])
    patch = spec["paths"]["/api/v1/me/notification-settings"]["patch"]
    assert {"200", "400", "401", "422"} <= set(patch["responses"])
    schemas = spec["components"]["schemas"]
    assert schemas["NotificationOut"]["properties"]["kind"]["enum"] == list(KINDS)
    settings = schemas["NotificationSettingsPatch"]["properties"]["settings"]
    assert settings["propertyNames"]["enum"] == list(KINDS)
    assert settings["additionalProperties"]["enum"] == ["on", "digest", "off"]
    assert "ids" not in schemas["ReadBody"].get("required", [])
