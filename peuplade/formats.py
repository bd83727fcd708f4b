"""Quantities as pages write them, in the page's language: a radius ("800 m", "1,5 km")."""

from __future__ import annotations

from flask_babel import format_decimal


def radius_text(metres: int) -> str:
    """1000 -> "1 km", 1500 -> "1,5 km", 800 -> "800 m" (in the page's language)."""
    if metres < 1000:
        return f"{metres} m"
    return f"{format_decimal(round(metres / 1000, 1))} km"
