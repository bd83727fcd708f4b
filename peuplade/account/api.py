"""The account's JSON API (/api/v1): signing up, access tokens, my account (``/me``),
confirming an address, a member's public profile.

Views parse (``@operation``), call services/queries, serialise.

One commit per request, after the service call; a ServiceError rolls back
(``error_handlers``), so nothing is half-written.
"""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from peuplade import database, ratelimits, security_log
from peuplade.account import blur, serializers, services, tokens
from peuplade.account import schemas as acs
from peuplade.account.schemas import TAG_LENGTH
from peuplade.api import bp
from peuplade.api.openapi import operation
from peuplade.api.schemas import Rule, described, location_input
from peuplade.auth import confirm, sessions, signup
from peuplade.auth.bearer import current_member
from peuplade.errors import Conflict, ValidationFailed, json_error
from peuplade.extensions import db, limiter
from peuplade.validation import url_id

SIGN_IN_LIMIT = ratelimits.PER_CLIENT
# Rules that sign-up and the profile share (account.services).
ADDRESS_FOUND = Rule(
    _l(
        "Une adresse (`location.address`) que le géocodeur trouve ; ambiguë, elle vient "
        "avec `candidates` et se renvoie avec `choice`"
    ),
    fields=("location",),
)
LIVE_TOKEN = Rule(_l("Un de mes jetons encore en service"), 404)


@bp.post("/members")
@ratelimits.sign_up_limit()  # one bucket per client address with the /register page
@operation(
    _l("Créer un compte"),
    public=True,
    body=acs.RegisterBody,
    responses={202: acs.SignUpOut},
    errors={429: "Too many sign-ups from this address (the /register page counts too)"},
    description=described(
        _l(
            "La réponse est la même, que l'adresse e-mail ait déjà un compte ou non : 202 "
            "`{status: pending, message}`, sans id. Un e-mail part vers l'adresse : un lien "
            "pour la confirmer (nouveau compte), ou, si elle a déjà un compte, comment se "
            "connecter. Le nouveau compte fonctionne aussitôt : demandez un jeton avec "
            "`POST /tokens`. `location` : un point {lat, lon} ou une adresse {address, "
            "choice?}. Une adresse ambiguë donne 422 avec `fields.location` et "
            "`candidates` ; renvoyez-la avec `choice`."
        ),
        Rule(
            _l(
                "Le mot de passe compte 12 caractères au moins une fois normalisé (NFKC), et "
                "n'est ni trop facile à deviner ni fait de l'adresse e-mail ou du nom"
            ),
            fields=("password",),
        ),
        ADDRESS_FOUND,
        TAG_LENGTH,
    ),
)
def create_member(body: acs.RegisterBody):
    result = signup.sign_up(
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        location=location_input(body.location),
        radius_m=body.radius_m,
        skills=body.skills,
        tags=body.tags,
        bio=body.bio,
    )
    # The same answer whether the address had an account or not: no id, no Location.
    return acs.SignUpOut(status="pending", message=sign_up_message(result.email)).model_dump(
        mode="json"
    ), 202


def sign_up_message(email: str) -> str:
    return _(
        "Vérifiez votre boîte mail : nous avons envoyé un lien à %(email)s. Ouvrez ce message "
        "et suivez ce qu’il indique.",
        email=email,
    )


@bp.post("/tokens")
@limiter.limit(SIGN_IN_LIMIT)
@limiter.limit(
    ratelimits.PER_ACCOUNT_FAILURES, key_func=ratelimits.account_key, deduct_when=ratelimits.failed
)
@operation(
    _l("Obtenir un jeton d'accès"),
    public=True,
    body=acs.TokenBody,
    responses={201: acs.TokenOut},
    errors={
        401: "Wrong email or password",
        403: "Account suspended or closed",
        409: "Already the maximum number of live tokens: revoke one first",
        429: "Too many attempts",
    },
    description=described(
        _l(
            "Le jeton n'est montré qu'ici : seule son empreinte est gardée. Donnez-lui un "
            "nom (`name`) pour le reconnaître dans la liste de vos jetons."
        ),
        Rule(
            _l("L'adresse e-mail et le mot de passe d'un compte"),
            401,
            codes=("invalid_credentials",),
        ),
        Rule(
            _l("Un compte suspendu ou fermé"),
            403,
            codes=("account_suspended", "account_closed"),
        ),
        Rule(_l("50 jetons en service au plus : révoquez-en un d'abord"), 409),
    ),
)
def create_token(body: acs.TokenBody):
    member = services.authenticate(body.email, body.password)
    if member is None:
        db.session.rollback()  # nothing to keep
        security_log.warning(
            "token_refused",
            reason="credentials",
            account=security_log.account_fingerprint(body.email),
        )
        return json_error(
            401, "invalid_credentials", _("Adresse e-mail ou mot de passe incorrect.")
        )
    refusal = sessions.access_refusal(member)
    if refusal is not None:
        db.session.commit()  # authenticate() may have upgraded the password hash
        security_log.warning("token_refused", member=member.id, reason=member.status)
        return json_error(403, _account_code(member), refusal)
    token, row = tokens.new_token(member, body.name)
    db.session.commit()
    security_log.event("token_created", member=member.id)
    return serializers.token(token, row), 201


