"""The public Atom feed of a quartier and a member's .ics export, read back by the parsers
feed readers and calendar applications use (feedparser, icalendar)."""

from __future__ import annotations

import re
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
    assert latest.author == "Voisins du quartier Batignolles"
    assert feed.feed.author == "Voisins du quartier Batignolles"
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


def test_feed_names_the_quartier_as_french_writes_it(app, client, make_quartier):
    make_quartier("epinettes", around=CLICHY, name="Epinettes", display_name="Épinettes")
    feed = feedparser.parse(client.get("/feeds/epinettes.atom").data)
    assert feed.feed.title == "Infos du quartier Épinettes"
    assert feed.feed.author == "Voisins du quartier Épinettes"


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
    page = _url(app, "events.show", event_id=soon.id)
    assert str(first["description"]) == f"Chacun apporte un plat.\n\n{page}"
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
    assert str(vevents[0]["description"]).startswith(body + "\n\nhttp")
    assert b"Ap\xc3\xa9ro\\; vin\\, fromage\\net pain" in response.data.replace(b"\r\n ", b"")


def test_ics_is_for_members_only(app, client):
    response = client.get("/events.ics")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- one outing's .ics: "Ajouter à mon agenda" -----------------------------------------

LONG_BODY = (
    (
        "Rendez-vous devant la grille, côté rue Cardinet ; chacun apporte un plat, une "
        "boisson ou un dessert, et une couverture si vous en avez une. "
    )
    * 3
).strip()  # the service trims the text


def _content_lines(data: bytes) -> list[str]:
    """RFC 5545 by hand: every line ends with CRLF and holds at most 75 octets; a line
    starting with a space continues the one before (unfolded here)."""
    assert data.endswith(b"\r\n")
    physical = data[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in physical)
    assert all(len(line) <= 75 for line in physical), max(physical, key=len)
    assert not physical[0].startswith(b" ")
    lines: list[str] = []
    for line in physical:
        if line.startswith(b" "):
            lines[-1] += line[1:].decode("utf-8")
        else:
            lines.append(line.decode("utf-8"))
    return lines


def test_one_outing_ics_is_a_strict_single_vevent(app, client, auth, make_member):
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    organiser = make_member("Orga", at=CLICHY)
    square = _place("Square des Batignolles, côté Cardinet", BATIGNOLLES)
    start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    title = "Pique-nique; apéro, jeux\net musique"
    outing = _event(organiser, square, title, 2, body=LONG_BODY, ends_at=start + timedelta(hours=3))
    _event(organiser, square, "Une autre sortie", 3)
    auth.login("moi@example.org")

    response = client.get(f"/events/{outing.id}.ics")

    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="peuplade-sortie-{outing.id}.ics"'
    assert "no-store" in response.headers["Cache-Control"]
    lines = _content_lines(response.data)
    page = _url(app, "events.show", event_id=outing.id)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert "VERSION:2.0" in lines
    assert not any(line.startswith("X-WR-CALNAME") for line in lines)  # into my calendar
    assert f"UID:event-{outing.id}@localhost" in lines
    assert f"DTSTART:{outing.starts_at:%Y%m%dT%H%M%S}Z" in lines
    assert f"DTEND:{outing.ends_at:%Y%m%dT%H%M%S}Z" in lines
    assert "SUMMARY:Pique-nique\\; apéro\\, jeux\\net musique" in lines
    assert "LOCATION:Square des Batignolles\\, côté Cardinet" in lines
    assert f"URL:{page}" in lines
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert description.endswith(f"\\n\\n{page}") and "côté rue Cardinet \\;" in description
    assert any(line.startswith("DTSTAMP:") and line.endswith("Z") for line in lines)
    # And a calendar library reads the same.
    vevent = Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert str(vevent["summary"]) == title
    assert str(vevent["description"]) == f"{LONG_BODY}\n\n{page}"
    assert vevent.decoded("dtstart") == outing.starts_at
    assert vevent.decoded("dtend") == outing.ends_at
    assert str(vevent["location"]) == square.name
    # The same UID as in the neighbourhood calendar: added twice, it is one event.
    feed_uids = [str(e["uid"]) for e in _calendar(client)[1].walk("VEVENT")]
    assert str(vevent["uid"]) in feed_uids


