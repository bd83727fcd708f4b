"""The map page: nearby posts only, at public positions only, the same posts in the JSON
block and in the HTML list, filters server-side, login required."""

from __future__ import annotations

import html
import json
import re

from peuplade import geo
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.models import Post
from tests.conftest import BATIGNOLLES, DAMES_LEMERCIER, FAR_AWAY
from tests.test_news_events import _event, _news, _place
from tests.test_privacy import HOMES, VIEWER_HOME, _other_homes_leaked
from tests.test_timeline_html import _one_of_each

DATA = re.compile(r"<div id=\"map-data\" hidden data-json='([^']*)'></div>")
LIST_LINK = re.compile(r'<h3><a href="(/(?:exchanges|objects|news|events)/\d+)">')


def _data(page: str) -> dict:
    (raw,) = DATA.findall(page)
    return json.loads(html.unescape(raw))


def _list_links(page: str) -> list[str]:
    (section,) = re.findall(r'<section class="map-list".*?</section>', page, re.S)
    return LIST_LINK.findall(section)


def _offer(author, title: str) -> Post:
    made = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(kind="offer", title=title, body="Texte", category="cuisine"),
    )
    db.session.commit()
    return made


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/map")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_nearby_posts_on_the_map_and_in_the_list_far_ones_not(client, auth, make_member):
    near = make_member("Voisine", at=DAMES_LEMERCIER)
    far = make_member("Lointain", at=FAR_AWAY)
    viewer = make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    made = _one_of_each(near, _place(), 1)
    _offer(far, "Loin d'ici")
    mine = _offer(viewer, "Ma propre offre")
    auth.login("moi@example.org")
    response = client.get("/map")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Carte du voisinage" in page
    # The map is on "Plus": that entry is marked (its section), not as the page itself.
    assert re.search(r'href="/more"\s+aria-current="true"', page)
    assert "Perceuse 1" in page and "Offre 1" in page and "Sortie 1" in page
    assert "Loin d&#39;ici" not in page and "Loin d'ici" not in page
    assert f"/exchanges/{mine.id}" not in page  # my own posts are in my lists, not here
    # The JSON block and the list hold the same posts, newest first.
    data = _data(page)
    assert [m["url"] for m in data["markers"]] == _list_links(page) == list(reversed(made))
    assert all(m["label"] == f"{m['type_label']} : {m['title']}" for m in data["markers"])
    labels = {m["type"]: m["type_label"] for m in data["markers"]}
    assert labels == {
        "exchange": "Échange : offre",
        "item": "Objet à prêter",
        "news": "Info",
        "event": "Sortie",
    }
    for marker in data["markers"]:
        assert marker["band"] and html.escape(marker["title"]) in page
        assert html.escape(marker["band"]) in page
    assert data["radius_m"] == viewer.radius_m
    # Scripts come from the site, deferred; the data is an attribute, never executed.
    assert 'src="/static/js/map.js" defer' in page
    assert "leaflet.markercluster/leaflet.markercluster.js" in page
    assert "<script>" not in page and " on" + "click=" not in page


def test_positions_are_public_positions_never_a_home(client, auth, make_member):
    # Homes that share no 4 decimals with each other (see tests/test_privacy.py).
    near = make_member("Voisine", at=HOMES["Alice"])
    other = make_member("Autre", at=HOMES["Bruno"])
    viewer = make_member("Moi", at=VIEWER_HOME, email="moi@example.org", radius_m=2000)
    _offer(near, "Offre de la voisine")
    _offer(other, "Offre de l'autre")
    _news(other, title="Info de l'autre")
    auth.login("moi@example.org")
    page = client.get("/map").get_data(as_text=True)
    data = _data(page)
    assert len(data["markers"]) == 3
    posts = {p.id: p for p in db.session.query(Post)}
    for marker in data["markers"]:
        post = posts[marker["id"]]
        public = geo.from_element(post.author.public_position)
        assert (marker["lat"], marker["lon"]) == (round(public.lat, 6), round(public.lon, 6))
    assert _other_homes_leaked(page, [near, other]) == []
    # My own home is there (the centre of my circle), for me alone.
    home = geo.from_element(viewer.home)
    assert data["home"] == {"lat": round(home.lat, 6), "lon": round(home.lon, 6)}
    auth.logout()
    auth.login(near.email)
    theirs = client.get("/map").get_data(as_text=True)
    assert _other_homes_leaked(theirs, [viewer, other]) == []


def test_filters_work_without_javascript(client, auth, make_member):
    near = make_member("Voisine", at=DAMES_LEMERCIER)
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    news = f"/news/{_news(near, title='Une info').id}"
    event = f"/events/{_event(near, _place(), title='Une sortie').id}"
    offer = f"/exchanges/{_offer(near, 'Une offre').id}"
    auth.login("moi@example.org")
    only = client.get("/map?type=news&type=event").get_data(as_text=True)
    assert _list_links(only) == [event, news]
    assert [m["url"] for m in _data(only)["markers"]] == [event, news]
    assert _data(only)["types"] == ["news", "event"]
    exchange_only = client.get("/map?type=exchange").get_data(as_text=True)
    assert _list_links(exchange_only) == [offer]
    # The chips are links: the chosen one is marked, "Tout" leads back to everything.
    assert re.search(r'href="/map\?type=exchange"\s+aria-current="true"', exchange_only)
    assert not re.search(r'href="/map"\s+aria-current="true"', exchange_only)
    everything_page = client.get("/map").get_data(as_text=True)
    assert re.search(r'href="/map"\s+aria-current="true"', everything_page)
    assert "Aucune annonce de ce type." in client.get("/map?type=item").get_data(as_text=True)
    everything = client.get("/map?type=nothing").get_data(as_text=True)
    assert _list_links(everything) == [offer, event, news]


def test_empty_map_and_english(client, auth, make_member):
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    auth.login("moi@example.org")
    page = client.get("/map").get_data(as_text=True)
    assert _data(page)["markers"] == [] and "Aucune annonce près de chez vous" in page
    english = client.get("/map", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Neighbourhood map" in english and "Carte du voisinage" not in english


def test_titles_with_quotes_and_tags_stay_data(client, auth, make_member):
    near = make_member("Voisine", at=DAMES_LEMERCIER)
    make_member("Moi", at=BATIGNOLLES, email="moi@example.org")
    title = "Il a dit 'oui' \"<b>&amp;</b>\" <script>alert(1)</script>"
    _offer(near, title)
    auth.login("moi@example.org")
    page = client.get("/map").get_data(as_text=True)
    assert [m["title"] for m in _data(page)["markers"]] == [title]
    assert "<script>alert" not in page and "<b>" not in page


def test_register_offers_my_current_location_in_both_languages(client):
    page = client.get("/register").get_data(as_text=True)
    assert 'class="button home-picker__locate" hidden' in page  # shown by the script
    assert "Utiliser ma position actuelle" in page and "data-locate-failed-text=" in page
    english = client.get("/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Use my current location" in english
