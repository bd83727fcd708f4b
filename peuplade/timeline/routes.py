"""The timeline's HTML page ("Fil du voisinage"): the home page of members
(``neighbours.index`` answers with :func:`timeline_page`) and ``/timeline``, whose
endpoint stays ``news.timeline`` (links, e-mails): it is added to the news blueprint."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from peuplade.extensions import db
from peuplade.models import Member, Post
from peuplade.news.routes import bp as news_bp
from peuplade.pagination import DEFAULT_LIMIT, cursor_or_restart, fetch_page
from peuplade.posts import queries as posts
from peuplade.posts.labels import NEWS_KIND_LABELS, Bands
from peuplade.timeline import queries

PAGE_SIZE = DEFAULT_LIMIT


# Where a card leads, by type of post (its id is the URL's last part).
_SHOW = {
    "exchange": ("exchanges.show", "exchange_id"),
    "item": ("loans.show", "item_id"),
    "news": ("news.show", "news_id"),
    "event": ("events.show", "event_id"),
}


class _Cards:
    """One page's cards: what each says is worked out here, once per page where it can
    be (the viewer's position, the labels of the kinds of post), not in the template."""

    def __init__(self, viewer: Member):
        self.bands = Bands(viewer)  # the viewer's position read once for the page
        self._labels: dict[tuple[str, str | None], str] = {}

    def label(self, post: Post | queries.Card) -> str:
        """ "Échange : demande", "Objet à prêter", "Info : Alerte", "Sortie"..."""
        key = (post.type, getattr(post, "kind", None))
        if key not in self._labels:
            self._labels[key] = _type_label(*key)
        return self._labels[key]

    def card(self, post: Post | queries.Card) -> dict:
        """What timeline/index.html shows of a post: its label, link and band."""
        endpoint, arg = _SHOW.get(post.type, _SHOW["event"])
        return {
            "post": post,
            "type": post.type,
            "where": self.bands.where(post),
            "label": self.label(post),
            "href": url_for(endpoint, **{arg: post.id}),
        }


def _type_label(post_type: str, kind: str | None) -> str:
    """A card's badge: the timeline mixes every type of post, so each says what it is."""
    if post_type == "exchange":
        return _("Échange : demande") if kind == "request" else _("Échange : offre")
    if post_type == "item":
        return _("Objet à prêter")
    if post_type == "news":
        kind_label = NEWS_KIND_LABELS.get(kind, kind)
        return str(kind_label) if kind == "info" else _("Info : %(kind)s", kind=kind_label)
    if post_type == "event":
        return _("Sortie")
    return ""


def timeline_page():
    """The "Fil du voisinage": pinned alerts, then everything near me, newest first.
    A constant number of statements whatever the page size (see the tests)."""
    me = current_user._get_current_object()
    chosen = [t for t in request.args.getlist("type") if t in queries.TYPES]
    types = chosen or list(queries.TYPES)
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    # Plain rows of exactly what a card shows (queries.cards), not polymorphic objects.
    page = fetch_page(
        db.session.execute,
        lambda limit: queries.cards(me, types, after, limit=limit),
        PAGE_SIZE,
        posts.cursor_after,
    )
    alerts = queries.alert_cards(me) if after is None and "news" in types else []
    pinned = {a.id for a in alerts}
    cards = _Cards(me)
    return (
        render_template(
            "timeline/index.html",
            alerts=[cards.card(n) for n in alerts],
            cards=[cards.card(p) for p in queries.as_cards(page.items) if p.id not in pinned],
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            chosen=chosen,
            types=types,
            radius_m=me.radius_m,
        ),
        400 if cursor_error else 200,
    )


@news_bp.route("/timeline")
def timeline():
    return timeline_page()
