"""Writes about members: registration, credentials, profile, home.

Services validate, change the session and flush; the request commits once.
Every message in a raised error is meant for the member, as is.
"""

from __future__ import annotations

import contextlib
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from peuplade import categories, database
from peuplade.account import blur, person, queries
from peuplade.account.tokens import revoke_tokens, secret_digest
from peuplade.errors import TooManyChanges, ValidationFailed
from peuplade.extensions import db
from peuplade.geo import LatLon
from peuplade.location import AmbiguousLocation, LocationInput, resolve
from peuplade.models import (
    RADIUS_DEFAULT_M,
    RADIUS_MAX_M,
    RADIUS_MIN_M,
    HomeChange,
    Member,
    MemberSession,
    MemberSkill,
    MemberTag,
)
from peuplade.validation import clean_tags, clean_text, collect, normalise_email

PASSWORD_MIN = 12
PASSWORD_MAX = 128
# zxcvbn refuses longer input (ValueError): longer passwords are judged on their start.
ZXCVBN_MAX = 72
DISPLAY_NAME_MAX = 60
BIO_MAX = 1000


def _hasher() -> PasswordHasher:
    return PasswordHasher(type=Type.ID, **current_app.config["ARGON2_PARAMETERS"])


def normalise_password(password: str | None) -> str:
    """NFKC, so "é" typed as one character or as "e" + accent is the same password
    (NIST SP 800-63B 5.1.1.2). Nothing else is changed: spaces and any character count."""
    return unicodedata.normalize("NFKC", password or "")


def hash_password(password: str) -> str:
    return _hasher().hash(normalise_password(password))


def _password_matches(member: Member, password: str | None) -> bool:
    """Check ``password`` against the member's hash; upgrade the hash when the argon2
    parameters went up or it was made before passwords were normalised."""
    hasher = _hasher()
    typed = password or ""
    normalised = normalise_password(typed)
    for candidate in dict.fromkeys((normalised, typed)):
        try:
            hasher.verify(member.password_hash, candidate)
        except (VerificationError, InvalidHashError):
            continue
        if candidate != normalised or hasher.check_needs_rehash(member.password_hash):
            member.password_hash = hasher.hash(normalised)
        return True
    return False


def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise ValidationFailed(fields={'password': ...}) for an empty, short or guessable one.

    ASVS 5.0 6.2: any characters (spaces, accents, emoji), no composition rules, from
    PASSWORD_MIN to PASSWORD_MAX characters; refused when zxcvbn finds it among common
    passwords, words, names or keyboard patterns (its lists ship with the package:
    nothing is looked up online) or built from the member's own email or name."""
    password = normalise_password(password)
    if len(password) < PASSWORD_MIN:
        msg = _l(
            "Le mot de passe doit faire au moins %(n)s caractères. "
            "Astuce : trois ou quatre mots au hasard.",
            n=PASSWORD_MIN,
        )
    elif len(password) > PASSWORD_MAX:
        msg = _l("Le mot de passe doit faire au plus %(n)s caractères.", n=PASSWORD_MAX)
    elif _strength(password[:ZXCVBN_MAX], [u for u in user_inputs if u]) < 2:
        msg = _l(
            "Ce mot de passe est trop facile à deviner. Astuce : trois ou quatre mots au hasard."
        )
    else:
        return
    raise ValidationFailed(msg, {"password": msg})


def clean_display_name(name: str | None) -> str:
    name = " ".join(clean_text(name).split())
    if len(name) < 2:
        msg = _l("Indiquez un nom d'au moins 2 caractères (un prénom suffit).")
    elif len(name) > DISPLAY_NAME_MAX:
        msg = _l("Le nom doit faire au plus %(n)s caractères.", n=DISPLAY_NAME_MAX)
    else:
        return name
    raise ValidationFailed(msg, {"display_name": msg})


def clean_bio(bio: str | None) -> str:
    bio = clean_text(bio)
    if len(bio) > BIO_MAX:
        msg = _l("La présentation doit faire au plus %(n)s caractères.", n=BIO_MAX)
        raise ValidationFailed(msg, {"bio": msg})
    return bio


