"""Reads on news: my neighbourhood's and my quartier's, one news, alerts, Atom."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, func, or_, select

from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.models import Member, NewsComment, NewsPost, Quartier, utcnow
from peuplade.models.base import UTCDateTime
from peuplade.moderation import targets as report_targets
from peuplade.pagination import Prepared, TimeCursor
from peuplade.posts import audience
from peuplade.posts import queries as posts

ALERT_PINNED_FOR = timedelta(hours=48)
# How many alerts are pinned above the news list and the timeline.
ALERTS_PINNED = 5


# The walks' conditions (posts.newest_nearby: SQL made once, values as parameters).
def _of_kind():
    return NewsPost.kind == bindparam("kind")


def _alerts():
    # As written in the alerts' partial indexes (models/post.py, ix_posts_alert_*).
    return NewsPost.is_alert


def _since():
    # The alerts' window as a walk's condition: what recent_alerts read before
    # posts.recent_nearby (tests/test_news_events.py compares the two).
    return NewsPost.created_at >= bindparam("since", type_=UTCDateTime())


def near_me(
    viewer: Member,
    *,
    kind: str | None = None,
    after: TimeCursor | None = None,
    limit: int = posts.LIST_MAX,
) -> Prepared:
    """At most ``limit`` news that reach me by distance or are addressed to my quartier,
    newest first."""
    if kind == "alerte":  # from the alerts' own indexes
        return posts.newest_nearby(
            viewer, NewsPost, _alerts, limit=limit, after=after, with_quartier=True
        )
    return posts.newest_nearby(
        viewer,
        NewsPost,
        *((_of_kind,) if kind else ()),
        limit=limit,
        after=after,
        with_quartier=True,
        params={"kind": kind} if kind else None,
    )


def recent_alerts(viewer: Member, limit: int = posts.LIST_MAX, rows=None) -> Prepared:
    """Alerts of the last 48 hours, shown before everything else (``rows``: as
    ``posts.newest_nearby`` reads plain rows, e.g. the timeline's cards)."""
    return posts.recent_nearby(
        viewer,
        NewsPost,
        _alerts,
        since=utcnow() - ALERT_PINNED_FOR,
        limit=limit,
        with_quartier=True,
        rows=rows,
    )


def pinned_alerts(viewer: Member) -> list[NewsPost]:
    """The newest alerts of the last 48 hours, pinned above the news list and the
    timeline."""
    return list(recent_alerts(viewer, ALERTS_PINNED).run(db.session.scalars))


def get_news_or_404(viewer: Member, news_id: int) -> NewsPost:
    news = db.session.scalar(
        select(NewsPost).where(NewsPost.id == news_id, audience.visible_to(viewer, NewsPost))
    )
    if news is None:
        raise NotFound(_l("Cette info n'existe pas, ou n'est pas dans votre voisinage."))
    return news


def comment_shown_to(viewer: Member):
    """SQL: a comment the viewer is shown: not hidden by the moderation, and no block
    either way between its author and the viewer (who is not told)."""
    return and_(
        NewsComment.hidden_at.is_(None), audience.no_block(viewer.id, NewsComment.author_id)
    )


def comments(news: NewsPost, viewer: Member) -> Select:
    """The comments of a news that ``viewer`` is shown, oldest first."""
    return (
        select(NewsComment)
        .where(NewsComment.news_id == news.id, comment_shown_to(viewer))
        .order_by(NewsComment.created_at, NewsComment.id)
    )


def get_comment_or_404(viewer: Member, comment_id: int) -> NewsComment:
    note = db.session.scalar(
        select(NewsComment).where(
            NewsComment.id == comment_id,
            or_(NewsComment.author_id == viewer.id, comment_shown_to(viewer)),
        )
    )
    if note is None:
        raise NotFound(_l("Ce commentaire n'existe pas."))
    get_news_or_404(viewer, note.news_id)  # only readers of the news reach its comments
    return note


report_targets.register("news", get_news_or_404)
report_targets.register("comment", get_comment_or_404)


def quartier_by_slug_or_404(slug: str) -> Quartier:
    quartier = db.session.scalar(select(Quartier).where(Quartier.slug == slug))
    if quartier is None:
        raise NotFound(_l("Ce quartier n'existe pas."))
    return quartier


def quartier_public_news(quartier: Quartier, limit: int = 50) -> Select:
    """The news addressed to a whole quartier (public Atom feed), newest first."""
    stmt = select(NewsPost).where(NewsPost.quartier_id == quartier.id, posts.listed(NewsPost))
    return posts.newest_first(stmt, None).limit(limit)


def comments_count(news_ids: list[int], viewer: Member) -> dict[int, int]:
    """Number of comments ``viewer`` is shown per news, in one query (lists)."""
    if not news_ids:
        return {}
    rows = db.session.execute(
        select(NewsComment.news_id, func.count())
        .where(NewsComment.news_id.in_(news_ids), comment_shown_to(viewer))
        .group_by(NewsComment.news_id)
    )
    return dict(rows.all())


def quartiers_by_id(quartier_ids: list[int]) -> dict[int, Quartier]:
    """The quartiers some news are addressed to, in one query."""
    if not quartier_ids:
        return {}
    found = db.session.scalars(select(Quartier).where(Quartier.id.in_(quartier_ids)))
    return {q.id: q for q in found}
