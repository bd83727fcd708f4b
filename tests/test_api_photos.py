"""JSON API, photos (issue 22): photos sent to one's own post (multipart/form-data),
cleaned of every metadata block, refused with a clear 422 when hostile, removed by their
author or the moderation, members' faces (avatars), and the ``photos`` / ``avatar_url``
fields of the posts' and members' JSON. Both backends; real images (tests/photofiles.py).
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update

from peuplade import geo
from peuplade.api.schemas import member_ref
from peuplade.extensions import db
from peuplade.models import Member, ModerationAction, Moderator, Photo, Place, Post, utcnow
from peuplade.photos import processing, storage
from peuplade.photos.urls import avatar_url
from tests import photofiles as pf
from tests.conftest import FAR_AWAY
from tests.test_api_exchanges import Caller
from tests.test_privacy import _other_homes_leaked

HOME = pf.HOME  # the author's home: the position the phone wrote into the photo
NEAR = (48.8862, 2.3449)  # about 100 m from HOME
EXCHANGE = {
    "kind": "request",
    "title": "Chat perdu : Moka",
    "body": "Tigré.",
    "category": "animaux",
}
ITEM = {
    "title": "Perceuse à percussion",
    "description": "Avec ses mèches.",
    "category": "bricolage",
}
NEWS = {"kind": "perdu_trouve", "title": "Clés trouvées", "body": "Rue Ordener, ce matin."}
LIMITS = {"item": 4, "exchange": 2, "news": 2, "event": 1}
PATHS = {"item": "/items", "exchange": "/exchanges", "news": "/news", "event": "/events"}


class Photographer(Caller):
    """A Caller who also sends multipart forms."""

    def upload(self, path: str, data: bytes | None, *, alt: str | None = None, name="photo.jpg"):
        form: dict = {}
        if data is not None:
            form["photo"] = (io.BytesIO(data), name)
        if alt is not None:
            form["alt"] = alt
        return self.client.post(
            "/api/v1" + path, data=form, headers=self.headers, content_type="multipart/form-data"
        )

    def put_avatar(self, data: bytes, alt: str | None = None):
        form: dict = {"photo": (io.BytesIO(data), "moi.heic")}
        if alt is not None:
            form["alt"] = alt
        return self.client.put(
            "/api/v1/me/avatar", data=form, headers=self.headers, content_type="multipart/form-data"
        )

    def fetch(self, url: str):
        """A photo's URL (outside /api/v1), opened with the bearer token."""
        return self.client.get(url, headers=self.headers)


def _json(response, status: int):
    assert response.status_code == status, (response.status_code, response.get_data(True)[:500])
    return response.get_json()


def _fields(response) -> dict:
    return _json(response, 422)["error"]["fields"]


def _photo_count() -> int:
    db.session.rollback()  # a fresh snapshot: requests commit in their own sessions
    return db.session.scalar(select(func.count()).select_from(Photo))


@pytest.fixture
def street(client, make_member, make_quartier):
    """An author living at HOME, a neighbour who sees their posts, a stranger 7 km away
    who does not, the moderator of their quartier and one of another quartier."""
    quartier = make_quartier("goutte-d-or", around=HOME)
    other = make_quartier("ailleurs", around=FAR_AWAY)
    members = {
        "author": make_member("Autrice", at=HOME),
        "neighbour": make_member("Voisine", at=NEAR),
        "far": make_member("Lointain", at=FAR_AWAY),
        "modo": make_member("Modo", at=NEAR),
        "other_modo": make_member("Autre modo", at=NEAR),
    }
    db.session.add(Moderator(member_id=members["modo"].id, quartier_id=quartier.id))
    db.session.add(Moderator(member_id=members["other_modo"].id, quartier_id=other.id))
    place = Place(name="Square Léon", source_ref="test:square-leon")
    place.position = geo.to_element(geo.lat_lon(48.8871, 2.3521))
    db.session.add(place)
    db.session.commit()
    assert members["author"].quartier_id == quartier.id
    callers = {name: Photographer(client, m) for name, m in members.items()}
    return callers | {"members": members, "place": place}


def _post(street, kind: str) -> int:
    """A post of ``kind`` by the author, made through the API; its id."""
    bodies = {
        "item": ITEM,
        "exchange": EXCHANGE,
        "news": NEWS,
        "event": {
            "title": "Pique-nique au square",
            "body": "Chacun apporte un plat.",
            "starts_at": (utcnow() + timedelta(days=3)).isoformat(),
            "location": {"place_id": street["place"].id},
        },
    }
    return _json(street["author"].post(PATHS[kind], json=bodies[kind]), 201)["id"]


