"""Planted accounts cannot steer a member's public position (issue 19).

The attacks that worked against the first crowd-blurring, played through the app with
the production rule (3 members per cell): accounts registered through the public API
around an isolated member, then ``flask privacy-refresh``. The victim's published
position - read as any neighbour reads it, the position of the victim's object - does
not move while the planted accounts are not established (e-mail confirmed, 30 days
old), even a stable period later; an established crowd that has held does refine it
(the feature still works). Coarsening stays immediate. Each guard is in
peuplade/account/blur.py (``established``, the stable period, ``after_leaving``,
the member's floor).
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from shapely.geometry import Polygon
from sqlalchemy import select, update

from peuplade import geo, privacy
from peuplade.account import blur
from peuplade.account import services as account
from peuplade.account.tokens import new_token
from peuplade.extensions import db
from peuplade.gdpr import services as gdpr
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.models import Item, Member, Quartier, utcnow
from peuplade.moderation import services as moderation
from tests.conftest import PASSWORD
from tests.helpers.crowds import establish, member_at, offset, settle
from tests.helpers.quartiers import add_quartier

# The centre of a ~222 m cell in the 17e: planted homes within 60 m stay in it.
VICTIM_HOME = privacy.centre(privacy.cells(geo.lat_lon(48.8870, 2.3150))[0])


@pytest.fixture
def crowd_app(make_app):
    app = make_app(PRIVACY_CROWD_MIN=3)
    with app.app_context():
        yield app


@pytest.fixture
def client(crowd_app):
    """This app's client (the ``client`` of conftest serves an app of its own, with
    crowd-blurring off)."""
    return crowd_app.test_client()


class Scene:
    """An isolated victim with an object, and a neighbour who reads where it is shown
    through the API (as anyone living nearby can)."""

    def __init__(self, client, victim_home: geo.LatLon = VICTIM_HOME):
        self.client = client
        self.victim = member_at("Victime", victim_home)
        loans.offer_item(self.victim, loans.ItemInput(title="Escabeau", category="bricolage"))
        observer = member_at("Observatrice", offset(victim_home, 1500, 0), radius_m=3000)
        db.session.commit()
        settle()
        self.token = new_token(observer)[0]
        db.session.commit()
        self.cells = privacy.cells(geo.from_element(self.victim.home))
        self.planted: list[int] = []

    def published(self) -> geo.LatLon:
        """Where the victim's object is shown, read through the API."""
        answer = self.client.get(
            "/api/v1/items?limit=100", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert answer.status_code == 200
        mine = [i for i in answer.get_json()["items"] if i["lender"]["id"] == self.victim.id]
        assert len(mine) == 1
        return geo.lat_lon(mine[0]["position"]["lat"], mine[0]["position"]["lon"])

    def plant(self, at: geo.LatLon) -> None:
        """A fresh account registered through the public API at ``at``."""
        n = len(self.planted)
        email = f"faux{n}@example.org"
        answer = self.client.post(
            "/api/v1/members",
            json={
                "email": email,
                "password": PASSWORD,
                "display_name": f"Faux {n}",
                "location": {"lat": at.lat, "lon": at.lon},
            },
        )
        assert answer.status_code < 300, answer.get_json()
        self.planted.append(db.session.scalar(select(Member.id).where(Member.email == email)))

    def confirm_planted(self) -> None:
        """The attacker owns the mailboxes: every planted e-mail is confirmed."""
        db.session.execute(
            update(Member).where(Member.id.in_(self.planted)).values(email_confirmed_at=utcnow())
        )
        db.session.commit()


def _refresh(now=None) -> blur.Summary:
    summary = blur.refresh_all(now=now)
    db.session.commit()
    return summary


def test_six_fresh_accounts_next_to_a_lone_member_leave_them_where_they_were(crowd_app, client):
    scene = Scene(client)
    coarse = privacy.centre(scene.cells[2])
    assert scene.published() == coarse  # alone in their ~890 m cell
    for n in range(6):
        angle = n * math.pi / 3
        scene.plant(offset(VICTIM_HOME, 55 * math.sin(angle), 55 * math.cos(angle)))
    assert all(
        privacy.cells(geo.from_element(db.session.get(Member, i).home))[0] == scene.cells[0]
        for i in scene.planted
    )
    assert scene.published() == coarse  # immediately
    _refresh()
    assert scene.published() == coarse  # after the daily job
    scene.confirm_planted()
    _refresh()
    _refresh(now=utcnow() + timedelta(days=8))
    assert scene.published() == coarse  # confirmed, a stable period later: still too young
    # Old enough, but never confirmed: they do not count either.
    db.session.execute(
        update(Member)
        .where(Member.id.in_(scene.planted))
        .values(email_confirmed_at=None, created_at=utcnow() - timedelta(days=40))
    )
    db.session.commit()
    _refresh()
    _refresh(now=utcnow() + timedelta(days=8))
    assert scene.published() == coarse

    # Once they have been established members for the stable period, the crowd is real
    # enough: the position becomes finer (the feature still works).
    establish(ids=scene.planted)
    _refresh()
    assert scene.published() == coarse  # crowded since today only
    _refresh(now=utcnow() + timedelta(days=8))
    assert scene.published() == privacy.centre(scene.cells[0])


def test_lighting_up_quarters_then_cells_does_not_narrow_a_lone_member_down(crowd_app, client):
    """Two accounts in each ~444 m quarter of the victim's ~890 m cell, then two in each
    ~222 m cell of the victim's quarter: 16 sign-ups, then the daily job."""
    scene = Scene(client)
    coarse = privacy.centre(scene.cells[2])
    quarters = sorted(
        {
            privacy.cells(offset(VICTIM_HOME, n, e))[1]
            for n in range(-900, 901, 111)
            for e in range(-900, 901, 111)
        }
        - {None}
    )
    quarters = [q for q in quarters if privacy.cells(privacy.centre(q))[2] == scene.cells[2]]
    assert len(quarters) == 4
    for quarter in quarters:
        centre = privacy.centre(quarter)
        for dn in (-20, 20):
            scene.plant(offset(centre, dn, dn))
    _refresh()
    assert scene.published() == coarse
    fine_cells = sorted(
        {
            privacy.cells(offset(privacy.centre(scene.cells[1]), n, e))[0]
            for n in (-111, 111)
            for e in (-111, 111)
        }
    )
    assert len(fine_cells) == 4 and scene.cells[0] in fine_cells
    for fine in fine_cells:
        centre = privacy.centre(fine)
        for dn in (-20, 20):
            scene.plant(offset(centre, dn, -dn))
    scene.confirm_planted()
    _refresh()
    _refresh(now=utcnow() + timedelta(days=8))
    assert scene.published() == coarse
    # Deleting the planted accounts changes nothing either.
    for member_id in scene.planted:
        gdpr.delete_account(db.session.get(Member, member_id), PASSWORD)
    db.session.commit()
    assert scene.published() == coarse


def test_an_established_neighbour_moving_in_refines_nobody_before_the_job(crowd_app, client):
    scene = Scene(client)
    near = member_at("Voisin", offset(VICTIM_HOME, -15, 10))
    far = member_at("Arrivant", offset(VICTIM_HOME, 3000, 3000))
    settle()
    # The victim and one established neighbour in the cell: not three yet.
    assert scene.published() == privacy.centre(scene.cells[2])
    account.change_home(far, LocationInput(lat=VICTIM_HOME.lat, lon=VICTIM_HOME.lon))
    db.session.commit()
    assert scene.published() == privacy.centre(scene.cells[2])  # nothing before the job
    _refresh()
    assert scene.published() == privacy.centre(scene.cells[2])  # nor before it has held
    _refresh(now=utcnow() + timedelta(days=8))
    assert scene.published() == privacy.centre(scene.cells[0])
    assert privacy.cells(geo.from_element(near.home))[0] == scene.cells[0]


@pytest.mark.parametrize("leaves", ["moves", "deleted", "banned", "suspended", "floor raised"])
def test_a_shrinking_crowd_coarsens_at_once(crowd_app, client, leaves):
    scene = Scene(client)
    others = [member_at(f"Voisin {n}", offset(VICTIM_HOME, 30 * n - 15, 10)) for n in range(2)]
    settle()
    assert scene.published() == privacy.centre(scene.cells[0])
    one = others[0]
    moderator = member_at("Modératrice", offset(VICTIM_HOME, 2000, 0))
    moderator.is_admin = True
    db.session.commit()
    if leaves == "moves":
        account.change_home(one, LocationInput(lat=48.84, lon=2.40))
    elif leaves == "deleted":
        gdpr.delete_account(one, PASSWORD)
    elif leaves == "banned":
        moderation.ban(moderator, one, "Faux compte")
    elif leaves == "suspended":
        moderation.suspend(moderator, one, 3, "Comportement")
    else:  # no longer willing to be shown that finely: no longer part of that crowd
        blur.set_floor(one, "900m")
    db.session.commit()
    # The 444 m cell still holds only these members: the coarsest cell, at once.
    assert scene.published() == privacy.centre(scene.cells[2])
    item = db.session.scalar(select(Item).where(Item.author_id == scene.victim.id))
    assert item.cell_fine == geo.feed_cell(privacy.centre(scene.cells[2]), "fine")


def test_a_report_filed_by_a_member_moves_nobody(crowd_app, client):
    """Reports are free to file: were a reported member no longer counted, anyone could
    coarsen a cell at will and watch who moves."""
    scene = Scene(client)
    others = [member_at(f"Voisin {n}", offset(VICTIM_HOME, 30 * n - 15, 10)) for n in range(2)]
    settle()
    assert scene.published() == privacy.centre(scene.cells[0])
    moderation.report(scene.victim, "member", others[0].id, "spam")
    db.session.commit()
    assert scene.published() == privacy.centre(scene.cells[0])
    _refresh()
    assert scene.published() == privacy.centre(scene.cells[0])


def test_a_crowd_held_for_less_than_the_stable_period_refines_nothing(crowd_app, client):
    scene = Scene(client)
    [member_at(f"Voisin {n}", offset(VICTIM_HOME, 30 * n - 15, 10)) for n in range(2)]
    establish()
    _refresh(now=utcnow() - timedelta(days=6))
    _refresh()
    assert scene.published() == privacy.centre(scene.cells[2])  # 6 days: not yet
    _refresh(now=utcnow() + timedelta(days=2))
    assert scene.published() == privacy.centre(scene.cells[0])  # 8 days


def test_a_neighbour_with_a_coarser_floor_makes_no_finer_crowd(crowd_app, client):
    """Three established members in one ~222 m cell, one of whom wants to be shown at
    ~900 m only: the cell is no crowd (counting them would tell where they live)."""
    scene = Scene(client)
    shy, other = (member_at(f"Voisin {n}", offset(VICTIM_HOME, 30 * n - 15, 10)) for n in range(2))
    blur.set_floor(shy, "900m")
    db.session.commit()
    settle()
    assert scene.published() == privacy.centre(scene.cells[2])
    assert geo.from_element(db.session.get(Member, shy.id).public_position) == privacy.centre(
        scene.cells[2]
    )
    assert other


def test_my_floor_is_never_crossed(crowd_app, client):
    scene = Scene(client)
    [member_at(f"Voisin {n}", offset(VICTIM_HOME, 30 * n - 15, 10)) for n in range(2)]
    settle()
    assert scene.published() == privacy.centre(scene.cells[0])
    assert blur.set_floor(scene.victim, "900m") == 2
    db.session.commit()
    assert scene.published() == privacy.centre(scene.cells[2])
    # No longer counted in the finer crowds: the two others are too few there, at once.
    for other in db.session.scalars(select(Member).where(Member.display_name.like("Voisin%"))):
        assert geo.from_element(other.public_position) == privacy.centre(scene.cells[2])
    _refresh(now=utcnow() + timedelta(days=30))
    assert scene.published() == privacy.centre(scene.cells[2])  # the job respects it
    # Back to ~450 m: the crowds the victim rejoins refine as any crowd does, slowly.
    assert blur.set_floor(scene.victim, "450m") == 2
    db.session.commit()
    _refresh()
    _refresh(now=utcnow() + timedelta(days=8))
    assert scene.published() == privacy.centre(scene.cells[1])
    assert blur.shown_level(db.session.get(Member, scene.victim.id)) == 1

    # "My quartier only": a fixed point inside the quartier, the same for everyone there.
    box = privacy.centre(scene.cells[2])
    ring = Polygon(
        [
            (box.lon - 0.02, box.lat - 0.02),
            (box.lon + 0.02, box.lat - 0.02),
            (box.lon + 0.02, box.lat + 0.02),
            (box.lon - 0.02, box.lat + 0.02),
        ]
    )
    db.session.add(
        Quartier(
            slug="epinettes",
            name="Épinettes",
            geom=geo.geometry_from_wkt(
                f"MULTIPOLYGON((({', '.join(f'{x} {y}' for x, y in ring.exterior.coords)})))"
            ),
        )
    )
    db.session.commit()
    assert blur.set_floor(scene.victim, "quartier") == blur.QUARTIER_LEVEL
    db.session.commit()
    point = ring.representative_point()
    assert scene.published() == geo.lat_lon(round(point.y, 6), round(point.x, 6))
    assert db.session.get(Member, scene.victim.id).quartier.slug == "epinettes"
    _refresh(now=utcnow() + timedelta(days=30))
    assert scene.published() == geo.lat_lon(round(point.y, 6), round(point.x, 6))
    with pytest.raises(account.ValidationFailed):
        blur.set_floor(scene.victim, "10m")


def test_a_quartier_too_large_shows_the_coarsest_cell_instead(crowd_app, client):
    """A "quartier only" position stays within privacy.PUBLIC_OFFSET_MAX_M of the home
    (whom a post reaches is pre-filtered with that margin): in a quartier whose point
    lies far from the member's cell, the coarsest cell is shown instead."""
    scene = Scene(client)
    coarse = privacy.centre(scene.cells[2])
    # 400 m south of the cell, 6 km north: its inner point is kilometres away.
    south, north = coarse.lat - 0.0036, coarse.lat + 0.054
    west, east = coarse.lon - 0.004, coarse.lon + 0.004
    add_quartier("immense", bounds=(west, south, east, north))
    assert blur.set_floor(scene.victim, "quartier") == blur.QUARTIER_LEVEL
    db.session.commit()
    assert scene.published() == coarse
    home = geo.from_element(db.session.get(Member, scene.victim.id).home)
    assert geo.geodesic_distance_m(scene.published(), home) < privacy.PUBLIC_OFFSET_MAX_M
    assert _refresh().coarser == 0  # shown there for good, not moved again every day