def clean_radius(radius: object) -> int:
    if radius is None or radius == "":
        return RADIUS_DEFAULT_M
    try:
        value = int(radius)  # type: ignore[call-overload]
        if isinstance(radius, float) and radius != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        value = -1
    if isinstance(radius, bool) or not RADIUS_MIN_M <= value <= RADIUS_MAX_M:
        msg = _l(
            "Le rayon doit être un nombre de mètres entre %(min)s et %(max)s.",
            min=RADIUS_MIN_M,
            max=RADIUS_MAX_M,
        )
        raise ValidationFailed(msg, {"radius_m": msg})
    return value


def clean_skills(skills: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(skills or []))
    unknown = [s for s in chosen if s not in categories.SLUGS]
    if unknown:
        msg = _l("Savoir-faire inconnu : %(s)s.", s=", ".join(map(str, unknown))[:100])
        raise ValidationFailed(msg, {"skills": msg})
    return chosen


@dataclass(frozen=True)
class NewMember:
    """A sign-up whose every field was checked (and whose home was found): what
    :func:`create_member` writes. The password is not in it."""

    email: str
    display_name: str
    radius_m: int
    skills: list[str]
    tags: list[str]
    bio: str
    home: LatLon


def check_new_member(
    *,
    email: str,
    password: str,
    display_name: str,
    location: LocationInput,
    radius_m: object = None,
    skills: Iterable[str] | None = None,
    tags: Iterable[str] | str | None = None,
    bio: str | None = None,
    email_taken_is_an_error: bool = True,
) -> NewMember:
    """Check every field of a sign-up and find the home (geocoded last: it may call a
    remote service); raise ValidationFailed (or AmbiguousLocation) with every problem
    at once. Nothing is written.

    Without ``email_taken_is_an_error`` an address that already has an account is no
    error here: the sign-up pages answer the same either way (``auth.signup``)."""
    values, errors = collect(
        {
            "email": lambda: normalise_email(email),
            "display_name": lambda: clean_display_name(display_name),
            "radius_m": lambda: clean_radius(radius_m),
            "skills": lambda: clean_skills(skills),
            "tags": lambda: clean_tags(tags),
            "bio": lambda: clean_bio(bio),
        }
    )
    if (
        email_taken_is_an_error
        and "email" in values
        and queries.member_by_email(str(values["email"])) is not None
    ):
        errors["email"] = _l("Un compte existe déjà avec cette adresse e-mail.")
    try:
        check_password_strength(password, [email, display_name])
    except ValidationFailed as exc:
        errors.update(exc.fields)
    home = None
    if location.is_empty:
        msg = _l("Indiquez votre adresse, ou placez votre domicile sur la carte.")
        errors["location"] = msg
    elif not errors:  # geocode last: it may call a remote service
        home = resolve(location).position
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    return NewMember(
        email=values["email"],
        display_name=values["display_name"],
        radius_m=values["radius_m"],
        skills=values["skills"],
        tags=values["tags"],
        bio=values["bio"],
        home=home,
    )


def create_member(new: NewMember, password: str, locale: str | None = None) -> Member:
    """Write the checked sign-up ``new`` (flushed: the unique index on the email may
    refuse it here already). The e-mail address is not confirmed yet."""
    member = Member(
        email=new.email,
        display_name=new.display_name,
        password_hash=hash_password(password),
        bio=new.bio,
        radius_m=new.radius_m,
        locale=locale,
        email_confirmed_at=None,
    )
    member.skills = [MemberSkill(skill=s) for s in new.skills]
    member.tags = [MemberTag(tag=t) for t in new.tags]
    db.session.add(member)
    blur.place_home(member, new.home)
    return member


