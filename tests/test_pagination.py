"""Cursors are signed and checked: a forged one is a clear 4xx, never a 500 or a leak."""

from __future__ import annotations

import pytest

from peuplade import pagination
from peuplade.errors import BadCursor
from peuplade.neighbours.queries import NeighbourCursor, neighbour_page
from tests.conftest import CLICHY, DAMES_LEMERCIER


@pytest.mark.parametrize(
    "values",
    [
        [True, "a", 1],  # a boolean is an int to isinstance()
        [0, "a", True],
        [0, "a" * 61, 1],
        [99, "a", 1],
        [0, "a", 2**40],
        [0, None, 1],
        ["0", "a", 1],
        [0, "a"],
        {"band": 0},
    ],
)
def test_signed_but_wrong_neighbour_cursors_are_refused(app, values):
    text = pagination.encode(NeighbourCursor.KIND, values)
    with pytest.raises(BadCursor) as err:
        NeighbourCursor.decode(text)
    assert "cursor" in err.value.fields


def test_tampered_and_foreign_cursors_are_refused(app):
    good = NeighbourCursor(0, "anne", 3).encode()
    assert NeighbourCursor.decode(good) == NeighbourCursor(0, "anne", 3)
    for bad in (good[:-2] + "xx", good + "a", "eyJhIjoxfQ", "!!!"):
        with pytest.raises(BadCursor):
            NeighbourCursor.decode(bad)
    # A cursor of another list is not accepted here.
    other = pagination.TimeCursor(pagination_now(), 5).encode()
    with pytest.raises(BadCursor):
        NeighbourCursor.decode(other)


def pagination_now():
    from peuplade.models import utcnow

    return utcnow()


def test_cursors_from_another_secret_key_are_refused(make_app):
    app_a = make_app(SECRET_KEY="a" * 32)
    with app_a.app_context():
        cursor = NeighbourCursor(0, "anne", 3).encode()
    app_b = make_app(SECRET_KEY="b" * 32)
    with app_b.app_context(), pytest.raises(BadCursor):
        NeighbourCursor.decode(cursor)


def test_forged_cursor_is_a_4xx_on_pages_and_api(client, api, make_member, auth):
    member = make_member("Anne", at=DAMES_LEMERCIER, email="anne@example.org")
    good = NeighbourCursor(0, "anne", member.id).encode()
    # Change a character in the middle of the signature (the last one may only carry
    # padding bits, so changing it would not change the decoded signature).
    i = len(good) - 5
    forged = good[:i] + ("B" if good[i] == "A" else "A") + good[i + 1 :]
    auth.login(member.email)
    page = client.get("/neighbours", query_string={"cursor": forged})
    assert page.status_code == 400
    api.login(member.email)
    answer = api.get("/neighbours", query_string={"cursor": forged})
    assert answer.status_code == 400  # malformed: a cursor is ours or nothing
    assert answer.get_json()["error"]["code"] == "bad_cursor"
    assert "cursor" in answer.get_json()["error"]["fields"]


def test_accented_names_sort_and_page_alike_on_both_backends(app, make_member):
    viewer = make_member("Lecteur", at=DAMES_LEMERCIER, radius_m=2000)
    for name in ("Zoé", "élise", "Éric", "Emile", "Élodie", "anne", "Ärnold"):
        make_member(name, at=CLICHY, skills=["cuisine"])
    seen, cursor = [], None
    while True:
        page = neighbour_page(viewer, "cuisine", cursor, limit=2)
        seen += [m.display_name for m, _band in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["anne", "Ärnold", "élise", "Élodie", "Emile", "Éric", "Zoé"]
