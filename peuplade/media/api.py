"""The photos' JSON API (/api/v1): a photo added to one's own post, one removed (by its
author, or by the moderation of its quartier), and one's own face (avatar).

Views parse (``@operation``, a multipart/form-data body), load the post through its own
visibility rule (``media.queries.POST_LOADERS``), call ``photos.services`` - the same
calls as the HTML forms - commit once, and serialise. Every file is refused or cleaned by
``photos.processing``: a refusal is a 422 on ``photo``, never a 500.
"""

from __future__ import annotations

from typing import IO

from flask_babel import lazy_gettext as _l

from peuplade.api import bp
from peuplade.api.openapi import operation
from peuplade.api.responses import created
from peuplade.api.schemas import PhotoForm, PhotoOut, Rule, described, member_ref
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.errors import Forbidden, ValidationFailed
from peuplade.media import queries
from peuplade.media.schemas import AvatarOut, PhotoRemovalQuery
from peuplade.models import ALT_MAX, Member, Photo
from peuplade.moderation import queries as moderation
from peuplade.moderation import services as moderation_services
from peuplade.photos import processing, services, urls
from peuplade.photos.uploads import accepts_photos
from peuplade.validation import url_id

# What no schema can state about a photo sent: the file itself, and the post's room.
FILE_RULE = Rule(
    _l(
        "`photo` : une image JPEG, PNG, WebP ou HEIC lisible, fixe (pas d'animation), de "
        "10 Mo au plus et de %(pixels)s millions de pixels au plus ; tout autre fichier (SVG, "
        "GIF, PDF, fichier tronqué, vide, polyglotte…) est refusé avec un message qui dit "
        "pourquoi",
        pixels=processing.PIXEL_BUDGET // 1_000_000,
    ),
    fields=("photo",),
)
ALT_RULE = Rule(
    _l("`alt` : %(n)s caractères au plus une fois le texte normalisé", n=ALT_MAX),
    fields=("alt",),
)
ROOM_RULE = Rule(
    _l(
        "Au plus %(item)s photos sur un objet, %(exchange)s sur une annonce, %(news)s sur une "
        "info, %(event)s sur une sortie : au-delà, retirez-en une d'abord",
        **services.MAX_PHOTOS,
    ),
    fields=("photo",),
)
AUTHOR_RULE = Rule(_l("Seul l'auteur de l'annonce y ajoute des photos"), 403)
GONE_RULE = Rule(_l("Une annonce que je peux voir (sinon 404, comme pour l'annonce)"), 404)
NOT_YOURS = _l("Seuls l'auteur de la photo et la modération de son quartier peuvent la retirer.")


def _photo_json(photo: Photo) -> dict:
    return PhotoOut(**urls.photo_json(photo)).model_dump(mode="json")


def _bytes_of(stream: IO[bytes]) -> bytes:
    """The file sent, read up to its limit; an empty or too big one: 422 on ``photo``."""
    try:
        return processing.read_upload(stream)
    except processing.PhotoRefused as refused:
        raise ValidationFailed(refused.message, {services.FIELD: refused.message}) from None


def _add(kind: str, post_id: int, form: PhotoForm):
    me = current_member()
    post = queries.POST_LOADERS[kind](me, post_id)
    photo = services.add_photo(post, _bytes_of(form.photo), form.alt, me)
    commit()
    return created(_photo_json(photo), urls.photo_url(photo))


def _adding(what) -> dict:
    """The declaration shared by the four ways to add a photo to a post."""
    return {
        "form": PhotoForm,
        "responses": {201: PhotoOut},
        "errors": {403: "Not your post", 404: "No such post, or not visible to you"},
        "description": described(
            _l(
                "Ajoute une photo à %(what)s dont je suis l'auteur (multipart/form-data : le "
                "fichier `photo`, sa description `alt`, le titre de l'annonce par défaut). La "
                "photo est nettoyée sur le serveur : redressée, réduite à 1600 px au plus, "
                "réencodée en JPEG sans aucune métadonnée (ni position GPS, ni EXIF, XMP ou "
                "IPTC), avec une vignette de 400 px. Ses adresses (`url`, `thumbnail_url`) "
                "ne s'ouvrent qu'à qui peut voir l'annonce ; `Location` est celle de la "
                "photo.",
                what=what,
            ),
            FILE_RULE,
            ALT_RULE,
            ROOM_RULE,
            AUTHOR_RULE,
            GONE_RULE,
        ),
    }


