"""One row per form sent: the same form (or API call) sent twice writes once.

A publishing form carries a random token (:func:`new_submission_key`, a hidden field;
the API's Idempotency-Key), stored with the row it wrote. :func:`write_once` is the
guard every writer uses (posts: ``posts.services.add_once``; messages, comments, loan
requests): a unique index decides between two copies sent at the same instant (a
double click, an API call sent again), and the copy that loses finds the row the other
one wrote.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from peuplade.extensions import db

KEY_USED_ELSEWHERE = _l(
    "Cette clé a déjà servi à publier autre chose : envoyez une nouvelle clé (ou rechargez "
    "la page)."
)
# A form's submission key, and the API's Idempotency-Key (api/parsing.py): the same format.
SUBMISSION_KEY_PATTERN = "^[A-Za-z0-9_-]{16,32}$"
_SUBMISSION_KEY = re.compile(SUBMISSION_KEY_PATTERN)

Row = TypeVar("Row")


def write_once(find: Callable[[], Row | None], write: Callable[[], Row]) -> tuple[Row, bool]:
    """``write()`` (which adds and flushes) and True; or, when ``find()`` sees the row an
    earlier copy of the same request wrote, that row and False.

    On PostgreSQL ``write()`` runs in a savepoint: if a twin's row makes the unique
    index fire, only the savepoint is undone and the twin's row is read instead.
    """
    with db.session.no_autoflush:
        earlier = find()
    if earlier is not None:
        return earlier, False
    if db.session.get_bind().dialect.name != "postgresql":
        # pysqlite would commit a savepoint taken outside its deferred BEGIN; SQLite runs
        # one writer at a time anyway, and a twin there ends as a Conflict at the index.
        return write(), True
    try:
        with db.session.begin_nested():
            row = write()
    except IntegrityError:
        # The twin committed first (PostgreSQL waited for it at the index): read it.
        with db.session.no_autoflush:
            earlier = find()
        if earlier is None:
            raise
        return earlier, False
    return row, True


def new_submission_key() -> str:
    """A random token for a publishing form (hidden field): sent twice, it publishes once."""
    return secrets.token_urlsafe(16)


def clean_submission_key(value: object) -> str | None:
    """The form's token, or None when missing or not one of ours (then no de-duplication)."""
    return value if isinstance(value, str) and _SUBMISSION_KEY.match(value) else None
