"""English as the second language: pages, flashes and API errors follow the visitor's
language, and the committed catalog covers every French message in the sources.

French is the source language (the msgids). After changing any user-facing text, run
``make translations`` and translate the new entries of translations/en/.../messages.po.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

from peuplade.account import services
from peuplade.config import ROOT
from peuplade.extensions import db
from tests.conftest import CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.helpers.pages import visible_text

TRANSLATIONS = ROOT / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
# The same keywords as `make translations` (pybabel extract -k _l -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]")
ENGLISH = {"Accept-Language": "en"}
FIX = "Run `make translations`, then translate the new entries in translations/en."


def en_catalog():
    with EN_PO.open("rb") as f:
        return read_po(f, locale="en")


def french_sentences() -> list[str]:
    """French msgids of several words without placeholders: none may show on an English page."""
    return [
        m.id
        for m in en_catalog()
        if m.id and isinstance(m.id, str) and " " in m.id and not PLACEHOLDER.search(m.id)
    ]


def assert_no_french(text: str) -> None:
    left = [s for s in french_sentences() if s in text]
    assert not left, f"French text on an English page: {left}"


# --- pages ---------------------------------------------------------------------------


def test_login_page_in_english(client):
    r = client.get("/login", headers=ENGLISH)
    page = r.get_data(as_text=True)
    text = visible_text(page)
    assert r.status_code == 200
    assert '<html lang="en">' in page
    for english in ("Log in", "Email address", "Password", "No account yet?", "Sign up"):
        assert english in text
    for french in ("Se connecter", "Mot de passe", "Pas encore de compte", "S'inscrire"):
        assert french not in text
    assert_no_french(text)


def test_login_page_in_french_by_default(client):
    for headers in ({}, {"Accept-Language": "fr-FR,fr;q=0.9"}, {"Accept-Language": "de"}):
        text = visible_text(client.get("/login", headers=headers).get_data(as_text=True))
        assert "Se connecter" in text and "Mot de passe" in text
        assert "Log in" not in text and "Password" not in text


def test_register_page_in_english(client):
    r = client.get("/register", headers=ENGLISH)
    text = visible_text(r.get_data(as_text=True))
    assert r.status_code == 200
    for english in (
        "Sign up",
        "Your name",
        "Password, once more",
        "Your home",
        "How far does your neighbourhood reach?",
        "What you can do",
        "Gardening",  # category labels are translated too
        "DIY and repairs",
        "(optional)",
        "Create my account",
        "Already signed up?",
    ):
        assert english in text, english
    for french in ("S'inscrire", "Votre domicile", "Jardinage", "Bricolage", "Créer mon compte"):
        assert french not in text, french
    assert_no_french(text)


def test_register_errors_in_english(client):
    r = client.post(
        "/register",
        data={"email": "", "display_name": "", "password": "court", "password_confirm": "x"},
        headers=ENGLISH,
    )
    text = visible_text(r.get_data(as_text=True))
    assert r.status_code == 422
    assert "There is a problem" in text
    assert "Email address: Please enter your email address." in text
    assert "The two passwords are not the same." in text
    assert "Il y a un problème" not in text and "Indiquez votre adresse e-mail" not in text


def test_language_switch(client):
    r = client.post("/lang/en", data={"next": "/login"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    # The choice beats the browser's language.
    text = visible_text(
        client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    )
    assert "Log in" in text and "Se connecter" not in text

    client.post("/lang/fr", data={"next": "/login"})
    text = visible_text(client.get("/login", headers=ENGLISH).get_data(as_text=True))
    assert "Se connecter" in text and "Log in" not in text

    client.post("/lang/xx", data={"next": "/login"})  # unknown code: nothing changes
    text = visible_text(client.get("/login", headers=ENGLISH).get_data(as_text=True))
    assert "Se connecter" in text


def test_language_switch_needs_csrf_token(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    r = client.post("/lang/en", data={"next": "/login"})
    assert r.status_code == 400
    assert "Se connecter" in visible_text(client.get("/login").get_data(as_text=True))


def test_error_page_in_english(client):
    r = client.get("/no-such-page", headers=ENGLISH)
    text = visible_text(r.get_data(as_text=True))
    assert r.status_code == 404
    assert "This page does not exist, or it is not in your neighbourhood." in text
    assert "Back to the home page" in text
    assert "Cette page n'existe pas" not in text


@pytest.fixture
def neighbours(make_member):
    """Anne (the viewer, no language stored) and Bruno nearby, who can garden and fix things."""
    anne = make_member("Anne", at=DAMES_LEMERCIER, email="anne@example.org")
    make_member("Bruno", at=CLICHY, skills=["jardinage", "bricolage"])
    return anne


def test_neighbours_page_in_english(client, neighbours):
    r = client.post(
        "/login", data={"email": "anne@example.org", "password": PASSWORD}, headers=ENGLISH
    )
    assert r.status_code == 302
    page = client.get("/neighbours?skill=jardinage", headers=ENGLISH).get_data(as_text=True)
    text = visible_text(page)
    assert "Bruno" in text
    assert "Neighbours who can help with: Gardening" in text
    assert "Can help with: DIY and repairs, Gardening" in text
    assert "Jardinage" not in text and "Bricolage" not in text and "Sait faire" not in text
    assert_no_french(text)


def test_neighbours_page_follows_member_language(client, auth, neighbours):
    services.update_profile(neighbours, locale="en")
    db.session.commit()
    auth.login("anne@example.org")
    text = visible_text(client.get("/neighbours?skill=bricolage").get_data(as_text=True))
    assert "Can help with: DIY and repairs, Gardening" in text
    assert "Sait faire" not in text


@pytest.mark.parametrize("path", ["/nowhere-at-all", "/exchanges/2147483647"])
def test_an_error_page_speaks_the_member_s_language(client, auth, neighbours, path):
    """The member is known before anything is translated, also on pages that do not
    exist (no view, so no access check asked for them before)."""
    services.update_profile(neighbours, locale="en")
    db.session.commit()
    auth.login("anne@example.org")
    page = client.get(path, headers={"Accept-Language": "fr"})
    assert page.status_code == 404
    text = visible_text(page.get_data(as_text=True))
    assert "Error 404" in text and "does not exist" in text, text[:300]
    assert_no_french(text)


def test_language_chosen_before_login_survives_login_and_logout(client, auth, neighbours):
    client.post("/lang/en", data={"next": "/login"})
    r = auth.login("anne@example.org", follow=True)
    assert "Hello Anne!" in visible_text(r.get_data(as_text=True))  # greeted in the chosen one
    r = client.post("/logout", follow_redirects=True, headers={"Accept-Language": "fr"})
    assert "Log in" in visible_text(r.get_data(as_text=True))


def test_greeting_uses_the_members_saved_language(client, auth, neighbours):
    services.update_profile(neighbours, locale="en")
    db.session.commit()
    r = client.post(
        "/login",
        data={"email": "anne@example.org", "password": PASSWORD},
        headers={"Accept-Language": "fr"},
        follow_redirects=True,
    )
    assert "Hello Anne!" in visible_text(r.get_data(as_text=True))


def test_switch_while_logged_in_is_remembered_on_the_member(client, auth, neighbours):
    auth.login("anne@example.org")
    client.post("/lang/en", data={"next": "/neighbours"})
    db.session.expire_all()
    assert db.session.get(type(neighbours), neighbours.id).locale == "en"


def test_member_who_signed_up_in_english_keeps_english(client, auth):
    r = client.post(
        "/register",
        data={
            "email": "carla@example.org",
            "display_name": "Carla",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "lat": str(CLICHY[0]),
            "lon": str(CLICHY[1]),
            "radius_m": "1000",
        },
        headers=ENGLISH,
    )
    assert r.status_code == 200  # "check your mailbox": not logged in yet
    assert '<html lang="en">' in r.get_data(as_text=True)
    r = auth.login("carla@example.org", follow=True)  # no Accept-Language this time
    text = visible_text(r.get_data(as_text=True))
    assert "Feed" in text and "Neighbourhood feed" in text
    assert "Fil du voisinage" not in text


# --- API -----------------------------------------------------------------------------


def _bad_member(api, headers):
    body = {
        "email": "dina@example.org",
        "password": PASSWORD,
        "display_name": "Dina",
        "location": {"lat": CLICHY[0], "lon": CLICHY[1]},
        "radius_m": 10,
    }
    r = api.post("/members", json=body, headers=headers)
    assert r.status_code == 422
    return r.get_json()["error"]


def test_api_validation_error_in_english(api):
    error = _bad_member(api, ENGLISH)
    assert error["code"] == "validation_failed"
    assert error["message"] == "Please check the fields that have a problem."
    assert error["fields"]["radius_m"] == (
        "The radius must be a whole number of metres between 200 and 5000."
    )


def test_api_validation_error_in_french_by_default(api):
    error = _bad_member(api, {})
    assert error["code"] == "validation_failed"
    assert error["message"] == "Vérifiez les champs signalés."
    assert error["fields"]["radius_m"] == (
        "Le rayon doit être un nombre entier de mètres entre 200 et 5000."
    )


# --- the catalog ---------------------------------------------------------------------


def _forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_every_message_is_translated():
    catalog = en_catalog()
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    untranslated = [m.id for m in catalog if m.id and not all(_forms(m))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"untranslated in {EN_PO.name}: {untranslated}"
    assert not fuzzy, f"fuzzy (check, then remove the flag): {fuzzy}"


def test_placeholders_match():
    wrong = []
    for m in en_catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for text in _forms(m):
            if set(PLACEHOLDER.findall(text)) != expected:
                wrong.append((ids[0], text))
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


def _messages(catalog) -> dict:
    """msgid -> msgstr, plural forms as tuples (read_mo gives lists)."""
    return {
        tuple(m.id) if isinstance(m.id, list | tuple) else m.id: (
            tuple(m.string) if isinstance(m.string, list | tuple) else m.string
        )
        for m in catalog
        if m.id
    }


def test_compiled_catalog_is_up_to_date():
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.mo"
        with fresh.open("wb") as f:
            write_mo(f, en_catalog())
        with fresh.open("rb") as f:
            expected = _messages(read_mo(f))
    with EN_MO.open("rb") as f:
        committed = _messages(read_mo(f))
    assert committed == expected, (
        f"{EN_MO.relative_to(ROOT)} is older than the .po: run `pybabel compile -d translations`"
    )


def test_every_message_in_the_sources_is_in_the_catalog():
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    catalog = en_catalog()
    missing = sorted(
        {
            (msgid[0] if isinstance(msgid, tuple) else msgid, f"{filename}:{lineno}")
            for filename, lineno, msgid, _comments, context in extract_from_dir(
                str(ROOT), method_map, options_map, keywords=KEYWORDS
            )
            if catalog.get(msgid[0] if isinstance(msgid, tuple) else msgid, context) is None
        }
    )
    assert not missing, f"{len(missing)} message(s) missing from {EN_PO.name}: {missing}. {FIX}"


def test_extraction_finds_the_sources():
    """Guard for the test above: the mapping still reaches Python code and templates."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    files = {
        filename
        for filename, *_ in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    }
    assert "peuplade/categories.py" in files
    assert "templates/auth/login.html" in files


