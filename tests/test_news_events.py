"""News (radius and quartier scope), events and RSVPs, and the home timeline."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peuplade import geo
from peuplade.errors import Conflict, Forbidden, NotFound, ValidationFailed
from peuplade.events import queries as event_queries
from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.models import Event, NewsPost, Place, Rsvp, utcnow
from peuplade.news import queries as news_queries
from peuplade.news import services as news
from peuplade.pagination import TimeCursor
from peuplade.timeline.queries import timeline
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY


def _news(author, **overrides) -> NewsPost:
    data = {"title": "Coupure d'eau mardi", "body": "De 9 h à 12 h, rue des Dames."}
    data.update(overrides)
    item = news.post_news(author, news.NewsInput(**data))
    db.session.commit()
    return item


def _place() -> Place:
    place = Place(
        name="Square des Batignolles",
        source_ref="test:square",
        position=geo.to_element(geo.lat_lon(48.88335, 2.31841)),
    )
    db.session.add(place)
    db.session.commit()
    return place


def _event(author, place, **overrides) -> Event:
    data = {
        "title": "Pique-nique au square",
        "body": "Chacun apporte un plat.",
        "starts_at": utcnow() + timedelta(days=3),
        "location": LocationInput(place_id=place.id),
    }
    data.update(overrides)
    event = events.create_event(author, events.EventInput(**data))
    db.session.commit()
    return event


def test_radius_news_reach_by_distance(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    near = make_member("Proche", at=CLICHY)
    far = make_member("Loin", at=FAR_AWAY)
    item = _news(author)
    assert [n.id for n in db.session.scalars(news_queries.near_me(near))] == [item.id]
    assert list(db.session.scalars(news_queries.near_me(far))) == []
    with pytest.raises(NotFound):
        news_queries.get_news_or_404(far, item.id)


def test_quartier_news_reach_the_whole_quartier_and_only_it(app, make_member, make_quartier):
    big = make_quartier("grand-quartier", around=(48.87, 2.33), half=0.03)  # ~6 km across
    author = make_member("Autrice", at=(48.850, 2.315), radius_m=200)
    across = make_member("De l'autre bout", at=(48.895, 2.350), radius_m=200)
    outside = make_member("Dehors", at=(48.80, 2.33), radius_m=5000)
    assert author.quartier == big and across.quartier == big and outside.quartier is None
    item = _news(author, scope="quartier", title="Fête du quartier")
    assert item.quartier_id == big.id
    assert [n.id for n in db.session.scalars(news_queries.near_me(across))] == [item.id]
    assert list(db.session.scalars(news_queries.near_me(outside))) == []
    feed = list(db.session.scalars(news_queries.quartier_public_news(big)))
    assert feed == [item]


def test_quartier_scope_needs_a_quartier(app, make_member):
    author = make_member("Autrice", at=FAR_AWAY)
    with pytest.raises(ValidationFailed) as err:
        _news(author, scope="quartier")
    assert "scope" in err.value.fields


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"body": "x" * 4001}, "body"),
        ({"kind": "rumeur"}, "kind"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "ftp://example.org"}, "link"),
        ({"scope": "ville"}, "scope"),
    ],
)
def test_bad_news_are_refused_with_nothing_written(app, make_member, overrides, field):
    author = make_member("Autrice")
    with pytest.raises(ValidationFailed) as err:
        _news(author, **overrides)
    assert field in err.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(NewsPost)) == 0


def test_comments_and_author_only_edits(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    reader = make_member("Lecteur", at=CLICHY)
    item = _news(author)
    note = news.comment(item, reader, "Merci pour l'info !")
    db.session.commit()
    assert [c.body for c in db.session.scalars(news_queries.comments(item, author))] == [
        "Merci pour l'info !"
    ]
    with pytest.raises(Forbidden):
        news.update_news(item, reader, news.NewsInput(title="Autre titre"))
    with pytest.raises(Forbidden):
        news.delete_news(item, reader)
    news.delete_comment(note, author)  # the news' author may remove comments
    news.update_news(item, author, news.NewsInput(kind="alerte"))
    db.session.commit()
    assert [n.id for n in db.session.scalars(news_queries.recent_alerts(reader))] == [item.id]


def test_events_bad_input(app, make_member):
    author = make_member("Autrice")
    place = _place()
    for overrides, field in (
        ({"starts_at": utcnow() - timedelta(hours=1)}, "starts_at"),
        ({"ends_at": utcnow() + timedelta(days=2)}, "ends_at"),  # before the start
        ({"capacity": 0}, "capacity"),
        ({"capacity": "beaucoup"}, "capacity"),
        ({"location": None}, "location"),
        ({"location": LocationInput(place_id=999999)}, "location"),
        ({"title": "x" * 121}, "title"),
    ):
        with pytest.raises(ValidationFailed) as err:
            _event(author, place, **overrides)
        assert field in err.value.fields, overrides
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_rsvp_limits(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    a, b = make_member("Alix", at=CLICHY), make_member("Bruno", at=CLICHY)
    event = _event(author, _place(), capacity=1)
    events.rsvp(event, a, True)
    db.session.commit()
    with pytest.raises(Conflict):
        events.rsvp(event, b, True)
    db.session.rollback()
    events.rsvp(event, b, False)  # saying no is always possible
    events.rsvp(event, a, True)  # saying yes again takes no new place
    events.rsvp(event, a, False)  # a place frees up...
    events.rsvp(event, b, True)  # ...for someone else
    db.session.commit()
    assert [
        m.display_name for m in db.session.scalars(event_queries.going(event, event.author))
    ] == ["Bruno"]
    event.starts_at = utcnow() - timedelta(hours=2)
    event.expires_at = event.starts_at
    db.session.commit()
    with pytest.raises(Conflict):
        events.rsvp(event, a, True)
    assert list(db.session.scalars(event_queries.near_me(a))) == []  # over: off the lists


@pytest.mark.postgis_only
def test_simultaneous_last_rsvps_never_exceed_capacity(make_app, make_member):
    app = make_app()
    with app.app_context():
        author = make_member("Autrice", at=DAMES_LEMERCIER)
        people = [make_member(f"Voisin {i}", at=CLICHY).id for i in range(4)]
        event_id = _event(author, _place(), capacity=2).id
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def answer(member_id: int) -> None:
        with app.app_context():
            from peuplade.models import Member

            member = db.session.get(Member, member_id)
            event = db.session.get(Event, event_id)
            barrier.wait()
            try:
                events.rsvp(event, member, True)
                db.session.commit()
                outcomes.append("going")
            except Conflict:
                db.session.rollback()
                outcomes.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer, args=(m,)) for m in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["full", "full", "going", "going"]
    with app.app_context():
        going = db.session.scalar(
            select(func.count()).select_from(Rsvp).where(Rsvp.event_id == event_id, Rsvp.going)
        )
        assert going == 2


def test_timeline_mixes_every_type_newest_first_with_keyset_pages(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    reader = make_member("Lecteur", at=CLICHY)
    place = _place()
    made = []
    for i in range(3):
        made.append(_news(author, title=f"Info {i}").id)
        made.append(_event(author, place, title=f"Sortie {i}").id)
        made.append(
            exchanges.create_exchange(
                author,
                exchanges.ExchangeInput(
                    kind="offer", title=f"Offre {i}", body="Texte", category="cuisine"
                ),
            ).id
        )
        made.append(
            loans.offer_item(
                author, loans.ItemInput(title=f"Objet {i}", description="", category="autre")
            ).id
        )
        db.session.commit()
    seen, after = [], None
    while True:
        page = list(db.session.scalars(timeline(reader, after=after, limit=5)))
        seen += page
        if len(page) < 5:
            break
        after = TimeCursor(page[-1].created_at, page[-1].id)
    assert [p.id for p in seen] == sorted(made, reverse=True)
    assert {type(p).__name__ for p in seen} == {"NewsPost", "Event", "Exchange", "Item"}
    only = list(db.session.scalars(timeline(reader, types=["news", "event"])))
    assert {type(p).__name__ for p in only} == {"NewsPost", "Event"}
    far = make_member("Loin", at=FAR_AWAY)
    assert list(db.session.scalars(timeline(far))) == []
    assert list(db.session.scalars(timeline(author))) == []  # not my own posts


def test_timeline_query_reads_cell_by_cell(app, dialect, make_member):
    from tests.test_exchanges_scoping import _bulk_exchanges, assert_reads_cell_by_cell
    from tests.test_geo import _plan

    viewer = make_member("Lecteur")
    _bulk_exchanges(make_member("Autrice"), 3000)
    assert_reads_cell_by_cell(_plan(timeline(viewer)), dialect)
    # One type's lists read that type's rows only; the alerts list, the alerts only.
    assert_reads_cell_by_cell(_plan(event_queries.near_me(viewer)), dialect, typed=True)
    for stmt in (news_queries.near_me(viewer, kind="alerte"),):
        plan = _plan(stmt)
        if dialect == "postgresql":
            assert_reads_cell_by_cell(plan, dialect, typed=True, kind="alert")
            continue
        # SQLite's choice between the two usable (type, cell...) indexes follows
        # statistics that vary with these tiny tables and the tests run before (one CI
        # run chose the other): it reads cell by cell, and the query states the alerts'
        # predicate, which lets SQLite use theirs (a city's plan: docs/SCALING.md).
        assert "SCAN posts" not in plan, plan
        assert re.search(r"SEARCH posts USING INDEX ix_posts_\w+ \(type=\? AND cell_fine=\?", plan)
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        assert "posts.is_alert = 1" in sql, sql


def test_pinned_alerts_are_read_at_once_from_the_alerts_index(app, dialect, make_member):
    """The alerts of 48 hours are few: read at once from the alerts' index over the
    circle's cells (``posts.recent_nearby``), not walked with a limit and a bound per
    cell, and never from the whole table."""
    from tests.test_exchanges_scoping import _bulk_exchanges
    from tests.test_geo import _plan

    viewer = make_member("Lecteur")
    _bulk_exchanges(make_member("Autrice"), 3000)
    stmt = news_queries.recent_alerts(viewer)
    plan = _plan(stmt)
    # Either alerts index (the tiny test tables make both as cheap); a city's plan, from
    # the fine one with the cells as its keys, is in docs/SCALING.md.
    assert re.search(r"ix_posts_alert_cell_(fine|coarse)", plan), plan
    assert "Seq Scan on posts" not in plan and "SCAN posts" not in plan, plan
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    assert "central" not in sql  # no walk
    assert ("posts.is_alert = 1" if dialect == "sqlite" else "posts.is_alert") in sql, sql
    # PostgreSQL: the cells as the index scan's keys; SQLite: each cell's rows in turn.
    cells = "cell_fine = ANY" if dialect == "postgresql" else "posts.cell_fine = anon_"
    assert cells in sql, sql


@pytest.mark.parametrize("radius", [1000, 2500])  # fine cells; coarse cells, far ones
def test_the_pinned_alerts_are_the_walk_s_alerts(app, make_member, make_quartier, radius):
    """``recent_alerts`` (read at once, ``posts.recent_nearby``) gives exactly the rows
    of the cell walk it replaced (``posts.newest_nearby`` with the same conditions): by
    distance and reach, near, far and on the edge of the circle, the viewer's quartier,
    and none hidden, closed, expired, older than 48 hours, across a block or not an
    alert."""
    from peuplade.moderation import services as moderation
    from peuplade.posts import queries as posts

    make_quartier("batignolles", around=BATIGNOLLES, half=0.02)
    viewer = make_member("Lectrice", at=BATIGNOLLES, radius_m=radius)

    def at(north_km: float, east_km: float = 0.0) -> tuple[float, float]:
        return BATIGNOLLES[0] + north_km / 111.2, BATIGNOLLES[1] + east_km / 73.2

    authors = {
        "near": make_member("Proche", at=at(0.2), radius_m=500),
        "far, long reach": make_member("Loin", at=at(2.0), radius_m=3000),
        "far, short reach": make_member("Loin aussi", at=at(1.5), radius_m=1000),
        "edge": make_member("Au bord", at=at(0.7, 0.7), radius_m=1500),
        "blocked": make_member("Bloquée", at=at(0.1)),
        "blocking": make_member("Bloquante", at=at(-0.1)),
    }
    made = {name: _news(m, kind="alerte", title=f"Alerte {name}").id for name, m in authors.items()}
    near = authors["near"]
    made["quartier"] = _news(near, kind="alerte", scope="quartier", title="Alerte du quartier").id
    made["info"] = _news(near, kind="info", title="Une info").id
    changes = {
        "hidden": {"hidden_at": utcnow()},
        "closed": {"status": "done"},
        "expired": {"expires_at": utcnow() - timedelta(minutes=1)},
        "old": {"created_at": utcnow() - timedelta(hours=49)},
    }
    for name, values in changes.items():
        alert = _news(near, kind="alerte", title=f"Alerte {name}")
        for field_name, value in values.items():
            setattr(alert, field_name, value)
        made[name] = alert.id
    moderation.block(viewer, authors["blocked"].id)
    moderation.block(authors["blocking"], viewer.id)
    db.session.commit()

    since = {"since": utcnow() - news_queries.ALERT_PINNED_FOR}
    walked = posts.newest_nearby(
        viewer, NewsPost, news_queries._alerts, news_queries._since, limit=posts.LIST_MAX,
        with_quartier=True, params=since,
    )  # fmt: skip
    read = [n.id for n in news_queries.recent_alerts(viewer).run(db.session.scalars)]
    assert read == [n.id for n in walked.run(db.session.scalars)]
    shown = {name for name, post_id in made.items() if post_id in read}
    assert {"near", "quartier"} <= shown
    assert ("far, long reach" in shown) == (radius > 2000)
    assert not shown & {"far, short reach", "blocked", "blocking", "info"}
    assert not shown & set(changes)


def test_an_event_end_time_can_be_removed(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    start = utcnow() + timedelta(days=3)
    event = _event(author, _place(), starts_at=start, ends_at=start + timedelta(hours=2))
    events.update_event(event, author, events.EventInput(title="Pique-nique, même heure"))
    assert event.ends_at is not None  # not mentioned: kept
    events.update_event(event, author, events.EventInput(clear_end=True))
    db.session.commit()
    assert event.ends_at is None and event.expires_at == event.starts_at


def test_an_alert_is_pinned_while_its_kind_says_alerte(app, make_member):
    """The alerts' indexes read ``posts.is_alert``, which NewsPost's kind keeps: an
    alert edited into an info leaves the pinned alerts, an info made an alert joins
    them, and the column says so in the database."""
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    viewer = make_member("Voisine", at=DAMES_LEMERCIER)
    alert = _news(author, kind="alerte")
    info = _news(author, kind="info", title="Fête de la soupe")

    def stored(item) -> bool:
        return db.session.scalar(select(NewsPost.is_alert).where(NewsPost.id == item.id))

    assert (stored(alert), stored(info)) == (True, False)
    assert [n.id for n in news_queries.pinned_alerts(viewer)] == [alert.id]
    news.update_news(alert, author, news.NewsInput(kind="info"))
    news.update_news(info, author, news.NewsInput(kind="alerte"))
    db.session.commit()
    assert (stored(alert), stored(info)) == (False, True)
    assert [n.id for n in news_queries.pinned_alerts(viewer)] == [info.id]
    listed = news_queries.near_me(viewer, kind="alerte").run(db.session.scalars).all()
    assert [n.id for n in listed] == [info.id]


def test_the_alerts_indexes_state_what_the_walk_writes(app):
    """SQLite and PostgreSQL use a partial index only when the query states its
    predicate: the migration's text is the model's, on each backend, and the walk's
    condition compiles to its last term."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy.dialects import postgresql, sqlite

    from peuplade.models.post import OPEN_SHOWN_ALERTS

    root = Path(__file__).resolve().parent.parent
    path = next((root / "migrations" / "versions").glob("*_f1c8b3d5a7e2_*.py"))
    spec = importlib.util.spec_from_file_location("alerts_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for name, dialect in (("postgresql", postgresql.dialect()), ("sqlite", sqlite.dialect())):
        text = OPEN_SHOWN_ALERTS[name].text
        assert text == migration.OPEN_SHOWN_ALERTS[name]
        query = select(NewsPost.id).where(news_queries._alerts())
        condition = str(query.compile(dialect=dialect)).rsplit("WHERE ", 1)[1]
        assert text.endswith(" AND " + condition.removeprefix("posts.")), (text, condition)
