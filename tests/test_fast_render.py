"""The list pages' fast paths say exactly what the slow ones said (issue 23): a stored
point read by unpacking its WKB (geo.point_of) is shapely's point, a distance band
without the geodesic (privacy.band_between) is the geodesic's band, the dates and the
translated strings of a page looked up once for the page (formats.PageWords) are
Flask-Babel's, in both languages, across the daylight-saving changes of Europe/Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import shapely
from flask import render_template_string
from flask_babel import force_locale, format_date, format_datetime
from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape
from geographiclib.geodesic import Geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from peuplade import formats, geo, privacy
from peuplade.extensions import db
from peuplade.localtime import local_zone
from peuplade.models import Member
from peuplade.posts import queries as posts
from peuplade.posts.labels import Bands, where_shown

# Hypothesis and pytest fixtures: the app (and its database) is made once per test, not
# per example, and what the examples check does not depend on the database's rows.
FIXTURE_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
# Near Paris: the demo city and every test's city, where the bands are read.
paris_lat = st.floats(min_value=48.70, max_value=49.05, allow_nan=False)
paris_lon = st.floats(min_value=2.05, max_value=2.65, allow_nan=False)


def _encodings(lat: float, lon: float) -> list[WKBElement]:
    """The point as each backend and the app hand it over: the app's own WKB (bytes, no
    SRID), PostGIS's and SpatiaLite's EWKB (hex text with the SRID), big-endian WKB and
    EWKB, and raw bytes in a memoryview."""
    point = shapely.set_srid(Point(lon, lat), geo.SRID)
    return [
        from_shape(Point(lon, lat), srid=geo.SRID),
        WKBElement(shapely.to_wkb(point, hex=True, include_srid=True), geo.SRID, True),
        WKBElement(shapely.to_wkb(point, byte_order=0), geo.SRID),
        WKBElement(shapely.to_wkb(point, hex=True, byte_order=0, include_srid=True), 4326, True),
        WKBElement(memoryview(shapely.to_wkb(point)), geo.SRID),
    ]


# --- reading a stored point -------------------------------------------------------------


@given(lat=latitudes, lon=longitudes)
@settings(max_examples=500, deadline=None)
def test_point_of_reads_every_encoding_as_shapely_does(lat, lon):
    for element in _encodings(lat, lon):
        assert geo.point_of(element) == geo.from_element(element) == geo.LatLon(lat, lon)


def test_point_of_leaves_other_geometries_to_shapely():
    assert geo.point_of(None) is None
    # A point with a height: shapely reads it (its x and y), as before.
    with_z = WKBElement(shapely.to_wkb(Point(2.3, 48.8, 35.0)), geo.SRID)
    assert geo.point_of(with_z) == geo.from_element(with_z) == geo.LatLon(48.8, 2.3)
    # Not a point: whatever shapely says (here, that a polygon has no y), not a guess.
    square = from_shape(Polygon([(2.3, 48.8), (2.31, 48.8), (2.31, 48.81)]), srid=geo.SRID)
    with pytest.raises(AttributeError):
        geo.from_element(square)
    with pytest.raises(AttributeError):
        geo.point_of(square)


def test_point_of_reads_the_points_each_backend_stores(app, make_member):
    """Round trip through the database (SpatiaLite's AsEWKB, PostGIS's EWKB)."""
    make_member("Anne", at=(48.884623, 2.320917))
    make_member("Bruno", at=(48.87, 2.35))
    db.session.expire_all()
    members = db.session.scalars(db.select(Member)).all()
    assert len(members) == 2
    for member in members:
        for element in (member.home, member.public_position):
            assert isinstance(element, WKBElement)
            assert geo.point_of(element) == geo.from_element(element) is not None


# --- distance bands ---------------------------------------------------------------------


def _from(a: geo.LatLon, metres: float, azimuth: float) -> geo.LatLon:
    """The point ``metres`` from ``a`` towards ``azimuth`` on the ellipsoid."""
    there = Geodesic.WGS84.Direct(a.lat, a.lon, azimuth, metres)
    return geo.LatLon(there["lat2"], there["lon2"])


def _geodesic_band(a: geo.LatLon, b: geo.LatLon) -> str | None:
    return privacy.distance_band(geo.geodesic_distance_m(a, b))


@given(lat1=paris_lat, lon1=paris_lon, lat2=paris_lat, lon2=paris_lon)
@settings(max_examples=3000, deadline=None)
def test_band_between_two_points_near_paris_is_the_geodesic_band(lat1, lon1, lat2, lon2):
    a, b = geo.LatLon(lat1, lon1), geo.LatLon(lat2, lon2)
    assert privacy.band_between(a, b) == _geodesic_band(a, b)


@given(
    lat=paris_lat,
    lon=paris_lon,
    bound=st.sampled_from([bound for bound, _label in privacy.BANDS]),
    off=st.floats(min_value=-2.0, max_value=2.0),
    azimuth=st.floats(min_value=-180, max_value=180),
)
@settings(max_examples=3000, deadline=None)
def test_band_between_points_on_a_band_edge_is_the_geodesic_band(lat, lon, bound, off, azimuth):
    """Within millimetres of a band's bound, where a flat distance alone could fall on
    the wrong side of it."""
    a = geo.LatLon(lat, lon)
    b = _from(a, bound + off, azimuth)
    assert privacy.band_between(a, b) == _geodesic_band(a, b)
    assert privacy.band_between(b, a) == _geodesic_band(b, a)


@given(lat1=latitudes, lon1=longitudes, lat2=latitudes, lon2=longitudes)
@settings(max_examples=500, deadline=None)
def test_band_between_any_two_points_is_the_geodesic_band(lat1, lon1, lat2, lon2):
    a, b = geo.LatLon(lat1, lon1), geo.LatLon(lat2, lon2)
    assert privacy.band_between(a, b) == _geodesic_band(a, b)


@given(
    lat=st.floats(min_value=-80, max_value=80),
    lon=longitudes,
    metres=st.floats(min_value=0, max_value=12_000),
    azimuth=st.floats(min_value=-180, max_value=180),
)
@settings(max_examples=3000, deadline=None)
def test_the_flat_distance_is_far_closer_to_the_geodesic_than_its_margin(lat, lon, metres, azimuth):
    """Where band_between takes the flat distance, it is within a tenth of the margin
    that sends a point near a bound to the geodesic."""
    a = geo.LatLon(lat, lon)
    b = _from(a, metres, azimuth)
    flat = privacy.flat_distance_m(a, b)
    if flat is not None:
        error = abs(flat - geo.geodesic_distance_m(a, b))
        assert error <= privacy._FLAT_MARGIN_M / 10


def test_band_between_needs_two_positions():
    here = geo.LatLon(48.88, 2.32)
    assert privacy.band_between(None, here) is None
    assert privacy.band_between(here, None) is None


def _post(position: WKBElement | None, author_id: int = 2, quartier_id: int | None = None):
    return SimpleNamespace(position=position, author_id=author_id, quartier_id=quartier_id)


def test_a_page_s_bands_are_the_posts_bands(app):
    """Bands (one per page) say what posts.queries.distance_band and the former
    where_shown said, for others' posts, mine, quartier news and a viewer without a
    public position."""
    here = geo.LatLon(48.88335, 2.31841)
    viewer = SimpleNamespace(id=1, public_position=geo.to_element(here))
    bands = Bands(viewer)
    with app.test_request_context():
        for metres in (0, 100, 249.9, 250.1, 700, 1000, 2400, 4000, 5999, 6001, 9000):
            for azimuth in (0, 45, 135, 270):
                post = _post(geo.to_element(_from(here, metres, azimuth)))
                # The geodesic's band the slow way (shapely, geographiclib): not the code
                # under test.
                expected = _geodesic_band(here, geo.from_element(post.position))
                assert expected is not None
                assert posts.distance_band(viewer, post) == expected
                assert bands.band(post) == bands.band_of_others(post) == expected
                assert bands.where(post) == where_shown(viewer, post) == expected
                mine = _post(post.position, author_id=viewer.id)
                assert bands.where(mine) is None and bands.band_of_others(mine) is None
                assert bands.band(mine) == expected
        news = _post(geo.to_element(here), quartier_id=7)
        assert bands.where(news) == "tout le quartier"
        with force_locale("en"):
            assert Bands(viewer).where(news) == "whole quartier"
        nowhere = SimpleNamespace(id=1, public_position=None)
        assert Bands(nowhere).band(_post(geo.to_element(here))) is None


# --- dates and translated strings -------------------------------------------------------


def _former_long_date(value) -> str:
    """The ``long_date`` filter as it was (exchanges/routes.py)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(local_zone()).date()
    return format_date(value, format="long")


