"""Geocoding front: one provider chosen by ``GEOCODER``, with timeouts, a cache and errors.

Providers (geopy): ``nominatim``, ``ban`` (Base Adresse Nationale, France),
``photon``, and ``offline`` - a gazetteer shipped in ``data/`` for the demo
neighbourhood, the default in development and tests.

Callers use :func:`resolve`, which returns one :class:`Candidate` or raises a
:class:`GeocodingError` subclass whose message can be shown to the user as is.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cachetools import TTLCache
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from geopy.adapters import URLLibAdapter
from geopy.exc import GeocoderTimedOut, GeopyError
from geopy.geocoders import BANFrance, Nominatim, Photon
from geopy.location import Location
from geopy.point import Point as GeopyPoint

from peuplade.geo import LatLon, geodesic_distance_m, lat_lon

log = logging.getLogger(__name__)

PROVIDERS = ("nominatim", "ban", "photon", "offline")
MAX_CANDIDATES = 5
# Candidates closer than this are the same place written differently.
SAME_PLACE_M = 150.0
# Provider scores below this share of the best one are noise, not real alternatives.
SCORE_SHARE = 0.8
MAX_ADDRESS_LENGTH = 200


class GeocodingError(Exception):
    """Base: the message is safe and meant for the member."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


class AddressNotFound(GeocodingError):
    pass


class AddressAmbiguous(GeocodingError):
    def __init__(self, message: Any, candidates: list[Candidate]):
        super().__init__(message)
        self.candidates = candidates


class GeocoderUnavailable(GeocodingError):
    pass


@dataclass(frozen=True)
class Candidate:
    label: str
    position: LatLon
    score: float | None = None


class _Provider(Protocol):
    def geocode(self, query: str, **kwargs: Any) -> Any: ...


