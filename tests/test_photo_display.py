"""Photos where members see posts (issue 22): a thumbnail on the cards of every list, the
photos with their descriptions on a post's page, served only to those who may see the
post (gone once it is hidden or deleted), with their caching headers, on both storage
backends, and never a statement per photo."""

from __future__ import annotations

import hashlib
import html
import itertools
import re

import pytest
from sqlalchemy import text

from peuplade.account import services as accounts
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.models import Photo, utcnow
from peuplade.moderation import services as moderation
from peuplade.photos import services as photos
from peuplade.photos import storage
from tests import photofiles
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD
from tests.helpers.browsers import as_member
from tests.test_news_events import _event, _news, _place
from tests.test_timeline_html import _statements

CARD_START = re.compile(r'<li class="card[ "]')
CARD_LINK = re.compile(r'<h3><a href="(/(?:exchanges|objects|news|events)/\d+)">')
THUMB = re.compile(r'<img class="card__photo"[^>]*>')


def _attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def _cards(page: str) -> dict[str, list[dict[str, str]]]:
    """Each card of a list, by the path it links to: the attributes of its thumbnails."""
    starts = [m.start() for m in CARD_START.finditer(page)] + [len(page)]
    found: dict[str, list[dict[str, str]]] = {}
    for start, end in itertools.pairwise(starts):
        chunk = page[start:end]
        link = CARD_LINK.search(chunk)
        if link:
            # The card's own part: up to its title and the lines after it, before any
            # nested list (a lender's calendar).
            found[link.group(1)] = [_attrs(t) for t in THUMB.findall(chunk)]
    return found


def _photo(post, author, alt: str, seed_size=(800, 600)) -> Photo:
    photo = photos.add_photo(post, photofiles.jpeg_bytes(seed_size), alt, author)
    db.session.commit()
    return photo


def _item(author, title: str):
    item = loans.offer_item(author, loans.ItemInput(title=title, description="", category="autre"))
    db.session.commit()
    return item


def _exchange(author, title: str):
    exchange = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(kind="offer", title=title, body="Texte", category="cuisine"),
    )
    db.session.commit()
    return exchange


def _paths(kind: str, post_id: int) -> str:
    return {"item": "/objects", "exchange": "/exchanges", "news": "/news", "event": "/events"}[
        kind
    ] + f"/{post_id}"


@pytest.fixture
def street(make_member):
    return {
        "author": make_member("Autrice", at=BATIGNOLLES, email="autrice@example.org"),
        "reader": make_member("Lecteur", at=CLICHY, email="lecteur@example.org"),
        "blocked": make_member("Bloqué", at=DAMES_LEMERCIER, email="bloque@example.org"),
        "stranger": make_member("Lointain", at=FAR_AWAY, email="loin@example.org"),
    }


@pytest.fixture
def posts(street):
    """One post of each kind with a photo, and one of each without."""
    author = street["author"]
    place = _place()
    made = {
        "item": (_item(author, "Perceuse"), _item(author, "Échelle")),
        "exchange": (_exchange(author, "Des confitures"), _exchange(author, "Des livres")),
        "news": (
            _news(author, title="Chat perdu : Moka", kind="perdu_trouve"),
            _news(author, title="Coupure d'eau"),
        ),
        "event": (
            _event(author, place, title="Pique-nique"),
            _event(author, place, title="Balade"),
        ),
    }
    alts = {
        "item": "Perceuse Bosch verte, avec sa mallette",
        "exchange": "Trois pots de confiture d'abricot",
        "news": "Moka, chat tigré au collier rouge",
        "event": "Le square des Batignolles au printemps",
    }
    for kind, (with_photo, _without) in made.items():
        _photo(with_photo, author, alts[kind])
    return made, alts


def _check_list(page: str, made, alts, kinds) -> None:
    cards = _cards(page)
    for kind in kinds:
        with_photo, without = made[kind]
        photo = with_photo.photos[0]
        shown = cards[_paths(kind, with_photo.id)]
        assert len(shown) == 1, (kind, shown)
        assert shown[0]["src"] == f"/photos/{photo.id}/{photo.token}/thumb.jpg"
        assert shown[0]["alt"] == alts[kind]
        assert (shown[0]["width"], shown[0]["height"]) == (
            str(photo.thumb_width),
            str(photo.thumb_height),
        )
        assert cards[_paths(kind, without.id)] == [], kind


def test_every_list_shows_the_first_photo_of_a_post_and_none_without(app, street, posts):
    made, alts = posts
    reader = as_member(app, street["reader"])
    pages = {
        "/timeline": ("item", "exchange", "news", "event"),
        "/objects": ("item",),
        "/exchanges": ("exchange",),
        "/news": ("news",),
        "/events": ("event",),
    }
    for path, kinds in pages.items():
        r = reader.get(path)
        assert r.status_code == 200, path
        _check_list(r.get_data(as_text=True), made, alts, kinds)
    author = as_member(app, street["author"])
    for path, kinds in {"/objects/mine": ("item",), "/exchanges/mine": ("exchange",)}.items():
        r = author.get(path)
        assert r.status_code == 200, path
        _check_list(r.get_data(as_text=True), made, alts, kinds)