def _former_local_datetime(value) -> str:
    """The ``local_datetime`` filter as it was (news/routes.py)."""
    if value is None:
        return ""
    return format_datetime(value.astimezone(local_zone()), "EEEE d MMMM y, HH:mm", rebase=False)


# Around the daylight-saving changes of Europe/Paris (last Sundays of March and October,
# at 01:00 UTC) and around midnight, local and UTC, every quarter of an hour.
_CHANGES = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
TRICKY_INSTANTS = [
    change + timedelta(minutes=15 * k) for change in _CHANGES for k in range(-12, 13)
] + [datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 0, tzinfo=UTC)]
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
)


def _page(template: str, **values) -> str:
    """A template rendered as pages are (the context processors run)."""
    return render_template_string(template, **values)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_dates_of_a_page_are_flask_babel_s_across_the_clock_changes(app, language):
    template = "{{ v | long_date }}|{{ v | local_datetime }}"
    with app.test_request_context(), force_locale(language):
        for value in TRICKY_INSTANTS:
            expected = f"{_former_long_date(value)}|{_former_local_datetime(value)}"
            assert _page(template, v=value) == expected
            # A template without the page's helpers (a macro imported without context).
            assert app.jinja_env.from_string(template).render(v=value) == expected
        day = date(2026, 3, 29)
        assert _page("{{ d | long_date }}", d=day) == _former_long_date(day)
        assert _page("[{{ v | long_date }}{{ v | local_datetime }}]", v=None) == "[]"
        if language == "fr":
            assert _page(template, v=datetime(2026, 3, 14, 17, 30, tzinfo=UTC)) == (
                "14 mars 2026|samedi 14 mars 2026, 18:30"
            )
            # 00:30 UTC on 29 March is 01:30 in winter time; 01:30 UTC is 03:30 in summer.
            assert _page("{{ v | local_datetime }}", v=_CHANGES[0] + timedelta(minutes=30)) == (
                "dimanche 29 mars 2026, 03:30"
            )


