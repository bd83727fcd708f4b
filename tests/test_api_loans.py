"""JSON API v1, objects and loans: lifecycle, wrong parties and states, overlaps,
bad input, scoping, overdue, lists and privacy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peuplade.extensions import db
from peuplade.loans import schemas as ls
from peuplade.loans import services
from peuplade.localtime import today
from peuplade.models import Item, Loan, Post
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.test_api_exchanges import Caller
from tests.test_privacy import HOMES, VIEWER_HOME, _other_homes_leaked

DRILL = {
    "title": "Perceuse à percussion",
    "description": "Avec un jeu de mèches béton.",
    "category": "bricolage",
}


def day(n: int) -> str:
    return str(today() + timedelta(days=n))


def _rows() -> dict[str, int]:
    db.session.rollback()  # a fresh snapshot: the requests committed in other sessions
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Post, Item, Loan)
    }


def _item(lender, **changes) -> Item:
    item = services.offer_item(lender, services.ItemInput(**{**DRILL, **changes}))
    db.session.commit()
    return item


def _loan(item, borrower, first: int, last: int, steps=()) -> Loan:
    """A loan requested through the service, then taken through ``steps`` by the lender."""
    start, due = today() + timedelta(days=first), today() + timedelta(days=last)
    loan = services.request_loan(item, borrower, start, due)
    for step in steps:
        services.STEPS[step](loan, item.author)
    db.session.commit()
    return loan


def _status(response, expected: int) -> dict:
    assert response.status_code == expected, response.get_json()
    return response.get_json()


@pytest.fixture
def street(client, make_member):
    members = {
        "lender": make_member("Prêteuse", at=DAMES_LEMERCIER),
        "borrower": make_member("Emprunteur", at=CLICHY),
        "other": make_member("Autre", at=CLICHY),
        "far": make_member("Lointain", at=FAR_AWAY, radius_m=1000),
    }
    return {name: Caller(client, m) for name, m in members.items()} | {"members": members}


# --- lifecycle ------------------------------------------------------------------------


def test_offer_borrow_hand_over_and_return_through_the_api(street):
    lender, borrower = street["lender"], street["borrower"]
    created = _status(lender.post("/items", json={**DRILL, "notes": "Caution 20 €"}), 201)
    assert set(created) == set(ls.ItemOut.model_fields)
    path = f"/items/{created['id']}"
    assert created["condition"] == "bon" and created["available"] is True
    assert created["lender"] == {
        "id": lender.member_id,
        "display_name": "Prêteuse",
        "avatar_url": None,
    }
    assert created["loans"] == [] and created["times_lent"] == 0

    listed = _status(borrower.get("/items"), 200)
    assert [i["id"] for i in listed["items"]] == [created["id"]]
    assert listed["items"][0]["distance_band"] == "~500 m"
    assert listed["items"][0]["loans"] is None  # the calendar is the lender's
    assert listed["next_cursor"] is None
    assert lender.get("/items").get_json()["items"] == []  # never one's own
    assert [i["id"] for i in lender.get("/items/mine").get_json()["items"]] == [created["id"]]

    # From today: the hand-over is taken from the loan's first day on.
    r = borrower.post(f"{path}/loans", json={"start": day(0), "due": day(4), "message": "Merci !"})
    loan = _status(r, 201)
    assert set(loan) == set(ls.LoanOut.model_fields)
    assert r.headers["Location"] == f"/api/v1/loans/{loan['id']}"
    assert (loan["status"], loan["start"], loan["due"]) == ("requested", day(0), day(4))
    assert loan["item_title"] == DRILL["title"] and loan["message"] == "Merci !"
    assert loan["borrower"] == {
        "id": borrower.member_id,
        "display_name": "Emprunteur",
        "avatar_url": None,
    }
    assert loan["overdue"] is False and loan["returned_at"] is None

    assert [x["id"] for x in borrower.get("/loans").get_json()["items"]] == [loan["id"]]
    assert borrower.get("/loans?role=lender").get_json()["items"] == []
    assert [x["id"] for x in lender.get("/loans?role=lender").get_json()["items"]] == [loan["id"]]
    calendar = lender.get(path).get_json()["loans"]
    assert [(x["id"], x["status"]) for x in calendar] == [(loan["id"], "requested")]

    for step, status in (("accept", "accepted"), ("handover", "lent"), ("return", "returned")):
        assert _status(lender.post(f"/loans/{loan['id']}/{step}"), 200)["status"] == status
    done = _status(borrower.get(f"/loans/{loan['id']}"), 200)
    assert done["returned_at"] and done["lent_at"]
    assert borrower.get(path).get_json()["times_lent"] == 1  # "a prêté 1 fois"

    # The other endings: the lender declines; the borrower cancels an accepted loan.
    second = _status(borrower.post(f"{path}/loans", json={"start": day(5), "due": day(6)}), 201)
    assert _status(lender.post(f"/loans/{second['id']}/decline"), 200)["status"] == "declined"
    third = _status(borrower.post(f"{path}/loans", json={"start": day(5), "due": day(6)}), 201)
    assert lender.post(f"/loans/{third['id']}/accept").status_code == 200
    assert _status(borrower.post(f"/loans/{third['id']}/cancel"), 200)["status"] == "cancelled"
    statuses = [x["status"] for x in lender.get(path).get_json()["loans"]]
    assert statuses == ["returned", "declined", "cancelled"]


# --- wrong parties, states, overlaps ----------------------------------------------------


def test_every_wrong_step_answers_403_409_or_404_and_changes_nothing(street):
    members = street["members"]
    cases = [
        ((), "accept", "borrower", 403),
        ((), "decline", "borrower", 403),
        ((), "handover", "lender", 409),
        ((), "return", "lender", 409),
        ((), "accept", "other", 404),
        ((), "cancel", "far", 404),
        (("accept",), "accept", "lender", 409),
        (("accept",), "decline", "lender", 409),
        (("accept",), "return", "lender", 409),
        (("accept",), "handover", "borrower", 403),
        (("accept", "handover"), "cancel", "borrower", 409),
        (("accept", "handover"), "cancel", "lender", 409),
        (("accept", "handover"), "return", "borrower", 403),
        (("accept", "handover"), "handover", "lender", 409),
        (("decline",), "accept", "lender", 409),
        (("accept", "handover", "return"), "handover", "lender", 409),
        (("accept", "handover", "return"), "return", "lender", 409),
        (("cancel",), "accept", "lender", 409),
    ]
    for n, (done, step, actor, expected) in enumerate(cases):
        # One object each, lent from today: a hand-over is taken from the first day on.
        item = _item(members["lender"], title=f"Perceuse n°{n}")
        loan = _loan(item, members["borrower"], 0, 1, done)
        before = loan.status
        r = street[actor].post(f"/loans/{loan.id}/{step}")
        assert r.status_code == expected, (done, step, actor, r.get_json())
        assert r.get_json()["error"]["message"]
        db.session.rollback()
        assert db.session.get(Loan, loan.id).status == before, (done, step, actor)
    assert street["lender"].post("/loans/2147483647/accept").status_code == 404
    assert street["lender"].post("/loans/2147483648/accept").status_code == 404


def test_overlapping_requests_may_both_exist_but_only_one_is_accepted(street):
    lender, borrower, other = street["lender"], street["borrower"], street["other"]
    path = f"/items/{_item(street['members']['lender']).id}/loans"
    first = _status(borrower.post(path, json={"start": day(1), "due": day(5)}), 201)
    second = _status(other.post(path, json={"start": day(3), "due": day(8)}), 201)
    assert lender.post(f"/loans/{first['id']}/accept").status_code == 200
    assert _status(lender.post(f"/loans/{second['id']}/accept"), 409)["error"]["code"] == "conflict"
    assert other.get(f"/loans/{second['id']}").get_json()["status"] == "requested"
    # Promised dates are refused at once; the days after are free.
    assert other.post(path, json={"start": day(5), "due": day(5)}).status_code == 409
    assert other.post(path, json={"start": day(6), "due": day(7)}).status_code == 201


def test_own_unavailable_and_other_peoples_objects(street):
    lender, borrower, other = street["lender"], street["borrower"], street["other"]
    item = _item(street["members"]["lender"])
    path = f"/items/{item.id}"
    dates = {"start": day(0), "due": day(2)}
    assert _status(lender.post(f"{path}/loans", json=dates), 403)["error"]["code"] == "forbidden"
    assert other.patch(path, json={"title": "Piratée"}).status_code == 403
    assert other.delete(path).status_code == 403
    changed = _status(lender.patch(path, json={"available": False, "condition": "use"}), 200)
    assert (changed["available"], changed["condition"], changed["title"]) == (
        False,
        "use",
        DRILL["title"],
    )
    assert borrower.post(f"{path}/loans", json=dates).status_code == 409
    assert borrower.get("/items?available=true").get_json()["items"] == []
    assert len(borrower.get("/items").get_json()["items"]) == 1  # shown, as unavailable
    lender.patch(path, json={"available": True})

    loan = _status(borrower.post(f"{path}/loans", json=dates), 201)
    lender.post(f"/loans/{loan['id']}/accept")
    before = _rows()
    assert _status(lender.delete(path), 409)["error"]["message"]
    assert _rows() == before
    lender.post(f"/loans/{loan['id']}/handover")
    lender.post(f"/loans/{loan['id']}/return")
    assert lender.delete(path).status_code == 204
    assert lender.get(path).status_code == 404
    assert borrower.get(f"/loans/{loan['id']}").status_code == 404  # gone with its object


# --- bad input ------------------------------------------------------------------------


def test_every_bad_input_is_a_422_on_its_field_and_writes_nothing(street):
    lender, borrower = street["lender"], street["borrower"]
    item = _item(street["members"]["lender"])
    item_cases = [
        ({"title": ""}, "title"),
        ({"title": "  "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"description": "x" * 4001}, "description"),
        ({"category": "fusées"}, "category"),
        ({"condition": "cassé"}, "condition"),
        ({"condition": ""}, "condition"),
        ({"notes": "x" * 1001}, "notes"),
        ({"title": 42}, "title"),
        ({"category": ["bricolage"]}, "category"),
        ({"available": "oui"}, "available"),
        ({"colour": "rouge"}, "colour"),
        ({"title": None}, "title"),
        ({"available": None}, "available"),
    ]
    loan_cases = [
        ({"start": day(-1)}, "start"),
        ({"start": day(5), "due": day(4)}, "due"),
        ({"start": day(1), "due": day(61)}, "due"),
        ({"start": "31/12/2030"}, "start"),
        ({"due": "2030-02-30"}, "due"),
        ({"start": 20301231}, "start"),
        ({"message": 7}, "message"),
        ({"message": "x" * 1001}, "message"),
        ({"lender_id": 1}, "lender_id"),
        ({"due": None}, "due"),
    ]
    calls = [(lender.post, "/items", {**DRILL, **c}, f) for c, f in item_cases]
    calls += [(lender.patch, f"/items/{item.id}", c, f) for c, f in item_cases]
    loans = f"/items/{item.id}/loans"
    period = {"start": day(1), "due": day(3)}
    calls += [(borrower.post, loans, {**period, **c}, f) for c, f in loan_cases]
    before = _rows()
    for call, path, body, field in calls:
        r = call(path, json=body)
        assert r.status_code == 422, (path, body, r.get_json())
        error = r.get_json()["error"]
        assert error["code"] == "validation_failed"
        assert error["fields"][field].strip(), (path, body, error)
    assert set(_status(borrower.post(loans, json={"start": day(1)}), 422)["error"]["fields"]) == {
        "due"
    }
    r = lender.post("/items", json={**DRILL, "title": "", "category": "?", "condition": "?"})
    assert set(_status(r, 422)["error"]["fields"]) == {"title", "category", "condition"}
    assert _rows() == before
    assert lender.get(f"/items/{item.id}").get_json()["title"] == DRILL["title"]
    # The longest loan, 60 days counted inclusively, is fine.
    assert borrower.post(loans, json={"start": day(1), "due": day(60)}).status_code == 201


def test_bad_list_parameters_are_422_on_their_field(street):
    borrower = street["borrower"]
    for path, field in (
        ("/items?category=fusées", "category"),
        ("/items?available=peut-être", "available"),
        ("/items?limit=0", "limit"),
        ("/loans?role=voisin", "role"),
        ("/loans?limit=101", "limit"),
    ):
        r = borrower.get(path)
        assert r.status_code == 422, (path, r.get_json())
        assert field in r.get_json()["error"]["fields"], path
    # A cursor we did not sign is malformed input: 400, naming it.
    for path in ("/items?cursor=forged", "/items/mine?cursor=forged", "/loans?cursor=forged"):
        r = borrower.get(path)
        assert r.status_code == 400, (path, r.get_json())
        assert r.get_json()["error"]["fields"] == {"cursor": r.get_json()["error"]["message"]}


# --- scoping, visibility, overdue, lists ------------------------------------------------


def test_an_object_7_km_away_is_404_and_unlisted(street):
    far = street["far"]
    item = _item(street["members"]["lender"])
    path = f"/items/{item.id}"
    assert far.get("/items").get_json()["items"] == []
    for r in (
        far.get(path),
        far.patch(path, json={"title": "Piratée"}),
        far.delete(path),
        far.post(f"{path}/loans", json={"start": day(1), "due": day(2)}),
    ):
        assert r.status_code == 404, r.get_json()
        assert r.get_json()["error"]["code"] == "not_found"
    assert _rows()["Loan"] == 0
    assert street["other"].get(path).status_code == 200


def test_a_loan_is_seen_by_its_two_parties_only(street):
    members = street["members"]
    loan = _loan(_item(members["lender"]), members["borrower"], 1, 2)
    for name in ("lender", "borrower"):
        assert street[name].get(f"/loans/{loan.id}").status_code == 200
        assert [x["id"] for x in street[name].get("/loans").get_json()["items"]] == [loan.id]
    for name in ("other", "far"):
        assert street[name].get(f"/loans/{loan.id}").status_code == 404
        assert street[name].get("/loans").get_json()["items"] == []
    assert street["other"].get(f"/items/{loan.item_id}").get_json()["loans"] is None


def test_a_loan_still_lent_after_its_due_day_is_overdue_for_both(street):
    members = street["members"]
    item = _item(members["lender"])
    loan = _loan(item, members["borrower"], 0, 1, ("accept", "handover"))
    loan.start, loan.due = today() - timedelta(days=5), today() - timedelta(days=1)
    db.session.commit()
    on_time = _loan(item, members["borrower"], 0, 4, ("accept", "handover"))
    for name in ("lender", "borrower"):
        flags = {x["id"]: x["overdue"] for x in street[name].get("/loans").get_json()["items"]}
        assert flags == {loan.id: True, on_time.id: False}
        assert street[name].get(f"/loans/{loan.id}").get_json()["overdue"] is True
    calendar = street["lender"].get(f"/items/{item.id}").get_json()["loans"]
    assert [x["overdue"] for x in calendar] == [True, False]
    returned = _status(street["lender"].post(f"/loans/{loan.id}/return"), 200)
    assert returned["overdue"] is False


def test_lists_walk_pages_without_duplicates_and_filter(street):
    members = street["members"]
    lender, borrower = members["lender"], members["borrower"]
    items = [_item(lender, title=f"Objet {n}") for n in range(5)]
    ladder = _item(lender, title="Grande échelle", description="Trois plans.", category="autre")
    for n, it in enumerate(items):
        _loan(it, borrower, n, n + 1)

    def walk(caller, path: str) -> list[int]:
        seen, cursor = [], ""
        while True:
            page = _status(caller.get(f"{path}limit=2&cursor={cursor}"), 200)
            assert len(page["items"]) <= 2
            seen += [x["id"] for x in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                return seen

    item_ids = walk(street["borrower"], "/items?")
    assert item_ids == [ladder.id] + [i.id for i in reversed(items)]  # newest first
    assert walk(street["lender"], "/items/mine?") == item_ids
    loan_ids = walk(street["borrower"], "/loans?")
    assert len(loan_ids) == len(set(loan_ids)) == 5
    assert walk(street["lender"], "/loans?role=lender&") == loan_ids

    def ids(query: str) -> list[int]:
        return [i["id"] for i in street["borrower"].get(f"/items?{query}").get_json()["items"]]

    assert ids("category=autre") == [ladder.id]
    assert ids("q=échelle") == [ladder.id]
    assert ids("q=plans") == [ladder.id]  # the description too
    assert ids("q=raclette") == []


# --- contract -------------------------------------------------------------------------


def test_every_loan_endpoint_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    expected = {
        ("/api/v1/items", "get"),
        ("/api/v1/items", "post"),
        ("/api/v1/items/mine", "get"),
        ("/api/v1/items/{item_id}", "get"),
        ("/api/v1/items/{item_id}", "patch"),
        ("/api/v1/items/{item_id}", "delete"),
        ("/api/v1/items/{item_id}/loans", "post"),
        ("/api/v1/loans", "get"),
        ("/api/v1/loans/{loan_id}", "get"),
    } | {(f"/api/v1/loans/{{loan_id}}/{step}", "post") for step in services.STEPS}
    assert expected <= {(p, m) for p, ops in paths.items() for m in ops}
    accept = paths["/api/v1/loans/{loan_id}/accept"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409"} <= set(accept)


def test_no_loan_answer_contains_a_members_home(client, make_member):
    members = [make_member(name, at=at, radius_m=2000) for name, at in HOMES.items()]
    members.append(make_member("Viewer", at=VIEWER_HOME, radius_m=2000))
    alice, bruno, chloe, viewer = (Caller(client, m) for m in members)
    bodies = []
    created = alice.post("/items", json=DRILL)
    bodies.append(created.get_data(as_text=True))
    path = f"/items/{created.get_json()['id']}"
    loan = bruno.post(f"{path}/loans", json={"start": day(1), "due": day(2)})
    bodies.append(loan.get_data(as_text=True))
    loan_path = f"/loans/{loan.get_json()['id']}"
    bodies.append(alice.post(f"{loan_path}/accept").get_data(as_text=True))
    bodies.append(chloe.post("/items", json={**DRILL, "title": "Escabeau"}).get_data(True))
    for caller in (alice, bruno, chloe, viewer):
        for p in (path, "/items", "/items/mine", "/loans", loan_path):
            bodies.append(caller.get(p).get_data(as_text=True))
    everything = "\n".join(bodies)
    # The check saw real data: the parties' names and the objects' positions.
    assert '"display_name":"Bruno"' in everything and '"position"' in everything
    assert _other_homes_leaked(everything, members) == []


def test_the_hand_over_is_refused_before_the_loans_first_day(street):
    members, lender = street["members"], street["lender"]
    loan = _loan(_item(members["lender"]), members["borrower"], 1, 3, ("accept",))
    error = _status(lender.post(f"/loans/{loan.id}/handover"), 409)["error"]
    assert error["code"] == "conflict"
    assert "vous pourrez noter la remise de l'objet à partir de ce jour-là" in error["message"]
    assert _status(lender.get(f"/loans/{loan.id}"), 200)["status"] == "accepted"
    # On its first day (the site's local day), the same call goes through.
    db.session.rollback()
    db.session.get(Loan, loan.id).start = today()
    db.session.commit()
    assert _status(lender.post(f"/loans/{loan.id}/handover"), 200)["status"] == "lent"
    # The OpenAPI document says so.
    spec = lender.get("/openapi.json").get_json()
    handover = spec["paths"]["/api/v1/loans/{loan_id}/handover"]["post"]
    assert "premier jour du prêt" in handover["description"]
