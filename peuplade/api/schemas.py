"""Pydantic models of the JSON API: what the views parse, what they answer.

The OpenAPI document is generated from these same classes (spectree, ``openapi.py``), so
the published contract cannot drift from what the views accept and return.

Request bodies (``Body`` subclasses) check all that JSON Schema can say (types, lengths,
patterns, ranges), exactly as the document says it; the business rules no schema can
state (password strength, duplicate email, an address the geocoder finds...) stay in
``account/services.py``, shared with the HTML forms, and are named in the operations'
descriptions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    RootModel,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from peuplade import categories, validation
from peuplade.account import blur
from peuplade.account.services import BIO_MAX, DISPLAY_NAME_MAX, PASSWORD_MAX, PASSWORD_MIN
from peuplade.account.tokens import TOKEN_NAME_MAX
from peuplade.api import parsing
from peuplade.geocoding import MAX_ADDRESS_LENGTH, MAX_CANDIDATES
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M
from peuplade.validation import ID_MAX, TAG_MAX_LENGTH, TAGS_MAX

# Generous bounds on list sizes (duplicates are merged by the services, which apply
# the real limits); they only stop absurd payloads before any work is done.
LIST_BOUND = 50
LIMIT_MAX = 100
LIMIT_DEFAULT = 20
# Query strings reach SQL as-is: PostgreSQL refuses NUL characters in text (a 500).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


class RequestJsonSchema(GenerateJsonSchema):
    """``X | None = None`` documented as "may be omitted": neither null nor a default."""

    def nullable_schema(self, schema):
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema):
        if schema.get("default") is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


class AbsentNotNull(BaseModel):
    """A model whose optional keys are absent rather than null: request bodies (null
    is refused), query strings (no null in a URL) and error answers (keys left out).
    Their JSON Schema, wherever it is asked for (the OpenAPI document), says so."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("schema_generator", RequestJsonSchema)
        return super().model_json_schema(*args, **kwargs)


class Body(AbsentNotNull):
    """A JSON request body: unknown fields and explicit nulls are refused.

    Optional fields are typed ``X | None = None`` so that "absent" is None, but an
    explicit ``null`` is an error: omitting a field is the way to leave it as is.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("null")
        return value


# --- what a value may be: the JSON Schema says it, the server holds to it --------------
#
# Every constraint below is a real pydantic constraint (or a validator doing exactly what
# the documented keyword says), never a mere note in the document: the server refuses
# what the document refuses (422 naming the field), and the patterns of texts are the
# services' own cleaning rules (``peuplade.validation``), so the document allows what the
# services accept. What no JSON Schema can say is named in each operation's description.


def _integral(value: Any) -> Any:
    """JSON Schema's integers include 1865.0: take a whole float as the integer it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def integer(**constraints: Any) -> Any:
    """An integer of a request body, within ``constraints`` (``ge``, ``le``...)."""
    return Annotated[StrictInt, Field(**constraints), BeforeValidator(_integral)]


Id = integer(ge=1, le=ID_MAX)


def one_of(values: tuple[str, ...] | list[str], message: Any = None, **schema: Any) -> Any:
    """A text taking one of ``values`` and nothing else (not even empty)."""
    allowed = tuple(values)
    refusal = message or _l("Choisissez parmi : %(v)s.", v=", ".join(allowed))

    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError("out_of_range", str(refusal))
        return value

    return Annotated[
        StrictStr,
        AfterValidator(check),
        WithJsonSchema({"type": "string", "enum": list(allowed), **schema}),
    ]


def text_pattern(min_chars: int, *, blank: bool = False) -> str | None:
    """The pattern of a text keeping at least ``min_chars`` characters once cleaned
    (``blank``: or none at all), with its message; None when any text will do."""
    if not min_chars:
        return None
    rule = (
        validation.blank_or_text_pattern(min_chars) if blank else validation.text_pattern(min_chars)
    )
    return parsing.pattern_message(
        rule,
        _l("Écrivez au moins %(n)s caractères (sans compter les espaces).", n=min_chars)
        if min_chars > 1
        else _l("Ne peut pas être vide (des espaces ne suffisent pas)."),
    )