def _no_metadata(data: bytes) -> None:
    """A clean JPEG: no EXIF, XMP, comment or ICC block, no byte of the home's position."""
    for needle in pf.coordinate_needles(*HOME):
        assert needle not in data, needle
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        assert not im.getexif()
        assert {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"}.isdisjoint(im.info)
        assert not im.applist or {name for name, _ in im.applist} <= {"APP0"}


def _home_in(text: str, author: Member) -> list[str]:
    """The author's home written anywhere in ``text``: with 4+ decimals (finer than the
    grid of public positions), or as the XMP writes it."""
    dms = [n.decode() for n in pf.coordinate_needles(*HOME) if b"," in n]
    return _other_homes_leaked(text, [author]) + [n for n in dms if n in text]


# --- the author's home never leaves with a photo ----------------------------------------


def test_a_phone_photo_loses_its_gps_position_everywhere(street):
    author, neighbour = street["author"], street["neighbour"]
    item_id = _post(street, "item")
    sent = pf.jpeg_with_gps(*HOME)
    assert any(n in sent for n in pf.coordinate_needles(*HOME))  # as sent, it gives HOME away
    r = author.upload(f"/items/{item_id}/photos", sent, alt="La perceuse et sa mallette")
    photo = _json(r, 201)
    assert set(photo) == {"id", "url", "thumbnail_url", "alt", "width", "height"}
    assert photo["alt"] == "La perceuse et sa mallette"
    assert max(photo["width"], photo["height"]) <= processing.MAX_SIDE
    assert r.headers["Location"].endswith(photo["url"])
    # Stored, then served to the author and to a neighbour: no metadata, no position.
    row = db.session.get(Photo, photo["id"])
    _no_metadata(storage.read(row, "full"))
    _no_metadata(storage.read(row, "thumb"))
    for who in (author, neighbour):
        for url in (photo["url"], photo["thumbnail_url"]):
            served = who.fetch(url)
            assert served.status_code == 200 and served.mimetype == "image/jpeg"
            _no_metadata(served.data)
    with Image.open(io.BytesIO(neighbour.fetch(photo["thumbnail_url"]).data)) as thumb:
        assert max(thumb.size) <= processing.THUMB_SIDE


def test_no_api_answer_about_photos_gives_the_home_away(street):
    author, neighbour = street["author"], street["neighbour"]
    answers = []
    for kind in PATHS:
        post_id = _post(street, kind)
        r = author.upload(f"{PATHS[kind]}/{post_id}/photos", pf.jpeg_with_gps(*HOME))
        answers.append(_json(r, 201))
        for who in (author, neighbour):
            answers.append(_json(who.get(f"{PATHS[kind]}/{post_id}"), 200))
            answers.append(_json(who.get(PATHS[kind]), 200))
    answers.append(_json(author.put_avatar(pf.heic_bytes(with_gps=True)), 200))
    for who in (author, neighbour):
        answers.append(_json(who.get("/feed"), 200))
        answers.append(_json(who.get(f"/members/{author.member_id}"), 200))
    answers.append(_json(neighbour.get("/neighbours"), 200))
    text = json.dumps(answers)
    assert text.count('"thumbnail_url"') >= 9  # the answers did hold the photos
    assert _home_in(text, street["members"]["author"]) == []


# --- hostile files -------------------------------------------------------------------------

HOSTILE = {
    pf.png_bomb: processing.TOO_MANY_PIXELS,
    pf.png_huge_ztxt: processing.HIDDEN_DATA,
    pf.svg_with_script: processing.NOT_ACCEPTED,
    pf.gif_animated: processing.NOT_ACCEPTED,
    pf.png_animated: processing.ANIMATED,
    pf.pdf_named_jpg: processing.NOT_ACCEPTED,
    pf.jpeg_zip_polyglot: processing.POLYGLOT,
    pf.truncated_jpeg: processing.DAMAGED,
    pf.empty: processing.EMPTY,
    pf.eleven_megabytes: processing.TOO_BIG,
}


def test_every_hostile_file_is_refused_with_its_own_message(street):
    author = street["author"]
    item_id = _post(street, "item")
    messages = {}
    for make, expected in HOSTILE.items():
        r = author.upload(f"/items/{item_id}/photos", make(), name="photo.jpg")
        fields = _fields(r)
        assert set(fields) == {"photo"}, make.__name__
        assert fields["photo"] == str(expected), make.__name__
        messages[make.__name__] = fields["photo"]
    # Each kind of refusal says its own reason (SVG, GIF and PDF: "not a photo we take").
    assert len(set(messages.values())) == 8
    assert _photo_count() == 0
    assert _json(author.get(f"/items/{item_id}"), 200)["photos"] == []


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.one_of(
        st.binary(max_size=2048),
        st.binary(max_size=2048).map(lambda tail: b"\xff\xd8\xff\xe0" + tail),
        st.binary(max_size=2048).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail),
        st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=64)).map(
            lambda cut: pf.jpeg_bytes((64, 48))[: cut[0]] + cut[1]
        ),
    ),
    alt=st.one_of(st.none(), st.text(max_size=300)),
)
def test_random_bytes_never_make_a_500(street, data, alt):
    author = street["author"]
    post_id = street.setdefault("fuzzed", _post(street, "item"))
    r = author.upload(f"/items/{post_id}/photos", data, alt=alt)
    assert r.status_code in (201, 422), r.get_data(True)[:300]
    if r.status_code == 422:
        assert set(r.get_json()["error"]["fields"]) <= {"photo", "alt"}
    else:  # rare: the bytes made a picture; keep room for the next examples
        assert author.delete(f"/photos/{r.get_json()['id']}").status_code == 204


