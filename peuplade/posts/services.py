"""Where a post is shown, how far it reaches, when it leaves the lists, one post per form
sent, and whether it may be shared outside Peuplade."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from peuplade import geo, privacy
from peuplade.errors import Conflict, ValidationFailed
from peuplade.extensions import db
from peuplade.localtime import end_of_day, today
from peuplade.location import LocationInput, resolve
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M, Member, Place, Post, utcnow
from peuplade.submissions import KEY_USED_ELSEWHERE, write_once
from peuplade.validation import checked_text

DEFAULT_LIFETIME = timedelta(days=60)
MAX_DAYS_AHEAD = 366


PLACE_NAME_MAX = 160  # posts.place_name
# A point or an address given for a post is shown as it is: it must not be the author's
# home. Nearer than the finest distance band ("< 250 m") it is refused.
HOME_KEEP_AWAY_M = privacy.BANDS[0][0]


def places_near(member: Member, limit: int = 60) -> list[Place]:
    """Public places within the member's radius of their home, nearest their public
    position first (the order of a list seen over a shoulder must not point at the
    home: as the search, /places/search)."""
    home = geo.from_element(member.home)
    shown = geo.from_element(member.public_position)
    stmt = (
        select(Place)
        .where(geo.within_radius(Place.position, home, member.radius_m))
        .order_by(geo.distance_m(Place.position, geo.point(shown.lat, shown.lon)), Place.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _too_far() -> ValidationFailed:
    msg = _l(
        "Ce lieu est à plus de %(km)s km de chez vous : choisissez un lieu du quartier.",
        km=RADIUS_MAX_M // 1000,
    )
    return ValidationFailed(msg, {"location": msg})


def _too_close() -> ValidationFailed:
    msg = _l(
        "Ce point est tout près de chez vous : tout le monde verrait où vous habitez. "
        "Choisissez un lieu public un peu plus loin : un square, un café, un coin de rue."
    )
    return ValidationFailed(msg, {"location": msg})


def resolve_position(
    author: Member, location: LocationInput | None
) -> tuple[geo.LatLon, str | None, bool]:
    """The public position, place name and ``at_author`` (shown at the author's public
    position, and moving with it: ``Post.at_author``) of a new or moved post.

    - No place, point or address: the author's public position (with the ``name`` the
      author wrote, if any: « devant la boulangerie »).
    - A named public place: its position, within ``RADIUS_MAX_M`` of the author's home.
    - A point or an address: the same, and never the home itself: nearer than
      ``HOME_KEEP_AWAY_M`` to the author's home it is refused.

    The ``name`` the author wrote wins over the place's or the address's own name."""
    name = None
    if location is not None and location.name not in (None, ""):
        name = checked_text(location.name, "venue", PLACE_NAME_MAX) or None
    if location is None or location.is_empty:
        return geo.from_element(author.public_position), name, True
    position, found = resolve(location)
    home = geo.from_element(author.home)
    distance = geo.geodesic_distance_m(home, position)
    if distance > RADIUS_MAX_M:
        raise _too_far()
    if location.place_id in (None, "") and distance < HOME_KEEP_AWAY_M:
        raise _too_close()
    return position, name or found, False


def clean_reach(author: Member, reach: object) -> int:
    """How far the post reaches: the author's radius by default, 200 m to 5 km."""
    if reach in (None, ""):
        return author.radius_m
    try:
        value = int(reach)  # type: ignore[call-overload]
        if isinstance(reach, bool) or (isinstance(reach, float) and reach != value):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        value = -1
    if not RADIUS_MIN_M <= value <= RADIUS_MAX_M:
        msg = _l(
            "La portée doit être un nombre de mètres entre %(min)s et %(max)s.",
            min=RADIUS_MIN_M,
            max=RADIUS_MAX_M,
        )
        raise ValidationFailed(msg, {"reach_m": msg})
    return value


def expiry(last_day: date | None, created: datetime | None = None) -> datetime:
    """When a post leaves the lists: after its last day, else 60 days after creation."""
    if last_day is not None:
        return end_of_day(last_day)
    return (created or utcnow()) + DEFAULT_LIFETIME


def clean_period(starts_on: date | None, ends_on: date | None) -> tuple[date | None, date | None]:
    """An optional date or period, today or later, within a year, in order."""
    errors: dict[str, object] = {}
    first = today()
    for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if day is None:
            continue
        if day < first:
            errors[name] = _l("Cette date est passée.")
        elif day > first + timedelta(days=MAX_DAYS_AHEAD):
            errors[name] = _l("Choisissez une date dans l'année qui vient.")
    if not errors and starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _l("La fin doit venir après le début.")
    if errors:
        raise ValidationFailed(_l("Vérifiez les dates."), errors)
    if ends_on and not starts_on:
        starts_on = None  # "jusqu'au" alone is fine: the post simply ends that day
    return starts_on, ends_on


# --- one post per form sent ----------------------------------------------------------


def published_with(author: Member, key: str | None, kind: type[Post] = Post) -> Post | None:
    """The post ``author`` already published with the form token ``key``, if any; a
    Conflict when that token already published a post of another kind (an API caller
    reusing an Idempotency-Key for another creation)."""
    if key is None:
        return None
    with db.session.no_autoflush:
        found = db.session.scalar(
            select(Post).where(Post.author_id == author.id, Post.submission_key == key)
        )
    if found is not None and not isinstance(found, kind):
        raise Conflict(KEY_USED_ELSEWHERE)
    return found


def add_once(post: Post) -> tuple[Post, bool]:
    """Add and flush ``post``, or, when its author's form was already sent (same
    ``submission_key``, a double click), the post that form published and False
    (``submissions.write_once`` decides between two copies sent at the same instant)."""

    def add() -> Post:
        db.session.add(post)
        db.session.flush()
        return post

    return write_once(lambda: published_with(post.author, post.submission_key, type(post)), add)


# --- shared outside Peuplade ----------------------------------------------------------------
# 22 characters of URL-safe base64 (128 bits): a link nobody can guess or walk.
SHARE_TOKEN_BYTES = 16


def set_sharing(post: Post, shareable: bool, photo: bool = False) -> Post:
    """The author's choice "partageable hors de Peuplade": a shareable post has a link for
    people outside (``share_token``, kept while it stays shareable), and its teaser may
    show the first photo (``photo``). Made not shareable, the token is forgotten: every
    link given before ends, and sharing it again makes a new one."""
    if not shareable:
        post.share_token, post.share_photo = None, False
        return post
    if post.share_token is None:
        post.share_token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
    post.share_photo = bool(photo)
    return post
