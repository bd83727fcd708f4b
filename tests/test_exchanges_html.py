"""The exchange pages: posting, the list near me, one exchange, answering, closing,
thanking, editing, deleting, "Pour vous" - as a member sees them (both backends)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peuplade import geo
from peuplade.exchanges import services
from peuplade.extensions import db
from peuplade.localtime import today
from peuplade.models import Exchange, ExchangeResponse, Place, Thanks
from peuplade.posts import queries as posts
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.helpers.browsers import as_member
from tests.helpers.pages import more_link, text_of
from tests.test_exchanges_scoping import offset
from tests.test_privacy import _other_homes_leaked


def cards(page: str) -> list[dict]:
    """The listed exchanges, in page order: id, title and the card's text."""
    found = []
    for kind, body in re.findall(r'<li class="card card--(\w+)">(.*?)</li>', page, re.S):
        link = re.search(r'href="/exchanges/(\d+)">([^<]*)</a>', body)
        found.append(
            {
                "id": int(link.group(1)),
                "kind": kind,
                "title": html.unescape(link.group(2)),
                "text": text_of(body),
            }
        )
    return found


def exchanges_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Exchange))


FORM = {
    "kind": "request",
    "title": "Porter un canapé",
    "body": "Samedi matin, deuxième étage sans ascenseur.",
    "category": "demenagement",
    "starts_on": "",
    "ends_on": "",
    "location": "",
    "reach_m": "",
}


def post_exchange(browser, **changes):
    return browser.post("/exchanges/new", data={**FORM, **changes})


def created_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.fullmatch(r"/exchanges/(\d+)", response.headers["Location"]).group(1))


def quick(author, **changes) -> Exchange:
    """An exchange written straight through the service (for setting the scene)."""
    data = {k: v for k, v in FORM.items() if k in ("kind", "title", "body", "category")}
    data.update(changes)
    exchange = services.create_exchange(author, services.ExchangeInput(**data))
    db.session.commit()
    return exchange


@pytest.fixture
def street(make_member):
    far = offset(geo.lat_lon(*BATIGNOLLES), 3000)
    return {
        "author": make_member("Autrice", at=BATIGNOLLES, email="autrice@example.org"),
        "alice": make_member("Alice", at=CLICHY, skills=["demenagement"]),
        "bruno": make_member("Bruno", at=DAMES_LEMERCIER, skills=["jardinage"]),
        "far": make_member("Lointain", at=far, radius_m=1000, skills=["demenagement"]),
    }


# --- posting --------------------------------------------------------------------------


def test_a_request_posted_with_the_form_reaches_neighbours_but_not_3_km_away(app, street):
    author = as_member(app, street["author"])
    assert "Près de chez moi (position approximative)" in author.get("/exchanges/new").get_data(
        as_text=True
    )
    exchange_id = created_id(post_exchange(author))
    exchange = db.session.get(Exchange, exchange_id)
    assert exchange.place_name is None and exchange.reach_m == 1000

    page = as_member(app, street["alice"]).get("/exchanges").get_data(as_text=True)
    listed = cards(page)
    assert [c["title"] for c in listed] == ["Porter un canapé"]
    band = posts.distance_band(street["alice"], exchange)
    assert band in listed[0]["text"]
    assert "Demande" in listed[0]["text"] and "Déménagement" in listed[0]["text"]
    assert "Par Autrice" in listed[0]["text"] and "0 réponse" in listed[0]["text"]
    assert "0 réponses" not in listed[0]["text"]  # French plural rule: 0 takes the singular

    far = as_member(app, street["far"])
    assert cards(far.get("/exchanges").get_data(as_text=True)) == []
    assert far.get(f"/exchanges/{exchange_id}").status_code == 404


def test_posting_at_a_public_place(app, street):
    square = offset(geo.lat_lon(*BATIGNOLLES), 150)
    place = Place(
        name="Square des Batignolles",
        source_ref="test:sq",
        position=geo.to_element(geo.lat_lon(*square)),
    )
    db.session.add(place)
    db.session.commit()
    author = as_member(app, street["author"])
    form = author.get("/exchanges/new").get_data(as_text=True)
    assert f'<option value="{place.id}">Square des Batignolles</option>' in form
    exchange_id = created_id(post_exchange(author, location=str(place.id), reach_m="800"))
    exchange = db.session.get(Exchange, exchange_id)
    assert (exchange.place_name, exchange.reach_m) == ("Square des Batignolles", 800)
    assert geo.from_element(exchange.position) == geo.lat_lon(*square)
    page = as_member(app, street["alice"]).get(f"/exchanges/{exchange_id}").get_data(as_text=True)
    assert "Square des Batignolles" in text_of(page)


