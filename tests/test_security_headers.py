"""Security headers on every answer: a Content-Security-Policy without inline scripts
or inline styles, nosniff, Referrer-Policy, no framing, HSTS over HTTPS only, and no
caching of personal pages and API answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from peuplade.headers import content_security_policy
from tests.conftest import PASSWORD

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def anne(make_member):
    return make_member("Anne", email="anne@example.org")


def _logged_in_client(client, anne):
    assert client.post("/login", data={"email": anne.email, "password": PASSWORD}).status_code
    return client


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/password/forgot"])
def test_public_pages_have_the_policy_and_the_other_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no host
    assert policy["style-src"] == ["'self'"]  # no 'unsafe-inline', no hash, no host
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_the_map_tiles_are_allowed_as_images(make_app):
    app = make_app(MAP_TILE_URL="https://{s}.tiles.example.org/osm/{z}/{x}/{y}.png")
    policy = _policy(app.test_client().get("/register"))
    assert "https://*.tiles.example.org" in policy["img-src"]
    assert "'self'" in policy["img-src"] and "data:" in policy["img-src"]
    assert "'unsafe-inline'" not in policy["script-src"]


@pytest.mark.parametrize(
    ("tile_url", "expected"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://tiles.local:8080/{z}/{x}/{y}.png", "http://tiles.local:8080"),
        ("/tiles/{z}/{x}/{y}.png", None),  # the site's own: 'self' covers it
        ("https://evil.example; script-src *", None),
    ],
)
def test_tile_origin_in_the_policy(tile_url, expected):
    policy = content_security_policy(tile_url)
    img = next(d for d in policy.split("; ") if d.startswith("img-src")).split()[1:]
    # blob: only for the preview of a photo chosen on a form (made by the page itself).
    assert img[:3] == ["'self'", "data:", "blob:"]
    assert img[3:] == ([expected] if expected else [])
    assert policy.count("script-src") == 1


def test_api_answers_have_a_strict_policy_and_are_never_cached(client, api, anne):
    for response in (client.get("/api/v1/me"), client.get("/api/v1/openapi.json")):
        assert _policy(response)["default-src"] == ["'none'"]
        assert _policy(response)["frame-ancestors"] == ["'none'"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    api.login(anne.email)
    assert api.get("/me").headers["Cache-Control"] == "no-store"


def test_pages_of_a_logged_in_member_are_not_cached_but_static_files_are(client, anne):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    _logged_in_client(client, anne)
    for path in ("/", "/account", "/neighbours", "/nope-not-a-page"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    static = client.get("/static/css/peuplade.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_the_reset_pages_send_no_referrer(client):
    response = client.get("/password/reset/" + "x" * 43)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://peuplade.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_hsts_behind_a_trusted_proxy_only(make_app):
    forwarded = {"X-Forwarded-Proto": "https"}
    direct = make_app(TRUSTED_PROXIES=0).test_client()
    # Without a proxy we trust, the header is the client's word: ignored.
    assert "Strict-Transport-Security" not in direct.get("/login", headers=forwarded).headers
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    response = proxied.get("/login", headers=forwarded)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_templates_have_no_inline_script_or_event_handler():
    """What makes 'script-src self' possible: every script is a file under static/."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text, re.I):
            if "src=" not in tag:
                offenders.append(f"{path.name}: inline {tag}")
        for handler in re.findall(r"<[^>]*\son[a-z]+\s*=", text, re.I):
            offenders.append(f"{path.name}: event handler in {handler[:60]}")
        if re.search(r"javascript:", text, re.I):
            offenders.append(f"{path.name}: javascript: URL")
    assert offenders == []


@pytest.mark.parametrize("tile_url", ["/tiles/{z}/{x}/{y}.png", "https://{s}.t.example/{z}.png"])
def test_styles_only_from_the_sites_files(tile_url):
    """'style-src self', exactly: no style attribute, no <style> element, whatever the
    map's tile server."""
    policy = content_security_policy(tile_url).split("; ")
    assert [d for d in policy if d.startswith("style-src")] == ["style-src 'self'"]
    assert "unsafe-inline" not in "; ".join(policy)


def test_every_page_sends_style_src_self(client, anne):
    """Anonymous and member pages, errors and /api/docs (Swagger UI) alike."""
    paths = ["/login", "/register", "/privacy", "/api/docs", "/no-such-page"]
    for path in paths:
        assert _policy(client.get(path))["style-src"] == ["'self'"], path
    _logged_in_client(client, anne)
    for path in ["/", "/map", "/account", "/account/home", "/board", "/no-such-page"]:
        assert _policy(client.get(path))["style-src"] == ["'self'"], path


def test_templates_have_no_inline_style():
    """What makes 'style-src self' possible: every style is in a file under static/
    (static/css/, the vendored libraries' stylesheets). A style attribute or a <style>
    element would be refused by the browser; scripts set styles through the CSSOM
    (``element.style.left = ...``), which the policy allows."""
    offenders = []
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for found in re.finditer(r"<style\b|\sstyle\s*=", text, re.I):
            line = text.count("\n", 0, found.start()) + 1
            offenders.append(f"{path.relative_to(TEMPLATES)}:{line}: {found.group().strip()}")
    assert offenders == []


def test_our_scripts_write_no_inline_style():
    """The same for static/js: markup with a style attribute (innerHTML,
    insertAdjacentHTML), setAttribute("style", ...) and <style> elements are refused by
    the policy; element.style.x = ... (the CSSOM) and classList are the ways."""
    scripts = TEMPLATES.parent / "static" / "js"
    offenders = []
    pattern = re.compile(
        r"(?<![.\w])(?<!var )(?<!let )(?<!const )style\s*=\s*\\?[\"']"  # markup: style="
        r"|<style\b|setAttribute\(\s*[\"']style[\"']|createElement\(\s*[\"']style[\"']",
        re.I,
    )
    for path in sorted(scripts.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for found in pattern.finditer(text):
            line = text.count("\n", 0, found.start()) + 1
            offenders.append(f"{path.name}:{line}: {found.group()}")
    assert offenders == []
