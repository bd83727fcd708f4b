"""Notification emails through a real SMTP server (aiosmtpd on loopback): sent after
the request's commit, in the member's language, with a working one-click unsubscribe;
retried by `flask send-notifications` when the server was down; the daily digest."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.models import Member, Notification, Post, utcnow
from peuplade.notifications import mail, services
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD
from tests.helpers.mail import plain_text
from tests.helpers.servers import free_port
from tests.smtp_server import SMTPInbox


@pytest.fixture
def app(mail_app):
    """Every app of this module sends its emails to the ``smtp`` server."""
    return mail_app


def client_for():
    from flask import current_app

    return current_app.test_client()


def _login(client, member) -> None:
    response = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert response.status_code == 302


def _request(author, title="Monter un canapé", category="demenagement"):
    exchange = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title=title, body="Au 3e sans ascenseur.", category=category
        ),
    )
    db.session.commit()
    return exchange


def _link(message, path_start: str) -> str:
    """The path of the first link in the email that starts with ``path_start``."""
    found = re.search(
        r"https://peuplade\.example(" + re.escape(path_start) + r"\S*)", plain_text(message)
    )
    assert found, plain_text(message)
    return found.group(1)


def _states(member) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.email_state)
            .where(Notification.member_id == member.id)
            .order_by(Notification.id)
        )
    )


def test_a_response_is_emailed_after_the_commit_in_french(app, smtp, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    request = _request(anne)
    client = client_for()
    _login(client, bruno)
    response = client.post(f"/exchanges/{request.id}/responses", data={"message": "Je viens"})
    assert response.status_code == 302
    [message] = smtp.messages
    assert smtp.envelopes[0][1] == [anne.email]
    assert message["To"] == f"Anne <{anne.email}>"
    assert message["Subject"] == ("Peuplade : Bruno a répondu à votre annonce « Monter un canapé »")
    assert message["Content-Language"] == "fr"
    assert "Bonjour Anne," in plain_text(message)
    assert f"https://peuplade.example/exchanges/{request.id}" in plain_text(message)
    # Nothing about where anyone lives.
    for lat, lon in (DAMES_LEMERCIER, CLICHY):
        assert f"{lat:.4f}" not in message.as_string() and f"{lon:.4f}" not in message.as_string()
    assert _states(anne) == ["sent"]


def test_emails_are_in_the_recipients_language(app, smtp, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    anne.locale = "en"
    db.session.commit()
    bruno = make_member("Bruno", at=CLICHY)
    request = _request(anne)
    client = client_for()
    _login(client, bruno)  # Bruno browses in French; Anne reads English
    client.post(f"/exchanges/{request.id}/responses", data={"message": "Je viens"})
    [message] = smtp.messages
    assert message["Content-Language"] == "en"
    assert message["Subject"] == "Peuplade: Bruno answered your post “Monter un canapé”"
    assert "Hello Anne," in plain_text(message)


def test_one_click_unsubscribe_works_without_logging_in(app, smtp, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    carla = make_member("Carla", at=CLICHY)
    request = _request(anne)
    client = client_for()
    _login(client, bruno)
    client.post(f"/exchanges/{request.id}/responses", data={"message": "Je viens"})
    [message] = smtp.messages
    path = _link(message, "/unsubscribe/")
    assert message["List-Unsubscribe"] == f"<https://peuplade.example{path}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    anonymous = client_for()
    page = anonymous.get(path)
    assert page.status_code == 200 and "Ne plus recevoir" in page.get_data(as_text=True)
    assert services.settings_of(anne)["response"] == "on"  # a GET changes nothing
    # What a mail program sends for RFC 8058 one-click: a POST, no session, no CSRF.
    done = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "C'est fait" in done.get_data(as_text=True)
    db.session.expire_all()
    assert services.settings_of(anne)["response"] == "off"
    assert services.settings_of(anne)["message"] == "on"  # only that kind

    _login(client_for(), carla)
    carla_client = client_for()
    _login(carla_client, carla)
    carla_client.post(f"/exchanges/{request.id}/responses", data={"message": "Moi aussi"})
    assert len(smtp.messages) == 1  # no second email to Anne
    assert _states(anne) == ["sent", "none"]

    forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert anonymous.get(forged).status_code == 404
    assert anonymous.post(forged).status_code == 404
    assert anonymous.get("/unsubscribe/not-a-token").status_code == 404


def test_smtp_down_keeps_the_page_and_the_notification_then_retries(make_app, make_member):
    port = free_port()  # nothing listens there yet
    app = make_app(
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_TIMEOUT=2.0,
        PUBLIC_URL="https://peuplade.example",
    )
    with app.app_context():
        anne = make_member("Anne", at=DAMES_LEMERCIER)
        bruno = make_member("Bruno", at=CLICHY)
        request = _request(anne)
        client = app.test_client()
        _login(client, bruno)
        response = client.post(
            f"/exchanges/{request.id}/responses",
            data={"message": "Je viens"},
            follow_redirects=True,
        )
        assert response.status_code == 200 and "Je viens" in response.get_data(as_text=True)
        note = db.session.scalar(select(Notification).where(Notification.member_id == anne.id))
        assert (note.kind, note.email_state, note.email_attempts) == ("response", "pending", 1)
        assert note.email_error == "MailUnavailable" or note.email_error  # a class name
        # The bell has it, whatever the mail server does.
        anne_client = app.test_client()
        _login(anne_client, anne)
        assert "Bruno a répondu" in anne_client.get("/notifications").get_data(as_text=True)

        # Still down: the command says so (exit 1) and keeps it for later.
        result = app.test_cli_runner().invoke(args=["send-notifications"])
        assert result.exit_code == 1 and "1 à réessayer" in result.output
        inbox = SMTPInbox(port).start()
        try:
            result = app.test_cli_runner().invoke(args=["send-notifications"])
            assert result.exit_code == 0, result.output
            assert "1 emails envoyés" in result.output
            assert [m["To"] for m in inbox.messages] == [f"Anne <{anne.email}>"]
            # Once sent, never again.
            app.test_cli_runner().invoke(args=["send-notifications"])
            assert len(inbox.messages) == 1
        finally:
            inbox.stop()
        db.session.expire_all()
        assert _states(anne) == ["sent"]


def test_a_rolled_back_request_sends_nothing(app, smtp, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    request = _request(anne)
    client = client_for()
    _login(client, bruno)
    client.post(f"/exchanges/{request.id}/responses", data={"message": "Je viens"})
    again = client.post(f"/exchanges/{request.id}/responses", data={"message": "Encore"})
    assert again.status_code in (409, 422)
    assert len(smtp.messages) == 1
    assert (
        db.session.scalar(select(Notification.id).where(Notification.member_id == bruno.id)) is None
    )


def test_a_sender_that_died_is_taken_over_and_nothing_is_sent_twice(app, smtp, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    request = _request(anne)
    exchanges.respond(request, bruno, "Je viens")
    db.session.commit()
    note_id = db.session.scalar(select(Notification.id))
    # Someone else claimed it a moment ago: not ours to send.
    db.session.execute(
        update(Notification)
        .where(Notification.id == note_id)
        .values(email_state="sending", email_claimed_at=utcnow())
    )
    db.session.commit()
    assert mail.deliver().sent == 0 and smtp.messages == []
    # That sender died long ago: the next run takes over.
    db.session.execute(
        update(Notification)
        .where(Notification.id == note_id)
        .values(email_claimed_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    assert mail.deliver().sent == 1 and mail.deliver().sent == 0
    assert len(smtp.messages) == 1


def test_gives_up_after_the_last_attempt(make_app, make_member):
    app = make_app(
        MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2
    )
    with app.app_context():
        anne = make_member("Anne", at=DAMES_LEMERCIER)
        bruno = make_member("Bruno", at=CLICHY)
        exchanges.respond(_request(anne), bruno, "Je viens")
        db.session.commit()
        assert mail.deliver().failed == 1
        assert mail.deliver().given_up == 1
        assert mail.deliver().sent == 0
        assert _states(anne) == ["failed"]


def test_the_daily_digest_gathers_matching_requests(app, smtp, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    handy = make_member("Bricoleur", at=CLICHY, skills=["bricolage", "informatique"])
    far = make_member("Loin", at=FAR_AWAY, skills=["bricolage"])
    shelf = _request(author, "Fixer une étagère", "bricolage")
    laptop = _request(author, "Installer une imprimante", "informatique")
    gone = _request(author, "Changer une serrure", "bricolage")
    exchanges.close_exchange(gone, author, "cancelled")
    db.session.commit()
    assert mail.deliver().sent == 0  # digest kinds do not go one by one
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code == 0 and "1 résumés envoyés" in result.output
    [digest] = smtp.messages
    assert digest["To"] == f"Bricoleur <{handy.email}>"
    assert digest["Subject"] == "Peuplade : 2 nouveautés près de chez vous"
    body = plain_text(digest)
    assert "« Fixer une étagère »" in body and "« Installer une imprimante »" in body
    assert "Changer une serrure" not in body  # closed before the digest went
    assert f"https://peuplade.example/exchanges/{shelf.id}" in body
    assert f"https://peuplade.example/exchanges/{laptop.id}" in body
    assert far.email not in [m["To"] for m in smtp.messages]
    # Sent once: the next run has nothing.
    again = app.test_cli_runner().invoke(args=["send-digests"])
    assert "0 résumés envoyés" in again.output and len(smtp.messages) == 1

    # Its unsubscribe link stops the digest.
    path = _link(digest, "/unsubscribe/")
    client_for().post(path)
    db.session.expire_all()
    assert services.settings_of(db.session.get(Member, handy.id))["matching_request"] == "off"
    _request(author, "Réparer un vélo", "bricolage")
    app.test_cli_runner().invoke(args=["send-digests"])
    assert len(smtp.messages) == 1


def test_still_needed_email_keeps_the_post_open_with_one_button(app, smtp, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    request = _request(anne, "Promener mon chien", "animaux")
    db.session.execute(
        update(Post).where(Post.id == request.id).values(expires_at=utcnow() + timedelta(days=2))
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0 and "1 « toujours d'actualité ? »" in result.output
    [message] = smtp.messages
    assert "Promener mon chien" in message["Subject"]
    path = _link(message, "/keep-open/")
    visitor = client_for()
    page = visitor.get(path)
    assert page.status_code == 200 and "Oui, c'est toujours d'actualité" in page.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Post, request.id).expires_at < utcnow() + timedelta(days=3)
    done = visitor.post(path)
    assert done.status_code == 200 and "Merci" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Post, request.id).expires_at > utcnow() + timedelta(days=59)
    assert visitor.post(path).status_code == 409  # the same link again: already done
    assert visitor.get(path[:-2] + "xx").status_code == 404
    # Bruno sees it on his list again for the new lifetime.
    from peuplade.exchanges import queries

    assert request.id in [e.id for e in db.session.scalars(queries.near_me(bruno))]


def test_development_prints_emails_to_the_log(make_app, make_member, caplog):
    app = make_app(MAIL_BACKEND="log")
    with app.app_context():
        anne = make_member("Anne", at=DAMES_LEMERCIER)
        bruno = make_member("Bruno", at=CLICHY)
        exchanges.respond(_request(anne), bruno, "Je viens")
        db.session.commit()
        with caplog.at_level("INFO", logger="peuplade.mail"):
            assert mail.deliver().sent == 1
        assert "Bruno a répondu" in caplog.text and anne.email in caplog.text