def test_a_date_typed_by_hand_is_understood(app, street):
    """Browsers without a date picker send what the member typed: 5/3/2027 is 5 March."""
    day = today() + timedelta(days=20)
    author = as_member(app, street["author"])
    exchange_id = created_id(post_exchange(author, starts_on=f"{day.day}/{day.month}/{day.year}"))
    assert db.session.get(Exchange, exchange_id).starts_on == day
    page = author.get(f"/exchanges/{exchange_id}").get_data(as_text=True)
    assert "Le " + str(day.day) in text_of(page)


def _yesterday() -> str:
    return (today() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "Titre : Écrivez au moins 3 caractères."),
        ({"body": "x" * 10_000}, "4000 caractères au plus."),
        ({"category": "astrologie"}, "Choisissez une catégorie de la liste."),
        ({"kind": "troc"}, "Choisissez « demande » ou « offre »."),
        ({"starts_on": "yesterday"}, "Cette date est passée."),
        ({"starts_on": "demain"}, "Écrivez une date comme 31/12/2025"),
        ({"starts_on": "+30", "ends_on": "+10"}, "La fin doit venir après le début."),
        ({"reach_m": "50"}, "La portée doit être un nombre de mètres entre 200 et 5000."),
        ({"location": "987654"}, "Ce lieu n'existe pas."),
    ],
)
def test_bad_input_keeps_what_was_typed_and_writes_nothing(app, street, changes, message):
    days = {"yesterday": _yesterday()}
    for key, value in list(changes.items()):
        if value in days:
            changes[key] = days[value]
        elif value.startswith("+"):
            changes[key] = (today() + timedelta(days=int(value[1:]))).isoformat()
    author = as_member(app, street["author"])
    typed = {"title": "Arroser mes plantes", "body": "Du 1er au 15 août, deux fois par semaine."}
    r = post_exchange(author, **{**typed, **changes})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert message in text_of(page)
    assert "Il y a un problème" in page
    for name, value in typed.items():  # what was typed comes back, unless it was the error
        if name not in changes:
            assert html.escape(value, quote=False) in page or html.escape(value) in page
    assert exchanges_count() == 0


def test_every_bad_field_is_reported_at_once(app, street):
    author = as_member(app, street["author"])
    r = post_exchange(author, title="", category="", starts_on="31/02", reach_m="abc")
    text = text_of(r.get_data(as_text=True))
    assert r.status_code == 422
    for message in ("Écrivez au moins 3", "Choisissez une catégorie", "Écrivez une date"):
        assert message in text
    assert "La portée doit être" in text
    assert exchanges_count() == 0


def test_the_flash_counts_the_neighbours_who_know_how(app, make_member, street):
    make_member("Chloé", at=DAMES_LEMERCIER, skills=["demenagement", "cuisine"])
    author = as_member(app, street["author"])
    r = post_exchange(author)
    page = author.get(r.headers["Location"]).get_data(as_text=True)
    # Alice and Chloé know how; Bruno does not, "Lointain" is out of reach.
    assert "2 voisins savent faire ça près de chez vous" in text_of(page)
    assert re.search(r'href="/profile/\d+">Alice</a>', page)
    assert "Lointain" not in page and "Bruno" not in page

    r = post_exchange(author, title="Monter une étagère", category="jardinage")
    page = author.get(r.headers["Location"]).get_data(as_text=True)
    assert "1 voisin sait faire ça près de chez vous" in text_of(page)


