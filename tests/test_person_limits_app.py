"""The person-level limits through the app's own sign-up (page and API), not the
services: coming back after deleting one's account is a home move, and many sign-ups
in one cell within a day reach the moderators' queue (account/person.py, called by
auth/signup.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from peuplade.account import services
from peuplade.extensions import db
from peuplade.gdpr import services as gdpr
from peuplade.location import LocationInput
from peuplade.models import HomeChange, Member, Report
from tests.conftest import BATIGNOLLES, CLICHY, PASSWORD

EMAIL = "revenante@example.org"


def _api_sign_up(client, email: str, at=BATIGNOLLES, name: str = "Revenante") -> Member:
    answer = client.post(
        "/api/v1/members",
        json={
            "email": email,
            "password": PASSWORD,
            "display_name": name,
            "location": {"lat": at[0], "lon": at[1]},
        },
    )
    assert answer.status_code == 202, answer.get_json()
    return db.session.scalar(select(Member).where(Member.email == email.lower()))


def _page_sign_up(client, email: str, at, name: str) -> Member:
    answer = client.post(
        "/register",
        data={
            "email": email,
            "display_name": name,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "lat": str(at[0]),
            "lon": str(at[1]),
            "radius_m": "1000",
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    member = db.session.scalar(select(Member).where(Member.email == email))
    assert member is not None, answer.get_data(as_text=True)
    return member


def test_coming_back_through_the_api_is_a_home_move(app, client):
    first = _api_sign_up(client, EMAIL)
    assert services.home_changes_left(first) == 3
    services.change_home(first, LocationInput(lat=CLICHY[0], lon=CLICHY[1]))
    db.session.commit()
    gdpr.delete_account(first, PASSWORD)
    db.session.commit()
    again = _api_sign_up(client, EMAIL.upper(), at=CLICHY)
    assert again is not None and again.email == EMAIL
    count = select(func.count()).select_from(HomeChange).where(HomeChange.member_id == again.id)
    assert db.session.scalar(count) == 1  # coming back counted as a move
    assert services.home_changes_left(again) == 1  # the move before, and coming back


def test_many_sign_ups_in_one_cell_through_the_page_reach_the_moderators(app, client):
    spots = [(BATIGNOLLES[0] + n * 0.0001, BATIGNOLLES[1]) for n in range(6)]
    for n, at in enumerate(spots):
        _page_sign_up(client, f"groupe{n}@example.org", at, f"Groupe {n}")
    reports = db.session.scalars(select(Report).where(Report.reason == "signups")).all()
    assert len(reports) == 1
    assert reports[0].reporter_id is None
