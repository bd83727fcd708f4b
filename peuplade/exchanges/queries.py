"""Reads on exchanges: my neighbourhood's list, one exchange, matches, "Pour vous"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import joinedload

from peuplade import geo, privacy
from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.models import (
    Block,
    Exchange,
    ExchangeResponse,
    Member,
    MemberSkill,
    Photo,
    Post,
    Thanks,
)
from peuplade.moderation import targets as report_targets
from peuplade.pagination import Prepared, TimeCursor
from peuplade.posts import audience
from peuplade.posts import cards as cards_of
from peuplade.posts import queries as posts
from peuplade.posts.cards import CardAuthor


# The walks' conditions (posts.newest_nearby: SQL made once, values as parameters).
def _of_kind():
    return Exchange.kind == bindparam("kind")


def _in_category():
    return Exchange.category == bindparam("category")


def _not_mine():
    return Exchange.author_id != posts.viewer_id()


def _in_my_skills():
    skills = select(MemberSkill.skill).where(MemberSkill.member_id == posts.viewer_id())
    return Exchange.category.in_(skills.scalar_subquery())


# Rows with who helped loaded in the same statement (the API shows them).
WITH_HELPER = (joinedload(Exchange.helper),)


@dataclass(slots=True)
class ExchangeCard:
    """An exchange as a list's card shows it (``templates/exchanges/_macros.html``), read
    from one row (``card_columns``) rather than an object with its author's whole row:
    the attributes the card reads on an exchange, under the same names. ``position`` is
    the exchange's PUBLIC position (the distance band)."""

    type: ClassVar[str] = "exchange"

    id: int
    kind: str
    category: str
    status: str
    title: str
    starts_on: date | None
    ends_on: date | None
    created_at: datetime
    author_id: int
    position: Any
    place_name: str | None
    on_behalf_of: str | None
    author: CardAuthor
    has_photo: bool
    photos: list[Photo] = field(default_factory=list)


def card_columns(found, limit) -> Any:
    """The final SELECT of a walk of exchanges read as cards (``near_me(rows=...)``)."""
    posts_t, exchanges = Post.__table__, Exchange.__table__
    return cards_of.card_rows(
        found,
        limit,
        (exchanges,),
        (
            posts_t.c.id,
            exchanges.c.kind,
            exchanges.c.category,
            posts_t.c.status,
            exchanges.c.title,
            exchanges.c.starts_on,
            exchanges.c.ends_on,
            posts_t.c.created_at,
            posts_t.c.position,
            posts_t.c.place_name,
            exchanges.c.on_behalf_of,
        ),
    )


def as_cards(rows) -> list[ExchangeCard]:
    """The cards of ``card_columns``' rows, with their photos."""
    return cards_of.from_rows(ExchangeCard, rows)


def near_me(
    viewer: Member,
    *,
    kind: str | None = None,
    category: str | None = None,
    q: str | None = None,
    after: TimeCursor | None = None,
    limit: int = posts.LIST_MAX,
    options: tuple = (),
    rows=None,
) -> Prepared:
    """At most ``limit`` open exchanges in the viewer's neighbourhood, newest first
    (``options``: loader options of the rows, e.g. ``WITH_HELPER``; ``rows``: plain
    rows instead of objects, e.g. ``card_columns``)."""
    conditions: list = []
    params: dict = {}
    if kind:
        conditions.append(_of_kind)
        params["kind"] = kind
    if category:
        conditions.append(_in_category)
        params["category"] = category
    if q and q.strip():
        found, values = posts.searched(Exchange, "title", "body", q)
        conditions.append(found)
        params.update(values)
    return posts.newest_nearby(
        viewer,
        Exchange,
        *conditions,
        limit=limit,
        after=after,
        options=options,
        params=params,
        rows=rows,
    )


def mine(author: Member, after: TimeCursor | None = None) -> Select:
    stmt = select(Exchange).where(Exchange.author_id == author.id)
    return posts.newest_first(stmt, after)


def for_you(
    viewer: Member,
    after: TimeCursor | None = None,
    *,
    limit: int = posts.LIST_MAX,
    options: tuple = (),
    rows=None,
) -> Prepared:
    """ "Pour vous": open requests near me in a category I know how to do (``rows``: as
    ``near_me``'s)."""
    return posts.newest_nearby(
        viewer,
        Exchange,
        _of_kind,
        _not_mine,
        _in_my_skills,
        limit=limit,
        after=after,
        options=options,
        params={"kind": "request"},
        rows=rows,
    )


def get_exchange_or_404(viewer: Member, exchange_id: int) -> Exchange:
    """The exchange if the viewer may see it (theirs, or in their neighbourhood)."""
    stmt = select(Exchange).where(Exchange.id == exchange_id, audience.visible_to(viewer, Exchange))
    exchange = db.session.scalar(stmt)
    if exchange is None:
        raise NotFound(_l("Cette annonce n'existe pas, ou n'est pas dans votre voisinage."))
    return exchange


report_targets.register("exchange", get_exchange_or_404)


def matching(exchange: Exchange, viewer: Member, limit: int = 10) -> list[Exchange]:
    """Offers that could answer a request (or requests an offer could answer): same
    category, opposite kind, open, in the viewer's neighbourhood, not the viewer's own."""
    other = "offer" if exchange.kind == "request" else "request"
    walk = posts.newest_nearby(
        viewer,
        Exchange,
        _of_kind,
        _in_category,
        _not_mine,
        limit=limit,
        params={"kind": other, "category": exchange.category},
    )
    return list(walk.run(db.session.scalars))


