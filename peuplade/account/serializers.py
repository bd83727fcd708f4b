"""Account objects -> JSON, through the response models of ``account/schemas.py``.

Only ``me`` carries a position (the member's own home). A member shown to anybody else
goes through ``member_public``, which has no position field at all.
"""

from __future__ import annotations

from typing import Any

from peuplade.account import blur
from peuplade.account import schemas as acs
from peuplade.api.schemas import position, quartier
from peuplade.models import ApiToken, Member
from peuplade.photos.urls import avatar_url


def me(member: Member) -> dict[str, Any]:
    """The member's own account, home included: for GET/PATCH /me only."""
    return acs.MeOut(
        id=member.id,
        email=member.email,
        display_name=member.display_name,
        avatar_url=avatar_url(member),
        bio=member.bio,
        radius_m=member.radius_m,
        skills=member.skill_slugs,
        tags=member.tag_names,
        quartier=quartier(member.quartier),
        home=position(member.home),
        created_at=member.created_at,
        email_confirmed=member.email_confirmed_at is not None,
        pending_email=member.pending_email,
        privacy_floor=blur.FLOOR_CHOICES[member.privacy_floor][1],
        shown_at=blur.FLOOR_CHOICES[blur.shown_level(member)][1],
    ).model_dump(mode="json")


def member_public(member: Member, thanks_count: int) -> dict[str, Any]:
    """Another member's public profile: no position of any kind."""
    return acs.MemberOut(
        id=member.id,
        display_name=member.display_name,
        avatar_url=avatar_url(member),
        skills=member.skill_slugs,
        tags=member.tag_names,
        bio=member.bio,
        quartier=quartier(member.quartier),
        thanks_count=thanks_count,
    ).model_dump(mode="json")


def token(value: str, row: ApiToken) -> dict[str, Any]:
    return acs.TokenOut(
        id=row.id, name=row.name, token=value, expires_at=row.expires_at
    ).model_dump(mode="json")


def token_info(row: ApiToken, current_id: int | None) -> acs.TokenInfoOut:
    return acs.TokenInfoOut(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        current=row.id == current_id,
    )