def test_one_outing_ics_at_no_place_tells_no_position(app, client, auth, make_member):
    me = make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    organiser = make_member("Orga", at=CLICHY)
    start = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    outing = events.create_event(
        organiser,
        events.EventInput(
            title="Goûter",
            body="Chez nous.",
            starts_at=start,
            # A point of the organiser's choosing (~450 m from home: not at home).
            location=LocationInput(lat=CLICHY[0] + 0.004, lon=CLICHY[1]),
        ),
    )
    db.session.commit()
    assert outing.place_name is None
    auth.login("moi@example.org")

    data = client.get(f"/events/{outing.id}.ics").data

    assert "location" not in Calendar.from_ical(data).walk("VEVENT")[0]
    for member in (me, organiser):
        for point in (geo.from_element(member.home), geo.from_element(member.public_position)):
            for number in (point.lat, point.lon):
                assert f"{number:.3f}".encode() not in data
    assert b"GEO" not in data


def test_one_outing_ics_follows_the_outing_page_rules(app, client, auth, make_member):
    make_member("Voisin", at=BATIGNOLLES, email="voisin@example.org")
    make_member("Loin", at=FAR_AWAY, email="loin@example.org")
    organiser = make_member("Orga", at=CLICHY, email="orga@example.org")
    shown = _event(organiser, _place("Square", BATIGNOLLES), "Visible", 1)
    hidden = _event(organiser, _place("Square bis", BATIGNOLLES), "Masquée", 1)
    hidden.hidden_at = utcnow()
    db.session.commit()
    missing = hidden.id + 100

    assert client.get(f"/events/{shown.id}.ics").status_code == 302  # members only
    for email in ("voisin@example.org", "loin@example.org", "orga@example.org"):
        auth.login(email)
        for outing_id in (shown.id, hidden.id, missing):
            page = client.get(f"/events/{outing_id}").status_code
            ics = client.get(f"/events/{outing_id}.ics").status_code
            assert ics == page, (email, outing_id)
        auth.logout()
    auth.login("voisin@example.org")
    assert client.get(f"/events/{shown.id}.ics").status_code == 200
    assert client.get(f"/events/{hidden.id}.ics").status_code == 404
    auth.logout()
    auth.login("loin@example.org")
    assert client.get(f"/events/{shown.id}.ics").status_code == 404


# --- where the feeds are linked ---------------------------------------------------------


def test_news_page_links_the_quartier_feed(app, client, auth, make_member, make_quartier):
    make_quartier("epinettes", around=BATIGNOLLES, name="Epinettes", display_name="Épinettes")
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    make_member("Ailleurs", at=FAR_AWAY, email="ailleurs@example.org")
    auth.login("moi@example.org")

    page = client.get("/news").get_data(as_text=True)

    feed = _url(app, "feeds.quartier_atom", quartier_slug="epinettes")
    head = page.split("</head>")[0]
    assert re.search(
        r'<link rel="alternate" type="application/atom\+xml"\s+'
        rf'title="Infos du quartier Épinettes"\s+href="{re.escape(feed)}">',
        head,
    )
    assert 'href="/feeds/epinettes.atom">Suivre les infos du quartier Épinettes (flux)</a>' in page
    assert client.get("/feeds/epinettes.atom").status_code == 200
    auth.logout()
    # Outside every known quartier: no feed to offer, no dead link.
    auth.login("ailleurs@example.org")
    elsewhere = client.get("/news").get_data(as_text=True)
    assert "application/atom+xml" not in elsewhere and ".atom" not in elsewhere


def test_outings_page_links_the_calendar(app, client, auth, make_member):
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    auth.login("moi@example.org")

    page = client.get("/events").get_data(as_text=True)

    head = page.split("</head>")[0]
    calendar = _url(app, "feeds.upcoming_ics")
    assert re.search(rf'<link rel="alternate" type="text/calendar"[^>]*href="{calendar}">', head)
    assert 'href="/events.ics">Ajouter toutes les sorties à mon agenda</a>' in page
