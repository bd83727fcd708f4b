"""Serving photos: ``/photos/<id>/<token>/<full|thumb>.jpg`` and
``/members/<id>/avatar/<photo id>/<token>/<full|thumb>.jpg``.

To a member (session cookie, or an API bearer token) who may see the photo's post or
member, else 404 - to visitors too. Sent with the stored content type, ``nosniff``,
``inline``, a strong ETag (the bytes' sha256) and a year of private caching: the URL
changes whenever the photo does. A matching ``If-None-Match`` is answered 304.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_login import current_user

from peuplade import ratelimits
from peuplade.access import public
from peuplade.account import tokens
from peuplade.auth import sessions
from peuplade.errors import NotFound
from peuplade.media import queries
from peuplade.models import Member, Photo
from peuplade.photos import storage, urls

bp = Blueprint("media", __name__)

VARIANT = "<any(full, thumb):variant>"
# Private: what a member may see must never sit in a shared cache.
CACHE = "private, max-age=31536000, immutable"


@bp.app_context_processor
def photo_helpers():
    """For templates/macros/photos.html."""
    return {
        "photo_url": urls.photo_url,
        "thumb_url": urls.thumb_url,
        "avatar_url": urls.avatar_url,
        "initials": urls.initials,
        "disc_index": urls.disc_index,
    }


def _viewer() -> Member:
    """The member asking: logged in, or holding a valid API token. Nobody else sees a
    photo (NotFound, as for any post out of reach)."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    token = ratelimits.bearer_token()
    row = tokens.token_for(token) if token else None
    if row is not None and row.member is not None and sessions.access_refusal(row.member) is None:
        return row.member
    raise NotFound(queries.GONE)


def _send(photo: Photo, variant: str) -> Response:
    digest = photo.digest if variant == "full" else photo.thumb_digest
    headers = {
        "ETag": f'"{digest}"',
        "Cache-Control": CACHE,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
        # Shown by the browser as an image; never a document that could run anything.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Vary": "Cookie, Authorization",
    }
    if digest in request.if_none_match:
        return Response(status=304, headers=headers)
    data = storage.read(photo, variant)
    if data is None:  # a file lost on the filesystem backend: as if never there
        raise NotFound(queries.GONE)
    return Response(data, mimetype=photo.content_type, headers=headers)


@bp.get(f"/photos/<int:photo_id>/<token>/{VARIANT}.jpg")
@public
def photo(photo_id: int, token: str, variant: str):
    found = queries.get_photo_or_404(_viewer(), photo_id, token)
    if found.is_avatar:  # served at its member's address only
        raise NotFound(queries.GONE)
    return _send(found, variant)


@bp.get(f"/members/<int:member_id>/avatar/<int:photo_id>/<token>/{VARIANT}.jpg")
@public
def avatar(member_id: int, photo_id: int, token: str, variant: str):
    found = queries.get_avatar_or_404(_viewer(), member_id, photo_id, token)
    return _send(found, variant)
