"""Neighbours -> JSON, through ``neighbours/schemas.py``: a summary and a distance band,
never a position."""

from __future__ import annotations

from typing import Any

from peuplade.api.schemas import quartier
from peuplade.models import Member
from peuplade.neighbours import schemas as nbs
from peuplade.photos.urls import avatar_url


def member_summary(member: Member) -> nbs.MemberSummaryOut:
    return nbs.MemberSummaryOut(
        id=member.id,
        display_name=member.display_name,
        avatar_url=avatar_url(member),
        skills=member.skill_slugs,
        tags=member.tag_names,
        quartier=quartier(member.quartier),
    )


def neighbour_page(rows: list[tuple[Member, str]], next_cursor: str | None) -> dict[str, Any]:
    """``rows`` are (member, distance band label)."""
    return nbs.NeighbourPage(
        items=[nbs.NeighbourOut(member=member_summary(m), distance_band=band) for m, band in rows],
        next_cursor=next_cursor,
    ).model_dump(mode="json")
