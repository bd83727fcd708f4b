"""Photos on the HTML forms of objects, exchanges, news and outings (issue 22): sent with
the post, described (the title by default), cleaned of every position, kept while
another field is refused, edited (removed, described, added), within each kind's limit,
and only by the post's author (both backends, real database, multipart forms)."""

from __future__ import annotations

import html
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import func, select

from peuplade.extensions import db
from peuplade.models import Event, Exchange, Item, NewsPost, Photo
from peuplade.photos.services import MAX_PHOTOS
from peuplade.submissions import new_submission_key
from tests import photofiles
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER
from tests.helpers.browsers import as_member
from tests.test_loans_html import ITEM_FORM, count
from tests.test_news_events import _place

SIZE = (64, 48)  # small: every test stays fast
MULTIPART = "multipart/form-data"
EXCHANGE_FORM = {
    "kind": "request",
    "title": "Porter un canapé",
    "body": "Samedi matin, deuxième étage sans ascenseur.",
    "category": "demenagement",
    "location": "",
    "reach_m": "",
}
NEWS_FORM = {
    "kind": "perdu_trouve",
    "title": "Chat perdu : Moka, tigré",
    "body": "Vu pour la dernière fois rue des Dames.",
    "scope": "radius",
}


def jpeg(seed_size=SIZE) -> bytes:
    return photofiles.jpeg_bytes(seed_size)


def upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def photos_of(post_id: int) -> list[Photo]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Photo).where(Photo.post_id == post_id).order_by(Photo.position, Photo.id)
        )
    )


def exists(photo_id: int) -> bool:
    db.session.expire_all()
    return bool(db.session.scalar(select(func.count()).where(Photo.id == photo_id)))


def staged_photos() -> list[Photo]:
    db.session.expire_all()
    return list(db.session.scalars(select(Photo).where(Photo.staged_key.is_not(None))))


def post_id_from(response, prefix: str) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    found = re.search(rf"{prefix}/(\d+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def offer(browser, photos, **changes):
    data = {**ITEM_FORM, "submission_key": new_submission_key(), "photos": photos, **changes}
    return browser.post("/objects/new", data=data, content_type=MULTIPART)


def field_value(page: str, name: str) -> list[str]:
    """The values of the inputs named ``name`` in the page, in order."""
    return re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)


# --- publishing with photos ----------------------------------------------------------------


