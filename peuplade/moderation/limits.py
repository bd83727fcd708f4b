"""Checks other services make before writing: blocks between two members, and the
limits on new accounts (spam). Kept apart, with few imports, so that every feature
can call them."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select

from peuplade.errors import TooManyChanges
from peuplade.extensions import db
from peuplade.models import Block, Member, Message, Post, utcnow


def is_blocked(blocker_id: int, blocked_id: int) -> bool:
    """``blocker_id`` blocked ``blocked_id``."""
    return db.session.get(Block, (blocker_id, blocked_id)) is not None


def blocked_between(a_id: int, b_id: int) -> bool:
    """Either of the two members blocked the other."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    or_(
                        and_(Block.blocker_id == a_id, Block.blocked_id == b_id),
                        and_(Block.blocker_id == b_id, Block.blocked_id == a_id),
                    )
                )
            )
        )
    )


# Limits for accounts younger than NEW_ACCOUNT_DAYS (config overrides these).
NEW_ACCOUNT_DEFAULTS = {
    "NEW_ACCOUNT_DAYS": 7,
    "NEW_ACCOUNT_POSTS_PER_DAY": 5,
    "NEW_ACCOUNT_MESSAGES_PER_HOUR": 20,
}


def _setting(name: str) -> int:
    return int(current_app.config.get(name, NEW_ACCOUNT_DEFAULTS[name]))


def _young(member: Member) -> bool:
    days = _setting("NEW_ACCOUNT_DAYS")
    return member.created_at > utcnow() - timedelta(days=days)


def check_new_account_posts(author: Member) -> None:
    """New accounts publish a few posts a day at most (spam)."""
    if not _young(author):
        return
    most = _setting("NEW_ACCOUNT_POSTS_PER_DAY")
    made = db.session.scalar(
        select(func.count(Post.id)).where(
            Post.author_id == author.id, Post.created_at > utcnow() - timedelta(days=1)
        )
    )
    if (made or 0) >= most:
        raise TooManyChanges(
            _l(
                "Les nouveaux comptes publient %(n)s annonces par jour au plus : réessayez demain.",
                n=most,
            )
        )


def check_new_account_messages(author: Member) -> None:
    """New accounts send a limited number of messages an hour (spam)."""
    if not _young(author):
        return
    most = _setting("NEW_ACCOUNT_MESSAGES_PER_HOUR")
    sent = db.session.scalar(
        select(func.count(Message.id)).where(
            Message.author_id == author.id, Message.created_at > utcnow() - timedelta(hours=1)
        )
    )
    if (sent or 0) >= most:
        raise TooManyChanges(
            _l(
                "Les nouveaux comptes envoient %(n)s messages par heure au plus : "
                "réessayez un peu plus tard.",
                n=most,
            )
        )
