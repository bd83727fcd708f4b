"""The neighbours' JSON API: a neighbour's public profile (``GET /api/v1/members/<id>``)
and the neighbour search (``GET /api/v1/neighbours``): who lives near me, by distance
band, never by position."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l

from peuplade.account import queries as account_queries
from peuplade.account import schemas as acs
from peuplade.account import serializers as account_serializers
from peuplade.account.schemas import TAG_LENGTH
from peuplade.api import bp
from peuplade.api.openapi import operation
from peuplade.api.schemas import Rule, described
from peuplade.auth.bearer import current_member
from peuplade.exchanges import queries as exchange_queries
from peuplade.neighbours import queries, serializers
from peuplade.neighbours import schemas as nbs
from peuplade.validation import url_id


@bp.get(f"/members/{url_id('member_id')}")
@operation(
    _l("Profil public d'un voisin"),
    responses={200: acs.MemberOut},
    description=described(
        None,
        Rule(_l("Un membre de mon voisinage (les autres ne sont pas trouvés)"), 404),
    ),
)
def member(member_id: int):
    found = account_queries.get_member_or_404(current_member(), member_id)
    return account_serializers.member_public(
        found, exchange_queries.thanks_count(found.id, current_member())
    )


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
