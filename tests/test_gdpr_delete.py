"""Deleting my account (GDPR art. 17): the password asked again, refused while a loan is
in progress, pending requests called off, every row that names me gone, my email free
at once, my neighbours' blurred positions worked out again, the session over."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import String, Text, func, select

from peuplade import geo, privacy
from peuplade.account import services as accounts
from peuplade.errors import Conflict, ValidationFailed
from peuplade.extensions import db
from peuplade.gdpr import services
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.location import LocationInput
from peuplade.models import Base, Loan, Member, Notification, Post
from tests.conftest import BATIGNOLLES, PASSWORD
from tests.helpers.crowds import settle
from tests.test_gdpr_export import OTHER_EMAIL, populate

ME = "anne.export@example.org"


def _members_columns():
    """Every column of every table that points at members.id."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "members" for fk in column.foreign_keys):
                yield table, column


def _traces(member_id: int, words: tuple[str, ...]) -> list[str]:
    """Where the member is still named: by id in a column pointing at members, or by
    name or email in any text column of any table."""
    found = []
    for table, column in _members_columns():
        n = db.session.scalar(select(func.count()).select_from(table).where(column == member_id))
        if n:
            found.append(f"{table.name}.{column.name}: {n}")
    if db.session.get(Member, member_id) is not None:
        found.append("members row")
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text):
                for word in words:
                    hit = db.session.scalar(
                        select(func.count()).select_from(table).where(column.contains(word))
                    )
                    if hit:
                        found.append(f"{table.name}.{column.name} holds {word!r}")
    return found


def _days(a: int, b: int):
    return today() + timedelta(days=a), today() + timedelta(days=b)


def test_every_foreign_key_to_members_cascades_or_is_set_null():
    for table, column in _members_columns():
        (fk,) = column.foreign_keys
        assert fk.ondelete in ("CASCADE", "SET NULL"), f"{table.name}.{column.name}"
        if fk.ondelete == "SET NULL":
            assert column.nullable, f"{table.name}.{column.name}"


def test_deleting_removes_everything_that_names_me(app, make_member, caplog):
    hood = populate(make_member)
    me, other = hood.me, hood.other
    me_id = me.id
    assert _traces(me_id, ("Anne Export", ME))  # the check can fail
    other_posts = db.session.scalar(
        select(func.count()).select_from(Post).where(Post.author_id == other.id)
    )
    with caplog.at_level(logging.INFO):
        services.delete_account(me, PASSWORD)
        db.session.commit()
    db.session.expire_all()
    assert _traces(me_id, ("Anne Export", ME)) == []
    # The neighbour keeps her account and her own posts; the log names an id only.
    assert db.session.get(Member, other.id).email == OTHER_EMAIL
    assert (
        db.session.scalar(select(func.count()).select_from(Post).where(Post.author_id == other.id))
        == other_posts
    )
    assert f"member={me_id}" in caplog.text and ME not in caplog.text


def test_my_email_can_register_again_at_once(app, make_member):
    me = make_member("Anne", email=ME)
    services.delete_account(me, PASSWORD)
    db.session.commit()
    again = make_member("Anne de retour", email=ME)
    assert again.email == ME


def test_wrong_or_missing_password_changes_nothing(app, make_member):
    me = make_member("Anne", email=ME)
    for password in ("pas le bon mot de passe", "", None):
        with pytest.raises(ValidationFailed) as caught:
            services.delete_account(me, password)
        assert "password" in caught.value.fields
        db.session.rollback()
    assert db.session.get(Member, me.id) is not None


@pytest.mark.parametrize("steps", [("accept",), ("accept", "handover")])
@pytest.mark.parametrize("my_role", ["lender", "borrower"])
def test_refused_while_a_loan_is_in_progress(app, make_member, steps, my_role):
    me = make_member("Anne", email=ME)
    other = make_member("Bruno")
    lender, borrower = (me, other) if my_role == "lender" else (other, me)
    item = loans.offer_item(lender, loans.ItemInput(title="Perceuse", category="bricolage"))
    loan = loans.request_loan(item, borrower, *_days(0, 3), "")
    for step in steps:
        loans.STEPS[step](loan, lender)
    db.session.commit()
    with pytest.raises(Conflict, match="prêt est en cours"):
        services.delete_account(me, PASSWORD)
    db.session.rollback()
    assert db.session.get(Member, me.id) is not None
    # Once the object is back, the account goes.
    if loan.status == "lent":
        loans.mark_returned(loan, lender)
    else:
        loans.cancel(loan, me)
    db.session.commit()
    services.delete_account(me, PASSWORD)
    db.session.commit()
    assert db.session.get(Member, me.id) is None


