"""Domain objects -> JSON, through the response models of ``schemas.py``.

Only ``me`` carries a position (the member's own home). Everything shown about
another member goes through ``member_public`` / ``member_summary``, which have no
position field at all; distances to others are bands.
"""

from __future__ import annotations

from typing import Any

from peuplade import geo
from peuplade.api import schemas
from peuplade.models import Member, Quartier


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


def token(value: str, expires_at) -> dict[str, Any]:
    return schemas.TokenOut(token=value, expires_at=expires_at).model_dump(mode="json")


# --- exchanges (../shared/API.md, "Exchanges") ----------------------------------------

from peuplade.api import exchange_schemas  # noqa: E402
from peuplade.models import Exchange, ExchangeResponse, Thanks  # noqa: E402
from peuplade.posts.queries import distance_band  # noqa: E402


def member_ref(member: Member) -> exchange_schemas.MemberRefOut:
    return exchange_schemas.MemberRefOut(id=member.id, display_name=member.display_name)


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
        helper=member_ref(exchange.helper) if exchange.helper is not None else None,
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