# --- the form itself ------------------------------------------------------------------------


def test_what_is_not_a_photo_form_is_refused_clearly(street):
    author = street["author"]
    item_id = _post(street, "item")
    path = f"/api/v1/items/{item_id}/photos"
    as_json = author.client.post(path, json={"photo": "abc"}, headers=author.headers)
    # Not a form: no file was sent (the same 422 whoever asks: nothing is loaded first).
    assert "multipart/form-data" in _fields(as_json)["photo"]
    assert _fields(author.upload(f"/items/{item_id}/photos", None, alt="Sans photo")) == {
        "photo": "Ce champ est obligatoire."
    }
    twice = author.client.post(
        path,
        data={
            "photo": [
                (io.BytesIO(pf.jpeg_bytes()), "a.jpg"),
                (io.BytesIO(pf.jpeg_bytes()), "b.jpg"),
            ]
        },
        headers=author.headers,
        content_type="multipart/form-data",
    )
    assert set(_fields(twice)) == {"photo"}
    unknown = author.client.post(
        path,
        data={"photo": (io.BytesIO(pf.jpeg_bytes()), "a.jpg"), "colour": "bleu"},
        headers=author.headers,
        content_type="multipart/form-data",
    )
    assert _fields(unknown) == {"colour": "Champ inconnu."}
    too_long = author.upload(f"/items/{item_id}/photos", pf.jpeg_bytes(), alt="x" * 201)
    assert set(_fields(too_long)) == {"alt"}
    assert _photo_count() == 0
    # A text field named photo is read as the file it stands for: not an image.
    as_text = author.client.post(
        path,
        data={"photo": "not an image"},
        headers=author.headers,
        content_type="multipart/form-data",
    )
    assert set(_fields(as_text)) == {"photo"}
    # Blank alt: the post's title describes the photo.
    blank = _json(author.upload(f"/items/{item_id}/photos", pf.png_bytes(), alt="   "), 201)
    assert blank["alt"] == ITEM["title"]


def test_a_request_carrying_a_photo_may_be_bigger_than_a_json_body(street, app):
    """A 9 MB photo goes through (JSON bodies stop at 1 MiB); past the photos' request
    limit, a JSON 413."""
    author = street["author"]
    item_id = _post(street, "item")
    big = pf.jpeg_bytes((64, 64)) + bytes(9 * 1024 * 1024)  # a JPEG padded past 1 MiB
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    _json(author.upload(f"/items/{item_id}/photos", big), 201)
    app.config["PHOTO_REQUEST_MAX_BYTES"] = 2 * 1024 * 1024
    refused = author.upload(f"/items/{item_id}/photos", big)
    assert refused.status_code == 413 and refused.get_json()["error"]["code"] == "payload_too_large"


# --- limits per kind, and the posts' JSON -------------------------------------------------


