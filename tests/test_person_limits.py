"""Limits bind a person, not an account (issue 19): deleting one's account and
registering again with the same e-mail does not reset the home-move limit, and is a
move itself; the departed rows leave after the window. And the sign-up signal: many
accounts signing up within a day in one ~444 m cell put one report, from Peuplade
itself, in the moderators' queue (HTML and API), which moderators handle like any
other; members cannot file one."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from peuplade.account import person
from peuplade.account import services as accounts
from peuplade.errors import TooManyChanges, ValidationFailed
from peuplade.extensions import db
from peuplade.gdpr import policy
from peuplade.gdpr import services as gdpr
from peuplade.location import LocationInput
from peuplade.models import (
    DepartedHomeChange,
    HomeChange,
    Member,
    ModerationAction,
    Report,
    utcnow,
)
from peuplade.moderation import services as moderation
from peuplade.moderation.forms import REASON_LABELS, REASON_SHORT
from tests.conftest import BATIGNOLLES, CLICHY, FAR_AWAY, PASSWORD
from tests.helpers.pages import text_of

EMAIL = "camille.depart@example.org"
# Homes a few dozen metres apart: all in the ~222 m cell of BATIGNOLLES.
SPOTS = [(BATIGNOLLES[0] + i * 0.0001, BATIGNOLLES[1]) for i in range(6)]


def sign_up(email: str = EMAIL, at=BATIGNOLLES, name: str = "Camille") -> Member:
    """What the sign-up does: the member, then ``person.note_sign_up``."""
    member = accounts.register_member(
        email=email,
        password=PASSWORD,
        display_name=name,
        location=LocationInput(lat=at[0], lon=at[1]),
    )
    person.note_sign_up(member)
    db.session.commit()
    return member


def move(member: Member, at) -> None:
    accounts.change_home(member, LocationInput(lat=at[0], lon=at[1]))
    db.session.commit()


def leave(member: Member) -> None:
    gdpr.delete_account(member, PASSWORD)
    db.session.commit()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- who is the same person ----------------------------------------------------------


def test_email_key_is_a_keyed_hash_of_the_case_folded_address(app, make_app):
    key = person.email_key(EMAIL)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert person.email_key("  Camille.DEPART@Example.ORG ") == key
    assert person.email_key("camille.autre@example.org") != key
    # Not a plain hash, nor keyed with the raw secret: a sub-key of SECRET_KEY.
    assert key != hashlib.sha256(EMAIL.encode()).hexdigest()
    assert key != hmac.new(b"test-secret", EMAIL.encode(), hashlib.sha256).hexdigest()
    with make_app(SECRET_KEY="another-secret").app_context():
        assert person.email_key(EMAIL) != key


# --- the home-move limit binds the person ----------------------------------------------


def test_deleting_and_registering_again_does_not_reset_the_limit(app):
    first = sign_up()
    assert accounts.home_changes_left(first) == 3
    move(first, CLICHY)
    move(first, BATIGNOLLES)
    assert accounts.home_changes_left(first) == 1
    leave(first)
    # Two moves and the departure are kept, under the e-mail's key only.
    rows = db.session.scalars(select(DepartedHomeChange)).all()
    assert len(rows) == 3 and {r.email_key for r in rows} == {person.email_key(EMAIL)}

    # The same person, the address typed in capitals: registering again is the 3rd move.
    again = sign_up(EMAIL.upper(), at=CLICHY)
    assert again.email == EMAIL
    assert count(HomeChange, HomeChange.member_id == again.id) == 1
    assert person.moves_in_window(again) == 3
    assert person.moves_in_window(EMAIL.upper()) == 3
    assert accounts.home_changes_left(again) == 0
    with pytest.raises(TooManyChanges):
        accounts.change_home(again, LocationInput(lat=FAR_AWAY[0], lon=FAR_AWAY[1]))
    db.session.rollback()


def test_register_and_delete_cycles_count_even_without_a_move(app):
    """Each account is a vantage point: a new sign-up after a deletion is a move even
    when the deleted account never moved."""
    for n, spot in enumerate((BATIGNOLLES, CLICHY, FAR_AWAY)):
        member = sign_up(at=spot)
        assert accounts.home_changes_left(member) == 3 - n
        leave(member)
    last = sign_up(at=BATIGNOLLES)
    assert accounts.home_changes_left(last) == 0  # 3 re-registrations in 30 days
    leave(last)
    assert person.moves_blocked_until(EMAIL) is not None


def test_changing_address_after_coming_back_keeps_the_moves(app):
    """Sign up again with the old address, then switch to another: the moves the
    deleted account left follow the person to the new address."""
    first = sign_up()
    move(first, CLICHY)
    leave(first)
    again = sign_up(at=BATIGNOLLES)
    assert accounts.home_changes_left(again) == 1  # one move, and coming back
    accounts.update_account(again, email="camille.nouvelle@example.org", current_password=PASSWORD)
    db.session.commit()
    # Pending: the moves stay with the old address until the new one is confirmed.
    assert count(DepartedHomeChange, DepartedHomeChange.email_key == person.email_key(EMAIL)) == 1
    from peuplade.auth import confirm

    confirm.confirm(confirm.make_change_token(again))
    db.session.commit()
    assert again.email == "camille.nouvelle@example.org"
    assert accounts.home_changes_left(again) == 1
    assert count(DepartedHomeChange, DepartedHomeChange.email_key == person.email_key(EMAIL)) == 0


def test_a_different_email_is_a_different_person(app):
    first = sign_up()
    move(first, CLICHY)
    move(first, BATIGNOLLES)
    leave(first)
    other = sign_up("camille.nouvelle@example.org", at=CLICHY)
    assert count(HomeChange, HomeChange.member_id == other.id) == 0
    assert accounts.home_changes_left(other) == 3
    assert person.moves_blocked_until("camille.nouvelle@example.org") is None


def test_moves_blocked_until_is_when_the_oldest_move_leaves_the_window(app):
    first = sign_up()
    for spot in (CLICHY, FAR_AWAY, BATIGNOLLES):
        move(first, spot)
    now = utcnow()
    when = [now - timedelta(days=20), now - timedelta(days=10), now - timedelta(days=5)]
    ids = db.session.scalars(select(HomeChange.id).order_by(HomeChange.id)).all()
    for ident, at in zip(ids, when, strict=True):
        db.session.execute(update(HomeChange).where(HomeChange.id == ident).values(changed_at=at))
    db.session.commit()
    leave(first)

    until = person.moves_blocked_until(EMAIL.title())
    assert until == when[0] + timedelta(days=30)  # then two moves are left in the window
    assert person.moves_blocked_until(EMAIL, now=until - timedelta(seconds=1)) == until
    assert person.moves_blocked_until(EMAIL, now=until) is None
    # Registering then is the third move of the window.
    again = accounts.register_member(
        email=EMAIL,
        password=PASSWORD,
        display_name="Camille",
        location=LocationInput(lat=CLICHY[0], lon=CLICHY[1]),
    )
    person.note_sign_up(again, now=until)
    assert person.moves_in_window(again, now=until) == 3
    assert accounts.home_changes_left(again, now=until) == 0


def test_one_move_left_does_not_block_a_new_account(app):
    first = sign_up()
    move(first, CLICHY)
    move(first, BATIGNOLLES)
    leave(first)
    assert person.moves_blocked_until(EMAIL) is None


def test_departed_rows_are_purged_after_the_retention(app, monkeypatch, runner):
    key = person.email_key(EMAIL)
    now = utcnow()
    db.session.add_all(
        [
            DepartedHomeChange(email_key=key, changed_at=now - timedelta(days=31)),
            DepartedHomeChange(email_key=key, changed_at=now - timedelta(days=29)),
        ]
    )
    db.session.commit()
    # Out of the window: no longer counted, even before the purge.
    assert person.moves_in_window(EMAIL) == 1
    # The purge follows RETENTION: a longer one keeps both.
    monkeypatch.setitem(policy.RETENTION, "departed_home_changes", timedelta(days=40))
    assert gdpr.purge_old_data()["departed_home_changes"] == 0
    monkeypatch.undo()
    result = runner.invoke(args=["purge-old-data"])
    assert result.exit_code == 0 and "departed_home_changes 1" in result.output
    db.session.expire_all()
    kept = db.session.scalars(select(DepartedHomeChange.changed_at)).all()
    assert kept == [now - timedelta(days=29)]


def test_the_register_says_what_departure_keeps(app):
    entry = policy.REGISTRY["departed_home_changes"]
    assert entry.seen_by == "nobody"
    assert entry.columns["email_key"].sensitive
    assert policy.RETENTION["departed_home_changes"] >= person.WINDOW


# --- the sign-up signal ------------------------------------------------------------------


@pytest.fixture
def batignolles(make_quartier):
    return make_quartier("batignolles", around=(48.8840, 2.3230))


def _signups(n: int, spots=SPOTS, prefix: str = "nouveau") -> list[Member]:
    return [
        sign_up(f"{prefix}{i}@example.org", at=spots[i % len(spots)], name=f"Nouveau {i}")
        for i in range(n)
    ]


def _signals() -> list[Report]:
    return db.session.scalars(select(Report).where(Report.reason == "signups")).all()


def _admin(make_member) -> Member:
    admin = make_member("Admine", at=FAR_AWAY, email="admine@example.org")
    admin.is_admin = True
    db.session.commit()
    return admin


def _browser(app, member):
    browser = app.test_client()
    r = browser.post("/login", data={"email": member.email, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)
    return browser


def test_many_sign_ups_in_one_cell_within_a_day_raise_one_signal(app, batignolles):
    count_needed = app.config["SIGNUP_SIGNAL_COUNT"]
    assert count_needed == 6
    first = _signups(count_needed - 1)
    assert len({m.cell_1 for m in first}) == 1
    assert _signals() == []
    last = sign_up("nouveau-dernier@example.org", at=SPOTS[0], name="Dernier")
    [signal] = _signals()
    assert signal.reporter_id is None and signal.status == "open"
    assert (signal.target_type, signal.target_id, signal.target_member_id) == (
        "member",
        last.id,
        last.id,
    )
    assert signal.quartier_id == batignolles.id == last.quartier_id
    assert "6 comptes" in signal.details and "450 m" in signal.details
    for member in [*first, last]:
        assert str(member.id) in signal.details
    # Never a position, nor the cell's key.
    assert last.cell_1 not in signal.details
    assert not re.search(r"\d+\.\d{3,}", signal.details)
    # Only once while it is open.
    sign_up("nouveau-encore@example.org", at=SPOTS[1], name="Encore")
    assert len(_signals()) == 1


def test_sign_ups_over_several_cells_raise_no_signal(app, batignolles):
    near = _signups(5)
    other = sign_up("ailleurs@example.org", at=CLICHY, name="Ailleurs")
    assert other.cell_1 != near[0].cell_1
    assert _signals() == []


def test_sign_ups_spread_over_more_than_a_day_raise_no_signal(app, batignolles):
    earlier = _signups(5)
    db.session.execute(
        update(Member)
        .where(Member.id.in_([m.id for m in earlier[:1]]))
        .values(created_at=utcnow() - timedelta(hours=25))
    )
    db.session.commit()
    sign_up("nouveau-tard@example.org", at=SPOTS[2], name="Tardif")
    assert _signals() == []


def test_the_signal_in_the_moderators_queue_and_what_they_do(app, make_member, batignolles, api):
    from peuplade.moderation.services import appoint

    admin = _admin(make_member)
    modo = make_member("Modeste", at=FAR_AWAY, email="modeste@example.org")
    appoint(modo, batignolles.id)
    nobody = make_member("Personne", at=FAR_AWAY, email="personne@example.org")
    db.session.commit()
    members = _signups(6)
    [signal] = _signals()
    newest = members[-1]

    for who in (admin, modo):
        page = text_of(_browser(app, who).get("/moderation").get_data(as_text=True))
        assert "Inscriptions groupées" in page and "signalé par Peuplade" in page
        assert f"Signalement n°{signal.id}" in page
    browser = _browser(app, modo)
    r = browser.get(f"/moderation/reports/{signal.id}")
    assert r.status_code == 200
    raw = r.get_data(as_text=True)
    page = text_of(raw)
    assert "Signalé par Peuplade, automatiquement (pas un membre)" in page
    assert "Ce que Peuplade a remarqué" in page and "6 comptes" in page
    assert newest.display_name in page
    assert "un compte supprimé" not in page
    for action in ("ban", "dismiss", "suspend", "warn"):
        assert f"/moderation/reports/{signal.id}/{action}" in raw

    # API: the same queue, for moderators only.
    api.login(nobody.email)
    assert api.get("/moderation/reports").status_code == 404
    api.login(admin.email)
    r = api.get("/moderation/reports")
    assert r.status_code == 200, r.get_json()
    [item] = [i for i in r.get_json()["items"] if i["id"] == signal.id]
    assert item["reason"] == "signups" and item["reason_label"] == "Inscriptions groupées"
    assert item["by_peuplade"] is True and item["reporter"] is None
    assert item["reported_by"] == "signalé par Peuplade"
    assert item["target_member"] == {
        "id": newest.id,
        "display_name": newest.display_name,
        "avatar_url": None,
    }
    assert item["type"] == "member" and item["target_id"] == newest.id
    assert "6 comptes" in item["details"]
    english = api.get("/moderation/reports", headers={"Accept-Language": "en"}).get_json()
    assert [i["reason"] for i in english["items"]] == ["signups"]

    # The moderator closes the newest account from the report, like any other report.
    r = browser.post(
        f"/moderation/reports/{signal.id}/ban",
        data={"ban-reason": "Comptes créés en série pour repérer les domiciles."},
    )
    assert r.status_code == 302, text_of(r.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Member, newest.id).status == "banned"
    assert db.session.get(Report, signal.id).status == "resolved"
    assert count(ModerationAction, ModerationAction.report_id == signal.id) == 1
    api.login(admin.email)
    assert api.get("/moderation/reports").get_json()["items"] == []


def test_a_moderator_may_dismiss_the_signal(app, make_member, batignolles):
    admin = _admin(make_member)
    _signups(6)
    [signal] = _signals()
    browser = _browser(app, admin)
    r = browser.post(
        f"/moderation/reports/{signal.id}/dismiss",
        data={"dismiss-reason": "Une résidence étudiante vient d'ouvrir."},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Report, signal.id).status == "dismissed"


def test_a_moderator_of_another_quartier_does_not_see_it(
    app, make_member, make_quartier, batignolles, api
):
    from peuplade.moderation.services import appoint

    nation = make_quartier("nation", around=FAR_AWAY)
    far_modo = make_member("Lointain", at=FAR_AWAY, email="lointain@example.org")
    appoint(far_modo, nation.id)
    db.session.commit()
    _signups(6)
    [signal] = _signals()
    page = _browser(app, far_modo).get("/moderation").get_data(as_text=True)
    assert "Inscriptions groupées" not in page
    api.login(far_modo.email)
    assert api.get("/moderation/reports").get_json()["items"] == []
    assert _browser(app, far_modo).get(f"/moderation/reports/{signal.id}").status_code == 404


# --- members cannot give the reason "signups" ------------------------------------------


def test_members_cannot_report_with_the_reason_signups(app, make_member, api):
    anne = make_member("Anne", at=BATIGNOLLES, email="anne@example.org")
    bruno = make_member("Bruno", at=CLICHY, email="bruno@example.org")
    with pytest.raises(ValidationFailed) as refused:
        moderation.report(bruno, "member", anne.id, "signups", "")
    assert "reason" in refused.value.fields
    db.session.rollback()

    browser = _browser(app, bruno)
    form = browser.get(f"/report?type=member&id={anne.id}").get_data(as_text=True)
    assert 'value="signups"' not in form and 'value="abuse"' in form
    r = browser.post(f"/report?type=member&id={anne.id}", data={"reason": "signups"})
    assert r.status_code == 422
    assert "Choisissez une raison" in text_of(r.get_data(as_text=True))

    api.login(bruno.email)
    r = api.post("/reports", json={"type": "member", "id": anne.id, "reason": "signups"})
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]
    assert count(Report) == 0
    # What the document offers: every reason but "signups".
    spec = api.get("/openapi.json").get_json()["components"]["schemas"]
    assert "signups" not in spec["ReportBody"]["properties"]["reason"]["enum"]
    assert "signups" in spec["QueuedReportOut"]["properties"]["reason"]["enum"]


def test_every_reason_has_a_label_and_members_pick_only_theirs(app):
    assert set(REASON_SHORT) == set(moderation.REPORT_REASONS)
    assert tuple(REASON_LABELS) == moderation.MEMBER_REASONS
    assert "signups" not in moderation.MEMBER_REASONS
