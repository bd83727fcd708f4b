"""GDPR rights: export my data (access, portability), delete my account (erasure), and
the purge that enforces the retention periods the privacy policy states.

``export`` reads only. ``delete_account`` and ``purge_old_data`` flush and never
commit; the request (or the command) commits once.

What the export holds, and what it leaves out (GDPR article 20(4)): everything the
member wrote, in full; everything stored about them (account, their own home, sessions
and tokens without their secrets, notifications...). Other people appear only as a
pseudonymous label ("voisin·e n°2", the same label for the same person throughout one
export); their names, e-mail addresses, positions and the text they wrote (messages,
answers, comments, thank-you notes) are left out. See docs/privacy.md.

The photos the member sent (their posts', their face, those kept for a form not yet
sent) are named in the export (``photos``); ``write_archive`` makes the HTML download:
a ZIP of the same JSON and every photo's file (the cleaned 1600 px variant).
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime, timedelta
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, or_, select

from peuplade import geo, security_log
from peuplade.account import blur, person
from peuplade.account import services as accounts
from peuplade.errors import Conflict, ValidationFailed
from peuplade.extensions import db
from peuplade.gdpr.policy import RETENTION
from peuplade.loans import services as loans
from peuplade.models import (
    HOLDING,
    ApiToken,
    Block,
    Conversation,
    DepartedHomeChange,
    Event,
    Exchange,
    ExchangeResponse,
    HomeChange,
    Item,
    Loan,
    Member,
    MemberSession,
    Message,
    ModerationAction,
    Moderator,
    NewsComment,
    NewsPost,
    Notification,
    PasswordReset,
    Photo,
    Post,
    Quartier,
    Report,
    Rsvp,
    Thanks,
    utcnow,
)
from peuplade.notifications import kinds
from peuplade.notifications import services as notifications
from peuplade.photos import services as photos
from peuplade.photos import storage as photo_storage
from peuplade.photos import urls as photo_urls

EXPORT_FORMAT = "peuplade-export"
EXPORT_VERSION = 1
EXPORT_FILENAME = "peuplade-mes-donnees.json"
# The HTML download: a ZIP holding the JSON under ARCHIVE_JSON and photos/<id>.jpg.
ARCHIVE_FILENAME = "peuplade-mes-donnees.zip"
ARCHIVE_JSON = "peuplade-export.json"


# --- export ------------------------------------------------------------------------


class _Pseudonyms:
    """Other members as "voisin·e n°1", "voisin·e n°2"... in order of first appearance:
    the same person keeps one label throughout one export, and is never named."""

    def __init__(self, me: Member):
        self._me = me.id
        self._labels: dict[int | None, str] = {}

    def __call__(self, member_id: int | None) -> str | None:
        if member_id is None:
            return None
        if member_id not in self._labels:
            self._labels[member_id] = _("voisin·e n°%(n)s", n=len(self._labels) + 1)
        return self._labels[member_id]


def _when(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _position(element: Any) -> dict[str, float] | None:
    point = geo.from_element(element)
    return None if point is None else {"lat": point.lat, "lon": point.lon}


def _post(post: Post) -> dict[str, Any]:
    """What every post of mine has in common (its position is public: a cell centre or
    a public place)."""
    return {
        "id": post.id,
        "status": post.status,
        "position": _position(post.position),
        "place_name": post.place_name,
        "reach_m": post.reach_m,
        "created_at": _when(post.created_at),
        "updated_at": _when(post.updated_at),
        "expires_at": _when(post.expires_at),
        "hidden_at": _when(post.hidden_at),
    }


def _account(member: Member) -> dict[str, Any]:
    quartier = member.quartier
    moderates = db.session.scalars(
        select(Quartier.slug)
        .join(Moderator, Moderator.quartier_id == Quartier.id)
        .where(Moderator.member_id == member.id)
        .order_by(Quartier.slug)
    ).all()
    return {
        "id": member.id,
        "email": member.email,
        "email_confirmed_at": _when(member.email_confirmed_at),
        "pending_email": member.pending_email,
        "display_name": member.display_name,
        "bio": member.bio,
        "radius_m": member.radius_m,
        "locale": member.locale,
        "skills": member.skill_slugs,
        "tags": member.tag_names,
        # The member's own home: theirs to take away (it is never in anyone else's export).
        "home": _position(member.home),
        "public_position": _position(member.public_position),
        "quartier": None
        if quartier is None
        else {"slug": quartier.slug, "name": quartier.display_name},
        "status": member.status,
        "suspended_until": _when(member.suspended_until),
        "is_admin": member.is_admin,
        "moderates": list(moderates),
        "created_at": _when(member.created_at),
        "updated_at": _when(member.updated_at),
    }


def _security(member: Member) -> dict[str, Any]:
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.created_at)
    ).all()
    sessions = db.session.scalars(
        select(MemberSession)
        .where(MemberSession.member_id == member.id)
        .order_by(MemberSession.created_at)
    ).all()
    resets = db.session.scalars(
        select(PasswordReset)
        .where(PasswordReset.member_id == member.id)
        .order_by(PasswordReset.created_at)
    ).all()
    changes = db.session.scalars(
        select(HomeChange.changed_at)
        .where(HomeChange.member_id == member.id)
        .order_by(HomeChange.changed_at)
    ).all()
    return {
        "home_changes": [{"changed_at": _when(at)} for at in changes],
        # Metadata only: never a token, a session id or one of their hashes.
        "api_tokens": [
            {
                "id": t.id,
                "name": t.name,
                "created_at": _when(t.created_at),
                "expires_at": _when(t.expires_at),
                "last_used_at": _when(t.last_used_at),
            }
            for t in tokens
        ],
        "sessions": [
            {"created_at": _when(s.created_at), "last_seen_at": _when(s.last_seen_at)}
            for s in sessions
        ],
        "password_resets": [
            {
                "created_at": _when(r.created_at),
                "expires_at": _when(r.expires_at),
                "used_at": _when(r.used_at),
            }
            for r in resets
        ],
    }


def _exchanges(member: Member, who: _Pseudonyms) -> dict[str, Any]:
    mine = db.session.scalars(
        select(Exchange).where(Exchange.author_id == member.id).order_by(Exchange.created_at)
    ).all()
    exchanges = []
    for e in mine:
        exchanges.append(
            {
                **_post(e),
                "kind": e.kind,
                "title": e.title,
                "body": e.body,
                "category": e.category,
                "starts_on": _when(e.starts_on),
                "ends_on": _when(e.ends_on),
                "closed_at": _when(e.closed_at),
                "helper": who(e.helper_id),
                "on_behalf_of": e.on_behalf_of,
                "behalf_consent_at": _when(e.behalf_consent_at),
                # Who answered and when; what they wrote is theirs.
                "responses_received": [
                    {"from": who(r.author_id), "created_at": _when(r.created_at)}
                    for r in e.responses
                ],
            }
        )
    responses = db.session.execute(
        select(ExchangeResponse, Exchange.title)
        .join(Exchange, Exchange.id == ExchangeResponse.exchange_id)
        .where(ExchangeResponse.author_id == member.id)
        .order_by(ExchangeResponse.created_at)
    ).all()
    helped = db.session.execute(
        select(Exchange.id, Exchange.title, Exchange.author_id, Exchange.closed_at)
        .where(Exchange.helper_id == member.id)
        .order_by(Exchange.created_at)
    ).all()
    given = db.session.execute(
        select(Thanks, Exchange.title)
        .join(Exchange, Exchange.id == Thanks.exchange_id)
        .where(Thanks.from_member_id == member.id)
        .order_by(Thanks.created_at)
    ).all()
    received = db.session.execute(
        select(Thanks, Exchange.title)
        .join(Exchange, Exchange.id == Thanks.exchange_id)
        .where(Thanks.to_member_id == member.id)
        .order_by(Thanks.created_at)
    ).all()
    return {
        "exchanges": exchanges,
        "responses": [
            {
                "exchange_id": r.exchange_id,
                "exchange_title": title,
                "message": r.message,
                "created_at": _when(r.created_at),
            }
            for r, title in responses
        ],
        "helped": [
            {
                "exchange_id": exchange_id,
                "exchange_title": title,
                "author": who(author_id),
                "closed_at": _when(closed_at),
            }
            for exchange_id, title, author_id, closed_at in helped
        ],
        "thanks_given": [
            {
                "exchange_id": t.exchange_id,
                "exchange_title": title,
                "to": who(t.to_member_id),
                "message": t.message,
                "created_at": _when(t.created_at),
            }
            for t, title in given
        ],
        "thanks_received": [
            {
                "exchange_id": t.exchange_id,
                "exchange_title": title,
                "from": who(t.from_member_id),
                "created_at": _when(t.created_at),
            }
            for t, title in received
        ],
    }


def _items_and_loans(member: Member, who: _Pseudonyms) -> dict[str, Any]:
    items = db.session.scalars(
        select(Item).where(Item.author_id == member.id).order_by(Item.created_at)
    ).all()
    my_loans = db.session.scalars(
        select(Loan)
        .where(or_(Loan.lender_id == member.id, Loan.borrower_id == member.id))
        .order_by(Loan.created_at)
    ).all()
    loan_list = []
    for loan in my_loans:
        lender = loan.lender_id == member.id
        loan_list.append(
            {
                "id": loan.id,
                "item_id": loan.item_id,
                "item_title": loan.item.title,
                "role": "lender" if lender else "borrower",
                "other_party": who(loan.borrower_id if lender else loan.lender_id),
                "start": _when(loan.start),
                "due": _when(loan.due),
                "status": loan.status,
                # The request's message is the borrower's: only theirs to take away.
                "message": None if lender else loan.message,
                "decided_at": _when(loan.decided_at),
                "lent_at": _when(loan.lent_at),
                "returned_at": _when(loan.returned_at),
                "created_at": _when(loan.created_at),
                "updated_at": _when(loan.updated_at),
            }
        )
    return {
        "items": [
            {
                **_post(i),
                "title": i.title,
                "description": i.description,
                "category": i.category,
                "condition": i.condition,
                "notes": i.notes,
                "available": i.available,
            }
            for i in items
        ],
        "loans": loan_list,
    }


def _news_and_events(member: Member, who: _Pseudonyms) -> dict[str, Any]:
    news = db.session.scalars(
        select(NewsPost).where(NewsPost.author_id == member.id).order_by(NewsPost.created_at)
    ).all()
    comments = db.session.execute(
        select(NewsComment, NewsPost.title)
        .join(NewsPost, NewsPost.id == NewsComment.news_id)
        .where(NewsComment.author_id == member.id)
        .order_by(NewsComment.created_at)
    ).all()
    events = db.session.scalars(
        select(Event).where(Event.author_id == member.id).order_by(Event.created_at)
    ).all()
    rsvps = db.session.execute(
        select(Rsvp, Event.title, Event.starts_at)
        .join(Event, Event.id == Rsvp.event_id)
        .where(Rsvp.member_id == member.id)
        .order_by(Rsvp.created_at)
    ).all()
    return {
        "news": [
            {
                **_post(n),
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "link": n.link,
                "scope": n.scope,
                "comments_received": [
                    {"from": who(c.author_id), "created_at": _when(c.created_at)}
                    for c in n.comments
                    if c.author_id != member.id
                ],
            }
            for n in news
        ],
        "comments": [
            {
                "news_id": c.news_id,
                "news_title": title,
                "body": c.body,
                "created_at": _when(c.created_at),
                "hidden_at": _when(c.hidden_at),
            }
            for c, title in comments
        ],
        "events": [
            {
                **_post(e),
                "title": e.title,
                "body": e.body,
                "starts_at": _when(e.starts_at),
                "ends_at": _when(e.ends_at),
                "capacity": e.capacity,
                # Who comes is theirs to tell: a count only.
                "going_count": sum(1 for r in e.rsvps if r.going),
            }
            for e in events
        ],
        "rsvps": [
            {
                "event_id": r.event_id,
                "event_title": title,
                "event_starts_at": _when(starts_at),
                "going": r.going,
                "created_at": _when(r.created_at),
                "updated_at": _when(r.updated_at),
            }
            for r, title, starts_at in rsvps
        ],
    }


def _conversations(member: Member, who: _Pseudonyms) -> list[dict[str, Any]]:
    found = db.session.scalars(
        select(Conversation)
        .where(or_(Conversation.member_a_id == member.id, Conversation.member_b_id == member.id))
        .order_by(Conversation.created_at)
    ).all()
    result = []
    for c in found:
        other = c.member_b_id if c.member_a_id == member.id else c.member_a_id
        messages = db.session.scalars(
            select(Message)
            .where(Message.conversation_id == c.id)
            .order_by(Message.created_at, Message.id)
        ).all()
        result.append(
            {
                "id": c.id,
                "with": who(other),
                "subject_type": c.subject_type,
                "subject_id": c.subject_id,
                "subject_title": c.subject_title,
                "created_at": _when(c.created_at),
                "last_message_at": _when(c.last_message_at),
                "read_at": _when(c.read_at(member)),
                "messages": [
                    {
                        "mine": m.author_id == member.id,
                        "author": None if m.author_id == member.id else who(m.author_id),
                        # The other person's words are theirs: left out (art. 20(4)).
                        "body": m.body if m.author_id == member.id else None,
                        "created_at": _when(m.created_at),
                        "hidden_at": _when(m.hidden_at) if m.author_id == member.id else None,
                    }
                    for m in messages
                ],
            }
        )
    return result


def _notifications(member: Member) -> dict[str, Any]:
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.member_id == member.id)
        .order_by(Notification.created_at, Notification.id)
    ).all()
    return {
        "notifications": [
            {
                "id": n.id,
                "kind": n.kind,
                # Worded without the actor's name ("Un·e voisin·e ...").
                "text": kinds.text(n.kind, None, n.subject_title, n.detail),
                "subject": None
                if n.subject_type is None
                else {"type": n.subject_type, "id": n.subject_id, "title": n.subject_title},
                "created_at": _when(n.created_at),
                "read_at": _when(n.read_at),
                "email_state": n.email_state,
                "emailed_at": _when(n.emailed_at),
            }
            for n in rows
            if n.kind in kinds.KINDS
        ],
        "notification_settings": notifications.settings_of(member),
    }


def _safety(member: Member, who: _Pseudonyms) -> dict[str, Any]:
    reports = db.session.scalars(
        select(Report).where(Report.reporter_id == member.id).order_by(Report.created_at)
    ).all()
    blocks = db.session.scalars(
        select(Block).where(Block.blocker_id == member.id).order_by(Block.created_at)
    ).all()
    decisions = db.session.scalars(
        select(ModerationAction)
        .where(ModerationAction.member_id == member.id)
        .order_by(ModerationAction.created_at)
    ).all()
    return {
        # What I reported and where it stands; not who handled it, nor the other reports.
        "reports": [
            {
                "target_type": r.target_type,
                "target_id": r.target_id,
                "reason": r.reason,
                "details": r.details,
                "status": r.status,
                "created_at": _when(r.created_at),
            }
            for r in reports
        ],
        "blocks": [
            {"member": who(b.blocked_id), "created_at": _when(b.created_at)} for b in blocks
        ],
        # Decisions about me (warnings, suspensions, hidden posts), without the moderator.
        "moderation_decisions": [
            {
                "action": a.action,
                "target_type": a.target_type,
                "target_id": a.target_id,
                "reason": a.reason,
                "until": _when(a.until),
                "created_at": _when(a.created_at),
            }
            for a in decisions
        ],
    }


def _my_photos(member: Member) -> list[Photo]:
    return list(
        db.session.scalars(select(Photo).where(Photo.member_id == member.id).order_by(Photo.id))
    )


def photo_file(photo: Photo) -> str:
    """A photo's name in the export's ZIP archive."""
    return f"photos/{photo.id}.jpg"


def _photos(member: Member) -> list[dict[str, Any]]:
    """Every photo I sent: of my posts, my face, and those kept for a form I have not
    sent yet. Cleaned on upload: no metadata of the original was kept."""
    types = dict(
        db.session.execute(
            select(Post.id, Post.type)
            .join(Photo, Photo.post_id == Post.id)
            .where(Photo.member_id == member.id)
        ).all()
    )
    rows = []
    for photo in _my_photos(member):
        if photo.staged_key is not None:
            of = "staged"
        elif photo.post_id is None:
            of = "avatar"
        else:
            of = "post"
        post_type = types.get(photo.post_id)
        rows.append(
            {
                "id": photo.id,
                "of": of,
                "post": None
                if photo.post_id is None or post_type is None
                else {"type": post_type, "id": photo.post_id},
                "alt": photo.alt,
                "width": photo.width,
                "height": photo.height,
                "created_at": _when(photo.created_at),
                "file": photo_file(photo),
                "url": photo_urls.photo_url(photo),
            }
        )
    return rows


def export(member: Member) -> dict[str, Any]:
    """Everything stored about ``member``, as JSON-ready data (GDPR arts. 15 and 20).

    Other members appear only as pseudonymous labels, and what they wrote is left out;
    the member's own home is included (it is theirs)."""
    who = _Pseudonyms(member)
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": _when(utcnow()),
        "notice": _(
            "Toutes les données que Peuplade garde sur vous. Les autres membres n'y "
            "figurent que sous un pseudonyme (« voisin·e n°1 »…), sans leur nom ni ce "
            "qu'ils ont écrit."
        ),
        "account": _account(member),
    }
    data.update(_security(member))
    data.update(_exchanges(member, who))
    data.update(_items_and_loans(member, who))
    data.update(_news_and_events(member, who))
    data["conversations"] = _conversations(member, who)
    data.update(_notifications(member))
    data.update(_safety(member, who))
    data["photos"] = _photos(member)
    return data


