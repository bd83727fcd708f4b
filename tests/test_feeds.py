"""The public Atom feed of a quartier and a member's .ics export, read back by the parsers
feed readers and calendar applications use (feedparser, icalendar)."""

from __future__ import annotations

from datetime import UTC, timedelta

import feedparser
from flask import url_for
from icalendar import Calendar

from peuplade import geo
from peuplade.events import services as events
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Place, utcnow
from peuplade.news import services as news
from tests.conftest import BATIGNOLLES, CLICHY, FAR_AWAY

SCRIPT_TITLE = "<script>alert('voisins')</script> & Cie"


def _news(author, title: str, scope: str = "quartier", **extra):
    item = news.post_news(
        author,
        news.NewsInput(title=title, body=extra.pop("body", "Le texte."), scope=scope, **extra),
    )
    db.session.commit()
    return item


def _url(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values, _external=True)


# --- Atom -------------------------------------------------------------------------------


def test_quartier_feed_lists_its_quartier_news_newest_first(
    app, client, make_member, make_quartier
):
    batignolles = make_quartier("batignolles", around=BATIGNOLLES)
    make_quartier("nation", around=FAR_AWAY)
    author = make_member("Agathe V.", at=BATIGNOLLES, email="agathe@example.org")
    elsewhere = make_member("Loin", at=FAR_AWAY)
    assert author.quartier == batignolles
    first = _news(author, "Réunion du conseil de quartier", kind="vie_de_quartier")
    second = _news(
        author,
        "Boulangerie : nouveaux horaires",
        body="Ouverte dès 7 h.\nFermée le lundi.",
        link="https://example.org/boulangerie",
    )
    first.created_at = first.updated_at = utcnow() - timedelta(days=1)
    _news(author, "Seulement dans mon rayon", scope="radius")
    _news(elsewhere, "Une info de Nation")
    db.session.commit()

    response = client.get("/feeds/batignolles.atom")  # anonymous: a feed reader

    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert response.cache_control.public and response.cache_control.max_age == 300
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Infos du quartier Batignolles"
    assert [e.title for e in feed.entries] == [second.title, first.title]
    latest = feed.entries[0]
    assert latest.link == _url(app, "news.show", news_id=second.id)
    assert latest.id == latest.link
    assert [link.href for link in latest.links] == [latest.link]
    # Public: nobody is named, the quartier's neighbours speak together.
    assert latest.author == "Voisins de Batignolles"
    assert feed.feed.author == "Voisins de Batignolles"
    text = "Ouverte dès 7 h.\nFermée le lundi.\n\nhttps://example.org/boulangerie"
    assert latest.content[0].value == text
    assert latest.published_parsed[:6] == second.created_at.astimezone(UTC).timetuple()[:6]
    assert feed.entries[1].tags[0].term == "vie_de_quartier"


def test_feed_names_nobody_and_holds_no_personal_data(app, client, make_member, make_quartier):
    make_quartier("batignolles", around=BATIGNOLLES)
    author = make_member("Agathe V.", at=BATIGNOLLES, email="agathe.secret@example.org")
    _news(author, "Chat perdu rue Nollet", kind="perdu_trouve")

    body = client.get("/feeds/batignolles.atom").get_data(as_text=True)

    assert "Chat perdu rue Nollet" in body and "Batignolles" in body
    assert "Agathe" not in body  # not even the display name: the feed is public
    assert "agathe.secret" not in body and "@example.org" not in body
    home, cell = geo.from_element(author.home), geo.from_element(author.public_position)
    for point in (home, cell):
        for number in (point.lat, point.lon):
            assert f"{number:.4f}"[:-1] not in body  # not even a rounded coordinate
    assert "georss" not in body and "geo:" not in body


def test_feed_escapes_user_text_so_it_stays_text(app, client, make_member, make_quartier):
    make_quartier("batignolles", around=BATIGNOLLES)
    author = make_member("<b>Mallory</b>", at=BATIGNOLLES)
    _news(author, SCRIPT_TITLE, body="<img src=x onerror=alert(1)> fin")

    response = client.get("/feeds/batignolles.atom")

    raw = response.get_data(as_text=True)
    assert "<script>" not in raw and "<img" not in raw and "<b>" not in raw
    assert "&lt;script&gt;" in raw and "&lt;img src=x" in raw
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0
    entry = feed.entries[0]
    # Declared as plain text, so a reader shows the characters instead of running them.
    assert entry.title_detail.type == "text/plain"
    assert entry.content[0].type == "text/plain"
    assert entry.content[0].value == "<img src=x onerror=alert(1)> fin"
    assert "Mallory" not in raw


