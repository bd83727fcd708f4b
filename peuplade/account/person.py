"""Limits that bind a person, not an account, and the sign-up signal for moderators.

Each account is a vantage point for locating neighbours' homes, so home moves are
limited (``HOME_CHANGES_PER_30_DAYS`` per ``WINDOW``). Deleting the account and
registering again with the same e-mail must not reset that limit, and registering
again at a new home is itself a move:

* ``record_departure`` (called by ``gdpr.services.delete_account``) keeps, under a keyed
  hash of the e-mail (``email_key``, never the address), the dates of the member's home
  changes within the window plus one row for the departure itself: the move that
  registering again will be.
* ``note_sign_up`` (called right after a sign-up) turns that departure row into a home
  change of the new account, dated from the new sign-up: the re-registration is what
  counts, once. An account deleted without a single move still leaves its departure
  row, so register-delete-register cycles are counted too.
* ``moves_in_window`` (``account.services.home_changes_left``) counts the account's
  own changes and those of the accounts the same person deleted.
* ``follow_address`` keeps them with the person when a member changes e-mail.
* ``moves_blocked_until`` tells sign-up when a person who used every move may register
  again.

The rows are purged after ``RETENTION["departed_home_changes"]`` (``flask
purge-old-data``). Changing ``SECRET_KEY`` makes the old rows unmatchable: the limit
then resets for people who left in the last 30 days, nothing worse.

The sign-up signal: when ``SIGNUP_SIGNAL_COUNT`` accounts created within a day live in
one ~444 m privacy cell, a report with no reporter and the reason ``"signups"`` goes to
the moderators of the newest one's quartier (never a position, only member ids).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from peuplade.account import queries
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.models import DepartedHomeChange, HomeChange, Member, Report, utcnow
from peuplade.validation import normalise_email

log = logging.getLogger("peuplade.security")

# The limit's window (HOME_CHANGES_PER_30_DAYS): changes older than this no longer count.
WINDOW = timedelta(days=30)
# Sign-ups closer together than this in one cell make the signal.
SIGNAL_WINDOW = timedelta(hours=24)
# The member ids named in a signal's text, at most.
SIGNAL_IDS_MAX = 50
# The sub-key of SECRET_KEY for e-mail keys; a new label (v2) would start afresh.
_KEY_LABEL = b"peuplade.account.person.email_key.v1"


# --- who is the same person ---------------------------------------------------------


def _normalised(email: str | None) -> str:
    """The e-mail as accounts store it (``validation.normalise_email``); an address that
    cannot be an account's is only stripped and case-folded."""
    try:
        return normalise_email(email or "")
    except ValidationFailed:
        return (email or "").strip().casefold()


def _sub_key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    raw = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()


def email_key(email: str) -> str:
    """HMAC-SHA256 (64 hex characters) of the normalised e-mail, keyed with a sub-key of
    SECRET_KEY: the same person whatever the case they type, and no address stored (nor
    one that can be tested offline without the key)."""
    return hmac.new(_sub_key(), _normalised(email).encode(), hashlib.sha256).hexdigest()


def _limit() -> int:
    return int(current_app.config["HOME_CHANGES_PER_30_DAYS"])


def _departed(key: str, since: datetime):
    return (DepartedHomeChange.email_key == key, DepartedHomeChange.changed_at > since)


# --- the home-move limit ------------------------------------------------------------


def record_departure(member: Member, now: datetime | None = None) -> int:
    """Before the member row is deleted: keep the dates of its home changes within the
    window, and one for the departure (the move a new sign-up will be), under
    ``email_key(member.email)``. Returns the number of rows written."""
    now = now or utcnow()
    key = email_key(member.email)
    changes = db.session.scalars(
        select(HomeChange.changed_at).where(
            HomeChange.member_id == member.id, HomeChange.changed_at > now - WINDOW
        )
    ).all()
    rows = [DepartedHomeChange(email_key=key, changed_at=at) for at in (*changes, now)]
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def moves_in_window(member_or_email: Member | str, now: datetime | None = None) -> int:
    """The home moves of a person in the last ``WINDOW``: the account's own changes, and
    those its e-mail's deleted accounts left (``record_departure``)."""
    now = now or utcnow()
    since = now - WINDOW
    if isinstance(member_or_email, Member):
        member: Member | None = member_or_email
        email = member_or_email.email
    else:
        email = member_or_email
        member = queries.member_by_email(_normalised(email))
    own = 0
    if member is not None and member.id is not None:
        own = db.session.scalar(
            select(func.count())
            .select_from(HomeChange)
            .where(HomeChange.member_id == member.id, HomeChange.changed_at > since)
        )
    departed = db.session.scalar(
        select(func.count())
        .select_from(DepartedHomeChange)
        .where(*_departed(email_key(email), since))
    )
    return (own or 0) + (departed or 0)


