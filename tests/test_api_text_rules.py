"""The API's JSON Schema states the services' own rules, and the server holds to it.

The patterns of ``peuplade.validation`` and ``peuplade.api.schemas`` (texts as
``clean_text`` reads them, free tags, e-mail addresses, links, cursors, times) are
compared with the code they describe, on values Hypothesis draws for them; then the
server answers, through the API, what the document says: a value it allows is accepted,
a value it refuses is a 422 (400 for a cursor that is not ours), never kept quietly.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import jsonschema_rs
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from peuplade import validation
from peuplade.account import schemas
from peuplade.api import schemas as api_schemas
from peuplade.errors import ValidationFailed
from peuplade.news import schemas as news_schemas
from peuplade.validation import clean_tags, clean_text
from tests.conftest import PASSWORD

SETTINGS = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Characters that make the rules hard: removed ones, spaces of every kind, letters
# (combining and not), an emoji newer than Python's tables, a private-use one.
TRICKY = (
    "\x00\x07\t\n\r\x0b\x1c\x85\u00ad\u200b\u200d\u202e\ufeff\U000e0001"
    " \u00a0\u2003\u3000\u2028"
    "aé\u0301ßİǰ\u0958'-_9٣中\U0001fae8\ue000!"
)
tricky_text = st.text(st.sampled_from(TRICKY), max_size=12)


def _kept(text: str) -> str:
    """``clean_text`` but for the NFC normalisation (no pattern can say that one)."""
    return "".join(c for c in text if not validation.removed(c)).strip()


def _validator(schema: dict) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(schema, validate_formats=True)


# --- the character tables --------------------------------------------------------------


def test_removed_characters_and_spaces_live_where_they_are_scanned():
    scanned = {code for block in validation._SCANNED for code in block}
    for code in range(0x110000):
        if code in scanned:
            continue
        char = chr(code)
        assert not validation.removed(char) and not char.isspace(), hex(code)


def test_letters_without_a_lower_case_letter_are_all_in_the_bmp():
    for code in range(0x10000, 0x110000):
        assert not schemas._folds_to_a_non_letter(chr(code)), hex(code)


def test_clean_text_keeps_new_emoji_and_private_use_characters():
    # U+1FAE8 came with Unicode 15, after Python 3.11's tables: kept all the same.
    assert clean_text(" \u200bvélo \U0001fae8\ue000\x00 ") == "vélo \U0001fae8\ue000"


# --- texts: the patterns say what clean_text keeps ------------------------------------


@pytest.mark.parametrize("least", [1, 2, 3])
@SETTINGS
@given(text=tricky_text)
def test_text_pattern_is_the_length_clean_text_keeps(least, text):
    pattern = validation.text_pattern(least)
    assert bool(re.search(pattern, text)) == (len(_kept(text)) >= least)
    assert _validator({"type": "string", "pattern": pattern}).is_valid(text) == bool(
        re.search(pattern, text)
    )


@SETTINGS
@given(text=tricky_text)
def test_blank_or_text_pattern(text):
    pattern = validation.blank_or_text_pattern(2)
    kept = _kept(text)
    assert bool(re.search(pattern, text)) == (not kept or len(kept) >= 2)


@SETTINGS
@given(text=tricky_text)
def test_display_names_the_pattern_allows_are_kept(text):
    from peuplade.account.services import clean_display_name

    allowed = bool(re.search(api_schemas.text_pattern(2), text))
    if unicodedata.normalize("NFC", text) != text:
        return  # lengths once normalised: the one thing no pattern says
    try:
        clean_display_name(text)
        kept = True
    except ValidationFailed:
        kept = False
    assert allowed == kept


@SETTINGS
@given(tag=tricky_text)
def test_free_tags_the_schema_allows_are_the_tags_clean_tags_keeps(tag):
    schema = schemas.FreeTag.__metadata__[-1].json_schema
    allowed = _validator(schema).is_valid(tag)
    if unicodedata.normalize("NFC", tag) != tag or len(tag.casefold()) > len(tag):
        return  # lengths once normalised and lower-cased: named in the descriptions
    try:
        clean_tags([tag])
        kept = True
    except ValidationFailed:
        kept = False
    assert allowed == kept, (tag, allowed, kept)


# --- e-mail addresses, links, times ----------------------------------------------------


REGEX_SETTINGS = settings(SETTINGS, max_examples=40)


@REGEX_SETTINGS
@given(address=st.from_regex(schemas.EMAIL_PATTERN, fullmatch=True))
def test_the_addresses_the_schema_allows_are_the_ones_the_service_keeps(address):
    """The schema: the pattern, and the "email" format (which refuses two dots in a
    row, as email_validator does)."""
    if len(address) > 254:
        return
    if _validator({"type": "string", "format": "email"}).is_valid(address):
        validate_email(address, check_deliverability=False)  # raises if not
    else:
        assert ".." in address
        with pytest.raises(EmailNotValidError):
            validate_email(address, check_deliverability=False)


@pytest.mark.parametrize(
    "address",
    ["voisine@example.org", "a.b+c@sous.domaine.fr", "x@a--b.io", "x@a-b.example"],
)
def test_common_addresses_match(address):
    assert re.fullmatch(schemas.EMAIL_PATTERN, address)


@pytest.mark.parametrize(
    "address", ["a@b", "a@b.test", "a@b.LOCAL", "a@1.2", "a..b@c.fr", "a@ab--c.fr"]
)
def test_addresses_the_services_refuse_the_schema_refuses(address):
    assert not _validator(TypeAdapter(schemas.Email).json_schema()).is_valid(address)
    with pytest.raises(EmailNotValidError):
        validate_email(address, check_deliverability=False)


@pytest.mark.parametrize("address", [" a@b.fr", "a@b.fr ", "é@b.fr", "a@xn--bcher-kva.example"])
def test_the_api_takes_ascii_addresses_as_they_are(address):
    # Spaces around, non-ASCII, punycode: the forms take them, the API's schema does not.
    assert not _validator(TypeAdapter(schemas.Email).json_schema()).is_valid(address)


@REGEX_SETTINGS
@given(link=st.from_regex(news_schemas.LINK_PATTERN, fullmatch=True))
def test_every_link_of_the_pattern_is_a_uri_the_service_keeps(link):
    from peuplade.news.services import LINK_MAX, _link

    if len(link) > LINK_MAX:
        return
    assert _validator({"type": "string", "format": "uri"}).is_valid(link)
    assert _link(link) == link


@REGEX_SETTINGS
@given(moment=st.from_regex(news_schemas.TIME_PATTERN, fullmatch=True))
def test_times_of_the_pattern_read_as_python_reads_them(moment):
    from datetime import datetime

    valid = _validator({"type": "string", "format": "date-time"}).is_valid(moment)
    try:
        datetime.fromisoformat(moment)
        readable = True
    except ValueError:
        readable = False
    assert valid == readable or moment.startswith("0000")


# --- the server holds to the document ----------------------------------------------------


@pytest.fixture
def anne(api, make_member):
    member = make_member("Anne", email="anne@example.org")
    api.login("anne@example.org")
    return member


def _status(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    return response.get_json()


def test_a_whole_float_is_an_integer(api):
    body = {
        "email": "nadia@example.org",
        "password": PASSWORD,
        "display_name": "Nadia",
        "location": {"lat": 48.88462, "lon": 2.32091},
        "radius_m": 1000.0,
    }
    _status(api.post("/members", json=body), 202)
    api.login("nadia@example.org")
    assert api.get("/me").get_json()["radius_m"] == 1000


@pytest.mark.parametrize("limit", ["1.0", "+5", " 5", "5_0", "05", "-1", "0", "1e1", "٣"])
def test_a_limit_is_written_in_digits(api, anne, limit):
    fields = _status(api.get("/exchanges", query_string={"limit": limit}), 422)["error"]
    assert list(fields["fields"]) == ["limit"]


def test_a_parameter_given_twice_is_refused(api, anne):
    error = _status(api.get("/exchanges?limit=5&limit=7"), 422)["error"]
    assert list(error["fields"]) == ["limit"]


@pytest.mark.parametrize("value", ["yes", "1", "True", ""])
def test_a_boolean_is_true_or_false(api, anne, value):
    error = _status(api.get("/items", query_string={"available": value}), 422)["error"]
    assert list(error["fields"]) == ["available"]


@pytest.mark.parametrize("path", ["/exchanges?kind=", "/items?category=", "/loans?role=x"])
def test_an_empty_or_unknown_choice_is_refused(api, anne, path):
    _status(api.get(path), 422)


def test_cursors_not_of_our_form_are_400_and_an_empty_one_is_the_first_page(api, anne):
    assert "cursor" in _status(api.get("/feed?cursor=forged"), 400)["error"]["fields"]
    assert _status(api.get("/feed?cursor="), 200)["items"] == []
    too_long = "a" * 501
    assert "cursor" in _status(api.get(f"/feed?cursor={too_long}"), 422)["error"]["fields"]


@pytest.mark.parametrize("link", [" ", "javascript:alert(1)", "https://a b.fr", "ftp://x.fr"])
def test_a_link_that_is_no_http_uri_is_refused_on_edit_too(api, anne, link):
    created = _status(
        api.post("/news", json={"title": "Une info", "body": "Texte", "link": "https://a.fr"}),
        201,
    )
    error = _status(api.patch(f"/news/{created['id']}", json={"link": link}), 422)["error"]
    assert list(error["fields"]) == ["link"]
    assert _status(api.get(f"/news/{created['id']}"), 200)["link"] == "https://a.fr"
    assert _status(api.patch(f"/news/{created['id']}", json={"link": ""}), 200)["link"] is None


@pytest.mark.parametrize("title", ["\x00\x00\x00", "  a  ", "a\u200bb"])
def test_a_title_too_short_once_cleaned_is_refused_by_the_schema(api, anne, title):
    body = {"kind": "request", "title": title, "body": "Texte", "category": "autre"}
    error = _status(api.post("/exchanges", json=body), 422)["error"]
    assert list(error["fields"]) == ["title"]


def test_a_title_with_an_emoji_newer_than_python_is_kept(api, anne):
    body = {"kind": "offer", "title": "Vélo \U0001fae8", "body": "Texte", "category": "autre"}
    assert _status(api.post("/exchanges", json=body), 201)["title"] == "Vélo \U0001fae8"


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2030-06-01T18:30+01:00"]
)
def test_a_time_out_of_python_s_range_or_without_seconds_is_a_422(api, anne, moment):
    body = {
        "title": "Pique-nique",
        "body": "Au square",
        "starts_at": moment,
        "location": {"lat": 48.8834, "lon": 2.3184},
    }
    error = _status(api.post("/events", json=body), 422)["error"]
    assert list(error["fields"]) == ["starts_at"]


def test_a_tag_whose_lower_case_is_no_letter_is_refused_by_the_schema(api, anne):
    error = _status(api.patch("/me", json={"tags": ["İzmir"]}), 422)["error"]
    assert list(error["fields"]) == ["tags"]


def test_a_loan_of_today_and_tomorrow_is_accepted(api, anne, make_member):
    # The dates the schema allows and the service keeps: YYYY-MM-DD, from today.
    from peuplade.extensions import db
    from peuplade.loans import services as loans

    lender = make_member("Bruno")
    item = loans.offer_item(
        lender, loans.ItemInput(title="Perceuse", description="", category="bricolage")
    )
    db.session.commit()
    start = date.today() + timedelta(days=1)
    body = {"start": start.isoformat(), "due": (start + timedelta(days=1)).isoformat()}
    assert _status(api.post(f"/items/{item.id}/loans", json=body), 201)["status"] == "requested"
