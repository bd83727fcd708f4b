"""Domain objects -> JSON, through the response models of ``schemas.py``.

Only ``me`` carries a position (the member's own home). Everything shown about
another member goes through ``member_public`` / ``member_summary``, which have no
position field at all; distances to others are bands.
"""

from __future__ import annotations

from typing import Any

from peuplade import geo
from peuplade.account import blur
from peuplade.api import schemas
from peuplade.models import ApiToken, Member, Quartier


def quartier(q: Quartier | None) -> schemas.QuartierOut | None:
    return None if q is None else schemas.QuartierOut(slug=q.slug, name=q.name)


def me(member: Member) -> dict[str, Any]:
    """The member's own account, home included: for GET/PATCH /me only."""
    home = geo.from_element(member.home)
    return schemas.MeOut(
        id=member.id,
        email=member.email,
        display_name=member.display_name,
        bio=member.bio,
        radius_m=member.radius_m,
        skills=member.skill_slugs,
        tags=member.tag_names,
        quartier=quartier(member.quartier),
        home=schemas.PositionOut(lat=home.lat, lon=home.lon),
        created_at=member.created_at,
        email_confirmed=member.email_confirmed_at is not None,
        pending_email=member.pending_email,
        privacy_floor=blur.FLOOR_CHOICES[member.privacy_floor][1],
        shown_at=blur.FLOOR_CHOICES[blur.shown_level(member)][1],
    ).model_dump(mode="json")


def member_public(member: Member, thanks_count: int) -> dict[str, Any]:
    """Another member's public profile: no position of any kind."""
    return schemas.MemberOut(
        id=member.id,
        display_name=member.display_name,
        skills=member.skill_slugs,
        tags=member.tag_names,
        bio=member.bio,
        quartier=quartier(member.quartier),
        thanks_count=thanks_count,
    ).model_dump(mode="json")


def member_summary(member: Member) -> schemas.MemberSummaryOut:
    return schemas.MemberSummaryOut(
        id=member.id,
        display_name=member.display_name,
        skills=member.skill_slugs,
        tags=member.tag_names,
        quartier=quartier(member.quartier),
    )


def neighbour_page(rows: list[tuple[Member, str]], next_cursor: str | None) -> dict[str, Any]:
    """``rows`` are (member, distance band label)."""
    return schemas.NeighbourPage(
        items=[
            schemas.NeighbourOut(member=member_summary(m), distance_band=band) for m, band in rows
        ],
        next_cursor=next_cursor,
    ).model_dump(mode="json")


def token(value: str, row: ApiToken) -> dict[str, Any]:
    return schemas.TokenOut(
        id=row.id, name=row.name, token=value, expires_at=row.expires_at
    ).model_dump(mode="json")


def token_info(row: ApiToken, current_id: int | None) -> schemas.TokenInfoOut:
    return schemas.TokenInfoOut(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        current=row.id == current_id,
    )


# --- exchanges (docs/api-contract.md, "Exchanges") ----------------------------------------

from peuplade.api import exchange_schemas  # noqa: E402
from peuplade.models import Exchange, ExchangeResponse, Thanks  # noqa: E402
from peuplade.posts.queries import distance_band  # noqa: E402


def member_ref(member: Member) -> exchange_schemas.MemberRefOut:
    return exchange_schemas.MemberRefOut(id=member.id, display_name=member.display_name)


def _helper(exchange: Exchange, viewer: Member) -> exchange_schemas.MemberRefOut | None:
    """Who helped, but null to a viewer with a block either way with them."""
    from peuplade.exchanges.queries import helper_shown

    helper = helper_shown(exchange, viewer)
    return None if helper is None else member_ref(helper)


def exchange_summary(
    exchange: Exchange, viewer: Member, responses_count: int
) -> exchange_schemas.ExchangeOut:
    """An exchange at its PUBLIC position (cell centre or public place), with a band."""
    position = geo.from_element(exchange.position)
    return exchange_schemas.ExchangeOut(
        id=exchange.id,
        kind=exchange.kind,
        title=exchange.title,
        body=exchange.body,
        category=exchange.category,
        status=exchange.status,
        author=member_ref(exchange.author),
        position=schemas.PositionOut(lat=position.lat, lon=position.lon),
        place_name=exchange.place_name,
        distance_band=distance_band(viewer, exchange),
        reach_m=exchange.reach_m,
        starts_on=exchange.starts_on,
        ends_on=exchange.ends_on,
        created_at=exchange.created_at,
        expires_at=exchange.expires_at,
        closed_at=exchange.closed_at,
        responses_count=responses_count,
        helper=_helper(exchange, viewer),
        on_behalf_of=exchange.on_behalf_of,
    )


