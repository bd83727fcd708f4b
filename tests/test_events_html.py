"""Outing pages: announcing at a public place in local time, bad input kept on the form,
RSVP until full (409 with a message), past events, organiser-only edits, privacy."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from peuplade.extensions import db
from peuplade.models import Event, Rsvp, utcnow
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.test_news_events import _event, _place
from tests.test_privacy import _other_homes_leaked

PARIS = ZoneInfo("Europe/Paris")
SCRIPT = "<script>alert('x')</script>"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _in_days(n: int) -> str:
    return (datetime.now(PARIS) + timedelta(days=n)).date().isoformat()


def test_announce_an_outing_in_local_time(client, auth, make_member):
    organiser = make_member("Organisatrice", at=DAMES_LEMERCIER, email="o@example.org")
    make_member("Voisin", at=CLICHY, email="v@example.org")
    place = _place()
    auth.login("o@example.org")
    form = client.get("/events/new").get_data(as_text=True)
    assert f'value="{place.id}"' in form and "Square des Batignolles" in form
    day = (datetime.now(PARIS) + timedelta(days=3)).date()
    r = client.post(
        "/events/new",
        data={
            "title": f"Pique-nique {SCRIPT}",
            "body": f"Chacun apporte un plat.\n{SCRIPT}",
            "starts_on": day.strftime("%d/%m/%Y"),  # typed by hand also works
            "starts_time": "18h30",
            "ends_time": "21:00",
            "place": str(place.id),
            "capacity": "12",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    event = db.session.scalar(select(Event))
    local = datetime(day.year, day.month, day.day, 18, 30, tzinfo=PARIS)
    assert event.starts_at == local and event.ends_at == local + timedelta(hours=2, minutes=30)
    assert event.capacity == 12 and event.place_name == "Square des Batignolles"
    auth.logout()
    auth.login("v@example.org")
    listing = client.get("/events").get_data(as_text=True)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Pique-nique" in listing and "18:30" in listing
    assert "18:30 à 21:00" in page and "Organisatrice" in page and "12 places restantes" in page
    for body in (listing, page, client.get("/").get_data(as_text=True)):
        assert SCRIPT not in body and "&lt;script&gt;" in body
        assert _other_homes_leaked(body, [organiser]) == []


def test_bad_outings_keep_what_was_typed_and_write_nothing(client, auth, make_member):
    make_member("Organisatrice", email="o@example.org")
    place = _place()
    auth.login("o@example.org")
    good = {
        "title": "Balade au parc",
        "body": "Départ devant la grille.",
        "starts_on": _in_days(2),
        "starts_time": "10:00",
        "place": str(place.id),
        "capacity": "",
    }
    for change, message in (
        ({"starts_on": _in_days(-1)}, "Ce moment est passé"),
        ({"ends_time": "09:00"}, "La fin doit venir après le début"),
        ({"capacity": "0"}, "1 au moins"),
        ({"place": ""}, "Choisissez le lieu du rendez-vous"),
        ({"starts_time": "25h"}, "Écrivez une heure comme 18:30"),
        ({"starts_on": "demain"}, "Écrivez une date comme 31/12/2025"),
        ({"title": "x" * 121}, "120 caractères au plus"),
    ):
        r = client.post("/events/new", data={**good, **change})
        body = r.get_data(as_text=True)
        assert r.status_code == 422, change
        assert message in body, change
        assert "Départ devant la grille." in body, change
    assert _count(Event) == 0


def test_rsvp_until_full_then_409_and_past_events_refuse(client, auth, make_member):
    organiser = make_member("Organisatrice", at=DAMES_LEMERCIER, email="o@example.org")
    make_member("Alix", at=CLICHY, email="alix@example.org")
    make_member("Bruno", at=CLICHY, email="bruno@example.org")
    event = _event(organiser, _place(), capacity=1)
    auth.login("alix@example.org")
    assert 'value="yes"' in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert client.post(f"/events/{event.id}/rsvp", data={"going": "yes"}).status_code == 302
    assert "Votre réponse : vous y allez." in client.get(f"/events/{event.id}").get_data(
        as_text=True
    )
    auth.logout()
    auth.login("bruno@example.org")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Complet" in page and "Alix" in page
    r = client.post(f"/events/{event.id}/rsvp", data={"going": "yes"})
    assert r.status_code == 409
    assert "complet : plus de place" in r.get_data(as_text=True)
    assert client.post(f"/events/{event.id}/rsvp", data={"going": "no"}).status_code == 302
    r = client.post(f"/events/{event.id}/rsvp", data={"going": "peut-être"})
    assert r.status_code == 422
    assert _count(Rsvp) == 2
    event = db.session.get(Event, event.id)
    event.starts_at = utcnow() - timedelta(hours=2)
    event.expires_at = event.starts_at
    db.session.commit()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Cette sortie est passée" in page and 'value="yes"' not in page
    r = client.post(f"/events/{event.id}/rsvp", data={"going": "yes"})
    assert r.status_code == 409 and "Cette sortie est passée." in r.get_data(as_text=True)
    assert "Pique-nique" not in client.get("/events").get_data(as_text=True)


def test_only_the_organiser_edits_and_outsiders_get_404(client, auth, make_member):
    organiser = make_member("Organisatrice", at=DAMES_LEMERCIER, email="o@example.org")
    make_member("Voisin", at=CLICHY, email="v@example.org")
    make_member("Loin", at=FAR_AWAY, email="loin@example.org")
    event_id = _event(organiser, _place()).id
    auth.login("v@example.org")
    for method, path in (
        ("get", f"/events/{event_id}/edit"),
        ("post", f"/events/{event_id}/edit"),
        ("post", f"/events/{event_id}/delete"),
    ):
        assert getattr(client, method)(path).status_code == 403, path
    auth.logout()
    auth.login("loin@example.org")
    assert client.get(f"/events/{event_id}").status_code == 404
    assert client.post(f"/events/{event_id}/rsvp", data={"going": "yes"}).status_code == 404
    assert "Pique-nique" not in client.get("/events").get_data(as_text=True)
    auth.logout()
    auth.login("o@example.org")
    form = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    day = re.search(r'name="starts_on"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="starts_on"', form
    )
    time_ = re.search(r'id="starts_time"[^>]*value="([^"]+)"', form)
    assert day and time_
    r = client.post(
        f"/events/{event_id}/edit",
        data={
            "title": "Pique-nique déplacé",
            "body": "Même heure.",
            "starts_on": day.group(1),
            "starts_time": time_.group(1),
            "place": "keep",
            "capacity": "5",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    event = db.session.get(Event, event_id)
    db.session.refresh(event)
    assert event.title == "Pique-nique déplacé" and event.capacity == 5
    assert client.post(f"/events/{event_id}/delete").status_code == 302
    assert client.get(f"/events/{event_id}").status_code == 404


def test_an_upcoming_outing_offers_its_calendar_file_a_past_one_does_not(client, auth, make_member):
    organiser = make_member("Organisatrice", at=DAMES_LEMERCIER, email="o@example.org")
    make_member("Voisin", at=CLICHY, email="v@example.org")
    event = _event(organiser, _place())
    auth.login("v@example.org")

    page = client.get(f"/events/{event.id}").get_data(as_text=True)

    link = re.search(r'<a class="button" href="([^"]+)">Ajouter à mon agenda</a>', page)
    assert link and link.group(1) == f"/events/{event.id}.ics"
    file = client.get(link.group(1))
    assert file.status_code == 200 and file.mimetype == "text/calendar"
    assert b"BEGIN:VEVENT" in file.data

    event = db.session.get(Event, event.id)
    event.starts_at = event.expires_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    past = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Cette sortie est passée" in past and "Ajouter à mon agenda" not in past


def test_the_outing_page_in_english_offers_the_calendar_too(client, auth, make_member):
    organiser = make_member("Organisatrice", at=DAMES_LEMERCIER, email="o@example.org")
    make_member("Voisin", at=CLICHY, email="v@example.org")
    event = _event(organiser, _place())
    auth.login("v@example.org")
    page = client.get(f"/events/{event.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert f'href="/events/{event.id}.ics"' in page.get_data(as_text=True)
