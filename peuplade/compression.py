"""The site's own text files (CSS, scripts, SVG) sent compressed (Flask-Compress).

The sign-up page's scripts and styles (Leaflet's and ours) weigh 215 KB as written and
65 KB compressed (zstd): on a phone's slow connection, the sign-up page and the map wait
for them. The compressed body is negotiated with ``Accept-Encoding`` (zstd, Brotli or
deflate for a file read from disk, streamed), its ETag marked with the encoding, and a
browser's revalidation still ends in a 304.

Only the files of ``static/`` are compressed, never a page or an API answer: those carry
what an attacker must not learn (the CSRF token, the member's own address on their
account page) beside text that other people write, and compressing both together lets
someone who watches the sizes on the network guess the secret one letter at a time
(BREACH). A proxy in front may compress the static files instead; the deployment guide
says not to let it compress the pages either.
"""

from __future__ import annotations

from flask import Flask, request
from flask_compress import Compress

# The types of the files in static/ worth compressing (images and fonts are already).
STATIC_TEXT_TYPES = ("text/css", "text/javascript", "application/javascript", "image/svg+xml")

compress = Compress()


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", list(STATIC_TEXT_TYPES))
    # Not on every response: on the static files' answers only, whatever their type.
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)

    @app.after_request
    def compress_static_files(response):
        if request.endpoint != "static":
            return response
        return compress.after_request(response)
