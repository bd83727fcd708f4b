"""Request logs: one JSON line per request, with a request id, and nothing personal.

Each line (logger ``peuplade.request``, on stderr) holds the request id, the method, the
path without its query string, the status, the duration in milliseconds and the member
id when someone is logged in. Never an email, a position, a query string, a form or a
token: paths with a variable that is not a number (a password-reset token) are written
as their route (``/password/reset/<token>``), and paths that match no route lose
anything that looks like an email or a coordinate.

In development (``flask run``) werkzeug's own access line, which says the same (and
the query string), is dropped: one line per request.

The request id comes from the ``X-Request-Id`` header when it is a short token (a proxy
or load balancer set it), else it is made here; it is sent back in ``X-Request-Id``,
added to the app's error lines (whose tracebacks stay on the server), and offered to
templates as ``request_id`` so an error page can show it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect
from werkzeug.routing import IntegerConverter

log = logging.getLogger("peuplade.request")

HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_EMAIL = re.compile(r"[^/@]*@[^/]*")
_NUMBERS = re.compile(r"-?\d+[.,]\d+")
# Loggers whose lines get the request id: the error handler's, with its tracebacks.
_TAGGED_LOGGERS = ("peuplade.errors", "peuplade.database")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, the record's
    ``fields`` (a dict passed as ``extra``), and a traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):
    """stderr as it is when the line is written (a test or a server may swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _RequestIdFilter(logging.Filter):
    """Adds ``request_id=...`` to lines written while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not getattr(record, "request_id", None):
            record.request_id = request_id()
            record.msg = f"{record.msg} [request_id={record.request_id}]"
        return True


class _NotAnAccessLine(logging.Filter):
    """Drops werkzeug's access lines (``127.0.0.1 - - [date] "GET / HTTP/1.1" 200 -``,
    written by ``WSGIRequestHandler.log_request``); its start-up and error lines pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not (
            record.levelno == logging.INFO
            and " - - [" in message
            and message.endswith('"%s" %s %s')
        )


def request_id() -> str:
    """This request's id: the caller's ``X-Request-Id`` if it is a short token, else new."""
    rid = g.get("request_id")
    if rid is None:
        given = request.headers.get(HEADER, "")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        g.request_id = rid
    return rid


def logged_path() -> str:
    """The path as it may be logged: no query string, no tokens, no emails, no points."""
    rule = request.url_rule
    if rule is None:
        return _NUMBERS.sub("<n>", _EMAIL.sub("<email>", request.path))[:200]
    # Numbers (ids) are kept; any other variable (a token) is written as its route.
    if all(isinstance(c, IntegerConverter) for c in rule._converters.values()):
        return request.path
    return rule.rule


def _member_id() -> int | None:
    """The member behind the request, if already known (never a query just for the log)."""
    member = g.get("api_member")
    if member is None:
        user = g.get("_login_user")  # set by Flask-Login once it has loaded the member
        member = user if getattr(user, "is_authenticated", False) else None
    if member is None:
        return None
    # From the identity map: the view's commit may have expired the member's attributes,
    # and reading ``member.id`` would then ask the database again.
    identity = inspect(member).identity
    return identity[0] if identity else None


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    rid = request_id()
    response.headers[HEADER] = rid
    started = g.get("request_started")
    fields = {
        "request_id": rid,
        "method": request.method,
        "path": logged_path(),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "member": _member_id(),
    }
    # A 503 is the database away (answered, logged as a warning by the error handler);
    # other 5xx are bugs.
    if response.status_code == 503:
        level = logging.WARNING
    else:
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
    log.log(level, "request", extra={"fields": fields})
    return response


class _PlainStderr(_Stderr):
    """The development server's own lines as they are (no level, no logger name)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))


def _quiet_dev_server() -> None:
    """``flask run``: werkzeug's access lines dropped (ours say it), its start-up and error
    lines written plainly on stderr."""
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NotAnAccessLine) for f in werkzeug.filters):
        werkzeug.addFilter(_NotAnAccessLine())
    if not any(isinstance(h, _PlainStderr) for h in werkzeug.handlers):
        werkzeug.addHandler(_PlainStderr())
        werkzeug.setLevel(logging.INFO)
        werkzeug.propagate = False


def init_app(app: Flask) -> None:
    """Log every request of ``app`` as one JSON line and tag its error lines."""
    # First, so that the id and the clock exist even if another before_request answers.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.context_processor(lambda: {"request_id": request_id() if has_request_context() else None})
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        log.addHandler(_Stderr())
        log.setLevel(logging.INFO)
        log.propagate = False  # one line per request, not a second copy via the root logger
    if app.config["PEUPLADE_ENV"] == "development":
        _quiet_dev_server()
    for name in _TAGGED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RequestIdFilter) for f in logger.filters):
            logger.addFilter(_RequestIdFilter())
