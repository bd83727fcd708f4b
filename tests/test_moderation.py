"""Moderation and blocking services: reports, what moderators may do and where, the
audit log, hidden content leaving every list, bans, blocks, new-account limits.
Both backends. Pages and API: tests/test_moderation_html.py, tests/test_api_moderation.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from peuplade.errors import Conflict, Forbidden, NotFound, TooManyChanges, ValidationFailed
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import queries as loan_queries
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.messages import queries as message_queries
from peuplade.messages import services as messages
from peuplade.models import (
    Member,
    ModerationAction,
    Moderator,
    Notification,
    Report,
    utcnow,
)
from peuplade.moderation import limits, queries, services
from peuplade.neighbours.queries import neighbours
from peuplade.timeline.queries import timeline
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER


def _request(author, title="Monter un canapé"):
    exchange = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title=title, body="Au 3e.", category="demenagement"
        ),
    )
    db.session.commit()
    return exchange


@pytest.fixture
def people(app, make_member, make_quartier):
    quartier = make_quartier()
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    modo = make_member("Modo", at=BATIGNOLLES)
    db.session.add(Moderator(member_id=modo.id, quartier_id=quartier.id))
    db.session.commit()
    assert anne.quartier_id == quartier.id
    return anne, bruno, modo


def test_a_report_goes_to_the_quartier_once(people):
    anne, bruno, _ = people
    post = _request(anne)
    row = services.report(bruno, "exchange", post.id, "spam", "  Publicité  ")
    db.session.commit()
    assert (row.target_member_id, row.quartier_id, row.details) == (
        anne.id,
        anne.quartier_id,
        "Publicité",
    )
    with pytest.raises(Conflict):
        services.report(bruno, "exchange", post.id, "abuse")
    with pytest.raises(Forbidden):
        services.report(anne, "exchange", post.id, "spam")  # my own post
    for bad in (
        ("planète", post.id, "spam"),
        ("exchange", "x", "spam"),
        ("exchange", post.id, "?"),
    ):
        with pytest.raises(ValidationFailed):
            services.report(bruno, *bad)
    with pytest.raises(NotFound):
        services.report(bruno, "exchange", 999999, "spam")


def test_messages_are_reported_by_participants_only(people, make_member):
    anne, bruno, _ = people
    carla = make_member("Carla", at=CLICHY)
    talk = messages.start(anne, bruno, "Bonjour")
    db.session.commit()
    message_id = talk.messages[0].id
    with pytest.raises(NotFound):
        services.report(carla, "message", message_id, "abuse")
    assert services.report(bruno, "message", message_id, "abuse").target_member_id == anne.id


def test_moderators_act_in_their_quartiers_only(people, make_member, make_quartier):
    anne, bruno, modo = people
    post = _request(anne)
    report = services.report(bruno, "exchange", post.id, "abuse")
    db.session.commit()
    elsewhere = make_member("Autre modo", at=CLICHY)
    other = make_quartier("ailleurs")
    db.session.add(Moderator(member_id=elsewhere.id, quartier_id=other.id))
    db.session.commit()
    for outsider in (elsewhere, bruno):
        with pytest.raises(Forbidden):
            queries.get_report_for(outsider, report.id)
    assert queries.moderated_quartiers(modo) == [anne.quartier_id]
    assert queries.get_report_for(modo, report.id).id == report.id
    admin = make_member("Admin", at=CLICHY)
    services.make_admin(admin.email)
    assert queries.moderated_quartiers(admin) is None
    assert queries.get_report_for(admin, report.id).id == report.id


def test_hidden_content_leaves_every_list_but_its_author_still_sees_it(people):
    anne, bruno, modo = people
    post = _request(anne)
    report = services.report(bruno, "exchange", post.id, "spam")
    db.session.commit()
    assert [e.id for e in db.session.scalars(exchange_queries.near_me(bruno))] == [post.id]
    target = queries.target_of(modo, "exchange", post.id)
    with pytest.raises(ValidationFailed):
        services.hide(modo, target, "   ", report)  # a reason is required
    action = services.hide(modo, target, "Publicité déguisée", report)
    db.session.commit()
    assert (action.moderator_id, action.action, action.member_id, action.reason) == (
        modo.id,
        "hide",
        anne.id,
        "Publicité déguisée",
    )
    assert db.session.get(Report, report.id).status == "resolved"
    assert list(db.session.scalars(exchange_queries.near_me(bruno))) == []
    assert list(db.session.scalars(timeline(bruno))) == []
    with pytest.raises(NotFound):
        exchange_queries.get_exchange_or_404(bruno, post.id)
    assert exchange_queries.get_exchange_or_404(anne, post.id).hidden_at is not None
    services.restore(modo, queries.target_of(modo, "exchange", post.id), "Erreur de ma part")
    db.session.commit()
    assert [e.id for e in db.session.scalars(exchange_queries.near_me(bruno))] == [post.id]
    log = [a.action for a in db.session.scalars(select(ModerationAction).order_by("id"))]
    assert log == ["hide", "restore"]


def test_hidden_messages_disappear_from_the_conversation_and_unread_counts(people):
    anne, bruno, modo = people
    talk = messages.start(anne, bruno, "Message insultant")
    db.session.commit()
    assert message_queries.unread_total(bruno) == 1
    services.hide(modo, queries.target_of(modo, "message", talk.messages[0].id), "Insulte")
    db.session.commit()
    assert message_queries.unread_total(bruno) == 0
    assert list(db.session.scalars(message_queries.messages(talk))) == []


def test_warn_suspend_ban_and_unban(people):
    anne, bruno, modo = people
    post = _request(anne)
    services.warn(modo, anne, "Restez courtois, s'il vous plaît.")
    db.session.commit()
    warning = db.session.scalar(select(Notification).where(Notification.member_id == anne.id))
    assert warning.kind == "moderation_warning"
    version = anne.session_version
    services.suspend(modo, anne, 7, "Insultes répétées")
    db.session.commit()
    assert anne.status == "suspended" and anne.suspended_until > utcnow() + timedelta(days=6)
    assert anne.session_version == version + 1  # logged out everywhere
    with pytest.raises(ValidationFailed):
        services.suspend(modo, anne, 0, "Trop court")
    services.ban(modo, anne, "Harcèlement")
    db.session.commit()
    assert anne.status == "banned"
    assert list(db.session.scalars(exchange_queries.near_me(bruno))) == []  # posts hidden
    assert anne.id not in [m.id for m, _ in db.session.execute(neighbours(bruno))]
    with pytest.raises(Conflict):
        services.ban(modo, anne, "Encore")
    services.unban(modo, anne, "Recours accepté")
    db.session.commit()
    assert anne.status == "active"
    assert [e.id for e in db.session.scalars(exchange_queries.near_me(bruno))] == [post.id]
    actions = [
        (a.action, a.moderator_id, a.member_id)
        for a in db.session.scalars(select(ModerationAction).order_by(ModerationAction.id))
    ]
    assert actions == [(name, modo.id, anne.id) for name in ("warn", "suspend", "ban", "unban")]
    with pytest.raises(Forbidden):
        services.warn(modo, modo, "Moi-même")


def test_a_block_silences_without_telling(people, make_member):
    anne, bruno, _ = people
    post = _request(anne)
    item = loans.offer_item(anne, loans.ItemInput(title="Perceuse", category="bricolage"))
    db.session.commit()
    assert messages.may_write(bruno, anne)
    services.block(anne, bruno.id)
    services.block(anne, bruno.id)  # again: nothing more
    db.session.commit()
    assert limits.is_blocked(anne.id, bruno.id) and not limits.is_blocked(bruno.id, anne.id)
    # Bruno can no longer write, answer, borrow or see Anne's items; Anne cannot write
    # to him either until she unblocks.
    assert not messages.may_write(bruno, anne) and not messages.may_write(anne, bruno)
    assert list(db.session.scalars(loan_queries.near_me(bruno))) == []
    with pytest.raises(NotFound):
        loan_queries.get_item_or_404(bruno, item.id)
    with pytest.raises(NotFound):
        exchange_queries.get_exchange_or_404(bruno, post.id)
    with pytest.raises(NotFound):
        exchanges.respond(post, bruno, "Je viens")
    with pytest.raises(NotFound):
        loans.request_loan(item, bruno, today() + timedelta(days=1), today() + timedelta(days=2))
    # Others are not affected.
    carla = make_member("Carla", at=CLICHY)
    assert [i.id for i in db.session.scalars(loan_queries.near_me(carla))] == [item.id]
    services.unblock(anne, bruno.id)
    db.session.commit()
    assert messages.may_write(bruno, anne)
    with pytest.raises(ValidationFailed):
        services.block(anne, anne.id)


def test_a_blocked_member_is_not_told_of_new_requests(people, make_member):
    anne, _, _ = people
    handy = make_member("Bricoleur", at=CLICHY, skills=["bricolage"])
    services.block(handy, anne.id)
    db.session.commit()
    exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="request", title="Fixer une étagère", body="Svp", category="bricolage"
        ),
    )
    db.session.commit()
    told = db.session.scalars(select(Notification.member_id)).all()
    assert handy.id not in told


def test_new_accounts_are_limited(make_app, make_member):
    app = make_app(NEW_ACCOUNT_POSTS_PER_DAY=2, NEW_ACCOUNT_MESSAGES_PER_HOUR=2)
    with app.app_context():
        anne = make_member("Anne", at=DAMES_LEMERCIER)
        bruno = make_member("Bruno", at=CLICHY)
        _request(anne, "Premier")
        _request(anne, "Deuxième")
        with pytest.raises(TooManyChanges):
            _request(anne, "Troisième")
        db.session.rollback()
        talk = messages.start(anne, bruno, "Un")
        messages.write(talk, anne, "Deux")
        with pytest.raises(TooManyChanges):
            messages.write(talk, anne, "Trois")
        db.session.rollback()
        # An older account is not limited.
        db.session.execute(
            update(Member)
            .where(Member.id == anne.id)
            .values(created_at=utcnow() - timedelta(days=30))
        )
        db.session.commit()
        db.session.refresh(anne)
        assert _request(anne, "Troisième").id


def test_make_admin_command(app, make_member, runner):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    result = runner.invoke(args=["make-admin", anne.email.upper()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Member, anne.id).is_admin
    assert runner.invoke(args=["make-admin", "personne@example.org"]).exit_code == 1


def test_make_moderator_command(people, make_member, runner):
    _anne, bruno, _modo = people
    result = runner.invoke(args=["make-moderator", bruno.email, "batignolles"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert queries.moderated_quartiers(db.session.get(Member, bruno.id)) == [bruno.quartier_id]
    assert runner.invoke(args=["make-moderator", bruno.email, "nulle-part"]).exit_code == 1
