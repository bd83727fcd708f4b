"""Pydantic models of the JSON API: what the views parse, what they answer.

The OpenAPI document is generated from these same classes (spectree, ``openapi.py``), so
the published contract cannot drift from what the views accept and return.

Request bodies (``Body`` subclasses) check types, shapes and lengths only; the
business rules (radius range, known skills, password strength, duplicate
email...) stay in ``account/services.py``, shared with the HTML forms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    RootModel,
    StrictInt,
    StrictStr,
    Tag,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import GenerateJsonSchema

from peuplade import categories
from peuplade.account.services import (
    BIO_MAX,
    DISPLAY_NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TAG_MAX_LENGTH,
    TAGS_MAX,
    TOKEN_NAME_MAX,
)
from peuplade.geocoding import MAX_ADDRESS_LENGTH, MAX_CANDIDATES
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M

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


Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
Radius = Annotated[StrictInt, Field(ge=RADIUS_MIN_M, le=RADIUS_MAX_M, description="mètres")]
Email = Annotated[StrictStr, Field(max_length=254)]
Password = Annotated[StrictStr, Field(min_length=1, max_length=PASSWORD_MAX)]
DisplayName = Annotated[StrictStr, Field(max_length=DISPLAY_NAME_MAX)]
Bio = Annotated[StrictStr, Field(max_length=BIO_MAX)]
Skill = Annotated[
    StrictStr, Field(max_length=32, json_schema_extra={"enum": list(categories.SLUGS)})
]
FreeTag = Annotated[StrictStr, Field(max_length=TAG_MAX_LENGTH)]
Skills = Annotated[list[Skill], Field(max_length=LIST_BOUND)]
Tags = Annotated[
    list[FreeTag],
    Field(max_length=LIST_BOUND, description=f"{TAGS_MAX} mots-clés distincts au plus"),
]


class PointLocation(Body):
    """A home picked on the map."""

    lat: Latitude
    lon: Longitude


class AddressLocation(Body):
    """A home given as an address, geocoded by the server."""

    address: Annotated[StrictStr, Field(min_length=1, max_length=MAX_ADDRESS_LENGTH)]
    choice: (
        Annotated[
            StrictInt,
            Field(
                ge=0,
                lt=MAX_CANDIDATES,
                description="index of one of the `candidates` of an ambiguous address",
            ),
        ]
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
    password: Password = Field(json_schema_extra={"minLength": PASSWORD_MIN})
    display_name: DisplayName
    location: Location
    radius_m: Radius | None = None
    skills: Skills | None = None
    tags: Tags | None = None
    bio: Bio | None = None


TokenName = Annotated[
    StrictStr,
    Field(
        description="a label to tell your tokens apart, e.g. « Téléphone de Marc »",
        json_schema_extra={"maxLength": TOKEN_NAME_MAX},
    ),
]


class TokenBody(Body):
    """POST /tokens."""

    email: Email
    password: Password
    name: TokenName | None = None


class TokenPatch(Body):
    """PATCH /tokens/{id}: a new label (an empty one removes it)."""

    name: TokenName


class ProfilePatch(Body):
    """PATCH /me: any of these fields; absent ones are left as they are. A new `email` or
    `location` needs `current_password` (re-authentication)."""

    display_name: DisplayName | None = None
    radius_m: Radius | None = None
    skills: Skills | None = None
    tags: Tags | None = None
    location: Location | None = None
    bio: Bio | None = None
    email: Email | None = None
    current_password: (
        Annotated[
            Password,
            Field(description="required to change `email` or `location`"),
        ]
        | None
    ) = None


class NeighboursQuery(AbsentNotNull):
    """GET /neighbours query string."""

    model_config = ConfigDict(extra="ignore")

    skill: (
        Annotated[
            str,
            Field(
                max_length=TAG_MAX_LENGTH,
                pattern=NO_CONTROL_CHARACTERS,
                description="a skill slug or a free tag",
            ),
        ]
        | None
    ) = None
    cursor: (
        Annotated[str, Field(max_length=500, description="next_cursor of the previous page")] | None
    ) = None
    limit: Annotated[int, Field(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT


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