def register_member(
    *,
    email: str,
    password: str,
    display_name: str,
    location: LocationInput,
    radius_m: object = None,
    skills: Iterable[str] | None = None,
    tags: Iterable[str] | str | None = None,
    bio: str | None = None,
    locale: str | None = None,
) -> Member:
    """Create a member (for service-level callers: the demo, tests). Every field is
    checked before anything is written; an address that has an account already is a
    field error here. The sign-up pages use ``auth.signup.sign_up``, which does not
    tell."""
    new = check_new_member(
        email=email,
        password=password,
        display_name=display_name,
        location=location,
        radius_m=radius_m,
        skills=skills,
        tags=tags,
        bio=bio,
    )
    return create_member(new, password, locale)


_DUMMY_HASH: str | None = None


def authenticate(email: str, password: str) -> Member | None:
    """The member with these credentials, or None. Rehashes on parameter upgrades.

    Whether the member may log in (suspended, banned) is the caller's next question
    (``auth.sessions.access_refusal``), asked only once the password is right."""
    global _DUMMY_HASH
    try:
        key = normalise_email(email)
    except ValidationFailed:
        key = None
    member = queries.member_by_email(key) if key else None
    if member is None:
        # Same work as a real check, so timing does not tell which emails exist.
        hasher = _hasher()
        _DUMMY_HASH = _DUMMY_HASH or hasher.hash(secrets.token_hex(16))
        with contextlib.suppress(VerificationError):
            hasher.verify(_DUMMY_HASH, normalise_password(password))
        return None
    return member if _password_matches(member, password) else None


def verify_current_password(member: Member, password: str | None) -> None:
    """Re-authentication before a sensitive change (password, email, home): raise
    ValidationFailed on ``current_password`` unless ``password`` is the member's."""
    if not password:
        msg = _l("Indiquez votre mot de passe actuel.")
        raise ValidationFailed(msg, {"current_password": msg})
    if not _password_matches(member, password):
        msg = _l("Le mot de passe actuel n'est pas le bon.")
        raise ValidationFailed(msg, {"current_password": msg})


def end_sessions(member: Member, keep_session_id: str | None = None) -> int:
    """Log the member out of every browser but the one of ``keep_session_id``; returns how
    many sessions ended."""
    statement = delete(MemberSession).where(MemberSession.member_id == member.id)
    if keep_session_id:
        statement = statement.where(MemberSession.id_hash != secret_digest(keep_session_id))
    ended = db.session.execute(statement).rowcount or 0
    db.session.flush()
    return ended


def set_password(member: Member, new: str) -> None:
    """Set a new password (checked for strength); API tokens are revoked."""
    check_password_strength(new, [member.email, member.display_name])
    member.password_hash = hash_password(new)
    revoke_tokens(member)
    db.session.flush()


def change_password(
    member: Member,
    current: str,
    new: str,
    *,
    end_other_sessions: bool = True,
    keep_session_id: str | None = None,
) -> int:
    """Check the current password and set the new one. API tokens always stop working;
    with ``end_other_sessions`` so do the browser sessions, but ``keep_session_id``'s.
    Returns the number of browser sessions ended."""
    verify_current_password(member, current)
    set_password(member, new)
    if not end_other_sessions:
        return 0
    return end_sessions(member, keep_session_id)


def update_profile(
    member: Member,
    *,
    display_name: str | None = None,
    bio: str | None = None,
    skills: Iterable[str] | None = None,
    tags: Iterable[str] | str | None = None,
    radius_m: object = None,
    locale: str | None = None,
) -> Member:
    """Change the given fields (None = leave as is); all are checked first."""
    given = {
        "display_name": (display_name, clean_display_name),
        "bio": (bio, clean_bio),
        "skills": (skills, clean_skills),
        "tags": (tags, clean_tags),
        "radius_m": (radius_m, clean_radius),
    }
    changes, errors = collect(
        {
            name: (lambda value=value, check=check: check(value))
            for name, (value, check) in given.items()
            if value is not None
        }
    )
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    for name in ("display_name", "bio", "radius_m"):
        if name in changes:
            setattr(member, name, changes[name])
    if "skills" in changes:
        member.skills = [MemberSkill(skill=s) for s in changes["skills"]]
    if "tags" in changes:
        member.tags = [MemberTag(tag=t) for t in changes["tags"]]
    if locale is not None:
        member.locale = locale if locale in current_app.config["BABEL_SUPPORTED_LOCALES"] else None
    db.session.flush()
    return member


