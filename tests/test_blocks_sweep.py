"""A block hides both ways, everywhere: a sweep driven by the URL map.

Two neighbours, Quetzalia and Zomborgine, live near each other, know the same things
and have published one of everything (requests, offers, an object, news for their
radius and for the whole quartier, an outing), commented on each other's news and on a
third neighbour's (Claire), answered Claire's outing, and Quetzalia and Claire have
thanked each other. Then Quetzalia blocks Zomborgine. Every GET route of the app (pages
and /api/v1, with every id in use, list pages with ``?skill=`` and ``?tag=``, the public
Atom feed) is then read as each of them, and neither name may appear in what the other
is shown: no list, count, page, feed or notification.

Documented exceptions, by design:
- Quetzalia's own list of the members she blocked (``/account/blocks``,
  ``GET /api/v1/blocks``) names Zomborgine: that is what the list is for;
- Quetzalia may still open Zomborgine's profile (``/profile/<id>``,
  ``GET /api/v1/members/<id>``), where she unblocks him, and the report form about him.
Zomborgine opening Quetzalia's profile gets the 404 of a member who is not in his
neighbourhood.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from peuplade import geo
from peuplade.account import services as account
from peuplade.events import services as events
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.models import (
    Member,
    NewsComment,
    NewsPost,
    Notification,
    Place,
    Post,
    Quartier,
    utcnow,
)
from peuplade.moderation import services as moderation
from peuplade.news import services as news
from peuplade.posts.services import PostLocation
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.test_security_sweeps import _paths

A_NAME, B_NAME = "Quetzalia", "Zomborgine"  # found nowhere else in the app's text
# What each member's posts and comments are titled with (never a name: the public feed
# shows every quartier news to anyone, so a name in a title would be there by design).
MARKERS = {A_NAME: "Alpha", B_NAME: "Bravo", "Claire": "Charlie"}
SKILL, TAG = "bricolage", "velo"


def _member(name: str, at: tuple[float, float]):
    return account.register_member(
        email=f"{name.lower()}@example.org",
        password=PASSWORD,
        display_name=name,
        location=account.LocationInput(lat=at[0], lon=at[1]),
        radius_m=2000,
        skills=[SKILL],
        tags=[TAG],
        bio=f"Bonjour, je suis {name}.",
    )


def _publish(member, place: Place) -> dict[str, object]:
    """One post of every type, by ``member``."""
    name = MARKERS[member.display_name]
    made = {
        "offer": exchanges.create_exchange(
            member,
            exchanges.ExchangeInput(
                kind="offer", title=f"Offre {name}", body="Volontiers", category=SKILL
            ),
        ),
        "item": loans.offer_item(member, loans.ItemInput(title=f"Perceuse {name}", category=SKILL)),
        "news": news.post_news(member, news.NewsInput(title=f"Info {name}", body="Texte")),
        "quartier news": news.post_news(
            member, news.NewsInput(title=f"Quartier {name}", body="Texte", scope="quartier")
        ),
        "event": events.create_event(
            member,
            events.EventInput(
                title=f"Sortie {name}",
                body="Texte",
                starts_at=utcnow() + timedelta(days=3),
                location=PostLocation(place_id=place.id),
            ),
        ),
    }
    db.session.flush()
    return made


def _request(member, title: str):
    request = exchanges.create_exchange(
        member,
        exchanges.ExchangeInput(kind="request", title=title, body="Svp", category=SKILL),
    )
    db.session.commit()
    return request


def _world():
    quartier = Quartier(
        slug="batignolles",
        name="Batignolles",
        geom=geo.geometry_from_wkt(
            "MULTIPOLYGON(((2.30 48.87, 2.34 48.87, 2.34 48.90, 2.30 48.90, 2.30 48.87)))"
        ),
    )
    place = Place(
        name="Square", source_ref="test:square", position=geo.to_element(geo.lat_lon(*CLICHY))
    )
    db.session.add_all([quartier, place])
    db.session.flush()
    a = _member(A_NAME, BATIGNOLLES)
    b = _member(B_NAME, DAMES_LEMERCIER)
    c = _member("Claire", CLICHY)
    db.session.commit()
    assert a.quartier_id == b.quartier_id == quartier.id
    mine = {m.id: _publish(m, place) for m in (a, b, c)}
    # Comments on each other's news and on Claire's; both go to Claire's outing.
    for author, other in ((a, b), (b, a)):
        said = f"Commentaire {MARKERS[author.display_name]}"
        news.comment(mine[other.id]["news"], author, said)
        news.comment(mine[c.id]["news"], author, said)
        events.rsvp(mine[c.id]["event"], author, True)
    # Quetzalia and Claire helped each other and said thank you (on Claire's profile).
    offer = mine[a.id]["offer"]
    exchanges.respond(offer, c, "Je veux bien")
    exchanges.close_exchange(offer, a, "done", c.id)
    exchanges.thank(offer, a, "Merci Charlie")
    exchanges.thank(offer, c, "Merci à toi")
    db.session.commit()
    moderation.block(a, b.id)
    db.session.commit()
    # Requests after the block: the notifications they make are the block's business.
    for m in (a, b, c):
        _request(m, f"Demande {MARKERS[m.display_name]}")
    return a, b, c, quartier


def _login(client, email: str) -> None:
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _ids() -> list[int]:
    ids = set(db.session.scalars(select(Post.id))) | set(db.session.scalars(select(NewsComment.id)))
    return sorted(ids | set(db.session.scalars(select(Member.id))))


def _bodies(app, member, quartier, ids: list[int], other) -> dict[str, tuple[int, str]]:
    """What ``member`` is answered on every GET route of the URL map."""
    client = app.test_client()
    _login(client, member.email)
    token = account.issue_token(member)
    db.session.commit()
    api = {"Authorization": f"Bearer {token}"}
    seen: dict[str, tuple[int, str]] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.endpoint == "feeds.quartier_atom":
            paths = [f"/feeds/{quartier.slug}.atom"]
        elif not rule.arguments:
            paths = [rule.rule]
            paths += [
                f"{rule.rule}?skill={SKILL}",
                f"{rule.rule}?skill={TAG}",
                f"{rule.rule}?tag={TAG}",
            ]
        else:
            paths = _paths(rule, ids)  # token routes are left out: they take no id
        for path in paths:
            response = client.get(path, headers=api if path.startswith("/api/") else {})
            assert response.status_code < 500, path
            seen[path] = (response.status_code, response.get_data(as_text=True))
    for path in (
        f"/messages/new?to={other.id}",
        f"/moderation/report?type=member&id={other.id}",
        "/api/v1/notifications",
    ):
        response = client.get(path, headers=api if path.startswith("/api/") else {})
        seen[path] = (response.status_code, response.get_data(as_text=True))
    return seen


def _leaks(seen: dict[str, tuple[int, str]], name: str, allowed: set[str]) -> list[str]:
    return sorted(
        path
        for path, (_status, body) in seen.items()
        if name in body and path not in allowed and path.split("?")[0] not in allowed
    )


def test_a_blocked_pair_never_sees_each_other(app):
    a, b, c, quartier = _world()
    ids = _ids()

    as_b = _bodies(app, b, quartier, ids, a)
    # The sweep saw the neighbourhood (a leak would have had a chance to show).
    assert "Claire" in as_b["/neighbours"][1] and "Demande Charlie" in as_b["/timeline"][1]
    assert "Commentaire Bravo" in as_b[f"/news/{_news_of(c)}"][1]
    assert len(as_b) > 150
    assert _leaks(as_b, A_NAME, set()) == []
    assert as_b[f"/profile/{a.id}"][0] == 404 and as_b[f"/api/v1/members/{a.id}"][0] == 404

    as_a = _bodies(app, a, quartier, ids, b)
    assert "Claire" in as_a["/neighbours"][1] and "Demande Charlie" in as_a["/timeline"][1]
    allowed = {
        "/account/blocks",
        "/api/v1/blocks",
        f"/profile/{b.id}",
        f"/api/v1/members/{b.id}",
        f"/moderation/report?type=member&id={b.id}",
    }
    assert _leaks(as_a, B_NAME, allowed) == []
    assert B_NAME in as_a["/account/blocks"][1]  # the exception is real

    # The public feed (no login) names nobody at all.
    visitor = app.test_client()
    feed = visitor.get(f"/feeds/{quartier.slug}.atom").get_data(as_text=True)
    assert all(f"Quartier {m}" in feed for m in MARKERS.values()) and "Batignolles" in feed
    assert not any(name in feed for name in MARKERS)


def _news_of(member) -> int:
    return db.session.scalar(
        select(NewsPost.id).where(NewsPost.author_id == member.id, NewsPost.quartier_id.is_(None))
    )


def test_the_blocker_is_neither_counted_nor_told_of_the_blocked_members_request(app):
    a, b, c, _quartier = _world()
    db.session.query(Notification).delete()
    db.session.commit()
    request = _request(b, "Monter une armoire")
    told = set(db.session.scalars(select(Notification.member_id)))
    assert told == {c.id}  # Claire knows how too; Quetzalia, who blocked him, is not told
    know_how = [
        m.id for m, _r in db.session.execute(exchange_queries.neighbours_who_know_how(request))
    ]
    assert know_how == [c.id] and exchange_queries.know_how_count(request) == 1
    # And the other way round.
    db.session.query(Notification).delete()
    db.session.commit()
    mine = _request(a, "Porter un canapé")
    assert set(db.session.scalars(select(Notification.member_id))) == {c.id}
    assert exchange_queries.know_how_count(mine) == 1
