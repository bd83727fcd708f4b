"""Adding and removing photos (writes: flush, never commit).

Every photo is cleaned by ``processing.process`` before anything is stored: what the
member sent is never kept, only pixels re-encoded without any metadata. A refused file
is a ``ValidationFailed`` on the field ``photo`` (a form error, or a JSON 422).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from peuplade import database
from peuplade.errors import Forbidden, ValidationFailed
from peuplade.extensions import db
from peuplade.models import ALT_MAX, Member, Photo, Post, utcnow
from peuplade.photos import processing, storage
from peuplade.validation import checked_text

# How many photos each kind of post may carry (issue 22): an object is shown from every
# side, a request or a lost cat twice, an outing once.
MAX_PHOTOS = {"item": 4, "exchange": 2, "news": 2, "event": 1}
FIELD = "photo"


def max_photos(post: Post) -> int:
    return MAX_PHOTOS.get(post.type, 0)


def _refused(message: Any, field: str = FIELD) -> ValidationFailed:
    return ValidationFailed(message, {field: message})


def default_alt(post: Post | None) -> str:
    """What a photo of ``post`` is described as until its author says better."""
    title = getattr(post, "title", "") or ""
    return title[:ALT_MAX]


def _new_photo(member: Member, cleaned: processing.Processed, alt: str) -> Photo:
    full, thumb = cleaned.full, cleaned.thumb
    photo = Photo(
        member_id=member.id,
        alt=alt,
        token=secrets.token_urlsafe(12),
        content_type=full.content_type,
        width=full.width,
        height=full.height,
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        byte_size=len(full.data),
        thumb_byte_size=len(thumb.data),
        digest=hashlib.sha256(full.data).hexdigest(),
        thumb_digest=hashlib.sha256(thumb.data).hexdigest(),
    )
    storage.store(photo, full.data, thumb.data)
    return photo


def add_photo(
    post: Post,
    data: bytes | processing.Processed,
    alt: str | None,
    by: Member,
    *,
    field: str = FIELD,
) -> Photo:
    """Add a photo to one's own post. ``data`` is the file sent (or its variants already
    cleaned); ``alt`` its description, the post's title when left empty."""
    if post.author_id != by.id:
        raise Forbidden(_l("Seul l'auteur de l'annonce peut y ajouter des photos."))
    limit = max_photos(post)
    if limit == 0:
        raise _refused(_l("Ce type d'annonce ne prend pas de photo."), field)
    if len(post.photos) >= limit:
        raise _refused(_full(limit), field)
    alt_text = checked_text(alt, "alt", ALT_MAX) or default_alt(post)
    cleaned = data if isinstance(data, processing.Processed) else clean(data, field)
    # Uploads to one post wait for each other here, so two sent at once cannot both
    # pass the count (a row lock on PostgreSQL, the write lock on SQLite).
    database.lock_row(Post, post.id)
    db.session.refresh(post, ["photos"])
    if len(post.photos) >= limit:
        raise _refused(_full(limit), field)
    photo = _new_photo(by, cleaned, alt_text)
    photo.position = max((p.position for p in post.photos), default=-1) + 1
    post.photos.append(photo)
    post.updated_at = utcnow()
    db.session.flush()
    return photo


def clean(data: bytes, field: str = FIELD) -> processing.Processed:
    """The cleaned variants of an upload, or ValidationFailed on ``field``."""
    try:
        return processing.process(data)
    except processing.PhotoRefused as refused:
        raise _refused(refused.message, field) from None


def _full(limit: int):
    return _l(
        "Cette annonce a déjà %(n)s photo(s) : retirez-en une pour en ajouter une autre.",
        n=limit,
    )


def describe(photo: Photo, alt: str | None, by: Member) -> Photo:
    """Change a photo's description (its author only)."""
    if photo.member_id != by.id:
        raise Forbidden(_l("Seul l'auteur de la photo peut la décrire."))
    photo.alt = checked_text(alt, "alt", ALT_MAX) or photo.alt
    db.session.flush()
    return photo


def remove_photo(photo: Photo, by: Member | None) -> None:
    """Remove one photo: by its author, or by the moderation (``by=None``: the caller,
    ``moderation.services``, has checked the moderator's scope and records the act)."""
    if by is not None and photo.member_id != by.id:
        raise Forbidden(_l("Seul l'auteur de la photo peut la retirer."))
    if photo.is_avatar:
        member = db.session.get(Member, photo.member_id)
        if member is not None and member.avatar_key == key(photo):
            member.avatar_key = None
    db.session.delete(photo)
    db.session.flush()


# --- photos kept for a form sent again --------------------------------------------------

# Staged photos older than this are purged (``purge_staged``).
STAGED_FOR = timedelta(days=1)


# A member's photos kept for forms at one time (within STAGED_FOR): enough for any form
# refused twice, not a store of their own.
STAGED_MAX = 2 * max(MAX_PHOTOS.values())


