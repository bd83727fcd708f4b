"""Who may see a photo: exactly who may see its post, or its member for an avatar."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from peuplade.account.queries import get_member_or_404
from peuplade.errors import NotFound
from peuplade.events.queries import get_event_or_404
from peuplade.exchanges.queries import get_exchange_or_404
from peuplade.extensions import db
from peuplade.loans.queries import get_item_or_404
from peuplade.models import Member, Photo, Post
from peuplade.news.queries import get_news_or_404

# Each kind of post, loaded through its own visibility rule (NotFound otherwise).
POST_LOADERS: dict[str, Callable[[Member, int], Post]] = {
    "item": get_item_or_404,
    "exchange": get_exchange_or_404,
    "news": get_news_or_404,
    "event": get_event_or_404,
}

GONE = _l("Cette photo n'existe pas, ou n'est pas visible pour vous.")


def _photo(photo_id: int, token: str | None) -> tuple[Photo, str | None]:
    """The photo and its post's type, in one statement (not its bytes: read once it may
    be seen, and not at all for a 304)."""
    stmt = (
        select(Photo, Post.type)
        .outerjoin(Post, Post.id == Photo.post_id)
        .where(Photo.id == photo_id)
    )
    row = db.session.execute(stmt).first()
    if row is None or (token is not None and not hmac.compare_digest(row[0].token, token)):
        raise NotFound(GONE)
    return row[0], row[1]


def _check(viewer: Member, photo: Photo, post_type: str | None) -> Photo:
    if photo.staged_key is not None:  # kept for a form: its sender's only
        if photo.member_id != viewer.id:
            raise NotFound(GONE)
        return photo
    if photo.post_id is None:
        load: Callable[[Member, int], object] | None = get_member_or_404
        ident = photo.member_id
    else:
        load, ident = POST_LOADERS.get(post_type or ""), photo.post_id
    if load is None:
        raise NotFound(GONE)
    try:
        load(viewer, ident)
    except NotFound:
        raise NotFound(GONE) from None
    return photo


def find_photo_or_404(photo_id: int) -> Photo:
    """A photo by id, whoever asks: for the checks that do not go through its post's
    visibility (its author, the moderation of its quartier)."""
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(GONE)
    return photo


def post_type_of(photo: Photo) -> str:
    return db.session.scalar(select(Post.type).where(Post.id == photo.post_id))


def get_photo_or_404(viewer: Member, photo_id: int, token: str | None = None) -> Photo:
    """A photo of a post, a staged photo or an avatar, if ``viewer`` may see its post,
    or is its sender, or may see its member. ``token`` (from the URL) must match when
    given."""
    photo, post_type = _photo(photo_id, token)
    return _check(viewer, photo, post_type)


def get_avatar_or_404(viewer: Member, member_id: int, photo_id: int, token: str) -> Photo:
    photo, post_type = _photo(photo_id, token)
    if not photo.is_avatar or photo.member_id != member_id:
        raise NotFound(GONE)
    return _check(viewer, photo, post_type)