def text(max_length: int, min_chars: int = 0, *, blank: bool = False, **field: Any) -> Any:
    """A text as the services read it (``clean_text``: control and format characters
    dropped, spaces at both ends ignored): at most ``max_length`` characters as sent, and
    at least ``min_chars`` once cleaned (``blank``: or nothing at all)."""
    constraints: dict[str, Any] = {"max_length": max_length, **field}
    if min_chars:
        constraints["pattern"] = text_pattern(min_chars, blank=blank)
        if not blank:
            constraints["min_length"] = min_chars
    return Annotated[StrictStr, Field(**constraints)]


# A free tag as ``validation.clean_tags`` keeps it: letters and digits of any
# script, then also spaces, apostrophes and hyphens; removed characters anywhere.
_TAG_CHARS = r"\p{L}\p{N}_"
_TAG_MESSAGE = _l(
    "Lettres, chiffres, espaces, apostrophes et tirets ; une lettre ou un chiffre d'abord."
)


def _tag_pattern(dropped: str, spaces: str) -> str:
    return parsing.pattern_message(
        f"^[{dropped}{spaces}]*(?:[{_TAG_CHARS}][{_TAG_CHARS}{dropped}{spaces}'-]*)?$",
        _TAG_MESSAGE,
    )


TAG_PATTERN = _tag_pattern(validation.REMOVED, validation.SPACES)
# In a query string, no control character at all (they would reach SQL as they are).
QUERY_TAG_PATTERN = _tag_pattern(validation.FORMAT_CHARACTERS, validation.SPACES_NOT_CONTROLS)


def _folds_to_a_non_letter(char: str) -> bool:
    folded = unicodedata.normalize("NFC", char).casefold()
    return bool(_WORD.fullmatch(char)) and not _WORD.fullmatch(folded)


_WORD = re.compile(r"\w+")
# Letters whose lower case is no letter any more ("İ" is "i" and a combining dot): the
# tag is kept in lower case, and refused then. All in the BMP (tests check).
UNFOLDABLE = "".join(c for c in map(chr, range(0x10000)) if _folds_to_a_non_letter(c))
_UNFOLDABLE_RE = re.compile(f"[{re.escape(UNFOLDABLE)}]")


def _foldable(tag: str) -> str:
    if _UNFOLDABLE_RE.search(tag):
        raise PydanticCustomError(
            "unfoldable",
            str(_l("Une lettre de ce mot-clé ne s'écrit pas en minuscule : %(c)s.", c=UNFOLDABLE)),
        )
    return tag


def _free_tag(pattern: str, description: str) -> Any:
    return Annotated[
        StrictStr,
        Field(max_length=TAG_MAX_LENGTH, pattern=pattern),
        AfterValidator(_foldable),
        WithJsonSchema(
            {
                "type": "string",
                "maxLength": TAG_MAX_LENGTH,
                "pattern": pattern,
                "not": {"pattern": f"[{UNFOLDABLE}]"},
                "description": f"{description}; lower-cased when kept, so these letters are "
                f"refused: {UNFOLDABLE}",
            }
        ),
    ]


FreeTag = _free_tag(TAG_PATTERN, "a free tag")
SkillFilter = _free_tag(QUERY_TAG_PATTERN, "a skill slug or a free tag")

# An address of the API (register, change of address): what ``email_validator`` accepts
# of the ASCII addresses, written as a pattern (a dot-atom, then a domain name whose
# top-level domain is made of letters and is no special-use one, ``.test`` or ``.local``).
# No punycode label ("xn--"): whether one decodes, no pattern can say.
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LDH = "A-Za-z0-9"
_LABEL = (
    f"(?:[{_LDH}]{{1,2}}"
    f"|[{_LDH}][{_LDH}-][{_LDH}]"
    f"|[{_LDH}][{_LDH}-][{_LDH}-][{_LDH}](?:[{_LDH}-]{{0,58}}[{_LDH}])?"
    f"|[{_LDH}][{_LDH}-][{_LDH}]-[{_LDH}-]{{0,58}}[{_LDH}])"
)
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")