@bp.get("/tokens")
@operation(
    _l("Mes jetons d'accès en service"),
    responses={200: acs.TokenPage},
    description=_l(
        "Les jetons qui fonctionnent encore, le plus récent d'abord, sans le jeton lui-même "
        "(il n'est pas gardé) ; `current` désigne celui de cette requête."
    ),
)
def list_tokens():
    me = current_member()
    current_id = g.get("api_token_id")
    return acs.TokenPage(
        items=[serializers.token_info(t, current_id) for t in tokens.live_tokens(me)],
        next_cursor=None,
    ).model_dump(mode="json")


@bp.patch(f"/tokens/{url_id('token_id')}")
@operation(
    _l("Renommer un de mes jetons"),
    body=acs.TokenPatch,
    responses={200: acs.TokenInfoOut},
    description=described(
        _l("Un `name` vide retire le nom."),
        LIVE_TOKEN,
    ),
)
def rename_token(token_id: int, body: acs.TokenPatch):
    row = tokens.rename_token(current_member(), token_id, body.name)
    current_id = g.get("api_token_id")
    db.session.commit()
    return serializers.token_info(row, current_id).model_dump(mode="json")


@bp.delete(f"/tokens/{url_id('token_id')}")
@operation(
    _l("Révoquer un de mes jetons"),
    responses={204: None},
    description=described(
        _l("Le jeton cesse de fonctionner aussitôt, y compris si c'est celui de cette requête."),
        LIVE_TOKEN,
    ),
)
def revoke_token(token_id: int):
    me = current_member()
    tokens.revoke_token(me, token_id)
    db.session.commit()
    security_log.event("token_revoked", member=me.id)
    return "", 204


def _account_code(member) -> str:
    return "account_closed" if member.status == "banned" else "account_suspended"


def _api_member_key() -> str:
    """Rate-limit key: the token's member (its id, never the token)."""
    return f"member:{current_member().id}"


def _reauth_failed(response) -> bool:
    """Count a PATCH /me against the limit only when current_password was refused."""
    if response.status_code != 422:
        return False
    body = response.get_json(silent=True) or {}
    return "current_password" in ((body.get("error") or {}).get("fields") or {})


@bp.get("/me")
@operation(_l("Mon compte (avec mon domicile)"), responses={200: acs.MeOut})
def me():
    return serializers.me(current_member())