def test_a_form_without_csrf_token_is_refused(make_app, make_member):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        email = make_member("Autrice", at=BATIGNOLLES).email
    browser = app.test_client()
    login = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    browser.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    r = browser.post("/exchanges/new", data=FORM)
    assert r.status_code == 400
    form = browser.get("/exchanges/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    assert browser.post("/exchanges/new", data={**FORM, "csrf_token": token}).status_code == 302
    with app.app_context():
        assert exchanges_count() == 1


# --- lists ------------------------------------------------------------------------------


def test_search_and_filters(app, street):
    a = street["author"]
    quick(a, title="Porter un canapé")
    quick(a, title="Cours de guitare", kind="offer", category="cours", body="Le mercredi.")
    quick(a, title="Tailler la haie", category="jardinage", body="Un sécateur serait utile.")
    alice = as_member(app, street["alice"])

    def titles(query: str) -> set[str]:
        r = alice.get("/exchanges" + query)
        assert r.status_code == 200
        return {c["title"] for c in cards(r.get_data(as_text=True))}

    assert titles("") == {"Porter un canapé", "Cours de guitare", "Tailler la haie"}
    assert titles("?kind=offer") == {"Cours de guitare"}
    assert titles("?kind=request") == {"Porter un canapé", "Tailler la haie"}
    assert titles("?category=jardinage") == {"Tailler la haie"}
    assert titles("?q=guitare") == {"Cours de guitare"}
    assert titles("?q=sécateur") == {"Tailler la haie"}  # the description counts too
    assert titles("?q=canapé&kind=offer") == set()
    assert titles("?kind=nimporte&category=inconnue") == titles("")  # unknown filters: all
    empty = alice.get("/exchanges?q=piano").get_data(as_text=True)
    assert "Aucune annonce ouverte ne correspond à votre recherche." in text_of(empty)


def test_an_empty_neighbourhood_says_what_to_do(app, street):
    page = as_member(app, street["alice"]).get("/exchanges").get_data(as_text=True)
    assert "Pas encore d'annonce ouverte" in text_of(page)
    assert 'href="/exchanges/new"' in page


def test_pagination_walks_25_exchanges_without_duplicates(app, street):
    made = [quick(street["author"], title=f"Annonce numéro {n}").id for n in range(25)]
    alice = as_member(app, street["alice"])
    seen: list[int] = []
    url = "/exchanges"
    pages = 0
    while url:
        page = alice.get(url).get_data(as_text=True)
        seen += [c["id"] for c in cards(page)]
        url = more_link(page)
        pages += 1
    assert pages == 2
    assert seen == sorted(made, reverse=True)  # newest first, each once


def test_a_bad_cursor_is_a_clear_message(app, street):
    quick(street["author"])
    r = as_member(app, street["alice"]).get("/exchanges?cursor=forged.cursor")
    assert r.status_code == 400
    text = text_of(r.get_data(as_text=True))
    assert "Ce lien « Voir plus » n'est plus valable" in text
    assert "Porter un canapé" in text  # the list from the start


def test_for_you_lists_requests_in_my_skills_only(app, street):
    request = quick(street["author"])
    quick(street["author"], title="Je déménage des meubles", kind="offer")
    alice = as_member(app, street["alice"]).get("/for-you").get_data(as_text=True)
    assert [c["id"] for c in cards(alice)] == [request.id]
    assert "Des demandes près de chez vous dans vos savoir-faire" in text_of(alice)
    bruno = as_member(app, street["bruno"]).get("/for-you").get_data(as_text=True)
    assert cards(bruno) == []
    assert "Aucune demande dans vos savoir-faire" in text_of(bruno)


def test_mine_lists_my_exchanges_with_their_status(app, street):
    open_one = quick(street["author"], title="Encore ouverte")
    closed = quick(street["author"], title="Déjà faite")
    services.close_exchange(closed, street["author"], "cancelled")
    db.session.commit()
    quick(street["alice"], title="Pas à moi")
    page = as_member(app, street["author"]).get("/exchanges/mine").get_data(as_text=True)
    listed = {c["id"]: c["text"] for c in cards(page)}
    assert set(listed) == {open_one.id, closed.id}
    assert "Ouvert" in listed[open_one.id] and "Annulé" in listed[closed.id]


# --- one exchange: who may do what ---------------------------------------------------


def test_outsiders_get_404_and_non_authors_403(app, street):
    exchange = quick(street["author"])
    base = f"/exchanges/{exchange.id}"
    far = as_member(app, street["far"])
    assert far.get(base).status_code == 404
    assert far.post(base + "/responses", data={"message": "Moi !"}).status_code == 404
    assert far.get(base + "/edit").status_code == 404
    alice = as_member(app, street["alice"])
    assert alice.get(base).status_code == 200
    assert alice.get(base + "/edit").status_code == 403
    assert alice.post(base + "/edit", data={**FORM, "title": "Volé"}).status_code == 403
    assert alice.get(base + "/delete").status_code == 403
    assert alice.post(base + "/delete").status_code == 403
    assert alice.post(base + "/close", data={"outcome": "cancelled"}).status_code == 403
    db.session.expire_all()
    kept = db.session.get(Exchange, exchange.id)
    assert (kept.title, kept.status) == ("Porter un canapé", "open")
    assert app.test_client().get(base).status_code == 302  # anonymous: to the login page
    assert far.get("/exchanges/2147483648").status_code == 404


def test_answering_once_not_twice_not_mine_not_after_closing(app, street):
    exchange = quick(street["author"])
    base = f"/exchanges/{exchange.id}"
    alice = as_member(app, street["alice"])
    assert "Je peux vous aider" in alice.get(base).get_data(as_text=True)
    r = alice.post(base + "/responses", data={"message": "J'ai un diable, je passe à 10 h."})
    assert r.status_code == 302
    page = text_of(alice.get(base).get_data(as_text=True))
    assert "Votre réponse" in page and "J'ai un diable, je passe à 10 h." in page

    again = alice.post(base + "/responses", data={"message": "Encore moi"})
    assert again.status_code == 409
    assert "Vous avez déjà répondu à cette annonce." in text_of(again.get_data(as_text=True))

    empty = as_member(app, street["bruno"]).post(base + "/responses", data={"message": "  "})
    assert empty.status_code == 422
    assert "Ce champ est obligatoire." in text_of(empty.get_data(as_text=True))

    author = as_member(app, street["author"])
    own = author.post(base + "/responses", data={"message": "Moi-même"})
    assert own.status_code == 403

    author.post(base + "/close", data={"outcome": "cancelled"})
    late = as_member(app, street["bruno"]).post(base + "/responses", data={"message": "Trop tard"})
    assert late.status_code == 409
    assert "Cet échange est clos." in text_of(late.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ExchangeResponse)) == 1


