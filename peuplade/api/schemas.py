"""Pydantic types the JSON API's features share: what a value may be, request bodies and
query strings, the rules no schema can state, the error answers, and the small response
parts every feature shows (a position, a quartier, a member by name).

Each feature's own models are in its ``schemas.py`` (``exchanges/schemas.py``...). The
OpenAPI document is generated from these same classes (spectree, ``openapi.py``), so the
published contract cannot drift from what the views accept and return.

Request bodies (``Body`` subclasses) check all that JSON Schema can say (types, lengths,
patterns, ranges), exactly as the document says it; the business rules no schema can
state (password strength, duplicate email, an address the geocoder finds...) stay in the
services, shared with the HTML forms, and are named in the operations' descriptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from peuplade import categories, geo, validation
from peuplade.api import parsing
from peuplade.geocoding import MAX_ADDRESS_LENGTH, MAX_CANDIDATES
from peuplade.location import LocationInput
from peuplade.models import ALT_MAX, Member, Quartier
from peuplade.pagination import DEFAULT_LIMIT, MAX_LIMIT
from peuplade.validation import ID_MAX

LIMIT_MAX = MAX_LIMIT
LIMIT_DEFAULT = DEFAULT_LIMIT
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


Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
# A day, YYYY-MM-DD (an exchange's dates, a loan's first and last days).
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DAY_FORMAT = {
    "type": "string",
    "format": "date",
    "pattern": DAY_PATTERN,
    "description": "YYYY-MM-DD",
}
# The form of a day is checked here; whether it is a day of the calendar, by the view
# (``parsing.parse_day``), which names the field and the expected format when it is not.
Day = Annotated[StrictStr, Field(pattern=DAY_PATTERN), WithJsonSchema(DAY_FORMAT)]
Category = one_of(categories.SLUGS, _l("Choisissez une catégorie de la liste."))


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


class ForYouQuery(AbsentNotNull):
    """GET /for-you query string."""

    model_config = ConfigDict(extra="ignore")

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


DayOut = Annotated[
    date,
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


AVATAR_URL = Field(
    description="the member's face (a 400 px JPEG, served to who may see the member: a "
    "member met in a conversation who has since moved out of reach answers 404, show "
    "the initials then); null: none, show the initials of `display_name`"
)


class MemberRefOut(BaseModel):
    """Who wrote or helped: a name and a face, never a position."""

    id: int
    display_name: str
    avatar_url: str | None = AVATAR_URL


class PhotoOut(BaseModel):
    """A photo of a post: cleaned on the server (a JPEG without any metadata), served at
    its URLs to who may see its post (a bearer token works), 404 to anybody else."""

    id: int
    url: str = Field(description="the photo, at most 1600 px a side")
    thumbnail_url: str = Field(description="its thumbnail, at most 400 px a side")
    alt: str = Field(description="its description, read out by screen readers")
    width: int = Field(description="of the photo at `url`, in pixels")
    height: int


PhotosOut = Field(
    description="the post's photos, in their order (empty: none); their URLs are served "
    "to who may see the post"
)


# --- multipart request bodies ----------------------------------------------------------


# A file of a multipart/form-data body: ``parsing.parse_form`` hands the view a stream of
# its bytes as sent (a file, or a text field of that name); the services judge them.
Upload = Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})]


class Form(AbsentNotNull):
    """A multipart/form-data request body (files and texts): a field sent twice and
    fields the model does not name are refused (422), as in a JSON body."""

    model_config = ConfigDict(extra="forbid")


class PhotoForm(Form):
    """A photo: JPEG, PNG, WebP or HEIC, 10 MB at most; its description is `alt`."""

    photo: Upload = Field(
        description="the image file: JPEG, PNG, WebP or HEIC (iPhone), 10 MB at most; "
        "stored re-encoded as a JPEG of at most 1600 px, without any metadata (no GPS "
        "position, no EXIF, XMP or IPTC)"
    )
    alt: text(ALT_MAX) | None = Field(
        default=None,
        description="what the photo shows, read out by screen readers; omitted or blank: "
        "the post's title (an avatar: « Photo de <display_name> »)",
    )


class UnreadOut(BaseModel):
    unread: int


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


# --- the shared response parts, from domain objects --------------------------------------


def quartier(q: Quartier | None) -> QuartierOut | None:
    return None if q is None else QuartierOut(slug=q.slug, name=q.display_name)


def position(element: Any) -> PositionOut:
    """A stored point (a post's PUBLIC position, or a member's own home) as lat/lon."""
    point = geo.from_element(element)
    return PositionOut(lat=point.lat, lon=point.lon)


def avatar_url(member: Member) -> str | None:
    """The URL of the member's face (400 px), None without one: what
    ``photos.urls.avatar_url`` gives, read from ``Member.avatar_key`` without a query
    (api/ is plumbing and imports no feature: the endpoint is named instead)."""
    if not member.avatar_key:
        return None
    photo_id, _, token = member.avatar_key.partition("/")
    return url_for(
        "media.avatar", member_id=member.id, photo_id=int(photo_id), token=token, variant="thumb"
    )


def member_ref(member: Member) -> MemberRefOut:
    return MemberRefOut(
        id=member.id, display_name=member.display_name, avatar_url=avatar_url(member)
    )


def unread_out(count: int) -> dict[str, Any]:
    # int(): PostgreSQL sums to a Decimal, which JSON would write as a string.
    return UnreadOut(unread=int(count)).model_dump(mode="json")


def location_input(location: PointLocation | AddressLocation) -> LocationInput:
    """The services' ``LocationInput`` for a point or an address given in a request."""
    if isinstance(location, AddressLocation):
        return LocationInput(address=location.address, choice=location.choice)
    return LocationInput(lat=location.lat, lon=location.lon)
