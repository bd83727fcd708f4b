"""Where a member says something is: a named public place, a point picked on the map,
or an address (geocoded).

One input (:class:`LocationInput`) and one :func:`resolve` serve a home (registration,
home moves: ``account.services``) and a post (exchanges, outings:
``posts.services.resolve_position`` adds the rules of posts). Every refusal is a
ValidationFailed on the field ``location``; an address that matches several places is
an :class:`AmbiguousLocation`, with the places to choose from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from flask_babel import lazy_gettext as _l

from peuplade import geo, geocoding
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.models import Place
from peuplade.validation import parse_id


class AmbiguousLocation(ValidationFailed):
    """The address matched several places: the member picks one (``candidates``)."""

    def __init__(self, message, candidates: list[geocoding.Candidate]):
        super().__init__(message, {"location": message})
        self.candidates = candidates

    def details(self) -> dict[str, object]:
        return {"candidates": [candidate.label for candidate in self.candidates]}


@dataclass(frozen=True, kw_only=True)
class LocationInput:
    """A location as given: ``place_id`` (one of the named public places), or a point
    (``lat``/``lon``, picked on the map or sent by the API), or an ``address`` (geocoded;
    ``choice`` picks one of the candidates of an ambiguous one). Checked in that order."""

    place_id: object = None
    lat: object = None
    lon: object = None
    address: str | None = None
    choice: int | None = None  # index into the candidates of an ambiguous address
    # A name the member wrote for the place (« Café Le Bon Coin », « devant la
    # boulangerie »): shown instead of the place's own name. Forms only.
    name: str | None = None

    @property
    def is_empty(self) -> bool:
        """No place, point or address was given (spaces alone are no address; a
        ``name`` alone says what, not where)."""
        given = (self.place_id, self.lat, self.lon, (self.address or "").strip())
        return all(value in (None, "") for value in given)


class Resolved(NamedTuple):
    position: geo.LatLon
    # The place's name as people say it (Place.label), or the address found; None for
    # a point.
    name: str | None


def _field_error(message) -> ValidationFailed:
    return ValidationFailed(message, {"location": message})


def resolve(location: LocationInput) -> Resolved:
    """The point of ``location`` (and its name): the named place, else the point given,
    else the geocoded address."""
    if location.place_id not in (None, ""):
        ident = parse_id(location.place_id)
        place = db.session.get(Place, ident) if ident is not None else None
        if place is None:
            raise _field_error(_l("Ce lieu n'existe pas."))
        return Resolved(geo.from_element(place.position), place.label)
    if location.lat not in (None, "") or location.lon not in (None, ""):
        try:
            return Resolved(geo.lat_lon(location.lat, location.lon), None)
        except ValueError:
            raise _field_error(
                _l("Position invalide : latitude entre -90 et 90, longitude entre -180 et 180.")
            ) from None
    try:
        found = geocoding.resolve(location.address or "", location.choice)
    except geocoding.AddressAmbiguous as exc:
        raise AmbiguousLocation(exc.message, exc.candidates) from None
    except geocoding.GeocodingError as exc:
        raise _field_error(exc.message) from None
    return Resolved(found.position, found.label)