def exchange_page(
    exchanges: list[Exchange], viewer: Member, counts: dict[int, int], next_cursor: str | None
) -> dict[str, Any]:
    """``counts``: responses per exchange id, counted for the whole page at once."""
    return exchange_schemas.ExchangePage(
        items=[exchange_summary(e, viewer, counts.get(e.id, 0)) for e in exchanges],
        next_cursor=next_cursor,
    ).model_dump(mode="json")


def _response(response: ExchangeResponse) -> exchange_schemas.ResponseOut:
    return exchange_schemas.ResponseOut(
        id=response.id,
        exchange_id=response.exchange_id,
        author=member_ref(response.author),
        message=response.message,
        created_at=response.created_at,
    )


def exchange_response(response: ExchangeResponse) -> dict[str, Any]:
    return _response(response).model_dump(mode="json")


def _thanks(thanks: Thanks) -> exchange_schemas.ThanksOut:
    return exchange_schemas.ThanksOut(
        id=thanks.id,
        exchange_id=thanks.exchange_id,
        from_member=member_ref(thanks.from_member),
        to_member=member_ref(thanks.to_member),
        message=thanks.message,
        created_at=thanks.created_at,
    )


def thanks_note(note: Thanks) -> dict[str, Any]:
    return _thanks(note).model_dump(mode="json")


def exchange_detail(
    exchange: Exchange,
    viewer: Member,
    *,
    responses_count: int,
    thanks: list[Thanks],
    responses: list[ExchangeResponse] | None = None,
    my_response: ExchangeResponse | None = None,
    know_how: int | None = None,
    matches: list[Exchange] | None = None,
    match_counts: dict[int, int] | None = None,
) -> dict[str, Any]:
    """One exchange; the author-only parts are None for everybody else."""
    summary = exchange_summary(exchange, viewer, responses_count)
    return exchange_schemas.ExchangeDetailOut(
        **dict(summary),
        responses=None if responses is None else [_response(r) for r in responses],
        my_response=None if my_response is None else _response(my_response),
        thanks=[_thanks(t) for t in thanks],
        neighbours_who_know_how=know_how,
        matches=None
        if matches is None
        else [exchange_summary(m, viewer, (match_counts or {}).get(m.id, 0)) for m in matches],
    ).model_dump(mode="json")


# --- objects and loans (docs/api-contract.md, "Objects and loans") -------------------------

from datetime import date  # noqa: E402

from peuplade.api import loan_schemas  # noqa: E402
from peuplade.models import Item, Loan  # noqa: E402


def _loan(loan: Loan, today: date) -> loan_schemas.LoanOut:
    return loan_schemas.LoanOut(
        id=loan.id,
        item_id=loan.item_id,
        item_title=loan.item.title,
        lender=member_ref(loan.lender),
        borrower=member_ref(loan.borrower),
        start=loan.start,
        due=loan.due,
        status=loan.status,
        overdue=loan.overdue_on(today),
        message=loan.message,
        created_at=loan.created_at,
        lent_at=loan.lent_at,
        returned_at=loan.returned_at,
    )


def loan_detail(loan: Loan, today: date) -> dict[str, Any]:
    """``today``: the local day (``localtime.today()``) that decides ``overdue``."""
    return _loan(loan, today).model_dump(mode="json")


def loan_page(loans: list[Loan], today: date, next_cursor: str | None) -> dict[str, Any]:
    return loan_schemas.LoanPage(
        items=[_loan(x, today) for x in loans], next_cursor=next_cursor
    ).model_dump(mode="json")


def _item(
    item: Item, viewer: Member, times_lent: int, loans: list[Loan] | None, today: date
) -> loan_schemas.ItemOut:
    """An object at its PUBLIC position; ``loans`` only when the viewer lends it."""
    position = geo.from_element(item.position)
    return loan_schemas.ItemOut(
        id=item.id,
        title=item.title,
        description=item.description,
        category=item.category,
        condition=item.condition,
        notes=item.notes,
        available=item.available,
        lender=member_ref(item.author),
        position=schemas.PositionOut(lat=position.lat, lon=position.lon),
        distance_band=distance_band(viewer, item),
        created_at=item.created_at,
        times_lent=times_lent,
        loans=None
        if loans is None or item.author_id != viewer.id
        else [_loan(x, today) for x in loans],
    )


def item_detail(
    item: Item, viewer: Member, times_lent: int, loans: list[Loan] | None, today: date
) -> dict[str, Any]:
    return _item(item, viewer, times_lent, loans, today).model_dump(mode="json")


