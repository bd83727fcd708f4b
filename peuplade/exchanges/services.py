"""Writes on exchanges: post, edit, delete, respond, close, thank.

Services check everything before writing, flush, and never commit (the request
does). Messages in raised errors are for the member, as is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from peuplade import categories, database, geo
from peuplade.errors import Conflict, Forbidden, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import (
    EXCHANGE_KINDS,
    OUTCOMES,
    Exchange,
    ExchangeResponse,
    Member,
    Thanks,
    utcnow,
)
from peuplade.moderation import limits
from peuplade.notifications import services as notifications
from peuplade.posts import services as posts
from peuplade.submissions import clean_submission_key
from peuplade.validation import checked_text, clean_text, collect

TITLE_MAX = 120
BODY_MAX = 4000
MESSAGE_MAX = 2000
THANKS_MAX = 500
BEHALF_MAX = 80

_UNSET = object()


@dataclass
class ExchangeInput:
    """What an author typed; None means "not given" (on edit: keep as is)."""

    kind: str | None = None
    title: str | None = None
    body: str | None = None
    category: str | None = None
    starts_on: date | object | None = _UNSET
    ends_on: date | object | None = _UNSET
    location: LocationInput | None = None
    reach_m: object = None
    # Posting for a neighbour who is not online: their name ("" on edit: no longer for
    # anyone), and whether the author confirms that this neighbour agreed.
    on_behalf_of: str | None = None
    behalf_consent: bool = False
    # The publishing form's random token (submissions.new_submission_key): sent twice, one post.
    submission_key: str | None = None


def _kind(value: str | None) -> str:
    if value not in EXCHANGE_KINDS:
        msg = _l("Choisissez « demande » ou « offre ».")
        raise ValidationFailed(msg, {"kind": msg})
    return value


def _category(value: str | None) -> str:
    if value not in categories.SLUGS:
        msg = _l("Choisissez une catégorie de la liste.")
        raise ValidationFailed(msg, {"category": msg})
    return value


def _behalf(name: str | None, consent: bool, already: str | None = None) -> str | None:
    """The neighbour's name, or None for one's own post. A new name needs the author to
    confirm that neighbour's consent; keeping the name already recorded does not."""
    cleaned = " ".join(clean_text(name).split())
    if not cleaned:
        return None
    if len(cleaned) < 2:
        msg = _l("Écrivez au moins %(n)s caractères.", n=2)
        raise ValidationFailed(msg, {"on_behalf_of": msg})
    if len(cleaned) > BEHALF_MAX:
        msg = _l("%(n)s caractères au plus.", n=BEHALF_MAX)
        raise ValidationFailed(msg, {"on_behalf_of": msg})
    if cleaned != already and not consent:
        msg = _l(
            "Publiez pour quelqu'un seulement avec son accord : cochez la case pour "
            "confirmer qu'il ou elle est d'accord."
        )
        raise ValidationFailed(msg, {"behalf_consent": msg})
    return cleaned


