"""``/p/<token>``: a shared post's teaser, and its photo if the author allowed it."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from peuplade import geo
from peuplade.access import public
from peuplade.account.queries import quartier_at
from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.models import Post, Quartier
from peuplade.moderation import targets
from peuplade.photos import storage
from peuplade.posts import queries
from peuplade.posts.labels import NEWS_KIND_LABELS

bp = Blueprint("sharing", __name__)

GONE = _l("Ce lien ne mène plus à rien : l'annonce a été retirée, ou n'est plus partagée.")
# A post's own page, by type: where a member who sees it is sent.
PAGES = {
    "exchange": ("exchanges.show", "exchange_id"),
    "item": ("loans.show", "item_id"),
    "news": ("news.show", "news_id"),
    "event": ("events.show", "event_id"),
}
# The teaser's photo may be kept a little by browsers and link previews; not long, so
# that a post no longer shared stops showing it soon.
PHOTO_CACHE = "public, max-age=300"


def _shared_or_404(token: str) -> Post:
    post = queries.shared(token)
    if post is None or post.type not in PAGES:
        raise NotFound(GONE)
    return post


def _seen_by_me(post: Post) -> bool:
    """The logged-in member may open the post itself (its own visibility rule)."""
    if not current_user.is_authenticated:
        return False
    try:
        targets.load(post.type, current_user._get_current_object(), post.id)
    except NotFound:
        return False
    return True


def kind_label(post: Post) -> str:
    """What kind of post it is, in words ("Demande de coup de main", "Objet à prêter")."""
    if post.type == "exchange":
        if post.kind == "request":
            return _("Demande de coup de main")
        return _("Offre de coup de main")
    if post.type == "item":
        return _("Objet à prêter")
    if post.type == "news":
        return str(NEWS_KIND_LABELS.get(post.kind, _("Info du quartier")))
    return _("Sortie")


def _quartier(post: Post) -> Quartier | None:
    if post.quartier_id is not None:  # news addressed to a whole quartier
        return db.session.get(Quartier, post.quartier_id)
    return quartier_at(geo.from_element(post.position))


def _photo(post: Post):
    return post.photos[0] if post.share_photo and post.photos else None


@bp.get("/p/<token>")
@public
def shared(token: str):
    post = _shared_or_404(token)
    if _seen_by_me(post):
        endpoint, argument = PAGES[post.type]
        return redirect(url_for(endpoint, **{argument: post.id}))
    photo = _photo(post)
    quartier = _quartier(post)
    response = Response(
        render_template(
            "sharing/teaser.html",
            post=post,
            token=token,
            kind=kind_label(post),
            quartier=quartier.display_name if quartier else None,
            photo=photo,
        )
    )
    # Not for search engines: the link was given to someone, not published.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/p/<token>/photo.jpg")
@public
def photo(token: str):
    post = _shared_or_404(token)
    shown = _photo(post)
    data = storage.read(shown, "thumb") if shown is not None else None
    if data is None:
        raise NotFound(GONE)
    return Response(
        data,
        mimetype=shown.content_type,
        headers={
            "Cache-Control": PHOTO_CACHE,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Robots-Tag": "noindex",
        },
    )
