"""Sharing a post, in Chromium on a 375 px phone (peuplade/sharing, docs/sharing.md):
the author makes her request shareable on its form, "Copier le lien" puts its link in
the clipboard (the phone's own share sheet gets it where there is one), and someone who
is not on Peuplade opens it: the title, the kind and the quartier, an invitation to
join, no name; accessible (axe-core)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from peuplade.extensions import db
from peuplade.models import Exchange, Member
from tests.e2e.conftest import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    PHONE,
    artifacts_dir,
    log_in,
    tr,
)
from tests.e2e.test_accessibility import axe_violations

# The phone's share sheet, as Android's Chrome has it: what it was given is kept.
FAKE_SHARE_SHEET = """
navigator.share = (data) => { window.__shared = data; return Promise.resolve(); };
"""


@pytest.mark.postgis_only
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_request_shared_outside_peuplade(live_server, new_context, lang):
    live_server.seed_demo()
    with live_server.app.app_context():
        camille = db.session.scalars(select(Member).filter_by(email=DEMO_EMAIL)).one()
        mine = db.session.scalars(
            select(Exchange)
            .where(Exchange.author_id == camille.id, Exchange.status == "open")
            .order_by(Exchange.id)
        ).first()
        exchange_id, title, author = mine.id, mine.title, camille.display_name
    context = new_context(lang, viewport=PHONE, is_mobile=True, has_touch=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log_in(page, live_server, lang, DEMO_EMAIL, DEMO_PASSWORD)

    # Not shareable yet: the link is the post's own, for the neighbours who see it.
    page.goto(f"{live_server.url}/exchanges/{exchange_id}")
    share = page.locator("[data-share]")
    expect(share).to_contain_text(
        tr(lang, "Seuls les voisins qui voient déjà cette annonce pourront l'ouvrir.")
    )
    # The author ticks "Partageable hors de Peuplade" on the request's form.
    page.goto(f"{live_server.url}/exchanges/{exchange_id}/edit")
    box = page.get_by_label(tr(lang, "Partageable hors de Peuplade"))
    expect(box).not_to_be_checked()
    box.check()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/exchanges/{exchange_id}"), page.url

    # "Copier le lien": the clipboard holds the /p/ link, and the page says so.
    copy = share.get_by_role("button", name=tr(lang, "Copier le lien"))
    native = share.get_by_role("button", name=tr(lang, "Partager"))
    expect(copy).to_be_visible()
    expect(native).to_be_hidden()  # no share sheet in this browser
    expect(share.get_by_label(tr(lang, "Lien à partager"))).to_be_hidden()
    copy.click()
    expect(share.get_by_role("status")).to_have_text(
        tr(lang, "Lien copié : vous pouvez le coller dans un message.")
    )
    link = page.evaluate("navigator.clipboard.readText()")
    assert link.startswith("http") and "/p/" in link, link
    page.screenshot(path=str(artifacts_dir() / f"share-{lang}-phone.png"), full_page=True)

    # Where the phone has a share sheet, "Partager" opens it with the title and link.
    page.add_init_script(FAKE_SHARE_SHEET)
    page.reload()
    expect(copy).to_be_hidden()
    native.click()
    shared = page.evaluate("window.__shared")
    assert shared == {"title": title, "url": link}

    # Someone not on Peuplade opens it: a teaser, no name, an invitation to join.
    outsider = new_context(lang, viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    path = "/p/" + link.split("/p/", 1)[1]
    outsider.goto(live_server.url + path)
    expect(outsider.get_by_role("heading", level=1)).to_have_text(title)
    expect(outsider.get_by_role("link", name=tr(lang, "Rejoindre Peuplade"))).to_be_visible()
    assert author not in outsider.content()
    assert axe_violations(outsider) == [], "\n".join(axe_violations(outsider))
    outsider.screenshot(
        path=str(artifacts_dir() / f"share-teaser-{lang}-phone.png"), full_page=True
    )
    # "J'ai déjà un compte" leads back to the post once logged in.
    outsider.get_by_role("link", name=tr(lang, "J'ai déjà un compte")).click()
    outsider.get_by_label(tr(lang, "Adresse e-mail"), exact=True).fill(DEMO_EMAIL)
    outsider.get_by_label(tr(lang, "Mot de passe"), exact=True).fill(DEMO_PASSWORD)
    outsider.get_by_role("main").get_by_role("button", name=tr(lang, "Se connecter")).click()
    outsider.wait_for_load_state()
    assert outsider.url.endswith(f"/exchanges/{exchange_id}"), outsider.url
