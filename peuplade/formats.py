"""Quantities, names and dates as pages write them, in the page's language: a radius
("800 m", "1,5 km"), a public place as people say it ("Angle Legendre et Nollet"), a day
("12 mars 2025"); and each page's translated strings, looked up once for the page."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup


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


# --- what a page says, looked up once per page -----------------------------------------
# A list of 20 cards writes ~100 translated strings and ~25 dates. Through Flask-Babel each
# looks up the request's locale and translations again (context-local look-ups, several
# microseconds each); here they are looked up once per render_template (a context
# processor) and the dates' words are kept per (day, language): the same strings, for a
# fraction of the cost. Macros imported without context do not see the page's helpers
# and take Flask-Babel's way, with the same result.

# A day in words ("12 mars 2025"), an instant in words ("samedi 14 mars 2026, 18:30").
LONG_DATE = "long"
LONG_DATETIME = "EEEE d MMMM y, HH:mm"
_WORDS_KEPT = 4096


@lru_cache(maxsize=_WORDS_KEPT)
def _day_words(day: date, language: str) -> str:
    """Flask-Babel's words for a day in the page's language (``language`` is its key:
    the caller is rendering a page in that language)."""
    return format_date(day, format=LONG_DATE)


@lru_cache(maxsize=_WORDS_KEPT)
def _minute_words(day: date, hour: int, minute: int, language: str) -> str:
    """Flask-Babel's words for a local minute (the pattern has no seconds nor zone)."""
    local = datetime.combine(day, time(hour, minute))
    return format_datetime(local, LONG_DATETIME, rebase=False)


def local_zone() -> ZoneInfo:
    """The site's zone (``TIMEZONE``): here, below the models (whose place names this
    module writes), for ``PageWords``; ``peuplade.localtime`` gives it to the rest."""
    return ZoneInfo(current_app.config["TIMEZONE"])


class PageWords:
    """The locale, the translations and the local zone of one rendered page."""

    def __init__(self) -> None:
        self.language = str(get_locale())
        self.zone = local_zone()
        self._translations = None

    @property
    def translations(self):
        """The page's catalogue, looked up at its first string (a page may have none)."""
        if self._translations is None:
            self._translations = get_translations()
        return self._translations

    def long_date(self, value: date | datetime | None) -> str:
        """A day in words ("12 mars 2025"); instants in local time."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return _day_words(value, self.language)

    def local_datetime(self, value: datetime | None) -> str:
        """An instant in local time, in words ("samedi 14 mars 2026, 18:30")."""
        if value is None:
            return ""
        local = value.astimezone(self.zone)
        return _minute_words(local.date(), local.hour, local.minute, self.language)


def seen_at(value: datetime) -> dict[str, str]:
    """When a page was seen, for the note the installed app shows on it offline
    (peuplade/pwa): its local ``day`` ("2026-12-07", which the service worker compares
    with the phone's), the ``time`` ("14 h 05" in French, "14:05" in English) and the
    ``date`` in words ("7 décembre 2026"), in the request's language."""
    local = value.astimezone(local_zone())
    language = str(get_locale())
    if language.startswith("fr"):
        clock = f"{local.hour} h {local.minute:02d}"
    else:
        clock = f"{local.hour:02d}:{local.minute:02d}"
    day = local.date()
    return {"day": day.isoformat(), "time": clock, "date": _day_words(day, language)}


def _page_words(context) -> PageWords:
    words = context.get("page_words")
    return words if isinstance(words, PageWords) else PageWords()


@pass_context
def long_date(context, value: date | datetime | None) -> str:
    """The ``long_date`` filter: a day in words, in the page's language."""
    return _page_words(context).long_date(value)


@pass_context
def local_datetime(context, value: datetime | None) -> str:
    """The ``local_datetime`` filter: an instant in local time, in words."""
    return _page_words(context).local_datetime(value)


def _page_gettext(words: PageWords):
    """Jinja's "newstyle" ``gettext`` (what ``_()`` calls in templates: autoescaped, the
    variables formatted in), translating with the page's catalogue."""

    @pass_context
    def gettext(__context, __string: str, **variables) -> str:
        rv = words.translations.ugettext(__string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - the catalogue's own string, as Jinja marks it
        return rv % variables

    return gettext


def _page_ngettext(words: PageWords):
    """Jinja's "newstyle" ``ngettext``: the catalogue's form for ``num``, autoescaped,
    the variables (``num`` among them) formatted in."""

    @pass_context
    def ngettext(__context, __singular: str, __plural: str, __num: int, **variables) -> str:
        variables.setdefault("num", __num)
        rv = words.translations.ungettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - the catalogue's own string, as Jinja marks it
        return rv % variables

    return ngettext


def page_helpers() -> dict:
    """Context processor: the page's words, looked up once for the page."""
    words = PageWords()
    return {"page_words": words, "gettext": _page_gettext(words), "ngettext": _page_ngettext(words)}


def init_app(app) -> None:
    """The date filters and the page's words (after the blueprints: these filters are
    defined here only)."""
    app.context_processor(page_helpers)
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(local_datetime, "local_datetime")