def test_an_object_offered_with_two_photos_keeps_them_described_and_clean(app, make_member):
    me = make_member("Camille", at=BATIGNOLLES)
    browser = as_member(app, me)
    page = browser.get("/objects/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input type="file" id="photos" name="photos" accept="[^"]*image/heic', page)
    assert " multiple" in re.search(r'<input type="file"[^>]*>', page).group(0)
    assert "Jusqu'à 4 photos" in page and "position GPS" in page
    assert len(field_value(page, "photo_alt")) == 4  # one description per photo, without JS
    assert "js/photo-picker.js" in page

    home = photofiles.jpeg_with_gps(*photofiles.HOME, size=SIZE)
    r = offer(
        browser,
        [upload(home, "IMG_2041.jpg"), upload(photofiles.png_bytes(SIZE), "balcon.png")],
        photo_alt=["La perceuse et ses mèches", ""],
    )
    item_id = post_id_from(r, "/objects")
    photos = photos_of(item_id)
    assert [p.alt for p in photos] == ["La perceuse et ses mèches", "Perceuse à percussion"]
    assert staged_photos() == []
    needles = photofiles.coordinate_needles(*photofiles.HOME)
    for photo in photos:
        for variant in ("full", "thumb"):
            served = browser.get(f"/photos/{photo.id}/{photo.token}/{variant}.jpg")
            assert served.status_code == 200 and served.mimetype == "image/jpeg"
            assert not [n for n in needles if n in served.data], variant
            with Image.open(io.BytesIO(served.data)) as im:
                assert not im.getexif() and "xmp" not in im.info and "icc_profile" not in im.info
    shown = browser.get(f"/objects/{item_id}/edit").get_data(as_text=True)
    assert "La perceuse et ses mèches" in shown and f"/photos/{photos[0].id}/" in shown


def test_a_refused_photo_is_named_and_nothing_else_is_lost(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    r = offer(
        browser,
        [upload(jpeg(), "perceuse.jpg"), upload(photofiles.pdf_named_jpg(), "IMG_2041.jpg")],
        photo_alt=["Vue de face", "Vue de dos"],
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "« IMG_2041.jpg » : " in page and "JPEG, PNG, WebP ou HEIC" in page
    assert 'href="#photos"' in page  # in the error summary
    assert "Perceuse à percussion" in page and "Avec un jeu de mèches béton." in page
    assert count(Item) == 0
    # The clean photo is kept for this form: shown, and sent with it next time.
    kept = staged_photos()
    assert [p.alt for p in kept] == ["Vue de face"]
    assert "Déjà jointe" in page and f"/photos/{kept[0].id}/{kept[0].token}/thumb.jpg" in page


def test_a_photo_sent_with_a_refused_title_is_kept_and_published_next_time(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    key = new_submission_key()
    r = offer(
        browser,
        [upload(jpeg(), "perceuse.jpg")],
        title="",
        submission_key=key,
        photo_alt=["La perceuse rouge"],
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and count(Item) == 0
    assert "Déjà jointe" in page and 'value="La perceuse rouge"' in page
    assert field_value(page, "submission_key") == [key]
    (kept,) = staged_photos()
    # The staged photo is its sender's only.
    stranger = as_member(app, make_member("Dominique", at=CLICHY))
    assert stranger.get(f"/photos/{kept.id}/{kept.token}/thumb.jpg").status_code == 404
    assert browser.get(f"/photos/{kept.id}/{kept.token}/thumb.jpg").status_code == 200
    # Sent again without choosing the file again; its description changed on the way.
    r = offer(browser, [], submission_key=key, **{f"photo_alt_{kept.id}": "Perceuse, vue de face"})
    item_id = post_id_from(r, "/objects")
    (photo,) = photos_of(item_id)
    assert photo.id == kept.id and photo.alt == "Perceuse, vue de face"
    assert staged_photos() == []
    # The same form sent once more (a double click): one object, one photo.
    again = offer(browser, [upload(jpeg(), "perceuse.jpg")], submission_key=key)
    assert post_id_from(again, "/objects") == item_id
    assert count(Item) == 1 and len(photos_of(item_id)) == 1


def test_a_staged_photo_can_be_removed_before_publishing(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    key = new_submission_key()
    offer(browser, [upload(jpeg(), "a.jpg"), upload(jpeg(), "b.jpg")], title="", submission_key=key)
    first, second = sorted(p.id for p in staged_photos())
    r = offer(browser, [], submission_key=key, photo_remove=[str(first)])
    item_id = post_id_from(r, "/objects")
    assert [p.id for p in photos_of(item_id)] == [second]
    assert not exists(first)


# --- limits --------------------------------------------------------------------------------


def test_a_fifth_photo_on_an_object_is_refused_and_nothing_is_lost(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    five = [upload(jpeg(), f"photo{n}.jpg") for n in range(5)]
    r = offer(browser, five)
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and count(Item) == 0
    assert "Cela fait 5 photos : cette annonce en prend 4 au plus" in page
    assert len(staged_photos()) == 5 and page.count("Déjà jointe<") == 5
    # No room left: the file input is hidden, with the way to make room.
    assert re.search(r'class="photo-add" data-photo-add hidden', page)
    assert "cochez « Retirer »" in page
    key = field_value(page, "submission_key")[0]
    one = str(staged_photos()[0].id)
    r = offer(browser, [], submission_key=key, photo_remove=[one])
    item_id = post_id_from(r, "/objects")
    assert len(photos_of(item_id)) == 4 and staged_photos() == []


def test_an_outing_takes_one_photo(app, make_member):
    me = make_member("Organisatrice", at=DAMES_LEMERCIER)
    place = _place()
    browser = as_member(app, me)
    page = browser.get("/events/new").get_data(as_text=True)
    assert " multiple" not in re.search(r'<input type="file"[^>]*>', page).group(0)
    day = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=3)).date().isoformat()
    form = {
        "title": "Pique-nique au square",
        "body": "Chacun apporte un plat.",
        "starts_on": day,
        "starts_time": "18:30",
        "place": str(place.id),
        "capacity": "",
        "submission_key": new_submission_key(),
    }
    two = [upload(jpeg(), "a.jpg"), upload(jpeg(), "b.jpg")]
    r = browser.post("/events/new", data={**form, "photos": two}, content_type=MULTIPART)
    assert r.status_code == 422 and count(Event) == 0
    assert "Cela fait 2 photos : cette annonce en prend 1 au plus" in r.get_data(as_text=True)
    form["submission_key"] = new_submission_key()
    r = browser.post(
        "/events/new", data={**form, "photos": [upload(jpeg(), "a.jpg")]}, content_type=MULTIPART
    )
    event_id = post_id_from(r, "/events")
    assert [p.alt for p in photos_of(event_id)] == ["Pique-nique au square"]
    # Full: a second one on the edit form is refused.
    edit = browser.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert "Cette annonce a déjà sa photo" in edit
    r = browser.post(
        f"/events/{event_id}/edit",
        data={**form, "place": "keep", "photos": [upload(jpeg(), "b.jpg")]},
        content_type=MULTIPART,
    )
    assert r.status_code == 422 and len(photos_of(event_id)) == 1


def test_exchanges_and_lost_and_found_news_take_two(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    assert MAX_PHOTOS["exchange"] == MAX_PHOTOS["news"] == 2
    for path, form, model, prefix in (
        ("/exchanges/new", EXCHANGE_FORM, Exchange, "/exchanges"),
        ("/news/new", NEWS_FORM, NewsPost, "/news"),
    ):
        page = browser.get(path).get_data(as_text=True)
        assert "Jusqu'à 2 photos" in page and len(field_value(page, "photo_alt")) == 2
        three = [upload(jpeg(), f"{n}.jpg") for n in range(3)]
        data = {**form, "submission_key": new_submission_key(), "photos": three}
        r = browser.post(path, data=data, content_type=MULTIPART)
        assert r.status_code == 422 and count(model) == 0, path
        two = [upload(jpeg(), "moka.jpg"), upload(jpeg(), "moka2.jpg")]
        data = {**form, "submission_key": new_submission_key(), "photos": two}
        post_id = post_id_from(browser.post(path, data=data, content_type=MULTIPART), prefix)
        assert [p.alt for p in photos_of(post_id)] == [form["title"]] * 2


def test_a_photo_over_ten_megabytes_is_a_form_error_not_a_413(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    r = offer(browser, [upload(photofiles.eleven_megabytes(), "IMG_9999.HEIC")])
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "« IMG_9999.HEIC » : La photo dépasse 10 Mo" in page
    assert "Perceuse à percussion" in page and count(Item) == 0 and staged_photos() == []


# --- editing -------------------------------------------------------------------------------


def test_edit_removes_one_describes_another_and_adds_one(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    r = offer(browser, [upload(jpeg(), "a.jpg"), upload(jpeg(), "b.jpg")])
    item_id = post_id_from(r, "/objects")
    first, second = photos_of(item_id)
    first_id = first.id
    page = browser.get(f"/objects/{item_id}/edit").get_data(as_text=True)
    assert "Retirer cette photo" in page and page.count('name="photo_remove"') == 2
    assert len(field_value(page, "photo_alt")) == 2  # the room left
    r = browser.post(
        f"/objects/{item_id}/edit",
        data={
            **ITEM_FORM,
            "submission_key": field_value(page, "submission_key")[0],
            "photo_remove": [str(first.id)],
            f"photo_alt_{second.id}": "La perceuse dans sa mallette",
            "photos": [upload(jpeg(), "c.jpg")],
            "photo_alt": ["Les mèches"],
        },
        content_type=MULTIPART,
    )
    assert post_id_from(r, "/objects") == item_id
    photos = photos_of(item_id)
    assert [p.alt for p in photos] == ["La perceuse dans sa mallette", "Les mèches"]
    assert not exists(first_id)


def test_an_edit_refused_for_its_title_keeps_the_new_photo_and_the_choices(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    item_id = post_id_from(offer(browser, [upload(jpeg(), "a.jpg")]), "/objects")
    (first,) = photos_of(item_id)
    key = new_submission_key()
    data = {
        **ITEM_FORM,
        "title": "",
        "submission_key": key,
        "photo_remove": [str(first.id)],
        "photos": [upload(jpeg(), "b.jpg")],
        "photo_alt": ["Nouvelle vue"],
    }
    r = browser.post(f"/objects/{item_id}/edit", data=data, content_type=MULTIPART)
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert [p.id for p in photos_of(item_id)] == [first.id]  # nothing applied yet
    assert re.search(rf'value="{first.id}"\s+data-photo-remove checked', page)
    assert "Déjà jointe" in page and 'value="Nouvelle vue"' in page
    data = {**ITEM_FORM, "submission_key": key, "photo_remove": [str(first.id)]}
    r = browser.post(f"/objects/{item_id}/edit", data=data, content_type=MULTIPART)
    assert post_id_from(r, "/objects") == item_id
    assert [p.alt for p in photos_of(item_id)] == ["Nouvelle vue"]


def test_only_the_author_reaches_the_edit_form_and_adds_photos(app, make_member):
    author = make_member("Camille")
    other = make_member("Dominique", at=CLICHY)
    item_id = post_id_from(offer(as_member(app, author), []), "/objects")
    intruder = as_member(app, other)
    assert intruder.get(f"/objects/{item_id}/edit").status_code == 403
    r = intruder.post(
        f"/objects/{item_id}/edit",
        data={**ITEM_FORM, "photos": [upload(jpeg(), "x.jpg")]},
        content_type=MULTIPART,
    )
    assert r.status_code == 403
    assert photos_of(item_id) == [] and staged_photos() == []
    # Nor through the other kinds' forms.
    news_browser = as_member(app, author)
    data = {**NEWS_FORM, "submission_key": new_submission_key()}
    news_id = post_id_from(
        news_browser.post("/news/new", data=data, content_type=MULTIPART), "/news"
    )
    r = intruder.post(
        f"/news/{news_id}/edit",
        data={**NEWS_FORM, "photos": [upload(jpeg(), "x.jpg")]},
        content_type=MULTIPART,
    )
    assert r.status_code == 403 and photos_of(news_id) == []


def test_exchange_and_news_edit_forms_add_and_remove_photos(app, make_member):
    me = make_member("Camille")
    browser = as_member(app, me)
    data = {**EXCHANGE_FORM, "submission_key": new_submission_key()}
    exchange_id = post_id_from(
        browser.post("/exchanges/new", data=data, content_type=MULTIPART), "/exchanges"
    )
    page = browser.get(f"/exchanges/{exchange_id}/edit").get_data(as_text=True)
    key = field_value(page, "submission_key")[0]
    data = {
        **EXCHANGE_FORM,
        "location": "keep",
        "submission_key": key,
        "photos": [upload(jpeg(), "canape.jpg")],
        "photo_alt": ["Le canapé bleu"],
    }
    r = browser.post(f"/exchanges/{exchange_id}/edit", data=data, content_type=MULTIPART)
    assert post_id_from(r, "/exchanges") == exchange_id
    assert [p.alt for p in photos_of(exchange_id)] == ["Le canapé bleu"]

    data = {**NEWS_FORM, "submission_key": new_submission_key()}
    data["photos"] = [upload(jpeg(), "moka.jpg")]
    news_id = post_id_from(browser.post("/news/new", data=data, content_type=MULTIPART), "/news")
    (moka,) = photos_of(news_id)
    page = browser.get(f"/news/{news_id}/edit").get_data(as_text=True)
    assert f'value="{moka.alt}"' in page and "Retirer cette photo" in page
    data = {**NEWS_FORM, "photo_remove": [str(moka.id)]}
    r = browser.post(f"/news/{news_id}/edit", data=data, content_type=MULTIPART)
    assert post_id_from(r, "/news") == news_id and photos_of(news_id) == []


def test_a_form_stuffed_with_files_is_cut_short(app, make_member):
    """An object takes 4 photos: 2 more are read and kept to choose from, the rest not
    even decoded; and a member's photos kept for forms are capped (STAGED_MAX)."""
    me = make_member("Camille")
    browser = as_member(app, me)
    files = [upload(jpeg((16, 12)), f"f{n}.jpg") for n in range(9)]
    r = offer(browser, files)
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 422 and count(Item) == 0
    assert "« f6.jpg » n'est pas gardée : choisissez moins de photos" in page
    assert "« f5.jpg » n'est pas gardée" not in page
    assert len(staged_photos()) == 6
    # Another blank form, stuffed again: only 2 more are kept (8 in a day at most).
    r = offer(browser, [upload(jpeg((16, 12)), f"g{n}.jpg") for n in range(6)])
    page = html.unescape(r.get_data(as_text=True))
    assert len(staged_photos()) == 8
    assert "« g2.jpg » n'a pas pu être gardée : choisissez-la à nouveau." in page


def test_photos_heavier_than_a_request_may_be_bring_the_form_back_with_a_message(
    make_app, make_member
):
    """Over PHOTO_REQUEST_MAX_BYTES the body cannot be read: no 413 page, but the form
    again, with a message saying what to do (nothing was written)."""
    app = make_app(PHOTO_REQUEST_MAX_BYTES=100_000)
    with app.app_context():
        lender = make_member("Lina", at=CLICHY)
        browser = as_member(app, lender)
        heavy = photofiles.jpeg_bytes((64, 48)) + b"\0" * 150_000
        r = browser.post(
            "/objects/new",
            data={**ITEM_FORM, "photos": [upload(heavy, "IMG_0001.jpg")]},
            content_type=MULTIPART,
        )
        assert r.status_code == 303, r.status_code
        assert r.headers["Location"].endswith("/objects/new")
        page = html.unescape(browser.get(r.headers["Location"]).get_data(as_text=True))
        assert "Vos photos pèsent trop lourd ensemble : rien n'a été envoyé." in page
        assert count(Item) == 0
        # An ordinary page keeps the 1 MB limit and its error page.
        r = browser.post("/account/profile", data={"bio": "x" * 2_000_000})
        assert r.status_code == 413
