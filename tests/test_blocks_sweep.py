"""A block hides both ways, everywhere: a sweep driven by the URL map.

Two neighbours, Quetzalia and Zomborgine, live near each other, know the same things
and have published one of everything (requests, offers, an object, news for their
radius and for the whole quartier, an outing), commented on each other's news and on a
third neighbour's (Claire), answered Claire's outing, and Quetzalia and Claire have
thanked each other. Then Quetzalia blocks Zomborgine. Every GET route of the app (pages
and /api/v1, with every id in use, list pages with ``?skill=`` and ``?tag=``, the public
Atom feed) is then read as each of them, and neither name may appear in what the other
is shown: no list, count, page, feed or notification.

Before the block they also wrote to each other (a conversation, read by neither to the
end), Zomborgine answered Quetzalia's request and Quetzalia went to his outing (each is
notified of the other), and both answered two of Claire's requests, one of which
Quetzalia helped with (Claire closed it "done" with her). After the block, every count
either is shown (responses, people going, thanks, unread messages and notifications)
must equal the count computed without the other: the sweep reads the numbers in the
API's documents and on the HTML cards and profiles and compares them with the database.

Documented exceptions, by design:
- Quetzalia's own list of the members she blocked (``/account/blocks``,
  ``GET /api/v1/blocks``) names Zomborgine: that is what the list is for;
- Quetzalia may still open Zomborgine's profile (``/profile/<id>``,
  ``GET /api/v1/members/<id>``), where she unblocks him, and the report form about him.
Zomborgine opening Quetzalia's profile gets the 404 of a member who is not in his
neighbourhood.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

from sqlalchemy import func, select

from peuplade import geo
from peuplade.account import services as account
from peuplade.account.tokens import new_token
from peuplade.events import services as events
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.messages import services as messages
from peuplade.models import (
    Conversation,
    Exchange,
    ExchangeResponse,
    Member,
    NewsComment,
    NewsPost,
    Notification,
    Place,
    Post,
    Rsvp,
    Thanks,
    utcnow,
)
from peuplade.moderation import services as moderation
from peuplade.news import services as news
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.helpers.mail import mail_settings
from tests.helpers.quartiers import add_quartier
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
        location=LocationInput(lat=at[0], lon=at[1]),
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
                location=LocationInput(place_id=place.id),
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
    quartier = add_quartier()
    place = Place(
        name="Square", source_ref="test:square", position=geo.to_element(geo.lat_lon(*CLICHY))
    )
    db.session.add(place)
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
    # Before the block, the two meet: a conversation (each has a message unread)...
    talk = messages.start(b, a, "Bonjour, un message Bravo")
    messages.write(talk, a, "Bonjour, un message Alpha")
    # ... he answers her request (she is notified), she goes to his outing (he is).
    asked = _request(a, "Besoin Alpha")
    exchanges.respond(asked, b, "Je peux aider")
    exchanges.respond(asked, c, "Moi aussi")
    events.rsvp(mine[b.id]["event"], a, True)
    events.rsvp(mine[b.id]["event"], c, True)
    # Both answer two of Claire's requests: one stays open, she helped with the other.
    for title in ("Aide Charlie", "Coup de main Charlie"):
        claire_asks = _request(c, title)
        exchanges.respond(claire_asks, a, "Avec plaisir")
        exchanges.respond(claire_asks, b, "Volontiers")
    exchanges.close_exchange(claire_asks, c, "done", a.id)
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
    ids |= set(db.session.scalars(select(Conversation.id)))
    return sorted(ids | set(db.session.scalars(select(Member.id))))


def _readable(response) -> str:
    """A response as text; a ZIP (the data export: its JSON and photos) as the text of
    every file in it."""
    if response.mimetype != "application/zip":
        return response.get_data(as_text=True)
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8" if name.endswith(".json") else "latin-1")
            for name in archive.namelist()
        )


def _bodies(app, member, quartier, ids: list[int], other) -> dict[str, tuple[int, str]]:
    """What ``member`` is answered on every GET route of the URL map. The unread counts
    come first (opening /notifications reads what it shows), under ``unread:``."""
    client = app.test_client()
    _login(client, member.email)
    token = new_token(member)[0]
    db.session.commit()
    api = {"Authorization": f"Bearer {token}"}
    seen: dict[str, tuple[int, str]] = {}
    for path in ("/api/v1/conversations/unread", "/api/v1/notifications"):
        response = client.get(path, headers=api)
        seen[f"unread:{path}"] = (response.status_code, response.get_data(as_text=True))
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
            seen[path] = (response.status_code, _readable(response))
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


# --- counts --------------------------------------------------------------------------


def _count(stmt) -> int:
    return db.session.scalar(stmt) or 0


def _responses_without(exchange_id: int, other) -> tuple[int, int]:
    """(all responses, those not by ``other``) to an exchange."""
    stmt = select(func.count()).where(ExchangeResponse.exchange_id == exchange_id)
    return _count(stmt), _count(stmt.where(ExchangeResponse.author_id != other.id))


def _going_without(event_id: int, other) -> tuple[int, int]:
    stmt = select(func.count()).where(Rsvp.event_id == event_id, Rsvp.going)
    return _count(stmt), _count(stmt.where(Rsvp.member_id != other.id))


def _thanks_without(member_id: int, other) -> tuple[int, int]:
    stmt = select(func.count()).where(Thanks.to_member_id == member_id)
    if member_id == other.id:
        return _count(stmt), 0
    return _count(stmt), _count(stmt.where(Thanks.from_member_id != other.id))


def _documents(seen: dict[str, tuple[int, str]]):
    """Every JSON object in the API's answers (nested ones too)."""
    stack = []
    for path, (status, body) in seen.items():
        # The GDPR export is my data as stored (counts included), not a page of the app.
        if path.startswith("/api/v1/me/export"):
            continue
        if path.startswith("/api/") and status == 200 and body.lstrip().startswith("{"):
            stack.append((path, json.loads(body)))
    while stack:
        path, node = stack.pop()
        if isinstance(node, list):
            stack.extend((path, n) for n in node)
        elif isinstance(node, dict):
            yield path, node
            stack.extend((path, n) for n in node.values())


