"""Reads for the map: the newest open posts of my neighbourhood, as on the timeline."""

from __future__ import annotations

from collections.abc import Iterable

from peuplade.extensions import db
from peuplade.models import Member, Post
from peuplade.timeline import queries as timelines

# Enough for a neighbourhood; beyond that the page says only the newest are shown.
LIMIT = 300


def near_me(viewer: Member, types: Iterable[str] | None = None, limit: int = LIMIT) -> list[Post]:
    """The ``limit`` newest open posts that reach me, of the given types (all by default).
    Posts only carry public positions (a grid cell centre or a public place)."""
    return list(timelines.timeline(viewer, types, limit=limit).run(db.session.scalars))
