"""Location privacy: public positions, distance bands, and no home coordinates leaking."""

from __future__ import annotations

import math
import re

import pytest

from peuplade import geo, privacy
from peuplade.account import blur
from peuplade.extensions import db
from peuplade.models import Member
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER


def _shown_at(home: geo.LatLon, level: int = 0) -> geo.LatLon:
    """Where the app shows a member living at ``home`` at ``level``: the centre of that
    level's cell (account/blur.py; level 0 while crowd-blurring is off, as in these
    tests)."""
    return privacy.centre(privacy.cells(home)[level])


def _shown(member: Member) -> geo.LatLon:
    """The public position the app stored for ``member``, read again."""
    db.session.refresh(member)
    return geo.from_element(member.public_position)


def test_a_member_is_shown_at_a_stable_point_of_their_cell_not_at_home(app, make_member):
    home = geo.lat_lon(48.884623, 2.320917)
    member = make_member("Anne", at=(home.lat, home.lon))
    shown = _shown(member)
    assert blur.shown_level(member) == 0
    assert shown == _shown_at(home)
    # Half the diagonal of a ~222 m cell at most, and not the home itself.
    moved = geo.geodesic_distance_m(home, shown)
    assert 0 < moved <= privacy.GRID_METRES * math.sqrt(2) / 2 + 1
    # Stable: a neighbour in the same cell, the same home again, the daily job, asking
    # again and again: one point, so nothing averages out.
    near = geo.lat_lon(home.lat + 0.00003, home.lon + 0.00003)
    assert privacy.cells(near)[0] == privacy.cells(home)[0]
    neighbour = make_member("Bruno", at=(near.lat, near.lon))
    twin = make_member("Chloé", at=(home.lat, home.lon))
    blur.refresh_all()
    db.session.commit()
    assert _shown(member) == _shown(neighbour) == _shown(twin) == shown
    assert all(_shown_at(home) == shown for _ in range(5))


@pytest.mark.parametrize("level", range(privacy.LEVELS))
def test_every_level_shows_a_fixed_point_within_its_cell(level):
    home = geo.lat_lon(48.884623, 2.320917)
    first = _shown_at(home, level)
    assert all(_shown_at(home, level) == first for _ in range(5))
    moved = geo.geodesic_distance_m(home, first)
    # Half the diagonal of the level's cell at most, and not the home itself.
    assert 0 < moved <= privacy.GRID_METRES * privacy.FACTOR**level * math.sqrt(2) / 2 + 1


def test_homes_in_one_cell_share_where_they_are_shown():
    base = _shown_at(geo.lat_lon(48.8846, 2.3209))
    # Walk a few metres around: most neighbours of a point share the cell centre.
    same = sum(
        _shown_at(geo.lat_lon(48.8846 + dy * 1e-5, 2.3209 + dx * 1e-5)) == base
        for dx in range(-3, 4)
        for dy in range(-3, 4)
    )
    assert same >= 25


@pytest.mark.parametrize("lat", [0.0, 48.88, 60.0, -33.9])
def test_cells_are_roughly_square_everywhere(lat):
    a = _shown_at(geo.lat_lon(lat, 10.0))
    # The next cell to the east is one cell-width away, in metres, at any latitude.
    step = privacy.GRID_LAT_DEG / math.cos(math.radians(a.lat))
    b = _shown_at(geo.lat_lon(a.lat, a.lon + step))
    width = geo.geodesic_distance_m(a, b)
    assert 200 <= width <= 240


@pytest.mark.parametrize(
    ("metres", "label"),
    [
        (0, "< 250 m"),
        (249, "< 250 m"),
        (250, "~500 m"),
        (700, "~500 m"),
        (1000, "~1 km"),
        (2000, "~2 km"),
        (4999, "~5 km"),
        (7000, "> 5 km"),
    ],
)
def test_distance_bands(metres, label):
    assert privacy.distance_band(metres) == label


