"""Who sees whom is one rule (peuplade/posts/audience.py), and the lists keep it.

- On random neighbourhoods (seeded): for every member m and post p, m is in
  ``reached_by(p)`` (whom notifications go to) exactly when p is in the lists m reads
  (the timeline, the list of its type) and m may open it (``visible_to``).
- Blocks hide both ways, in every list: the blocker and the blocked member each vanish
  from the other's lists, whichever of the two blocked.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from peuplade import geo
from peuplade.board import queries as board_queries
from peuplade.events import queries as event_queries
from peuplade.events import services as events
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import queries as loan_queries
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.map import queries as map_queries
from peuplade.models import (
    Block,
    Event,
    Exchange,
    Item,
    Member,
    NewsPost,
    Notification,
    Place,
    Post,
    Quartier,
    utcnow,
)
from peuplade.moderation import services as moderation
from peuplade.neighbours import queries as neighbour_queries
from peuplade.news import queries as news_queries
from peuplade.news import services as news
from peuplade.posts import audience
from peuplade.timeline.queries import timeline
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER
from tests.helpers.quartiers import add_quartier

ALL = 10_000  # a list limit no layout reaches


def _around(rnd: random.Random, metres: float) -> tuple[float, float]:
    """A random point within ``metres`` of the Batignolles."""
    distance = metres * math.sqrt(rnd.random())
    angle = rnd.uniform(0, 2 * math.pi)
    lat = BATIGNOLLES[0] + distance * math.cos(angle) / 111_132
    lon = BATIGNOLLES[1] + distance * math.sin(angle) / (
        111_320 * math.cos(math.radians(BATIGNOLLES[0]))
    )
    return lat, lon


def _quartier(east: float = BATIGNOLLES[1]) -> Quartier:
    """West of ``east`` (by default, the western half of the area): its members get the
    news addressed to it."""
    lat, lon = BATIGNOLLES
    return add_quartier("ouest", bounds=(lon - 0.03, lat - 0.03, east, lat + 0.03))


def _post(rnd: random.Random, n: int, author: Member, quartier: Quartier) -> Post:
    """A post of a random type at a random public spot, with a random reach."""
    common = {
        "author_id": author.id,
        "position": geo.to_element(geo.lat_lon(*_around(rnd, 1800))),
        "reach_m": rnd.randint(200, 2500),
        "status": "open",
    }
    kind = rnd.choice(["exchange", "item", "news", "quartier news", "event"])
    if kind == "exchange":
        return Exchange(
            **common,
            kind=rnd.choice(["request", "offer"]),
            title=f"Annonce {n}",
            body="Texte",
            category="bricolage",
        )
    if kind == "item":
        return Item(**common, title=f"Objet {n}", category="bricolage")
    if kind == "event":
        return Event(
            **common, title=f"Sortie {n}", body="Texte", starts_at=utcnow() + timedelta(days=3)
        )
    return NewsPost(
        **common,
        kind="info",
        title=f"Info {n}",
        body="Texte",
        quartier_id=quartier.id if kind == "quartier news" else None,
    )


def _layout(make_member, seed: int):
    """12 to 20 members with random homes and radii, random posts, random blocks."""
    rnd = random.Random(seed)
    quartier = _quartier()
    members = [
        make_member(f"M{seed}-{i}", at=_around(rnd, 1500), radius_m=rnd.randint(200, 2000))
        for i in range(rnd.randint(12, 20))
    ]
    posts = [_post(rnd, n, rnd.choice(members), quartier) for n in range(rnd.randint(25, 40))]
    db.session.add_all(posts)
    db.session.flush()
    for post in rnd.sample(posts, 2):  # hidden by the moderation: nobody's
        post.hidden_at = utcnow()
    pairs = [(a, b) for a in members for b in members if a.id < b.id]
    for a, b in rnd.sample(pairs, len(pairs) // 12):
        blocker, blocked = (a, b) if rnd.random() < 0.5 else (b, a)
        db.session.add(Block(blocker_id=blocker.id, blocked_id=blocked.id))
    db.session.commit()
    return members, posts


# The list of each type.
LISTS = [
    lambda m: exchange_queries.near_me(m, limit=ALL),
    lambda m: loan_queries.near_me(m, limit=ALL),
    lambda m: news_queries.near_me(m, limit=ALL),
    lambda m: event_queries.near_me(m, limit=ALL),
]


def _reaching(member: Member) -> dict[str, set[int]]:
    """The ids of the posts of others that ``member`` is shown, list by list."""
    shown = {"timeline": {p.id for p in db.session.scalars(timeline(member, limit=ALL))}}
    shown["map"] = {p.id for p in map_queries.near_me(member, limit=ALL)}
    shown["of its type"] = set()
    for query in LISTS:
        shown["of its type"] |= {
            p.id for p in db.session.scalars(query(member)) if p.author_id != member.id
        }
    shown["visible_to"] = set(
        db.session.scalars(
            select(Post.id).where(audience.visible_to(member, Post), Post.author_id != member.id)
        )
    )
    return shown


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reached_by_is_exactly_the_inverse_of_the_lists(app, make_member, seed):
    members, posts = _layout(make_member, seed)

    def both_ways() -> tuple[set, set]:
        forward = set()
        for m in members:
            lists = _reaching(m)
            for name, ids in lists.items():  # every list agrees with the timeline
                assert ids == lists["timeline"], (m.display_name, name)
            forward |= {(m.id, p_id) for p_id in lists["timeline"]}
        backward = {
            (m_id, p.id)
            for p in posts
            for m_id in db.session.scalars(select(Member.id).where(audience.reached_by(p)))
        }
        return forward, backward

    forward, backward = both_ways()
    assert forward == backward
    # The layout tries every case: some pairs in, many out, quartier news in.
    assert 20 < len(forward) < len(members) * len(posts) / 1.5
    assert any(p.quartier_id for p in posts if any(pid == p.id for _m, pid in forward))
    # Some pairs are out for a block only: without the blocks, exactly those come back.
    blocked = {(b.blocker_id, b.blocked_id) for b in db.session.scalars(select(Block))}
    blocked |= {(b, a) for a, b in blocked}
    db.session.query(Block).delete()
    db.session.commit()
    unblocked, unblocked_backward = both_ways()
    assert unblocked == unblocked_backward
    by_id = {p.id: p for p in posts}
    came_back = unblocked - forward
    assert came_back and all((m, by_id[p].author_id) in blocked for m, p in came_back)


def test_the_author_is_told_of_public_positions_and_the_same_filters(app, make_member):
    """What the author is shown (neighbours who know how) is the same rule on public
    positions: the same people when homes and cells agree, never a blocked one."""
    rnd = random.Random(3)
    members = [
        make_member(f"N{i}", at=_around(rnd, 1200), radius_m=2000, skills=["bricolage"])
        for i in range(10)
    ]
    author = make_member("Autrice", at=BATIGNOLLES, radius_m=2000)
    request = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(kind="request", title="Étagère", body="Svp", category="bricolage"),
    )
    db.session.commit()
    told = {
        m.id for m, _rank in db.session.execute(exchange_queries.neighbours_who_know_how(request))
    }
    reached = set(db.session.scalars(select(Member.id).where(audience.reached_by(request))))
    assert told and reached and len(told ^ reached) <= 2  # cells ~100 m from homes
    moderation.block(members[0], author.id)
    moderation.block(author, members[1].id)
    db.session.commit()
    after = {
        m.id for m, _r in db.session.execute(exchange_queries.neighbours_who_know_how(request))
    }
    assert after == told - {members[0].id, members[1].id}
    assert exchange_queries.know_how_count(request) == len(after)


# --- blocks, both ways, list by list ---------------------------------------------------


def _everything_of(member: Member, place: Place) -> None:
    """One post of each type (a request in the skill both know), a comment and an RSVP."""
    exchanges.create_exchange(
        member,
        exchanges.ExchangeInput(
            kind="request",
            title=f"Demande de {member.display_name}",
            body="Svp",
            category="bricolage",
        ),
    )
    loans.offer_item(
        member, loans.ItemInput(title=f"Objet de {member.display_name}", category="bricolage")
    )
    news.post_news(member, news.NewsInput(title=f"Info de {member.display_name}", body="Texte"))
    news.post_news(
        member,
        news.NewsInput(title=f"Quartier de {member.display_name}", body="Texte", scope="quartier"),
    )
    events.create_event(
        member,
        events.EventInput(
            title=f"Sortie de {member.display_name}",
            body="Texte",
            starts_at=utcnow() + timedelta(days=2),
            location=LocationInput(place_id=place.id),
        ),
    )


def _seen_by(member: Member) -> dict[str, set[int]]:
    """The member ids each list shows ``member`` (posts by their authors)."""

    def authors(stmt) -> set[int]:
        return {p.author_id for p in db.session.scalars(stmt)}

    shown = {
        "timeline": authors(timeline(member)),
        "exchanges": authors(exchange_queries.near_me(member)),
        "for you": authors(exchange_queries.for_you(member)),
        "objects": authors(loan_queries.near_me(member)),
        "news": authors(news_queries.near_me(member)),
        "events": authors(event_queries.near_me(member)),
        "calendar": authors(event_queries.upcoming(member)),
        "board": {p.author_id for p in board_queries.open_requests(member, 2000)}
        | {p.author_id for p in board_queries.upcoming_events(member, 2000)},
        "map": {p.author_id for p in map_queries.near_me(member)},
        "neighbours": {m.id for m, _b in db.session.execute(neighbour_queries.neighbours(member))},
        "neighbours with the skill": {
            m.id for m, _b in db.session.execute(neighbour_queries.neighbours(member, "bricolage"))
        },
        "visible_to": authors(select(Post).where(audience.visible_to(member, Post))),
    }
    for request in db.session.scalars(
        select(Exchange).where(Exchange.author_id == member.id, Exchange.kind == "request")
    ):
        shown["know how"] = {
            m.id for m, _r in db.session.execute(exchange_queries.neighbours_who_know_how(request))
        }
        shown["reached by"] = set(
            db.session.scalars(select(Member.id).where(audience.reached_by(request)))
        )
        shown["responses"] = {
            r.author_id for r in exchange_queries.responses_shown(request, member)
        }
    info = db.session.scalar(select(NewsPost).where(NewsPost.title == "Info de Claire"))
    shown["comments"] = {
        c.author_id for c in db.session.scalars(news_queries.comments(info, member))
    }
    outing = db.session.scalar(select(Event).where(Event.title == "Sortie de Claire"))
    shown["going"] = {m.id for m in db.session.scalars(event_queries.going(outing, member))}
    return shown


@pytest.mark.parametrize("who_blocks", ["anne", "bruno"])
def test_a_block_hides_both_ways_in_every_list(app, make_member, who_blocks):
    quartier = _quartier(east=2.34)
    anne = make_member("Anne", at=BATIGNOLLES, radius_m=2000, skills=["bricolage"])
    bruno = make_member("Bruno", at=DAMES_LEMERCIER, radius_m=2000, skills=["bricolage"])
    claire = make_member("Claire", at=CLICHY, radius_m=2000, skills=["bricolage"])
    assert anne.quartier_id == bruno.quartier_id == quartier.id
    place = Place(
        name="Square", source_ref="test:square", position=geo.to_element(geo.lat_lon(*CLICHY))
    )
    db.session.add(place)
    db.session.flush()
    for member in (anne, bruno, claire):
        _everything_of(member, place)
    info = db.session.scalar(select(NewsPost).where(NewsPost.title == "Info de Claire"))
    outing = db.session.scalar(select(Event).where(Event.title == "Sortie de Claire"))
    for member, other in ((anne, bruno), (bruno, anne)):
        news.comment(info, member, f"Merci de la part de {member.display_name}")
        events.rsvp(outing, member, True)
        theirs = db.session.scalar(
            select(Exchange).where(Exchange.author_id == other.id, Exchange.kind == "request")
        )
        exchanges.respond(theirs, member, "Je peux vous aider")
    db.session.commit()

    before = {"anne": _seen_by(anne), "bruno": _seen_by(bruno)}
    for name, lists in before.items():  # the test can see a difference
        other = bruno.id if name == "anne" else anne.id
        assert all(other in ids for ids in lists.values()), name

    if who_blocks == "anne":
        moderation.block(anne, bruno.id)
    else:
        moderation.block(bruno, anne.id)
    db.session.commit()
    for viewer, other in ((anne, bruno), (bruno, anne)):
        lists = _seen_by(viewer)
        leaks = [name for name, ids in lists.items() if other.id in ids]
        assert leaks == [], (viewer.display_name, leaks)
        others = {n: ids for n, ids in lists.items() if n not in ("comments", "going", "responses")}
        assert all(claire.id in ids for ids in others.values())  # nobody else vanished

    # A new request of either reaches neither the other's notifications nor their count.
    db.session.query(Notification).delete()
    db.session.commit()
    for author, other in ((anne, bruno), (bruno, anne)):
        request = exchanges.create_exchange(
            author,
            exchanges.ExchangeInput(
                kind="request", title="Encore une étagère", body="Svp", category="bricolage"
            ),
        )
        db.session.commit()
        told = set(db.session.scalars(select(Notification.member_id)))
        assert other.id not in told and claire.id in told
        assert exchange_queries.know_how_count(request) == 1  # Claire only
        db.session.query(Notification).delete()
        db.session.commit()
