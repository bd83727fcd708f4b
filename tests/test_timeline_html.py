"""The "Fil du voisinage" page: every type mixed newest first, filters, keyset pages
without duplicates, pinned alerts, a constant number of SQL statements, and `/`."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event as sa_event

from peuplade import geo
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.models import Member, Post
from peuplade.photos import services as photos
from peuplade.timeline import queries as timelines
from tests import photofiles
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.helpers.pages import text_of
from tests.test_news_events import _event, _news, _place
from tests.test_privacy import _other_homes_leaked

CARD_LINK = re.compile(r'<h3><a href="(/(?:exchanges|objects|news|events)/\d+)">')


def _one_of_each(author, place, n: int) -> list[str]:
    """News, event, exchange, object (in that order); returns their page paths."""
    made = [
        f"/news/{_news(author, title=f'Info {n}').id}",
        f"/events/{_event(author, place, title=f'Sortie {n}').id}",
    ]
    offer = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(kind="offer", title=f"Offre {n}", body="Texte", category="cuisine"),
    )
    made.append(f"/exchanges/{offer.id}")
    item = loans.offer_item(
        author, loans.ItemInput(title=f"Perceuse {n}", description="", category="autre")
    )
    made.append(f"/objects/{item.id}")
    db.session.commit()
    return made


def _links(html: str) -> list[str]:
    return CARD_LINK.findall(html)


@contextmanager
def _statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)


def test_every_type_newest_first_with_labels_filters_and_home(client, auth, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    make_member("Lecteur", at=CLICHY, email="l@example.org")
    made = _one_of_each(author, _place(), 1)
    assert client.get("/").status_code == 200  # visitors get the welcome page
    auth.login("l@example.org")
    page = client.get("/timeline").get_data(as_text=True)
    assert _links(page) == list(reversed(made))
    for label in ("Objet à prêter", "Échange : offre", "Sortie", ">Info<", "Autrice"):
        assert label in page, label
    assert "Fil du voisinage" in client.get("/").get_data(as_text=True)
    assert _links(client.get("/").get_data(as_text=True)) == list(reversed(made))
    assert "Autrice" in client.get("/neighbours").get_data(as_text=True)  # still there
    only = client.get("/timeline?type=news&type=event").get_data(as_text=True)
    assert _links(only) == [made[1], made[0]]
    assert _links(client.get("/timeline?type=item").get_data(as_text=True)) == [made[3]]
    assert _links(client.get("/timeline?type=rien").get_data(as_text=True)) == list(reversed(made))
    assert _other_homes_leaked(page, [author]) == []
    r = client.get("/timeline?cursor=forged")
    assert r.status_code == 400 and "n'est plus valable" in r.get_data(as_text=True).replace(
        "&#39;", "'"
    )


def test_pages_have_no_duplicates_and_alerts_are_pinned(client, auth, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    make_member("Lecteur", at=CLICHY, email="l@example.org")
    place = _place()
    made = []
    for n in range(7):  # 28 posts: two pages of 20
        made += _one_of_each(author, place, n)
    auth.login("l@example.org")
    seen, path = [], "/timeline"
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += _links(html)
        more = re.search(r'rel="next" href="([^"]+)"', html)
        path = more.group(1).replace("&amp;", "&") if more else None
    assert seen == list(reversed(made))
    alert = _news(author, kind="alerte", title="Fuite de gaz")
    html = client.get("/timeline").get_data(as_text=True)
    assert _links(html)[0] == f"/news/{alert.id}" and _links(html).count(f"/news/{alert.id}") == 1
    assert "Alertes des dernières 48 heures" in html
    # A compact strip above the feed: the alert's title and who wrote it, no card.
    strip = re.search(r'<section class="alert-strip".*?</section>', html, re.S).group(0)
    assert _links(strip) == [f"/news/{alert.id}"] and "Par Autrice" in strip
    assert 'class="card' not in strip
    # Filtered to objects only: no pinned alert.
    assert "Fuite de gaz" not in client.get("/timeline?type=item").get_data(as_text=True)
    far = make_member("Loin", at=FAR_AWAY, email="loin@example.org")
    auth.logout()
    auth.login("loin@example.org")
    assert _links(client.get("/timeline").get_data(as_text=True)) == []
    assert far.id


def test_the_page_runs_the_same_statements_whatever_its_size(client, auth, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    make_member("Lecteur", at=CLICHY, email="l@example.org")
    place = _place()
    _news(author, kind="alerte", title="Alerte")
    _one_of_each(author, place, 0)
    auth.login("l@example.org")
    with _statements() as few:
        html = client.get("/timeline").get_data(as_text=True)
    assert len(_links(html)) == 5
    for n in range(1, 5):
        _one_of_each(author, place, n)
    with _statements() as many:
        html = client.get("/timeline").get_data(as_text=True)
    assert len(_links(html)) == 21  # the pinned alert, then a full page
    assert len(many) == len(few), (few, many)
    assert len(few) <= 8, few


def test_the_first_page_and_its_pinned_alerts_are_one_statement(
    client, auth, make_member, make_quartier
):
    """The first page reads its posts and the pinned alerts in one statement
    (``timeline.queries.first_page``), with the same rows as the two read apart, a
    quartier's alert among them; the next page reads the walk alone."""
    make_quartier("batignolles", around=DAMES_LEMERCIER, half=0.02)
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    reader = make_member("Lecteur", at=CLICHY, email="l@example.org")
    place = _place()
    for n in range(6):
        _one_of_each(author, place, n)
    _news(author, kind="alerte", title="Alerte")
    _news(author, kind="alerte", scope="quartier", title="Alerte du quartier")
    reader = db.session.get(Member, reader.id)
    alerts, page = timelines.split_pinned(
        timelines.first_page(reader, limit=21).run(db.session.execute).all(), 21
    )
    shown = page.items
    apart = timelines.as_cards(timelines.cards(reader, limit=21).run(db.session.execute).all())
    assert [c.id for c in shown] == [c.id for c in apart] and len(shown) == 21
    assert [c.id for c in alerts] == [c.id for c in timelines.alert_cards(reader)]
    assert [c.title for c in alerts] == ["Alerte du quartier", "Alerte"]
    auth.login("l@example.org")
    with _statements() as first:
        html = client.get("/timeline").get_data(as_text=True)
    walks = [s for s in first if "posts" in s and "member_sessions" not in s]
    assert len(walks) == 1 and "central" in walks[0] and "is_alert" in walks[0], walks
    assert _links(html)[:2] == [f"/news/{a.id}" for a in alerts]
    more = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    with _statements() as second:
        client.get(more)
    walks = [s for s in second if "posts" in s and "member_sessions" not in s]
    assert len(walks) == 1 and "is_alert" not in walks[0], walks