def test_empty_quartier_gives_a_valid_empty_feed(app, client, make_quartier):
    make_quartier("epinettes", around=CLICHY)
    feed = feedparser.parse(client.get("/feeds/epinettes.atom").data)
    assert feed.bozo == 0 and feed.entries == []
    assert feed.feed.title == "Infos du quartier Epinettes"


def test_feed_title_follows_the_reader_language(app, client, make_quartier):
    make_quartier("epinettes", around=CLICHY)
    response = client.get("/feeds/epinettes.atom", headers={"Accept-Language": "en"})
    assert feedparser.parse(response.data).feed.title == "Epinettes neighbourhood news"


def test_unknown_quartier_feed_is_404(app, client):
    assert client.get("/feeds/nulle-part.atom").status_code == 404


# --- iCalendar --------------------------------------------------------------------------


def _place(name: str, at: tuple[float, float]) -> Place:
    place = Place(name=name, source_ref=f"test:{name}", position=geo.to_element(geo.lat_lon(*at)))
    db.session.add(place)
    db.session.commit()
    return place


def _event(author, place: Place, title: str, days: int, **extra):
    start = (utcnow() + timedelta(days=days)).replace(microsecond=0)
    event = events.create_event(
        author,
        events.EventInput(
            title=title,
            body=extra.pop("body", "Chacun apporte un plat."),
            starts_at=start,
            location=LocationInput(place_id=place.id),
            **extra,
        ),
    )
    db.session.commit()
    return event


def _calendar(client) -> tuple[object, Calendar]:
    response = client.get("/events.ics")
    assert response.status_code == 200
    return response, Calendar.from_ical(response.data)


def test_ics_lists_upcoming_events_of_my_neighbourhood(app, client, auth, make_member):
    me = make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    organiser = make_member("Orga", at=CLICHY)
    far = make_member("Loin", at=FAR_AWAY)
    square = _place("Square des Batignolles", BATIGNOLLES)
    nation = _place("Place de la Nation", FAR_AWAY)
    later = _event(organiser, square, "Atelier réparation vélo", 5)
    start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    soon = _event(
        organiser,
        square,
        "Pique-nique au square",
        2,
        ends_at=start + timedelta(hours=3),
        capacity=12,
    )
    _event(far, nation, "Trop loin pour moi", 1)
    over = _event(organiser, square, "Déjà passée", 3)
    over.starts_at = utcnow() - timedelta(days=2)
    over.ends_at = over.expires_at = utcnow() - timedelta(days=2, hours=-2)
    db.session.commit()
    auth.login("moi@example.org")

    response, calendar = _calendar(client)

    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert ".ics" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    assert str(calendar["version"]) == "2.0" and calendar["prodid"]
    vevents = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in vevents] == [soon.title, later.title]  # soonest first
    first = vevents[0]
    assert first.decoded("dtstart") == soon.starts_at
    assert first.decoded("dtstart").utcoffset() == timedelta(0)
    assert first.decoded("dtend") == soon.ends_at
    assert "dtend" not in vevents[1]  # no end given: none invented
    assert str(first["location"]) == "Square des Batignolles"
    assert str(first["url"]) == _url(app, "events.show", event_id=soon.id)
    assert str(first["uid"]) == f"event-{soon.id}@localhost"
    assert str(first["description"]) == "Chacun apporte un plat."
    assert "geo" not in first  # the place's name, never coordinates
    assert b"48.88" not in response.data and b"2.31" not in response.data
    assert me.id  # the viewer's own events are not required: the neighbourhood's are


def test_ics_uid_is_stable_between_downloads(app, client, auth, make_member):
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    _event(make_member("Orga", at=CLICHY), _place("Square", BATIGNOLLES), "Café tricot", 1)
    auth.login("moi@example.org")
    uids = [[str(e["uid"]) for e in _calendar(client)[1].walk("VEVENT")] for _ in range(2)]
    assert uids[0] == uids[1] and len(uids[0]) == 1


def test_ics_escapes_text_and_round_trips_it(app, client, auth, make_member):
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    tricky = "Apéro; vin, fromage\net pain \\ BEGIN:VEVENT"
    body = "Ligne 1;\nLigne 2, fin\nEND:VCALENDAR"
    _event(make_member("Orga", at=CLICHY), _place("Square", BATIGNOLLES), tricky, 1, body=body)
    auth.login("moi@example.org")

    response, calendar = _calendar(client)

    vevents = calendar.walk("VEVENT")
    assert len(vevents) == 1  # the text did not open or close a component
    assert str(vevents[0]["summary"]) == tricky
    assert str(vevents[0]["description"]) == body
    assert b"Ap\xc3\xa9ro\\; vin\\, fromage\\net pain" in response.data.replace(b"\r\n ", b"")


def test_ics_is_for_members_only(app, client):
    response = client.get("/events.ics")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
