"""Two neighbours in a real browser, in French and in English: they register through the
registration page (one by address, one by clicking their home on the map), A asks for a
hand, B finds the request on the map and on the timeline and answers, A closes it naming
B as the helper. Map tiles are unreachable throughout: markers and list must still work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer, tr

ADDRESS_A = "3 rue des Dames, 75017 Paris"  # in the offline gazetteer (data/gazetteer.json)


def register(page: Page, server: LiveServer, lang: str, name: str, email: str, address=None):
    page.goto(server.url + "/register")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "S'inscrire"))
    page.get_by_label(tr(lang, "Adresse e-mail"), exact=True).fill(email)
    page.get_by_label(tr(lang, "Votre nom"), exact=True).fill(name)
    page.get_by_label(tr(lang, "Mot de passe"), exact=True).fill(PASSWORD)
    page.get_by_label(tr(lang, "Mot de passe, encore une fois"), exact=True).fill(PASSWORD)
    if address:
        page.get_by_label(tr(lang, "Adresse"), exact=True).fill(address)
    else:
        # The home picker: a click on the map places the home (tiles or not).
        picker = page.get_by_label(tr(lang, "Carte pour placer votre domicile"))
        expect(picker).to_be_visible()
        box = picker.bounding_box()
        picker.click(position={"x": box["width"] / 2 + 20, "y": box["height"] / 2 + 10})
        expect(
            page.get_by_text(
                tr(lang, "Point placé sur la carte. C'est lui qui sera utilisé, pas l'adresse.")
            )
        ).to_be_visible()
        assert page.locator("#home-lat").input_value()
    page.get_by_label(tr(lang, "Bricolage")).check()
    page.get_by_role("button", name=tr(lang, "Créer mon compte")).click()
    expect(page.locator(".flash--success")).to_have_text(
        tr(
            lang,
            "Bienvenue %(name)s ! Voici les voisins qui habitent près de chez vous.",
            name=name,
        )
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_two_neighbours_help_each_other(live_server, new_context, lang):
    server = live_server
    title = {"fr": "Porter un canapé samedi", "en": "Carry a sofa on Saturday"}[lang]
    a = new_context(lang).new_page()
    b = new_context(lang).new_page()

    register(a, server, lang, "Alice", f"alice-{lang}@example.org", address=ADDRESS_A)
    register(b, server, lang, "Bruno", f"bruno-{lang}@example.org")

    # A asks for a hand, from the "Publier" button of the header.
    a.get_by_role("navigation").get_by_role("link", name=tr(lang, "Publier"), exact=True).click()
    expect(a.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Publier une demande ou une offre")
    )
    expect(a.get_by_label(tr(lang, "Une demande : j'ai besoin d'un coup de main"))).to_be_checked()
    a.get_by_label(tr(lang, "Titre"), exact=True).fill(title)
    a.get_by_label(tr(lang, "Description"), exact=True).fill(
        "Du 3e au rez-de-chaussée, 10 minutes."
    )
    a.get_by_label(tr(lang, "Catégorie"), exact=True).select_option(label=tr(lang, "Déménagement"))
    a.get_by_role("main").get_by_role("button", name=tr(lang, "Publier")).click()
    expect(a.get_by_role("heading", level=1)).to_have_text(title)
    expect(a.locator(".flash--success")).to_have_text(
        tr(
            lang,
            "Votre demande est publiée. Personne près de chez vous n'a encore indiqué "
            "ce savoir-faire, mais tous vos voisins peuvent la voir.",
        )
    )
    exchange_url = a.url

    # B sees it on the map: a marker (tiles unreachable, said so) and the list beside it.
    b.get_by_role("navigation").get_by_role("link", name=tr(lang, "Carte"), exact=True).click()
    expect(b.get_by_role("heading", level=1)).to_have_text(tr(lang, "Carte du voisinage"))
    the_map = b.get_by_role("region", name=tr(lang, "Carte des annonces du voisinage"))
    expect(the_map).to_be_visible()
    marker_name = tr(lang, "%(type)s : %(title)s", type=tr(lang, "Échange : demande"), title=title)
    expect(the_map.get_by_role("button", name=marker_name)).to_be_visible()
    expect(
        b.get_by_text(
            tr(
                lang,
                "Fond de carte indisponible : les annonces restent affichées sur la carte "
                "et dans la liste.",
            )
        )
    ).to_be_visible()
    the_list = b.get_by_role("region", name=tr(lang, "Liste des annonces"))
    expect(the_list.get_by_role("link", name=title)).to_be_visible()
    # The marker's popup leads to the request too, from the keyboard (a mouse click at
    # coordinates could land beside the marker while the map still settles).
    marker = the_map.get_by_role("button", name=marker_name)
    marker.focus()
    marker.press("Enter")
    expect(b.locator(".leaflet-popup").get_by_role("link", name=title)).to_be_visible()

    # ... and on the timeline.
    b.get_by_role("navigation").get_by_role("link", name=tr(lang, "Fil"), exact=True).click()
    b.get_by_role("main").get_by_role("link", name=title).first.click()
    expect(b.get_by_role("heading", level=1)).to_have_text(title)
    assert b.url == exchange_url

    # B answers.
    answer = tr(lang, "Je peux vous aider")
    b.get_by_label(tr(lang, "Votre message")).fill("J'arrive à 10 h avec un diable.")
    b.get_by_role("button", name=answer).click()
    expect(b.get_by_role("heading", name=tr(lang, "Votre réponse"))).to_be_visible()

    # A closes it, naming B as the helper.
    a.goto(exchange_url)
    expect(a.get_by_role("heading", name=tr(lang, "Réponses"))).to_be_visible()
    expect(a.get_by_role("main").get_by_role("link", name="Bruno")).to_be_visible()
    close = a.get_by_role("form", name=tr(lang, "Clore l'annonce"))
    close.get_by_label(tr(lang, "C'est fait")).check()
    close.get_by_label(tr(lang, "Qui vous a aidé ?")).select_option(label="Bruno")
    close.get_by_role("button", name=tr(lang, "Clore l'annonce")).click()
    expect(a.locator(".status")).to_have_text(
        tr(lang, "Fait, avec l'aide de %(name)s", name="Bruno")
    )

    # B sees the request closed.
    b.reload()
    expect(b.locator(".status")).to_have_text(
        tr(lang, "Fait, avec l'aide de %(name)s", name="Bruno")
    )


def test_language_switcher(live_server, new_context):
    page = new_context("fr").new_page()
    page.goto(live_server.url + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    switcher = page.get_by_role("group", name="Langue")
    expect(switcher.get_by_role("button", name="Français")).to_have_attribute(
        "aria-pressed", "true"
    )
    switcher.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("en", "Se connecter"))
    switcher = page.get_by_role("group", name=tr("en", "Langue"))
    expect(switcher.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    # Remembered for the next pages of this browser, whatever Accept-Language says.
    page.goto(live_server.url + "/register")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("en", "S'inscrire"))
    switcher.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("S'inscrire")


def test_the_navigation_folds_behind_a_menu_button_on_a_phone(live_server, new_context):
    page = new_context("fr", viewport=PHONE).new_page()
    page.goto(live_server.url + "/login")
    nav = page.get_by_role("navigation", name="Navigation principale")
    menu = page.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="S'inscrire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("S'inscrire")
    # On a wide screen there is no button: the navigation is simply there.
    page.set_viewport_size(DESKTOP)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(nav).to_be_visible()
