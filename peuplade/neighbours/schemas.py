"""Pydantic models of the neighbour search (``GET /neighbours``): who lives near me, by
distance band, never by position."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from peuplade.account.schemas import SkillFilter
from peuplade.api.schemas import (
    AVATAR_URL,
    LIMIT_DEFAULT,
    AbsentNotNull,
    Cursor,
    Limit,
    QuartierOut,
)


class NeighboursQuery(AbsentNotNull):
    """GET /neighbours query string."""

    model_config = ConfigDict(extra="ignore")

    skill: SkillFilter | None = None
    cursor: Cursor | None = None
    limit: Limit = LIMIT_DEFAULT


# --- responses -----------------------------------------------------------------------


class MemberSummaryOut(BaseModel):
    id: int
    display_name: str
    avatar_url: str | None = AVATAR_URL
    skills: list[str]
    tags: list[str]
    quartier: QuartierOut | None


class NeighbourOut(BaseModel):
    member: MemberSummaryOut
    distance_band: str = Field(examples=["~500 m"])


class NeighbourPage(BaseModel):
    items: list[NeighbourOut]
    next_cursor: str | None
