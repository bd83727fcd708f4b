"""The object and loan pages: offering an object, the shelf near me, borrowing, the
lender's buttons through the whole lifecycle, refusals (403/409), deleting, "Mes prêts"
with overdue loans first - as members see them (both backends)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import func, select, update

from peuplade.extensions import db
from peuplade.loans import services
from peuplade.localtime import today
from peuplade.models import Item, Loan
from peuplade.posts import queries as posts
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD
from tests.helpers.browsers import as_member
from tests.helpers.pages import more_link, text_of
from tests.test_privacy import _other_homes_leaked
from tests.test_timeline_html import _statements


def cards(page: str) -> list[dict]:
    """The listed objects or loans, in page order: the card's link target id and text."""
    found = []
    for body in re.findall(
        r'<li class="card card--[^"]*">(.*?)</li>\s*(?=<li class="card|</ul>)', page, re.S
    ):
        link = re.search(r'href="/objects/(\d+)">([^<]*)</a>', body)
        found.append(
            {
                "id": int(link.group(1)),
                "title": html.unescape(link.group(2)),
                "html": body,
                "text": text_of(body),
            }
        )
    return found


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


ITEM_FORM = {
    "title": "Perceuse à percussion",
    "description": "Avec un jeu de mèches béton.",
    "category": "bricolage",
    "condition": "bon",
    "notes": "Caution : 20 €.",
    "available": "y",
}


def quick_item(lender, **changes) -> Item:
    data = {k: v for k, v in ITEM_FORM.items() if k != "available"}
    data.update(changes)
    item = services.offer_item(lender, services.ItemInput(**data))
    db.session.commit()
    return item