@bp.post(f"/items/{url_id('item_id')}/photos")
@accepts_photos
@operation(_l("Ajouter une photo à mon objet"), **_adding(_l("un objet")))
def add_item_photo(item_id: int, form: PhotoForm):
    return _add("item", item_id, form)


@bp.post(f"/exchanges/{url_id('exchange_id')}/photos")
@accepts_photos
@operation(_l("Ajouter une photo à mon annonce"), **_adding(_l("une annonce")))
def add_exchange_photo(exchange_id: int, form: PhotoForm):
    return _add("exchange", exchange_id, form)


@bp.post(f"/news/{url_id('news_id')}/photos")
@accepts_photos
@operation(_l("Ajouter une photo à mon info"), **_adding(_l("une info")))
def add_news_photo(news_id: int, form: PhotoForm):
    return _add("news", news_id, form)


@bp.post(f"/events/{url_id('event_id')}/photos")
@accepts_photos
@operation(_l("Ajouter une photo à ma sortie"), **_adding(_l("une sortie")))
def add_event_photo(event_id: int, form: PhotoForm):
    return _add("event", event_id, form)


@bp.delete(f"/photos/{url_id('photo_id')}")
@operation(
    _l("Retirer une photo"),
    query=PhotoRemovalQuery,
    responses={204: None},
    errors={
        403: "Neither its author nor a moderator of its quartier",
        404: "No such photo, or not visible to you",
    },
    description=described(
        _l(
            "Par son auteur, ou par la modération du quartier de l'annonce (avec `reason`, "
            "inscrite au journal de modération ; l'annonce reste). Retirer mon avatar ici "
            "revient à `DELETE /me/avatar`."
        ),
        Rule(
            _l(
                "Une photo que je peux voir (sinon 404, comme pour son annonce) ; la "
                "modération, celles des quartiers qu'elle modère, même cachées ou hors "
                "de sa portée"
            ),
            404,
        ),
        Rule(_l("Son auteur, ou la modération de son quartier"), 403),
        Rule(_l("La modération donne sa raison (`reason`)"), fields=("reason",)),
    ),
)
def delete_photo(photo_id: int, query: PhotoRemovalQuery):
    me = current_member()
    photo = queries.find_photo_or_404(photo_id)
    if photo.member_id == me.id:
        services.remove_photo(photo, me)
    elif photo.staged_key is None and moderation.is_moderator(me):
        # As on the report's page: the photos of the quartiers one moderates, even of a
        # hidden post or out of one's own reach. Out of scope: 403, whatever the reason.
        if photo.post_id is None:
            moderation.target_of(me, "member", photo.member_id)
        else:
            moderation.target_of(me, queries.post_type_of(photo), photo.post_id)
        moderation_services.remove_photo(me, photo, query.reason)
    else:
        queries.get_photo_or_404(me, photo_id)  # 404 to whoever may not see it
        raise Forbidden(NOT_YOURS)
    commit()
    return "", 204


def _avatar_json(member: Member, photo: Photo) -> dict:
    return AvatarOut(
        **dict(member_ref(member)),
        photo=PhotoOut(**urls.photo_json(photo)),
    ).model_dump(mode="json")


@bp.put("/me/avatar")
@accepts_photos
@operation(
    _l("Choisir mon avatar (ma photo)"),
    form=PhotoForm,
    responses={200: AvatarOut},
    description=described(
        _l(
            "Remplace mon avatar (multipart/form-data : le fichier `photo`, sa description "
            "`alt`, « Photo de <mon nom> » par défaut), nettoyé comme toute photo (sans "
            "aucune métadonnée). Répond comme me voient les autres dans une liste "
            "(`avatar_url`, la vignette), avec la photo elle-même (`photo`). Mon avatar "
            "se montre à qui peut voir mon profil."
        ),
        FILE_RULE,
        ALT_RULE,
    ),
)
def set_avatar(form: PhotoForm):
    me = current_member()
    photo = services.set_avatar(me, _bytes_of(form.photo), form.alt)
    commit()
    return _avatar_json(me, photo)


@bp.delete("/me/avatar")
@operation(
    _l("Retirer mon avatar"),
    responses={204: None},
    description=_l(
        "Mes initiales sur un disque de couleur me représentent de nouveau. 204 aussi "
        "quand je n'avais pas d'avatar : le résultat est le même."
    ),
)
def delete_avatar():
    services.remove_avatar(current_member())
    commit()
    return "", 204
