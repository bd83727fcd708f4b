"""Quantities and names as pages write them, in the page's language: a radius ("800 m",
"1,5 km"), a public place as people say it ("Angle Legendre et Nollet")."""

from __future__ import annotations

import re

from flask_babel import format_decimal


def radius_text(metres: int) -> str:
    """1000 -> "1 km", 1500 -> "1,5 km", 800 -> "800 m" (in the page's language)."""
    if metres < 1000:
        return f"{metres} m"
    return f"{format_decimal(round(metres / 1000, 1))} km"


# --- a public place's name, as people say it ------------------------------------------

# A part of a Vélib' station's name that is itself a place people know (not a street).
_LANDMARKS = re.compile(
    r"^(place|square|parc|jardins?|gare|porte|pont|mairie|église|eglise|marché|hôpital|"
    r"stade|musée|cimetière|métro|lycée|collège|école|ecole|bibliothèque|piscine|"
    r"gymnase|théâtre|cité|quai|port|bois|bassin|canal|institut|palais|hôtel de ville)\s+\S",
    re.IGNORECASE,
)
# Accents the open data leaves out, on words that always take them.
_ACCENTS = {
    "Eglise": "Église",
    "Ecole": "École",
    "Ecoles": "Écoles",
    "Etienne": "Étienne",
    "Epinettes": "Épinettes",
    "Elysées": "Élysées",
    "Elysee": "Élysée",
    "Etats-Unis": "États-Unis",
    "Etoile": "Étoile",
    "Eugene": "Eugène",
}
_ORDINAL = re.compile(r"\b(\d+)(?:ème|eme)\b")
_SEPARATOR = re.compile(r"\s+-\s+")


def _tidy(part: str) -> str:
    """Ordinals as written ("17ème" -> "17e"), and the missing capital accents."""
    part = _ORDINAL.sub(r"\1e", part.strip())
    return re.sub(r"[A-Za-zÀ-ÿ-]+", lambda m: _ACCENTS.get(m.group(0), m.group(0)), part)


def place_label(name: str) -> str:
    """A public place's name as people say it. Vélib' stations are named after a street
    corner, "Legendre - Nollet": that is "Angle Legendre et Nollet"; a corner with a
    place everybody knows, "Croix Nivert - Square Saint-Lambert", is "Square
    Saint-Lambert, côté Croix Nivert"; a plain name stays ("Square des Batignolles"),
    ordinals and capital accents tidied ("Mairie du 17ème" -> "Mairie du 17e"). Never
    empty for a non-empty name.

    In French whatever the page's language, like the names themselves (and a post
    keeps a copy: ``Post.place_name``)."""
    parts = [_tidy(p) for p in _SEPARATOR.split(name.strip()) if p.strip()]
    if len(parts) != 2:
        return " - ".join(parts) if parts else name
    first, second = parts
    if _LANDMARKS.match(second) and not _LANDMARKS.match(first):
        return f"{second}, côté {first}"
    if _LANDMARKS.match(first):
        return f"{first}, côté {second}"
    return f"Angle {first} et {second}"
