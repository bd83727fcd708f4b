"""Geocoding: the three HTTP providers against a local fake server, the offline
gazetteer, the cache, and what a member sees when the address goes wrong."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from peuplade import geo, geocoding
from peuplade.account import services
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.geo import geodesic_distance_m
from peuplade.location import AmbiguousLocation, LocationInput
from peuplade.models import Member
from tests.conftest import PASSWORD
from tests.fake_geocoder import FakeGeocoder, FakePlace

HTTP_PROVIDERS = ("nominatim", "ban", "photon")
DAMES_12 = FakePlace(48.884822, 2.324661, "Rue des Dames", "12")
# "rue des Dames" alone: three points along the street, 200-400 m apart.
DAMES_STREET = [
    FakePlace(48.884938, 2.325639, "Rue des Dames", "3"),
    FakePlace(48.884598, 2.321150, "Rue des Dames", "44"),
    FakePlace(48.884100, 2.318700, "Rue des Dames", "86"),
]
PLACES = {
    "12 rue des Dames, 75017 Paris": [DAMES_12],
    "rue des Dames": DAMES_STREET,
    # The same building written twice by the provider, 10 m apart: one place.
    "8 rue Nollet": [
        FakePlace(48.88520, 2.32000, "Rue Nollet", "8"),
        FakePlace(48.88529, 2.32002, "Rue Nollet", "8"),
    ],
}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # geopy honours *_proxy variables; the fake server is local.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(params=HTTP_PROVIDERS)
def provider(request) -> str:
    return request.param


@pytest.fixture
def fake(provider):
    with FakeGeocoder(provider, PLACES) as server:
        yield server


@pytest.fixture
def geo_app(make_app, provider, fake):
    """An app whose geocoder is ``provider``, served by the local fake."""
    app = make_app(
        GEOCODER=provider,
        GEOCODER_DOMAIN=fake.domain,
        GEOCODER_SCHEME="http",
        GEOCODER_TIMEOUT=1,
    )
    with app.app_context():
        yield app


# --- HTTP providers ------------------------------------------------------------------


def test_provider_resolves_a_known_address(geo_app, fake, provider):
    place = geocoding.resolve("12 rue des Dames, 75017 Paris")

    assert geodesic_distance_m(place.position, _pos(DAMES_12)) < 1
    assert "Rue des Dames" in place.label and "12" in place.label
    assert fake.queries == ["12 rue des Dames, 75017 Paris"]
    assert fake.user_agents == ["peuplade (self-hosted)"]


def test_provider_unknown_address_is_not_found(geo_app, fake):
    with pytest.raises(geocoding.AddressNotFound) as caught:
        geocoding.resolve("1 rue Imaginaire, 75017 Paris")
    assert "Adresse introuvable" in str(caught.value.message)
    assert fake.queries == ["1 rue Imaginaire, 75017 Paris"]


def test_provider_far_apart_results_are_ambiguous_and_choice_picks_one(geo_app, fake):
    with pytest.raises(geocoding.AddressAmbiguous) as caught:
        geocoding.resolve("rue des Dames")
    candidates = caught.value.candidates
    assert len(candidates) == len(DAMES_STREET)
    for candidate, place in zip(candidates, DAMES_STREET, strict=True):
        assert geodesic_distance_m(candidate.position, _pos(place)) < 1
    assert all("Rue des Dames" in c.label for c in candidates)
    assert "Plusieurs adresses" in str(caught.value.message)

    chosen = geocoding.resolve("rue des Dames", choice=1)
    assert chosen == candidates[1]
    with pytest.raises(geocoding.AddressAmbiguous):
        geocoding.resolve("rue des Dames", choice=7)  # not one of the proposals
    assert fake.queries == ["rue des Dames"]  # the choices came from the cache


def test_provider_duplicates_of_one_place_are_not_ambiguous(geo_app):
    place = geocoding.resolve("8 rue Nollet")
    assert round(place.position.lat, 4) == 48.8852


def test_provider_timeout_is_unavailable_quickly(geo_app, fake):
    fake.delay = 30  # the fake answers after 30 s, or when the test ends
    started = time.monotonic()
    with pytest.raises(geocoding.GeocoderUnavailable) as caught:
        geocoding.resolve("12 rue des Dames, 75017 Paris")
    elapsed = time.monotonic() - started

    assert "ne répond pas" in str(caught.value.message)
    assert fake.in_flight == 1  # we gave up while the provider was still busy
    assert elapsed < 15


@pytest.mark.parametrize("status", [500, 503])
def test_provider_error_status_is_unavailable_and_not_cached(geo_app, fake, status):
    fake.status = status
    with pytest.raises(geocoding.GeocoderUnavailable) as caught:
        geocoding.resolve("12 rue des Dames, 75017 Paris")
    # geopy reads a 503 as "overloaded, timed out", a 500 as "broken": both say retry later.
    assert "Réessayez" in str(caught.value.message)
    assert "placez votre domicile sur la carte" in str(caught.value.message)

    fake.status = 200  # the provider is back: the failure was not remembered
    assert geocoding.resolve("12 rue des Dames, 75017 Paris").label
    assert len(fake.queries) == 2


@pytest.mark.parametrize("body", ["<html>Bad gateway</html>", '{"features": "x"}'])
def test_provider_malformed_answer_is_unavailable(geo_app, fake, body):
    fake.body = body
    with pytest.raises(geocoding.GeocoderUnavailable):
        geocoding.resolve("12 rue des Dames, 75017 Paris")


def test_provider_results_are_cached_whatever_the_case_and_accents(geo_app, fake):
    first = geocoding.resolve("12 rue des Dames, 75017 Paris")
    again = geocoding.resolve("  12 RUE DES DÂMES 75017 paris ")
    assert again == first
    for _ in range(2):
        with pytest.raises(geocoding.AddressNotFound):
            geocoding.resolve("1 rue Imaginaire")
    assert fake.queries == ["12 rue des Dames, 75017 Paris", "1 rue Imaginaire"]


@pytest.mark.parametrize("provider", ["ban"])
def test_provider_not_listening_is_unavailable(make_app, provider):
    with FakeGeocoder(provider, PLACES) as gone:
        domain = gone.domain
    app = make_app(GEOCODER=provider, GEOCODER_DOMAIN=domain, GEOCODER_SCHEME="http")
    with app.app_context(), pytest.raises(geocoding.GeocoderUnavailable):
        geocoding.resolve("12 rue des Dames, 75017 Paris")


# --- offline gazetteer (data/gazetteer.json) -----------------------------------------


def test_offline_exact_address(app):
    place = geocoding.resolve("12 rue des Dames, 75017 Paris")
    assert place.label == "12 rue des Dames, 75017 Paris"
    assert 48.88 < place.position.lat < 48.89 and 2.32 < place.position.lon < 2.33


def test_offline_is_case_and_accent_insensitive(app):
    spellings = ["Square des Épinettes", "square des epinettes", "SQUARE DES EPINETTES"]
    positions = {geocoding.resolve(s).position for s in spellings}
    assert len(positions) == 1
    assert geocoding.resolve("square des epinettes").label == "Square des Epinettes, Paris 17e"


def test_offline_known_places_by_their_usual_name(app):
    square = geocoding.resolve("Square des Batignolles")
    clichy = geocoding.resolve("Place de Clichy")
    assert 500 < geodesic_distance_m(square.position, clichy.position) < 1500


@pytest.mark.parametrize("query", ["rue des Dames", "rue Legendre", "Porte de Clichy"])
def test_offline_ambiguous_queries(app, query):
    with pytest.raises(geocoding.AddressAmbiguous) as caught:
        geocoding.resolve(query)
    candidates = caught.value.candidates
    assert len(candidates) >= 2
    assert all(
        geodesic_distance_m(a.position, b.position) > geocoding.SAME_PLACE_M
        for i, a in enumerate(candidates)
        for b in candidates[i + 1 :]
    )


@pytest.mark.parametrize("query", ["10 rue Imaginaire", "!!!", "", "   ", "x" * 201])
def test_offline_unknown_or_unusable_address(app, query):
    with pytest.raises(geocoding.AddressNotFound):
        geocoding.resolve(query)


def test_normalise():
    assert geocoding.normalise("  12, Rue des DÂMES  ") == "12 rue des dames"
    assert geocoding.normalise("Épinettes") == geocoding.normalise("epinettes")


# --- what a member registering sees --------------------------------------------------


def _member_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Member))


def _register(address: str, choice: int | None = None, email: str = "anne@example.org"):
    return services.register_member(
        email=email,
        password=PASSWORD,
        display_name="Anne",
        location=LocationInput(address=address, choice=choice),
    )


def test_register_with_unknown_address_writes_nothing(app):
    with pytest.raises(ValidationFailed) as caught:
        _register("10 rue Imaginaire, 75017 Paris")
    assert "Adresse introuvable" in str(caught.value.fields["location"])
    db.session.rollback()
    assert _member_count() == 0


def test_register_with_ambiguous_address_then_a_choice(app):
    with pytest.raises(AmbiguousLocation) as caught:
        _register("rue des Dames")
    assert "location" in caught.value.fields
    db.session.rollback()
    assert _member_count() == 0

    second = caught.value.candidates[1]
    member = _register("rue des Dames", choice=1)
    db.session.commit()
    assert geo.from_element(member.home) == second.position
    assert member.quartier is None  # no polygons loaded in this test
    assert _member_count() == 1


@pytest.mark.parametrize("provider", ["nominatim"])
def test_register_while_provider_times_out_is_a_field_error(make_app, fake, provider):
    fake.delay = 30
    app = make_app(
        GEOCODER=provider, GEOCODER_DOMAIN=fake.domain, GEOCODER_SCHEME="http", GEOCODER_TIMEOUT=1
    )
    with app.app_context():
        with pytest.raises(ValidationFailed) as caught:
            _register("12 rue des Dames, 75017 Paris")
        assert "ne répond pas" in str(caught.value.fields["location"])
        db.session.rollback()
        assert _member_count() == 0


def test_api_registration_with_unknown_address_is_422(api):
    r = api.post(
        "/members",
        json={
            "email": "anne@example.org",
            "password": PASSWORD,
            "display_name": "Anne",
            "location": {"address": "10 rue Imaginaire, 75017 Paris"},
        },
    )
    assert r.status_code == 422, r.get_json()
    assert "Adresse introuvable" in r.get_json()["error"]["fields"]["location"]
    assert _member_count() == 0


def _pos(place: FakePlace):
    from peuplade.geo import lat_lon

    return lat_lon(place.lat, place.lon)


def test_cache_keys_keep_every_script_apart():
    from peuplade.geocoding import cache_key

    keys = {cache_key(a) for a in ("ул. Ленина 1", "東京都港区 1", "شارع 1", "1")}
    assert len(keys) == 4
    # Same address typed differently still shares its answer.
    assert cache_key("Rue de l’Église, 75017") == cache_key("rue de l eglise 75017")
