"""The neighbour search's JSON API (``GET /api/v1/neighbours``): who lives near me, by
distance band, never by position."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l

from peuplade.account.schemas import TAG_LENGTH
from peuplade.api import bp
from peuplade.api.openapi import operation
from peuplade.api.schemas import described
from peuplade.auth.bearer import current_member
from peuplade.neighbours import queries, serializers
from peuplade.neighbours import schemas as nbs


@bp.get("/neighbours")
@operation(
    _l("Mes voisins, par bande de distance"),
    query=nbs.NeighboursQuery,
    responses={200: nbs.NeighbourPage},
    description=described(
        _l(
            "Les voisins dans mon rayon, éventuellement ayant un savoir-faire ou un mot-clé "
            "(`skill`), les plus proches d'abord. Jamais de position : une bande de distance."
        ),
        replace(TAG_LENGTH, fields=("skill",)),
    ),
)
def neighbours(query: nbs.NeighboursQuery):
    page = queries.neighbour_page(current_member(), query.skill, query.cursor, query.limit)
    return serializers.neighbour_page(page.items, page.next_cursor)
