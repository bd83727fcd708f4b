"""Check every field of a form or request before writing anything: ids, texts (cleaned
and measured), free tags and e-mail addresses, as every feature reads them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from peuplade.errors import ValidationFailed


def collect(
    checks: Mapping[str, Callable[[], object]],
) -> tuple[dict[str, object], dict[str, object]]:
    """Run every check; return (cleaned values, field errors), so that a member is told
    about every problem at once rather than one per submit."""
    values: dict[str, object] = {}
    errors: dict[str, object] = {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except ValidationFailed as exc:
            errors.update(exc.fields or {name: exc.message})
    return values, errors


# Ids are 32-bit integers on both databases: a larger one reaches PostgreSQL as an
# out-of-range value (a 500), so it is refused before any query.
ID_MAX = 2**31 - 1


def url_id(name: str) -> str:
    """A URL rule's id variable: ``<int(max=ID_MAX):name>`` (a larger id is a 404 like
    any id that does not exist, never a 405 or a 500)."""
    return f"<int(max={ID_MAX}):{name}>"


def parse_id(raw: object) -> int | None:
    """An id typed in a form or a query string (ASCII digits, 1 to ``ID_MAX``), else None."""
    text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(ID_MAX)):
        return None
    value = int(text)
    return value if 0 < value <= ID_MAX else None


def bounded_int_converter(map, *args, **kwargs) -> IntegerConverter:
    """Werkzeug's ``<int(max=N):...>`` whose pattern itself refuses numbers above N.

    Werkzeug checks ``max`` only after the path matched; when a rule for another method
    has the same path, a too large id then got 405 instead of 404
    (``POST /exchanges/99999999999/responses``)."""
    converter = IntegerConverter(map, *args, **kwargs)
    if converter.max is not None and not converter.signed and not converter.fixed_digits:
        converter.regex = _digits_up_to(converter.max)
    return converter


def _digits_up_to(n: int) -> str:
    """A regular expression for the decimal numbers 0..n (leading zeros aside)."""
    top = str(n)
    shorter = [rf"\d{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    same_length = [
        top[:i]
        + f"[0-{int(digit) - 1}]"
        + (rf"\d{{{len(top) - i - 1}}}" if i < len(top) - 1 else "")
        for i, digit in enumerate(top)
        if digit != "0"
    ]
    return "(?:" + "|".join([*shorter, *same_length, top]) + ")"


# --- texts, as the services read them and as JSON Schema can say it ------------------
#
# ``clean_text`` (every text of a form or a request) removes the
# control and format characters but tab and newline, normalises to NFC and strips the
# spaces at both ends; the services then count what is left. The patterns below state
# the same rules for the API's JSON Schema, built from the same Unicode tables, so that
# a text the document allows is a text the services keep, and the other way round
# (lengths once normalised to NFC aside: a schema cannot say it).

KEPT_CONTROLS = "\t\n"
REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# Where control and format characters and spaces live, as of every Unicode version so
# far (tests/test_api_text_rules.py scans the whole range): the rest needs no scan.
_SCANNED = (range(0, 0x40000), range(0xE0000, 0xE1000))


def removed(char: str) -> bool:
    """A character ``clean_text`` drops: a control (but tab and newline) or format one."""
    return unicodedata.category(char) in REMOVED_CATEGORIES and char not in KEPT_CONTROLS


def clean_text(value: str | None) -> str:
    """NFC, without control and format characters (but tab and newline), stripped.
    Private-use and unassigned characters stay (an emoji newer than Python's tables)."""
    value = unicodedata.normalize("NFC", value or "")
    return "".join(c for c in value if not removed(c)).strip()


def checked_text(
    value: str | None, field: str, maximum: int, minimum: int = 0, *, required: bool = False
) -> str:
    """``clean_text(value)`` if its length is within bounds, else ValidationFailed on
    ``field``. ``required``: an empty text is told "Ce champ est obligatoire."; shorter
    than ``minimum`` is told how many characters it takes."""
    cleaned = clean_text(value)
    if required and not cleaned:
        msg = _l("Ce champ est obligatoire.")
    elif len(cleaned) < minimum:
        msg = _l("Écrivez au moins %(n)s caractères.", n=minimum)
    elif len(cleaned) > maximum:
        msg = _l("%(n)s caractères au plus.", n=maximum)
    else:
        return cleaned
    raise ValidationFailed(msg, {field: msg})


TAG_MAX_LENGTH = 40
TAGS_MAX = 10
_TAG_RE = re.compile(r"^[\w][\w '\-]*$")


def clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Free tags ("vélo", "tricot"): case-folded, de-duplicated, at most 10."""
    if isinstance(tags, str):
        tags = tags.split(",")
    cleaned: list[str] = []
    for raw in tags or []:
        tag = " ".join(clean_text(str(raw)).casefold().split())
        if not tag:
            continue
        if len(tag) > TAG_MAX_LENGTH or not _TAG_RE.match(tag):
            msg = _l(
                "Mot-clé invalide : « %(t)s » (lettres, chiffres, espaces et tirets, "
                "%(n)s caractères au plus).",
                t=tag[:TAG_MAX_LENGTH],
                n=TAG_MAX_LENGTH,
            )
            raise ValidationFailed(msg, {"tags": msg})
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > TAGS_MAX:
        msg = _l("%(n)s mots-clés au plus.", n=TAGS_MAX)
        raise ValidationFailed(msg, {"tags": msg})
    return cleaned


def normalise_email(email: str) -> str:
    """Validated and case-folded: ``Anne@Example.org`` and ``anne@example.org`` are one
    account's address (what accounts store and are looked up by)."""
    try:
        info = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed(
            _l("Adresse e-mail invalide."), {"email": _l("Adresse e-mail invalide.")}
        ) from None
    return info.normalized.casefold()


def _scan() -> tuple[list[int], list[int]]:
    gone, spaces = [], []
    for block in _SCANNED:
        for code in block:
            char = chr(code)
            if unicodedata.category(char) == "Cs":
                continue  # never in a valid JSON text, and no regex engine can name one
            if removed(char):
                gone.append(code)
            elif char.isspace():
                spaces.append(code)
    return gone, spaces


def _char_class(codes: list[int]) -> str:
    """The inside of a regex character class for ``codes``: BMP characters as \\uXXXX
    (read alike by ECMA-262, Python and Rust), the others as themselves."""
    parts, start = [], None
    for i, code in enumerate(codes):
        if start is None:
            start = code
        if i + 1 == len(codes) or codes[i + 1] != code + 1:
            parts.append(_class_char(start) + ("" if code == start else "-" + _class_char(code)))
            start = None
    return "".join(parts)


def _class_char(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


_REMOVED_CODES, _SPACE_CODES = _scan()
# Dropped by clean_text; spaces (str.isspace) it keeps but strips at both ends.
REMOVED = _char_class(_REMOVED_CODES)
SPACES = _char_class(_SPACE_CODES)
# Every character str.strip() takes away (for texts read without clean_text).
ANY_SPACE = _char_class(sorted(code for code in range(0x3001) if chr(code).isspace()))
# The same without the control characters (for query strings, which refuse them).
FORMAT_CHARACTERS = _char_class(
    [code for code in _REMOVED_CODES if unicodedata.category(chr(code)) == "Cf"]
)
SPACES_NOT_CONTROLS = _char_class(
    [code for code in _SPACE_CODES if unicodedata.category(chr(code)) != "Cc"]
)
_VISIBLE = f"[^{REMOVED}{SPACES}]"
_KEPT = f"[^{REMOVED}]"


def text_pattern(min_chars: int) -> str:
    """A text that keeps at least ``min_chars`` characters through ``clean_text`` (and
    the collapsing of inner spaces: it never shortens a text below two visible ends).

    One visible character (not a space, not removed) is enough for one; for more, two
    visible ends with ``min_chars - 2`` kept characters between them."""
    if min_chars <= 1:
        return _VISIBLE
    between = "" if min_chars == 2 else f"(?:[{REMOVED}]*{_KEPT}){{{min_chars - 2}}}"
    return f"{_VISIBLE}{between}[\\s\\S]*{_VISIBLE}"


def blank_or_text_pattern(min_chars: int) -> str:
    """Empty once cleaned (nothing but spaces and removed characters), or ``text_pattern``."""
    return f"^[{REMOVED}{SPACES}]*$|{text_pattern(min_chars)}"


def not_blank_pattern() -> str:
    """Something else than spaces, for a text only stripped (``str.strip``)."""
    return f"[^{ANY_SPACE}]"
