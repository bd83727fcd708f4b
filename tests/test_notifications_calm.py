"""Calm notifications (issue 21): grouped lines, times as people say them, read only
when acted on (a link followed, or "Tout marquer comme lu"), a bell that counts groups,
e-mail presets, and a demo whose bell looks like a real first login."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from peuplade.extensions import db
from peuplade.models import Member, Notification
from peuplade.notifications import queries, services, times
from peuplade.notifications.kinds import KINDS
from tests.conftest import BATIGNOLLES, PASSWORD
from tests.helpers.browsers import as_member
from tests.test_timeline_html import _statements

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _text(html: str) -> str:
    """The page's words, tags and repeated spaces (also non-breaking) removed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\xa0", " ").split())


def _bell(html: str) -> str:
    found = re.search(r'href="/notifications"[^>]*>(.*?)</a>', html, re.S)
    assert found, "no bell in the navigation"
    return " ".join(found.group(1).split())


def _tell(recipient, kind, actor, subject, title, minutes):
    """A notification from ``actor``, ``minutes`` after START (a fixed, ordered clock)."""
    note = services.notify(recipient.id, kind, actor=actor, subject=subject, title=title)
    note.created_at = START + timedelta(minutes=minutes)
    db.session.commit()
    return note


@pytest.fixture
def street(make_member):
    """Anne organises and posts; five neighbours answer her."""
    people = {
        name: make_member(name, at=(BATIGNOLLES[0] + n * 1e-4, BATIGNOLLES[1]))
        for n, name in enumerate(("Anne", "Bruno", "Carla", "Denis", "Emma", "Farid"))
    }
    return people


def _picnic(street, coming=("Bruno", "Carla", "Denis", "Emma", "Farid")):
    return [
        _tell(street["Anne"], "rsvp", street[name], ("event", 41), "Pique-nique", n)
        for n, name in enumerate(coming)
    ]


def _read(*notes) -> list[bool]:
    """Read or not, as committed (``notes``: notifications or their ids)."""
    db.session.expire_all()
    ids = [n if isinstance(n, int) else n.id for n in notes]
    return [db.session.get(Notification, i).read_at is not None for i in ids]


# --- grouping ---------------------------------------------------------------------------


def test_lines_of_one_kind_on_one_subject_are_one_group_newest_first(app, street):
    rsvps = _picnic(street)
    answers = [
        _tell(street["Anne"], "response", street[name], ("exchange", 7), "Porter un canapé", m)
        for name, m in (("Bruno", 10), ("Carla", 11))
    ]
    alone = _tell(street["Anne"], "rsvp", street["Bruno"], ("event", 42), "Loto", 3)
    page = as_member(app, street["Anne"]).get("/notifications").get_data(as_text=True)
    words = _text(page)
    sentences = [
        "Carla et Bruno ont répondu à votre annonce « Porter un canapé ».",
        "Farid et 4 autres voisins viennent à votre sortie « Pique-nique ».",
        "Bruno vient à votre sortie « Loto ».",
    ]
    for sentence in sentences:
        assert words.count(sentence) == 1, (sentence, words)
    # The most recently active group first.
    assert [words.index(s) for s in sentences] == sorted(words.index(s) for s in sentences)
    assert "Bruno vient à votre sortie « Pique-nique »" not in words
    # One link per group, to its newest line.
    links = re.findall(r'href="/notifications/(\d+)/open"', page)
    assert links == [str(answers[-1].id), str(rsvps[-1].id), str(alone.id)]


def test_two_neighbours_are_named_more_are_counted(app, street):
    _picnic(street, coming=("Bruno",))
    with app.test_request_context():
        (group,) = queries.groups(street["Anne"], None, 30).items
        assert queries.group_sentence(group) == "Bruno vient à votre sortie « Pique-nique »."
    _picnic(street, coming=("Carla",))
    with app.test_request_context():
        (group,) = queries.groups(street["Anne"], None, 30).items
        assert queries.group_sentence(group) == (
            "Carla et Bruno viennent à votre sortie « Pique-nique »."
        )
    _picnic(street, coming=("Denis",))
    with app.test_request_context():
        (group,) = queries.groups(street["Anne"], None, 30).items
        assert queries.group_sentence(group) == (
            "Denis et 2 autres voisins viennent à votre sortie « Pique-nique »."
        )
    # The same neighbour twice (came, left, came again) is one neighbour.
    _picnic(street, coming=("Carla",))
    with app.test_request_context():
        (group,) = queries.groups(street["Anne"], None, 30).items
        assert queries.group_sentence(group) == (
            "Carla et 2 autres voisins viennent à votre sortie « Pique-nique »."
        )


