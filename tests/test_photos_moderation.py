"""Moderation and photos (issue 22): a moderator takes down one photo of a reported post
(or a member's face) from the report's page, in their quartiers only, with a reason
kept in the log; a hidden post's photos are hidden with it; reporting a photo reports
its post."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from peuplade.errors import Forbidden, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.models import ModerationAction, Photo, Report
from peuplade.moderation import services as moderation
from peuplade.photos import processing
from peuplade.photos import services as photos
from peuplade.photos.urls import avatar_url, photo_url, thumb_url
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY
from tests.helpers.browsers import as_member
from tests.helpers.pages import text_of
from tests.photofiles import jpeg_bytes, png_bytes


class World:
    def __init__(self, make_member, make_quartier):
        batignolles = make_quartier("batignolles", around=(48.8840, 2.3230))
        nation = make_quartier("nation", around=FAR_AWAY)
        self.anne = make_member("Anne", at=DAMES_LEMERCIER)
        self.bruno = make_member("Bruno", at=CLICHY)
        self.modo = make_member("Modeste", at=BATIGNOLLES)
        self.far_modo = make_member("Lointain", at=FAR_AWAY)
        moderation.appoint(self.modo, batignolles.id)
        moderation.appoint(self.far_modo, nation.id)
        self.item = loans.offer_item(
            self.anne,
            loans.ItemInput(title="Perceuse", description="Avec mèches.", category="bricolage"),
        )
        self.first = photos.add_photo(self.item, jpeg_bytes(), "La perceuse de face", self.anne)
        self.second = photos.add_photo(self.item, png_bytes(), "Une boîte aux lettres", self.anne)
        self.face = photos.set_avatar(self.anne, jpeg_bytes((400, 400)), "Anne")
        db.session.commit()
        self.report = moderation.report(self.bruno, "item", self.item.id, "privacy", "Adresse")
        self.member_report = moderation.report(self.bruno, "member", self.anne.id, "abuse", "")
        db.session.commit()


@pytest.fixture
def world(app, make_member, make_quartier) -> World:
    return World(make_member, make_quartier)


def _urls(app, photo: Photo) -> list[str]:
    with app.test_request_context():
        return [photo_url(photo), thumb_url(photo)]


def test_a_moderator_removes_one_photo_from_the_report_page(app, world):
    w = world
    second_id, first_id = w.second.id, w.first.id
    second_urls = _urls(app, w.second)
    bruno = as_member(app, w.bruno)
    assert all(bruno.get(u).status_code == 200 for u in second_urls)

    m = as_member(app, w.modo)
    page = m.get(f"/moderation/reports/{w.report.id}").get_data(as_text=True)
    # Each photo shown (the thumbnail inline: readable even when the post is hidden or out
    # of the moderator's own reach), with its description and its own button.
    assert page.count("Retirer cette photo") == 2
    assert 'alt="Une boîte aux lettres"' in page
    assert 'src="data:image/jpeg;base64,' in page
    action = f"/moderation/reports/{w.report.id}/photos/{second_id}/remove"
    assert f'action="{action}"' in page

    # A reason is required: nothing happens without one.
    r = m.post(action, data={f"photo{second_id}-reason": "  "})
    assert r.status_code == 422
    assert "Écrivez la raison" in html.unescape(r.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Photo, second_id) is not None

    r = m.post(action, data={f"photo{second_id}-reason": "On lit l'adresse sur la boîte"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Photo, second_id) is None
    assert db.session.get(Photo, first_id) is not None  # the other photo stays
    row = db.session.scalars(select(ModerationAction)).one()
    assert (row.action, row.target_type, row.target_id) == ("remove_photo", "item", w.item.id)
    assert row.member_id == w.anne.id and row.moderator_id == w.modo.id
    assert row.reason == "On lit l'adresse sur la boîte"
    assert db.session.get(Report, w.report.id).status == "resolved"
    # Gone from its URLs, for everyone.
    assert all(bruno.get(u).status_code == 404 for u in second_urls)
    # The log says it plainly.
    log = text_of(m.get("/moderation/log").get_data(as_text=True))
    assert "Photo retirée · un objet n°" in log
    assert "On lit l'adresse sur la boîte" in log
    # The page now shows the one photo left.
    page = m.get(f"/moderation/reports/{w.report.id}").get_data(as_text=True)
    assert page.count("Retirer cette photo") == 1


def test_a_member_face_can_be_removed_from_a_report_on_the_member(app, world):
    w = world
    face_id = w.face.id
    m = as_member(app, w.modo)
    page = m.get(f"/moderation/reports/{w.member_report.id}").get_data(as_text=True)
    assert page.count("Retirer cette photo") == 1
    r = m.post(
        f"/moderation/reports/{w.member_report.id}/photos/{face_id}/remove",
        data={f"photo{face_id}-reason": "Photo choquante"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Photo, face_id) is None
    anne = db.session.get(type(w.anne), w.anne.id)
    assert anne.avatar_key is None
    with app.test_request_context():
        assert avatar_url(anne) is None  # back to her initials
    row = db.session.scalars(select(ModerationAction)).one()
    assert (row.action, row.target_type, row.target_id) == ("remove_photo", "member", w.anne.id)


def test_only_a_photo_of_the_reported_thing_and_only_by_its_moderators(app, world):
    w = world
    first_id, face_id = w.first.id, w.face.id
    # Someone else's photo, through this report: not found.
    other = loans.offer_item(
        w.bruno, loans.ItemInput(title="Escabeau", description="", category="bricolage")
    )
    theirs = photos.add_photo(other, jpeg_bytes(), "", w.bruno)
    db.session.commit()
    theirs_id = theirs.id
    m = as_member(app, w.modo)
    for photo_id in (theirs_id, face_id):  # the face is not the item's photo
        r = m.post(
            f"/moderation/reports/{w.report.id}/photos/{photo_id}/remove",
            data={f"photo{photo_id}-reason": "Non"},
        )
        assert r.status_code == 404
    # A moderator of another quartier, and a member who moderates nothing: 404 too.
    for who in (w.far_modo, w.bruno):
        r = as_member(app, who).post(
            f"/moderation/reports/{w.report.id}/photos/{first_id}/remove",
            data={f"photo{first_id}-reason": "Hors zone"},
        )
        assert r.status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 4
    assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 0


def test_the_service_checks_scope_reason_and_staged_photos(app, world):
    w = world
    with pytest.raises(Forbidden):
        moderation.remove_photo(w.far_modo, w.first, "Hors zone")
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        moderation.remove_photo(w.modo, w.first, "")
    db.session.rollback()
    staged = photos.stage_photo(w.anne, processing.process(jpeg_bytes()), "", "s" * 32)
    db.session.commit()
    with pytest.raises(NotFound):
        moderation.remove_photo(w.modo, staged, "Pas encore publiée")
    db.session.rollback()
    row = moderation.remove_photo(w.modo, w.first, "Visage d'un enfant")
    db.session.commit()
    assert row.action == "remove_photo" and row.target_id == w.item.id
    assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 1


def test_a_hidden_post_hides_its_photos(app, world):
    w = world
    urls = _urls(app, w.first) + _urls(app, w.second)
    bruno = as_member(app, w.bruno)
    assert [bruno.get(u).status_code for u in urls] == [200] * 4
    m = as_member(app, w.modo)
    r = m.post(f"/moderation/reports/{w.report.id}/hide", data={"hide-reason": "Adresse"})
    assert r.status_code == 302
    assert [bruno.get(u).status_code for u in urls] == [404] * 4
    # Its author still sees them (their post, marked hidden), and the moderator still
    # reads them on the report page.
    anne = as_member(app, w.anne)
    assert [anne.get(u).status_code for u in urls] == [200] * 4
    page = m.get(f"/moderation/reports/{w.report.id}").get_data(as_text=True)
    assert page.count("Retirer cette photo") == 2
    # Restored: shown again.
    r = m.post(f"/moderation/reports/{w.report.id}/restore", data={"restore-reason": "Flou"})
    assert r.status_code == 302
    assert [bruno.get(u).status_code for u in urls] == [200] * 4


def test_reporting_a_photo_reports_its_post(app, world):
    w = world
    first_id = w.first.id
    b = as_member(app, w.bruno)
    page = b.get(f"/report?type=item&id={w.item.id}&photo={first_id}").get_data(as_text=True)
    assert f"Photo n° {first_id} : " in html.unescape(page)
    # A photo of something else, or nonsense: no prefill, never an error.
    for photo in (w.face.id, 999_999, "abc", "-1", "9" * 40):
        r = b.get(f"/report?type=item&id={w.item.id}&photo={photo}")
        assert r.status_code == 200
        assert "Photo n°" not in html.unescape(r.get_data(as_text=True))
    # The face of a member is reported with the member.
    page = b.get(f"/report?type=member&id={w.anne.id}&photo={w.face.id}").get_data(as_text=True)
    assert f"Photo n° {w.face.id} : " in html.unescape(page)