def stage_photo(
    member: Member, cleaned: processing.Processed, alt: str | None, key: str
) -> Photo | None:
    """Keep a photo sent with a form refused for another reason, for that form only
    (``key``: its submission key), so that sending it again needs no new choice. None
    when the member already has STAGED_MAX photos kept (the photo must be chosen again)."""
    kept = db.session.scalar(
        select(func.count())
        .select_from(Photo)
        .where(
            Photo.member_id == member.id,
            Photo.staged_key.is_not(None),
            Photo.created_at >= utcnow() - STAGED_FOR,
        )
    )
    if kept >= STAGED_MAX:
        return None
    alt_text = checked_text(alt, "alt", ALT_MAX)
    photo = _new_photo(member, cleaned, alt_text)
    photo.staged_key = key
    db.session.add(photo)
    db.session.flush()
    return photo


def staged(member: Member, key: str | None) -> list[Photo]:
    """The photos ``member`` sent with the form ``key``, in the order sent."""
    if not key:
        return []
    return list(
        db.session.scalars(
            select(Photo)
            .where(Photo.member_id == member.id, Photo.staged_key == key)
            .order_by(Photo.id)
        )
    )


def attach_staged(post: Post, photos: list[Photo], by: Member) -> None:
    """Give ``post`` the staged photos kept (beyond the limit, the last are dropped)."""
    room = max_photos(post) - len(post.photos)
    start = max((p.position for p in post.photos), default=-1) + 1
    for n, photo in enumerate(photos):
        if photo.member_id != by.id or photo.staged_key is None:
            continue
        if n >= room:
            db.session.delete(photo)
            continue
        photo.staged_key = None
        photo.alt = photo.alt or default_alt(post)
        photo.position = start + n
        post.photos.append(photo)
    db.session.flush()


def purge_staged(now: datetime | None = None) -> int:
    """Delete staged photos older than a day (forms abandoned): how many."""
    limit = (now or utcnow()) - STAGED_FOR
    old = list(
        db.session.scalars(
            select(Photo).where(Photo.staged_key.is_not(None), Photo.created_at < limit)
        )
    )
    for photo in old:
        db.session.delete(photo)
    db.session.flush()
    return len(old)


# --- avatars -----------------------------------------------------------------------------


def key(photo: Photo) -> str:
    """What ``Member.avatar_key`` holds for an avatar photo."""
    return f"{photo.id}/{photo.token}"


def avatar_of(member: Member) -> Photo | None:
    return db.session.scalar(
        select(Photo).where(
            Photo.member_id == member.id, Photo.post_id.is_(None), Photo.staged_key.is_(None)
        )
    )


def set_avatar(member: Member, data: bytes, alt: str | None = None) -> Photo:
    """Make the photo sent the member's face (replacing the previous one)."""
    cleaned = clean(data, FIELD)
    previous = avatar_of(member)
    if previous is not None:
        db.session.delete(previous)
        db.session.flush()
    alt_text = (
        checked_text(alt, "alt", ALT_MAX)
        or str(_l("Photo de %(name)s", name=member.display_name))[:ALT_MAX]
    )
    photo = _new_photo(member, cleaned, alt_text)
    db.session.add(photo)
    db.session.flush()
    member.avatar_key = key(photo)
    db.session.flush()
    return photo


def remove_avatar(member: Member) -> None:
    """Back to the initials on a coloured disc."""
    previous = avatar_of(member)
    member.avatar_key = None
    if previous is not None:
        db.session.delete(previous)
    db.session.flush()


# --- files of the filesystem backend ------------------------------------------------------


def _tokens_going(session: Session) -> list[str]:
    """The tokens of the photos this flush deletes: themselves, or with their post or
    member (which the database's ON DELETE CASCADE takes)."""
    tokens = [o.token for o in session.deleted if isinstance(o, Photo)]
    post_ids = [o.id for o in session.deleted if isinstance(o, Post) and o.id is not None]
    member_ids = [o.id for o in session.deleted if isinstance(o, Member) and o.id is not None]
    with session.no_autoflush:
        if post_ids:
            tokens += session.scalars(select(Photo.token).where(Photo.post_id.in_(post_ids)))
        if member_ids:
            tokens += session.scalars(select(Photo.token).where(Photo.member_id.in_(member_ids)))
    return tokens


@event.listens_for(Session, "before_flush")
def _note_files_to_remove(session: Session, _context, _instances) -> None:
    if not session.deleted or storage.directory() is None:
        return
    tokens = _tokens_going(session)
    if tokens:
        session.info.setdefault("peuplade_photo_files", set()).update(tokens)


@event.listens_for(Session, "after_commit")
def _remove_files(session: Session) -> None:
    tokens = session.info.pop("peuplade_photo_files", None)
    if tokens:
        storage.discard(tokens)


@event.listens_for(Session, "after_rollback")
def _keep_files(session: Session) -> None:
    session.info.pop("peuplade_photo_files", None)
