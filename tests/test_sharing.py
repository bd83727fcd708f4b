"""Posts shared outside Peuplade (peuplade/sharing, docs/sharing.md): the box on every
post's form, the "Partager" part of a post's page, and the teaser behind a shared link
for whoever cannot see the post: the title, the kind and the quartier, a photo only if
the author allowed it, never a name, a position or a distance."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from peuplade.exchanges import services as exchange_services
from peuplade.extensions import db
from peuplade.models import Event, Exchange, Item, NewsPost, Post, utcnow
from peuplade.photos import services as photos
from peuplade.posts import services as post_services
from tests.conftest import BATIGNOLLES, CLICHY, FAR_AWAY
from tests.helpers.browsers import as_member
from tests.photofiles import jpeg_bytes
from tests.test_exchanges_html import FORM, quick
from tests.test_loans_html import ITEM_FORM
from tests.test_news_events import _place

PARIS = ZoneInfo("Europe/Paris")
TOKEN = re.compile(r"/p/([A-Za-z0-9_-]{22})\b")


@pytest.fixture
def street(make_member, make_quartier):
    make_quartier("batignolles", name="Batignolles")
    return {
        "author": make_member("Autrice Secrète", at=BATIGNOLLES, email="autrice@example.org"),
        "near": make_member("Voisine", at=CLICHY, email="voisine@example.org"),
        "far": make_member("Lointain", at=FAR_AWAY, email="loin@example.org"),
    }


def _shared_exchange(author, photo: bool = False, **changes) -> Exchange:
    exchange = quick(author, **changes)
    post_services.set_sharing(exchange, True, photo)
    db.session.commit()
    return exchange


def _forms(place_id: int) -> dict[str, tuple[str, dict]]:
    day = (datetime.now(PARIS) + timedelta(days=3)).date()
    return {
        "exchange": ("/exchanges/new", {**FORM, "title": "Porter un canapé"}),
        "item": ("/objects/new", {**ITEM_FORM}),
        "news": ("/news/new", {"kind": "info", "title": "Vide-grenier", "body": "Dimanche.",
                               "link": "", "scope": "radius"}),
        "event": ("/events/new", {"title": "Pique-nique", "body": "Un plat chacun.",
                                  "starts_on": day.isoformat(), "starts_time": "18:30",
                                  "ends_time": "", "place": str(place_id), "capacity": ""}),
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["exchange", "item", "news", "event"])
def test_every_post_s_form_has_the_box_unticked_and_keeps_what_is_ticked(app, street, kind):
    browser = as_member(app, street["author"])
    path, form = _forms(_place().id)[kind]
    page = browser.get(path).get_data(as_text=True)
    assert "Partageable hors de Peuplade" in page
    box = re.search(r'<input[^>]*name="shareable"[^>]*>', page).group(0)
    assert "checked" not in box  # off by default
    assert browser.post(path, data=form).status_code == 302
    shared = {**form, "title": "Deuxième", "shareable": "y"}
    assert browser.post(path, data=shared).status_code == 302
    plain, shared = db.session.scalars(select(Post).where(Post.type == kind).order_by(Post.id))
    assert plain.share_token is None and plain.share_photo is False
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", shared.share_token) and shared.share_photo is False


def test_unsharing_ends_the_link_and_sharing_again_makes_another(app, street):
    browser = as_member(app, street["author"])
    exchange = _shared_exchange(street["author"])
    first = exchange.share_token
    edit = browser.get(f"/exchanges/{exchange.id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="shareable"|name="shareable"[^>]*checked', edit)
    data = {**FORM, "location": "keep", "reach_m": "1000"}
    assert browser.post(f"/exchanges/{exchange.id}/edit", data=data).status_code == 302
    db.session.refresh(exchange)
    assert exchange.share_token is None
    assert app.test_client().get(f"/p/{first}").status_code == 404
    shared = {**data, "shareable": "y", "share_photo": "y"}
    assert browser.post(f"/exchanges/{exchange.id}/edit", data=shared).status_code == 302
    db.session.refresh(exchange)
    assert exchange.share_token not in (None, first) and exchange.share_photo is True


def test_someone_outside_sees_the_title_kind_and_quartier_and_nothing_else(app, street):
    exchange = _shared_exchange(
        street["author"], title="Porter un canapé", body="Au 12 rue Secrète, 3e étage."
    )
    response = app.test_client().get(f"/p/{exchange.share_token}")
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    page = response.get_data(as_text=True)
    assert "<h1>Porter un canapé</h1>" in page
    assert "Demande de coup de main" in page and "Dans le quartier Batignolles" in page
    assert '<meta property="og:title" content="Porter un canapé">' in page
    assert "Rejoindre Peuplade" in page and f"/login?next=/p/{exchange.share_token}" in page
    # Never the author, the body, a distance or a photo (none allowed).
    for secret in ("Autrice", "Secrète", "rue Secrète", "~", "&lt; 250 m", "og:image", "<img"):
        assert secret not in page, secret


def test_the_photo_shows_only_when_the_author_allowed_it(app, street):
    author = street["author"]
    exchange = _shared_exchange(author)
    photos.add_photo(exchange, jpeg_bytes(), "Le canapé bleu", author)
    db.session.commit()
    visitor = app.test_client()
    token = exchange.share_token
    assert "<img" not in visitor.get(f"/p/{token}").get_data(as_text=True)
    assert visitor.get(f"/p/{token}/photo.jpg").status_code == 404
    post_services.set_sharing(exchange, True, photo=True)
    db.session.commit()
    page = visitor.get(f"/p/{token}").get_data(as_text=True)
    assert f'src="/p/{token}/photo.jpg"' in page and 'alt="Le canapé bleu"' in page
    base = app.config["PUBLIC_URL"].rstrip("/")
    assert f'<meta property="og:image" content="{base}/p/{token}/photo.jpg">' in page
    served = visitor.get(f"/p/{token}/photo.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.get_data())).width <= exchange.photos[0].thumb_width


def test_a_neighbour_who_sees_the_post_goes_to_it_one_out_of_reach_gets_the_teaser(app, street):
    exchange = _shared_exchange(street["author"])
    near = as_member(app, street["near"]).get(f"/p/{exchange.share_token}")
    assert near.status_code == 302 and near.headers["Location"] == f"/exchanges/{exchange.id}"
    far = as_member(app, street["far"])
    assert far.get(f"/exchanges/{exchange.id}").status_code == 404  # out of reach
    teaser = far.get(f"/p/{exchange.share_token}")
    assert teaser.status_code == 200
    page = teaser.get_data(as_text=True)
    assert "hors de votre rayon" in page and "Autrice" not in page


@pytest.mark.parametrize(
    "how", ["no longer shared", "done", "expired", "hidden", "unknown", "long", "nul"]
)
def test_a_link_to_nothing_shared_answers_404(app, street, how):
    author = street["author"]
    exchange = _shared_exchange(author)
    token = exchange.share_token
    if how == "no longer shared":
        post_services.set_sharing(exchange, False)
    elif how == "done":
        exchange_services.close_exchange(exchange, author, "done")
    elif how == "expired":
        exchange.expires_at = utcnow() - timedelta(minutes=1)
    elif how == "hidden":  # by the moderation
        exchange.hidden_at = utcnow()
    elif how == "unknown":
        token = "B" * 22
    elif how == "long":
        token = "C" * 300
    elif how == "nul":  # PostgreSQL refuses NUL in text: never sent to it
        token = "%00" + "D" * 21
    db.session.commit()
    visitor = app.test_client()
    response = visitor.get(f"/p/{token}")
    assert response.status_code == 404
    assert "Ce lien ne mène plus à rien" in response.get_data(as_text=True)
    assert visitor.get(f"/p/{token}/photo.jpg").status_code == 404


def test_the_post_s_own_address_still_asks_a_visitor_to_log_in(app, street):
    exchange = _shared_exchange(street["author"])
    response = app.test_client().get(f"/exchanges/{exchange.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("kind", ["exchange", "item", "news", "event"])
def test_a_post_s_page_offers_to_share_its_link(app, street, kind):
    browser = as_member(app, street["author"])
    path, form = _forms(_place().id)[kind]
    browser.post(path, data={**form, "shareable": "y"})
    post = db.session.scalars(select(Post).where(Post.type == kind)).one()
    page_url = {
        "exchange": f"/exchanges/{post.id}",
        "item": f"/objects/{post.id}",
        "news": f"/news/{post.id}",
        "event": f"/events/{post.id}",
    }[kind]
    base = app.config["PUBLIC_URL"].rstrip("/")
    page = browser.get(page_url).get_data(as_text=True)
    assert f'data-share-url="{base}/p/{post.share_token}"' in page
    assert f'value="{base}/p/{post.share_token}" readonly' in page
    assert "Partageable hors de Peuplade : qui ouvre ce lien" in page
    post_services.set_sharing(post, False)
    db.session.commit()
    page = as_member(app, street["near"]).get(page_url).get_data(as_text=True)
    assert f'data-share-url="{base}{page_url}"' in page
    assert "/p/" not in page
    assert "Seuls les voisins qui voient déjà cette annonce" in page


def test_each_kind_says_what_it_is_on_its_teaser(app, street):
    author = street["author"]
    browser = as_member(app, author)
    forms = _forms(_place().id)
    labels = {
        "exchange": "Demande de coup de main",
        "item": "Objet à prêter",
        "news": "Info",
        "event": "Sortie",
    }
    for path, form in forms.values():
        assert browser.post(path, data={**form, "shareable": "y"}).status_code == 302
    visitor = app.test_client()
    for post in db.session.scalars(select(Post)):
        page = visitor.get(f"/p/{post.share_token}").get_data(as_text=True)
        assert f'<span class="badge badge--type-{post.type}">{labels[post.type]}</span>' in page
    assert {type(p) for p in db.session.scalars(select(Post))} == {Exchange, Item, NewsPost, Event}


def test_the_teaser_in_english(app, street):
    exchange = _shared_exchange(street["author"], kind="offer", title="Cours de guitare")
    page = (
        app.test_client()
        .get(f"/p/{exchange.share_token}", headers={"Accept-Language": "en"})
        .get_data(as_text=True)
    )
    assert "Offer of a hand" in page and "Join Peuplade" in page and "Cours de guitare" in page


def test_the_register_knows_the_sharing_columns(app, street):
    from peuplade.gdpr import policy

    posts = next(t for t in policy.TABLES if t.name == "posts")
    assert {"share_token", "share_photo"} <= set(posts.columns)


def test_the_teaser_leaks_no_home(app, street):
    from tests.test_privacy import _other_homes_leaked

    exchange = _shared_exchange(street["author"])
    page = app.test_client().get(f"/p/{exchange.share_token}").get_data(as_text=True)
    assert _other_homes_leaked(page, [street["author"], street["near"], street["far"]]) == []


def test_a_closed_post_shares_its_own_address_not_a_dead_link(app, street):
    author = street["author"]
    exchange = _shared_exchange(author)
    exchange_services.close_exchange(exchange, author, "done")
    db.session.commit()
    page = as_member(app, author).get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert f"/p/{exchange.share_token}" not in page
    assert "Seuls les voisins qui voient déjà cette annonce" in page


def test_a_refused_edit_keeps_the_boxes_as_ticked(app, street):
    browser = as_member(app, street["author"])
    exchange = quick(street["author"])
    data = {**FORM, "title": "", "location": "keep", "reach_m": "1000", "shareable": "y"}
    response = browser.post(f"/exchanges/{exchange.id}/edit", data=data)
    assert response.status_code == 422
    box = re.search(r'<input[^>]*name="shareable"[^>]*>', response.get_data(as_text=True))
    assert "checked" in box.group(0)
    db.session.refresh(exchange)
    assert exchange.share_token is None  # nothing written