def _none_of(words: tuple[str, ...], longest: int) -> str:
    """A regex for the words of 2 to ``longest`` ASCII letters (either case) but ``words``."""

    def letters(excluded: set[str]) -> str:
        kept = [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in excluded]
        return "".join(f"{c}{c.upper()}" for c in kept)

    def node(prefix: str) -> str:
        depth = len(prefix)
        nexts = sorted({w[depth] for w in words if w.startswith(prefix) and len(w) > depth})
        options = []
        if prefix not in words and depth >= 2:
            options.append("")
        if depth < longest:
            low = max(2 - depth - 1, 0)
            rest = f"[A-Za-z]{{{low},{longest - depth - 1}}}"
            if len(nexts) < 26:
                options.append(f"[{letters(set(nexts))}]{rest}")
            options.extend(f"[{c}{c.upper()}]{node(prefix + c)}" for c in nexts)
        assert options, prefix  # every word of ``words`` is shorter than ``longest``
        return "(?:" + "|".join(options) + ")"

    return node("")


EMAIL_PATTERN = parsing.pattern_message(
    # 64 characters at most before the @ (two dots in a row: the format refuses them)
    f"^[{_ATEXT}](?:[.{_ATEXT}]{{0,62}}[{_ATEXT}])?@(?:{_LABEL}\\.)+"
    f"{_none_of(SPECIAL_USE_DOMAINS, 63)}$",
    _l("Adresse e-mail invalide."),
)
Email = Annotated[
    StrictStr,
    Field(
        max_length=254,
        pattern=EMAIL_PATTERN,
        description="ASCII, without punycode (xn--) labels",
        json_schema_extra={"format": "email"},
    ),
]
# The address an account signs in with: whatever the account has (forms accept more
# addresses than EMAIL_PATTERN), so only its shape.
LoginEmail = Annotated[
    StrictStr,
    Field(
        max_length=254,
        pattern=parsing.pattern_message("^[^@]+@[^@]+$", _l("Adresse e-mail invalide.")),
        description="the e-mail address of the account",
    ),
]
Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
Radius = integer(ge=RADIUS_MIN_M, le=RADIUS_MAX_M, description="mètres")
Password = Annotated[StrictStr, Field(min_length=1, max_length=PASSWORD_MAX)]
NewPassword = Annotated[
    StrictStr,
    Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description="counted once normalised (NFKC); not too easy to guess (zxcvbn)",
    ),
]
DisplayName = text(DISPLAY_NAME_MAX, 2, description="spaces inside are kept as one")
Bio = text(BIO_MAX)
Skill = one_of(categories.SLUGS, _l("Choisissez un savoir-faire de la liste."))
Skills = Annotated[list[Skill], Field(max_length=LIST_BOUND)]
Tags = Annotated[
    list[FreeTag],
    Field(
        max_length=TAGS_MAX,
        description="free tags (« vélo », « tricot »), lower-cased and merged when kept",
    ),
]


class PointLocation(Body):
    """A home picked on the map."""

    lat: Latitude
    lon: Longitude


class AddressLocation(Body):
    """A home given as an address, geocoded by the server."""

    address: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=MAX_ADDRESS_LENGTH,
            pattern=parsing.pattern_message(
                validation.not_blank_pattern(), _l("Indiquez une adresse.")
            ),
        ),
    ]
    choice: (
        integer(
            ge=0,
            lt=MAX_CANDIDATES,
            description="index of one of the `candidates` of an ambiguous address",
        )
        | None
    ) = None


def _location_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "address" if "address" in value else "point"
    if isinstance(value, PointLocation | AddressLocation):
        return "address" if isinstance(value, AddressLocation) else "point"
    return None


Location = Annotated[
    Annotated[PointLocation, Tag("point")] | Annotated[AddressLocation, Tag("address")],
    Discriminator(_location_kind),
]


class RegisterBody(Body):
    """POST /members."""

    email: Email
    password: NewPassword
    display_name: DisplayName
    location: Location
    radius_m: Radius | None = None
    skills: Skills | None = None
    tags: Tags | None = None
    bio: Bio | None = None