def item_page(
    items: list[Item],
    viewer: Member,
    times_lent: dict[int, int],
    today: date,
    next_cursor: str | None,
) -> dict[str, Any]:
    """``times_lent``: per lender id. The lender's own objects carry their loans."""
    return loan_schemas.ItemPage(
        items=[
            _item(
                i,
                viewer,
                times_lent.get(i.author_id, 0),
                list(i.loans) if i.author_id == viewer.id else None,
                today,
            )
            for i in items
        ],
        next_cursor=next_cursor,
    ).model_dump(mode="json")


# --- news, events, feed (docs/api-contract.md, "News, events, feed") ------------------------

from dataclasses import dataclass, field  # noqa: E402

from peuplade.api import news_schemas  # noqa: E402
from peuplade.models import Event, NewsComment, NewsPost, Post  # noqa: E402


@dataclass
class PageCounts:
    """What a page of posts needs beyond its rows, each counted once for the whole page:
    responses per exchange, loans per lender, comments per news, quartiers by id, members
    going per event, and the viewer's own answers."""

    responses: dict[int, int] = field(default_factory=dict)
    times_lent: dict[int, int] = field(default_factory=dict)
    comments: dict[int, int] = field(default_factory=dict)
    quartiers: dict[int, Quartier] = field(default_factory=dict)
    going: dict[int, int] = field(default_factory=dict)
    answers: dict[int, bool] = field(default_factory=dict)


def _position(post: Post) -> schemas.PositionOut:
    point = geo.from_element(post.position)
    return schemas.PositionOut(lat=point.lat, lon=point.lon)


def _news(item: NewsPost, viewer: Member, counts: PageCounts) -> news_schemas.NewsOut:
    """A news at its PUBLIC position (the author's cell centre), with a band."""
    return news_schemas.NewsOut(
        id=item.id,
        kind=item.kind,
        title=item.title,
        body=item.body,
        link=item.link,
        scope=item.scope,
        quartier=quartier(counts.quartiers.get(item.quartier_id))
        if item.quartier_id is not None
        else None,
        author=member_ref(item.author),
        position=_position(item),
        distance_band=distance_band(viewer, item),
        created_at=item.created_at,
        comments_count=counts.comments.get(item.id, 0),
    )


def news_detail(item: NewsPost, viewer: Member, counts: PageCounts) -> dict[str, Any]:
    return _news(item, viewer, counts).model_dump(mode="json")


def news_page(
    items: list[NewsPost], viewer: Member, counts: PageCounts, next_cursor: str | None
) -> dict[str, Any]:
    return news_schemas.NewsPage(
        items=[_news(n, viewer, counts) for n in items], next_cursor=next_cursor
    ).model_dump(mode="json")


def _comment(note: NewsComment) -> news_schemas.CommentOut:
    return news_schemas.CommentOut(
        id=note.id,
        news_id=note.news_id,
        author=member_ref(note.author),
        body=note.body,
        created_at=note.created_at,
    )


def comment(note: NewsComment) -> dict[str, Any]:
    return _comment(note).model_dump(mode="json")


def comment_page(notes: list[NewsComment], next_cursor: str | None) -> dict[str, Any]:
    return news_schemas.CommentPage(
        items=[_comment(c) for c in notes], next_cursor=next_cursor
    ).model_dump(mode="json")


def _event(event: Event, viewer: Member, counts: PageCounts) -> news_schemas.EventOut:
    """An outing at its public place, with a band; never anyone's home."""
    return news_schemas.EventOut(
        id=event.id,
        title=event.title,
        body=event.body,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        place_name=event.place_name,
        position=_position(event),
        distance_band=distance_band(viewer, event),
        reach_m=event.reach_m,
        capacity=event.capacity,
        going_count=counts.going.get(event.id, 0),
        my_answer=counts.answers.get(event.id),
        organiser=member_ref(event.author),
        created_at=event.created_at,
    )


def event_detail(
    event: Event, viewer: Member, counts: PageCounts, going: list[Member]
) -> dict[str, Any]:
    """One event and who is going (display names only)."""
    return news_schemas.EventDetailOut(
        **dict(_event(event, viewer, counts)), going=[member_ref(m) for m in going]
    ).model_dump(mode="json")


def event_page(
    events: list[Event], viewer: Member, counts: PageCounts, next_cursor: str | None
) -> dict[str, Any]:
    return news_schemas.EventPage(
        items=[_event(e, viewer, counts) for e in events], next_cursor=next_cursor
    ).model_dump(mode="json")