def _chips(html: str) -> list[tuple[str, str, bool]]:
    """The filter chips: (text, link, chosen)."""
    found = re.search(r'<ul class="chips".*?</ul>', html, re.S)
    assert found, "no chips"
    return [
        (text_of(text), href.replace("&amp;", "&"), current == ' aria-current="true"')
        for href, current, text in re.findall(
            r'<a class="chip" href="([^"]*)"\s*((?: aria-current="true")?)>(.*?)</a>',
            found.group(0),
            re.S,
        )
    ]


def test_the_feed_starts_at_once_filters_are_chips(client, auth, make_member):
    """On a phone the posts come first: no intro paragraph nor board link above them, the
    kinds of post as chips (one tap each), "Publier" in the navigation."""
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    make_member("Lecteur", at=CLICHY, email="l@example.org")
    made = _one_of_each(author, _place(), 1)
    auth.login("l@example.org")
    html = client.get("/").get_data(as_text=True)
    assert _chips(html) == [
        ("Tout", "/timeline", True),
        ("Échanges", "/timeline?type=exchange", False),
        ("Objets", "/timeline?type=item", False),
        ("Infos", "/timeline?type=news", False),
        ("Sorties", "/timeline?type=event", False),
    ]
    main = html.split('<main id="contenu"', 1)[1]
    assert '<form method="get"' not in main and 'type="checkbox"' not in main
    assert "/board" not in main  # on the "Plus" page now
    assert main.index('class="chips"') < main.index(f'href="{made[-1]}"')
    assert 'href="/publish"' in html
    only = client.get("/timeline?type=item").get_data(as_text=True)
    assert [c[2] for c in _chips(only)] == [False, False, True, False, False]
    assert _links(only) == [made[3]]
    both = client.get("/timeline?type=news&type=event").get_data(as_text=True)
    assert [c[2] for c in _chips(both)] == [False, False, False, True, True]
    # Nothing near: the empty feed leads to the chooser.
    auth.logout()
    make_member("Loin", at=FAR_AWAY, email="loin@example.org")
    auth.login("loin@example.org")
    empty = client.get("/").get_data(as_text=True).split('<main id="contenu"', 1)[1]
    assert "Rien de neuf près de chez vous" in empty and 'href="/publish"' in empty


