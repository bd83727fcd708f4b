"""Private conversations: start one, write, mark as read.

A member may write to a neighbour (either's radius covers the other, on public
positions) or to someone they already share an exchange or a loan with. A conversation
may be about an exchange, an object, a loan or an outing: messages sits above those
features and loads its subject through their own ``get_..._or_404``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select

from peuplade.account.queries import get_member_or_404
from peuplade.errors import Forbidden, NotFound, ValidationFailed
from peuplade.events.queries import get_event_or_404
from peuplade.exchanges.queries import get_exchange_or_404
from peuplade.extensions import db
from peuplade.loans.queries import get_item_or_404, get_loan_or_404
from peuplade.models import (
    Conversation,
    ExchangeResponse,
    Loan,
    Member,
    Message,
    Post,
    utcnow,
)
from peuplade.moderation import limits
from peuplade.notifications import services as notifications
from peuplade.posts import audience
from peuplade.submissions import clean_submission_key, write_once
from peuplade.validation import clean_text

BODY_MAX = 4000


@dataclass(frozen=True)
class Subject:
    """What a conversation is about: ("exchange" | "item" | "event", post id) or
    ("loan", loan id)."""

    type: str
    id: int


def _body(text: str | None) -> str:
    cleaned = clean_text(text)
    if not cleaned:
        msg = _l("Écrivez un message.")
        raise ValidationFailed(msg, {"message": msg})
    if len(cleaned) > BODY_MAX:
        msg = _l("%(n)s caractères au plus.", n=BODY_MAX)
        raise ValidationFailed(msg, {"message": msg})
    return cleaned


def _share_an_exchange_or_loan(a: Member, b: Member) -> bool:
    """They met through an exchange (one answered the other's) or a loan."""
    answered = exists().where(
        ExchangeResponse.exchange_id == Post.id,
        or_(
            and_(Post.author_id == a.id, ExchangeResponse.author_id == b.id),
            and_(Post.author_id == b.id, ExchangeResponse.author_id == a.id),
        ),
    )
    lent = exists().where(
        or_(
            and_(Loan.lender_id == a.id, Loan.borrower_id == b.id),
            and_(Loan.lender_id == b.id, Loan.borrower_id == a.id),
        )
    )
    return bool(db.session.scalar(select(or_(answered, lent))))


def _not_allowed() -> Forbidden:
    """The one refusal for writing to someone (a block is not told apart)."""
    return Forbidden(
        _l(
            "Vous ne pouvez écrire qu'à vos voisins, ou à quelqu'un avec qui "
            "vous avez un échange ou un prêt."
        )
    )


def may_write(sender: Member, recipient: Member) -> bool:
    """Neighbours (either's radius, public positions) or people met through an exchange
    or a loan. The moderation issue adds blocking here."""
    if sender.id == recipient.id:
        return False
    if audience.blocked_between(sender.id, recipient.id):
        return False  # a block silences both ways; the blocked one is not told why
    try:
        get_member_or_404(sender, recipient.id)  # the neighbourhood rules of profiles
        return True
    except NotFound:
        return _share_an_exchange_or_loan(sender, recipient)


def subject_title(subject: Subject | None, sender: Member) -> str | None:
    """The subject's title, if the sender may see it (else a ValidationFailed on
    ``about``); writes nothing."""
    if subject is None:
        return None
    finders = {
        "exchange": lambda: get_exchange_or_404(sender, subject.id).title,
        "item": lambda: get_item_or_404(sender, subject.id).title,
        "event": lambda: get_event_or_404(sender, subject.id).title,
        "loan": lambda: get_loan_or_404(sender, subject.id).item.title,
    }
    if subject.type not in finders:
        msg = _l("Sujet inconnu.")
        raise ValidationFailed(msg, {"about": msg})
    try:
        return finders[subject.type]()
    except NotFound:
        msg = _l("Ce sujet n'existe pas, ou n'est pas dans votre voisinage.")
        raise ValidationFailed(msg, {"about": msg}) from None


def sent_with(author: Member, key: str | None) -> Message | None:
    """The message ``author`` already sent with the form token ``key``, if any."""
    if key is None:
        return None
    return db.session.scalar(
        select(Message).where(Message.author_id == author.id, Message.submission_key == key)
    )


def _conversation(sender: Member, recipient: Member, subject: Subject | None, title):
    """The conversation between the two about ``subject``, created if need be."""
    a, b = sorted((sender.id, recipient.id))
    conversation = db.session.scalar(
        select(Conversation).where(
            Conversation.member_a_id == a,
            Conversation.member_b_id == b,
            Conversation.subject_type.is_(None)
            if subject is None
            else Conversation.subject_type == subject.type,
            Conversation.subject_id.is_(None)
            if subject is None
            else Conversation.subject_id == subject.id,
        )
    )
    if conversation is None:
        conversation = Conversation(
            member_a_id=a,
            member_b_id=b,
            subject_type=subject.type if subject else None,
            subject_id=subject.id if subject else None,
            subject_title=title,
        )
        db.session.add(conversation)
        db.session.flush()
    return conversation


def start(
    sender: Member,
    recipient: Member,
    message: str | None,
    subject: Subject | None = None,
    submission_key: str | None = None,
) -> Conversation:
    """Write to someone; a conversation about the same subject between the same two
    people goes on rather than starting over. The same form sent twice
    (``submission_key``) sends one message and gives its conversation back."""
    key = clean_submission_key(submission_key)
    earlier = sent_with(sender, key)
    if earlier is not None:
        return earlier.conversation
    body = _body(message)
    if not may_write(sender, recipient):
        raise _not_allowed()
    title = subject_title(subject, sender)
    limits.check_new_account_messages(sender)
    note, created = write_once(
        lambda: sent_with(sender, key),
        lambda: _add(_conversation(sender, recipient, subject, title), sender, body, key),
    )
    if created:
        notifications.notify_message(note.conversation, sender)
    return note.conversation


def write(
    conversation: Conversation,
    author: Member,
    message: str | None,
    submission_key: str | None = None,
) -> Message:
    """A new message from a participant (the conversation is read up to it for them).
    The same form sent twice (``submission_key``) gives the first message back."""
    if author.id not in (conversation.member_a_id, conversation.member_b_id):
        raise NotFound(_l("Cette conversation n'existe pas."))
    key = clean_submission_key(submission_key)
    earlier = sent_with(author, key)
    if earlier is not None:
        return earlier
    body = _body(message)
    if audience.blocked_between(author.id, conversation.other(author).id):
        raise _not_allowed()
    limits.check_new_account_messages(author)
    note, created = write_once(
        lambda: sent_with(author, key), lambda: _add(conversation, author, body, key)
    )
    if created:
        notifications.notify_message(conversation, author)
    return note


def _add(conversation: Conversation, author: Member, body: str, key: str | None) -> Message:
    now = utcnow()
    note = Message(
        conversation=conversation, author=author, body=body, created_at=now, submission_key=key
    )
    db.session.add(note)
    conversation.last_message_at = now
    _set_read(conversation, author, now)
    db.session.flush()
    return note


def _set_read(conversation: Conversation, member: Member, when) -> None:
    if member.id == conversation.member_a_id:
        conversation.a_read_at = when
    else:
        conversation.b_read_at = when


def mark_read(conversation: Conversation, member: Member) -> None:
    """Read up to now; the conversation's message notifications are read too."""
    _set_read(conversation, member, utcnow())
    notifications.mark_subject_read(member, "conversation", conversation.id)
    db.session.flush()