def normalise(text: str) -> str:
    """Case- and accent-insensitive form of an address, punctuation as spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return " ".join(text.split())


def cache_key(address: str) -> str:
    """Case-, accent- and punctuation-insensitive, but keeping every letter of every
    script (unlike :func:`normalise`): different addresses never share cached answers."""
    text = unicodedata.normalize("NFKD", address)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


class OfflineGazetteer:
    """A geopy-like geocoder answering from a JSON gazetteer (no network).

    File format: ``{"entries": [{"label": ..., "lat": ..., "lon": ..., "aliases": [...]}]}``.
    A query matches an entry when every word of the query is a word of the
    entry's label or one of its aliases; an exact label/alias match wins.
    """

    def __init__(self, path: str | Path):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        self.entries: list[tuple[str, LatLon, list[set[str]], set[str]]] = []
        for entry in data["entries"]:
            names = [entry["label"], *entry.get("aliases", [])]
            normalised = [normalise(n) for n in names]
            self.entries.append(
                (
                    entry["label"],
                    lat_lon(entry["lat"], entry["lon"]),
                    [set(n.split()) for n in normalised],
                    set(normalised),
                )
            )

    def geocode(
        self, query: str, exactly_one: bool = False, limit: int | None = None, **_: Any
    ) -> list[Location] | Location | None:
        q = normalise(query)
        words = set(q.split())
        if not words:  # punctuation only: the empty set would match every entry
            return None
        exact = [e for e in self.entries if q in e[3]]
        matches = exact or [e for e in self.entries if any(words <= ws for ws in e[2])]
        found = [
            Location(label, GeopyPoint(pos.lat, pos.lon), {"label": label, "score": 1.0})
            for label, pos, _, _ in matches[: limit or MAX_CANDIDATES]
        ]
        if exactly_one:
            return found[0] if found else None
        return found or None


def _build_provider(app: Flask) -> _Provider:
    name = app.config["GEOCODER"]
    kwargs: dict[str, Any] = {
        "user_agent": app.config["GEOCODER_USER_AGENT"],
        "timeout": app.config["GEOCODER_TIMEOUT"],
        "scheme": app.config["GEOCODER_SCHEME"],
        # geopy picks requests (which retries a timed-out call twice) whenever it is
        # installed: the plain urllib adapter keeps one try, bounded by GEOCODER_TIMEOUT,
        # whatever else is installed.
        "adapter_factory": URLLibAdapter,
    }
    if app.config.get("GEOCODER_DOMAIN"):
        kwargs["domain"] = app.config["GEOCODER_DOMAIN"]
    if name == "offline":
        return OfflineGazetteer(app.config["GAZETTEER_PATH"])
    if name == "nominatim":
        return Nominatim(**kwargs)
    if name == "ban":
        return BANFrance(**kwargs)
    if name == "photon":
        return Photon(**kwargs)
    raise ValueError(f"GEOCODER must be one of {', '.join(PROVIDERS)}, got {name!r}.")


class Geocoder:
    """The app's geocoder: provider + cache. One per app (``app.extensions``)."""

    def __init__(self, app: Flask):
        self.name = app.config["GEOCODER"]
        self.provider = _build_provider(app)
        self._cache: TTLCache = TTLCache(maxsize=4096, ttl=app.config["GEOCODER_CACHE_SECONDS"])
        self._lock = threading.Lock()

    def candidates(self, address: str) -> list[Candidate]:
        """All plausible results for ``address`` (cached, also when there are none)."""
        key = cache_key(address)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        try:
            # Ask for more than we show: near-duplicates are merged before the list is cut.
            found = self.provider.geocode(address, exactly_one=False, limit=MAX_CANDIDATES * 2)
        except GeocoderTimedOut as exc:
            log.warning("geocoder %s timed out", self.name)
            raise GeocoderUnavailable(
                _l(
                    "Le service d'adresses ne répond pas. Réessayez dans un instant, "
                    "ou placez votre domicile sur la carte."
                )
            ) from exc
        except (GeopyError, AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            # geopy's parsers raise KeyError & co. on a malformed answer: still "unavailable".
            # The address is not logged: it is usually a member's home.
            log.warning("geocoder %s failed: %s", self.name, type(exc).__name__)
            raise GeocoderUnavailable(
                _l(
                    "Le service d'adresses est indisponible. Réessayez plus tard, "
                    "ou placez votre domicile sur la carte."
                )
            ) from exc
        result = _candidates_from(found or [])
        with self._lock:
            self._cache[key] = result
        return result


def _score(location: Location) -> float | None:
    raw = location.raw if isinstance(location.raw, dict) else {}
    for value in (raw.get("score"), raw.get("importance"), raw.get("properties", {}).get("score")):
        if isinstance(value, (int, float)):
            return float(value)
    return None


def _candidates_from(locations: list[Location]) -> list[Candidate]:
    result: list[Candidate] = []
    for loc in locations:
        try:
            pos = lat_lon(loc.latitude, loc.longitude)
        except ValueError:
            continue  # a provider answer without a usable point is no answer
        result.append(Candidate(label=loc.address, position=pos, score=_score(loc)))
    scores = [c.score for c in result if c.score is not None]
    if scores:
        best = max(scores)
        result = [c for c in result if c.score is None or c.score >= SCORE_SHARE * best]
    return result


def _distinct(cands: list[Candidate]) -> list[Candidate]:
    kept: list[Candidate] = []
    for cand in cands:
        if all(geodesic_distance_m(cand.position, k.position) > SAME_PLACE_M for k in kept):
            kept.append(cand)
    return kept


def init_app(app: Flask) -> None:
    app.extensions["peuplade.geocoder"] = Geocoder(app)


def get_geocoder() -> Geocoder:
    return current_app.extensions["peuplade.geocoder"]


def resolve(address: str, choice: int | None = None) -> Candidate:
    """One place for ``address``, or a :class:`GeocodingError` to show the member.

    ``choice`` picks one of the candidates that :class:`AddressAmbiguous` listed.
    """
    address = (address or "").strip()
    if not address:
        raise AddressNotFound(_l("Indiquez une adresse."))
    if len(address) > MAX_ADDRESS_LENGTH:
        raise AddressNotFound(_l("Cette adresse est trop longue."))
    cands = _distinct(get_geocoder().candidates(address))[:MAX_CANDIDATES]
    if not cands:
        raise AddressNotFound(
            _l(
                "Adresse introuvable. Vérifiez le numéro et la rue, ajoutez la ville, "
                "ou placez votre domicile sur la carte."
            )
        )
    if choice is not None:
        if 0 <= choice < len(cands):
            return cands[choice]
        raise AddressAmbiguous(_l("Choisissez une des adresses proposées."), cands)
    if len(cands) > 1:
        raise AddressAmbiguous(
            _l(
                "Plusieurs adresses correspondent. Choisissez la vôtre, "
                "ou précisez le code postal et la ville."
            ),
            cands,
        )
    return cands[0]
