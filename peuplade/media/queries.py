"""Who may see a photo: exactly who may see its post, or its member for an avatar."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

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


def _photo(photo_id: int, token: str | None) -> Photo:
    photo = db.session.get(Photo, photo_id)
    if photo is None or (token is not None and photo.token != token):
        raise NotFound(GONE)
    return photo


def post_of(viewer: Member, photo: Photo) -> Post:
    """The photo's post, if ``viewer`` may see it (else NotFound, as for the post)."""
    post = db.session.get(Post, photo.post_id)
    load = POST_LOADERS.get(post.type) if post is not None else None
    if load is None:
        raise NotFound(GONE)
    try:
        return load(viewer, post.id)
    except NotFound:
        raise NotFound(GONE) from None


def get_photo_or_404(viewer: Member, photo_id: int, token: str | None = None) -> Photo:
    """A photo of a post or an avatar, if ``viewer`` may see its post or its member.
    ``token`` (from the URL) must match when given."""
    photo = _photo(photo_id, token)
    if photo.staged_key is not None:  # kept for a form: its sender's only
        if photo.member_id != viewer.id:
            raise NotFound(GONE)
    elif photo.post_id is None:
        try:
            get_member_or_404(viewer, photo.member_id)
        except NotFound:
            raise NotFound(GONE) from None
    else:
        post_of(viewer, photo)
    return photo


def get_avatar_or_404(viewer: Member, member_id: int, photo_id: int, token: str) -> Photo:
    photo = _photo(photo_id, token)
    if not photo.is_avatar or photo.member_id != member_id:
        raise NotFound(GONE)
    return get_photo_or_404(viewer, photo_id, token)
