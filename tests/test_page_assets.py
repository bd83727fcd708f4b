"""Each page loads each script and style sheet once: a page and a macro both bringing
Leaflet and the home picker started the picker twice ("Map container is already
initialized"), an error in the console of every sign-up."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.conftest import BATIGNOLLES
from tests.helpers.browsers import as_member

ASSET = re.compile(r'<(?:script [^>]*src|link [^>]*href)="(/static/[^"]+)"')

VISITOR_PAGES = ["/", "/login", "/register"]
MEMBER_PAGES = [
    "/",
    "/publish",
    "/more",
    "/map",
    "/account/home",
    "/exchanges/new",
    "/events/new",
    "/objects/new",
    "/news/new",
    "/account/notifications",
    "/board",
]


def _twice(page: str) -> list[str]:
    return [url for url, n in Counter(ASSET.findall(page)).items() if n > 1]


@pytest.mark.parametrize("path", VISITOR_PAGES)
def test_a_visitor_page_loads_each_asset_once(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert ASSET.findall(r.get_data(as_text=True)), "the pattern found no asset at all"
    assert _twice(r.get_data(as_text=True)) == []


def test_a_member_page_loads_each_asset_once(app, make_member):
    me = make_member("Moi", at=BATIGNOLLES)
    browser = as_member(app, me)
    for path in MEMBER_PAGES:
        r = browser.get(path)
        assert r.status_code == 200, path
        assert _twice(r.get_data(as_text=True)) == [], path
