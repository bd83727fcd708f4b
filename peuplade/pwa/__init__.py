"""Peuplade installed on a phone: the web app manifest, the service worker, the offline
page and the app's icons (docs/pwa.md).

What the service worker keeps, and no more: the app shell (the style sheets, the
scripts every page loads, the icons, the offline page) and the last feed page the
member saw, with the photos it shows, so that the feed can be read without a network
("Hors ligne — vu à 14 h 05"). No other page is ever kept. Logging out clears all of
it (the worker drops its caches when it sees the logout, and the logout's answer tells
the browser to clear the site's storage: ``Clear-Site-Data``).
"""
