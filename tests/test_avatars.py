"""A face for each neighbour (issue 22): a member sets, replaces and removes their photo
on "Ma photo"; it is cleaned of everything it hides (the GPS position of the home it was
taken in first of all); without one, their initials on a coloured disc; only those who
may see the member see it."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from peuplade.extensions import db
from peuplade.models import Member, Photo
from peuplade.moderation import services as moderation
from peuplade.photos import services as photos
from peuplade.photos.urls import DISC_COLOURS, disc_index
from tests import photofiles
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.helpers.browsers import as_member
from tests.helpers.pages import field_error, text_of

CSS = Path(__file__).parent.parent / "static" / "css" / "peuplade.css"
AVATAR_URL = re.compile(r"/members/(\d+)/avatar/(\d+)/([\w-]+)/(full|thumb)\.jpg")


@pytest.fixture
def street(make_member):
    return {
        "me": make_member("Camille Bernard", at=BATIGNOLLES, email="camille@example.org"),
        "neighbour": make_member("Lecteur", at=CLICHY, email="lecteur@example.org"),
        "blocked": make_member("Bloqué", at=DAMES_LEMERCIER, email="bloque@example.org"),
        "stranger": make_member("Lointain", at=FAR_AWAY, email="loin@example.org"),
    }


def _send(browser, data: bytes, name: str = "moi.jpg"):
    return browser.post(
        "/account/avatar",
        data={"photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _member(member_id: int) -> Member:
    db.session.expire_all()
    return db.session.get(Member, member_id)


def _row_of(page: str, name: str) -> str:
    """The neighbours list's row of ``name``."""
    rows = re.findall(r'<li class="person">(.*?)</li>', page, re.S)
    found = [row for row in rows if name in text_of(row)]
    assert len(found) == 1, rows
    return found[0]


def _face(page: str, size: str) -> str:
    """The avatar element of size ``size`` on the page (the first one)."""
    found = re.search(rf'<(?:img|span) class="avatar avatar--{size}[^"]*"[^>]*>', page)
    assert found, f"no avatar of size {size}"
    return found.group(0)


def test_a_member_sets_their_photo_and_nothing_it_hid_is_served(app, street):
    me = street["me"]
    browser = as_member(app, me)
    page = browser.get("/account/avatar").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    file_input = re.search(r'<input [^>]*type="file"[^>]*>', page).group(0)
    assert 'name="photo"' in file_input and "image/heic" in file_input
    assert "multiple" not in file_input
    words = text_of(page)
    assert "10 Mo" in words and "position GPS" in words and "voisins" in words
    assert "Retirer ma photo" not in page  # nothing to remove yet
    assert "js/avatar-preview.js" in page

    r = _send(browser, photofiles.jpeg_with_gps(*photofiles.HOME), "IMG_2041.jpg")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    member = _member(me.id)
    assert member.avatar_key
    photo = photos.avatar_of(member)
    assert photo is not None and photo.alt == "Photo de Camille Bernard"

    profile = as_member(app, street["neighbour"]).get(f"/profile/{me.id}").get_data(as_text=True)
    face = _face(profile, "l")
    # Beside the name it belongs to: decorative, so the name is not read twice.
    assert 'alt=""' in face and "Camille Bernard</h1>" in profile
    url = html.unescape(re.search(r'src="([^"]+)"', face).group(1))
    assert AVATAR_URL.fullmatch(url)
    needles = photofiles.coordinate_needles(*photofiles.HOME)
    neighbour = as_member(app, street["neighbour"])
    for variant in ("thumb", "full"):
        served = neighbour.get(url.replace("/thumb.jpg", f"/{variant}.jpg"))
        assert served.status_code == 200, variant
        body = served.get_data()
        assert [n for n in needles if n in body] == [], variant
        image = Image.open(io.BytesIO(body))
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile"} & set(image.info), (
            image.info.keys()
        )
    assert b"Exif" not in neighbour.get(url).get_data()


def test_replacing_then_removing_the_photo(app, street):
    me = street["me"]
    browser = as_member(app, me)
    assert _send(browser, photofiles.jpeg_bytes((600, 600))).status_code == 302
    first_key = _member(me.id).avatar_key
    first_url = html.unescape(
        re.search(r'src="(/members/[^"]+)"', browser.get("/account").get_data(as_text=True)).group(
            1
        )
    )
    assert browser.get(first_url).status_code == 200

    assert _send(browser, photofiles.png_bytes(), "portrait.png").status_code == 302
    second_key = _member(me.id).avatar_key
    assert second_key and second_key != first_key
    assert browser.get(first_url).status_code == 404  # the old photo is gone
    assert db.session.query(Photo).filter(Photo.member_id == me.id).count() == 1

    page = browser.get("/account/avatar").get_data(as_text=True)
    assert "Retirer ma photo" in page
    r = browser.post("/account/avatar/remove")
    assert r.status_code == 302
    assert _member(me.id).avatar_key is None
    assert db.session.query(Photo).filter(Photo.member_id == me.id).count() == 0
    page = browser.get("/account/avatar").get_data(as_text=True)
    assert "Retirer ma photo" not in page
    disc = _face(page, "l")
    assert "avatar--initials" in disc and 'aria-hidden="true"' in disc
    # Removing twice is harmless.
    assert browser.post("/account/avatar/remove").status_code == 302