def neighbours_who_know_how(exchange: Exchange) -> Select:
    """Members who know the exchange's category and whom it reaches, as its author may
    be told (``audience.reached_by_public``: on the members' PUBLIC positions, never
    their homes, so that an author moving posts around learns nothing finer than the
    grid). Rows are ``(Member, band_rank)``, nearest band first. The members of the
    category are read cell by cell around the exchange (``audience.reached_knowing``),
    not every member of its circle."""
    pos = geo.from_element(exchange.position)
    distance = geo.distance_m(Member.public_position, geo.point(pos.lat, pos.lon))
    rank = privacy.band_rank(distance).label("band_rank")
    return (
        select(Member, rank)
        .where(audience.reached_knowing(exchange, exchange.category, from_homes=False))
        .order_by(rank, func.lower(Member.display_name), Member.id)
    )


def know_how_count(exchange: Exchange, at_most: int | None = None) -> int:
    """How many neighbours :func:`neighbours_who_know_how` lists; with ``at_most``,
    counted only that far (``at_most + 1`` means "more"): in a dense city thousands of
    neighbours know a category, and counting them all costs tens of milliseconds that
    a request being posted need not wait for (docs/SCALING.md)."""
    inner = neighbours_who_know_how(exchange).order_by(None)
    if at_most is not None:
        inner = inner.limit(at_most + 1)
    return db.session.scalar(select(func.count()).select_from(inner.subquery())) or 0


def responded(exchange: Exchange, member: Member) -> ExchangeResponse | None:
    return db.session.scalar(
        select(ExchangeResponse).where(
            ExchangeResponse.exchange_id == exchange.id, ExchangeResponse.author_id == member.id
        )
    )


def responses_count(exchange_ids: list[int], viewer: Member) -> dict[int, int]:
    """Number of responses per exchange as ``viewer`` is shown it, in one query: no
    response from a member with a block either way with the viewer (the list of
    responses leaves them out too, and a count must not tell them apart)."""
    if not exchange_ids:
        return {}
    rows = db.session.execute(
        select(ExchangeResponse.exchange_id, func.count())
        .where(
            ExchangeResponse.exchange_id.in_(exchange_ids),
            audience.no_block(viewer.id, ExchangeResponse.author_id),
        )
        .group_by(ExchangeResponse.exchange_id)
    )
    return dict(rows.all())


def blocked_either_way(viewer: Member) -> set[int]:
    """The ids of the members with a block either way with ``viewer`` (one query, kept
    for the request: a page of exchanges asks once, not once per helper)."""
    # On the request itself (``g`` may outlive it, e.g. an app context held by a test).
    environ = request.environ if has_request_context() else {}
    cache = environ.setdefault("peuplade.blocked_either_way", {})
    if viewer.id not in cache:
        rows = db.session.execute(
            select(Block.blocker_id, Block.blocked_id).where(
                or_(Block.blocker_id == viewer.id, Block.blocked_id == viewer.id)
            )
        )
        cache[viewer.id] = {a if b == viewer.id else b for a, b in rows} - {viewer.id}
    return cache[viewer.id]


def helper_shown(exchange: Exchange, viewer: Member) -> Member | None:
    """The neighbour who helped ("Fait, avec l'aide de X"), unless there is a block
    either way between them and ``viewer`` (then nobody is named: "un voisin")."""
    if exchange.helper_id is None:
        return None
    if exchange.helper_id in blocked_either_way(viewer):
        return None
    return exchange.helper


def thanks_received(member: Member) -> Select:
    return (
        select(Thanks)
        .where(Thanks.to_member_id == member.id)
        .order_by(Thanks.created_at.desc(), Thanks.id.desc())
    )


def thanks_count(member_id: int, viewer: Member | None = None) -> int:
    """Thank-you notes a member received; as ``viewer`` is shown them (``thanks_shown_to``,
    like the list beside the count) when given."""
    stmt = select(func.count()).select_from(Thanks).where(Thanks.to_member_id == member_id)
    if viewer is not None:
        stmt = stmt.where(thanks_shown_to(viewer))
    return db.session.scalar(stmt) or 0


def thanked(exchange: Exchange, member: Member) -> bool:
    return db.session.scalar(
        select(
            exists().where(Thanks.exchange_id == exchange.id, Thanks.from_member_id == member.id)
        )
    )


def thanks_shown_to(viewer: Member):
    """SQL: a thank-you note ``viewer`` is shown: no block either way between the viewer
    and either of the two members it names."""
    return and_(
        audience.no_block(viewer.id, Thanks.from_member_id),
        audience.no_block(viewer.id, Thanks.to_member_id),
    )


def thanks_on(exchange: Exchange, viewer: Member) -> list[Thanks]:
    """The thank-you notes left on one exchange that ``viewer`` is shown, oldest first."""
    stmt = (
        select(Thanks)
        .where(Thanks.exchange_id == exchange.id, thanks_shown_to(viewer))
        .order_by(Thanks.created_at, Thanks.id)
    )
    return list(db.session.scalars(stmt))


def recent_thanks(member: Member, viewer: Member, limit: int = 5) -> list[Thanks]:
    """The last thank-you notes a member received that ``viewer`` is shown, with who
    wrote them (one query)."""
    stmt = (
        thanks_received(member)
        .where(thanks_shown_to(viewer))
        .options(joinedload(Thanks.from_member))
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def responses_shown(exchange: Exchange, viewer: Member) -> list[ExchangeResponse]:
    """The responses to an exchange (for its author) but those of members with whom
    there is a block either way, oldest first."""
    stmt = (
        select(ExchangeResponse)
        .where(
            ExchangeResponse.exchange_id == exchange.id,
            audience.no_block(viewer.id, ExchangeResponse.author_id),
        )
        .order_by(ExchangeResponse.created_at, ExchangeResponse.id)
    )
    return list(db.session.scalars(stmt))
