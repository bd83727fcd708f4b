"""The conversation pages: starting one from a profile or a post, the inbox and the nav's
unread count, who may read and write, escaping, bad bodies and CSRF."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from peuplade import geo
from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.location import LocationInput
from peuplade.models import Conversation, Message, Place, utcnow
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD
from tests.helpers.browsers import as_member
from tests.helpers.pages import text_of


def messages_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def nav_messages(page: str) -> str:
    """The nav's Messages link as a screen reader says it (the badge's bare number is
    hidden from it: the words after it say the same)."""
    link = re.search(r'<a [^>]*href="/messages"[^>]*>(.*?)</a>', page, re.S)
    return text_of(re.sub(r'<span aria-hidden="true">.*?</span>', "", link.group(1)))


def test_start_from_a_profile_then_the_inbox_counts_go_up_and_down(app, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    a, b = as_member(app, anne), as_member(app, bruno)

    profile = a.get(f"/profile/{bruno.id}").get_data(as_text=True)
    link = html.unescape(re.search(r'href="([^"]*/messages/new[^"]*)"', profile).group(1))
    assert link == f"/messages/new?to={bruno.id}"
    assert "Écrire à Bruno" in text_of(a.get(link).get_data(as_text=True))
    r = a.post(link, data={"message": "Bonjour,\nvous avez l'échelle ?"})
    assert r.status_code == 302
    talk_url = r.headers["Location"]

    assert nav_messages(b.get("/messages").get_data(as_text=True)) == "Messages (1 non lu)"
    inbox = text_of(b.get("/messages").get_data(as_text=True))
    assert "Anne" in inbox and "1 message non lu" in inbox
    assert nav_messages(a.get("/messages").get_data(as_text=True)) == "Messages"

    # Bruno reads it (the page marks it read) and answers twice.
    page = b.get(talk_url).get_data(as_text=True)
    assert "Bonjour,\nvous avez l&#39;échelle ?" in page  # line break kept for pre-wrap
    assert nav_messages(page) == "Messages"
    assert b.post(talk_url, data={"message": "Oui."}).status_code == 302
    assert b.post(talk_url, data={"message": "Passez ce soir."}).status_code == 302
    assert nav_messages(a.get("/messages").get_data(as_text=True)) == "Messages (2 non lus)"
    assert "2 messages non lus" in text_of(a.get("/messages").get_data(as_text=True))

    page = a.get(talk_url).get_data(as_text=True)
    order = [text_of(m) for m in re.findall(r'class="message__body">(.*?)</div>', page, re.S)]
    assert order == ["Bonjour, vous avez l'échelle ?", "Oui.", "Passez ce soir."]  # newest last
    assert "Bruno" in text_of(page)
    assert nav_messages(a.get("/messages").get_data(as_text=True)) == "Messages"
    assert "non lu" not in text_of(a.get("/messages").get_data(as_text=True))


def test_start_from_an_exchange_page_carries_its_title(app, make_member):
    anne = make_member("Anne", at=DAMES_LEMERCIER)
    bruno = make_member("Bruno", at=CLICHY)
    offer = exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="offer", title="Cours de guitare", body="Débutants.", category="cours"
        ),
    )
    db.session.commit()
    b = as_member(app, bruno)
    page = b.get(f"/exchanges/{offer.id}").get_data(as_text=True)
    link = html.unescape(
        re.search(r'href="(/messages/new[^"]*)">Écrire à Anne \(qui offre\)', page).group(1)
    )
    assert f"about=exchange:{offer.id}" in link.replace("%3A", ":")
    assert "À propos de : Cours de guitare" in text_of(b.get(link).get_data(as_text=True))
    talk_url = b.post(link, data={"message": "Ça m'intéresse"}).headers["Location"]
    assert "À propos de : Cours de guitare" in text_of(b.get(talk_url).get_data(as_text=True))
    inbox = text_of(as_member(app, anne).get("/messages").get_data(as_text=True))
    assert "Bruno" in inbox and "À propos de : Cours de guitare" in inbox
    # The author sees no link to write to themselves.
    assert "/messages/new" not in as_member(app, anne).get(f"/exchanges/{offer.id}").get_data(
        as_text=True
    )


def test_a_bad_subject_is_a_form_error_and_writes_nothing(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    a = as_member(app, anne)
    for about in ("exchange:999999", "perceuse:1", "exchange:x"):
        url = f"/messages/new?to={bruno.id}&about={about}"
        r = a.post(url, data={"message": "Bonjour"})
        assert r.status_code == 422
        page = r.get_data(as_text=True)
        assert "Il y a un problème" in text_of(page) and "Bonjour</textarea>" in page
    assert messages_count() == 0


def test_third_members_get_404_and_strangers_403(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    chloe = make_member("Chloé", at=CLICHY)
    far = make_member("Loin", at=FAR_AWAY, radius_m=200)
    r = as_member(app, anne).post(f"/messages/new?to={bruno.id}", data={"message": "Bonjour"})
    talk_url = r.headers["Location"]
    c = as_member(app, chloe)
    assert c.get(talk_url).status_code == 404
    assert c.post(talk_url, data={"message": "Je m'invite"}).status_code == 404
    assert "Anne" not in text_of(c.get("/messages").get_data(as_text=True))

    f = as_member(app, far)
    assert f.get(f"/messages/new?to={anne.id}").status_code == 403
    assert f.post(f"/messages/new?to={anne.id}", data={"message": "Coucou"}).status_code == 403
    assert f.get("/messages/new?to=99999999").status_code == 404
    assert f.get("/messages/new?to=abc").status_code == 404
    assert f.get("/messages/99999999999").status_code == 404
    assert "Écrire à" not in text_of(
        as_member(app, bruno).get(f"/profile/{bruno.id}").data.decode()
    )
    assert messages_count() == 1


def test_bodies_are_escaped_and_bad_ones_keep_the_text(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    a = as_member(app, anne)
    r = a.post(f"/messages/new?to={bruno.id}", data={"message": "<script>alert(1)</script>"})
    talk_url = r.headers["Location"]
    page = as_member(app, bruno).get(talk_url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    for body, keeps in (("   ", None), ("x" * 4001, "x" * 4001)):
        r = a.post(talk_url, data={"message": body})
        assert r.status_code == 422
        page = r.get_data(as_text=True)
        assert "Il y a un problème" in text_of(page)
        if keeps:
            assert keeps in page
    r = a.post(f"/messages/new?to={bruno.id}", data={"message": "y" * 4001})
    assert r.status_code == 422 and "y" * 4001 in r.get_data(as_text=True)
    assert messages_count() == 1
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_csrf_token_is_required(make_app, make_member):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        anne = make_member("Anne", at=DAMES_LEMERCIER)
        bruno_id = make_member("Bruno", at=CLICHY).id
        email = anne.email
    browser = app.test_client()

    def token(page: str) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    login = browser.get("/login").get_data(as_text=True)
    browser.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token(login)})
    url = f"/messages/new?to={bruno_id}"
    assert browser.post(url, data={"message": "Bonjour"}).status_code == 400
    with app.app_context():
        assert messages_count() == 0
    form = browser.get(url).get_data(as_text=True)
    r = browser.post(url, data={"message": "Bonjour", "csrf_token": token(form)})
    assert r.status_code == 302
    assert browser.post(r.headers["Location"], data={"message": "Encore"}).status_code == 400
    with app.app_context():
        assert messages_count() == 1


# --- the way back to what a conversation is about (issue 21) ----------------------------


def _back_links(page: str) -> list[tuple[str, str]]:
    """(href, text) of the links at the foot of a conversation or a new message."""
    foot = page.rsplit("</form>", 1)[1]
    return [
        (html.unescape(href), text_of(text))
        for href, text in re.findall(r'<a href="([^"]+)">([^<]*)</a>', foot)
        if not href.startswith(("/report", "/privacy", "/a-propos"))
    ]


def _write_from(browser, page_path: str, link_text: str) -> tuple[str, str]:
    """Follow the page's "Écrire à …" link, send a message; (form page, conversation page)."""
    page = browser.get(page_path).get_data(as_text=True)
    links = {
        text_of(text): html.unescape(href)
        for href, text in re.findall(r'href="(/messages/new[^"]*)">([^<]*)</a>', page)
    }
    link = links[link_text]
    form = browser.get(link).get_data(as_text=True)
    r = browser.post(link, data={"message": "Bonjour, c'est toujours possible ?"})
    assert r.status_code == 302
    return form, browser.get(r.headers["Location"]).get_data(as_text=True)