def test_only_the_first_card_loads_its_photo_at_once(app, street):
    author = street["author"]
    for n in range(3):
        _photo(_item(author, f"Objet {n}"), author, f"Objet numéro {n}")
    page = as_member(app, street["reader"]).get("/objects").get_data(as_text=True)
    thumbs = [_attrs(t) for t in THUMB.findall(page)]
    assert len(thumbs) == 3
    assert "loading" not in thumbs[0]
    assert [t.get("loading") for t in thumbs[1:]] == ["lazy", "lazy"]


def test_a_post_page_shows_every_photo_with_its_caption_and_size(app, street):
    author = street["author"]
    item = _item(author, "Perceuse")
    first = _photo(item, author, "La perceuse, de face", (900, 600))
    second = _photo(item, author, "Les mèches, dans leur boîte", (600, 900))
    page = as_member(app, street["reader"]).get(f"/objects/{item.id}").get_data(as_text=True)
    figures = re.findall(r"<figure>(.*?)</figure>", page, re.S)
    assert len(figures) == 2
    for photo, figure in zip((first, second), figures, strict=True):
        link = re.search(r'<a class="gallery__link" href="([^"]+)">', figure)
        assert link and link.group(1) == f"/photos/{photo.id}/{photo.token}/full.jpg"
        img = _attrs(re.search(r"<img[^>]*>", figure, re.S).group(0))
        assert img["alt"] == photo.alt
        assert (img["width"], img["height"]) == (str(photo.width), str(photo.height))
        assert f"/photos/{photo.id}/{photo.token}/thumb.jpg {photo.thumb_width}w" in img["srcset"]
        caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", figure, re.S)
        assert caption and html.unescape(caption.group(1)).strip() == photo.alt
    # Reporting a photo reports its post; the author is not offered to report their own.
    reports = re.findall(r'<a class="report-link" href="([^"]+)">Signaler cette photo', page)
    assert [html.unescape(r) for r in reports] == [
        f"/report?type=item&id={item.id}&photo={p.id}" for p in item.photos
    ]
    mine = as_member(app, author).get(f"/objects/{item.id}").get_data(as_text=True)
    assert mine.count("<figure>") == 2 and "Signaler cette photo" not in mine


@pytest.mark.parametrize("kind", ["exchange", "news", "event"])
def test_the_other_post_pages_show_their_photo(app, street, kind):
    author = street["author"]
    post = {
        "exchange": lambda: _exchange(author, "Des confitures"),
        "news": lambda: _news(author, title="Chat perdu", kind="perdu_trouve"),
        "event": lambda: _event(author, _place(), title="Pique-nique"),
    }[kind]()
    photo = _photo(post, author, "Ce que montre la photo")
    page = as_member(app, street["reader"]).get(_paths(kind, post.id)).get_data(as_text=True)
    assert f'src="/photos/{photo.id}/{photo.token}/full.jpg"' in page
    assert "<figcaption" in page and "Ce que montre la photo</figcaption>" in page
    assert f"/report?type={kind}&amp;id={post.id}" in page


def photo_url(photo: Photo) -> str:
    return f"/photos/{photo.id}/{photo.token}/full.jpg"


def thumb_url(photo: Photo) -> str:
    return f"/photos/{photo.id}/{photo.token}/thumb.jpg"


def _urls(photo: Photo) -> list[str]:
    return [photo_url(photo), thumb_url(photo)]


def test_only_those_who_may_see_the_post_get_its_photos(app, client, street):
    author = street["author"]
    item = _item(author, "Perceuse")
    photo = _photo(item, author, "La perceuse")
    moderation.block(author, street["blocked"].id)
    db.session.commit()
    reader = as_member(app, street["reader"])
    for url in _urls(photo):
        assert reader.get(url).status_code == 200, url
        assert as_member(app, author).get(url).status_code == 200, url
        assert client.get(url).status_code == 404, url  # a visitor
        assert as_member(app, street["stranger"]).get(url).status_code == 404, url
        assert as_member(app, street["blocked"]).get(url).status_code == 404, url
        # The right id with a wrong token is no photo either.
        assert reader.get(url.replace(photo.token, "x" * len(photo.token))).status_code == 404
    blocked_page = as_member(app, street["blocked"]).get("/objects").get_data(as_text=True)
    assert photo.token not in blocked_page


@pytest.mark.parametrize("how", ["hidden", "deleted"])
def test_a_hidden_or_deleted_post_takes_its_photos_away(app, street, how):
    author = street["author"]
    item = _item(author, "Perceuse")
    photo = _photo(item, author, "La perceuse")
    reader = as_member(app, street["reader"])
    urls = _urls(photo)
    for path in ("/timeline", "/objects"):
        assert photo.token in reader.get(path).get_data(as_text=True), path
    if how == "hidden":
        item.hidden_at = utcnow()
    else:
        loans.delete_item(item, author)
    db.session.commit()
    for path in ("/timeline", "/objects", "/map"):
        assert photo.token not in reader.get(path).get_data(as_text=True), path
    for url in urls:
        assert reader.get(url).status_code == 404, url
    if how == "deleted":
        assert db.session.scalar(text("SELECT count(*) FROM photos")) == 0