def write_archive(member: Member, out: IO[bytes]) -> None:
    """The HTML download: a ZIP of ``ARCHIVE_JSON`` (the export) and ``photos/<id>.jpg``,
    each photo's full variant as stored (either backend). A photo whose file is lost
    (filesystem backend) is listed with ``"file": null``."""
    data = export(member)
    by_id = {photo.id: photo for photo in _my_photos(member)}
    with zipfile.ZipFile(out, "w") as archive:
        for row in data["photos"]:
            photo = by_id.get(row["id"])
            content = photo_storage.read(photo, "full") if photo is not None else None
            if content is None:
                row["file"] = None
                continue
            # JPEG is compressed already: stored as is.
            archive.writestr(row["file"], content, compress_type=zipfile.ZIP_STORED)
            # One photo's bytes in memory at a time.
            db.session.expire(photo, ["data"])
        body = json.dumps(data, ensure_ascii=False, indent=2)
        archive.writestr(ARCHIVE_JSON, body, compress_type=zipfile.ZIP_DEFLATED)


# --- account deletion --------------------------------------------------------------


def loans_in_progress(member: Member) -> list[Loan]:
    """Loans that hold an object for the member or from them (accepted, or lent and not
    yet returned): the account cannot be deleted while there is one."""
    return list(
        db.session.scalars(
            select(Loan)
            .where(
                or_(Loan.lender_id == member.id, Loan.borrower_id == member.id),
                Loan.status.in_(HOLDING),
            )
            .order_by(Loan.due)
        )
    )