def test_cards_are_the_timeline_posts_read_as_plain_rows(app, make_member, make_quartier):
    """The page reads its cards as plain rows (``timeline.queries.cards``): for every
    type, a quartier news, a request for someone else, an outing at a place and photos,
    each card says what the post object says."""
    make_quartier("batignolles", around=DAMES_LEMERCIER, half=0.02)
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    reader = make_member("Lecteur", at=CLICHY)
    place = _place()
    for n in range(2):
        _one_of_each(author, place, n)
    _news(author, scope="quartier", title="Fête du quartier")
    _news(author, kind="alerte", title="Alerte")
    behalf = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title="Courses", body="Pour elle", category="courses",
            on_behalf_of="Mme Dupont", behalf_consent=True,
        ),
    )  # fmt: skip
    photos.add_photo(behalf, photofiles.jpeg_bytes((800, 600)), "Le cabas", author)
    photos.add_photo(behalf, photofiles.jpeg_bytes((600, 800)), "La liste", author)
    db.session.commit()

    objects = timelines.timeline(reader, limit=50).run(db.session.scalars).all()
    cards = timelines.as_cards(timelines.cards(reader, limit=50).run(db.session.execute).all())
    assert [c.id for c in cards] == [p.id for p in objects]
    assert {c.type for c in cards} == {"exchange", "item", "news", "event"}
    assert any(c.quartier_id for c in cards) and any(c.on_behalf_of for c in cards)
    for card, post in zip(cards, objects, strict=True):
        assert (
            card.type, card.kind, card.title, card.created_at, card.author_id,
            card.quartier_id, geo.point_of(card.position), card.place_name,
            card.on_behalf_of, card.starts_at,
        ) == (
            post.type, getattr(post, "kind", None), post.title, post.created_at,
            post.author_id, post.quartier_id, geo.point_of(post.position), post.place_name,
            getattr(post, "on_behalf_of", None), getattr(post, "starts_at", None),
        )  # fmt: skip
        author_of = (post.author.id, post.author.display_name, post.author.avatar_key)
        assert (card.author.id, card.author.display_name, card.author.avatar_key) == author_of
        assert [p.id for p in card.photos] == [p.id for p in post.photos]
    assert [len(c.photos) for c in cards if c.id == behalf.id] == [2]
    alerts = timelines.alert_cards(reader)
    assert [(c.type, c.kind, c.title) for c in alerts] == [("news", "alerte", "Alerte")]


def test_the_page_loads_no_post_object(client, auth, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    make_member("Lecteur", at=CLICHY, email="l@example.org")
    _news(author, kind="alerte", title="Alerte")
    _one_of_each(author, _place(), 0)
    auth.login("l@example.org")
    loaded = []

    def on_load(target, _context):
        loaded.append(target)

    sa_event.listen(Post, "load", on_load, propagate=True)
    try:
        html = client.get("/timeline").get_data(as_text=True)
    finally:
        sa_event.remove(Post, "load", on_load)
    assert len(_links(html)) == 5  # the pinned alert, then every post
    assert loaded == []


def test_kept_cards_are_the_cards_rendered_again(app, client, auth, make_member):
    """A card rendered by an earlier page is kept by everything it shows
    (peuplade.fragments), and so is the members' navigation: the page made from kept
    fragments is the page rendered afresh, and a changed title, author's name or
    language is a new card at once, never a stale one."""
    from peuplade import fragments
    from peuplade.account import services as accounts

    author = make_member("Autrice", at=DAMES_LEMERCIER)
    make_member("Lecteur", at=CLICHY, email="l@example.org")
    place = _place()
    paths = _one_of_each(author, place, 0)
    auth.login("l@example.org")
    client.get("/timeline")  # the greeting after login is shown once
    kept = fragments.store()
    kept._kept.clear()
    first = client.get("/timeline").get_data(as_text=True)

    def cards_kept() -> int:  # the members' navigation is kept too (base.html)
        return sum(1 for key in kept._kept if key[0] != "member_nav")

    assert cards_kept() == len(paths) == 4 and len(kept) == 5  # one per card, the nav
    again = client.get("/timeline").get_data(as_text=True)
    assert cards_kept() == 4 and len(kept) == 5
    kept.size, size = 0, kept.size  # the same page, every card rendered afresh
    try:
        fresh = client.get("/timeline").get_data(as_text=True)
    finally:
        kept.size = size
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", again) == strip.sub("", fresh) == strip.sub("", first)

    offer_id = int(paths[2].rsplit("/", 1)[1])
    offer = db.session.get(exchanges.Exchange, offer_id)
    exchanges.update_exchange(offer, author, exchanges.ExchangeInput(title="Offre changée"))
    accounts.update_profile(author, display_name="Autrice Renommée")
    db.session.commit()
    html = client.get("/timeline").get_data(as_text=True)
    assert "Offre changée" in html and "Offre 0" not in html
    assert html.count("Par Autrice Renommée") == 4 and "Par Autrice ·" not in html
    client.post("/lang/en")
    english = client.get("/timeline").get_data(as_text=True)
    assert english.count("By Autrice Renommée") == 4 and "Par " not in english