@pytest.mark.parametrize(
    ("make", "name", "words"),
    [
        (photofiles.pdf_named_jpg, "scan.jpg", ""),
        (photofiles.svg_with_script, "moi.svg", ""),
        (photofiles.gif_animated, "moi.gif", ""),
        (photofiles.truncated_jpeg, "moi.jpg", ""),
        (photofiles.empty, "moi.jpg", ""),
        (photofiles.eleven_megabytes, "moi.jpg", "10"),
    ],
)
def test_a_refused_file_is_a_clear_error_on_the_form(app, street, make, name, words):
    me = street["me"]
    browser = as_member(app, me)
    r = _send(browser, make(), name)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    error = field_error(page, "photo")
    assert error, page
    assert words in error
    assert "Il y a un problème" in page
    assert _member(me.id).avatar_key is None


def test_sending_no_file_asks_for_one(app, street):
    browser = as_member(app, street["me"])
    r = browser.post("/account/avatar", data={}, content_type="multipart/form-data")
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), "photo").endswith("Choisissez une photo.")


def test_without_a_photo_the_initials_are_on_a_coloured_disc(app, street):
    me = street["me"]
    page = as_member(app, street["neighbour"]).get("/neighbours").get_data(as_text=True)
    row = _row_of(page, "Camille Bernard")
    disc = re.search(r'<span class="avatar avatar--m avatar--initials"[^>]*>(.*?)</span>', row)
    assert disc, row
    assert disc.group(1).strip() == "CB"
    assert 'aria-hidden="true"' in disc.group(0)
    assert f'data-colour="{disc_index(me.id)}"' in disc.group(0)
    assert "Camille Bernard" in text_of(row)  # the name is there in words
    assert "<img" not in row


def test_the_photo_is_shown_beside_the_name_in_lists(app, street):
    me = street["me"]
    photos.set_avatar(me, photofiles.jpeg_bytes((500, 400)))
    db.session.commit()
    page = as_member(app, street["neighbour"]).get("/neighbours").get_data(as_text=True)
    face = _face(_row_of(page, "Camille Bernard"), "m")
    assert face.startswith("<img") and 'alt=""' in face
    assert 'width="400" height="400"' in face


def test_only_those_who_may_see_the_member_see_the_photo(app, client, street):
    me = street["me"]
    photo = photos.set_avatar(me, photofiles.jpeg_bytes((500, 500)))
    moderation.block(me, street["blocked"].id)
    db.session.commit()
    urls = [f"/members/{me.id}/avatar/{photo.id}/{photo.token}/{v}.jpg" for v in ("thumb", "full")]
    for url in urls:
        assert as_member(app, street["neighbour"]).get(url).status_code == 200, url
        assert as_member(app, me).get(url).status_code == 200, url
        assert client.get(url).status_code == 404, url  # a visitor
        assert as_member(app, street["stranger"]).get(url).status_code == 404, url
        assert as_member(app, street["blocked"]).get(url).status_code == 404, url
        # Another member's id in the address, or the photo's address as a post photo.
        other = url.replace(f"/members/{me.id}/", f"/members/{street['neighbour'].id}/")
        assert as_member(app, street["neighbour"]).get(other).status_code == 404
        as_post = f"/photos/{photo.id}/{photo.token}/thumb.jpg"
        assert as_member(app, street["neighbour"]).get(as_post).status_code == 404


def test_the_seven_disc_colours_keep_dark_text_readable():
    css = CSS.read_text(encoding="utf-8")
    text_colour = re.search(r"\.avatar--initials \{[^}]*\bcolor: (#[0-9a-f]{6})", css).group(1)
    rule = r'\.avatar--initials\[data-colour="(\d)"\] \{ background: (#[0-9a-f]{6}); \}'
    backgrounds = dict(re.findall(rule, css))
    assert sorted(backgrounds) == [str(n) for n in range(DISC_COLOURS)]
    assert len(set(backgrounds.values())) == DISC_COLOURS

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for n, background in backgrounds.items():
        light, dark = luminance(background), luminance(text_colour)
        ratio = (max(light, dark) + 0.05) / (min(light, dark) + 0.05)
        assert ratio >= 4.5, (n, background, ratio)
