"""The URLs of photos and their JSON shape (API.md), without a query.

A photo's URL holds its random token: a new photo is a new URL, so browsers may keep
one for a year (``immutable``), and ids cannot be walked. Who may open it is decided
when it is served (``peuplade.media``), exactly as for its post or member.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from peuplade.api import schemas
from peuplade.models import Member, Photo


def photo_url(photo: Photo, variant: str = "full") -> str:
    if photo.is_avatar:
        return url_for(
            "media.avatar",
            member_id=photo.member_id,
            photo_id=photo.id,
            token=photo.token,
            variant=variant,
        )
    return url_for("media.photo", photo_id=photo.id, token=photo.token, variant=variant)


def thumb_url(photo: Photo) -> str:
    return photo_url(photo, "thumb")


def photo_json(photo: Photo) -> dict[str, Any]:
    """``{id, url, thumbnail_url, alt, width, height}`` (API.md, "Photos")."""
    return {
        "id": photo.id,
        "url": photo_url(photo),
        "thumbnail_url": thumb_url(photo),
        "alt": photo.alt,
        "width": photo.width,
        "height": photo.height,
    }


def photos_json(photos: list[Photo]) -> list[dict[str, Any]]:
    return [photo_json(p) for p in photos]


def avatar_url(member: Member) -> str | None:
    """The member's face (the 400 px variant), or None: no avatar. Written once, in
    ``api.schemas`` (which the API's member summaries use and which may not import this
    package): read from ``Member.avatar_key``, without a query."""
    return schemas.avatar_url(member)


# How many disc colours static/css/app.css defines (.avatar--initials[data-colour]): soft
# colours under dark text (contrast >= 4.5:1), picked by the member's id, so a face keeps
# its colour everywhere. Colours live in CSS: the CSP allows no inline style.
DISC_COLOURS = 7


def initials(name: str) -> str:
    """« Camille B. » -> « CB »; « élodie » -> « É »."""
    words = [w for w in (name or "").replace(".", " ").split() if w[:1].isalpha()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "?"


def disc_index(member_id: int) -> int:
    return member_id % DISC_COLOURS
