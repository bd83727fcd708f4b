"""Keyset pagination: opaque, signed cursors and pages of "limit + 1" rows.

A cursor names the last row of a page by its sort key. It is signed with the
app's secret key, so a forged or truncated one is refused before it reaches SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from peuplade.errors import BadCursor, ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


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


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(rows: Sequence[T], limit: int, cursor_after: Callable[[T], str]) -> Page[T]:
    """Rows were fetched with ``LIMIT limit + 1``: the extra one says there is more."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, cursor_after(items[-1]) if more and items else None)


def clean_limit(raw: object, default: int = DEFAULT_LIMIT) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        msg = _l("« limit » doit être un nombre entre 1 et %(max)s.", max=MAX_LIMIT)
        raise ValidationFailed(msg, {"limit": msg})
    return value