def create_exchange(author: Member, data: ExchangeInput) -> Exchange:
    """Post a request or an offer; shown at the author's public position by default.
    The same form sent twice (``data.submission_key``) gives the first exchange back."""
    key = clean_submission_key(data.submission_key)
    earlier = posts.published_with(author, key, Exchange)
    if earlier is not None:
        return earlier
    limits.check_new_account_posts(author)
    starts = None if data.starts_on is _UNSET else data.starts_on
    ends = None if data.ends_on is _UNSET else data.ends_on
    values, errors = collect(
        {
            "kind": lambda: _kind(data.kind),
            "title": lambda: checked_text(data.title, "title", TITLE_MAX, 3),
            "body": lambda: checked_text(data.body, "body", BODY_MAX, required=True),
            "category": lambda: _category(data.category),
            "period": lambda: posts.clean_period(starts, ends),
            "reach_m": lambda: posts.clean_reach(author, data.reach_m),
            "location": lambda: posts.resolve_position(author, data.location),
            "behalf": lambda: _behalf(data.on_behalf_of, data.behalf_consent),
        }
    )
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    starts_on, ends_on = values["period"]
    position, place_name, at_author = values["location"]
    now = utcnow()
    exchange = Exchange(
        author=author,
        kind=values["kind"],
        title=values["title"],
        body=values["body"],
        category=values["category"],
        starts_on=starts_on,
        ends_on=ends_on,
        position=geo.to_element(position),
        place_name=place_name,
        at_author=at_author,
        reach_m=values["reach_m"],
        status="open",
        created_at=now,
        updated_at=now,
        expires_at=posts.expiry(ends_on or starts_on, now),
        on_behalf_of=values["behalf"],
        behalf_consent_at=now if values["behalf"] else None,
        submission_key=key,
    )
    exchange, created = posts.add_once(exchange)
    if created:
        # Told once the author has their answer (a dense city has thousands who know
        # how: the author does not wait for them), or at once outside a request.
        notifications.match_soon(exchange)
    return exchange


def _require_author(exchange: Exchange, member: Member) -> None:
    if exchange.author_id != member.id:
        raise Forbidden(_l("Seul l'auteur peut faire cela."))


def _require_open(exchange: Exchange) -> None:
    if exchange.status != "open":
        raise Conflict(_l("Cet échange est clos."))


def check_can_edit(exchange: Exchange, member: Member) -> None:
    """Forbidden unless the member wrote it; Conflict once it is closed (edit forms)."""
    _require_author(exchange, member)
    _require_open(exchange)


def update_exchange(exchange: Exchange, editor: Member, data: ExchangeInput) -> Exchange:
    """Change the given fields of one's own open exchange (all checked first)."""
    _require_author(exchange, editor)
    _require_open(exchange)
    starts = exchange.starts_on if data.starts_on is _UNSET else data.starts_on
    ends = exchange.ends_on if data.ends_on is _UNSET else data.ends_on
    checks: dict[str, Callable[[], object]] = {}
    if data.kind is not None:
        checks["kind"] = lambda: _kind(data.kind)
    if data.title is not None:
        checks["title"] = lambda: checked_text(data.title, "title", TITLE_MAX, 3)
    if data.body is not None:
        checks["body"] = lambda: checked_text(data.body, "body", BODY_MAX, required=True)
    if data.category is not None:
        checks["category"] = lambda: _category(data.category)
    if data.starts_on is not _UNSET or data.ends_on is not _UNSET:
        checks["period"] = lambda: posts.clean_period(starts, ends)
    if data.reach_m is not None:
        checks["reach_m"] = lambda: posts.clean_reach(editor, data.reach_m)
    if data.location is not None:
        checks["location"] = lambda: posts.resolve_position(editor, data.location)
    if data.on_behalf_of is not None:
        checks["behalf"] = lambda: _behalf(
            data.on_behalf_of, data.behalf_consent, exchange.on_behalf_of
        )
    values, errors = collect(checks)
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    for name in ("kind", "title", "body", "category", "reach_m"):
        if name in values:
            setattr(exchange, name, values[name])
    if "period" in values:
        exchange.starts_on, exchange.ends_on = values["period"]
        exchange.expires_at = posts.expiry(
            exchange.ends_on or exchange.starts_on, exchange.created_at
        )
    if "location" in values:
        position, exchange.place_name, exchange.at_author = values["location"]
        exchange.position = geo.to_element(position)
    if "behalf" in values and values["behalf"] != exchange.on_behalf_of:
        exchange.on_behalf_of = values["behalf"]
        exchange.behalf_consent_at = utcnow() if values["behalf"] else None
    exchange.updated_at = utcnow()
    db.session.flush()
    return exchange


def delete_exchange(exchange: Exchange, member: Member) -> None:
    """The author removes their exchange, with its responses and thanks."""
    _require_author(exchange, member)
    notifications.forget("exchange", exchange.id)
    db.session.delete(exchange)
    db.session.flush()


