"""In a real browser, on a phone: a meeting point found by typing a few letters (the
combobox of static/js/place-picker.js), a venue of one's own placed on the map, and a
reach chosen by its meaning; the counter of a long text only near its limit."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from peuplade.extensions import db
from peuplade.models import Event, Exchange
from tests.e2e.conftest import DEMO_EMAIL, DEMO_PASSWORD, PHONE, log_in


def test_a_meeting_point_found_by_typing_and_a_reach_by_its_meaning(live_server, new_context):
    live_server.seed_demo()
    page = new_context("fr", viewport=PHONE).new_page()
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(live_server.url + "/exchanges/new")

    # The long list is hidden; a search box takes its place.
    assert not page.locator("select#location").is_visible()
    search = page.get_by_role("combobox", name="Cherchez un lieu public")
    search.fill("square des batig")
    options = page.get_by_role("listbox").get_by_role("option")
    # The answer to what was typed (the nearest were offered on focus, before typing).
    expect(options.first).to_contain_text("Square des Batignolles")
    search.press("ArrowDown")
    search.press("Enter")  # chooses, does not send the form
    assert "/exchanges/new" in page.url
    assert search.input_value() == "Square des Batignolles"
    chosen = page.locator("select#location").input_value()
    assert chosen.isdigit()

    page.get_by_label("Titre").fill("Porter un canapé")
    page.get_by_label("Description", exact=True).fill("Samedi matin, deuxième étage.")
    page.get_by_label("Catégorie").select_option("demenagement")
    page.get_by_text("5 min à pied · ~400 m").click()  # the whole choice is the target
    page.get_by_role("main").get_by_role("button", name="Publier").click()
    page.wait_for_load_state()
    assert "/exchanges/new" not in page.url, page.inner_text("main")[:1000]
    with live_server.app.app_context():
        exchange = db.session.scalars(select(Exchange).order_by(Exchange.id.desc())).first()
        assert (exchange.place_name, exchange.reach_m) == ("Square des Batignolles", 400)


def test_an_outing_at_a_venue_placed_on_the_map(live_server, new_context):
    live_server.seed_demo()
    page = new_context("fr", viewport=PHONE).new_page()
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(live_server.url + "/events/new")
    # No place chosen yet: the box is empty, "Choisissez un lieu" is only its placeholder.
    search = page.get_by_role("combobox", name="Cherchez un lieu public")
    assert search.input_value() == ""

    page.get_by_label("Titre").fill("Café tricot")
    page.get_by_label("Description", exact=True).fill("On tricote ensemble.")
    page.get_by_label("Jour", exact=True).fill((date.today() + timedelta(days=5)).isoformat())
    page.get_by_label("Heure de début").fill("15:00")
    page.get_by_label("Le nom du lieu, avec vos mots").fill("Café Le Bon Coin")
    page.get_by_text("Placer le lieu sur la carte").click()  # folded on a phone
    map_box = page.locator("#place-group .home-picker__map")
    map_box.scroll_into_view_if_needed()
    # Zoomed out twice, a corner of the map is some 2 km from the public position it
    # opens at: far enough from home (more than 250 m), near enough (less than 5 km).
    zoom_out = page.locator("#place-group .leaflet-control-zoom-out")
    still = "() => !document.querySelector('#place-group .leaflet-zoom-anim')"
    for _step in range(2):
        zoom_out.click()
        page.wait_for_function(still)  # Leaflet's zoom animation is over
    # In the middle of the screen: the phone's navigation bar covers its bottom edge.
    map_box.evaluate("e => e.scrollIntoView({block: 'center'})")
    box = map_box.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.8)
    assert page.locator("#place-lat").input_value() != ""
    assert (
        "Lieu placé sur la carte" in page.locator("#place-group .home-picker__status").inner_text()
    )
    page.get_by_role("main").get_by_role("button", name="Annoncer la sortie").click()
    page.wait_for_load_state()
    assert "/events/new" not in page.url, page.inner_text("main")[:1000]
    assert "Café Le Bon Coin" in page.inner_text("main")
    with live_server.app.app_context():
        event = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert event.place_name == "Café Le Bon Coin"


def test_the_counter_shows_only_near_the_limit(live_server, new_context):
    live_server.seed_demo()
    page = new_context("fr", viewport=PHONE).new_page()
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(live_server.url + "/news/new")
    body = page.get_by_label("Texte", exact=True)
    counter = page.locator("#body-counter")
    limit = int(counter.get_attribute("data-limit"))
    body.fill("Bonjour à tous.")
    assert not counter.is_visible()
    body.fill("x" * (limit - 10))
    assert counter.is_visible() and counter.inner_text() == "Encore 10 lettres possibles."
    assert "body-counter" in body.get_attribute("aria-describedby")