@pytest.mark.parametrize("kind", list(LIMITS))
def test_each_kind_takes_photos_up_to_its_limit_in_order(street, kind):
    author, neighbour = street["author"], street["neighbour"]
    post_id = _post(street, kind)
    path = f"{PATHS[kind]}/{post_id}"
    assert _json(neighbour.get(path), 200)["photos"] == []
    sent = []
    for n in range(LIMITS[kind]):
        photo = _json(author.upload(f"{path}/photos", pf.jpeg_bytes(), alt=f"Vue {n}"), 201)
        sent.append(photo)
    refused = author.upload(f"{path}/photos", pf.png_bytes())
    assert "photo" in _fields(refused)
    assert _photo_count() == LIMITS[kind]
    # The post, alone, in its list and in the feed: the same photos, in the order sent.
    assert _json(neighbour.get(path), 200)["photos"] == sent
    listed = [p for p in _json(neighbour.get(PATHS[kind]), 200)["items"] if p["id"] == post_id]
    assert listed[0]["photos"] == sent
    fed = [p for p in _json(neighbour.get("/feed"), 200)["items"] if p["id"] == post_id]
    assert fed[0]["photos"] == sent
    # Removing one makes room again.
    assert author.delete(f"/photos/{sent[0]['id']}").status_code == 204
    _json(author.upload(f"{path}/photos", pf.jpeg_bytes()), 201)


