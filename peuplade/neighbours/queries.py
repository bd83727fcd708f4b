"""Neighbours within my radius who share a skill: the first radius query. Who appears
to whom is ``posts.audience.seen_by``."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, or_, select, tuple_

from peuplade import categories, geo, privacy
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.models import Member, MemberSkill, MemberTag
from peuplade.pagination import Page, bad_cursor, decode, encode, fetch_page
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
    having ``skill`` (a category slug or a cleaned free tag), nearest band first.

    Rows are ``(Member, band_rank)``; the band is measured between public positions, so
    the order reveals nothing finer than the bands.
    """
    public = geo.from_element(viewer.public_position)
    rank = privacy.band_rank(
        geo.distance_m(Member.public_position, geo.point(public.lat, public.lon))
    ).label("band_rank")
    stmt = select(Member, rank).where(audience.seen_by(viewer))
    if skill:
        stmt = stmt.where(
            or_(
                exists().where(MemberSkill.member_id == Member.id, MemberSkill.skill == skill),
                exists().where(MemberTag.member_id == Member.id, MemberTag.tag == skill),
            )
        )
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


def neighbour_page(
    viewer: Member, skill: str | None, cursor: str | None, limit: int = PAGE_SIZE
) -> Page[tuple[Member, str]]:
    """One page of ``(member, distance band label)``; raises ValidationFailed for a bad
    skill or cursor."""
    after = NeighbourCursor.decode(cursor)
    page = fetch_page(
        db.session.execute,
        neighbours(viewer, clean_skill(skill), after),
        limit,
        lambda row: NeighbourCursor(int(row.band_rank), row[0].sort_name, row[0].id).encode(),
    )
    return Page(
        [(row[0], privacy.band_label_for_rank(int(row.band_rank))) for row in page.items],
        page.next_cursor,
    )