def test_an_offer_is_answered_with_ca_m_interesse(app, street):
    offer = quick(street["author"], kind="offer", title="Je prête ma voiture le samedi")
    page = as_member(app, street["alice"]).get(f"/exchanges/{offer.id}").get_data(as_text=True)
    assert "Ça m&#39;intéresse" in page or "Ça m'intéresse" in page
    assert "Je peux vous aider" not in page


def test_close_as_done_naming_a_helper_then_thank_each_other_once(app, street):
    exchange = quick(street["author"])
    base = f"/exchanges/{exchange.id}"
    alice = as_member(app, street["alice"])
    bruno = as_member(app, street["bruno"])
    alice.post(base + "/responses", data={"message": "Je peux samedi."})
    bruno.post(base + "/responses", data={"message": "Moi dimanche."})

    early = alice.post(base + "/thanks", data={"message": "Merci d'avance"})
    assert early.status_code == 409
    assert "On remercie une fois l'échange fait" in text_of(early.get_data(as_text=True))

    author = as_member(app, street["author"])
    page = text_of(author.get(base).get_data(as_text=True))
    assert "Je peux samedi." in page and "Moi dimanche." in page
    assert "Alice" in page and "Bruno" in page
    wrong = author.post(base + "/close", data={"outcome": "done", "helper_id": "999"})
    assert wrong.status_code == 422
    assert "Choisissez une personne qui a répondu" in text_of(wrong.get_data(as_text=True))
    done = author.post(
        base + "/close", data={"outcome": "done", "helper_id": str(street["alice"].id)}
    )
    assert done.status_code == 302
    twice = author.post(base + "/close", data={"outcome": "cancelled"})
    assert twice.status_code == 409

    # Responders see the outcome; a responder who did not help cannot thank.
    assert "Fait, avec l'aide de Alice" in text_of(bruno.get(base).get_data(as_text=True))
    assert bruno.post(base + "/thanks", data={"message": "Bravo"}).status_code == 403

    assert "Remercier Autrice" in text_of(alice.get(base).get_data(as_text=True))
    assert alice.post(base + "/thanks", data={"message": "Merci pour le café !"}).status_code == 302
    assert author.post(base + "/thanks", data={"message": "Merci Alice, super."}).status_code == 302
    again = alice.post(base + "/thanks", data={"message": "Encore merci"})
    assert again.status_code == 409
    assert "Vous avez déjà remercié" in text_of(again.get_data(as_text=True))
    page = text_of(alice.get(base).get_data(as_text=True))
    assert "Merci pour le café !" in page and "Merci Alice, super." in page
    assert "Remercier Autrice" not in page
    assert db.session.scalar(select(func.count()).select_from(Thanks)) == 2

    # What the public profile shows.
    shown = text_of(bruno.get(f"/profile/{street['alice'].id}").get_data(as_text=True))
    assert "1 remerciement" in shown and "Merci Alice, super." in shown and "Autrice" in shown


