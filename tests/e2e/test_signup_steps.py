"""Sign-up on a phone (375 × 667), in a real browser: three short steps shown one at a
time ("Suivant", "Retour", "Étape 2 sur 3"), each checked before the next, each about
a screen (the heights are printed); an address that is not found brings the page back
on its step with everything typed kept, passwords included; then "Premiers pas". axe
finds no serious or critical problem on any step nor on Premiers pas; screenshots of
each step go to PEUPLADE_E2E_ARTIFACTS. Without JavaScript the steps are one page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import artifacts_dir
from tests.e2e.test_accessibility import axe_violations

SMALL_PHONE = {"width": 375, "height": 667}
# "About one screen": the step itself (its title to its buttons), for 19 px text and
# inputs 3 rem high; the one-page form it replaces was 4,767 px (7 screens).
MOST_SCREENS = 1.75
UNKNOWN = "3 rue Imaginaire, 75017 Paris"
KNOWN = "3 rue des Dames, 75017 Paris"  # in the offline gazetteer (data/gazetteer.json)
EMAIL = "zoe@example.org"


def shown_step(page: Page) -> int:
    """The number of the one step shown (1, 2, 3)."""
    shown = page.evaluate(
        "() => [...document.querySelectorAll('[data-step]')]"
        ".map((s, i) => s.hidden ? 0 : i + 1).filter(Boolean)"
    )
    assert len(shown) == 1, f"steps shown: {shown}"
    return shown[0]


def step_height(page: Page) -> int:
    return page.evaluate(
        "() => Math.round([...document.querySelectorAll('[data-step]')]"
        ".find(s => !s.hidden).getBoundingClientRect().height)"
    )


def no_blocking_axe(page: Page, where: str) -> None:
    problems = axe_violations(page)
    assert not problems, f"{where}:\n" + "\n".join(problems)


def test_sign_up_in_three_steps_on_a_phone(live_server, new_context):
    page = new_context("fr", viewport=SMALL_PHONE).new_page()
    shots = artifacts_dir()
    heights: dict[int, int] = {}

    def at_step(number: int) -> None:
        assert shown_step(page) == number
        expect(
            page.locator(f"#step-{['who', 'home', 'skills'][number - 1]}-title")
        ).to_contain_text(f"Étape {number} sur 3")
        heights[number] = step_height(page)
        page.screenshot(path=shots / f"fr-sign-up-step-{number}-phone.png", full_page=True)
        no_blocking_axe(page, f"step {number}")

    page.goto(live_server.url + "/register")
    at_step(1)
    # Nothing typed: the step says what is missing, next to each field, and stays.
    page.get_by_role("button", name="Suivant").click()
    assert shown_step(page) == 1
    expect(page.locator("#display_name-error")).to_contain_text("Indiquez un nom")
    expect(page.locator("#password_confirm-error")).to_contain_text("deuxième fois")
    expect(page.locator("#display_name")).to_be_focused()
    expect(page.locator("#display_name")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Votre nom", exact=True).fill("Zoé")
    page.get_by_label("Adresse e-mail", exact=True).fill(EMAIL)
    page.get_by_label("Mot de passe", exact=True).fill("court")
    page.get_by_label("Mot de passe, encore une fois", exact=True).fill("court")
    page.get_by_role("button", name="Suivant").click()
    expect(page.locator("#password-error")).to_contain_text("au moins 12 caractères")
    expect(page.locator("#display_name-error")).to_have_count(0)  # corrected: gone
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Mot de passe, encore une fois", exact=True).fill(PASSWORD)
    page.get_by_label("Mot de passe, encore une fois", exact=True).press("Enter")  # = Suivant

    at_step(2)
    expect(page.locator("#step-home-title")).to_be_focused()
    page.get_by_role("button", name="Retour").click()
    assert shown_step(page) == 1
    expect(page.get_by_label("Votre nom", exact=True)).to_have_value("Zoé")
    page.get_by_role("button", name="Suivant").click()
    assert shown_step(page) == 2
    page.get_by_role("button", name="Suivant").click()  # no home yet
    expect(page.locator("#address-error")).to_contain_text("placez votre domicile sur la carte")
    page.get_by_label("Adresse", exact=True).fill(UNKNOWN)
    page.get_by_role("button", name="Suivant").click()

    at_step(3)
    page.get_by_label("Bricolage").check()
    page.get_by_label("Couture").check()
    page.get_by_text("Autres choses sur vous").click()
    page.get_by_label("Autres choses que vous savez faire ou aimez faire").fill("vélo, tricot")
    page.get_by_label("Quelques mots sur vous").fill("Retraitée, j'aime coudre.")
    page.get_by_role("button", name="Créer mon compte").click()

    # The address is not found: back on step 2, with its message, and nothing lost.
    page.wait_for_load_state()
    assert shown_step(page) == 2
    expect(page.locator("#address-error")).to_contain_text("Adresse introuvable")
    expect(page.locator(".error-summary")).to_be_visible()
    page.screenshot(path=shots / "fr-sign-up-address-not-found-phone.png", full_page=True)
    no_blocking_axe(page, "address not found")
    kept = {
        "#display_name": "Zoé",
        "#email": EMAIL,
        "#password": PASSWORD,
        "#password_confirm": PASSWORD,
        "#address": UNKNOWN,
        "#tags": "vélo, tricot",
        "#bio": "Retraitée, j'aime coudre.",
    }
    for selector, value in kept.items():
        assert page.locator(selector).input_value() == value, selector
    assert page.get_by_label("Bricolage").is_checked() and page.get_by_label("Couture").is_checked()

    page.get_by_label("Adresse", exact=True).fill(KNOWN)
    page.get_by_role("button", name="Suivant").click()
    assert shown_step(page) == 3
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre boîte mail")

    # Logging in from there opens "Premiers pas".
    page.get_by_role("main").get_by_role("link", name="Se connecter").click()
    page.get_by_label("Adresse e-mail", exact=True).fill(EMAIL)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Premiers pas")
    assert page.url.endswith("/account/first-steps")
    main = page.get_by_role("main")
    for title in (
        "Ajouter mon savoir-faire",
        "Ma première demande ou offre",
        "Imprimer l’affiche pour mon immeuble",
    ):
        expect(main.get_by_role("heading", level=2, name=title)).to_be_visible()
    expect(main).to_contain_text("Vous avez déjà indiqué : Bricolage, Couture.")
    page.screenshot(path=shots / "fr-first-steps-phone.png", full_page=True)
    no_blocking_axe(page, "Premiers pas")
    main.get_by_role("link", name="Passer, voir le fil").click()
    expect(page).to_have_url(re.compile(r"/$"))

    screen = SMALL_PHONE["height"]
    print(
        "\nsign-up steps at 375 x 667: "
        + ", ".join(f"step {n}: {h} px ({h / screen:.2f} screens)" for n, h in heights.items())
    )
    for number, height in heights.items():
        assert height <= MOST_SCREENS * screen, f"step {number} is {height} px high"


def test_without_javascript_the_steps_are_one_page(live_server, new_context):
    page = new_context("fr", viewport=SMALL_PHONE, java_script_enabled=False).new_page()
    page.goto(live_server.url + "/register")
    for title in ("Qui êtes-vous", "Où habitez-vous", "Que savez-vous faire"):
        expect(page.get_by_role("heading", level=2, name=re.compile(title))).to_be_visible()
    # "Suivant" and "Retour" are there for the script only.
    expect(page.locator("[data-step-next]")).to_have_count(2)
    expect(page.get_by_role("button", name="Suivant")).to_have_count(0)
    expect(page.get_by_role("button", name="Retour")).to_have_count(0)
    expect(page.get_by_role("button", name="Créer mon compte")).to_be_visible()
    # The map needs the script: its fold is not offered.
    expect(page.get_by_text("Ou placer mon domicile sur la carte")).to_be_hidden()