def home_changes_left(member: Member, now: datetime | None = None) -> int:
    """Moves left in the last 30 days. The limit binds a person, not an account: the
    moves of the accounts deleted with the same e-mail count too (``person``)."""
    used = person.moves_in_window(member, now)
    return max(current_app.config["HOME_CHANGES_PER_30_DAYS"] - used, 0)


def change_home(member: Member, location: LocationInput) -> Member:
    """Move the member's home. Limited per 30 days, so a home cannot be trilaterated
    by moving one's own vantage point around (the moves of the accounts the same
    person deleted count too: ``home_changes_left``)."""
    # Parallel requests cannot all pass the count below.
    database.lock_row(Member, member.id)
    if home_changes_left(member) <= 0:
        msg = _l(
            "Vous avez déjà changé de domicile %(n)s fois ces 30 derniers jours. "
            "Réessayez plus tard.",
            n=current_app.config["HOME_CHANGES_PER_30_DAYS"],
        )
        raise TooManyChanges(msg, {"location": msg})
    home = resolve(location).position
    blur.place_home(member, home)
    db.session.add(HomeChange(member_id=member.id))
    db.session.flush()
    return member


def update_account(
    member: Member,
    *,
    display_name: str | None = None,
    bio: str | None = None,
    skills: Iterable[str] | None = None,
    tags: Iterable[str] | str | None = None,
    radius_m: object = None,
    location: LocationInput | None = None,
    email: str | None = None,
    current_password: str | None = None,
) -> Member:
    """Profile fields, email and home together, all or nothing: every field is checked,
    every problem reported at once (an ambiguous address with its candidates), and
    nothing is kept unless all is well (the caller rolls back on the raised error).

    A new email or home needs ``current_password`` (re-authentication, ASVS 7.5.1): a
    session left open, or a stolen token, cannot take over the account or move it around
    the city. An email equal to the current one is no change and needs nothing. A new
    one is only *pending* (``pending_email``): the account keeps its address until the
    link sent to the new one is followed (``auth.confirm``; the caller sends it with
    ``auth.confirm.send_address_change``). Whether another account has that address is
    not looked at here: the answer and what is stored are the same either way, so
    nobody can test addresses with their own password; the link is never sent to a
    taken address (its owner is told instead), and following one applies nothing if
    the address is taken by then."""
    errors: dict[str, object] = {}
    ambiguous: AmbiguousLocation | None = None
    new_email = None
    if email is not None:
        try:
            new_email = normalise_email(email)
        except ValidationFailed as exc:
            errors.update(exc.fields)
        else:
            if new_email == member.email:
                new_email = None
    sensitive = new_email is not None or location is not None
    if sensitive:
        try:
            verify_current_password(member, current_password)
        except ValidationFailed as exc:
            errors.update(exc.fields)
            location = None  # not geocoded for someone who could not say the password
    try:
        update_profile(
            member, display_name=display_name, bio=bio, skills=skills, tags=tags, radius_m=radius_m
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if new_email is not None and not errors:
        # Nothing else changes yet: not the address, not its confirmation, not the
        # home changes kept under it (``person.follow_address`` runs on confirmation).
        member.pending_email = new_email
    if location is not None:
        try:
            change_home(member, location)
        except AmbiguousLocation as exc:
            ambiguous = exc
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if ambiguous is not None:
        ambiguous.fields.update(errors)
        raise ambiguous
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    return member


def _strength(password: str, user_inputs: list[str]) -> int:
    """zxcvbn's score (0-4). Imported on first use: its dictionaries weigh ~12 MiB, and
    only the sign-up and password routes need them (on their own workers, the login
    pool: docs/deployment.md)."""
    # Here, not at the top: ~12 MiB in every worker otherwise (docs/SCALING.md).
    from zxcvbn import zxcvbn

    return zxcvbn(password, user_inputs=user_inputs)["score"]
