"""Writes on neighbourhood news and their comments."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from peuplade.errors import Forbidden, ValidationFailed
from peuplade.extensions import db
from peuplade.models import NEWS_KINDS, NEWS_SCOPES, Member, NewsComment, NewsPost, utcnow
from peuplade.moderation import limits
from peuplade.posts import services as posts
from peuplade.submissions import clean_submission_key, write_once
from peuplade.validation import checked_text, collect

TITLE_MAX = 120
BODY_MAX = 4000
LINK_MAX = 500
COMMENT_MAX = 1000


@dataclass
class NewsInput:
    """What an author typed; None means "not given" (on edit: keep as is)."""

    kind: str | None = None
    title: str | None = None
    body: str | None = None
    link: str | None = None
    scope: str | None = None
    # The publishing form's random token (submissions.new_submission_key): sent twice, one news.
    submission_key: str | None = None


def _kind(value: str | None) -> str:
    if value not in NEWS_KINDS:
        msg = _l("Choisissez un type d'info de la liste.")
        raise ValidationFailed(msg, {"kind": msg})
    return value


def _link(value: str | None) -> str | None:
    """An optional web link: http(s) only, so no "javascript:" ever reaches a page."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if len(value) > LINK_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        msg = _l(
            "Un lien commence par https:// (ou http://) et fait %(n)s caractères au plus.",
            n=LINK_MAX,
        )
        raise ValidationFailed(msg, {"link": msg})
    return value


def _scope(author: Member, value: str | None) -> int | None:
    """The quartier a news is addressed to (None: by distance, within my radius)."""
    if value not in NEWS_SCOPES:
        msg = _l("Choisissez : dans mon rayon, ou tout mon quartier.")
        raise ValidationFailed(msg, {"scope": msg})
    if value == "radius":
        return None
    if author.quartier_id is None:
        msg = _l("Votre domicile n'est dans aucun quartier connu : publiez dans votre rayon.")
        raise ValidationFailed(msg, {"scope": msg})
    return author.quartier_id


def post_news(author: Member, data: NewsInput) -> NewsPost:
    """Publish a news for my radius (default) or for my whole quartier. The same form
    sent twice (``data.submission_key``) gives the first news back."""
    key = clean_submission_key(data.submission_key)
    earlier = posts.published_with(author, key, NewsPost)
    if earlier is not None:
        return earlier
    limits.check_new_account_posts(author)
    values, errors = collect(
        {
            "kind": lambda: _kind(data.kind or "info"),
            "title": lambda: checked_text(data.title, "title", TITLE_MAX, 3),
            "body": lambda: checked_text(data.body, "body", BODY_MAX, required=True),
            "link": lambda: _link(data.link),
            "quartier_id": lambda: _scope(author, data.scope or "radius"),
        }
    )
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    now = utcnow()
    news = NewsPost(
        author=author,
        position=author.public_position,
        reach_m=author.radius_m,
        status="open",
        created_at=now,
        updated_at=now,
        expires_at=posts.expiry(None, now),
        submission_key=key,
        **values,
    )
    return posts.add_once(news)[0]


def _require_author(news: NewsPost, member: Member) -> None:
    if news.author_id != member.id:
        raise Forbidden(_l("Seul l'auteur peut faire cela."))


def update_news(news: NewsPost, editor: Member, data: NewsInput) -> NewsPost:
    _require_author(news, editor)
    checks = {}
    if data.kind is not None:
        checks["kind"] = lambda: _kind(data.kind)
    if data.title is not None:
        checks["title"] = lambda: checked_text(data.title, "title", TITLE_MAX, 3)
    if data.body is not None:
        checks["body"] = lambda: checked_text(data.body, "body", BODY_MAX, required=True)
    if data.link is not None:
        checks["link"] = lambda: _link(data.link)
    if data.scope is not None:
        checks["quartier_id"] = lambda: _scope(editor, data.scope)
    values, errors = collect(checks)
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    for name, value in values.items():
        setattr(news, name, value)
    news.updated_at = utcnow()
    db.session.flush()
    return news


def delete_news(news: NewsPost, member: Member) -> None:
    _require_author(news, member)
    db.session.delete(news)
    db.session.flush()


def commented_with(member: Member, key: str | None) -> NewsComment | None:
    """The comment ``member`` already sent with the form token ``key``, if any."""
    if key is None:
        return None
    return db.session.scalar(
        select(NewsComment).where(
            NewsComment.author_id == member.id, NewsComment.submission_key == key
        )
    )


def comment(
    news: NewsPost, member: Member, body: str | None, submission_key: str | None = None
) -> NewsComment:
    """Anyone who can read a news may comment on it (plain text, escaped when shown).
    The same form sent twice (``submission_key``) gives the first comment back."""
    key = clean_submission_key(submission_key)
    earlier = commented_with(member, key)
    if earlier is not None:
        return earlier
    text = checked_text(body, "body", COMMENT_MAX, required=True)

    def add() -> NewsComment:
        note = NewsComment(news=news, author=member, body=text, submission_key=key)
        db.session.add(note)
        db.session.flush()
        return note

    return write_once(lambda: commented_with(member, key), add)[0]


def delete_comment(note: NewsComment, member: Member) -> None:
    """The comment's author or the news' author removes a comment."""
    if member.id not in (note.author_id, note.news.author_id):
        raise Forbidden(_l("Seul l'auteur du commentaire ou de l'info peut le retirer."))
    db.session.delete(note)
    db.session.flush()