def day(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def quick_loan(item, borrower, start=1, due=3) -> Loan:
    loan = services.request_loan(
        item, borrower, today() + timedelta(days=start), today() + timedelta(days=due)
    )
    db.session.commit()
    return loan


def status_of(loan_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Loan, loan_id).status


@pytest.fixture
def street(make_member):
    return {
        "lender": make_member("Prêteuse", at=DAMES_LEMERCIER),
        "alice": make_member("Alice", at=CLICHY),
        "bruno": make_member("Bruno", at=CLICHY),
        "far": make_member("Lointain", at=FAR_AWAY),
    }


# --- offering and seeing objects -------------------------------------------------------


def test_an_object_offered_with_the_form_is_seen_nearby_but_not_7_km_away(app, street):
    lender = as_member(app, street["lender"])
    assert "Comme neuf" in lender.get("/objects/new").get_data(as_text=True)
    r = lender.post("/objects/new", data=ITEM_FORM)
    assert r.status_code == 302
    item_id = int(re.fullmatch(r"/objects/(\d+)", r.headers["Location"]).group(1))
    item = db.session.get(Item, item_id)
    assert (item.title, item.condition, item.available) == ("Perceuse à percussion", "bon", True)

    page = as_member(app, street["alice"]).get("/objects").get_data(as_text=True)
    listed = cards(page)
    assert [c["title"] for c in listed] == ["Perceuse à percussion"]
    text = listed[0]["text"]
    for shown in ("Bricolage", "Bon état", "Disponible", "Prêté par Prêteuse"):
        assert shown in text
    assert posts.distance_band(street["alice"], item) in text

    far = as_member(app, street["far"])
    assert cards(far.get("/objects").get_data(as_text=True)) == []
    assert far.get(f"/objects/{item_id}").status_code == 404
    borrow = {"start": day(1), "due": day(2)}
    assert far.post(f"/objects/{item_id}/borrow", data=borrow).status_code == 404
    assert count(Loan) == 0


def test_bad_object_inputs_keep_what_was_typed_and_write_nothing(app, street):
    lender = as_member(app, street["lender"])
    cases = [
        ({"title": ""}, "Écrivez au moins 3 caractères."),
        ({"category": "fusees"}, "Choisissez une catégorie de la liste."),
        ({"condition": "neuf"}, "Choisissez un état de la liste."),
        ({"description": "x" * 5000}, "4000 caractères au plus."),
    ]
    for change, message in cases:
        r = lender.post("/objects/new", data={**ITEM_FORM, **change})
        page = r.get_data(as_text=True)
        assert r.status_code == 422, change
        assert message in html.unescape(page), change
        assert "Il y a un problème" in page
        kept = "Caution : 20 €." if "description" in change else "Avec un jeu de mèches béton."
        assert kept in html.unescape(page)
    assert count(Item) == 0


def test_filters_and_pagination_over_25_objects(app, street):
    lender = street["lender"]
    for n in range(25):
        quick_item(lender, title=f"Objet numéro {n:02d}", category="cuisine")
    quick_item(lender, title="Échelle trois mètres", category="bricolage")
    services.update_item(
        quick_item(lender, title="Tondeuse", category="jardinage"),
        lender,
        services.ItemInput(available=False),
    )
    db.session.commit()
    alice = as_member(app, street["alice"])

    first = alice.get("/objects").get_data(as_text=True)
    shown = cards(first)
    assert len(shown) == 20 and shown[0]["title"] == "Tondeuse"
    assert "Pas disponible pour l'instant" in shown[0]["text"]
    seen = [c["id"] for c in shown]
    while link := more_link(first):
        first = alice.get(link).get_data(as_text=True)
        seen += [c["id"] for c in cards(first)]
    assert len(seen) == len(set(seen)) == 27

    def titles(query: str) -> list[str]:
        return [c["title"] for c in cards(alice.get("/objects" + query).get_data(as_text=True))]

    assert titles("?category=bricolage") == ["Échelle trois mètres"]
    assert titles("?q=mètres") == ["Échelle trois mètres"]
    assert "Tondeuse" not in titles("?category=jardinage&available=1")
    assert titles("?category=jardinage") == ["Tondeuse"]
    # The filters follow the "Voir plus" link.
    page = alice.get("/objects?category=cuisine&available=1").get_data(as_text=True)
    assert "available=1" in more_link(page) and "category=cuisine" in more_link(page)
    assert alice.get("/objects?cursor=forged").status_code == 400


def test_the_lender_edits_and_sets_an_object_aside(app, street):
    item = quick_item(street["lender"])
    lender = as_member(app, street["lender"])
    assert 'value="Perceuse à percussion"' in lender.get(f"/objects/{item.id}/edit").get_data(
        as_text=True
    )
    alice = as_member(app, street["alice"])
    assert alice.get(f"/objects/{item.id}/edit").status_code == 403
    assert alice.post(f"/objects/{item.id}/availability").status_code == 403

    form = {**ITEM_FORM, "title": "Perceuse sans fil"}
    del form["available"]  # an unticked checkbox is not sent
    assert lender.post(f"/objects/{item.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert (item.title, item.available) == ("Perceuse sans fil", False)
    page = alice.get(f"/objects/{item.id}").get_data(as_text=True)
    assert "n'est pas disponible en ce moment" in html.unescape(page)
    assert "Demander à emprunter" not in page

    assert lender.post(f"/objects/{item.id}/availability").status_code == 302
    db.session.expire_all()
    assert item.available is True
    assert "Demander à emprunter" in alice.get(f"/objects/{item.id}").get_data(as_text=True)


# --- borrowing -------------------------------------------------------------------------


def test_a_borrow_request_through_the_form_reaches_the_lender(app, street):
    item = quick_item(street["lender"])
    alice = as_member(app, street["alice"])
    page = alice.get(f"/objects/{item.id}").get_data(as_text=True)
    assert "Emprunter cet objet" in page and 'type="date"' in page
    due = today() + timedelta(days=4)
    r = alice.post(
        f"/objects/{item.id}/borrow",
        # A date input, and a date typed by hand where the browser has none.
        data={"start": day(2), "due": due.strftime("%d/%m/%Y"), "message": "Pour des étagères."},
    )
    assert r.status_code == 302
    loan = db.session.scalars(select(Loan)).one()
    assert (loan.status, loan.borrower_id, loan.due) == ("requested", street["alice"].id, due)
    assert "Demande envoyée, en attente de réponse" in text_of(
        alice.get(f"/objects/{item.id}").get_data(as_text=True)
    )

    lender_page = as_member(app, street["lender"]).get(f"/objects/{item.id}").get_data(as_text=True)
    assert "Pour des étagères." in lender_page and "Alice" in lender_page
    assert f'action="/loans/{loan.id}/accept"' in lender_page
    assert f'action="/loans/{loan.id}/decline"' in lender_page


def test_bad_borrow_requests_are_refused_clearly_with_nothing_written(app, street):
    item = quick_item(street["lender"])
    alice = as_member(app, street["alice"])
    url = f"/objects/{item.id}/borrow"
    cases = [
        ({"start": day(-1), "due": day(2)}, "Cette date est passée."),
        ({"start": day(5), "due": day(3)}, "Le retour doit venir après le premier jour."),
        ({"start": day(1), "due": day(61)}, "Un prêt dure 60 jours au plus."),
        ({"start": "31/02/2030", "due": day(3)}, "Écrivez une date comme 31/12/2025"),
    ]
    for data, message in cases:
        r = alice.post(url, data={**data, "message": "Merci !"})
        page = html.unescape(r.get_data(as_text=True))
        assert r.status_code == 422, data
        assert message in page, data
        assert "Merci !" in page  # what was typed is kept
    lender = as_member(app, street["lender"])
    r = lender.post(url, data={"start": day(1), "due": day(2)})
    assert r.status_code == 403 and "C'est votre propre objet." in html.unescape(
        r.get_data(as_text=True)
    )
    services.update_item(item, street["lender"], services.ItemInput(available=False))
    db.session.commit()
    r = alice.post(url, data={"start": day(1), "due": day(2)})
    assert r.status_code == 409
    assert "pas disponible en ce moment" in html.unescape(r.get_data(as_text=True))
    assert count(Loan) == 0


def test_the_lender_takes_a_loan_through_its_life_with_the_buttons(app, street):
    item = quick_item(street["lender"])
    loan = quick_loan(item, street["alice"], 0, 2)  # from today: it can be handed over
    lender = as_member(app, street["lender"])
    for step, status, button_next in (
        ("accept", "accepted", "handover"),
        ("handover", "lent", "return"),
        ("return", "returned", None),
    ):
        r = lender.post(f"/loans/{loan.id}/{step}", data={"back": "item"})
        assert r.status_code == 302 and r.headers["Location"] == f"/objects/{item.id}"
        assert status_of(loan.id) == status
        page = lender.get(f"/objects/{item.id}").get_data(as_text=True)
        if button_next:
            assert f'action="/loans/{loan.id}/{button_next}"' in page
    assert f"/loans/{loan.id}/" not in page  # a returned loan has no button left
    assert "Cet objet a été prêté 1 fois." in text_of(page)
    alice_view = text_of(
        as_member(app, street["alice"]).get(f"/objects/{item.id}").get_data(as_text=True)
    )
    assert "a prêté 1 fois" in alice_view and "Rendu" in alice_view
    with app.test_request_context():
        shown = text_of(
            render_template_string('{% include "loans/_profile.html" %}', member=street["alice"])
        )
    assert "a prêté 0 fois · a emprunté 1 fois" in shown


def test_wrong_party_gets_403_wrong_state_409_and_strangers_404(app, street):
    item = quick_item(street["lender"])
    loan = quick_loan(item, street["alice"])
    alice = as_member(app, street["alice"])
    lender = as_member(app, street["lender"])

    r = alice.post(f"/loans/{loan.id}/accept")
    assert r.status_code == 403
    assert "Ce n'est pas à vous" in html.unescape(r.get_data(as_text=True))
    assert as_member(app, street["bruno"]).post(f"/loans/{loan.id}/cancel").status_code == 404
    r = lender.post(f"/loans/{loan.id}/return", data={"back": "item"})
    assert r.status_code == 409
    assert "Ce prêt n'en est plus là. Où il en est : Demande reçue, à vous de répondre." in (
        html.unescape(r.get_data(as_text=True))
    )
    assert lender.post(f"/loans/{loan.id}/refuse").status_code == 404
    assert lender.get(f"/loans/{loan.id}/accept").status_code == 405  # GET changes nothing
    assert status_of(loan.id) == "requested"

    # The borrower may cancel before the hand-over, from "Mes prêts".
    r = alice.post(f"/loans/{loan.id}/cancel", data={"back": "loans"})
    assert r.status_code == 302 and r.headers["Location"] == "/loans"
    assert status_of(loan.id) == "cancelled"
    r = alice.post(f"/loans/{loan.id}/cancel", data={"back": "loans"})
    assert r.status_code == 409 and "Mes prêts" in r.get_data(as_text=True)


def test_two_overlapping_requests_only_one_can_be_accepted(app, street):
    item = quick_item(street["lender"])
    first = quick_loan(item, street["alice"], 2, 6)
    second = quick_loan(item, street["bruno"], 5, 8)
    lender = as_member(app, street["lender"])
    assert lender.post(f"/loans/{first.id}/accept", data={"back": "item"}).status_code == 302
    r = lender.post(f"/loans/{second.id}/accept", data={"back": "item"})
    assert r.status_code == 409
    assert "déjà promis pendant ces dates" in html.unescape(r.get_data(as_text=True))
    assert (status_of(first.id), status_of(second.id)) == ("accepted", "requested")
    # A third neighbour sees the promised period, without a name.
    page = as_member(app, street["bruno"]).get(f"/objects/{item.id}").get_data(as_text=True)
    assert "Déjà promis" in page and "Alice" not in page


def test_an_object_lent_or_promised_cannot_be_deleted(app, street):
    item = quick_item(street["lender"])
    loan = quick_loan(item, street["alice"])
    services.accept(loan, street["lender"])
    db.session.commit()
    lender = as_member(app, street["lender"])
    assert "Oui, retirer" in lender.get(f"/objects/{item.id}/delete").get_data(as_text=True)
    assert as_member(app, street["alice"]).post(f"/objects/{item.id}/delete").status_code == 403
    r = lender.post(f"/objects/{item.id}/delete")
    assert r.status_code == 409
    assert "Cet objet est prêté ou promis" in html.unescape(r.get_data(as_text=True))
    assert count(Item) == 1

    services.cancel(loan, street["lender"])
    db.session.commit()
    r = lender.post(f"/objects/{item.id}/delete")
    assert r.status_code == 302 and r.headers["Location"] == "/objects/mine"
    assert count(Item) == 0


# --- "Mes prêts", "Mes objets" and privacy ----------------------------------------------


def test_my_loans_show_overdue_first_to_both_sides_and_no_home(app, street):
    lender_m, alice_m = street["lender"], street["alice"]
    drill = quick_item(lender_m, title="Perceuse")
    ladder = quick_item(lender_m, title="Échelle")
    quick_loan(drill, alice_m, 3, 5)
    late = quick_loan(ladder, alice_m, 1, 2)
    # Lent ten days ago, due two days ago: overdue.
    db.session.execute(
        update(Loan)
        .where(Loan.id == late.id)
        .values(status="lent", start=today() - timedelta(days=10), due=today() - timedelta(days=2))
    )
    db.session.commit()

    for member, section in ((alice_m, "Ce que j'emprunte"), (lender_m, "Ce que je prête")):
        page = as_member(app, member).get("/loans").get_data(as_text=True)
        part = html.unescape(page).split(section, 1)[1]
        listed = cards(part)
        assert [c["id"] for c in listed][:2] == [ladder.id, drill.id]
        assert "En retard" in listed[0]["text"] and "à rendre depuis le" in listed[0]["text"]
        assert "status--overdue" in listed[0]["html"]
        assert "En retard" not in listed[1]["text"]
        assert ("Demande reçue" if member is lender_m else "Demande envoyée") in listed[1]["text"]

    lender = as_member(app, lender_m)
    mine = lender.get("/objects/mine").get_data(as_text=True)
    assert "En retard" in mine and "Alice" in mine
    others = [street["alice"], street["bruno"], street["far"]]
    for path in ("/objects", "/objects/mine", "/loans", f"/objects/{drill.id}"):
        assert not _other_homes_leaked(lender.get(path).get_data(as_text=True), others), path
    alice = as_member(app, alice_m)
    for path in ("/objects", "/loans", f"/objects/{drill.id}"):
        body = alice.get(path).get_data(as_text=True)
        assert not _other_homes_leaked(body, [lender_m, street["bruno"]]), path


def test_loan_steps_need_the_csrf_token(make_app, make_member):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        lender_m = make_member("Prêteuse", at=DAMES_LEMERCIER)
        alice_m = make_member("Alice", at=CLICHY)
        loan = quick_loan(quick_item(lender_m), alice_m)
        browser = app.test_client()
        login = browser.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        r = browser.post(
            "/login", data={"email": lender_m.email, "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 302
        assert browser.post(f"/loans/{loan.id}/accept").status_code == 400
        assert status_of(loan.id) == "requested"


# --- an object's status tells the truth (issue 21) -------------------------------------


def _set(loan: Loan, status: str, start: int, due: int) -> None:
    """Put a loan where a test wants it in time (the services refuse past dates)."""
    db.session.execute(
        update(Loan)
        .where(Loan.id == loan.id)
        .values(
            status=status, start=today() + timedelta(days=start), due=today() + timedelta(days=due)
        )
    )
    db.session.commit()


def _status_line(page: str) -> str:
    """The status line at the top of an object's page (category and status)."""
    return text_of(re.search(r'<p class="card__meta">(.*?)</p>', page, re.S).group(1))


def test_an_overdue_ladder_reads_en_retard_everywhere_and_counts_as_lent(app, street):
    lender_m, alice_m = street["lender"], street["alice"]
    ladder = quick_item(lender_m, title="Échelle")
    late = quick_loan(ladder, alice_m, 1, 2)
    _set(late, "lent", -10, -2)  # out ten days ago, due two days ago
    due = (today() - timedelta(days=2)).day

    for member in (street["bruno"], alice_m, lender_m):
        page = as_member(app, member).get(f"/objects/{ladder.id}").get_data(as_text=True)
        line = _status_line(page)
        assert "En retard : à rendre depuis le" in line and str(due) in line, member
        assert "Disponible" not in line
        assert "Cet objet a été prêté 1 fois." in text_of(page)
        assert "pas encore été prêté" not in text_of(page)
    bruno = as_member(app, street["bruno"])
    card = cards(bruno.get("/objects").get_data(as_text=True))[0]
    assert "En retard" in card["text"] and "Disponible" not in card["text"]
    # "Disponibles seulement" does not offer an object that is out.
    assert cards(bruno.get("/objects?available=1").get_data(as_text=True)) == []
    mine = cards(as_member(app, lender_m).get("/objects/mine").get_data(as_text=True))[0]
    assert "En retard" in mine["text"].split("À venir")[0]


def test_the_status_ladder_from_the_loans_and_the_lenders_switch(app, street):
    lender_m, alice_m = street["lender"], street["alice"]
    item = quick_item(lender_m)
    bruno = as_member(app, street["bruno"])

    def line() -> str:
        return _status_line(bruno.get(f"/objects/{item.id}").get_data(as_text=True))

    assert line().endswith("Disponible")
    assert "Cet objet n'a pas encore été prêté." in text_of(
        bruno.get(f"/objects/{item.id}").get_data(as_text=True)
    )
    waiting = quick_loan(item, alice_m, 5, 7)  # a request promises nothing
    assert line().endswith("Disponible")
    services.accept(waiting, lender_m)
    db.session.commit()
    later = line()  # free now, promised later
    free_until = (today() + timedelta(days=4)).day
    assert f"Disponible jusqu'au {free_until} " in later and "Réservé du" in later
    _set(waiting, "accepted", 1, 2)  # promised from tomorrow
    assert "Disponible aujourd'hui Réservé du" in line()
    _set(waiting, "accepted", -1, 2)  # the promised period has begun, not handed over
    assert "Réservé du" in line() and "Disponible" not in line()
    _set(waiting, "lent", -1, 2)
    assert line().startswith("Bricolage Prêté jusqu'au")
    assert "Cet objet a été prêté 1 fois." in text_of(
        bruno.get(f"/objects/{item.id}").get_data(as_text=True)
    )
    # The lender's switch: set aside, unless the object is out.
    services.update_item(item, lender_m, services.ItemInput(available=False))
    db.session.commit()
    assert "Prêté jusqu'au" in line()
    _set(waiting, "returned", -3, -1)
    assert line().endswith("Pas disponible pour l'instant")


def test_deja_promis_lists_current_and_coming_periods_only(app, street):
    lender_m, alice_m, bruno_m = street["lender"], street["alice"], street["bruno"]
    item = quick_item(lender_m)
    past = quick_loan(item, alice_m, 1, 2)
    _set(past, "lent", -20, -15)  # overdue: out, but its period is over
    ended = quick_loan(item, alice_m, 3, 4)
    _set(ended, "accepted", -12, -10)  # accepted, never handed over, period over
    coming = quick_loan(item, alice_m, 6, 8)
    services.accept(coming, lender_m)
    db.session.commit()
    page = as_member(app, bruno_m).get(f"/objects/{item.id}").get_data(as_text=True)
    promised = text_of(page.split("Déjà promis", 1)[1].split("</ul>", 1)[0])
    assert promised.count("Du ") == 1
    for loan, shown in ((coming, True), (past, False), (ended, False)):
        db.session.refresh(loan)
        words = render_period(app, loan)
        assert (words in promised) is shown, (loan.id, words, promised)
    # Nothing current nor coming: no "Déjà promis" at all.
    _set(coming, "cancelled", 6, 8)
    assert "Déjà promis" not in as_member(app, bruno_m).get(f"/objects/{item.id}").get_data(
        as_text=True
    )


def render_period(app, loan: Loan) -> str:
    with app.test_request_context():
        return text_of(
            render_template_string(
                '{% from "loans/_macros.html" import period with context %}{{ period(loan) }}',
                loan=loan,
            )
        )


def test_the_hand_over_is_offered_and_taken_only_from_the_first_day(app, street):
    item = quick_item(street["lender"])
    loan = quick_loan(item, street["alice"], 9, 12)
    services.accept(loan, street["lender"])
    db.session.commit()
    lender = as_member(app, street["lender"])
    page = lender.get(f"/objects/{item.id}").get_data(as_text=True)
    assert f'action="/loans/{loan.id}/handover"' not in page
    assert "Vous pourrez noter la remise de l'objet à partir du" in html.unescape(page)
    mine = lender.get("/loans").get_data(as_text=True)
    assert f'action="/loans/{loan.id}/handover"' not in mine

    for back in ("item", "loans"):
        r = lender.post(f"/loans/{loan.id}/handover", data={"back": back})
        assert r.status_code == 409, back
        said = html.unescape(r.get_data(as_text=True))
        assert 'role="alert"' in said
        assert "vous pourrez noter la remise de l'objet à partir de ce jour-là" in said
        assert status_of(loan.id) == "accepted"

    _set(loan, "accepted", 0, 3)  # its first day has come
    page = lender.get(f"/objects/{item.id}").get_data(as_text=True)
    assert f'action="/loans/{loan.id}/handover"' in page
    assert lender.post(f"/loans/{loan.id}/handover", data={"back": "item"}).status_code == 302
    assert status_of(loan.id) == "lent"


def _statuses(page: str) -> list[str]:
    """The words of every status badge of a page."""
    return [
        text_of(x).lstrip("⚠ ")
        for x in re.findall(r'<span class="status status--[^"]*">(.*?)</span>\s*(?=<|$)', page)
    ]


def test_the_lender_refuses_the_borrower_withdraws_in_plain_words(app, street):
    item = quick_item(street["lender"])
    loan = quick_loan(item, street["alice"])
    lender_html = as_member(app, street["lender"]).get(f"/objects/{item.id}").get_data(as_text=True)
    lender_page = text_of(lender_html)
    assert "Accepter la demande" in lender_page and "Refuser la demande" in lender_page
    assert "Annuler" not in lender_page
    assert "Demande reçue, à vous de répondre" in _statuses(lender_html)

    alice = as_member(app, street["alice"])
    borrower_html = alice.get(f"/objects/{item.id}").get_data(as_text=True)
    borrower_page = text_of(borrower_html)
    assert "Annuler ma demande" in borrower_page and "Refuser" not in borrower_page
    assert "Demande envoyée, en attente de réponse" in _statuses(borrower_html)
    for page in (lender_html, borrower_html, alice.get("/loans").get_data(as_text=True)):
        words = _statuses(page)
        assert words and all(w[0].isupper() for w in words), words

    r = alice.post(f"/loans/{loan.id}/cancel", data={"back": "item"})
    assert r.status_code == 302 and status_of(loan.id) == "cancelled"
    assert "Votre demande est annulée." in alice.get(f"/objects/{item.id}").get_data(as_text=True)
    assert "Annulé" in text_of(alice.get(f"/objects/{item.id}").get_data(as_text=True))


def test_the_contact_link_names_the_lender(app, street):
    item = quick_item(street["lender"])
    page = text_of(
        as_member(app, street["alice"]).get(f"/objects/{item.id}").get_data(as_text=True)
    )
    assert "Écrire à Prêteuse (qui prête l'objet)" in page
    assert "l'auteur" not in page


def test_object_lists_cost_the_same_for_one_object_or_a_full_page(app, street):
    lender_m = street["lender"]
    first = quick_item(lender_m, title="Objet 0")
    quick_loan(first, street["alice"], 2, 3)
    alice, lender = as_member(app, street["alice"]), as_member(app, lender_m)

    def cost(browser, path: str) -> int:
        browser.get(path)
        with _statements() as seen:
            assert browser.get(path).status_code == 200
        return len(seen)

    few = {path: cost(b, path) for b, path in ((alice, "/objects"), (lender, "/objects/mine"))}
    for n in range(1, 24):
        item = quick_item(lender_m, title=f"Objet {n}")
        loan = quick_loan(item, street["bruno"], 0, 2)
        services.accept(loan, lender_m)
        if n % 2:
            services.hand_over(loan, lender_m)
        quick_loan(item, street["alice"], 5, 6)
    db.session.commit()
    assert len(cards(alice.get("/objects").get_data(as_text=True))) == 20
    assert "Prêté jusqu'au" in alice.get("/objects").get_data(as_text=True)
    for browser, path in ((alice, "/objects"), (lender, "/objects/mine")):
        assert cost(browser, path) == few[path], path
