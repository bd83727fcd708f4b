"""Exchanges -> JSON, through ``exchanges/schemas.py``: at their PUBLIC position, with a
distance band; members by name only."""

from __future__ import annotations

from typing import Any

from peuplade import geo
from peuplade.api.schemas import MemberRefOut, PositionOut, member_ref
from peuplade.exchanges import schemas as xs
from peuplade.exchanges.queries import helper_shown
from peuplade.models import Exchange, ExchangeResponse, Member, Thanks
from peuplade.photos.urls import photos_json
from peuplade.posts.queries import distance_band


def _helper(exchange: Exchange, viewer: Member) -> MemberRefOut | None:
    """Who helped, but null to a viewer with a block either way with them."""
    helper = helper_shown(exchange, viewer)
    return None if helper is None else member_ref(helper)


def exchange_summary(exchange: Exchange, viewer: Member, responses_count: int) -> xs.ExchangeOut:
    """An exchange at its PUBLIC position (cell centre or public place), with a band."""
    position = geo.from_element(exchange.position)
    return xs.ExchangeOut(
        id=exchange.id,
        kind=exchange.kind,
        title=exchange.title,
        body=exchange.body,
        category=exchange.category,
        status=exchange.status,
        author=member_ref(exchange.author),
        position=PositionOut(lat=position.lat, lon=position.lon),
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
        photos=photos_json(exchange.photos),
    )


def exchange_page(
    exchanges: list[Exchange], viewer: Member, counts: dict[int, int], next_cursor: str | None
) -> dict[str, Any]:
    """``counts``: responses per exchange id, counted for the whole page at once."""
    return xs.ExchangePage(
        items=[exchange_summary(e, viewer, counts.get(e.id, 0)) for e in exchanges],
        next_cursor=next_cursor,
    ).model_dump(mode="json")


def _response(response: ExchangeResponse) -> xs.ResponseOut:
    return xs.ResponseOut(
        id=response.id,
        exchange_id=response.exchange_id,
        author=member_ref(response.author),
        message=response.message,
        created_at=response.created_at,
    )


def exchange_response(response: ExchangeResponse) -> dict[str, Any]:
    return _response(response).model_dump(mode="json")


def _thanks(thanks: Thanks) -> xs.ThanksOut:
    return xs.ThanksOut(
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
    return xs.ExchangeDetailOut(
        **dict(summary),
        responses=None if responses is None else [_response(r) for r in responses],
        my_response=None if my_response is None else _response(my_response),
        thanks=[_thanks(t) for t in thanks],
        neighbours_who_know_how=know_how,
        matches=None
        if matches is None
        else [exchange_summary(m, viewer, (match_counts or {}).get(m.id, 0)) for m in matches],
    ).model_dump(mode="json")