def test_groups_in_english_follow_english_plurals(app, street):
    """Needs the English entries of these sentences (the lead's catalogue)."""
    _picnic(street, coming=("Bruno", "Carla", "Denis"))
    _tell(street["Anne"], "response", street["Bruno"], ("exchange", 7), "Sofa", 10)
    _tell(street["Anne"], "response", street["Carla"], ("exchange", 7), "Sofa", 11)
    with app.test_request_context(), force_locale("en"):
        rsvps, answers = reversed(queries.groups(street["Anne"], None, 30).items)
        assert queries.group_sentence(rsvps) == (
            "Denis and 2 other neighbours are coming to your outing “Pique-nique”."
        )
        assert queries.group_sentence(answers) == "Carla and Bruno answered your post “Sofa”."
    with app.test_request_context(), force_locale("fr"):
        rsvps, _answers = reversed(queries.groups(street["Anne"], None, 30).items)
        assert queries.group_sentence(rsvps) == (
            "Denis et 2 autres voisins viennent à votre sortie « Pique-nique »."
        )


def test_a_page_of_groups_costs_the_same_for_few_or_many_lines(app, street):
    _picnic(street, coming=("Bruno",))
    browser = as_member(app, street["Anne"])
    browser.get("/notifications")
    with _statements() as few:
        assert browser.get("/notifications").status_code == 200
    _picnic(street)
    for n in range(8):
        _tell(street["Anne"], "thanks", street["Carla"], ("exchange", 100 + n), f"N°{n}", 20 + n)
    with _statements() as many:
        assert browser.get("/notifications").status_code == 200
    assert len(many) == len(few), (few, many)


def test_groups_are_paged_without_repeating_one(app, street, monkeypatch):
    from peuplade.notifications import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    for n in range(5):
        for who in ("Bruno", "Carla"):
            _tell(street["Anne"], "rsvp", street[who], ("event", n), f"Sortie {n}", n * 10)
    browser = as_member(app, street["Anne"])
    seen, path = [], "/notifications"
    while path:
        page = browser.get(path).get_data(as_text=True)
        seen += re.findall(r"votre sortie « (Sortie \d) »", page)
        more = re.search(r'href="(/notifications\?apres=[^"]+)"', page)
        path = more.group(1) if more else None
    assert seen == [f"Sortie {n}" for n in (4, 3, 2, 1, 0)]


# --- times ------------------------------------------------------------------------------

# Sunday 6 December 2026, 14:30 in Paris.
NOW = datetime(2026, 12, 6, 13, 30, tzinfo=UTC)


def _paris(day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, 12, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    ("moment", "french", "english"),
    [
        (NOW - timedelta(seconds=20), "à l'instant", None),
        (NOW + timedelta(seconds=30), "à l'instant", None),  # a clock slightly ahead
        (NOW - timedelta(minutes=5, seconds=50), "il y a 5 min", "5 min. ago"),
        (NOW - timedelta(minutes=59), "il y a 59 min", "59 min. ago"),
        (NOW - timedelta(hours=2, minutes=40), "il y a 2 h", "2 hr. ago"),
        (_paris(6, 0, 10), "il y a 14 h", "14 hr. ago"),
        (_paris(5, 14), "hier à 14 h", None),
        (_paris(5, 9, 5), "hier à 9 h 05", None),
        (_paris(3, 18), "3 décembre", "December 3"),
        (_paris(3, 18, year=2025), "3 décembre 2025", "December 3, 2025"),
    ],
)
def test_times_as_people_say_them(app, moment, french, english):
    with app.test_request_context():
        with force_locale("fr"):
            assert times.relative(moment, NOW).replace("\xa0", " ") == french
        if english:
            with force_locale("en"):
                assert times.relative(moment, NOW).replace("\xa0", " ") == english


def test_just_after_midnight_yesterday_evening_is_hours_ago(app):
    with app.test_request_context(), force_locale("fr"):
        now = _paris(6, 0, 30).astimezone(UTC)
        assert times.relative(_paris(5, 23), now).replace("\xa0", " ") == "il y a 1 h"
        assert times.relative(_paris(5, 20), now) == "hier à 20 h"


