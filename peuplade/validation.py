"""Check every field of a form or request before writing anything."""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