def test_pending_requests_are_cancelled_and_the_lender_is_told(app, make_member):
    me = make_member("Anne", email=ME)
    lender = make_member("Bruno")
    item = loans.offer_item(lender, loans.ItemInput(title="Escabeau", category="bricolage"))
    loan = loans.request_loan(item, me, *_days(1, 3), "Pour repeindre.")
    db.session.commit()
    loan_id = loan.id
    services.delete_account(me, PASSWORD)
    db.session.commit()
    assert db.session.get(Loan, loan_id) is None
    told = db.session.scalars(select(Notification).where(Notification.member_id == lender.id)).all()
    assert [n.kind for n in told] == ["loan_cancelled"]  # the request itself is forgotten
    assert told[0].actor_id is None and told[0].subject_title == "Escabeau"


def test_neighbours_blurred_positions_are_worked_out_again(make_app):
    """With three of us in one ~222 m cell we are shown at its centre; once I leave,
    the two others are too few there and move to the coarser cell's centre."""
    app = make_app(PRIVACY_CROWD_MIN=3)
    with app.app_context():
        # Three homes around the centre of one ~222 m cell.
        centre = privacy.centre(privacy.cells(geo.lat_lon(*BATIGNOLLES))[0])
        people = []
        for n, (dlat, dlon) in enumerate([(0, 0), (0.0002, 0.0001), (-0.0001, 0.0002)]):
            member = accounts.register_member(
                email=f"cellule{n}@example.org",
                password=PASSWORD,
                display_name=f"Cellule {n}",
                location=LocationInput(lat=centre.lat + dlat, lon=centre.lon + dlon),
            )
            db.session.commit()
            people.append(member)
        settle()  # an established crowd that has held: shown in the fine cell
        me, *others = people
        assert len({m.cell_0 for m in people}) == 1
        for member in others:
            assert geo.from_element(member.public_position) == privacy.centre(member.cell_0)
        services.delete_account(me, PASSWORD)
        db.session.commit()
        for member in others:
            db.session.refresh(member)
            assert geo.from_element(member.public_position) != privacy.centre(member.cell_0)


def test_html_delete(client, auth, make_member):
    make_member("Anne", email=ME)
    auth.login(ME)
    page = client.get("/account/delete")
    assert page.status_code == 200
    # The box must be ticked, and the password right.
    r = client.post("/account/delete", data={"password": PASSWORD})
    assert r.status_code == 422
    r = client.post("/account/delete", data={"password": "mauvais mot de passe", "confirm": "y"})
    assert r.status_code == 422 and "bon mot de passe" in r.get_data(as_text=True)
    r = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 302
    with client.application.app_context():
        assert db.session.scalar(select(Member).where(Member.email == ME)) is None
    # Logged out: the next private page asks to log in.
    r = client.get("/account")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_html_delete_refused_during_a_loan(client, auth, make_member):
    me = make_member("Anne", email=ME)
    lender = make_member("Bruno")
    item = loans.offer_item(lender, loans.ItemInput(title="Perceuse", category="bricolage"))
    loan = loans.request_loan(item, me, *_days(1, 3), "")
    loans.accept(loan, lender)
    db.session.commit()
    auth.login(ME)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "Perceuse" in page  # the loans in the way are named
    r = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code == 409
    assert "prêt est en cours" in r.get_data(as_text=True)
    assert client.get("/account").status_code == 200  # still logged in


def test_api_delete(api, make_member):
    make_member("Anne", email=ME)
    api.login(ME)
    for body, status in (
        (None, 422),
        ({}, 422),
        ({"password": "mauvais mot de passe"}, 422),
        ({"password": PASSWORD, "extra": 1}, 422),
    ):
        r = api.delete("/me", json=body) if body is not None else api.delete("/me")
        assert r.status_code == status, (body, r.get_json())
        assert r.get_json()["error"]["code"] == "validation_failed"
        if body in (None, {}, {"password": "mauvais mot de passe"}):
            assert "password" in r.get_json()["error"]["fields"]
    r = api.delete("/me", json={"password": PASSWORD})
    assert r.status_code == 204 and r.data == b""
    assert api.get("/me").status_code == 401  # the token went with the account
    r = api.post("/tokens", json={"email": ME, "password": PASSWORD})
    assert r.status_code == 401


def test_api_delete_refused_during_a_loan(api, make_member):
    me = make_member("Anne", email=ME)
    other = make_member("Bruno")
    item = loans.offer_item(me, loans.ItemInput(title="Perceuse", category="bricolage"))
    loan = loans.request_loan(item, other, *_days(0, 3), "")
    loans.accept(loan, me)
    loans.hand_over(loan, me)
    db.session.commit()
    api.login(ME)
    r = api.delete("/me", json={"password": PASSWORD})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"
    assert api.get("/me").status_code == 200
