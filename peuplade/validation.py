"""Check every field of a form or request before writing anything."""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
