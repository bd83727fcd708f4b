"""Reading API requests: JSON bodies and query strings into the pydantic models of the
features' ``schemas.py``, an Idempotency-Key, days, with every problem turned into the
contract's error shape."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from peuplade.errors import BadCursor, ServiceError, ValidationFailed
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M
from peuplade.submissions import SUBMISSION_KEY_PATTERN

M = TypeVar("M", bound=BaseModel)

# Longer integers are no valid value of any field; Python would refuse past 4300 digits.
_MAX_INT_DIGITS = 30


class BadRequest(ServiceError):
    status = 400
    code = "malformed"


class UnsupportedMediaType(ServiceError):
    # 400 rather than 415: the issue asks for "a 400 with field messages" on bad input.
    status = 400
    code = "unsupported_media_type"


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PATTERN = SUBMISSION_KEY_PATTERN  # a form's submission key, the same format
IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "A random key of 16 to 32 characters (letters, digits, - and _) chosen "
    "by the client for this one creation. Sent again with the same key, the call creates "
    "nothing and answers the resource the first call created (same id). See docs/api.md.",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_PATTERN},
}
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_PATTERN)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# What a pattern of the document means, for the 422 of a value that does not match it.
PATTERN_MESSAGES: dict[str, Any] = {}


def pattern_message(pattern: str, message: Any) -> str:
    """``pattern``, with the message a value that does not match it gets."""
    PATTERN_MESSAGES[pattern] = message
    return pattern


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` (``IDEMPOTENCY_PATTERN``), None without one; a
    422 when malformed."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    key = raw.strip(" \t")  # what HTTP itself ignores, nothing more
    if not _IDEMPOTENCY_KEY.match(key):
        msg = _("Une clé d'idempotence fait de 16 à 32 caractères : lettres, chiffres, - et _.")
        raise ValidationFailed(msg, {IDEMPOTENCY_HEADER: msg})
    return key


def parse_day(text: str, field: str, errors: dict[str, object]) -> date | None:
    """The day ``text`` (YYYY-MM-DD) names; None, with a message for ``field`` in
    ``errors``, when it is no day of the calendar."""
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = _(
            "Date invalide : écrivez-la au format AAAA-MM-JJ (par exemple 2025-12-31)."
        )
        return None


def _parse_int(text: str) -> int | float:
    # A number too long to be any valid value: inf fails every field's check (422).
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else float("inf")


def json_body() -> Any:
    """The request's JSON document; BadRequest/UnsupportedMediaType otherwise.

    A body above MAX_CONTENT_LENGTH makes ``get_data`` raise 413 (JSON under /api/).
    NaN and Infinity literals are parsed (Python's json accepts them) and then refused
    by the models as non-finite numbers, with a 422 naming the field.
    """
    if not request.is_json:
        raise UnsupportedMediaType(
            _("Envoyez un document JSON avec l'en-tête Content-Type: application/json.")
        )
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw, parse_int=_parse_int)
    except (ValueError, RecursionError):
        raise BadRequest(_("Le corps de la requête n'est pas du JSON valide.")) from None


def parse_body(model: type[M]) -> M:
    """The request body validated by ``model``; 400 or 422 with ``fields`` otherwise."""
    data = json_body()
    if not isinstance(data, dict):
        raise BadRequest(_("Le corps de la requête doit être un objet JSON ({...})."))
    return validate(model, data)


def parse_form(model: type[M]) -> M:
    """A multipart/form-data body validated by ``model`` (``schemas.Form``): its files as
    binary streams (a text field of a file's name is read as its bytes), its texts as
    texts. Another Content-Type is a 422 naming the file fields (none was sent: the same
    answer as a form without them, whoever asks); a field sent twice or unknown, a 422
    naming it."""
    if request.mimetype != "multipart/form-data":
        msg = _(
            "Envoyez un formulaire multipart/form-data (en-tête Content-Type: "
            "multipart/form-data), le fichier dans ce champ."
        )
        uploads = [name for name, field in model.model_fields.items() if _is_upload(field)]
        raise ValidationFailed(msg, dict.fromkeys(uploads, msg))
    files, texts = request.files, request.form  # a body past its limit: 413 here
    data: dict[str, Any] = {}
    errors: dict[str, object] = {}
    for name in sorted(set(files) | set(texts)):
        sent = [*files.getlist(name), *texts.getlist(name)]
        if name not in model.model_fields:
            errors[name] = _("Champ inconnu.")
        elif len(sent) > 1:
            errors[name] = _("Donnez ce champ une seule fois.")
        elif name in files:
            data[name] = files[name].stream
        else:
            data[name] = texts[name]
    refuse(errors)
    for name, field in model.model_fields.items():
        if _is_upload(field) and isinstance(data.get(name), str):
            data[name] = io.BytesIO(data[name].encode())
    return validate(model, data)


def _is_upload(field: Any) -> bool:
    """A file field of a form model (``schemas.Upload``: a binary string)."""
    return any(
        getattr(meta, "json_schema", None) == {"type": "string", "format": "binary"}
        for meta in field.metadata
    )


def parse_query(model: type[M]) -> M:
    """The query string validated by ``model``; a parameter of the model given twice is
    a 422 (the document declares single values, and the first one is not the client's
    choice to make for it)."""
    twice = [name for name in model.model_fields if len(request.args.getlist(name)) > 1]
    if twice:
        msg = _("Donnez ce paramètre une seule fois.")
        raise ValidationFailed(_("Vérifiez les champs signalés."), dict.fromkeys(twice, msg))
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        fields = field_errors(exc)
        if set(fields) == {"cursor"} and exc.errors()[0]["type"] == "string_pattern_mismatch":
            raise BadCursor(fields["cursor"], fields) from None  # not ours, as a forged one
        raise ValidationFailed(_("Vérifiez les champs signalés."), fields) from None


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(_("Vérifiez les champs signalés."), field_errors(exc)) from None


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One clear message per top-level field (the first problem found in it)."""
    fields: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        name = str(loc[0]) if loc else "body"
        if name not in fields:
            fields[name] = _message(name, error)
    return fields


def _message(name: str, error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    loc = [str(part) for part in error["loc"]]
    if error.get("input") is None and kind != "missing" and len(loc) == 1:
        return _("La valeur null n'est pas acceptée : omettez le champ.")
    if kind == "missing" and len(loc) == 1:
        return _("Ce champ est obligatoire.")
    if kind == "extra_forbidden":
        if len(loc) == 1:
            return _("Champ inconnu.")
        return _("Champ inconnu : %(name)s.", name=loc[-1])
    if name == "location":
        return _location_message(loc, kind)
    if name == "radius_m":
        return _(
            "Le rayon doit être un nombre entier de mètres entre %(min)s et %(max)s.",
            min=RADIUS_MIN_M,
            max=RADIUS_MAX_M,
        )
    if name == "limit":
        return _("limit doit être un nombre entier entre 1 et %(max)s.", max=ctx.get("le", 100))
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_MESSAGES:
        return str(PATTERN_MESSAGES[ctx["pattern"]])
    if kind in _OWN_MESSAGES:
        return str(error["msg"])
    prefix = ""
    if len(loc) > 1 and loc[1].isdigit():
        prefix = _("Élément n°%(n)s : ", n=int(loc[1]) + 1)
    return prefix + _type_message(kind, ctx)


# Errors raised by the models' own validators, whose message is meant for the member.
_OWN_MESSAGES = frozenset({"unfoldable", "out_of_range"})


def _location_message(loc: list[str], kind: str) -> str:
    part = loc[-1] if len(loc) > 2 else ""
    if part in ("lat", "lon"):
        return _(
            "Position invalide : latitude entre -90 et 90, longitude entre -180 et 180 "
            "(des nombres)."
        )
    if part == "address":
        return _("Indiquez l'adresse sous forme de texte (200 caractères au plus).")
    if part == "place_id":
        return _("place_id doit être le numéro d'un lieu public (un nombre entier).")
    if part == "choice":
        return _("choice doit être le numéro (à partir de 0) d'une des adresses proposées.")
    if kind == "missing" and len(loc) > 2:
        return _("Indiquez lat et lon, ou une adresse.")
    return _('Indiquez {"lat": .., "lon": ..}, {"address": "..."} ou {"place_id": ..}.')


def _type_message(kind: str, ctx: dict[str, Any]) -> str:
    if kind in ("string_type", "string_sub_type"):
        return _("Doit être un texte.")
    if kind == "string_too_long":
        return _("%(n)s caractères au plus.", n=ctx.get("max_length"))
    if kind == "string_too_short":
        return _("Ne peut pas être vide.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Doit être un nombre entier.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Doit être true ou false.")
    if kind in ("float_type", "float_parsing"):
        return _("Doit être un nombre.")
    if kind == "finite_number":
        return _("Doit être un nombre fini.")
    if kind == "list_type":
        return _("Doit être une liste.")
    if kind == "too_long":
        return _("%(n)s éléments au plus.", n=ctx.get("max_length"))
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("Doit être un objet JSON.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("Valeur trop petite.")
    if kind in ("less_than_equal", "less_than"):
        return _("Valeur trop grande.")
    return _("Valeur invalide.")


def refuse(errors: dict[str, object]) -> None:
    """A view's own field checks: a 422 naming each field, if any failed."""
    if errors:
        raise ValidationFailed(_("Vérifiez les champs signalés."), errors)
