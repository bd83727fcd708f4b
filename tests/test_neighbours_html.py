"""The neighbours page: who is listed, bands, pagination, and no coordinates (both backends)."""

from __future__ import annotations

import html
import re

import pytest

from peuplade import geo, privacy
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.helpers.pages import coordinate_strings, more_link, text_of


def people(page: str) -> list[dict]:
    """The listed neighbours, in page order: id, name and the row's text."""
    rows = []
    for row in re.findall(r'<li class="person">(.*?)</li>', page, re.S):
        link = re.search(r'href="/profile/(\d+)">([^<]*)</a>', row)
        rows.append(
            {"id": int(link.group(1)), "name": html.unescape(link.group(2)), "text": text_of(row)}
        )
    return rows


def expected_band(a, b) -> str:
    pa, pb = geo.from_element(a.public_position), geo.from_element(b.public_position)
    return privacy.distance_band(geo.geodesic_distance_m(pa, pb))


@pytest.fixture
def street(make_member):
    """Me at the Batignolles, and a few neighbours near and far."""
    return {
        "me": make_member(
            name="Moi", at=BATIGNOLLES, skills=["bricolage"], email="moi@example.org"
        ),
        "alice": make_member(name="Alice", at=CLICHY, skills=["bricolage", "cuisine"]),
        "bruno": make_member(name="Bruno", at=DAMES_LEMERCIER, skills=["jardinage"]),
        "chloe": make_member(name="Chloé", at=FAR_AWAY, skills=["bricolage"], radius_m=5000),
        "denis": make_member(name="Denis", at=DAMES_LEMERCIER, tags=["vélo"]),
    }


def test_members_neighbours_page_lists_neighbours_within_radius(client, auth, street):
    auth.login("moi@example.org")
    page = client.get("/neighbours").get_data(as_text=True)
    names = [p["name"] for p in people(page)]
    assert sorted(names) == ["Alice", "Bruno", "Denis"]  # not Chloé (7 km), not me


def test_skill_filter_shows_only_people_with_that_skill(client, auth, street):
    auth.login("moi@example.org")
    response = client.get("/neighbours?skill=bricolage")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = people(page)
    assert [r["name"] for r in rows] == ["Alice"]
    alice = rows[0]
    assert alice["id"] == street["alice"].id
    assert expected_band(street["me"], street["alice"]) in alice["text"]
    assert "Bricolage" in alice["text"] and "Cuisine" in alice["text"]
    assert re.search(r'<option value="bricolage"\s+selected>', page)


@pytest.mark.parametrize("query", ["?tag=vélo", "?skill=vélo", "?tag=VÉLO&skill=bricolage"])
def test_free_tag_filter(client, auth, street, query):
    auth.login("moi@example.org")
    page = client.get("/neighbours" + query).get_data(as_text=True)
    assert [p["name"] for p in people(page)] == ["Denis"]


def test_empty_result_says_what_to_do(client, auth, street):
    auth.login("moi@example.org")
    page = client.get("/neighbours?skill=couture").get_data(as_text=True)
    assert people(page) == []
    assert (
        "Personne encore avec ce savoir-faire dans un rayon de 1 km. "
        "Élargissez votre rayon dans votre profil."
    ) in text_of(page)
    assert 'href="/account/profile"' in page


def test_twenty_five_neighbours_paginate_without_gaps_or_duplicates(client, auth, make_member):
    make_member(name="Moi", at=BATIGNOLLES, email="moi@example.org")
    created = set()
    for i in range(25):
        at = (BATIGNOLLES[0] + (i % 5) * 0.001 - 0.002, BATIGNOLLES[1] + (i // 5) * 0.0015 - 0.003)
        created.add(make_member(name=f"Voisin {i:02d}", at=at).id)
    auth.login("moi@example.org")

    first = client.get("/neighbours").get_data(as_text=True)
    page_one = people(first)
    assert len(page_one) == 20
    link = more_link(first)
    assert link and "cursor=" in link

    second = client.get(link).get_data(as_text=True)
    page_two = people(second)
    assert len(page_two) == 5
    assert more_link(second) is None

    ids = [p["id"] for p in page_one + page_two]
    assert len(ids) == len(set(ids)) == 25
    assert set(ids) == created
    # Nearest bands first, across both pages.
    labels = [label for _bound, label in privacy.BANDS]
    ranks = [
        next(i for i, lab in enumerate(labels) if lab in p["text"]) for p in page_one + page_two
    ]
    assert ranks == sorted(ranks)


def test_a_broken_cursor_gives_a_message_not_an_error(client, auth, street):
    auth.login("moi@example.org")
    response = client.get("/neighbours?cursor=%%%not-a-cursor")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "n'est plus valable" in text_of(page)
    assert len(people(page)) == 3  # the list from the start


def test_no_page_shows_anyones_coordinates(client, auth, street):
    auth.login("moi@example.org")
    points = []
    for member in street.values():
        home, public = geo.from_element(member.home), geo.from_element(member.public_position)
        points += [(home.lat, home.lon), (public.lat, public.lon)]
    forbidden = coordinate_strings(*points)
    pages = [
        client.get(path).get_data(as_text=True)
        for path in ("/", "/neighbours", "/neighbours?skill=bricolage", "/account")
    ]
    pages += [client.get(f"/profile/{m.id}").get_data(as_text=True) for m in street.values()]
    assert sum("Alice" in page for page in pages) >= 3  # the pages did show the neighbours
    for page in pages:
        leaked = [text for text in forbidden if text in page]
        assert leaked == []
