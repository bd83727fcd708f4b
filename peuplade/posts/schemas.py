"""What the API requests of every post type share: where the post is shown
(``location``), how far it reaches (``reach_m``), and how that location becomes the
services' ``LocationInput`` (exchanges, outings)."""

from __future__ import annotations

from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import Discriminator, Tag

from peuplade.api.schemas import (
    AddressLocation,
    Body,
    Id,
    PointLocation,
    Rule,
    integer,
    location_input,
)
from peuplade.location import LocationInput
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M

Reach = integer(
    ge=RADIUS_MIN_M, le=RADIUS_MAX_M, description="mètres, depuis la position de l'annonce"
)


class PlaceLocation(Body):
    """One of the named public places (squares, street corners) near the author."""

    place_id: Id


def _post_location_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "place_id" in value:
            return "place"
        return "address" if "address" in value else "point"
    if isinstance(value, PlaceLocation):
        return "place"
    if isinstance(value, AddressLocation):
        return "address"
    if isinstance(value, PointLocation):
        return "point"
    return None


PostLocation = Annotated[
    Annotated[PlaceLocation, Tag("place")]
    | Annotated[PointLocation, Tag("point")]
    | Annotated[AddressLocation, Tag("address")],
    Discriminator(_post_location_kind),
]


# Where a post may be (exchanges, outings: posts.services.resolve_position).
PLACE_NEAR_HOME = Rule(
    _l(
        "`location` : un lieu public qui existe, un point, ou une adresse que le "
        "géocodeur trouve, à 5 km au plus de mon domicile ; un point ou une adresse "
        "jamais à moins de 250 m de mon domicile (l'annonce y serait montrée)"
    ),
    fields=("location",),
)


def post_location(
    location: PlaceLocation | PointLocation | AddressLocation | None,
) -> LocationInput | None:
    """The services' ``LocationInput`` for a request's ``location`` (None: not given)."""
    if location is None:
        return None
    if isinstance(location, PlaceLocation):
        return LocationInput(place_id=location.place_id)
    return location_input(location)