def test_only_the_author_adds_and_only_who_sees_the_post(street, client):
    item_id = _post(street, "item")
    path = f"/items/{item_id}/photos"
    refused = street["neighbour"].upload(path, pf.jpeg_bytes())
    assert _json(refused, 403)["error"]["code"] == "forbidden"
    assert _json(street["far"].upload(path, pf.jpeg_bytes()), 404)["error"]["code"] == "not_found"
    assert street["author"].upload("/items/999999/photos", pf.jpeg_bytes()).status_code == 404
    anonymous = client.post(
        "/api/v1" + path,
        data={"photo": (io.BytesIO(pf.jpeg_bytes()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert anonymous.status_code == 401
    assert _photo_count() == 0


def test_a_list_with_photos_costs_no_query_per_post_or_photo(street):
    author, neighbour = street["author"], street["neighbour"]

    def statements() -> int:
        executed = []

        def count(*_args):
            executed.append(1)

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert neighbour.get("/items").status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        return len(executed)

    def item_with_photos(n: int) -> None:
        item_id = _post(street, "item")
        for _ in range(n):
            _json(author.upload(f"/items/{item_id}/photos", pf.jpeg_bytes((64, 48))), 201)

    item_with_photos(1)
    statements()  # the token's first use of the day is written down: not counted
    one = statements()
    for n in (2, 3, 4):
        item_with_photos(n)
    assert statements() == one


# --- removing a photo --------------------------------------------------------------------


def test_the_author_removes_a_photo_and_its_urls_are_gone(street):
    author, neighbour = street["author"], street["neighbour"]
    item_id = _post(street, "item")
    photo = _json(author.upload(f"/items/{item_id}/photos", pf.jpeg_bytes()), 201)
    assert neighbour.fetch(photo["url"]).status_code == 200
    assert author.delete(f"/photos/{photo['id']}").status_code == 204
    assert _json(neighbour.get(f"/items/{item_id}"), 200)["photos"] == []
    for url in (photo["url"], photo["thumbnail_url"]):
        assert neighbour.fetch(url).status_code == 404
    assert author.delete(f"/photos/{photo['id']}").status_code == 404


def test_who_may_remove_a_photo(street):
    author = street["author"]
    exchange_id = _post(street, "exchange")
    first, second = (
        _json(author.upload(f"/exchanges/{exchange_id}/photos", pf.jpeg_bytes()), 201)
        for _ in range(2)
    )
    # A stranger out of reach cannot see it: 404; a neighbour, or the moderator of
    # another quartier, sees it but may not remove it: 403.
    path = f"/photos/{first['id']}"
    assert _json(street["far"].delete(path), 404)["error"]["code"] == "not_found"
    for who in ("neighbour", "other_modo"):
        assert _json(street[who].delete(path), 403)["error"]["code"] == "forbidden"
    assert _photo_count() == 2
    # The moderator of the author's quartier may, giving a reason (for the log).
    assert _fields(street["modo"].delete(path)) == {
        "reason": "Écrivez la raison : elle est gardée dans le journal de modération."
    }
    assert street["modo"].delete(path + "?reason=Photo+d'un+voisin").status_code == 204
    assert [p["id"] for p in _json(author.get(f"/exchanges/{exchange_id}"), 200)["photos"]] == [
        second["id"]
    ]
    assert street["modo"].delete("/photos/999999").status_code == 404


# --- avatars -------------------------------------------------------------------------------


def test_an_avatar_is_set_shown_with_every_post_and_removed(street, client, app):
    author, neighbour, far = street["author"], street["neighbour"], street["far"]
    item_id = _post(street, "item")
    assert _json(neighbour.get(f"/items/{item_id}"), 200)["lender"]["avatar_url"] is None
    assert _json(author.get("/me"), 200)["avatar_url"] is None

    answer = _json(author.put_avatar(pf.heic_bytes(with_gps=True)), 200)
    assert answer["id"] == author.member_id and answer["display_name"] == "Autrice"
    assert answer["photo"]["alt"] == "Photo de Autrice"
    face = answer["avatar_url"]
    assert face == answer["photo"]["thumbnail_url"]
    member = db.session.get(Member, author.member_id)
    db.session.refresh(member)
    with app.test_request_context():
        assert face == avatar_url(member) == member_ref(member).avatar_url
    # The same face beside each of my posts, on my profile, in the neighbours' list, in /me.
    assert _json(neighbour.get(f"/items/{item_id}"), 200)["lender"]["avatar_url"] == face
    assert _json(neighbour.get(f"/members/{author.member_id}"), 200)["avatar_url"] == face
    neighbours = _json(neighbour.get("/neighbours"), 200)["items"]
    assert [
        n["member"]["avatar_url"] for n in neighbours if n["member"]["id"] == author.member_id
    ] == [face]
    assert _json(author.get("/me"), 200)["avatar_url"] == face
    exchange_id = _post(street, "exchange")
    assert _json(neighbour.get(f"/exchanges/{exchange_id}"), 200)["author"]["avatar_url"] == face
    # Served, clean, to who may see me; 404 to a stranger and a visitor.
    served = neighbour.fetch(face)
    assert served.status_code == 200
    _no_metadata(served.data)
    assert far.fetch(face).status_code == 404
    assert client.get(face).status_code == 404

    # A new one replaces it (a new URL); my own description is kept.
    again = _json(author.put_avatar(pf.jpeg_with_gps(*HOME), alt="Moi, au square"), 200)
    assert again["photo"]["alt"] == "Moi, au square" and again["avatar_url"] != face
    assert neighbour.fetch(face).status_code == 404
    assert _photo_count() == 1

    assert author.delete("/me/avatar").status_code == 204
    assert _json(neighbour.get(f"/items/{item_id}"), 200)["lender"]["avatar_url"] is None
    assert neighbour.fetch(again["avatar_url"]).status_code == 404
    assert author.delete("/me/avatar").status_code == 204  # none left: the same result
    assert _photo_count() == 0


def test_a_hostile_avatar_is_refused(street):
    author = street["author"]
    for make in (pf.svg_with_script, pf.empty, pf.png_bomb):
        assert set(_fields(author.put_avatar(make()))) == {"photo"}
    assert _json(author.get("/me"), 200)["avatar_url"] is None
    as_json = author.client.put("/api/v1/me/avatar", json={}, headers=author.headers)
    assert set(_fields(as_json)) == {"photo"}


def test_a_moderator_removing_a_photo_is_logged(street):
    author, modo = street["author"], street["modo"]
    news_id = _post(street, "news")
    photo = _json(author.upload(f"/news/{news_id}/photos", pf.jpeg_bytes()), 201)
    # Hidden meanwhile (out of every member's sight): its quartier's moderation still
    # reaches its photos, as on the report's page.
    db.session.execute(update(Post).where(Post.id == news_id).values(hidden_at=utcnow()))
    db.session.commit()
    assert modo.delete(f"/photos/{photo['id']}").status_code == 422  # the reason is asked
    assert modo.delete(f"/photos/{photo['id']}?reason=Visage+d%27enfant").status_code == 204
    db.session.rollback()
    logged = db.session.scalars(
        select(ModerationAction).where(ModerationAction.action == "remove_photo")
    ).all()
    assert [(a.target_type, a.target_id, a.reason) for a in logged] == [
        ("news", news_id, "Visage d'enfant")
    ]