@bp.patch("/me")
@limiter.limit(
    ratelimits.PASSWORD_CHANGES,
    key_func=_api_member_key,
    deduct_when=_reauth_failed,
    override_defaults=False,  # the per-token limit of every call applies too
)
@operation(
    _l("Modifier mon profil, mon adresse e-mail ou mon domicile"),
    body=acs.ProfilePatch,
    responses={200: acs.MeOut},
    errors={429: "Home changed too often in the last 30 days, or too many wrong passwords"},
    description=described(
        _l(
            "Tout ou rien : si un champ est refusé, rien n'est modifié. Changer d'adresse "
            "e-mail ou de domicile demande aussi `current_password` (sinon 422 avec "
            "`fields.current_password`). Une nouvelle adresse e-mail reste en attente "
            "(`pending_email`) : `email` ne change qu'une fois suivi le lien qui lui est "
            "envoyé (POST /confirmations), et la réponse est la même qu'un autre compte "
            "ait cette adresse ou non. Changer de domicile est limité (quelques fois par "
            "30 jours). `privacy_floor` : la position la plus précise que mes voisins "
            "voient (`shown_at` dans la réponse dit où ils me voient aujourd'hui)."
        ),
        Rule(
            _l(
                "Une nouvelle adresse e-mail ou un nouveau domicile demandent `current_password`, "
                "le mot de passe du compte"
            ),
            fields=("current_password",),
        ),
        ADDRESS_FOUND,
        Rule(
            _l("Quelques changements de domicile par 30 jours (HOME_CHANGES_PER_30_DAYS)"),
            429,
            ("location",),
        ),
        TAG_LENGTH,
    ),
)
def update_me(body: acs.ProfilePatch):
    member = current_member()
    old_pending = member.pending_email
    try:
        services.update_account(
            member,
            display_name=body.display_name,
            bio=body.bio,
            skills=body.skills,
            tags=body.tags,
            radius_m=body.radius_m,
            location=location_input(body.location) if body.location is not None else None,
            email=body.email,
            current_password=body.current_password,
        )
        if body.privacy_floor is not None:
            blur.set_floor(member, body.privacy_floor)
    except ValidationFailed as exc:
        if "current_password" in exc.fields:
            security_log.warning("reauth_failed", member=member.id)
        raise
    database.commit()
    if member.pending_email and member.pending_email != old_pending:
        # The same answer whether another account has the address: the link goes to
        # it, or that account's owner is told (confirm.send_address_change).
        security_log.event("email_change_asked", member=member.id)
        confirm.send_address_change(member)
    return serializers.me(member)


@bp.post("/me/confirmation")
@limiter.limit(
    ratelimits.CONFIRMATION_LINKS,
    key_func=_api_member_key,
    override_defaults=False,  # the per-token limit of every call applies too
)
@operation(
    _l("Recevoir un nouveau lien pour confirmer mon adresse e-mail"),
    responses={202: acs.ConfirmationSentOut, 200: acs.ConfirmationSentOut},
    errors={429: "Too many links asked for (CONFIRMATION_LINKS), or too many calls"},
    description=_l(
        "202 `{status: sent}` : un nouveau lien part vers l'adresse du compte (les anciens "
        "marchent encore jusqu'à leur expiration). 200 `{status: confirmed}` : l'adresse "
        "est déjà confirmée, rien n'est envoyé."
    ),
)
def resend_confirmation():
    member = current_member()
    if member.email_confirmed_at is not None:
        return acs.ConfirmationSentOut(status="confirmed").model_dump(mode="json"), 200
    confirm.send_confirmation(member, confirm.CONFIRM_AGAIN)
    security_log.event("email_confirmation_sent", member=member.id)
    return acs.ConfirmationSentOut(status="sent").model_dump(mode="json"), 202


@bp.post("/confirmations")
@limiter.limit(SIGN_IN_LIMIT)
@operation(
    _l("Confirmer une adresse e-mail"),
    public=True,
    body=acs.ConfirmationBody,
    responses={200: acs.ConfirmationOut},
    errors={
        409: "The new address the link was for went to another account meanwhile: the "
        "account keeps its address, the pending one is dropped",
        429: "Too many attempts from this address",
    },
    description=described(
        _l(
            "`token` : la fin du lien envoyé par e-mail (…/email/confirm/<token>). Sans jeton "
            "d'accès : le lien suffit. Confirmer deux fois ne change rien (`first_time` : "
            "false). Le lien envoyé à une nouvelle adresse (PATCH /me) en fait l'adresse "
            "du compte, confirmée ; si un autre compte a pris cette adresse entre-temps, "
            "409 et rien ne change (la demande est oubliée)."
        ),
        Rule(
            _l(
                "Un lien que nous avons envoyé, il y a %(days)s jours au plus, à l'adresse "
                "que le compte a toujours (ou à la nouvelle adresse encore en attente)",
                days=confirm.LINK_DAYS,
            ),
            fields=("token",),
        ),
    ),
)
def confirm_address(body: acs.ConfirmationBody):
    outcome = confirm.follow(body.token)  # commits; logs; the notice to an old address
    if outcome.taken:
        raise Conflict(confirm.taken_message())
    return acs.ConfirmationOut(status="confirmed", first_time=outcome.first).model_dump(mode="json")
