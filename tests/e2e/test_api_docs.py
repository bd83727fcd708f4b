"""/api/docs in a real browser: Swagger UI (vendored, no CDN) shows every operation of
the app's own OpenAPI document, under the site's Content-Security-Policy."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_api_documentation_lists_every_operation(live_server, new_context):
    spec = live_server.app.test_client().get("/api/v1/openapi.json").get_json()
    operations = sum(len(methods) for methods in spec["paths"].values())
    page = new_context("fr").new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.goto(live_server.url + "/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(operations)
    expect(page.get_by_text("/api/v1/tokens/{token_id}").first).to_be_visible()
    assert refused == [] and outside == []
