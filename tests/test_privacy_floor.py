"""My own floor for my public position, from my settings page (account/blur.py;
crowd-blurring itself is tested in tests/test_privacy_crowd.py and
tests/test_privacy_steering.py)."""

from __future__ import annotations

import re

from peuplade import geo, privacy
from peuplade.account.tokens import new_token
from peuplade.extensions import db
from peuplade.models import Member


def test_my_floor_from_my_settings_page(app, client, make_member, auth):
    """The settings page: where I am shown today, my choice kept, a bad choice refused."""
    me = make_member("Claire", email="claire@example.org")
    auth.login("claire@example.org")
    page = client.get("/account/position")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "environ 200 m près" in text and 'value="200m"' in text
    answer = client.post("/account/position", data={"floor": "900m"})
    assert answer.status_code == 302
    db.session.expire_all()
    member = db.session.get(Member, me.id)
    assert member.privacy_floor == 2
    assert geo.from_element(member.public_position) == privacy.centre(member.cell_2)
    page = client.get("/account/position").get_data(as_text=True)
    assert re.search(r'value="900m" id="floor-900m"\s+checked>', page)
    refused = client.post("/account/position", data={"floor": "10m"})
    assert refused.status_code == 422
    db.session.expire_all()
    assert db.session.get(Member, me.id).privacy_floor == 2


def test_my_floor_through_the_api(app, make_member, api):
    me = make_member("Claire", email="claire@example.org")
    api.token = _token(me)
    mine = api.get("/me").get_json()
    assert mine["privacy_floor"] == "200m" and mine["shown_at"] == "200m"
    answer = api.patch("/me", json={"privacy_floor": "450m"})
    assert answer.status_code == 200
    assert answer.get_json()["privacy_floor"] == "450m"
    assert answer.get_json()["shown_at"] == "450m"
    db.session.expire_all()
    member = db.session.get(Member, me.id)
    assert geo.from_element(member.public_position) == privacy.centre(member.cell_1)
    refused = api.patch("/me", json={"privacy_floor": "10m"})
    assert refused.status_code == 422
    assert "privacy_floor" in refused.get_json()["error"]["fields"]
    assert api.get("/me").get_json()["privacy_floor"] == "450m"


def _token(member) -> str:

    token = new_token(member)[0]
    db.session.commit()
    return token
