"""The security headers' policies: pages and API answers."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# The installed app (peuplade/pwa): the feed's first page answers with this header, by
# which the service worker knows to keep it for reading offline (and to forget the page
# it kept when the feed's address answers without it: nobody is logged in).
OFFLINE_KEEP = ("Peuplade-Offline", "feed")
# ...and the value by which any page asks it to forget that page (peuplade/pwa: every
# page shown to someone not logged in).
OFFLINE_FORGET = "forget"
# Logging out clears what this browser holds of the site besides its cookies: the HTTP
# cache, and the storage, where the service worker keeps the feed (its caches, and the
# worker itself, which the next page registers again).
CLEAR_SITE_DATA = ("Clear-Site-Data", '"cache", "storage"')


def content_security_policy(tile_url: str) -> str:
    """The pages' Content-Security-Policy: scripts, styles and everything else from the
    site only (no inline script, no plugin, no <base>, no framing, forms post here),
    images also from the map's tile server.

    ``style-src 'self'``, without 'unsafe-inline' nor a hash: no template has a style
    attribute or a <style> element, and no script of ours writes one (markup with
    ``style=``, ``setAttribute("style", ...)``); tests/test_security_headers.py reads them
    all. Leaflet (tiles, markers, popups), Leaflet.markercluster and Swagger UI (React)
    set styles through the CSSOM (``element.style.left = ...``), which a policy does not
    restrict: tests/e2e/test_csp.py uses them in Chromium and finds no violation."""
    # blob: the preview of a photo chosen on a form (URL.createObjectURL: made by the
    # page itself from the member's own file, never fetched).
    images = ["'self'", "data:", "blob:"]
    tiles = _tile_origin(tile_url)
    if tiles:
        images.append(tiles)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src " + " ".join(images),
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def _tile_origin(tile_url: str) -> str | None:
    """``https://{s}.tile.example.org/{z}/{x}/{y}.png`` -> ``https://*.tile.example.org``;
    None for tiles served by the site itself (a relative URL)."""
    parts = urlsplit(tile_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    if not re.fullmatch(r"[A-Za-z0-9.*:\-\[\]]+", host):
        return None  # nothing a policy could name safely
    return f"{parts.scheme}://{host}"
