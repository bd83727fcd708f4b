"""API: POST /reports, and blocking (POST/DELETE /blocks/{id}, GET /blocks), with the
same rules as the pages: only what I can see, once, and blocks that really block."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.models import Block, Report
from peuplade.moderation.schemas import BlockOut, BlockPage, ReportOut
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def people(app, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    far = make_member("Nadia", at=FAR_AWAY)
    offer = exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="offer", title="Vends crème miracle", body="Écrivez-moi.", category="autre"
        ),
    )
    item = loans.offer_item(
        anne, loans.ItemInput(title="Perceuse", description="Avec mèches.", category="bricolage")
    )
    db.session.commit()
    return anne, bruno, far, offer, item


def test_report_201_then_409_for_the_same_thing(api, people):
    anne, bruno, _far, offer, _item = people
    api.login(bruno.email)
    r = api.post(
        "/reports",
        json={"type": "exchange", "id": offer.id, "reason": "spam", "details": "Arnaque"},
    )
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert set(data) == set(ReportOut.model_fields)
    assert data["type"] == "exchange" and data["target_id"] == offer.id
    assert data["reason"] == "spam" and data["status"] == "open"
    assert datetime.fromisoformat(data["created_at"]).utcoffset() == timedelta(0)
    row = db.session.get(Report, data["id"])
    assert (row.reporter_id, row.target_member_id, row.details) == (bruno.id, anne.id, "Arnaque")

    r = api.post("/reports", json={"type": "exchange", "id": offer.id, "reason": "abuse"})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"
    assert count(Report) == 1

    # Members can be reported too, without details.
    r = api.post("/reports", json={"type": "member", "id": anne.id, "reason": "abuse"})
    assert r.status_code == 201


def test_report_404_for_what_i_cannot_see(api, people):
    _anne, bruno, far, offer, item = people
    api.login(far.email)
    for body in (
        {"type": "exchange", "id": offer.id, "reason": "spam"},
        {"type": "item", "id": item.id, "reason": "spam"},
        {"type": "member", "id": bruno.id, "reason": "spam"},
        {"type": "message", "id": 12345, "reason": "spam"},
        {"type": "news", "id": offer.id, "reason": "spam"},  # an id of another type
    ):
        r = api.post("/reports", json=body)
        assert r.status_code == 404, body
        assert r.get_json()["error"]["code"] == "not_found"
    assert count(Report) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "planet", "id": 1, "reason": "spam"}, "type"),
        ({"type": "exchange", "id": "{id}", "reason": "boring"}, "reason"),
        ({"type": "exchange", "id": "{id}"}, "reason"),
        ({"type": "exchange", "id": 0, "reason": "spam"}, "id"),
        ({"type": "exchange", "id": "7", "reason": "spam"}, "id"),
        ({"type": "exchange", "reason": "spam"}, "id"),
        ({"type": "exchange", "id": "{id}", "reason": "spam", "details": None}, "details"),
        ({"type": "exchange", "id": "{id}", "reason": "spam", "details": "x" * 1001}, "details"),
        ({"type": "exchange", "id": "{id}", "reason": "spam", "extra": 1}, "extra"),
    ],
)
def test_report_422_names_the_field(api, people, body, field):
    _anne, bruno, _far, offer, _item = people
    api.login(bruno.email)
    body = {k: (offer.id if v == "{id}" else v) for k, v in body.items()}
    r = api.post("/reports", json=body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]
    assert count(Report) == 0


def test_reporting_my_own_post_is_403(api, people):
    anne, _bruno, _far, offer, _item = people
    api.login(anne.email)
    r = api.post("/reports", json={"type": "exchange", "id": offer.id, "reason": "spam"})
    assert r.status_code == 403
    assert count(Report) == 0


def test_block_unblock_and_list(api, people, make_member):
    anne, bruno, _far, _offer, _item = people
    api.login(anne.email)
    r = api.post(f"/blocks/{bruno.id}")
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert set(data) == set(BlockOut.model_fields)
    assert data["member"] == {"id": bruno.id, "display_name": "Bruno", "avatar_url": None}
    again = api.post(f"/blocks/{bruno.id}")
    assert again.status_code == 200  # idempotent: the same block
    assert again.get_json() == data
    assert count(Block) == 1

    others = [make_member(f"Voisin {i}", at=CLICHY) for i in range(2)]
    for other in others:
        assert api.post(f"/blocks/{other.id}").status_code == 201
    page = api.get("/blocks?limit=2").get_json()
    assert set(page) == set(BlockPage.model_fields)
    first = [x["member"]["id"] for x in page["items"]]
    assert first == [others[1].id, others[0].id]  # most recent first
    rest = api.get(f"/blocks?limit=2&cursor={page['next_cursor']}").get_json()
    assert [x["member"]["id"] for x in rest["items"]] == [bruno.id]
    assert rest["next_cursor"] is None
    bad = api.get("/blocks?cursor=forged")
    assert bad.status_code == 400 and "cursor" in bad.get_json()["error"]["fields"]

    assert api.delete(f"/blocks/{bruno.id}").status_code == 204
    assert api.delete(f"/blocks/{bruno.id}").status_code == 204  # already gone: same result
    ids = [x["member"]["id"] for x in api.get("/blocks").get_json()["items"]]
    assert bruno.id not in ids and len(ids) == 2


def test_block_errors(api, people):
    anne, _bruno, far, _offer, _item = people
    api.login(anne.email)
    assert api.post(f"/blocks/{anne.id}").status_code == 422
    assert api.post(f"/blocks/{far.id}").status_code == 404  # not a member I can see
    assert api.post("/blocks/999999").status_code == 404
    assert count(Block) == 0
    api.token = None
    assert api.post("/blocks/1").status_code == 401
    assert api.get("/blocks").status_code == 401
    r = api.post("/reports", json={"type": "member", "id": 1, "reason": "spam"})
    assert r.status_code == 401


def test_a_blocked_member_loses_access_and_is_not_told(api, people):
    anne, bruno, _far, offer, item = people
    api.login(anne.email)
    assert api.post(f"/blocks/{bruno.id}").status_code == 201

    api.login(bruno.email)
    for path in (f"/exchanges/{offer.id}", f"/items/{item.id}"):
        r = api.get(path)
        assert r.status_code == 404, path
        assert "bloqu" not in r.get_data(as_text=True).lower()
    listed = [x["id"] for x in api.get("/exchanges").get_json()["items"]]
    assert offer.id not in listed
    assert item.id not in [x["id"] for x in api.get("/items").get_json()["items"]]
    r = api.post(f"/exchanges/{offer.id}/responses", json={"message": "Je peux aider"})
    assert r.status_code == 404
    start, due = today() + timedelta(days=1), today() + timedelta(days=2)
    r = api.post(
        f"/items/{item.id}/loans", json={"start": start.isoformat(), "due": due.isoformat()}
    )
    assert r.status_code == 404
    r = api.post("/conversations", json={"member_id": anne.id, "message": "Bonjour"})
    assert r.status_code == 403
    assert "bloqu" not in r.get_data(as_text=True).lower()
    # Nor can he report what he no longer sees.
    r = api.post("/reports", json={"type": "exchange", "id": offer.id, "reason": "spam"})
    assert r.status_code == 404

    # Unblocked: everything is back.
    api.login(anne.email)
    assert api.delete(f"/blocks/{bruno.id}").status_code == 204
    api.login(bruno.email)
    assert api.get(f"/exchanges/{offer.id}").status_code == 200
    r = api.post("/conversations", json={"member_id": anne.id, "message": "Bonjour"})
    assert r.status_code == 201