def _coordinate_patterns(pos: geo.LatLon) -> list[re.Pattern]:
    """A home written with 4+ decimals (~11 m, finer than the grid), rounded or truncated."""
    patterns = []
    for value in (pos.lat, pos.lon):
        text = f"{value:.10f}"
        whole, decimals = text.split(".")
        for n in (4, 5, 6):
            rounded = f"{round(value, n):.{n}f}"
            patterns.append(re.compile(re.escape(rounded) + r"(?!\d)"))
            patterns.append(re.compile(re.escape(f"{whole}.{decimals[:n]}")))
    return patterns


def _other_homes_leaked(body: str, members: list[Member]) -> list[str]:
    leaks = []
    for member in members:
        home = geo.from_element(member.home)
        for pattern in _coordinate_patterns(home):
            if pattern.search(body):
                leaks.append(f"{member.display_name}: {pattern.pattern}")
    return leaks


def _readable(response) -> str:
    """A response as text; a ZIP (the data export) as the text of every file in it."""
    if response.mimetype != "application/zip":
        return response.get_data(as_text=True)
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8" if name.endswith(".json") else "latin-1")
            for name in archive.namelist()
        )


def _get_routes(app) -> list[str]:
    """Every parameter-free GET page of the app, plus profile pages."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.arguments:
            continue
        paths.append(rule.rule)
    return sorted(paths)


# Homes chosen so that no cell centre shares 3 decimals with them by accident.
HOMES = {
    "Alice": (48.884137, 2.319713),
    "Bruno": (48.883371, 2.327181),
    "Chloé": (48.885591, 2.321436),
}
VIEWER_HOME = (48.886524, 2.316248)  # its own page may show it: it shares no 4 decimals


def test_no_page_or_api_answer_shows_another_members_home(app, client, make_member, api):
    viewer = make_member("Viewer", at=VIEWER_HOME, radius_m=2000, skills=["bricolage"])
    others = [
        make_member(name, at=at, radius_m=2000, skills=["bricolage"], tags=["vélo"])
        for name, at in HOMES.items()
    ]
    client.post("/login", data={"email": viewer.email, "password": "lampe tempête 42 cerises"})
    api.login(viewer.email)
    # Made first, so lists, notifications and pages have them when crawled.
    ids = _things_made_by(others, viewer)
    # Photos taken at home, their GPS position in EXIF and XMP (issue 22).
    shown_photos = _photos_taken_at_home(others)
    paths = _get_routes(app)
    assert "/neighbours" in paths and "/api/v1/me" in paths  # the crawl covers real pages
    assert "/notifications" in paths
    bodies: dict[str, str] = {}
    for path in paths:
        for query in ("", "?skill=bricolage", "?skill=v%C3%A9lo"):
            response = (
                client.get(path + query, headers={"Authorization": f"Bearer {api.token}"})
                if path.startswith("/api/")
                else client.get(path + query)
            )
            assert response.status_code < 500, path
            bodies[path + query] = _readable(response)
    # Every GET page that takes one id, with the ids of everything that exists: each
    # neighbour's profile, their exchange (with a response and thanks) and their object
    # (with a loan), whatever the route calls them.
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or len(rule.arguments) != 1 or rule.endpoint == "static":
            continue
        (name,) = rule.arguments
        for ident in ids:
            path = rule.rule.replace(f"<{name}>", str(ident))
            path = path.replace(f"<int:{name}>", str(ident))
            path = path.replace(f"<int(max=2147483647):{name}>", str(ident))
            if "<" in path:
                continue
            headers = {"Authorization": f"Bearer {api.token}"} if path.startswith("/api/") else {}
            response = client.get(path, headers=headers)
            assert response.status_code < 500, path
            bodies[path] = response.get_data(as_text=True)
    # The pages reached from emails (signed links, no login).
    from sqlalchemy import select

    from peuplade.extensions import db
    from peuplade.models import Post
    from peuplade.notifications import links
    from peuplade.notifications.services import expiry_stamp

    for post in db.session.scalars(select(Post).where(Post.type.in_(("exchange", "item")))):
        token = links.keep_open_token(post.id, expiry_stamp(post))
        bodies[f"/keep-open/{post.id}"] = client.get(f"/keep-open/{token}").get_data(as_text=True)
    token = links.unsubscribe_token(viewer.id, "message")
    bodies["/unsubscribe"] = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    # The photos themselves: every variant, as bytes, and as text.
    from peuplade.photos.urls import photo_url
    from tests.photofiles import coordinate_needles

    for photo in shown_photos:
        for variant in ("full", "thumb"):
            with app.test_request_context():
                path = photo_url(photo, variant)
            response = client.get(path)
            assert response.status_code == 200, path
            content = response.get_data()
            for member in others:
                home = geo.from_element(member.home)
                found = [n for n in coordinate_needles(home.lat, home.lon) if n in content]
                assert found == [], (path, member.display_name, found)
            bodies[path] = content.decode("latin-1")
    # The crawl really saw the neighbours (so a leak would have had a chance to show).
    assert "Bruno" in bodies["/notifications"] and "Alice vous a écrit." in bodies["/notifications"]
    assert any("Chloé" in body for body in bodies.values())
    assert any("Porter un canapé" in body for body in bodies.values())
    leaks = {path: _other_homes_leaked(body, others) for path, body in bodies.items()}
    assert {p: v for p, v in leaks.items() if v} == {}


def _things_made_by(others, viewer) -> set[int]:
    """An exchange, a response, thanks and (when loans exist) an object and a loan made by
    the other members; returns every id in use."""
    from sqlalchemy import select

    from peuplade.exchanges import services as exchanges
    from peuplade.extensions import db
    from peuplade.models import Loan, Post

    alice, bruno = others[0], others[1]
    exchange = exchanges.create_exchange(
        alice,
        exchanges.ExchangeInput(
            kind="request", title="Porter un canapé", body="Samedi.", category="demenagement"
        ),
    )
    exchanges.respond(exchange, bruno, "Je viens.")
    exchanges.respond(exchange, viewer, "Moi aussi.")
    exchanges.close_exchange(exchange, alice, "done", bruno.id)
    exchanges.thank(exchange, alice, "Merci !")
    try:
        from peuplade.loans import services as loans
        from peuplade.localtime import today
    except ImportError:  # before loans existed
        loans = None
    if loans is not None:
        from datetime import timedelta

        item = loans.offer_item(
            bruno,
            loans.ItemInput(title="Perceuse", description="Avec mèches.", category="bricolage"),
        )
        loan = loans.request_loan(
            item, viewer, today() + timedelta(days=1), today() + timedelta(days=2)
        )
        loans.accept(loan, bruno)
    from peuplade.messages import services as messages

    messages.start(alice, viewer, "Bonjour, vous êtes du quartier ?")
    db.session.commit()
    ids = {m.id for m in others} | set(db.session.scalars(select(Post.id)))
    ids |= set(db.session.scalars(select(Loan.id)))
    return ids


def _photos_taken_at_home(others) -> list:
    """A photo on each post of the others and a face for each, every one sent with its
    author's home in its EXIF, XMP and IPTC blocks (tests/photofiles.py)."""
    from sqlalchemy import select

    from peuplade.extensions import db
    from peuplade.models import Post
    from peuplade.photos import services as photos
    from tests.photofiles import coordinate_needles, jpeg_with_gps

    shown = []
    for member in others:
        home = geo.from_element(member.home)
        sent = jpeg_with_gps(home.lat, home.lon)
        assert [n for n in coordinate_needles(home.lat, home.lon) if n in sent]  # a real leak
        for post in db.session.scalars(select(Post).where(Post.author_id == member.id)):
            if photos.max_photos(post):
                shown.append(photos.add_photo(post, sent, "", member))
        shown.append(photos.set_avatar(member, sent))
    db.session.commit()
    assert len(shown) >= len(others) + 2  # faces, the exchange's and the object's photos
    return shown