def test_the_author_edits_then_deletes(app, street):
    exchange = quick(street["author"])
    base = f"/exchanges/{exchange.id}"
    author = as_member(app, street["author"])
    form = author.get(base + "/edit").get_data(as_text=True)
    assert 'value="Porter un canapé"' in form
    bad = author.post(base + "/edit", data={**FORM, "location": "keep", "title": "x"})
    assert bad.status_code == 422
    assert "Écrivez au moins 3 caractères." in text_of(bad.get_data(as_text=True))
    r = author.post(
        base + "/edit",
        data={**FORM, "location": "keep", "title": "Porter un piano", "reach_m": "600"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    edited = db.session.get(Exchange, exchange.id)
    assert (edited.title, edited.reach_m) == ("Porter un piano", 600)

    confirm = author.get(base + "/delete")
    assert confirm.status_code == 200
    assert "Oui, supprimer" in confirm.get_data(as_text=True)
    assert db.session.get(Exchange, exchange.id) is not None  # GET changes nothing
    r = author.post(base + "/delete")
    assert r.status_code == 302 and r.headers["Location"] == "/exchanges/mine"
    db.session.expire_all()
    assert exchanges_count() == 0
    assert author.get(base).status_code == 404


def test_a_closed_exchange_cannot_be_edited(app, street):
    exchange = quick(street["author"])
    services.close_exchange(exchange, street["author"], "cancelled")
    db.session.commit()
    author = as_member(app, street["author"])
    r = author.get(f"/exchanges/{exchange.id}/edit")
    assert r.status_code == 409
    assert "Cet échange est clos." in text_of(r.get_data(as_text=True))
    r = author.post(f"/exchanges/{exchange.id}/edit", data={**FORM, "title": "Autre"})
    assert r.status_code == 409


def test_the_author_sees_matching_offers(app, street):
    request = quick(street["author"])
    offer = quick(street["alice"], kind="offer", title="J'ai une camionnette")
    quick(street["alice"], kind="offer", title="Je tricote", category="couture")
    page = as_member(app, street["author"]).get(f"/exchanges/{request.id}").get_data(as_text=True)
    assert f'href="/exchanges/{offer.id}">J&#39;ai une camionnette</a>' in page
    assert "Je tricote" not in page


# --- privacy ------------------------------------------------------------------------------


def test_no_exchange_page_shows_a_home(app, make_member):
    from tests.test_privacy import HOMES, VIEWER_HOME

    viewer = make_member("Viewer", at=VIEWER_HOME, radius_m=2000, skills=["demenagement"])
    others = [
        make_member(name, at=at, radius_m=2000, skills=["demenagement"])
        for name, at in HOMES.items()
    ]
    mine = quick(viewer, title="Ma demande")
    theirs = [quick(o, title=f"Demande de {o.display_name}") for o in others]
    services.respond(mine, others[0], "Je peux aider")
    db.session.commit()
    browser = as_member(app, viewer)
    paths = ["/exchanges", "/exchanges/mine", "/for-you", "/exchanges/new"]
    paths += [f"/exchanges/{e.id}" for e in (mine, *theirs)]
    paths += [f"/exchanges/{mine.id}/edit"]
    bodies = {p: browser.get(p).get_data(as_text=True) for p in paths}
    assert all("Demande de Chloé" in bodies[p] for p in ("/exchanges", "/for-you"))
    assert "Alice" in bodies[f"/exchanges/{mine.id}"]  # neighbours who know how are listed
    leaks = {p: _other_homes_leaked(body, others) for p, body in bodies.items()}
    assert {p: v for p, v in leaks.items() if v} == {}


def _statements_for(browser, path: str) -> int:
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert browser.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_longer_list_costs_no_more_queries(app, street):
    """Authors, bands and response counts come with the page, not one query per card."""
    alice = as_member(app, street["alice"])
    quick(street["author"], title="La première")
    few = _statements_for(alice, "/exchanges")
    for n in range(12):
        e = quick(street["bruno"] if n % 2 else street["author"], title=f"Annonce {n}")
        services.respond(e, street["alice"] if n % 2 == 0 else street["author"], "Oui")
    db.session.commit()
    assert _statements_for(alice, "/exchanges") == few


def test_the_exchange_pages_in_english(app, street):
    from tests.test_i18n import ENGLISH, assert_no_french

    exchange = quick(street["author"], starts_on=today() + timedelta(days=2))
    services.respond(exchange, street["alice"], "Je peux")
    db.session.commit()
    author = as_member(app, street["author"])
    for path in ("/exchanges", "/exchanges/mine", "/for-you", "/exchanges/new"):
        assert_no_french(text_of(author.get(path, headers=ENGLISH).get_data(as_text=True)))
    page = text_of(author.get(f"/exchanges/{exchange.id}", headers=ENGLISH).get_data(as_text=True))
    assert "Close the post" in page and "Neighbours who know how to do this" in page
    assert_no_french(page)
    alice = as_member(app, street["alice"])
    r = alice.post(
        f"/exchanges/{exchange.id}/responses", data={"message": "Encore"}, headers=ENGLISH
    )
    assert "You have already replied to this post." in text_of(r.get_data(as_text=True))


def test_the_flash_stops_counting_past_the_cap(app, make_member, street, monkeypatch):
    """Past ``KNOW_HOW_COUNTED`` the message says "plus de": the count stops there (a
    dense city has thousands who know how; the author does not wait for all of them)."""
    from peuplade.exchanges import routes

    make_member("Chloé", at=DAMES_LEMERCIER, skills=["demenagement"])
    monkeypatch.setattr(routes, "KNOW_HOW_COUNTED", 1)
    author = as_member(app, street["author"])
    r = post_exchange(author)
    page = text_of(author.get(r.headers["Location"]).get_data(as_text=True))
    assert "Plus de 1 voisins savent faire ça près de chez vous" in page
    monkeypatch.setattr(routes, "KNOW_HOW_COUNTED", 2)
    r = post_exchange(author, title="Porter une armoire")
    page = text_of(author.get(r.headers["Location"]).get_data(as_text=True))
    assert "2 voisins savent faire ça près de chez vous" in page and "Plus de" not in page


def test_the_offer_s_page_says_it_is_published_with_the_requests_it_shows(app, street):
    """Posting leads to the exchange's page, which says it is published with the counts
    it shows anyway: the POST itself neither counts the neighbours who know how nor
    looks for matching requests (no walk of members' skills or of exchanges). Said
    once: the page seen again does not repeat it."""
    from sqlalchemy import event as sa_event

    quick(street["alice"], kind="request", title="Déménager un piano")
    author = as_member(app, street["author"])
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        r = post_exchange(author, kind="offer", title="Je porte vos cartons")
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    looked_for = re.compile(r"member_skills|exchanges\.kind\s*=")
    assert not [s for s in seen if looked_for.search(s)], seen
    page = text_of(author.get(r.headers["Location"]).get_data(as_text=True))
    assert (
        "Votre offre est publiée. 1 demande ouverte près de chez vous pourrait vous "
        "concerner" in page
    )
    assert "Déménager un piano" in page
    again = text_of(author.get(r.headers["Location"]).get_data(as_text=True))
    assert "Votre offre est publiée" not in again and "Déménager un piano" in again
    # A request: the same, with the neighbours who know how.
    r = post_exchange(author, title="Porter une commode")
    page = text_of(author.get(r.headers["Location"]).get_data(as_text=True))
    assert "Votre demande est publiée. 1 voisin sait faire ça près de chez vous." in page