CARD = re.compile(r'href="/exchanges/(\d+)".*?class="card__responses">(\d+) ', re.S)
THANKS = re.compile(r'id="thanks-title">(\d+) remerciement')


def _miscounts(seen: dict[str, tuple[int, str]], other) -> tuple[list[str], int]:
    """The numbers shown that differ from the counts without ``other``; and how many
    shown numbers the block changed (the check had something to catch)."""
    wrong, changed = [], 0

    def check(where: str, shown: int, counts: tuple[int, int]) -> None:
        nonlocal changed
        everyone, without = counts
        changed += everyone != without
        if shown != without:
            wrong.append(f"{where}: {shown} shown, {without} without the other")

    for path, doc in _documents(seen):
        if not isinstance(doc.get("id"), int):
            continue  # not a post (the OpenAPI document names these fields too)
        if isinstance(doc.get("responses_count"), int):
            check(
                f"exchange {doc['id']}",
                doc["responses_count"],
                _responses_without(doc["id"], other),
            )
        if isinstance(doc.get("going_count"), int):
            check(f"{path} event {doc['id']}", doc["going_count"], _going_without(doc["id"], other))
    for path, (status, body) in seen.items():
        if path.startswith("/api/") or status != 200:
            continue
        for chunk in body.split('<li class="card')[1:]:
            found = CARD.search(chunk.split("</li>")[0])
            if found:
                ident, shown = int(found[1]), int(found[2])
                check(f"{path} card {ident}", shown, _responses_without(ident, other))
        thanks = THANKS.search(body)
        if thanks and path.startswith("/profile/"):
            ident = int(path.split("/")[2].split("?")[0])
            check(f"{path} thanks", int(thanks[1]), _thanks_without(ident, other))
    return wrong, changed


def _unread_without(member, other) -> dict[str, tuple[int, int]]:
    """(all, not from ``other``) unread notifications and messages of ``member``."""
    stmt = select(func.count()).where(
        Notification.member_id == member.id, Notification.read_at.is_(None)
    )
    return {
        "notifications": (
            _count(stmt),
            _count(
                stmt.where((Notification.actor_id.is_(None)) | (Notification.actor_id != other.id))
            ),
        ),
    }