def test_yesterday_and_the_exact_moment_in_english(app):
    """Needs the English entries of "hier à %(time)s" and "%(day)s à %(time)s"."""
    with app.test_request_context(), force_locale("en"):
        assert times.relative(_paris(5, 14), NOW).replace("\u202f", " ") == ("yesterday at 2:00 PM")
        assert times.exact(_paris(3, 9, 5)).replace("\u202f", " ") == "December 3, 2026 at 9:05 AM"


def test_the_page_gives_the_exact_moment_with_the_relative_one(app, street):
    note = _picnic(street, coming=("Bruno",))[0]
    page = as_member(app, street["Anne"]).get("/notifications").get_data(as_text=True)
    stamp = note.created_at.isoformat()
    assert f'datetime="{stamp}"' in page
    assert 'title="1 décembre 2026 à 10 h"' in page  # 9:00 UTC is 10 h in Paris
    assert '<span class="visually-hidden"> (1 décembre 2026 à 10 h)</span>' in page
    assert "1 décembre" in _text(page)


# --- read when acted on -----------------------------------------------------------------


def test_opening_the_page_reads_nothing(app, street):
    rsvps = _picnic(street)
    browser = as_member(app, street["Anne"])
    for _ in range(2):
        page = browser.get("/notifications").get_data(as_text=True)
        assert page.count('class="notification__new"') == 1
    assert _read(*rsvps) == [False] * 5


def test_following_a_link_reads_its_group_and_leads_to_its_page(app, street):
    rsvps = _picnic(street)
    answer = _tell(street["Anne"], "response", street["Bruno"], ("exchange", 7), "Canapé", 9)
    other = _tell(street["Bruno"], "rsvp", street["Carla"], ("event", 41), "Pique-nique", 9)
    browser = as_member(app, street["Anne"])
    r = browser.get(f"/notifications/{rsvps[0].id}/open")
    assert r.status_code == 302 and r.headers["Location"] == "/events/41"
    assert _read(*rsvps, answer) == [True] * 5 + [False]
    page = browser.get("/notifications").get_data(as_text=True)
    assert page.count('class="notification__new"') == 1  # the answer only
    # Somebody else's, or none: 404, and nothing read.
    assert browser.get(f"/notifications/{other.id}/open").status_code == 404
    assert browser.get("/notifications/999999/open").status_code == 404
    assert _read(other) == [False]
    # A target given in the address is ignored: always the notification's own page.
    r = browser.get(f"/notifications/{answer.id}/open?next=https://example.com/")
    assert r.headers["Location"] == "/exchanges/7"


def test_mark_all_read_is_a_form_with_its_csrf_token(make_app, make_member):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        anne, bruno = make_member("Anne"), make_member("Bruno", at=(48.8851, 2.3197))
        note = _tell(anne, "rsvp", bruno, ("event", 41), "Pique-nique", 0).id
        theirs = _tell(bruno, "rsvp", anne, ("event", 42), "Loto", 0).id
        email = anne.email
    browser = app.test_client()
    login = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    browser.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert browser.post("/notifications/read").status_code == 400
    with app.app_context():
        assert _read(note) == [False]
    page = browser.get("/notifications").get_data(as_text=True)
    assert "Tout marquer comme lu" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = browser.post("/notifications/read", data={"csrf_token": token}, follow_redirects=True)
    assert "Toutes vos notifications sont marquées comme lues." in done.get_data(as_text=True)
    assert "Tout marquer comme lu" not in done.get_data(as_text=True)
    with app.app_context():
        assert _read(note, theirs) == [True, False]


# --- the bell ---------------------------------------------------------------------------


def test_the_bell_counts_groups_not_lines(app, street):
    _picnic(street)
    _tell(street["Anne"], "response", street["Bruno"], ("exchange", 7), "Canapé", 9)
    _tell(street["Anne"], "response", street["Carla"], ("exchange", 7), "Canapé", 10)
    browser = as_member(app, street["Anne"])
    assert "(2 nouvelles)" in _bell(browser.get("/exchanges").get_data(as_text=True))
    assert queries.unread_groups(street["Anne"]) == 2
    assert queries.unread_count(street["Anne"]) == 7  # the API still counts lines
    browser.get(f"/notifications/{queries.groups(street['Anne'], None, 9).items[0].newest.id}/open")
    assert "(1 nouvelle)" in _bell(browser.get("/exchanges").get_data(as_text=True))