def test_after_writing_from_an_object_the_way_back_is_the_object(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    item = loans.offer_item(anne, loans.ItemInput(title="Échelle", category="bricolage"))
    db.session.commit()
    b = as_member(app, bruno)
    form, talk = _write_from(b, f"/objects/{item.id}", "Écrire à Anne (qui prête l'objet)")
    for page in (form, talk):
        links = _back_links(page)
        assert links[0] == (f"/objects/{item.id}", "Retour à l'objet « Échelle »"), links
        assert not any(href.startswith("/profile/") for href, _text in links), links
    assert ("/messages", "Retour aux messages") in _back_links(talk)
    # The lender reads it and finds the same way back to her object.
    talk_url = db.session.scalars(select(Conversation)).one().id
    anne_page = as_member(app, anne).get(f"/messages/{talk_url}").get_data(as_text=True)
    assert _back_links(anne_page)[0][0] == f"/objects/{item.id}"


def test_the_way_back_from_an_exchange_an_outing_and_a_loan(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    request = exchanges.create_exchange(
        anne,
        exchanges.ExchangeInput(
            kind="request", title="Porter un canapé", body="Samedi.", category="demenagement"
        ),
    )
    place = Place(
        name="Square", source_ref="test:square", position=geo.to_element(geo.lat_lon(*CLICHY))
    )
    db.session.add(place)
    db.session.flush()
    outing = events.create_event(
        anne,
        events.EventInput(
            title="Pique-nique",
            body="Apportez un plat.",
            starts_at=utcnow() + timedelta(days=3),
            location=LocationInput(place_id=place.id),
        ),
    )
    item = loans.offer_item(anne, loans.ItemInput(title="Perceuse", category="bricolage"))
    loan = loans.request_loan(item, bruno, today() + timedelta(days=1), today() + timedelta(days=2))
    db.session.commit()
    b = as_member(app, bruno)
    _form, talk = _write_from(b, f"/exchanges/{request.id}", "Écrire à Anne (qui demande)")
    assert _back_links(talk)[0] == (
        f"/exchanges/{request.id}",
        "Retour à l'annonce « Porter un canapé »",
    )
    _form, talk = _write_from(b, f"/events/{outing.id}", "Écrire à Anne (qui organise)")
    assert _back_links(talk)[0] == (f"/events/{outing.id}", "Retour à la sortie « Pique-nique »")
    r = b.post(f"/messages/new?to={anne.id}&about=loan:{loan.id}", data={"message": "Merci"})
    talk = b.get(r.headers["Location"]).get_data(as_text=True)
    assert _back_links(talk)[0] == (f"/objects/{item.id}", "Retour à l'objet « Perceuse »")


def test_no_way_back_to_a_subject_gone_and_no_address_taken_from_the_request(app, make_member):
    anne, bruno = make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)
    item = loans.offer_item(anne, loans.ItemInput(title="Échelle", category="bricolage"))
    db.session.commit()
    b = as_member(app, bruno)
    evil = "next=https://evil.example/&back=//evil.example"
    url = f"/messages/new?to={anne.id}&about=item:{item.id}&{evil}"
    assert _back_links(b.get(url).get_data(as_text=True))[0][0] == f"/objects/{item.id}"
    talk_url = b.post(url, data={"message": "Bonjour"}).headers["Location"]
    assert "evil.example" not in talk_url
    page = b.get(f"{talk_url}?{evil}").get_data(as_text=True)
    assert not re.search(r'href="[^"]*evil\.example', page)
    assert _back_links(page)[0][0] == f"/objects/{item.id}"
    # Once the object is gone, the conversation stays, with the way back to the inbox only.
    loans.delete_item(item, anne)
    db.session.commit()
    links = _back_links(b.get(talk_url).get_data(as_text=True))
    assert links == [("/messages", "Retour aux messages")], links
    # Written from a profile: back to the profile, as before.
    form = b.get(f"/messages/new?to={anne.id}").get_data(as_text=True)
    assert _back_links(form) == [(f"/profile/{anne.id}", "Retour au profil de Anne")]