# The secret of a confirmation link (/email/confirm/<token>): itsdangerous's signed
# payload, base64url pieces joined by dots. Whether we signed it, no pattern can say.
ConfirmationToken = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=300,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="the end of the link e-mailed to confirm the address: …/email/confirm/<token>",
    ),
]


class ConfirmationBody(Body):
    """POST /confirmations."""

    token: ConfirmationToken


TokenName = text(
    TOKEN_NAME_MAX,
    description="a label to tell your tokens apart, e.g. « Téléphone de Marc »; empty: no label",
)


class TokenBody(Body):
    """POST /tokens."""

    email: LoginEmail
    password: Password
    name: TokenName | None = None


class TokenPatch(Body):
    """PATCH /tokens/{id}: a new label (an empty one removes it)."""

    name: TokenName


# The finest position a member lets neighbours see (account/blur.py).
PrivacyFloor = Annotated[
    Literal[tuple(blur.FLOOR_NAMES)],  # "200m", "450m", "900m", "quartier"
    Field(
        description="the finest public position: about 200 m, 450 m or 900 m around the "
        "home, or `quartier` (a fixed point of the member's quartier)"
    ),
]


class ProfilePatch(Body):
    """PATCH /me: any of these fields; absent ones are left as they are. A new `email` or
    `location` needs `current_password` (re-authentication); a new `email` is pending
    (`pending_email`) until the link sent to it is followed."""

    display_name: DisplayName | None = None
    radius_m: Radius | None = None
    skills: Skills | None = None
    tags: Tags | None = None
    location: Location | None = None
    bio: Bio | None = None
    email: Email | None = None
    privacy_floor: PrivacyFloor | None = None
    current_password: (
        Annotated[
            Password,
            Field(description="required to change `email` or `location`"),
        ]
        | None
    ) = None


# --- query strings -------------------------------------------------------------------
#
# A query string holds texts: an integer is written in decimal digits ("20", not "20.0",
# " 20" or "2_0"), a boolean is "true" or "false", and a parameter is given once.

_QUERY_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")


def _query_integer(value: Any) -> Any:
    if isinstance(value, str):
        if not _QUERY_INTEGER.fullmatch(value):
            raise PydanticCustomError("int_parsing", "integer")
        return int(value)
    return value


def _query_boolean(value: Any) -> Any:
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise PydanticCustomError("bool_parsing", "boolean")
        return value == "true"
    return value


QueryBool = Annotated[StrictBool, BeforeValidator(_query_boolean)]
Limit = Annotated[StrictInt, Field(ge=1, le=LIMIT_MAX), BeforeValidator(_query_integer)]
# A next_cursor: itsdangerous's signed payload (base64url, "." then a 27-character
# signature); empty: the first page. Whether we signed it, no pattern can say (400).
CURSOR_PATTERN = parsing.pattern_message(
    r"^(?:\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{27})?$",
    _l("Ce lien de page n'est plus valide : revenez à la première page."),
)
Cursor = Annotated[
    str,
    Field(
        max_length=500,
        pattern=CURSOR_PATTERN,
        description="the next_cursor of the previous page (empty or omitted: the first page)",
    ),
]


class NeighboursQuery(AbsentNotNull):
    """GET /neighbours query string."""

    model_config = ConfigDict(extra="ignore")

    skill: SkillFilter | None = None
    cursor: Cursor | None = None
    limit: Limit = LIMIT_DEFAULT


# --- what no schema can state ------------------------------------------------------

ERROR_CODES = {
    400: "bad_cursor",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "validation_failed",
    429: "rate_limited",
}


@dataclass(frozen=True)
class Rule:
    """A rule the request's JSON Schema cannot state, checked by the server: a password
    too easy to guess, a date already past, a place that must exist, "not your own"...

    It is named in the operation's description with the error it gives: ``status``, its
    ``code``, and ``fields``, the keys of ``error.fields`` naming it (none: an answer
    without ``fields``). ``tests/test_api_schemathesis.py`` accepts a refusal of data the
    document allows only when it is one of these."""

    text: Any
    status: int = 422
    fields: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # the ``error.code`` values, when not the status's usual one

    def __str__(self) -> str:
        codes = ", ".join(f"`{code}`" for code in self.codes or (ERROR_CODES[self.status],))
        named = "".join(f", `fields.{name}`" for name in self.fields)
        return f"- {self.text} — {self.status} {codes}{named}"