def test_the_leak_check_catches_a_leak(app, make_member):
    """Guard: the detector above does find a home written in a page."""
    member = make_member("Alice", at=HOMES["Alice"])
    home = geo.from_element(member.home)
    assert _other_homes_leaked(f'<div data-lat="{home.lat:.5f}">', [member])
    assert _other_homes_leaked(f'{{"lon": {home.lon}}}', [member])
    public = geo.from_element(member.public_position)
    assert not _other_homes_leaked(f'{{"lat": {public.lat}, "lon": {public.lon}}}', [member])


def test_members_near_each_other_see_bands_not_metres(app, make_member):
    from peuplade.extensions import db
    from peuplade.neighbours.queries import neighbours

    viewer = make_member("Viewer", at=BATIGNOLLES, radius_m=1000)
    make_member("Near", at=DAMES_LEMERCIER, skills=["jardinage"])
    make_member("Clichy", at=CLICHY, skills=["jardinage"])
    rows = db.session.execute(neighbours(viewer, "jardinage")).all()
    labels = {row[0].display_name: privacy.band_label_for_rank(row.band_rank) for row in rows}
    assert set(labels) == {"Near", "Clichy"}
    assert labels["Clichy"] == "~500 m"
    assert labels["Near"] in {"< 250 m", "~500 m"}


