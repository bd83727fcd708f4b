"""Photos in a real browser, on a 375 px phone (issue 22): camille photographs the drill
she lends (the file chooser, a preview with its description, "Retirer" for a wrong
pick), and a neighbour finds its thumbnail in "Objets près de chez moi" and the photo
with its description on the object's page. The photo she sends carries the GPS position
of her home in EXIF and XMP; what her neighbour's browser receives carries none. axe
finds no serious violation on the pages with photos, and the screenshots are written
for a human to look at (PEUPLADE_E2E_ARTIFACTS)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.loans.queries import get_item_or_404
from peuplade.models import Item, Member
from tests.e2e.conftest import DEMO_EMAIL, DEMO_PASSWORD, artifacts_dir, log_in
from tests.e2e.test_accessibility import axe_violations
from tests.photofiles import coordinate_needles, jpeg_with_gps, png_bytes

PHONE = {"width": 375, "height": 667}
TITLE = "Perceuse sans fil"
DESCRIPTION = "Une perceuse bleue posée dans sa mallette ouverte, avec deux batteries"


def _neighbour_who_sees(app, item_id: int) -> Member:
    """A demo member (not camille) to whom the object is shown."""
    with app.app_context():
        for member in db.session.scalars(select(Member).order_by(Member.id)):
            if member.email == DEMO_EMAIL:
                continue
            try:
                get_item_or_404(member, item_id)
            except NotFound:
                continue
            db.session.expunge(member)
            return member
    raise AssertionError("no demo neighbour sees the object")


@pytest.mark.spatialite_only
def test_a_neighbour_photographs_the_drill_another_sees_it(live_server, new_context, tmp_path):
    live_server.seed_demo()
    with live_server.app.app_context():
        camille = db.session.scalars(select(Member).filter_by(email=DEMO_EMAIL)).one()
        from geoalchemy2.shape import to_shape

        home = to_shape(camille.home)
        lat, lon = home.y, home.x
    # The photo as a phone takes it: the position of her home in EXIF and XMP.
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_with_gps(lat, lon))
    wrong = tmp_path / "capture.png"
    wrong.write_bytes(png_bytes())
    shots = artifacts_dir()

    page = new_context("fr", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(page, live_server, "fr", DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(live_server.url + "/objects/new")
    page.get_by_label("Nom de l'objet").fill(TITLE)
    page.get_by_label("Catégorie").select_option(index=1)
    # The file chooser, as a tap on "Choisir des photos" opens it.
    with page.expect_file_chooser() as chooser:
        page.get_by_text("Choisir des photos").click()
    chooser.value.set_files([str(photo), str(wrong)])
    preview = page.locator("[data-photo-preview]")
    expect(preview.locator("img")).to_have_count(2)
    # The description starts as the title; the wrong pick is taken out before sending.
    descriptions = preview.get_by_role("textbox")
    expect(descriptions.first).to_have_value(TITLE)
    preview.get_by_role("button", name="Retirer").last.click()
    expect(preview.locator("img")).to_have_count(1)
    expect(page.locator("[data-photo-status]")).to_contain_text("capture.png")
    descriptions.first.fill(DESCRIPTION)
    page.screenshot(path=str(shots / "photos-form-phone.png"), full_page=True)
    assert axe_violations(page) == [], "\n".join(axe_violations(page))
    page.get_by_role("button", name="Mettre l'objet sur l'étagère").click()
    page.wait_for_load_state()

    # Her object's page shows the photo with its description.
    figure = page.locator("figure").filter(has=page.locator("img"))
    expect(figure.locator("img")).to_have_attribute("alt", DESCRIPTION)
    expect(figure.locator("figcaption")).to_have_text(DESCRIPTION)
    item_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    with live_server.app.app_context():
        item = db.session.get(Item, item_id)
        assert item.title == TITLE and len(item.photos) == 1

    # A neighbour, on their phone, finds it on the shelf near them.
    neighbour = _neighbour_who_sees(live_server.app, item_id)
    other = new_context("fr", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    seen: list[str] = []
    other.on("request", lambda r: seen.append(r.url) if "/photos/" in r.url else None)
    log_in(other, live_server, "fr", neighbour.email, DEMO_PASSWORD)
    other.goto(live_server.url + "/objects")
    card = other.locator("li.card").filter(has_text=TITLE)
    thumbnail = card.locator("img")
    expect(thumbnail).to_have_attribute("alt", DESCRIPTION)
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0, "the thumbnail did not load"
    box = thumbnail.bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"], box
    card.scroll_into_view_if_needed()
    other.screenshot(path=str(shots / "photos-shelf-phone.png"), full_page=False)
    assert axe_violations(other) == [], "\n".join(axe_violations(other))

    card.get_by_role("link", name=TITLE).click()
    other.wait_for_load_state()
    image = other.locator("figure img")
    expect(image).to_have_attribute("alt", DESCRIPTION)
    expect(other.locator("figure figcaption")).to_have_text(DESCRIPTION)
    assert image.evaluate("img => img.naturalWidth") > 0
    assert other.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    other.screenshot(path=str(shots / "photos-object-phone.png"), full_page=True)
    assert axe_violations(other) == [], "\n".join(axe_violations(other))

    # What the neighbour's browser loaded, and the full photo a tap opens, hold no trace of
    # camille's home.
    full = live_server.url + other.locator("figure a").first.get_attribute("href")
    assert any("/thumb.jpg" in u for u in seen) and full.endswith("/full.jpg"), seen
    for url in {*seen, full}:
        answer = other.context.request.get(url)
        assert answer.ok, url
        for needle in coordinate_needles(lat, lon):
            assert needle not in answer.body()
