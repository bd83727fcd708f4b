"""One row per form sent, for rows that are not posts (messages, comments, loan requests).

The posts' own version is ``posts.services.add_once``; the tokens are the same
(``posts.services.new_submission_key`` / ``clean_submission_key``). A unique index
decides between two copies sent at the same instant (a double click, an API call sent
again): the copy that loses finds the row the other one wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from peuplade.extensions import db

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
