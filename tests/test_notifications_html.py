"""The bell and the notification pages: count in the navigation, the list (mine
only, read when followed, paged), the email settings form, and the pages reached from
emails without logging in."""

from __future__ import annotations

import re

from sqlalchemy import select

from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.messages import services as messages
from peuplade.models import Notification
from peuplade.notifications import links, services
from tests.conftest import CLICHY, DAMES_LEMERCIER, PASSWORD


def _login(client, member):
    assert (
        client.post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 302
    )


def _request(author, title="Monter un canapé"):
    exchange = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title=title, body="Au 3e sans ascenseur.", category="demenagement"
        ),
    )
    db.session.commit()
    return exchange


def _bell(html: str) -> str:
    found = re.search(r'href="/notifications"[^>]*>(.*?)</a>', html, re.S)
    assert found, "no bell in the navigation"
    return " ".join(found.group(1).split())


def test_the_bell_counts_and_the_list_reads_nothing(app, client, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    request = _request(anne)
    exchanges.respond(request, bruno, "Je viens samedi.")
    messages.start(bruno, anne, "Bonjour Anne")
    db.session.commit()
    _login(client, anne)
    assert "(2 nouvelles)" in _bell(client.get("/exchanges").get_data(as_text=True))
    page = client.get("/notifications").get_data(as_text=True)
    assert "Bruno a répondu à votre annonce « Monter un canapé »." in page
    assert "Bruno vous a écrit." in page
    assert page.count('class="notification__new"') == 2
    answer = db.session.scalar(
        select(Notification.id).where(
            Notification.member_id == anne.id, Notification.kind == "response"
        )
    )
    assert f'href="/notifications/{answer}/open"' in page
    # Shown is not read: only following it is (tests/test_notifications_calm.py).
    assert "(2 nouvelles)" in _bell(client.get("/exchanges").get_data(as_text=True))
    assert client.get(f"/notifications/{answer}/open").headers["Location"] == (
        f"/exchanges/{request.id}"
    )
    assert "(1 nouvelle)" in _bell(client.get("/exchanges").get_data(as_text=True))


def test_i_see_only_my_own_notifications(app, client, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    exchanges.respond(_request(anne), bruno, "Je viens samedi.")
    db.session.commit()
    _login(client, bruno)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Monter un canapé" not in page and "Rien de nouveau" in page
    assert client.get("/notifications", follow_redirects=False).status_code == 200
    client.post("/logout")
    assert client.get("/notifications").status_code == 302  # to the login page
    unread = db.session.scalar(
        select(Notification.read_at).where(Notification.member_id == anne.id)
    )
    assert unread is None  # Bruno's visit read nothing of Anne's


def test_the_list_is_paged_with_a_signed_cursor(app, client, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    for n in range(33):
        exchanges.respond(_request(anne, f"Annonce numéro {n:02d}"), bruno, "Oui")
    db.session.commit()
    _login(client, anne)
    first = client.get("/notifications").get_data(as_text=True)
    assert "Annonce numéro 32" in first and "Annonce numéro 02" not in first
    cursor = re.search(r'href="/notifications\?apres=([^"]+)"', first).group(1)
    second = client.get(f"/notifications?apres={cursor}").get_data(as_text=True)
    assert "Annonce numéro 02" in second and "Annonce numéro 32" not in second
    assert client.get("/notifications?apres=forged").status_code == 400


def test_email_settings_are_saved_and_refused_when_unknown(app, client, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    _login(client, anne)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "<legend>Quelqu'un répond à une de mes annonces</legend>" in page
    assert re.search(r'value="digest" id="matching_request-digest"\s+checked', page)
    assert not re.search(r'value="on" id="matching_request-on"\s+checked', page)
    form = dict.fromkeys(services.settings_of(anne), "on")
    form.update(response="off", matching_request="on")
    saved = client.post("/account/notifications", data=form, follow_redirects=True)
    assert "Vos choix d&#39;emails sont enregistrés." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert services.settings_of(anne)["response"] == "off"
    assert services.settings_of(anne)["matching_request"] == "on"
    bad = client.post("/account/notifications", data={**form, "response": "parfois"})
    assert bad.status_code == 422
    assert services.settings_of(anne)["response"] == "off"  # nothing changed


def test_the_pages_from_emails_refuse_forged_tokens(app, client, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    request = _request(anne)
    good = links.unsubscribe_token(anne.id, "response")
    assert client.get(f"/unsubscribe/{good}").status_code == 200
    # A signed token for an unknown kind or member, or no signature at all: 404.
    assert client.get(f"/unsubscribe/{links.unsubscribe_token(anne.id, 'rien')}").status_code == 404
    assert (
        client.get(f"/unsubscribe/{links.unsubscribe_token(99999, 'response')}").status_code == 404
    )
    assert client.post("/unsubscribe/W1sxLCJyZXNwb25zZSJdXQ").status_code == 404
    keep = links.keep_open_token(request.id, services.expiry_stamp(request))
    page = client.get(f"/keep-open/{keep}")
    assert page.status_code == 200 and "Monter un canapé" in page.get_data(as_text=True)
    assert client.get(f"/keep-open/{links.keep_open_token(99999, 1)}").status_code == 404
    # A news post is not something to keep open.
    exchanges.close_exchange(request, anne, "cancelled")
    db.session.commit()
    closed = client.post(f"/keep-open/{keep}")
    assert closed.status_code == 409 and "close" in closed.get_data(as_text=True)


def test_the_author_keeps_a_post_listed_from_its_page(app, client, make_member):
    from datetime import timedelta

    from sqlalchemy import update

    from peuplade.models import Post, utcnow

    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    request = _request(anne)
    _login(client, anne)
    page = client.get(f"/exchanges/{request.id}").get_data(as_text=True)
    assert "Sur les listes de vos voisins jusqu’au" in page
    assert f"/posts/{request.id}/keep-open" not in page  # far from its end: no button
    db.session.execute(
        update(Post).where(Post.id == request.id).values(expires_at=utcnow() + timedelta(days=1))
    )
    db.session.commit()
    page = client.get(f"/exchanges/{request.id}").get_data(as_text=True)
    assert f"/posts/{request.id}/keep-open" in page
    done = client.post(f"/posts/{request.id}/keep-open", follow_redirects=True)
    assert "reste sur les listes" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Post, request.id).expires_at > utcnow() + timedelta(days=59)
    # Only the author: anyone else gets a 404, and nothing changes.
    other = app.test_client()
    _login(other, bruno)
    assert other.post(f"/posts/{request.id}/keep-open").status_code == 404
    assert f"/posts/{request.id}/keep-open" not in other.get(f"/exchanges/{request.id}").get_data(
        as_text=True
    )