def follow_address(old_email: str, new_email: str) -> int:
    """A member changes their e-mail: the home changes that accounts deleted under the
    old address left (``record_departure``) move to the new one, or signing up again
    with one address and switching to another would shed them. Returns how many."""
    if email_key(old_email) == email_key(new_email):
        return 0
    moved = db.session.execute(
        update(DepartedHomeChange)
        .where(DepartedHomeChange.email_key == email_key(old_email))
        .values(email_key=email_key(new_email))
    )
    return moved.rowcount or 0


def moves_blocked_until(email: str, now: datetime | None = None) -> datetime | None:
    """When a person who deleted their account(s) has already used every move of the
    window, the moment registering again (a move) is allowed; else None.

    The newest departed row is the departure, which the new sign-up turns into a move
    dated from then (``note_sign_up``): the sign-up may go ahead once the other rows
    in the window are fewer than the limit."""
    now = now or utcnow()
    times = sorted(
        db.session.scalars(
            select(DepartedHomeChange.changed_at).where(*_departed(email_key(email), now - WINDOW))
        ).all()
    )
    excess = len(times) - _limit()  # rows that must leave the window first
    if excess <= 0:
        return None
    return times[excess - 1] + WINDOW


def note_sign_up(member: Member, now: datetime | None = None) -> Report | None:
    """Right after ``member`` signed up: (a) if the same person left an account within
    the window, registering again is a home move: the departure row becomes a home
    change of the new account, dated now; (b) the sign-up signal (``signal_sign_ups``).
    Returns the signal's report, if this sign-up raised one."""
    now = now or utcnow()
    if member.id is None:
        db.session.flush()
    departure = db.session.scalar(
        select(DepartedHomeChange)
        .where(*_departed(email_key(member.email), now - WINDOW))
        .order_by(DepartedHomeChange.changed_at.desc(), DepartedHomeChange.id.desc())
        .limit(1)
    )
    if departure is not None:
        db.session.delete(departure)
        db.session.add(HomeChange(member_id=member.id, changed_at=now))
    report = signal_sign_ups(member, now)
    db.session.flush()
    return report


# --- the sign-up signal -------------------------------------------------------------


def _span(start: datetime, end: datetime) -> str:
    minutes = max(int((end - start).total_seconds() // 60), 1)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("%(m)s min", m=minutes)
    return _("%(h)s h %(m)02d", h=hours, m=minutes)


def signal_sign_ups(member: Member, now: datetime | None = None) -> Report | None:
    """If at least ``SIGNUP_SIGNAL_COUNT`` accounts created within ``SIGNAL_WINDOW``
    (``member`` included) have their home in ``member``'s ~444 m cell, and no open
    "signups" report is about an account of that cell, file one for the moderators:
    no reporter, about the newest account, in plain French, with member ids only.
    The cell's key is never written anywhere: it locates homes."""
    now = now or utcnow()
    count = int(current_app.config["SIGNUP_SIGNAL_COUNT"])
    cell = member.cell_1
    if count < 1 or not cell:
        return None
    recent = db.session.execute(
        select(Member.id, Member.created_at, Member.quartier_id)
        .where(Member.cell_1 == cell, Member.created_at > now - SIGNAL_WINDOW)
        .order_by(Member.created_at.desc(), Member.id.desc())
    ).all()
    if len(recent) < count:
        return None
    already = db.session.scalar(
        select(Report.id)
        .join(Member, Member.id == Report.target_member_id)
        .where(Report.reason == "signups", Report.status == "open", Member.cell_1 == cell)
        .limit(1)
    )
    if already is not None:
        return None
    newest = recent[0]
    ids = sorted(row.id for row in recent)
    shown = ", ".join(str(i) for i in ids[:SIGNAL_IDS_MAX])
    if len(ids) > SIGNAL_IDS_MAX:
        shown += "…"
    with force_locale("fr"):  # stored once, in the moderators' language
        details = _(
            "%(n)s comptes ont été créés en %(span)s (moins de 24 heures) avec leur "
            "domicile dans un même carré d'environ 450 m de côté. Numéros de ces comptes : "
            "%(ids)s. Signalé par Peuplade, pas par un membre : voyez si une même personne "
            "multiplie les comptes pour repérer où habitent des voisins. Ce signalement "
            "concerne le plus récent de ces comptes.",
            n=len(recent),
            span=_span(recent[-1].created_at, newest.created_at),
            ids=shown,
        )
    report = Report(
        reporter_id=None,
        target_type="member",
        target_id=newest.id,
        target_member_id=newest.id,
        reason="signups",
        details=details,
        quartier_id=newest.quartier_id,
        status="open",
        created_at=now,
    )
    db.session.add(report)
    db.session.flush()
    log.info("signups signal: report %s, %s accounts, member %s", report.id, len(recent), newest.id)
    return report