def _check_counts(seen, member, other, unread_before) -> None:
    wrong, changed = _miscounts(seen, other)
    assert wrong == []
    assert changed >= 3, changed  # responses, going and thanks were all put to the test
    everyone, without = unread_before["notifications"]
    assert everyone > without  # the other had notified this member before the block
    shown = json.loads(seen["unread:/api/v1/notifications"][1])["unread"]
    assert shown == without
    # Their only conversation was with the other (and had an unread message): gone.
    assert json.loads(seen["unread:/api/v1/conversations/unread"][1])["unread"] == 0


def test_a_blocked_pair_never_sees_each_other(app):
    a, b, c, quartier = _world()
    ids = _ids()
    talk = db.session.scalar(select(Conversation.id))
    unread_a, unread_b = _unread_without(a, b), _unread_without(b, a)

    as_b = _bodies(app, b, quartier, ids, a)
    # The sweep saw the neighbourhood (a leak would have had a chance to show).
    assert "Claire" in as_b["/neighbours"][1] and "Demande Charlie" in as_b["/timeline"][1]
    assert "Commentaire Bravo" in as_b[f"/news/{_news_of(c)}"][1]
    assert len(as_b) > 150
    assert _leaks(as_b, A_NAME, set()) == []
    assert as_b[f"/profile/{a.id}"][0] == 404 and as_b[f"/api/v1/members/{a.id}"][0] == 404
    # The conversation is gone for both: not listed, not counted, a 404 opened directly.
    assert as_b[f"/messages/{talk}"][0] == 404
    assert as_b[f"/api/v1/conversations/{talk}/messages"][0] == 404
    assert json.loads(as_b["/api/v1/conversations"][1])["items"] == []
    _check_counts(as_b, b, a, unread_b)

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
    assert as_a[f"/messages/{talk}"][0] == 404
    assert json.loads(as_a["/api/v1/conversations"][1])["items"] == []
    _check_counts(as_a, a, b, unread_a)
    # Claire's request Quetzalia helped with: "un voisin" to him, her name to Claire.
    helped = db.session.scalar(select(Exchange.id).where(Exchange.title == "Coup de main Charlie"))
    assert "avec l'aide d'un voisin" in as_b[f"/exchanges/{helped}"][1].replace("&#39;", "'")
    assert json.loads(as_b[f"/api/v1/exchanges/{helped}"][1])["helper"] is None
    claire = app.test_client()
    _login(claire, c.email)
    page = claire.get(f"/exchanges/{helped}").get_data(as_text=True)
    assert f"avec l'aide de {A_NAME}" in page.replace("&#39;", "'")

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


def test_no_email_nor_digest_tells_of_the_other_after_a_block(make_app, smtp):
    """Notifications made before the block are not emailed after it, one by one or in
    the digest; they are kept, and unblocking lists them again."""
    from peuplade.notifications import mail
    from peuplade.notifications import queries as notification_queries

    app = make_app(**mail_settings(smtp))
    with app.app_context():
        a = _member(A_NAME, BATIGNOLLES)
        b = _member(B_NAME, DAMES_LEMERCIER)
        c = _member("Claire", CLICHY)
        db.session.commit()
        asked = _request(a, "Besoin Alpha")  # Zomborgine and Claire: in their digest
        exchanges.respond(asked, b, "Je peux aider")  # Quetzalia: an email of its own
        db.session.commit()
        moderation.block(a, b.id)
        db.session.commit()
        assert mail.deliver().sent == 0
        result = app.test_cli_runner().invoke(args=["send-digests"])
        assert result.exit_code == 0
        assert [m["To"] for m in smtp.messages] == [f"Claire <{c.email}>"]  # only hers
        assert notification_queries.unread_count(a) == 0
        assert notification_queries.unread_count(b) == 0
        moderation.unblock(a, b.id)
        db.session.commit()
        assert notification_queries.unread_count(a) == 1
        assert notification_queries.unread_count(b) == 1