class Described:
    """An operation's description: its text, then the rules no schema can state."""

    def __init__(self, text: Any, *rules: Rule):
        self.text = text
        self.rules = rules

    def __str__(self) -> str:
        return str(self.text) if self.text else ""


def described(text: Any, *rules: Rule) -> Described:
    """``description=`` of an ``@operation`` whose server checks ``rules`` too."""
    return Described(text, *rules)


# Where a post may be (exchanges, outings: posts.services.resolve_position).
PLACE_NEAR_HOME = Rule(
    _l(
        "`location` : un lieu public qui existe, un point, ou une adresse que le "
        "géocodeur trouve, à 5 km au plus de mon domicile"
    ),
    fields=("location",),
)


# --- responses -----------------------------------------------------------------------

# ISO 8601 with an explicit offset ("+00:00"), as the contract says.
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class QuartierOut(BaseModel):
    slug: str
    name: str


class PositionOut(BaseModel):
    lat: float
    lon: float


class MeOut(BaseModel):
    """The member's own account, home included (shown to them only)."""

    id: int
    email: str
    display_name: str
    bio: str
    radius_m: int
    skills: list[str]
    tags: list[str]
    quartier: QuartierOut | None
    home: PositionOut
    created_at: Timestamp
    email_confirmed: bool = Field(
        description="the link e-mailed to this address was followed (POST /me/confirmation "
        "sends a new one)"
    )
    pending_email: str | None = Field(
        description="a new address asked for with PATCH /me: it becomes `email` once the "
        "link sent to it is followed (POST /confirmations); null when none"
    )
    privacy_floor: PrivacyFloor
    shown_at: PrivacyFloor = Field(
        description="how finely neighbours see me today: never finer than `privacy_floor`, "
        "coarser while too few established members have lived near me for long enough"
    )


class SignUpOut(BaseModel):
    """The answer to a sign-up, the same whether the address had an account or not."""

    status: Literal["pending"]
    message: str = Field(description="what to do next: check the mailbox of the address")


class ConfirmationSentOut(BaseModel):
    status: Literal["sent", "confirmed"] = Field(
        description="`sent`: a new link is on its way; `confirmed`: the address was "
        "confirmed already, nothing sent"
    )


class ConfirmationOut(BaseModel):
    status: Literal["confirmed"]
    first_time: bool = Field(description="false when the address was confirmed already")


class MemberOut(BaseModel):
    """A public profile: never a position."""

    id: int
    display_name: str
    skills: list[str]
    tags: list[str]
    bio: str
    quartier: QuartierOut | None
    thanks_count: int


class MemberSummaryOut(BaseModel):
    id: int
    display_name: str
    skills: list[str]
    tags: list[str]
    quartier: QuartierOut | None


class NeighbourOut(BaseModel):
    member: MemberSummaryOut
    distance_band: str = Field(examples=["~500 m"])


class NeighbourPage(BaseModel):
    items: list[NeighbourOut]
    next_cursor: str | None


class TokenOut(BaseModel):
    """The token itself is shown once, here: only its digest is stored."""

    id: int
    name: str | None
    token: str
    expires_at: Timestamp


class TokenInfoOut(BaseModel):
    """One of my tokens, without the token (it is not stored)."""

    id: int
    name: str | None
    created_at: Timestamp
    expires_at: Timestamp
    last_used_at: Timestamp | None = Field(description="to within five minutes")
    current: bool = Field(description="the token that authenticated this request")


class TokenPage(BaseModel):
    items: list[TokenInfoOut]
    next_cursor: None = Field(description="always null: every live token fits one page")


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document (this one)."""


class ErrorDetail(BaseModel):
    code: str = Field(examples=["validation_failed"])
    message: str
    fields: dict[str, str] | None = Field(default=None, description="field -> message, on 422")
    candidates: list[str] | None = Field(
        default=None, description="labels of the places an ambiguous address matched"
    )


class ErrorOut(AbsentNotNull):
    error: ErrorDetail