def _check_password(member: Member, password: str | None) -> None:
    """The account's password, asked again (field ``password``)."""
    try:
        accounts.verify_current_password(member, password)
    except ValidationFailed:
        if password:
            msg = _l("Ce n'est pas le bon mot de passe.")
        else:
            msg = _l("Indiquez votre mot de passe pour confirmer.")
        raise ValidationFailed(msg, {"password": msg}) from None


def delete_account(member: Member, password: str | None) -> None:
    """Erase the member's account and everything they wrote (GDPR art. 17).

    Refused (Conflict) while a loan is in progress, as lender or borrower. Pending loan
    requests are cancelled first, so the other party is told. Then the member row is
    deleted and the database cascades to every row that names them (posts, answers,
    comments, thanks, messages, conversations, loans, tokens, sessions...); columns that
    only point at them from other people's rows (a moderation log entry, a helper
    named on someone else's exchange) are set to NULL. Finally the crowd-blurred
    positions of the neighbours who counted them are worked out again.

    What stays: the dates of the member's home moves of the last 30 days, and of the
    departure, under a keyed hash of the e-mail (``account.person.record_departure``),
    so that registering again does not reset the home-move limit; purged after 30 days."""
    _check_password(member, password)
    if loans_in_progress(member):
        raise Conflict(
            _l(
                "Vous ne pouvez pas encore supprimer votre compte : un prêt est en cours "
                "(accepté, ou un objet pas encore rendu). Annulez-le ou attendez le retour "
                "de l'objet, puis recommencez."
            )
        )
    member_id = member.id
    # Notifications about what disappears with the member would lead nowhere.
    posts = db.session.execute(select(Post.type, Post.id).where(Post.author_id == member_id))
    for post_type, post_id in posts.all():
        notifications.forget(post_type, post_id)
    involved = or_(Loan.lender_id == member_id, Loan.borrower_id == member_id)
    for loan_id in db.session.scalars(select(Loan.id).where(involved)).all():
        notifications.forget("loan", loan_id)
    mine = or_(Conversation.member_a_id == member_id, Conversation.member_b_id == member_id)
    for conversation_id in db.session.scalars(select(Conversation.id).where(mine)).all():
        notifications.forget("conversation", conversation_id)
    # Then the pending requests are called off, which tells the other party.
    pending = db.session.scalars(select(Loan).where(involved, Loan.status == "requested")).all()
    for loan in pending:
        loans.cancel(loan, member)
    # The home-move limit binds the person: their recent moves outlive the account.
    person.record_departure(member)
    cell_0, cell_1 = blur.forget_home(member)
    db.session.delete(member)
    db.session.flush()
    blur.after_leaving([cell_1], [cell_0])
    security_log.event("account_deleted", member=member_id)


