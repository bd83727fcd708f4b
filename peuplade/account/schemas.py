"""Pydantic models of the account endpoints (docs/api-contract.md): signing up, tokens,
my account (``/me``), confirming an address, a member's public profile.

As in ``api/schemas.py``, request models hold to all that the document says (lengths
and patterns of texts, ranges, formats); what no schema can state (password strength, an
address the geocoder finds...) is checked by ``account/services.py``, shared with the
HTML forms, and named in the operations' descriptions. The free tags and skills are also
what the neighbour search filters on (``neighbours/schemas.py``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    Discriminator,
    Field,
    StrictStr,
    Tag,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from peuplade import categories, validation
from peuplade.account import blur
from peuplade.account.services import BIO_MAX, DISPLAY_NAME_MAX, PASSWORD_MAX, PASSWORD_MIN
from peuplade.account.tokens import TOKEN_NAME_MAX
from peuplade.api import parsing
from peuplade.api.schemas import (
    AVATAR_URL,
    AddressLocation,
    Body,
    PointLocation,
    PositionOut,
    QuartierOut,
    Rule,
    Timestamp,
    integer,
    one_of,
    text,
)
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M
from peuplade.validation import TAG_MAX_LENGTH, TAGS_MAX

# Generous bounds on list sizes (duplicates are merged by the services, which apply
# the real limits); they only stop absurd payloads before any work is done.
LIST_BOUND = 50


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


# A rule of sign-up, the profile and the neighbour search (``validation.clean_tags``).
TAG_LENGTH = Rule(
    _l("Un mot-clé fait 40 caractères au plus une fois en minuscules (« ß » en fait deux)"),
    fields=("tags",),
)


# --- responses -----------------------------------------------------------------------


class MeOut(BaseModel):
    """The member's own account, home included (shown to them only)."""

    id: int
    email: str
    display_name: str
    avatar_url: str | None = AVATAR_URL
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
    avatar_url: str | None = AVATAR_URL
    skills: list[str]
    tags: list[str]
    bio: str
    quartier: QuartierOut | None
    thanks_count: int


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
