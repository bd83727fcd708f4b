"""Neighbours within my radius who share a skill: the first radius query. Who appears
to whom is ``posts.audience.seen_by``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    or_,
    select,
    true,
    tuple_,
    union,
)
from sqlalchemy.orm import aliased

from peuplade import categories, geo, privacy
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.models import Member, MemberSkill, MemberTag
from peuplade.pagination import (
    Page,
    Prepared,
    bad_cursor,
    decode,
    encode,
    fetch_page,
    page_of,
)
from peuplade.posts import audience
from peuplade.validation import clean_tags

PAGE_SIZE = 20


@dataclass(frozen=True)
class NeighbourCursor:
    """Where a page of neighbours ends: (band, sort name, id), signed."""

    band: int
    name: str
    id: int

    KIND = "neighbours"

    def encode(self) -> str:
        return encode(self.KIND, [self.band, self.name, self.id])

    @classmethod
    def decode(cls, text: str | None) -> NeighbourCursor | None:
        values = decode(cls.KIND, text)
        if values is None:
            return None
        try:
            band, name, ident = values
            # Exact types: True is an int to isinstance(); bounds as the columns have.
            if not (
                type(band) is int
                and 0 <= band <= len(privacy.BANDS)
                and type(name) is str
                and len(name) <= 60
                and type(ident) is int
                and 0 < ident < 2**31
            ):
                raise ValueError
            name.encode("utf-8")  # lone surrogates cannot reach the database
        except (TypeError, ValueError, UnicodeEncodeError):
            raise bad_cursor() from None
        return cls(band, name, ident)


def clean_skill(text: str | None) -> str | None:
    """A category slug, or a free tag cleaned as stored tags are; None for no filter."""
    text = (text or "").strip()
    if not text:
        return None
    if text in categories.SLUGS:
        return text
    try:
        cleaned = clean_tags([text])
    except ValidationFailed:
        msg = _l("Savoir-faire invalide : 40 caractères au plus, lettres, chiffres et tirets.")
        raise ValidationFailed(msg, {"skill": msg}) from None
    return cleaned[0] if cleaned else None


def neighbours(
    viewer: Member, skill: str | None = None, after: NeighbourCursor | None = None
) -> Select:
    """The members the viewer sees (``audience.seen_by``: public position within the
    viewer's radius of the viewer's home, not banned, no block either way), optionally
    having ``skill`` (a category slug or a cleaned free tag; found cell by cell,
    ``audience.skilled_near``), nearest band first.

    Rows are ``(Member, band_rank)``; the band is measured between public positions, so
    the order reveals nothing finer than the bands.
    """
    public = geo.from_element(viewer.public_position)
    rank = privacy.band_rank(
        geo.distance_m(Member.public_position, geo.point(public.lat, public.lon))
    ).label("band_rank")
    if skill:
        # The skill's rows in the cells around the viewer's circle (the skill and tag
        # indexes), then the rule on those candidates only: not every member of the
        # circle (docs/SCALING.md).
        home = geo.from_element(viewer.home)
        stmt = select(Member, rank).where(
            audience.skilled_near(home, viewer.radius_m, skill, with_tags=True),
            audience.seen_by(viewer, spatial_index=False),
        )
    else:
        stmt = select(Member, rank).where(audience.seen_by(viewer))
    if after is not None:
        stmt = stmt.where(
            or_(
                rank > after.band,
                and_(
                    rank == after.band,
                    tuple_(Member.sort_name, Member.id) > tuple_(after.name, after.id),
                ),
            )
        )
    return stmt.order_by(rank, Member.sort_name, Member.id)


def band_reach_m(viewer: Member, band: int) -> float | None:
    """How far from the viewer's PUBLIC position a neighbour in distance band ``band``
    can be shown; None when no neighbour can be that far. A neighbour is shown within
    the viewer's radius of the viewer's home, which lies within
    ``audience.PUBLIC_SLACK_M`` of the viewer's own public position."""
    farthest = viewer.radius_m + audience.PUBLIC_SLACK_M
    lower = privacy.BANDS[band - 1][0] if band > 0 else 0
    if lower > farthest:
        return None
    upper = privacy.BANDS[band][0] if band < len(privacy.BANDS) else farthest
    return min(upper, farthest)


def neighbours_in_band(
    viewer: Member,
    skill: str,
    band: int,
    after: NeighbourCursor | None = None,
    limit: int = PAGE_SIZE + 1,
) -> Prepared:
    """The first ``limit`` rows of :func:`neighbours` with ``skill`` that lie in distance
    band ``band`` (after ``after`` when it is in that band), by name.

    Read cell by cell from the skill and tag rows, which carry their member's public
    position and sort name (models/member.py): in each cell around the viewer's public
    position as far as the band reaches (``band_reach_m``), the skill's rows by name,
    their distances checked on the index entries (a box first, then the band and the
    viewer's circle), until ``limit`` of them pass; then the first ``limit`` names of
    all the cells. A page reads about a page's worth per cell, not every member of the
    skill around, however dense the street. The statement is built once per shape, its
    values bound at each run (``pagination.Prepared``, as the posts' walks)."""
    public = geo.from_element(viewer.public_position)
    home = geo.from_element(viewer.home)
    reach = band_reach_m(viewer, band)
    cells = geo.feed_cells_around(public, reach)
    dialect = db.engine.dialect.name
    has_lower, has_upper = band > 0, band < len(privacy.BANDS)
    after_here = after is not None and after.band == band  # the cursor is in this band
    stmt = _band_walk(dialect, cells.level, has_lower, has_upper, after_here)
    west, south, east, north = geo.bounding_box(public, reach)
    values = {
        "skill": skill,
        "band": band,
        "cells": geo.cell_keys_value([*cells.central, *cells.edge], dialect),
        "west": west,
        "south": south,
        "east": east,
        "north": north,
        "public_lat": public.lat,
        "public_lon": public.lon,
        "home_lat": home.lat,
        "home_lon": home.lon,
        "radius": float(viewer.radius_m),
        "viewer_id": viewer.id,
        "band_limit": limit,
    }
    # The band's bounds, as privacy.band_rank draws them.
    if has_lower:
        values["band_from"] = float(privacy.BANDS[band - 1][0])
    if has_upper:
        values["band_to"] = float(privacy.BANDS[band][0])
    if after_here:
        values["after_name"], values["after_id"] = after.name, after.id
    return Prepared(stmt, values)


