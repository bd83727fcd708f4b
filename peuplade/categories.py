"""The fixed list of categories: skills on profiles, exchange and object categories."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Slugs are part of the public API (docs/api-contract.md); labels are translated.
CATEGORIES: dict[str, object] = {
    "bricolage": _l("Bricolage"),
    "jardinage": _l("Jardinage"),
    "informatique": _l("Informatique"),
    "demenagement": _l("Déménagement"),
    "courses": _l("Courses"),
    "animaux": _l("Animaux"),
    "cours": _l("Cours et soutien scolaire"),
    "transport": _l("Transport, accompagnement"),
    "couture": _l("Couture"),
    "cuisine": _l("Cuisine"),
    "administratif": _l("Démarches administratives"),
    "compagnie": _l("Compagnie, visites"),
    "autre": _l("Autre"),
}
SLUGS = tuple(CATEGORIES)


def label(slug: str) -> str:
    return str(CATEGORIES.get(slug, slug))


def choices() -> list[tuple[str, str]]:
    return [(slug, str(text)) for slug, text in CATEGORIES.items()]
