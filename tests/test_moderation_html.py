"""Trust and safety pages: "Signaler" from every kind of page, the moderation queue and
who sees it, each moderator action through its form with its audit-log row, hidden
content, bans, blocking from a profile and what it does, and `flask make-admin`."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.location import LocationInput
from peuplade.messages import services as messages
from peuplade.models import (
    Exchange,
    Member,
    ModerationAction,
    Notification,
    Report,
    utcnow,
)
from peuplade.moderation import services as moderation
from peuplade.news import services as news
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD
from tests.helpers.browsers import as_member
from tests.helpers.pages import text_of
from tests.test_news_events import _place


def report_links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/report\?[^"]*)"', page)]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@dataclass
class World:
    anne: Member  # writes everything that gets reported
    bruno: Member  # her neighbour, who reports
    modo: Member  # moderates Batignolles
    far_modo: Member  # moderates Nation, far away
    far: Member  # lives at Nation: none of this is in reach
    exchange: object
    item: object
    news: object
    event: object
    comment: object
    conversation: object


@pytest.fixture
def world(app, make_member, make_quartier) -> World:
    batignolles = make_quartier("batignolles", around=(48.8840, 2.3230))
    nation = make_quartier("nation", around=FAR_AWAY)
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    modo = make_member("Modeste", at=BATIGNOLLES)
    far_modo = make_member("Lointain", at=FAR_AWAY)
    far = make_member("Nadia", at=FAR_AWAY)
    moderation.appoint(modo, batignolles.id)
    moderation.appoint(far_modo, nation.id)
    exchange = exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="offer", title="Vends crème miracle", body="Écrivez-moi.", category="autre"
        ),
    )
    item = loans.offer_item(
        anne, loans.ItemInput(title="Perceuse", description="Avec mèches.", category="bricolage")
    )
    info = news.post_news(anne, news.NewsInput(title="Coupure d'eau mardi", body="De 9 h à 12 h."))
    db.session.commit()
    event = events.create_event(
        anne,
        events.EventInput(
            title="Pique-nique au square",
            body="Chacun apporte un plat.",
            starts_at=utcnow() + timedelta(days=3),
            location=LocationInput(place_id=_place().id),
        ),
    )
    comment = news.comment(info, anne, "Achetez ma crème miracle !")
    conversation = messages.start(anne, bruno, "Bonjour Bruno, un message désagréable.")
    db.session.commit()
    return World(
        anne=anne,
        bruno=bruno,
        modo=modo,
        far_modo=far_modo,
        far=far,
        exchange=exchange,
        item=item,
        news=info,
        event=event,
        comment=comment,
        conversation=conversation,
    )


def _message_id(conversation) -> int:
    from peuplade.models import Message

    return db.session.scalar(
        select(Message.id).where(Message.conversation_id == conversation.id).limit(1)
    )


def _pages(w: World) -> dict[str, tuple[str, int]]:
    """Where each kind of thing is shown, and its id."""
    return {
        "exchange": (f"/exchanges/{w.exchange.id}", w.exchange.id),
        "item": (f"/objects/{w.item.id}", w.item.id),
        "news": (f"/news/{w.news.id}", w.news.id),
        "event": (f"/events/{w.event.id}", w.event.id),
        "comment": (f"/news/{w.news.id}", w.comment.id),
        "message": (f"/messages/{w.conversation.id}", _message_id(w.conversation)),
        "member": (f"/profile/{w.anne.id}", w.anne.id),
    }


def _report(w: World, reporter: Member, target_type: str, target_id: int) -> Report:
    row = moderation.report(reporter, target_type, target_id, "abuse", "Pas gentil.")
    db.session.commit()
    return row


# --- reporting -------------------------------------------------------------------------


def test_report_from_every_kind_of_page(app, world):
    w = world
    b = as_member(app, w.bruno)
    for target_type, (page_url, target_id) in _pages(w).items():
        page = b.get(page_url).get_data(as_text=True)
        link = f"/report?type={target_type}&id={target_id}"
        assert link in report_links(page), target_type
        form = b.get(link)
        assert form.status_code == 200
        text = text_of(form.get_data(as_text=True))
        assert "Quel est le problème ?" in text
        assert "Insultes, harcèlement ou propos haineux" in text
        r = b.post(link, data={"reason": "spam", "details": f"À propos de {target_type}"})
        assert r.status_code == 302, (target_type, r.get_data(as_text=True))
        back = b.get(r.headers["Location"]).get_data(as_text=True)
        assert "Merci, la modération va regarder." in text_of(back)
        row = db.session.scalar(
            select(Report).where(Report.target_type == target_type, Report.target_id == target_id)
        )
        assert row.reporter_id == w.bruno.id
        assert row.reason == "spam" and row.status == "open"
        assert row.details == f"À propos de {target_type}"
        assert row.target_member_id == w.anne.id
        assert row.quartier_id == w.anne.quartier_id is not None
    assert count(Report) == 7


def test_no_report_link_on_my_own_things(app, world):
    w = world
    a = as_member(app, w.anne)
    for target_type, (page_url, target_id) in _pages(w).items():
        if target_type == "member":
            page_url = f"/profile/{w.anne.id}"
        page = a.get(page_url).get_data(as_text=True)
        assert f"/report?type={target_type}&id={target_id}" not in report_links(page), target_type
    # In the conversation, Bruno's own message has no link, Anne's has one.
    b = as_member(app, w.bruno)
    b.post(f"/messages/{w.conversation.id}", data={"message": "Arrêtez, s'il vous plaît."})
    links = report_links(b.get(f"/messages/{w.conversation.id}").get_data(as_text=True))
    assert [u for u in links if "type=message" in u] == [
        f"/report?type=message&id={_message_id(w.conversation)}"
    ]
    # Reporting one's own thing by hand is refused and writes nothing.
    r = a.post(f"/report?type=exchange&id={w.exchange.id}", data={"reason": "spam"})
    assert r.status_code == 403
    assert count(Report) == 0


def test_report_errors_stay_on_the_form_and_a_duplicate_is_refused(app, world):
    w = world
    b = as_member(app, w.bruno)
    url = f"/report?type=exchange&id={w.exchange.id}"
    r = b.post(url, data={"details": "sans raison"})
    assert r.status_code == 422
    page = text_of(r.get_data(as_text=True))
    assert "Choisissez une raison." in page
    assert "sans raison" in page  # what was typed is kept
    r = b.post(url, data={"reason": "other", "details": "x" * 1001})
    assert r.status_code == 422
    assert "1000 caractères au plus." in text_of(r.get_data(as_text=True))
    assert count(Report) == 0

    assert b.post(url, data={"reason": "other"}).status_code == 302
    r = b.post(url, data={"reason": "spam"})
    assert r.status_code == 422
    assert "Vous avez déjà signalé ceci" in text_of(r.get_data(as_text=True))
    assert count(Report) == 1


def test_reporting_what_i_cannot_see_is_a_404(app, world):
    w = world
    n = as_member(app, w.far)
    for target_type, (_page, target_id) in _pages(w).items():
        url = f"/report?type={target_type}&id={target_id}"
        assert n.get(url).status_code == 404, target_type
        assert n.post(url, data={"reason": "spam"}).status_code == 404, target_type
    b = as_member(app, w.bruno)
    for url in (
        "/report?type=exchange&id=999999",
        "/report?type=planet&id=1",
        "/report?type=exchange&id=abc",
        "/report?type=exchange",
        "/report",
    ):
        assert b.get(url).status_code == 404, url
    assert count(Report) == 0


def test_anonymous_visitors_are_sent_to_login(client, world):
    r = client.get(f"/report?type=exchange&id={world.exchange.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get("/moderation").status_code == 302
    assert client.post(f"/account/blocks/{world.anne.id}").status_code == 302


# --- the queue and who sees it ---------------------------------------------------------


def test_queue_is_only_for_the_quartiers_moderators_and_admins(app, world, make_member):
    w = world
    here = _report(w, w.bruno, "exchange", w.exchange.id)
    # A report at Nation, between two of its members.
    nadia_item = loans.offer_item(
        w.far, loans.ItemInput(title="Échelle", description="3 m.", category="bricolage")
    )
    db.session.commit()
    there = _report(w, w.far_modo, "item", nadia_item.id)

    b = as_member(app, w.bruno)
    assert "/moderation" not in re.findall(r'href="([^"]*)"', b.get("/more").get_data(as_text=True))
    for url in ("/moderation", "/moderation/log", f"/moderation/reports/{here.id}"):
        assert b.get(url).status_code == 404, url
    r = b.post(f"/moderation/reports/{here.id}/hide", data={"hide-reason": "non"})
    assert r.status_code == 404
    assert db.session.get(Exchange, w.exchange.id).hidden_at is None

    m = as_member(app, w.modo)
    page = m.get("/more").get_data(as_text=True)
    assert 'href="/moderation"' in page and "Modération" in text_of(page)
    queue = m.get("/moderation")
    assert queue.status_code == 200
    assert f"/moderation/reports/{here.id}" in queue.get_data(as_text=True)
    assert f"/moderation/reports/{there.id}" not in queue.get_data(as_text=True)
    assert "Vends crème miracle" in text_of(queue.get_data(as_text=True))
    assert m.get(f"/moderation/reports/{there.id}").status_code == 404

    f = as_member(app, w.far_modo)
    queue = f.get("/moderation").get_data(as_text=True)
    assert f"/moderation/reports/{there.id}" in queue
    assert f"/moderation/reports/{here.id}" not in queue
    assert f.get(f"/moderation/reports/{here.id}").status_code == 404
    r = f.post(f"/moderation/reports/{here.id}/hide", data={"hide-reason": "hors zone"})
    assert r.status_code == 404
    assert db.session.get(Exchange, w.exchange.id).hidden_at is None

    boss = make_member("Admin", at=FAR_AWAY)
    moderation.make_admin(boss.email)
    db.session.commit()
    queue = as_member(app, boss).get("/moderation").get_data(as_text=True)
    assert f"/moderation/reports/{here.id}" in queue
    assert f"/moderation/reports/{there.id}" in queue
    # Newest first.
    assert queue.index(f"/moderation/reports/{there.id}") < queue.index(
        f"/moderation/reports/{here.id}"
    )


def test_queue_pages_with_a_signed_cursor(app, world, make_member):
    w = world
    reporters = [make_member(f"Voisine {i}", at=CLICHY) for i in range(22)]
    ids = [_report(w, r, "exchange", w.exchange.id).id for r in reporters]
    m = as_member(app, w.modo)
    first = m.get("/moderation").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'href="/moderation/reports/(\d+)"', first)]
    assert shown == sorted(ids, reverse=True)[:20]
    more = html.unescape(re.search(r'href="(/moderation\?cursor=[^"]+)"', first).group(1))
    second = m.get(more).get_data(as_text=True)
    rest = [int(i) for i in re.findall(r'href="/moderation/reports/(\d+)"', second)]
    assert rest == sorted(ids, reverse=True)[20:]
    tampered = m.get("/moderation?cursor=abc")
    assert tampered.status_code == 400
    assert "n'est plus valable" in text_of(tampered.get_data(as_text=True))


# --- moderator actions, each with its audit-log row ------------------------------------


def _log_rows() -> list[ModerationAction]:
    return list(db.session.scalars(select(ModerationAction).order_by(ModerationAction.id)))


def test_hide_and_restore_through_the_forms(app, world):
    w = world
    row = _report(w, w.bruno, "exchange", w.exchange.id)
    m, a, b = as_member(app, w.modo), as_member(app, w.anne), as_member(app, w.bruno)
    page = text_of(m.get(f"/moderation/reports/{row.id}").get_data(as_text=True))
    assert "Vends crème miracle" in page and "Écrivez-moi." in page and "Pas gentil." in page

    # No reason: the error is on the form, nothing changes.
    r = m.post(f"/moderation/reports/{row.id}/hide", data={"hide-reason": "  "})
    assert r.status_code == 422
    assert "Écrivez la raison" in text_of(r.get_data(as_text=True))
    assert db.session.get(Exchange, w.exchange.id).hidden_at is None
    assert _log_rows() == []

    r = m.post(f"/moderation/reports/{row.id}/hide", data={"hide-reason": "Arnaque évidente"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Exchange, w.exchange.id).hidden_at is not None
    assert db.session.get(Report, row.id).status == "resolved"
    (action,) = _log_rows()
    assert (action.moderator_id, action.action, action.reason) == (
        w.modo.id,
        "hide",
        "Arnaque évidente",
    )
    assert (action.target_type, action.target_id, action.member_id) == (
        "exchange",
        w.exchange.id,
        w.anne.id,
    )

    # Gone for the neighbours, from the page and the lists; the author sees the notice.
    assert b.get(f"/exchanges/{w.exchange.id}").status_code == 404
    assert "Vends crème miracle" not in text_of(b.get("/exchanges").get_data(as_text=True))
    mine = a.get(f"/exchanges/{w.exchange.id}")
    assert mine.status_code == 200
    assert "Masqué par la modération : vos voisins ne le voient plus." in text_of(
        mine.get_data(as_text=True)
    )
    # Still readable by the moderator, marked hidden.
    page = text_of(m.get(f"/moderation/reports/{row.id}").get_data(as_text=True))
    assert "Masqué le" in page and "Écrivez-moi." in page

    log = text_of(m.get("/moderation/log").get_data(as_text=True))
    assert "Modeste" in log and "Contenu masqué" in log and "Arnaque évidente" in log

    r = m.post(f"/moderation/reports/{row.id}/restore", data={"restore-reason": "Erreur"})
    assert r.status_code == 302
    assert b.get(f"/exchanges/{w.exchange.id}").status_code == 200
    assert "Masqué par la modération" not in text_of(
        a.get(f"/exchanges/{w.exchange.id}").get_data(as_text=True)
    )
    assert [x.action for x in _log_rows()] == ["hide", "restore"]
    # Restoring twice: the reason it cannot be done, on the form.
    r = m.post(f"/moderation/reports/{row.id}/restore", data={"restore-reason": "encore"})
    assert r.status_code == 422
    assert "pas masqué" in text_of(r.get_data(as_text=True))


@pytest.mark.parametrize("kind", ["item", "news", "event", "comment", "message"])
def test_hidden_content_disappears_for_others_and_its_author_is_told(app, world, kind):
    w = world
    pages = _pages(w)
    page_url, target_id = pages[kind]
    row = _report(w, w.bruno, kind, target_id)
    m, a, b = as_member(app, w.modo), as_member(app, w.anne), as_member(app, w.bruno)
    body = {
        "item": "Avec mèches.",
        "news": "De 9 h à 12 h.",
        "event": "Chacun apporte un plat.",
        "comment": "Achetez ma crème miracle !",
        "message": "un message désagréable",
    }[kind]
    assert body in text_of(b.get(page_url).get_data(as_text=True))
    r = m.post(f"/moderation/reports/{row.id}/hide", data={"hide-reason": "Hors charte"})
    assert r.status_code == 302
    assert _log_rows()[-1].action == "hide"
    if kind in ("comment", "message"):
        # The page stays; the comment or message is no longer on it.
        assert body not in text_of(b.get(page_url).get_data(as_text=True))
    else:
        assert b.get(page_url).status_code == 404
        mine = text_of(a.get(page_url).get_data(as_text=True))
        assert "Masqué par la modération : vos voisins ne le voient plus." in mine
        assert body in mine


def test_dismiss_takes_the_report_off_the_queue(app, world):
    w = world
    row = _report(w, w.bruno, "news", w.news.id)
    m = as_member(app, w.modo)
    r = m.post(f"/moderation/reports/{row.id}/dismiss", data={"dismiss-reason": "Rien d'anormal"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/moderation")
    db.session.expire_all()
    assert db.session.get(Report, row.id).status == "dismissed"
    assert f"/moderation/reports/{row.id}" not in m.get("/moderation").get_data(as_text=True)
    (action,) = _log_rows()
    assert (action.action, action.reason, action.moderator_id) == (
        "dismiss",
        "Rien d'anormal",
        w.modo.id,
    )
    log = text_of(m.get("/moderation/log").get_data(as_text=True))
    assert "Signalement classé sans suite" in log and "Rien d'anormal" in log
    # Nothing left to dismiss.
    r = m.post(f"/moderation/reports/{row.id}/dismiss", data={"dismiss-reason": "encore"})
    assert r.status_code == 422
    assert "déjà traité" in text_of(r.get_data(as_text=True))


def test_warn_suspend_ban_and_unban_the_author(app, world):
    w = world
    row = _report(w, w.bruno, "member", w.anne.id)
    m, b = as_member(app, w.modo), as_member(app, w.bruno)
    url = f"/moderation/reports/{row.id}"

    r = m.post(f"{url}/warn", data={"warn-reason": "Restez courtois"})
    assert r.status_code == 302
    note = db.session.scalar(select(Notification).where(Notification.member_id == w.anne.id))
    assert note is not None and note.kind == "moderation_warning"

    r = m.post(f"{url}/suspend", data={"suspend-days": "abc", "suspend-reason": "Récidive"})
    assert r.status_code == 422
    assert "Entre 1 et 365 jours." in text_of(r.get_data(as_text=True))
    r = m.post(f"{url}/suspend", data={"suspend-days": "3", "suspend-reason": ""})
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.get(Member, w.anne.id).status == "active"

    r = m.post(f"{url}/suspend", data={"suspend-days": "3", "suspend-reason": "Récidive"})
    assert r.status_code == 302
    db.session.expire_all()
    anne = db.session.get(Member, w.anne.id)
    assert anne.status == "suspended"
    assert timedelta(days=2, hours=23) < anne.suspended_until - utcnow() <= timedelta(days=3)
    login = app.test_client().post("/login", data={"email": anne.email, "password": PASSWORD})
    assert login.status_code != 302  # refused: suspended
    assert "suspendu" in text_of(login.get_data(as_text=True))

    r = m.post(f"{url}/unban", data={"unban-reason": "Excuses reçues"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, w.anne.id).status == "active"
    as_member(app, w.anne)  # may log in again

    r = m.post(f"{url}/ban", data={"ban-reason": "Harcèlement"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, w.anne.id).status == "banned"
    login = app.test_client().post("/login", data={"email": w.anne.email, "password": PASSWORD})
    assert login.status_code != 302
    assert "fermé" in text_of(login.get_data(as_text=True))
    assert b.get(f"/profile/{w.anne.id}").status_code == 404  # profile gone
    assert b.get(f"/exchanges/{w.exchange.id}").status_code == 404  # posts hidden
    assert b.get(f"/objects/{w.item.id}").status_code == 404

    r = m.post(f"{url}/unban", data={"unban-reason": "Levée après médiation"})
    assert r.status_code == 302
    assert b.get(f"/profile/{w.anne.id}").status_code == 200
    assert b.get(f"/exchanges/{w.exchange.id}").status_code == 200

    rows = _log_rows()
    assert [(x.action, x.reason) for x in rows] == [
        ("warn", "Restez courtois"),
        ("suspend", "Récidive"),
        ("unban", "Excuses reçues"),
        ("ban", "Harcèlement"),
        ("unban", "Levée après médiation"),
    ]
    assert {x.moderator_id for x in rows} == {w.modo.id}
    assert {x.member_id for x in rows} == {w.anne.id}
    log = m.get("/moderation/log").get_data(as_text=True)
    text = text_of(log)
    for label, reason in [
        ("Avertissement", "Restez courtois"),
        ("Suspension", "Récidive"),
        ("Compte fermé", "Harcèlement"),
        ("Compte rétabli", "Levée après médiation"),
    ]:
        assert label in text and reason in text
    # Newest first.
    assert text.index("Levée après médiation") < text.index("Restez courtois")


def test_the_log_is_scoped_like_the_queue(app, world):
    w = world
    row = _report(w, w.bruno, "exchange", w.exchange.id)
    m = as_member(app, w.modo)
    assert m.post(f"/moderation/reports/{row.id}/hide", data={"hide-reason": "Spam"}).status_code
    assert "Spam" in text_of(m.get("/moderation/log").get_data(as_text=True))
    far_log = text_of(as_member(app, w.far_modo).get("/moderation/log").get_data(as_text=True))
    assert "Spam" not in far_log and "Aucune action de modération" in far_log


def test_a_moderator_cannot_moderate_themselves_or_an_admin(app, world, make_member):
    w = world
    row = _report(w, w.bruno, "member", w.modo.id)
    moderation.make_admin(w.anne.email)
    db.session.commit()
    m = as_member(app, w.modo)
    r = m.post(f"/moderation/reports/{row.id}/ban", data={"ban-reason": "moi-même"})
    assert r.status_code == 422
    assert "vous modérer vous-même" in text_of(r.get_data(as_text=True))
    assert db.session.get(Member, w.modo.id).status == "active"
    assert _log_rows() == []


# --- blocking --------------------------------------------------------------------------


def test_block_from_the_profile_and_what_it_does(app, world):
    w = world
    a, b = as_member(app, w.anne), as_member(app, w.bruno)
    # Before: Bruno reaches everything of Anne's.
    for url in (
        f"/exchanges/{w.exchange.id}",
        f"/objects/{w.item.id}",
        f"/news/{w.news.id}",
        f"/events/{w.event.id}",
    ):
        assert b.get(url).status_code == 200, url
    assert b.get(f"/messages/new?to={w.anne.id}").status_code == 200

    profile = a.get(f"/profile/{w.bruno.id}").get_data(as_text=True)
    assert f'action="/account/blocks/{w.bruno.id}"' in profile
    assert "Elle n’en est pas prévenue" in text_of(profile)
    r = a.post(f"/account/blocks/{w.bruno.id}", data={"next": f"/profile/{w.bruno.id}"})
    assert r.status_code == 302 and r.headers["Location"] == f"/profile/{w.bruno.id}"
    profile = text_of(a.get(r.headers["Location"]).get_data(as_text=True))
    assert "Vous avez bloqué Bruno" in profile and "Débloquer" in profile

    # Bruno no longer sees Anne's posts, in lists or by address, and cannot act on them.
    for url in (
        f"/exchanges/{w.exchange.id}",
        f"/objects/{w.item.id}",
        f"/news/{w.news.id}",
        f"/events/{w.event.id}",
    ):
        r = b.get(url)
        assert r.status_code == 404, url
        assert "bloqu" not in r.get_data(as_text=True).lower()  # not told why
    for url, title in (
        ("/exchanges", "Vends crème miracle"),
        ("/objects", "Perceuse"),
        ("/news", "Coupure d'eau mardi"),
        ("/timeline", "Pique-nique au square"),
    ):
        assert title not in text_of(b.get(url).get_data(as_text=True)), url
    r = b.post(f"/exchanges/{w.exchange.id}/responses", data={"message": "Je veux bien"})
    assert r.status_code == 404
    start, due = today() + timedelta(days=1), today() + timedelta(days=3)
    r = b.post(
        f"/objects/{w.item.id}/borrow",
        data={"start": start.isoformat(), "due": due.isoformat(), "message": "svp"},
    )
    assert r.status_code == 404
    # Messages: neither a new conversation nor a word in the old one, which is gone for
    # both (404, like anything out of reach) until the block is lifted.
    r = b.get(f"/messages/new?to={w.anne.id}")
    assert r.status_code == 403
    assert "bloqu" not in r.get_data(as_text=True).lower()
    r = b.post(f"/messages/{w.conversation.id}", data={"message": "Répondez-moi"})
    assert r.status_code == 404
    assert a.get(f"/messages/{w.conversation.id}").status_code == 404

    # The list of people I blocked; unblocking gives everything back.
    page = a.get("/account/blocks").get_data(as_text=True)
    assert "Bruno" in text_of(page) and "ne peut plus répondre à vos annonces" in text_of(page)
    r = a.post(f"/account/blocks/{w.bruno.id}/delete", data={"next": "/account/blocks"})
    assert r.status_code == 302 and r.headers["Location"] == "/account/blocks"
    page = text_of(a.get("/account/blocks").get_data(as_text=True))
    assert "Vous avez débloqué Bruno." in page and "Vous n'avez bloqué personne." in page
    assert b.get(f"/exchanges/{w.exchange.id}").status_code == 200
    assert b.get(f"/messages/new?to={w.anne.id}").status_code == 200
    page = text_of(a.get(f"/messages/{w.conversation.id}").get_data(as_text=True))
    assert "Répondez-moi" not in page and "Bruno" in page


def test_blocking_someone_out_of_reach_or_myself(app, world):
    w = world
    a = as_member(app, w.anne)
    assert a.post(f"/account/blocks/{w.far.id}").status_code == 404
    assert a.post("/account/blocks/999999").status_code == 404
    r = a.post(f"/account/blocks/{w.anne.id}", follow_redirects=True)
    assert "Vous ne pouvez pas vous bloquer vous-même." in text_of(r.get_data(as_text=True))
    # An outside "next" is not followed.
    r = a.post(f"/account/blocks/{w.bruno.id}", data={"next": "https://evil.example/"})
    assert r.headers["Location"] == f"/profile/{w.bruno.id}"


def test_block_forms_need_the_csrf_token(make_app, make_member):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        anne = make_member("Anne", at=DAMES_LEMERCIER)
        bruno = make_member("Bruno", at=CLICHY)
        browser = app.test_client()
        page = browser.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        r = browser.post(
            "/login", data={"email": anne.email, "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 302
        assert browser.post(f"/account/blocks/{bruno.id}").status_code == 400
        profile = browser.get(f"/profile/{bruno.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', profile).group(1)
        r = browser.post(f"/account/blocks/{bruno.id}", data={"csrf_token": token})
        assert r.status_code == 302
        assert "Débloquer" in browser.get(f"/profile/{bruno.id}").get_data(as_text=True)


# --- flask make-admin ------------------------------------------------------------------


def test_make_admin_command(app, runner, make_member):
    member = make_member("Future admin", email="Chef@Example.org")
    result = runner.invoke(args=["make-admin", "chef@example.org"])
    assert result.exit_code == 0, result.output
    assert f"n°{member.id}" in result.output
    db.session.expire_all()
    assert db.session.get(Member, member.id).is_admin is True
    assert as_member(app, member).get("/moderation").status_code == 200

    result = runner.invoke(args=["make-admin", "personne@example.org"])
    assert result.exit_code != 0
    assert "Aucun membre" in result.output