def test_a_served_photo_is_cached_for_good_and_revalidated_with_its_etag(app, street):
    author = street["author"]
    photo = _photo(_item(author, "Perceuse"), author, "La perceuse")
    reader = as_member(app, street["reader"])
    for url, digest in ((photo_url(photo), photo.digest), (thumb_url(photo), photo.thumb_digest)):
        r = reader.get(url)
        assert r.status_code == 200
        body = r.get_data()
        assert r.mimetype == "image/jpeg" and body.startswith(b"\xff\xd8\xff")
        assert r.headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"' == f'"{digest}"'
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Disposition"] == "inline"
        cache = [part.strip() for part in r.headers["Cache-Control"].split(",")]
        assert "immutable" in cache and "private" in cache and "max-age=31536000" in cache
        again = reader.get(url, headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["ETag"] == r.headers["ETag"]
        other = reader.get(url, headers={"If-None-Match": '"' + "0" * 64 + '"'})
        assert other.status_code == 200 and other.get_data() == body


def test_a_timeline_of_20_cards_with_photos_costs_what_one_card_costs(app, street):
    author, other = street["author"], street["blocked"]
    photos.set_avatar(author, photofiles.jpeg_bytes((300, 300)))
    db.session.commit()
    first = _item(author, "Objet 0")
    _photo(first, author, "Objet 0, de face")
    _photo(first, author, "Objet 0, de dos")
    reader = as_member(app, street["reader"])
    reader.get("/timeline")  # the session's first use may write last_seen_at
    with _statements() as few:
        page = reader.get("/timeline").get_data(as_text=True)
    assert len(THUMB.findall(page)) == 1
    for n in range(1, 25):
        by = author if n % 2 else other
        post = _item(by, f"Objet {n}") if n % 3 else _exchange(by, f"Annonce {n}")
        _photo(post, by, f"Photo {n} a")
        _photo(post, by, f"Photo {n} b")
    with _statements() as many:
        page = reader.get("/timeline").get_data(as_text=True)
    assert len(THUMB.findall(page)) == 20
    assert len(many) == len(few), (few, many)
    # No statement reads a photo's bytes to draw a list.
    assert not [s for s in many if re.search(r"photos\.(thumb_)?data\b", s)]


# --- the filesystem backend --------------------------------------------------------------


def _member(name: str, at, email: str):
    member = accounts.register_member(
        email=email,
        password=PASSWORD,
        display_name=name,
        location=LocationInput(lat=at[0], lon=at[1]),
        radius_m=1000,
        skills=[],
        tags=[],
        bio="",
    )
    db.session.commit()
    return member


def test_the_directory_backend_stores_files_serves_them_and_removes_them(make_app, tmp_path):
    app = make_app(PHOTO_STORAGE=str(tmp_path))
    with app.app_context():
        author = _member("Autrice", BATIGNOLLES, "autrice@example.org")
        reader = _member("Lecteur", CLICHY, "lecteur@example.org")
        item = _item(author, "Perceuse")
        photo = _photo(item, author, "La perceuse")
        photo_id, token, digests = photo.id, photo.token, (photo.digest, photo.thumb_digest)
        urls = _urls(photo)
        assert storage.directory() == tmp_path
        row = db.session.execute(
            text("SELECT data, thumb_data FROM photos WHERE id = :id"), {"id": photo_id}
        ).one()
        assert tuple(row) == (None, None)
        files = sorted(p.name for p in tmp_path.rglob("*.jpg"))
        assert files == sorted([f"{token}.jpg", f"{token}.thumb.jpg"])
        browser = as_member(app, reader)
        for url, digest in zip(urls, digests, strict=True):
            r = browser.get(url)
            assert r.status_code == 200
            assert hashlib.sha256(r.get_data()).hexdigest() == digest
            assert r.headers["ETag"] == f'"{digest}"'
            assert browser.get(url, headers={"If-None-Match": f'"{digest}"'}).status_code == 304
        page = browser.get("/objects").get_data(as_text=True)
        assert f"/photos/{photo_id}/{token}/thumb.jpg" in page
        loans.delete_item(db.session.get(type(item), item.id), author)
        assert len(list(tmp_path.rglob("*.jpg"))) == 2  # kept until the commit
        db.session.commit()
        assert list(tmp_path.rglob("*.jpg")) == []
        for url in urls:
            assert browser.get(url).status_code == 404


def test_the_map_list_shows_thumbnails(app, street, posts):
    """Needs the map route to pass its posts (posts_by_id): the markers' JSON never
    carries photos."""
    made, alts = posts
    page = as_member(app, street["reader"]).get("/map").get_data(as_text=True)
    _check_list(page, made, alts, ("item", "exchange", "news", "event"))
    data = re.search(r"data-json='([^']*)'", page).group(1)
    assert "/photos/" not in data
