"""Server-side sessions (ASVS 7): a login is a ``MemberSession`` row, and the cookies
carry only its random id.

Flask's signed cookie cannot be revoked: a copy stays valid as long as the key does.
Here the session cookie and the remember-me cookie hold a random id (Flask-Login's
user id, ``Member.get_id``) whose SHA-256 is the row's key; logging out, a password
change or reset, or a moderator's ban deletes the row, and every copy of the cookie is
then worth nothing. Sessions also end after a time without requests (idle) and, in any
case, some days after the login (absolute); see docs/security.md.

A session id starts with ``r`` when the member ticked "Rester connecté" (a longer idle
time) and ``s`` otherwise. The letter is part of what is hashed, so it cannot be
changed without losing the session.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import after_this_request, current_app, has_request_context, session
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, delete, or_, select

from peuplade import security_log, viewer
from peuplade.account.tokens import secret_digest
from peuplade.extensions import db
from peuplade.headers import CLEAR_SITE_DATA
from peuplade.localtime import local_zone
from peuplade.models import Member, MemberSession, utcnow

REMEMBERED = "r"
BROWSER = "s"
# last_seen_at is written at most this often: a page view does not always write.
TOUCH_EVERY = timedelta(minutes=1)
_ID_LENGTH = 1 + 43  # the kind letter + token_urlsafe(32)


def is_refused(member: Member, now: datetime | None = None) -> bool:
    """True while moderation keeps ``member`` out: banned, or suspended (until a day
    still to come, or without end). Moderation sets the status; this only enforces it."""
    if member.status == "banned":
        return True
    if member.status == "suspended":
        return member.suspended_until is None or member.suspended_until > (now or utcnow())
    return False


def access_refusal(member: Member, now: datetime | None = None) -> str | None:
    """What to tell ``member`` when they may not log in or use a session or a token
    now, or None when they may."""
    if not is_refused(member, now):
        return None
    if member.status == "banned":
        return str(_l("Ce compte a été fermé par la modération."))
    if member.suspended_until is None:
        return str(_l("Votre compte est suspendu."))
    day = format_date(member.suspended_until.astimezone(local_zone()), "long", rebase=False)
    return str(_l("Votre compte est suspendu jusqu'au %(date)s.", date=day))


def _idle_limit(session_id: str) -> timedelta:
    config = current_app.config
    if session_id.startswith(REMEMBERED):
        return timedelta(days=config["REMEMBER_IDLE_DAYS"])
    return timedelta(minutes=config["SESSION_IDLE_MINUTES"])


def _max_age() -> timedelta:
    return timedelta(days=current_app.config["SESSION_MAX_DAYS"])


def _forget_expired(member: Member, now: datetime) -> None:
    """Housekeeping at each login: the member's sessions that can no longer be used."""
    longest_idle = max(_idle_limit(REMEMBERED), _idle_limit(BROWSER))  # rows keep no kind
    db.session.execute(
        delete(MemberSession).where(
            MemberSession.member_id == member.id,
            or_(
                MemberSession.created_at < now - _max_age(),
                MemberSession.last_seen_at < now - longest_idle,
            ),
        )
    )


def start(member: Member, remember: bool = False) -> str:
    """A new session for ``member`` (flushed, not committed); sets ``member.session_id``
    for ``flask_login.login_user``. Returns the id, which only the cookie keeps."""
    now = utcnow()
    _forget_expired(member, now)
    session_id = (REMEMBERED if remember else BROWSER) + secrets.token_urlsafe(32)
    db.session.add(
        MemberSession(
            id_hash=secret_digest(session_id),
            member_id=member.id,
            created_at=now,
            last_seen_at=now,
        )
    )
    db.session.flush()
    member.session_id = session_id
    return session_id


def is_remembered(session_id: str | None) -> bool:
    return bool(session_id) and session_id.startswith(REMEMBERED)


def _expiry(row: MemberSession, session_id: str, now: datetime) -> str | None:
    if now - row.created_at >= _max_age():
        return "absolute"
    if now - row.last_seen_at >= _idle_limit(session_id):
        return "idle"
    return None


# The session and its member in one statement, the fixed cost of every logged-in
# request. Its first entity is MemberSession, so peuplade.replicas reads it on the
# primary (a deleted session must stop working at once) without keeping the rest of
# the request's reads off a replica. An outer join: a member gone meanwhile ends the
# session like a refused one.
_session_and_member = (
    select(MemberSession, Member)
    .outerjoin(Member, Member.id == MemberSession.member_id)
    .where(MemberSession.id_hash == bindparam("id_hash"))
)


def _commit_keeping_loaded() -> None:
    """Commit the touch without expiring what the session holds (only the session row
    and its member, just read): the rest of the request reads the member as loaded
    instead of loading it again."""
    session = db.session()
    before, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = before


def member_for_session(session_id: object) -> Member | None:
    """Flask-Login's user loader: the member of a live session, or None.

    Runs at the start of the request (``deny_by_default`` asks for the member first), so
    its own commit (an ended session deleted, ``last_seen_at`` moved) holds nothing else.
    """
    if (
        not isinstance(session_id, str)
        or len(session_id) != _ID_LENGTH
        or session_id[0] not in (REMEMBERED, BROWSER)
    ):
        return None
    found = db.session.execute(_session_and_member, {"id_hash": secret_digest(session_id)}).first()
    if found is None:
        return None
    row, member = found
    now = utcnow()
    expired = _expiry(row, session_id, now)
    # No translated text here: the language is chosen from the member being loaded.
    refused = member is None or is_refused(member, now)
    if expired or refused:
        db.session.delete(row)
        db.session.commit()
        security_log.event(
            "session_ended",
            member=row.member_id,
            reason=expired or (member.status if member is not None else "gone"),
        )
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        _commit_keeping_loaded()
    member.session_id = session_id
    viewer.remember(member)
    return member


def end(session_id: str | None) -> None:
    """Delete the session's row (logout): its cookies, and any copy, stop working."""
    if session_id:
        db.session.execute(
            delete(MemberSession).where(MemberSession.id_hash == secret_digest(session_id))
        )
        db.session.flush()


def _fresh_cookie() -> None:
    """Drop everything in the cookie session but the language the visitor chose."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def log_in(member: Member, remember: bool = False) -> None:
    """Log ``member`` in on this browser: a new server-side session (committed), and a
    cookie that keeps nothing from before but the chosen language (no fixation)."""
    if current_user.is_authenticated:  # someone was logged in on this browser: end it
        end(current_user.session_id)
    _fresh_cookie()
    start(member, remember)
    db.session.commit()
    login_user(member, remember=remember)
    viewer.remember(member)  # the language was picked before login: pick again for them


def log_out() -> None:
    """Forget the login in this browser's cookies (the row is ended by :func:`end`),
    and what the browser keeps of the site besides them: the answer asks it to clear
    its cache and the site's storage, where the installed app keeps the feed it shows
    offline (peuplade/pwa; ``peuplade.headers.CLEAR_SITE_DATA``)."""
    _fresh_cookie()
    logout_user()
    viewer.forget()
    if has_request_context():

        @after_this_request
        def _clear_site_data(response):
            name, value = CLEAR_SITE_DATA
            response.headers[name] = value
            return response