def rsvp(going: bool, going_count: int, capacity: int | None) -> dict[str, Any]:
    return news_schemas.RsvpOut(going=going, going_count=going_count, capacity=capacity).model_dump(
        mode="json"
    )


def _feed_entry(post: Post, viewer: Member, counts: PageCounts, today: date):
    """A timeline row in the shape of its own type, plus ``type``."""
    if isinstance(post, Exchange):
        summary = exchange_summary(post, viewer, counts.responses.get(post.id, 0))
        return news_schemas.FeedExchangeOut(**dict(summary))
    if isinstance(post, Item):
        shown = _item(post, viewer, counts.times_lent.get(post.author_id, 0), None, today)
        return news_schemas.FeedItemOut(**dict(shown))
    if isinstance(post, NewsPost):
        return _news(post, viewer, counts)
    if isinstance(post, Event):
        return _event(post, viewer, counts)
    raise TypeError(f"no feed shape for {type(post).__name__}")


def feed_page(
    posts: list[Post], viewer: Member, counts: PageCounts, today: date, next_cursor: str | None
) -> dict[str, Any]:
    return news_schemas.FeedPage(
        items=[_feed_entry(p, viewer, counts, today) for p in posts], next_cursor=next_cursor
    ).model_dump(mode="json")


# --- conversations (issue 6) -----------------------------------------------------------

from peuplade.api import conversation_schemas  # noqa: E402
from peuplade.models import Conversation, Message  # noqa: E402


def _conversation(
    conversation: Conversation, viewer: Member, unread: int
) -> conversation_schemas.ConversationOut:
    """Seen by one participant: ``with`` is the other one, by name only."""
    about = None
    if conversation.subject_type is not None and conversation.subject_id is not None:
        about = conversation_schemas.AboutOut(
            type=conversation.subject_type,
            id=conversation.subject_id,
            title=conversation.subject_title,
        )
    return conversation_schemas.ConversationOut(
        id=conversation.id,
        with_=member_ref(conversation.other(viewer)),
        about=about,
        last_message_at=conversation.last_message_at,
        unread=unread,
    )


def conversation(conversation: Conversation, viewer: Member, unread: int) -> dict[str, Any]:
    return _conversation(conversation, viewer, unread).model_dump(mode="json", by_alias=True)


def conversation_page(rows: list[tuple[Conversation, int]], viewer: Member) -> dict[str, Any]:
    return conversation_schemas.ConversationPage(
        items=[_conversation(c, viewer, unread) for c, unread in rows]
    ).model_dump(mode="json", by_alias=True)


def _message(note: Message) -> conversation_schemas.MessageOut:
    return conversation_schemas.MessageOut(
        id=note.id, author=member_ref(note.author), body=note.body, created_at=note.created_at
    )


def message(note: Message) -> dict[str, Any]:
    return _message(note).model_dump(mode="json")


def message_page(notes: list[Message], next_cursor: str | None) -> dict[str, Any]:
    return conversation_schemas.MessagePage(
        items=[_message(m) for m in notes], next_cursor=next_cursor
    ).model_dump(mode="json")


def unread(count: int) -> dict[str, Any]:
    # int(): PostgreSQL sums to a Decimal, which JSON would write as a string.
    return conversation_schemas.UnreadOut(unread=int(count)).model_dump(mode="json")


# --- notifications (the bell and my email choices) -------------------------------------

from peuplade.api import notification_schemas  # noqa: E402
from peuplade.models import Notification  # noqa: E402
from peuplade.notifications import queries as notification_queries  # noqa: E402


def _notification(note: Notification) -> notification_schemas.NotificationOut:
    """In the request's language; the actor by name only (never a position)."""
    subject = None
    if note.subject_type is not None and note.subject_id is not None:
        subject = notification_schemas.NotificationSubjectOut(
            type=note.subject_type, id=note.subject_id, title=note.subject_title or None
        )
    return notification_schemas.NotificationOut(
        id=note.id,
        kind=note.kind,
        text=notification_queries.sentence(note),
        subject=subject,
        actor=member_ref(note.actor) if note.actor is not None else None,
        created_at=note.created_at,
        read=note.read_at is not None,
    )


def notification_page(
    notes: list[Notification], next_cursor: str | None, unread: int
) -> dict[str, Any]:
    return notification_schemas.NotificationPage(
        items=[_notification(n) for n in notes], next_cursor=next_cursor, unread=int(unread)
    ).model_dump(mode="json")


def notification_settings(settings: dict[str, str]) -> dict[str, Any]:
    return notification_schemas.NotificationSettingsOut(settings=settings).model_dump(mode="json")
