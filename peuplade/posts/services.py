"""Where a post is shown, how far it reaches, when it leaves the lists."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from peuplade import geo, geocoding
from peuplade.account.services import AmbiguousLocation
from peuplade.errors import Conflict, ValidationFailed
from peuplade.extensions import db
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M, Member, Place, Post, utcnow
from peuplade.validation import parse_id

DEFAULT_LIFETIME = timedelta(days=60)
KEY_USED_ELSEWHERE = _l(
    "Cette clé a déjà servi à publier autre chose : envoyez une nouvelle clé (ou rechargez "
    "la page)."
)
_SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
MAX_DAYS_AHEAD = 366


@dataclass(frozen=True)
class PostLocation:
    """Where the author wants the post shown. All empty: the author's public position.

    ``place_id`` is one of the named public places; ``lat``/``lon`` or ``address``
    (API) is a public point the author gives explicitly.
    """

    place_id: int | None = None
    lat: object = None
    lon: object = None
    address: str | None = None
    choice: int | None = None

    @property
    def is_default(self) -> bool:
        given = (self.place_id, self.lat, self.lon, (self.address or "").strip())
        return all(v in (None, "") for v in given)


def _field_error(message) -> ValidationFailed:
    return ValidationFailed(message, {"location": message})


def places_near(member: Member, limit: int = 60) -> list[Place]:
    """Public places within the member's radius, nearest first (for the author's own form)."""
    home = geo.from_element(member.home)
    stmt = (
        select(Place)
        .where(geo.within_radius(Place.position, home, member.radius_m))
        .order_by(geo.distance_m(Place.position, geo.point(home.lat, home.lon)), Place.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def resolve_position(
    author: Member, location: PostLocation | None
) -> tuple[geo.LatLon, str | None]:
    """The public position (and place name) of a new or moved post."""
    if location is None or location.is_default:
        return geo.from_element(author.public_position), None
    if location.place_id not in (None, ""):
        ident = parse_id(location.place_id)
        place = db.session.get(Place, ident) if ident is not None else None
        if place is None:
            raise _field_error(_l("Ce lieu n'existe pas."))
        position, name = geo.from_element(place.position), place.name
    elif location.lat not in (None, "") or location.lon not in (None, ""):
        try:
            position, name = geo.lat_lon(location.lat, location.lon), None
        except ValueError:
            raise _field_error(
                _l("Position invalide : latitude entre -90 et 90, longitude entre -180 et 180.")
            ) from None
    else:
        try:
            found = geocoding.resolve(location.address or "", location.choice)
        except geocoding.AddressAmbiguous as exc:
            raise AmbiguousLocation(exc.message, exc.candidates) from None
        except geocoding.GeocodingError as exc:
            raise _field_error(exc.message) from None
        position, name = found.position, found.label
    home = geo.from_element(author.home)
    if geo.geodesic_distance_m(home, position) > RADIUS_MAX_M:
        raise _field_error(
            _l(
                "Ce lieu est à plus de %(km)s km de chez vous : choisissez un lieu du quartier.",
                km=RADIUS_MAX_M // 1000,
            )
        )
    return position, name


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


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    return utcnow().astimezone(local_zone()).date()


def end_of_day(day: date) -> datetime:
    """The UTC instant a local day ends."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=local_zone())


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


def new_submission_key() -> str:
    """A random token for a publishing form (hidden field): sent twice, it publishes once."""
    return secrets.token_urlsafe(16)


def clean_submission_key(value: object) -> str | None:
    """The form's token, or None when missing or not one of ours (then no de-duplication)."""
    return value if isinstance(value, str) and _SUBMISSION_KEY.match(value) else None


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
    ``submission_key``, a double click), the post that form published and False.

    The unique index (author_id, submission_key) decides between two copies sent at
    the same instant; the savepoint keeps the request's transaction usable for the loser.
    """
    earlier = published_with(post.author, post.submission_key, type(post))
    if earlier is not None:
        return earlier, False
    if db.session.get_bind().dialect.name != "postgresql":
        # pysqlite would commit a savepoint taken outside its deferred BEGIN; SQLite runs
        # one writer at a time anyway, and a twin there ends as a Conflict at the index.
        db.session.add(post)
        db.session.flush()
        return post, True
    try:
        with db.session.begin_nested():
            db.session.add(post)
    except IntegrityError:
        # The twin committed first (PostgreSQL waited for it at the index): read it.
        earlier = published_with(post.author, post.submission_key, type(post))
        if earlier is None:
            raise
        return earlier, False
    return post, True
