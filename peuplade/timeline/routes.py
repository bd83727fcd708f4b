"""The timeline's HTML page ("Fil du voisinage"): the home page of members
(``neighbours.index`` answers with :func:`timeline_page`) and ``/timeline``, whose
endpoint stays ``news.timeline`` (links, e-mails): it is added to the news blueprint."""

from __future__ import annotations

from dataclasses import fields

from flask import make_response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import fragments
from peuplade.extensions import db
from peuplade.formats import seen_at
from peuplade.headers import OFFLINE_KEEP
from peuplade.models import Member, Post, utcnow
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
        self.kept = fragments.store()
        # What every card of the page is rendered with besides its own fields.
        self._page = (request.script_root, str(get_locale()))

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

    def feed_card(self, card: queries.Card, first: bool) -> dict:
        """A card of the feed, with its HTML when a page rendered it already (the key is
        everything the card is rendered from: ``peuplade.fragments``); its link is made
        only when it is to be rendered."""
        where, label = self.bands.where(card), self.label(card)
        key = (*self._page, first, where, label, *_rendered_from(card))
        html = self.kept.get(key)
        if html is not None:
            return {"html": html}
        endpoint, arg = _SHOW.get(card.type, _SHOW["event"])
        return {
            "post": card,
            "where": where,
            "label": label,
            "href": url_for(endpoint, **{arg: card.id}),
            "key": key,
        }


# A card's HTML is made from every field of its row but the position (its band is in the
# key), and from its photos as the thumbnail macro reads them: a field added to Card is in
# the key by construction.
_CARD_FIELDS = tuple(f.name for f in fields(queries.Card) if f.name not in ("position", "photos"))


def _rendered_from(card: queries.Card) -> tuple:
    photos = tuple(
        (p.id, p.token, p.is_avatar, p.member_id, p.alt, p.thumb_width, p.thumb_height)
        for p in card.photos[:1]
    )
    return (*(getattr(card, name) for name in _CARD_FIELDS), len(card.photos), photos)


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


def timeline_page(kept_offline: bool = False):
    """The "Fil du voisinage": pinned alerts, then everything near me, newest first.
    A constant number of statements whatever the page size (see the tests).

    ``kept_offline``: the feed's own address (peuplade.neighbours): its first page, all
    types shown, is what the installed app keeps for reading offline (peuplade/pwa), so
    it carries the hidden note "Hors ligne — vu à ..." and the header that asks the
    service worker to keep it."""
    me = current_user._get_current_object()
    chosen = [t for t in request.args.getlist("type") if t in queries.TYPES]
    types = chosen or list(queries.TYPES)
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    # Plain rows of exactly what a card shows (queries.cards), not polymorphic objects;
    # on the first page, with the pinned alerts in the same statement.
    if after is None and "news" in types:
        rows = queries.first_page(me, types, limit=PAGE_SIZE + 1).run(db.session.execute)
        alerts, page = queries.split_pinned(rows.all(), PAGE_SIZE)
    else:
        alerts = []
        page = fetch_page(
            db.session.execute,
            lambda limit: queries.cards(me, types, after, limit=limit),
            PAGE_SIZE,
            posts.cursor_after,
        )
        page.items = queries.as_cards(page.items)
    pinned = {a.id for a in alerts}
    cards = _Cards(me)
    keep = kept_offline and after is None and not chosen and not cursor_error
    response = make_response(
        render_template(
            "timeline/index.html",
            alerts=[cards.card(n) for n in alerts],
            cards=[
                cards.feed_card(p, first=i == 0)
                for i, p in enumerate(c for c in page.items if c.id not in pinned)
            ],
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            chosen=chosen,
            types=types,
            radius_m=me.radius_m,
            offline_seen=seen_at(utcnow()) if keep else None,
        ),
        400 if cursor_error else 200,
    )
    if keep:
        name, value = OFFLINE_KEEP
        response.headers[name] = value
    return response


@news_bp.route("/timeline")
def timeline():
    return timeline_page()
