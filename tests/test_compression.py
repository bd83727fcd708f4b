"""static/'s text files go compressed; pages and API answers never are (BREACH: they
carry the CSRF token and the member's own address beside text others write)."""

from __future__ import annotations

import zlib

import brotli
import pytest
from backports import zstd

from peuplade.config import ROOT
from tests.conftest import BATIGNOLLES, PASSWORD
from tests.helpers.browsers import as_member

CHROMIUM_ACCEPTS = "gzip, deflate, br, zstd"
DECODE = {"zstd": zstd.decompress, "br": brotli.decompress, "deflate": zlib.decompress}


@pytest.mark.parametrize(
    "path", ["vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "css/peuplade.css"]
)
@pytest.mark.parametrize(("accepted", "encoding"), [(CHROMIUM_ACCEPTS, "zstd"), ("br", "br")])
def test_a_static_text_file_is_sent_compressed_and_decodes_to_the_file(
    client, path, accepted, encoding
):
    on_disk = (ROOT / "static" / path).read_bytes()
    r = client.get(f"/static/{path}", headers={"Accept-Encoding": accepted})
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in r.headers["Vary"]
    sent = r.get_data()
    assert len(sent) < len(on_disk) / 2
    assert DECODE[encoding](sent) == on_disk


def test_a_browser_that_asks_for_nothing_gets_the_file_as_it_is(client):
    on_disk = (ROOT / "static/vendor/leaflet/leaflet.js").read_bytes()
    r = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in r.headers
    assert r.get_data() == on_disk


def test_a_compressed_file_is_revalidated_with_its_own_etag(client):
    url = "/static/vendor/leaflet/leaflet.js"
    first = client.get(url, headers={"Accept-Encoding": CHROMIUM_ACCEPTS})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    # The compressed body and the file are different bytes: different validators.
    assert first.headers["ETag"] != plain.headers["ETag"]
    again = client.get(
        url, headers={"Accept-Encoding": CHROMIUM_ACCEPTS, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.get_data() == b""


def test_pages_and_api_answers_are_never_compressed(app, client, make_member, api):
    me = make_member("Moi", at=BATIGNOLLES)
    browser = as_member(app, me)
    asked = {"Accept-Encoding": CHROMIUM_ACCEPTS}
    token = api.post("/tokens", json={"email": me.email, "password": PASSWORD}, headers=asked)
    assert token.status_code == 201
    assert "Content-Encoding" not in token.headers  # the answer that carries a token
    for r in (
        client.get("/register", headers=asked),
        browser.get("/", headers=asked),
        browser.get("/account/home", headers=asked),
        client.get("/api/v1/openapi.json", headers=asked),
    ):
        assert r.status_code == 200
        assert len(r.get_data()) > 1000  # long enough to be compressed if it were allowed
        assert "Content-Encoding" not in r.headers, r.request.path