def respond(exchange: Exchange, member: Member, message: str | None) -> ExchangeResponse:
    """A neighbour answers ("je peux vous aider"): once, not on their own, while open."""
    if exchange.author_id == member.id:
        raise Forbidden(_l("Vous ne pouvez pas répondre à votre propre annonce."))
    if limits.is_blocked(exchange.author_id, member.id):  # not told: as if out of reach
        raise NotFound(_l("Cette annonce n'existe pas, ou n'est pas dans votre voisinage."))
    _require_open(exchange)
    text = checked_text(message, "message", MESSAGE_MAX, required=True)
    already = db.session.scalar(
        select(ExchangeResponse.id).where(
            ExchangeResponse.exchange_id == exchange.id, ExchangeResponse.author_id == member.id
        )
    )
    if already is not None:
        raise Conflict(_l("Vous avez déjà répondu à cette annonce."))
    response = ExchangeResponse(exchange=exchange, author=member, message=text)
    db.session.add(response)
    database.flush(_l("Vous avez déjà répondu à cette annonce."))  # a twin at the same instant
    notifications.notify(
        exchange.author_id,
        "response",
        actor=member,
        subject=("exchange", exchange.id),
        title=exchange.title,
    )
    return response


def close_exchange(
    exchange: Exchange, member: Member, outcome: str | None, helper_id: object = None
) -> Exchange:
    """The author closes: ``done`` (optionally naming the neighbour who helped, one of
    those who answered) or ``cancelled``."""
    _require_author(exchange, member)
    _require_open(exchange)
    if outcome not in OUTCOMES:
        msg = _l("Choisissez « fait » ou « annulé ».")
        raise ValidationFailed(msg, {"outcome": msg})
    helper = None
    if helper_id not in (None, ""):
        if outcome != "done":
            msg = _l("On ne désigne une personne qui a aidé que pour un échange fait.")
            raise ValidationFailed(msg, {"helper_id": msg})
        try:
            wanted = int(helper_id)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            wanted = None
        helper = next((r.author for r in exchange.responses if r.author_id == wanted), None)
        if helper is None:
            msg = _l("Choisissez une personne qui a répondu à l'annonce.")
            raise ValidationFailed(msg, {"helper_id": msg})
    exchange.status = outcome
    exchange.helper = helper
    exchange.closed_at = utcnow()
    exchange.updated_at = exchange.closed_at
    db.session.flush()
    if helper is not None:
        notifications.notify(
            helper.id,
            "picked",
            actor=member,
            subject=("exchange", exchange.id),
            title=exchange.title,
        )
    return exchange


def thank(exchange: Exchange, member: Member, message: str | None) -> Thanks:
    """After "done", the author thanks the helper and the helper thanks the author."""
    if exchange.status != "done" or exchange.helper_id is None:
        raise Conflict(_l("On remercie une fois l'échange fait, avec la personne qui a aidé."))
    if member.id == exchange.author_id:
        to_member = exchange.helper
    elif member.id == exchange.helper_id:
        to_member = exchange.author
    else:
        raise Forbidden(_l("Seuls l'auteur et la personne qui a aidé peuvent se remercier."))
    text = checked_text(message, "message", THANKS_MAX, required=True)
    already = db.session.scalar(
        select(Thanks.id).where(
            Thanks.exchange_id == exchange.id, Thanks.from_member_id == member.id
        )
    )
    if already is not None:
        raise Conflict(_l("Vous avez déjà remercié pour cet échange."))
    thanks = Thanks(exchange=exchange, from_member=member, to_member=to_member, message=text)
    db.session.add(thanks)
    db.session.flush()
    notifications.notify(
        to_member.id,
        "thanks",
        actor=member,
        subject=("exchange", exchange.id),
        title=exchange.title,
    )
    return thanks
