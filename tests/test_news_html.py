"""News pages: posting (radius and quartier), the list with pinned alerts, one news with
its comments, author-only edits, bad input kept on the form, escaping and privacy."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from peuplade.extensions import db
from peuplade.models import NewsComment, NewsPost
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.test_news_events import _news
from tests.test_privacy import _other_homes_leaked

SCRIPT = "<script>alert('x')</script>"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _new_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/news/(\d+)$", response.headers["Location"]).group(1))


def test_post_read_comment_and_escape(client, auth, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER, email="a@example.org")
    reader = make_member("Lecteur", at=CLICHY, email="l@example.org")
    auth.login("a@example.org")
    page = client.get("/news/new").get_data(as_text=True)
    assert "Tout mon quartier" in page and "disabled" in page  # no quartier in this test
    news_id = _new_id(
        client.post(
            "/news/new",
            data={
                "kind": "perdu_trouve",
                "title": f"Chat perdu {SCRIPT}",
                "body": f"Roux, répond à Mistigri.\nRue des Dames. {SCRIPT}",
                "link": "https://example.org/chat?a=1&b=2",
                "scope": "radius",
            },
        )
    )
    auth.logout()
    auth.login("l@example.org")
    listing = client.get("/news").get_data(as_text=True)
    assert "Chat perdu" in listing and "Perdu / trouvé" in listing
    shown = client.get(f"/news/{news_id}")
    body = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Autrice" in body and "Rue des Dames" in body
    assert 'href="https://example.org/chat?a=1&amp;b=2" rel="nofollow noopener"' in body
    r = client.post(f"/news/{news_id}/comments", data={"body": f"Je l'ai vu ! {SCRIPT}"})
    assert r.status_code == 302
    body = client.get(f"/news/{news_id}").get_data(as_text=True)
    assert "Je l&#39;ai vu !" in body
    for page in (listing, body, client.get("/timeline").get_data(as_text=True)):
        assert SCRIPT not in page and "&lt;script&gt;" in page
        assert _other_homes_leaked(page, [author]) == []
    # An empty comment is refused on the form, nothing written.
    r = client.post(f"/news/{news_id}/comments", data={"body": "   "})
    assert r.status_code == 422 and "Ce champ est obligatoire" in r.get_data(as_text=True)
    assert _count(NewsComment) == 1
    assert reader.id  # the reader stayed logged in throughout


def test_quartier_scope_and_pinned_alerts(client, auth, make_member, make_quartier):
    big = make_quartier("grand-quartier", around=(48.87, 2.33), half=0.03)
    make_member("Autrice", at=(48.850, 2.315), radius_m=200, email="a@example.org")
    make_member("Loin dedans", at=(48.895, 2.350), radius_m=200, email="l@example.org")
    auth.login("a@example.org")
    page = client.get("/news/new").get_data(as_text=True)
    assert f"Tout mon quartier ({big.name})" in page and "disabled" not in page
    news_id = _new_id(
        client.post(
            "/news/new",
            data={
                "kind": "alerte",
                "title": "Coupure d'eau",
                "body": "Mardi.",
                "scope": "quartier",
            },
        )
    )
    auth.logout()
    auth.login("l@example.org")
    listing = client.get("/news").get_data(as_text=True)
    _before, _sep, rest = listing.partition("Alertes des dernières 48 heures")
    assert "Coupure d" in rest and "tout le quartier" in rest
    assert rest.count(f'href="/news/{news_id}"') == 1  # pinned, not repeated below
    show = client.get(f"/news/{news_id}").get_data(as_text=True)
    assert f"Tout le quartier {big.name}" in show


def test_bad_news_keep_what_was_typed_and_write_nothing(client, auth, make_member):
    make_member("Autrice", email="a@example.org")
    auth.login("a@example.org")
    good = {"kind": "info", "title": "Boulangerie", "body": "Nouveaux horaires.", "scope": "radius"}
    for change, message in (
        ({"title": ""}, "Écrivez au moins 3 caractères"),
        ({"body": "é" * 5000}, "4000 caractères au plus"),
        ({"link": "javascript:alert(1)"}, "Un lien commence par https://"),
        ({"scope": "quartier"}, "aucun quartier connu"),
        ({"kind": "rumeur"}, "Choisissez un type"),
    ):
        r = client.post("/news/new", data={**good, **change})
        body = r.get_data(as_text=True)
        assert r.status_code == 422, change
        assert message in body, change
        assert "Nouveaux horaires." in body or "é" * 100 in body, change  # text kept
    assert _count(NewsPost) == 0


def test_only_authors_edit_delete_and_remove_comments(client, auth, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER, email="a@example.org")
    make_member("Lecteur", at=CLICHY, email="l@example.org")
    make_member("Tiers", at=CLICHY, email="t@example.org")
    news_id = _news(author).id
    auth.login("l@example.org")
    for method, path in (
        ("get", f"/news/{news_id}/edit"),
        ("post", f"/news/{news_id}/edit"),
        ("get", f"/news/{news_id}/delete"),
        ("post", f"/news/{news_id}/delete"),
    ):
        assert getattr(client, method)(path).status_code == 403, path
    client.post(f"/news/{news_id}/comments", data={"body": "Premier"})
    client.post(f"/news/{news_id}/comments", data={"body": "Second"})
    first, second = db.session.scalars(select(NewsComment.id).order_by(NewsComment.id)).all()
    auth.logout()
    auth.login("t@example.org")
    assert "Retirer ce commentaire" not in client.get(f"/news/{news_id}").get_data(as_text=True)
    assert client.post(f"/news/comments/{first}/delete").status_code == 403
    auth.logout()
    auth.login("l@example.org")
    assert client.post(f"/news/comments/{first}/delete").status_code == 302  # my own
    auth.logout()
    auth.login("a@example.org")
    assert client.post(f"/news/comments/{second}/delete").status_code == 302  # on my news
    assert _count(NewsComment) == 0
    r = client.post(
        f"/news/{news_id}/edit",
        data={"kind": "info", "title": "Eau : c'est réparé", "body": "Fini.", "scope": "radius"},
    )
    assert r.status_code == 302
    assert "c&#39;est réparé" in client.get(f"/news/{news_id}").get_data(as_text=True)
    r = client.post(f"/news/{news_id}/edit", data={"kind": "info", "title": "", "body": "Fini."})
    assert r.status_code == 422
    assert client.get(f"/news/{news_id}/delete").status_code == 200  # asks first
    assert _count(NewsPost) == 1
    assert client.post(f"/news/{news_id}/delete").status_code == 302
    assert client.get(f"/news/{news_id}").status_code == 404


def test_outsiders_get_404_and_csrf_is_checked(make_app, make_member):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        author = make_member("Autrice", at=DAMES_LEMERCIER)
        make_member("Loin", at=FAR_AWAY, email="loin@example.org")
        news_id = _news(author).id
        note = NewsComment(news_id=news_id, author_id=author.id, body="Bonjour")
        db.session.add(note)
        db.session.commit()
        note_id = note.id
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', login)
    r = client.post(
        "/login",
        data={
            "email": "loin@example.org",
            "password": "lampe tempête 42 cerises",
            "csrf_token": token.group(1),
        },
    )
    assert r.status_code == 302
    assert client.get(f"/news/{news_id}").status_code == 404
    assert client.get("/news/2147483647").status_code == 404
    assert client.get("/news/2147483648").status_code == 404
    # Without its token a POST is refused before anything happens.
    assert client.post(f"/news/{news_id}/comments", data={"body": "Hop"}).status_code == 400
    page = client.get("/news/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post(f"/news/{news_id}/comments", data={"body": "Hop", "csrf_token": token})
    assert r.status_code == 404
    r = client.post(f"/news/comments/{note_id}/delete", data={"csrf_token": token})
    assert r.status_code == 404
    with app.app_context():
        assert _count(NewsComment) == 1
