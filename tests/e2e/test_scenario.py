"""Two neighbours in a real browser, in French and in English: they register through the
registration page (one by address, one by clicking their home on the map); A confirms
her address with the link e-mailed to her (a real SMTP server on loopback) and logs in,
B logs in at once (his account works unconfirmed: a banner asks him, gently); A asks
for a hand, B finds the request on the map and on the timeline and answers, A closes it
naming B as the helper. Map tiles are unreachable throughout: markers and list must
still work."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer, log_in, tr
from tests.smtp_server import SMTPInbox

ADDRESS_A = "3 rue des Dames, 75017 Paris"  # in the offline gazetteer (data/gazetteer.json)


@pytest.fixture
def live_server_config(smtp) -> dict:
    return {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 5.0,
        "PUBLIC_URL": "https://peuplade.example",
    }


def link_in_mail(smtp: SMTPInbox, email: str) -> str:
    """The path of the confirmation link e-mailed to ``email`` (sent after the response:
    waited for)."""
    deadline = time.monotonic() + 15
    while not smtp.to(email):
        assert time.monotonic() < deadline, f"no e-mail to {email}"
        time.sleep(0.1)
    body = smtp.to(email)[-1].get_body(("plain",)).get_content()
    found = re.search(r"https://peuplade\.example(/email/confirm/\S+)", body)
    assert found, body
    return found.group(1)


def confirm_address(page: Page, server: LiveServer, smtp: SMTPInbox, lang: str, email: str):
    page.goto(server.url + link_in_mail(smtp, email))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Confirmer mon adresse e-mail")
    )
    page.get_by_role("button", name=tr(lang, "Confirmer mon adresse")).click()
    expect(page.get_by_role("main")).to_contain_text(
        tr(lang, "Merci ! Votre adresse e-mail est confirmée.")
    )


def register(page: Page, server: LiveServer, lang: str, name: str, email: str, address=None):
    """Sign-up in its three steps (who, where, what one knows how to do)."""
    page.goto(server.url + "/register")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "S'inscrire"))
    page.get_by_label(tr(lang, "Votre nom"), exact=True).fill(name)
    page.get_by_label(tr(lang, "Adresse e-mail"), exact=True).fill(email)
    page.get_by_label(tr(lang, "Mot de passe"), exact=True).fill(PASSWORD)
    page.get_by_label(tr(lang, "Mot de passe, encore une fois"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=tr(lang, "Suivant")).click()
    if address:
        page.get_by_label(tr(lang, "Adresse"), exact=True).fill(address)
    else:
        # The home picker, unfolded: a click on the map places the home (tiles or not).
        page.get_by_text(tr(lang, "Ou placer mon domicile sur la carte")).click()
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
    page.get_by_role("button", name=tr(lang, "Suivant")).click()
    page.get_by_label(tr(lang, "Bricolage")).check()
    page.get_by_role("button", name=tr(lang, "Créer mon compte")).click()
    # Not logged in: the same answer whether the address had an account or not.
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "Vérifiez votre boîte mail"))
    expect(page.get_by_role("main")).to_contain_text(email)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_two_neighbours_help_each_other(live_server, new_context, smtp, lang):
    server = live_server
    title = {"fr": "Porter un canapé samedi", "en": "Carry a sofa on Saturday"}[lang]
    a = new_context(lang).new_page()
    b = new_context(lang).new_page()

    alice, bruno = f"alice-{lang}@example.org", f"bruno-{lang}@example.org"
    register(a, server, lang, "Alice", alice, address=ADDRESS_A)
    register(b, server, lang, "Bruno", bruno)
    # Alice confirms her address with the e-mailed link, then logs in: no banner.
    confirm_address(a, server, smtp, lang, alice)
    log_in(a, server, lang, alice)
    expect(a.locator("#confirm-email-banner")).to_have_count(0)
    # Bruno logs in without confirming: everything works, a banner asks him gently.
    log_in(b, server, lang, bruno)
    banner = b.locator("#confirm-email-banner")
    expect(banner).to_contain_text(
        tr(
            lang,
            "Confirmez votre adresse e-mail : ouvrez le lien que nous avons envoyé à "
            "%(email)s. Rien ne presse, votre compte fonctionne déjà.",
            email=bruno,
        )
    )
    expect(banner.get_by_role("button", name=tr(lang, "Renvoyer le lien"))).to_be_visible()

    # A asks for a hand, from the "Publier" entry of the navigation, then its chooser.
    a.get_by_role("navigation").get_by_role("link", name=tr(lang, "Publier"), exact=True).click()
    a.get_by_role("link", name=tr(lang, "Demander un coup de main"), exact=True).click()
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
    b.get_by_role("navigation").get_by_role("link", name=tr(lang, "Plus"), exact=True).click()
    b.get_by_role("main").get_by_role("link", name=tr(lang, "Carte"), exact=True).click()
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


def test_visitors_see_the_navigation_on_a_phone(live_server, new_context):
    page = new_context("fr", viewport=PHONE).new_page()
    page.goto(live_server.url + "/login")
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav).to_be_visible()  # nothing folded behind a "Menu" button
    expect(page.get_by_role("button", name="Menu")).to_have_count(0)
    nav.get_by_role("link", name="S'inscrire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("S'inscrire")
    page.set_viewport_size(DESKTOP)
    expect(nav).to_be_visible()
