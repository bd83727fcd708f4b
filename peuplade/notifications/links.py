"""Links that work without logging in: one-click unsubscribe and "still needed?".

Each carries a payload signed with the app's secret key (itsdangerous), so it cannot
be forged or pointed at someone else. They only lead to a page with one button: a
GET never changes anything (mail scanners follow links).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

_UNSUBSCRIBE = "peuplade.unsubscribe"
_KEEP_OPEN = "peuplade.keep-open"


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def unsubscribe_token(member_id: int, kind: str) -> str:
    return _serializer(_UNSUBSCRIBE).dumps([member_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        values = _serializer(_UNSUBSCRIBE).loads(token)
    except (BadSignature, ValueError, UnicodeDecodeError):
        return None
    if (
        isinstance(values, list)
        and len(values) == 2
        and isinstance(values[0], int)
        and isinstance(values[1], str)
    ):
        return values[0], values[1]
    return None


def keep_open_token(post_id: int, expiry_stamp: int) -> str:
    return _serializer(_KEEP_OPEN).dumps([post_id, expiry_stamp])


def read_keep_open_token(token: str) -> tuple[int, int] | None:
    try:
        values = _serializer(_KEEP_OPEN).loads(token)
    except (BadSignature, ValueError, UnicodeDecodeError):
        return None
    if (
        isinstance(values, list)
        and len(values) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    ):
        return values[0], values[1]
    return None


def external_url(endpoint: str, **values) -> str:
    """An absolute link to the site as members reach it (``PUBLIC_URL``), also from a
    command run by cron, where there is no request to take the host from."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    anchor = values.pop("_anchor", None)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url
