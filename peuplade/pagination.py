"""Keyset pagination: opaque, signed cursors and pages of "limit + 1" rows.

A cursor names the last row of a page by its sort key. It is signed with the
app's secret key, so a forged or truncated one is refused before it reaches SQL.
Every list runs its page through :func:`fetch_page`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select

from peuplade.errors import BadCursor

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# On an HTML list whose "Voir plus" link is stale or tampered with (it starts again).
STALE_LINK = _l("Ce lien « Voir plus » n'est plus valable. Voici la liste depuis le début.")


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"peuplade.cursor.{kind}")


def bad_cursor() -> BadCursor:
    msg = _l("Ce lien de page n'est plus valide : revenez à la première page.")
    return BadCursor(msg, {"cursor": msg})


def encode(kind: str, values: list[Any]) -> str:
    return _serializer(kind).dumps(values)


def decode(kind: str, text: str | None) -> list[Any] | None:
    """The values of a cursor made by :func:`encode`, or None for no cursor."""
    if not text:
        return None
    try:
        values = _serializer(kind).loads(text)
    except (BadSignature, ValueError, UnicodeDecodeError):
        raise bad_cursor() from None
    if not isinstance(values, list):
        raise bad_cursor()
    return values


@dataclass(frozen=True)
class TimeCursor:
    """Newest-first position: (created_at, id) of the last row seen."""

    created_at: datetime
    id: int

    KIND = "time"

    def encode(self) -> str:
        return encode(self.KIND, [self.created_at.isoformat(), self.id])

    @classmethod
    def decode(cls, text: str | None) -> TimeCursor | None:
        values = decode(cls.KIND, text)
        if values is None:
            return None
        try:
            stamp, ident = values
            created = datetime.fromisoformat(stamp)
            if created.tzinfo is None or not isinstance(ident, int) or not 0 < ident < 2**31:
                raise ValueError
        except (TypeError, ValueError):
            raise bad_cursor() from None
        return cls(created, ident)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement built once for its shape (``posts.queries.newest_nearby``) and the
    values of one execution, as named bound parameters.

    Executing the same statement object again lets SQLAlchemy reuse its cache key and
    find its compiled form at once: building a cell walk and its cache key cost more
    than running it (docs/SCALING.md). ``run`` executes it that way (``fetch_page``
    does). It also goes wherever a statement does (``db.session.scalars(prepared)``,
    ``compile``), as the statement with its values bound, at the cost of a new cache
    key."""

    statement: Select
    # Never in a repr (logs, error reports): the viewer's home is among the values.
    params: Mapping[str, Any] = field(repr=False)

    def run(self, run: Callable[..., Any]) -> Any:
        """``run(statement, params)``: e.g. ``prepared.run(db.session.scalars)``."""
        return run(self.statement, self.params)

    def __clause_element__(self) -> Select:
        return self.statement.params(self.params)

    def compile(self, *args: Any, **kw: Any) -> Any:
        return self.__clause_element__().compile(*args, **kw)

    def _execute_on_connection(self, connection, distilled_params, execution_options):
        # What SQLAlchemy calls to execute an object (Connection.execute), and how it
        # tells an executable one (a Session executes the ``__clause_element__``).
        params = [{**self.params, **values} for values in distilled_params or [{}]]
        return self.statement._execute_on_connection(connection, params, execution_options)


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(rows: Sequence[T], limit: int, cursor_after: Callable[[T], str]) -> Page[T]:
    """Rows were fetched with ``LIMIT limit + 1``: the extra one says there is more."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, cursor_after(items[-1]) if more and items else None)


def fetch_page(
    run: Callable[..., Any],
    query: Select | Callable[[int], Select | Prepared],
    limit: int,
    cursor_after: Callable[[T], str],
) -> Page[T]:
    """One page of at most ``limit`` rows, and the cursor of the next page (None on the
    last one).

    ``run`` executes a statement: ``db.session.scalars`` for objects,
    ``db.session.execute`` for rows of several columns. ``query`` is the statement, or a
    function making it for a given LIMIT: a statement that uses its limit inside too, or
    a ``Prepared`` one whose limit is a parameter (``posts.queries.newest_nearby``). It
    is run with ``LIMIT limit + 1``: the extra row, never shown, says that there is a
    next page."""
    fetch = limit + 1
    stmt = query(fetch) if callable(query) else query
    if isinstance(stmt, Prepared):
        # Built for ``fetch`` rows already; ``.limit()`` would make a new statement.
        return page_of(stmt.run(run).all(), limit, cursor_after)
    return page_of(run(stmt.limit(fetch)).all(), limit, cursor_after)


def cursor_or_restart(text: str | None) -> tuple[TimeCursor | None, str | None]:
    """An HTML list's "Voir plus" cursor, newest first: ``(cursor, None)``, or ``(None,
    message)`` when the link is stale or tampered with: the page then shows the list
    from the top with the message (and answers 400)."""
    try:
        return TimeCursor.decode(text), None
    except BadCursor:
        return None, str(STALE_LINK)
