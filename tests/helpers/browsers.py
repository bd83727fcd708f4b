"""A browser (test client) of its own for a member."""

from __future__ import annotations

from tests.conftest import PASSWORD


def as_member(app, member):
    """A browser of its own, logged in as ``member`` (who has the tests' password)."""
    browser = app.test_client()
    r = browser.post("/login", data={"email": member.email, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)
    return browser