@given(value=instants, language=st.sampled_from(["fr", "en"]))
@FIXTURE_SETTINGS
def test_dates_of_a_page_are_flask_babel_s_any_day(app, value, language):
    with app.test_request_context(), force_locale(language):
        words = formats.PageWords()
        assert words.long_date(value) == _former_long_date(value)
        assert words.long_date(value.date()) == _former_long_date(value.date())
        assert words.local_datetime(value) == _former_local_datetime(value)


def test_a_page_s_words_follow_the_language_of_each_page(app):
    """The words are kept per language: a French page never shows English ones."""
    value = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("en"):
            assert _page("{{ v | long_date }}", v=value) == "May 1, 2026"
        with force_locale("fr"):
            assert _page("{{ v | long_date }}", v=value) == "1 mai 2026"


# Strings of the catalogue, with and without variables, one with markup to escape, and
# the plural forms (the page's ngettext against Flask-Babel's, through Jinja's i18n).
STRINGS = (
    "{{ _('Fil du voisinage') }}|{{ _('Par %(name)s', name=who) }}|"
    "{{ _('Info : %(kind)s', kind=kind) }}|{{ _('Distance :') }}|{{ _('Pas au catalogue') }}|"
    "{{ ngettext('%(num)s réponse', '%(num)s réponses', n) }}|"
    "{{ ngettext('%(num)s non lu', '%(num)s non lus', n) }}|"
    "{% trans name=who %}Bonjour {{ name }}{% endtrans %}"
)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("n", [0, 1, 2, 21])
def test_a_page_s_translations_are_flask_babel_s(app, language, n):
    values = {"who": "<b>Anne & Bruno</b>", "kind": "Perdu / trouvé", "n": n}
    with app.test_request_context(), force_locale(language):
        page = _page(STRINGS, **values)
        # Flask-Babel's own callables (the environment's globals, no context processor).
        assert page == app.jinja_env.from_string(STRINGS).render(**values)
        assert "&lt;b&gt;Anne &amp; Bruno&lt;/b&gt;" in page
        assert ("Neighbourhood feed" in page) == (language == "en")