def test_quartier_comes_from_the_public_cell_not_the_home(app, make_member, make_quartier):
    """Two homes of one cell, on either side of a quartier boundary, show one quartier."""
    centre = _shown_at(geo.lat_lon(48.8851, 2.3209))
    boundary = centre.lon + 0.0005  # the street runs just east of the cell centre
    for slug, west, east in (("ouest", 2.30, boundary), ("est", boundary, 2.34)):
        make_quartier(slug, bounds=(west, 48.87, east, 48.90))
    west_home = (centre.lat + 0.0003, boundary - 0.0004)
    east_home = (centre.lat - 0.0003, boundary + 0.0004)
    a, b = make_member("Ouest", at=west_home), make_member("Est", at=east_home)
    assert a.public_position == b.public_position or geo.from_element(
        a.public_position
    ) == geo.from_element(b.public_position)
    assert a.quartier.slug == b.quartier.slug == "ouest"


def test_database_errors_are_logged_without_personal_data(make_app, caplog):
    """A failing statement is logged with its type and place, never with its parameters
    or the server's "failing row" details (which hold emails and positions)."""
    import logging

    from sqlalchemy import text

    from peuplade.extensions import db

    app = make_app()

    @app.get("/_failing_statement")
    def failing_statement():
        db.session.execute(
            text("INSERT INTO members (id, email, display_name) VALUES (1, :email, :lat)"),
            {"email": "anne.secret@example.org", "lat": "48.88335"},
        )
        return "unreachable"

    app.view_functions["failing_statement"].peuplade_public = True
    with caplog.at_level(logging.INFO):
        response = app.test_client().get("/_failing_statement")
    assert response.status_code == 500
    assert "anne.secret" not in response.get_data(as_text=True)
    logged = caplog.text
    assert "failing_statement" in logged or "_failing_statement" in logged  # it was logged
    assert "anne.secret" not in logged and "48.88335" not in logged


def test_profile_visible_when_their_radius_covers_me(app, make_member):
    """The other half of visible_members: B's small radius does not reach A, but A's wide
    radius reaches B, so B may open A's profile."""
    from peuplade.account.queries import get_member_or_404
    from peuplade.errors import NotFound

    wide = make_member("Large", at=BATIGNOLLES, radius_m=5000)
    small = make_member("Petit", at=(48.8600, 2.3400), radius_m=200)
    stranger = make_member("Loin", at=(48.8300, 2.3900), radius_m=200)
    assert get_member_or_404(small, wide.id) == wide
    with pytest.raises(NotFound):
        get_member_or_404(stranger, wide.id)
    with pytest.raises(NotFound):
        get_member_or_404(small, stranger.id)
