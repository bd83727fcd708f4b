"""The app's answers to errors: the HTML error pages and the API's JSON errors.

``register_error_handlers`` (called by ``create_app``) installs them: a service saying
no (``errors.ServiceError``), an HTTP error, the database away (503 with Retry-After,
a lost read run once more by ``database.RetryReads``) or refusing a write (409, or 503
when busy), and anything unexpected (500). Each handler rolls the session back first
and builds its answer from plain values (the language is ``peuplade.viewer``'s).
Refused access goes to the security log.
"""

from __future__ import annotations

import contextlib
import logging
import traceback

from flask import Flask, current_app, flash, g, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from peuplade import database, security_log, viewer
from peuplade.errors import Forbidden, NotFound, ServiceError, json_error
from peuplade.extensions import db, login_manager
from peuplade.requestlog import logged_path

# The name operators filter on, and whose lines requestlog tags with the request id.
log = logging.getLogger("peuplade.errors")


def wants_json() -> bool:
    return request.path.startswith("/api/")


PHOTOS_TOO_HEAVY = _l(
    "Vos photos pèsent trop lourd ensemble : rien n'a été envoyé. Choisissez-en moins à "
    "la fois, ou des plus légères (10 Mo chacune au plus)."
)


def _takes_photos() -> bool:
    """The request went to a page that receives photos (photos/uploads.py marks them)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method == "POST" and bool(getattr(view, "peuplade_accepts_photos", False))


_HTTP_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

# Seconds a client should wait before trying again while the database is away.
RETRY_AFTER_S = 5


def _messages() -> dict[int, str]:
    return {
        400: _("La demande est mal formée."),
        401: _("Connectez-vous pour continuer."),
        403: _("Vous n'avez pas accès à cette page."),
        404: _("Cette page n'existe pas, ou n'est pas dans votre voisinage."),
        405: _("Cette action n'est pas possible ici."),
        413: _("Ce que vous avez envoyé est trop volumineux."),
        429: _("Trop de tentatives. Patientez un peu avant de réessayer."),
        500: _("Une erreur est survenue de notre côté. Réessayez dans un instant."),
        503: _("Peuplade est momentanément indisponible. Réessayez dans quelques secondes."),
    }


def _caller_id() -> int | None:
    """The member making the request, for the security log (None when anonymous): as
    remembered at authentication, never read from the ORM (the request may have failed
    a write, which leaves the member's row unreadable until a rollback)."""
    member = viewer.current()
    return member.id if member is not None else None


def _log_refusal(event: str, status: int) -> None:
    """Failed authorisation in the security log: who, what (method, path), the answer."""
    security_log.warning(event, member=_caller_id(), status=status)


# HTTP answers worth a security log line (and CSRF failures): refused, rate limited.
_LOGGED_HTTP = {403: "forbidden", 429: "rate_limited"}


# Set on a session's info while its transaction has written (a flush, or an ORM
# INSERT/UPDATE/DELETE statement); cleared when that transaction ends.
_WROTE = "peuplade_wrote"


@event.listens_for(Session, "before_flush")
def _note_flush(session, _context, _instances) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_dml(state) -> None:
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def roll_back() -> None:
    """``database.rollback_quietly``, keeping the logged-in member readable when this
    transaction wrote nothing: a rollback expires every object the session holds, and
    the error page (its menu, its language) would load the member a second time. After
    a write, or with the member changed in memory, the member is reloaded as before:
    what it held may have been undone."""
    member = g.get("_login_user")  # Flask-Login's per-request user, once loaded
    state = inspect(member, raiseerr=False) if member is not None else None
    keep = (
        state is not None
        and state.persistent
        and not state.modified
        and not state.expired_attributes
        and not db.session.info.get(_WROTE)
    )
    if keep:
        db.session.expunge(member)
    database.rollback_quietly()
    if keep:
        db.session.add(member)  # persistent again, its attributes as read: no query


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        roll_back()  # a service said no: nothing it flushed is kept
        if isinstance(exc, Forbidden | NotFound):
            # Someone asked for an object that is not theirs to see or change.
            _log_refusal(exc.code, exc.status)
        if wants_json():
            return json_error(exc.status, exc.code, exc.message, exc.fields, **exc.details())
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        roll_back()  # nothing half-done is kept, and the page can read
        if not wants_json():
            # Refused before the access check loaded the member (CSRF, rate limits, a
            # body too large): load them now, for the log and the page's language.
            current_user.is_authenticated  # noqa: B018
        status = exc.code or 500
        if isinstance(exc, CSRFError):
            _log_refusal("csrf_failed", status)
        elif status in _LOGGED_HTTP:
            _log_refusal(_LOGGED_HTTP[status], status)
        message = _messages().get(status) or exc.description
        if wants_json():
            # A handler may have set a precise description (e.g. which JSON field is wrong).
            precise = getattr(exc, "peuplade_message", None)
            response = json_error(status, _HTTP_CODES.get(status, "error"), precise or message)
            for key, value in exc.get_headers():  # e.g. Allow on 405, WWW-Authenticate
                if key.lower() != "content-type":
                    response.headers[key] = value
        elif status == 413 and _takes_photos():
            # Photos heavier than a request may be (PHOTO_REQUEST_MAX_BYTES): the body
            # cannot be read, so say so on the form itself, empty but at hand.
            flash(PHOTOS_TOO_HEAVY, "error")
            response = redirect(request.full_path.rstrip("?"), 303)
        else:
            response = render_template("error.html", status=status, message=message), status
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Whatever failed, the session may hold a failed transaction: give it back usable
        # before the page (its menu asks the database) or anything else reads it.
        database.rollback_quietly()
        refused = database.refusal(exc)  # first: SQLite's "locked" is busy, not away
        if refused is not None:
            return database_refused(exc, refused)
        reason = database.unavailable(exc)
        if reason is not None:
            return database_unavailable(exc, reason)
        if isinstance(exc, DBAPIError):
            # The driver's message can quote the failing row (emails, positions): log
            # where it happened and the SQLSTATE only.
            state = getattr(getattr(exc.orig, "diag", None), "sqlstate", None)
            log.error(
                "database error %s (%s) on %s %s\n%s",
                type(exc.orig).__name__,
                state or "-",
                request.method,
                logged_path(),
                "".join(traceback.format_tb(exc.__traceback__)),
            )
        else:
            log.exception("unhandled error on %s %s", request.method, logged_path())
        if wants_json():
            return json_error(500, "internal_error", _messages()[500])
        return render_template("error.html", status=500, message=_messages()[500]), 500


def database_refused(exc: DBAPIError, refused):
    """The database refused a write that no guard of ours turned into a message (a
    racing twin at a unique index, a transaction it could not serialise, a lock not
    granted in time): 409, or 503 with Retry-After when busy, as the friendly page or
    the API's JSON error. The session is rolled back before anything else, and the
    answer is built from plain values (the language is ``peuplade.viewer``'s)."""
    database.rollback_quietly()
    state = getattr(getattr(exc.orig, "diag", None), "sqlstate", None)
    log.warning(
        "write refused by the database (%s, %s %s, %s) on %s %s",
        refused.kind,
        type(exc.orig).__name__,
        state or "-",
        refused.constraint or "-",
        request.method,
        logged_path(),
    )
    status = refused.status
    message = database.refusal_message(refused)
    if wants_json():
        response = json_error(status, _HTTP_CODES[status], message)
    else:
        response = make_response(
            render_template("error.html", status=status, message=message), status
        )
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        response.headers["Cache-Control"] = "no-store"
    return response


def database_unavailable(exc: DBAPIError, reason: str):
    """The database is away (restart, failover, overload): a 503 with Retry-After, the
    friendly page or the API's JSON error, and a warning without personal data. A read
    whose connection was lost is marked for one more run (database.RetryReads)."""
    with contextlib.suppress(DBAPIError):  # the connection is gone: nothing to roll back
        db.session.rollback()
    # Nothing below may ask the database again: the member (page language, menu,
    # cache headers) is no longer known for the rest of this request.
    g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request user
    g.pop("api_member", None)
    state = getattr(getattr(exc.orig, "diag", None), "sqlstate", None)
    log.warning(
        "database unavailable (%s, %s %s) on %s %s",
        reason,
        type(exc.orig).__name__,
        state or "-",
        request.method,
        logged_path(),
    )
    if reason in (database.LOST, database.CONNECT_FAILED):
        request.environ[database.RETRY_KEY] = reason
        request.environ[database.RETRY_PATH_KEY] = logged_path()
    if wants_json():
        response = json_error(503, "unavailable", _messages()[503])
    else:
        page = render_template("errors/unavailable.html", read=request.method in ("GET", "HEAD"))
        response = make_response(page, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response
