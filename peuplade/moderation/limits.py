"""Checks other services make before writing: whether a member blocked another, and the
limits on new accounts (spam). Kept apart, with few imports, so that every feature
can call them. A block either way between two members (messages, notifications) is
``posts.audience.blocked_between``, with the rest of who sees whom."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from peuplade.errors import TooManyChanges
from peuplade.extensions import db
from peuplade.models import Block, Member, Message, Post, utcnow


def is_blocked(blocker_id: int, blocked_id: int) -> bool:
    """``blocker_id`` blocked ``blocked_id``."""
    return db.session.get(Block, (blocker_id, blocked_id)) is not None


def _over_limit(author: Member, model, setting: str, window: timedelta) -> int | None:
    """The limit ``setting`` if a new account already wrote that many ``model`` rows in
    ``window``, else None (older accounts are never limited)."""
    config = current_app.config
    if author.created_at <= utcnow() - timedelta(days=config["NEW_ACCOUNT_DAYS"]):
        return None
    most = config[setting]
    made = db.session.scalar(
        select(func.count(model.id)).where(
            model.author_id == author.id, model.created_at > utcnow() - window
        )
    )
    return most if (made or 0) >= most else None


def check_new_account_posts(author: Member) -> None:
    """New accounts publish a few posts a day at most (spam)."""
    most = _over_limit(author, Post, "NEW_ACCOUNT_POSTS_PER_DAY", timedelta(days=1))
    if most is not None:
        raise TooManyChanges(
            _l(
                "Les nouveaux comptes publient %(n)s annonces par jour au plus : réessayez demain.",
                n=most,
            )
        )


def check_new_account_messages(author: Member) -> None:
    """New accounts send a limited number of messages an hour (spam)."""
    most = _over_limit(author, Message, "NEW_ACCOUNT_MESSAGES_PER_HOUR", timedelta(hours=1))
    if most is not None:
        raise TooManyChanges(
            _l(
                "Les nouveaux comptes envoient %(n)s messages par heure au plus : "
                "réessayez un peu plus tard.",
                n=most,
            )
        )