# --- French plurals ------------------------------------------------------------------

FR_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
FR_MO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.mo"


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0 réponse"), (1, "1 réponse"), (2, "2 réponses"), (12, "12 réponses")]
)
def test_french_counts_follow_french_plural_rules(app, count, shown):
    """0 and 1 take the singular in French: the French catalogue brings the rule (without
    it gettext applies the English one to the French sources: "0 réponses")."""
    with app.test_request_context(), force_locale("fr"):
        assert ngettext("%(num)s réponse", "%(num)s réponses", count) == shown


def test_french_catalogue_has_every_plural_of_the_sources():
    """`make translations` fills them (translations/french_plurals.py): each plural
    message of the sources, its singular first, its plural for the other forms."""
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = read_po(f)
    with FR_PO.open("rb") as f:
        french = read_po(f, locale="fr")
    plurals = [m for m in template if m.id and m.pluralizable]
    assert plurals, "no plural message in the sources?"
    for message in plurals:
        entry = french.get(message.id[0], message.context)
        assert entry is not None, f"{message.id[0]!r} missing from {FR_PO.name}: {FIX}"
        expected = (message.id[0], *[message.id[1]] * (french.num_plurals - 1))
        assert tuple(entry.string) == expected, f"{message.id[0]!r}: {FIX}"
    with FR_MO.open("rb") as f:
        compiled = read_mo(f)
    assert compiled.get(plurals[0].id[0]) is not None, "run `pybabel compile -d translations`"