# --- retention ---------------------------------------------------------------------


def _session_limits() -> tuple[timedelta, timedelta]:
    """The longest idle time a session may have (a remembered one) and its absolute
    lifetime (auth/sessions.py): a session past either is over for good."""
    config = current_app.config
    idle = max(
        timedelta(days=config["REMEMBER_IDLE_DAYS"]),
        timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
    )
    return idle, timedelta(days=config["SESSION_MAX_DAYS"])


def purge_old_data(now: datetime | None = None) -> dict[str, int]:
    """Delete what the privacy policy says is kept no longer (``policy.RETENTION``), and
    the sessions and tokens that can no longer be used. Returns rows deleted per table."""
    now = now or utcnow()
    idle, absolute = _session_limits()
    current_version = (
        select(Member.session_version).where(Member.id == ApiToken.member_id).scalar_subquery()
    )
    measure_in_force = exists().where(
        Member.id == ModerationAction.member_id, Member.status != "active"
    )
    statements = {
        "notifications": delete(Notification).where(
            Notification.created_at < now - RETENTION["notifications"]
        ),
        "password_resets": delete(PasswordReset).where(
            PasswordReset.expires_at < now - RETENTION["password_resets"]
        ),
        "member_sessions": delete(MemberSession).where(
            or_(MemberSession.last_seen_at < now - idle, MemberSession.created_at < now - absolute)
        ),
        "api_tokens": delete(ApiToken).where(
            or_(ApiToken.expires_at < now, ApiToken.session_version != current_version)
        ),
        "home_changes": delete(HomeChange).where(
            HomeChange.changed_at < now - RETENTION["home_changes"]
        ),
        "departed_home_changes": delete(DepartedHomeChange).where(
            DepartedHomeChange.changed_at < now - RETENTION["departed_home_changes"]
        ),
        "moderation_actions": delete(ModerationAction).where(
            ModerationAction.created_at < now - RETENTION["moderation_actions"],
            ~measure_in_force,
        ),
        "reports": delete(Report).where(
            and_(Report.status != "open", Report.handled_at < now - RETENTION["reports"])
        ),
    }
    counts = {}
    for table, statement in statements.items():
        result = db.session.execute(statement.execution_options(synchronize_session=False))
        counts[table] = result.rowcount or 0
    # Photos kept for a form abandoned a day ago (their files too, after the commit).
    counts["staged_photos"] = photos.purge_staged(now)
    db.session.flush()
    return counts
