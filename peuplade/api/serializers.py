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