@lru_cache(maxsize=64)
def _band_walk(
    dialect: str, level: str, has_lower: bool, has_upper: bool, has_after: bool
) -> Select:
    """The statement of one shape of ``neighbours_in_band``, every value a parameter."""
    keys = geo.cell_keys(dialect, "cells")
    key_rows, key = geo.cell_key_rows(keys, dialect)
    skill = bindparam("skill", type_=String)
    viewer = bindparam("viewer_id", type_=Integer)
    public = geo.point(bindparam("public_lat", type_=Float), bindparam("public_lon", type_=Float))
    home = geo.point(bindparam("home_lat", type_=Float), bindparam("home_lon", type_=Float))
    # Written into the text on SQLite, as the walks' (posts.queries.page_limit).
    top = bindparam("band_limit", type_=Integer, literal_execute=dialect == "sqlite")

    def in_cell(table, column) -> Select:
        cell = table.cell_fine if level == "fine" else table.cell_coarse
        position = geo.point(table.public_lat, table.public_lon)
        distance = geo.distance_m(position, public)
        conditions = [
            cell == key,
            column == skill,
            table.public_lat.between(
                bindparam("south", type_=Float), bindparam("north", type_=Float)
            ),
            table.public_lon.between(
                bindparam("west", type_=Float), bindparam("east", type_=Float)
            ),
        ]
        if has_lower:
            conditions.append(distance >= bindparam("band_from", type_=Float))
        if has_upper:
            conditions.append(distance < bindparam("band_to", type_=Float))
        conditions += [
            # audience.seen_by on the row's copy of the public position.
            geo.distance_m(position, home) <= bindparam("radius", type_=Float),
            Member.id != viewer,
            Member.status != "banned",
            audience.no_block(viewer, Member.id),
        ]
        if has_after:
            after = (bindparam("after_name", type_=String), bindparam("after_id", type_=Integer))
            conditions.append(tuple_(table.sort_name, table.member_id) > tuple_(*after))
        return (
            select(table.member_id.label("member_id"))
            .join(Member, Member.id == table.member_id)
            .where(*conditions)
            .order_by(table.sort_name, table.member_id)
            .limit(top)
        )

    found = []
    for table, column in ((MemberSkill, MemberSkill.skill), (MemberTag, MemberTag.tag)):
        if dialect == "postgresql":
            # One sub-query planned once, run for each cell (LATERAL over the keys).
            rows = in_cell(table, column).lateral()
            found.append(select(rows.c.member_id).select_from(key_rows).join(rows, true()))
        else:
            # SQLite has no LATERAL: a correlated IN (... LIMIT) per key does the same.
            member = aliased(Member)
            ids = in_cell(table, column).correlate(key_rows)
            found.append(select(member.id).select_from(key_rows).join(member, member.id.in_(ids)))
    return (
        select(Member, bindparam("band", type_=Integer).label("band_rank"))
        .where(Member.id.in_(union(*found)))
        .order_by(Member.sort_name, Member.id)
        .limit(top)
    )


def _cursor_after(row) -> str:
    return NeighbourCursor(int(row.band_rank), row[0].sort_name, row[0].id).encode()


def neighbour_page(
    viewer: Member, skill: str | None, cursor: str | None, limit: int = PAGE_SIZE
) -> Page[tuple[Member, str]]:
    """One page of ``(member, distance band label)``; raises ValidationFailed for a bad
    skill or cursor. With a skill, band after band (``neighbours_in_band``) until the
    page is full: the same rows, in the same order, as :func:`neighbours`."""
    after = NeighbourCursor.decode(cursor)
    skill = clean_skill(skill)
    if skill is None:
        page = fetch_page(db.session.execute, neighbours(viewer, None, after), limit, _cursor_after)
    else:
        rows: list = []
        for band in range(after.band if after is not None else 0, len(privacy.BANDS) + 1):
            if band_reach_m(viewer, band) is None:
                break
            walk = neighbours_in_band(viewer, skill, band, after, limit + 1 - len(rows))
            rows += walk.run(db.session.execute).all()
            if len(rows) > limit:
                break
        page = page_of(rows, limit, _cursor_after)
    return Page(
        [(row[0], privacy.band_label_for_rank(int(row.band_rank))) for row in page.items],
        page.next_cursor,
    )
