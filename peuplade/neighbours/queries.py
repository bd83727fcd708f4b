"""Neighbours within my radius who share a skill: the first radius query."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select, tuple_

from peuplade import geo, privacy
from peuplade.errors import ValidationFailed
from peuplade.models import Member, MemberSkill, MemberTag

PAGE_SIZE = 20


@dataclass(frozen=True)
class NeighbourCursor:
    band: int
    name: str
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.band, self.name, self.id], ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> NeighbourCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            band, name, ident = json.loads(raw)
            # Bounded like the columns they stand for: a forged cursor must not reach SQL
            # with values the database refuses (NUL bytes, integers past 32 bits).
            if not (
                isinstance(band, int)
                and 0 <= band <= len(privacy.BANDS)
                and isinstance(name, str)
                and len(name) <= 200
                and "\x00" not in name
                and isinstance(ident, int)
                and 0 < ident < 2**31
            ):
                raise ValueError
            return cls(band, name, ident)
        except (ValueError, TypeError, UnicodeDecodeError):
            msg = _l("Ce lien de page n'est plus valide : revenez à la première page.")
            raise ValidationFailed(msg, {"cursor": msg}) from None


def neighbours(
    viewer: Member, skill: str | None = None, after: NeighbourCursor | None = None
) -> Select:
    """Members whose public position lies within the viewer's radius of the viewer's home,
    optionally having ``skill`` (a category slug or a free tag), nearest band first.

    Rows are ``(Member, band_rank, name_key)``; the band is measured between public
    positions, so the order reveals nothing finer than the bands.
    """
    home = geo.from_element(viewer.home)
    public = geo.from_element(viewer.public_position)
    rank = privacy.band_rank(
        geo.distance_m(Member.public_position, geo.point(public.lat, public.lon))
    ).label("band_rank")
    name_key = func.lower(Member.display_name)
    stmt = select(Member, rank, name_key.label("name_key")).where(
        geo.within_radius(Member.public_position, home, viewer.radius_m),
        Member.id != viewer.id,
    )
    if skill:
        key = skill.strip().casefold()
        if len(key) > 60 or any(ord(c) < 32 for c in key):
            msg = _l("Savoir-faire invalide.")
            raise ValidationFailed(msg, {"skill": msg})
        stmt = stmt.where(
            or_(
                exists().where(MemberSkill.member_id == Member.id, MemberSkill.skill == key),
                exists().where(MemberTag.member_id == Member.id, MemberTag.tag == key),
            )
        )
    if after is not None:
        stmt = stmt.where(
            or_(
                rank > after.band,
                and_(
                    rank == after.band, tuple_(name_key, Member.id) > tuple_(after.name, after.id)
                ),
            )
        )
    return stmt.order_by(rank, name_key, Member.id)


def cursor_for(row) -> NeighbourCursor:
    """The cursor after ``row`` (built from SQL values: lower() differs between backends)."""
    return NeighbourCursor(int(row.band_rank), row.name_key, row[0].id)
