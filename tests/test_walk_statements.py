"""The lists' cell walks (``posts.newest_nearby``) are built once per shape and run
with new values: the same statement object for every viewer, cursor and filter value,
executed from SQLAlchemy's compiled cache. Building a walk and its cache key cost more
than running it (docs/SCALING.md); a regression to building it on every request fails
here."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services
from peuplade.extensions import db
from peuplade.loans import queries as loan_queries
from peuplade.news import queries as news_queries
from peuplade.pagination import Prepared, TimeCursor, fetch_page
from peuplade.posts import queries as posts
from peuplade.timeline import queries as timelines
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER


def _request(author, title: str):
    exchange = services.create_exchange(
        author,
        services.ExchangeInput(
            kind="request", title=title, body="Un coup de main", category="bricolage"
        ),
    )
    db.session.commit()
    return exchange


def test_a_list_is_one_statement_whatever_the_viewer_cursor_and_filter(app, make_member):
    near = make_member("Près", at=BATIGNOLLES, radius_m=1000)
    other = make_member("Ailleurs", at=CLICHY, radius_m=1000)
    first, second = TimeCursor(near.created_at, 5), TimeCursor(other.created_at, 9)
    pairs = [
        (timelines.timeline(near), timelines.timeline(other)),
        (timelines.timeline(near, after=first), timelines.timeline(other, after=second)),
        (timelines.timeline(near, ["news"]), timelines.timeline(other, ["item", "event"])),
        (timelines.cards(near, after=first), timelines.cards(other, after=second)),
        (timelines.cards(near, ["news"]), timelines.cards(other, ["item", "event"])),
        (
            exchange_queries.near_me(near, kind="offer", category="jardinage"),
            exchange_queries.near_me(other, kind="request", category="bricolage"),
        ),
        (exchange_queries.near_me(near, q="tondeuse"), exchange_queries.near_me(other, q="vélo")),
        (
            exchange_queries.for_you(near, after=first),
            exchange_queries.for_you(other, after=second),
        ),
        (loan_queries.near_me(near, q="perceuse"), loan_queries.near_me(other, q="échelle")),
        (news_queries.recent_alerts(near), news_queries.recent_alerts(other)),
    ]
    for one, two in pairs:
        assert isinstance(one, Prepared)
        assert one.statement is two.statement
        assert one.params != two.params
        assert one.params["viewer_id"] == near.id and two.params["viewer_id"] == other.id
    # Another shape is another statement: a filter more, a cursor, a search of two words.
    plain = exchange_queries.near_me(near).statement
    assert exchange_queries.near_me(near, kind="offer").statement is not plain
    assert exchange_queries.near_me(near, after=first).statement is not plain
    assert (
        exchange_queries.near_me(near, q="tondeuse").statement
        is not exchange_queries.near_me(near, q="tondeuse thermique").statement
    )


def test_pages_run_the_kept_statement_from_the_compiled_cache(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    for n in range(5):
        _request(author, f"Demande {n}")
    readers = [make_member("Lecteur", at=BATIGNOLLES), make_member("Lectrice", at=CLICHY)]
    ran, hits = [], []

    def scalars(stmt, params=None):
        ran.append(stmt)
        return db.session.scalars(stmt, params)

    def listen(conn, cursor, statement, parameters, context, executemany):
        if "central" in statement:  # the walk (loading the readers runs too)
            hits.append(context.cache_hit)

    pages = []
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        for reader in readers:
            pages.append(
                fetch_page(
                    scalars,
                    lambda limit, reader=reader: timelines.timeline(reader, limit=limit),
                    2,
                    posts.cursor_after,
                )
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    # The kept statement itself, not a copy made for the page (``.limit()`` would).
    assert ran[0] is ran[1] is timelines.timeline(readers[0], limit=3).statement
    assert len(hits) == 2 and hits[1] is CacheStats.CACHE_HIT, hits
    # And the rows are each reader's: newest first, two per page, a next page.
    for page in pages:
        assert [p.title for p in page.items] == ["Demande 4", "Demande 3"]
        assert page.next_cursor is not None


def test_feed_cells_are_kept_per_home_and_radius(app, make_member):
    from peuplade import geo

    home = geo.lat_lon(*BATIGNOLLES)
    assert geo.feed_cells_around(home, 1000) is geo.feed_cells_around(home, 1000)
    assert geo.feed_cells_around(home, 1000) is not geo.feed_cells_around(home, 900)


def test_the_kept_statement_gives_each_reader_their_own_rows(app, make_member):
    """One statement object, run alternately for readers who must see different rows:
    a reader who blocked an author, one out of another author's reach, one who sees
    both. A value of one reader kept in the statement would show here."""
    from peuplade.moderation import services as moderation

    near_author = make_member("Voisine", at=DAMES_LEMERCIER, radius_m=300)
    far_author = make_member("Lointaine", at=CLICHY, radius_m=2000)
    _request(near_author, "Tout près")
    _request(far_author, "Plus loin")
    both = make_member("Lit tout", at=DAMES_LEMERCIER, radius_m=2000)
    blocking = make_member("Bloque", at=DAMES_LEMERCIER, radius_m=2000)
    moderation.block(blocking, near_author.id)
    short = make_member("Rayon court", at=DAMES_LEMERCIER, radius_m=200)
    db.session.commit()
    kept = timelines.timeline(both, limit=10).statement
    assert timelines.timeline(blocking, limit=10).statement is kept
    expected = {
        both.id: {"Tout près", "Plus loin"},
        blocking.id: {"Plus loin"},
        short.id: {"Tout près"},
    }
    for _ in range(2):
        for reader in (both, blocking, short, both):
            prepared = timelines.timeline(reader, limit=10)
            if reader is not short:  # a shorter radius may read other groups of cells
                assert prepared.statement is kept
            titles = {p.title for p in prepared.run(db.session.scalars)}
            assert titles == expected[reader.id], reader.display_name