def test_a_group_with_one_unread_line_is_new(app, street):
    rsvps = _picnic(street)
    db.session.execute(
        update(Notification)
        .where(Notification.id.in_([n.id for n in rsvps[:-1]]))
        .values(read_at=START)
    )
    db.session.commit()
    assert queries.unread_groups(street["Anne"]) == 1
    page = as_member(app, street["Anne"]).get("/notifications").get_data(as_text=True)
    assert page.count('class="notification__new"') == 1


# --- e-mail presets ---------------------------------------------------------------------


def _settings(member) -> dict[str, str]:
    db.session.expire_all()
    return services.settings_of(member)


def _checked(page: str) -> str | None:
    found = re.search(r'name="preset" value="(\w+)" id="preset-\w+"\s+checked', page)
    return found.group(1) if found else None


@pytest.mark.parametrize("preset", ["on", "digest", "off"])
def test_a_preset_sets_every_kind(app, street, preset):
    anne = street["Anne"]
    browser = as_member(app, anne)
    page = browser.get("/account/notifications").get_data(as_text=True)
    # A new member has every kind's default: the recommended preset, not "Personnalisé".
    assert _checked(page) == "recommended" and "Personnalisé" not in page
    form = {**_settings(anne), "preset": preset, "shown": "recommended"}
    r = browser.post("/account/notifications", data=form, follow_redirects=True)
    assert r.status_code == 200
    assert _settings(anne) == dict.fromkeys(KINDS, preset)
    page = r.get_data(as_text=True)
    assert _checked(page) == preset
    assert 'value="custom"' not in page  # "Personnalisé" only when the kinds differ


def test_the_recommended_preset_brings_back_every_default(app, street):
    anne = street["Anne"]
    browser = as_member(app, anne)
    services.choose_emails(anne, dict.fromkeys(KINDS, "off"))
    db.session.commit()
    form = {**dict.fromkeys(KINDS, "off"), "preset": "recommended", "shown": "off"}
    page = browser.post("/account/notifications", data=form, follow_redirects=True)
    defaults = {name: kind.default for name, kind in KINDS.items()}
    assert len(set(defaults.values())) > 1  # the defaults are a mix, not one mode
    assert _settings(anne) == defaults
    assert _checked(page.get_data(as_text=True)) == "recommended"


def test_mixed_choices_show_personnalise_and_kind_by_kind_still_works(app, street):
    anne = street["Anne"]
    browser = as_member(app, anne)
    every_digest = dict.fromkeys(KINDS, "digest")
    services.choose_emails(anne, every_digest)
    db.session.commit()
    page = browser.get("/account/notifications").get_data(as_text=True)
    assert _checked(page) == "digest" and "Personnalisé" not in page
    assert "<summary>Régler type par type</summary>" in page
    # The preset is left as it was; one kind changed below: that kind only.
    form = {**every_digest, "message": "on", "preset": "digest", "shown": "digest"}
    page = browser.post("/account/notifications", data=form, follow_redirects=True)
    assert _settings(anne) == {**every_digest, "message": "on"}
    page = page.get_data(as_text=True)
    assert _checked(page) == "custom" and "Personnalisé" in page


def test_a_bad_preset_is_refused_and_nothing_changes(app, street):
    anne = street["Anne"]
    before = _settings(anne)
    browser = as_member(app, anne)
    r = browser.post("/account/notifications", data={**before, "preset": "parfois"})
    assert r.status_code == 422
    assert _settings(anne) == before


# --- the demo ---------------------------------------------------------------------------


def test_the_demo_bell_is_what_a_real_first_login_would_show(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    camille = db.session.scalar(select(Member).where(Member.email == "camille.b@demo.example.org"))
    assert 1 <= queries.unread_groups(camille) <= 6
    notes = list(db.session.scalars(select(Notification)))
    # Dated when what they tell happened (spread over weeks), not all at the seeding.
    assert len({n.created_at.date() for n in notes}) > 10
    assert sum(n.read_at is None for n in notes) < len(notes) / 4
    assert all(n.read_at is None or n.read_at >= n.created_at for n in notes)


def test_each_departed_neighbour_counts_in_a_group():
    # Neighbours who left have no actor any more: two of them are two, not one.
    lines = [
        Notification(id=3, actor_id=None, actor=None),
        Notification(id=2, actor_id=None, actor=None),
        Notification(id=1, actor_id=7, actor=Member(id=7, display_name="Hugo D.")),
        Notification(id=0, actor_id=7, actor=Member(id=7, display_name="Hugo D.")),
    ]
    assert queries.Group(lines=lines).names() == [None, None, "Hugo D."]
