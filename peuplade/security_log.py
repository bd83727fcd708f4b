"""The security log (logger ``peuplade.security``): logins, logouts, password changes
and resets, refused access, API tokens. Plain logging at the bottom of the house:
auth, the API, the error handlers and gdpr write to it.

One line per event, ``event key=value ...``, with member ids only: never an email, a
password, a token, a session id or a position. Anything that came from the visitor (a
path, a user agent) is escaped by :func:`log_safe`, so it cannot start a forged line.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import unicodedata

from flask import current_app, has_request_context, request

log = logging.getLogger("peuplade.security")

# Control characters, invisible formatting (bidi overrides) and line/paragraph separators.
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
MAX_VALUE = 200


def log_safe(value: object, limit: int = MAX_VALUE) -> str:
    """``value`` as one printable line: backslashes doubled, CR, LF, other control and
    invisible characters written as ``\\n``, ``\\x1b``, ``\\u202e``...; cut at ``limit``."""
    text = str(value)
    out: list[str] = []
    for char in text[: limit + 1]:
        if char == "\\":
            out.append("\\\\")
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif unicodedata.category(char) in _ESCAPED_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    line = "".join(out)
    line = line[:limit] + "…" if len(text) > limit else line
    if not line or any(c in line for c in ' "='):
        # Quoted, so a value cannot pass for more key=value pairs.
        line = '"' + line.replace('"', '\\"') + '"'
    return line


def account_fingerprint(email: object) -> str:
    """A short keyed digest of a typed email: tells that tries aim at one account without
    writing the address down (nor letting a reader of the log test guesses offline)."""
    typed = str(email or "").strip().casefold()[:254]
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"account:" + typed.encode(), hashlib.sha256).hexdigest()[:12]


def event(name: str, level: int = logging.INFO, /, **fields: object) -> None:
    """Log ``name`` with ``fields`` (member ids, reasons...) and where it came from."""
    parts = [name]
    for key, value in fields.items():
        parts.append(f"{key}={log_safe('-' if value is None else value)}")
    if has_request_context():
        parts.append(f"ip={log_safe(request.remote_addr or '-')}")
        parts.append(f"method={log_safe(request.method, 10)}")
        parts.append(f"path={log_safe(_path())}")
    log.log(level, "%s", " ".join(parts))


def _path() -> str:
    """The request's path; for links that carry a secret (reset, unsubscribe), the
    route's pattern instead, so the token does not end up in the log."""
    if "token" in (request.view_args or {}) and request.url_rule is not None:
        return request.url_rule.rule
    return request.path


def warning(name: str, /, **fields: object) -> None:
    event(name, logging.WARNING, **fields)
