"""WSGI module of the HTTP bench (``gunicorn -c gunicorn.conf.py bench.http_app:app``):
the real app, as ``wsgi.py`` builds it from the environment, plus one trivial page.

``GET /bench/ping`` answers "ok" through the same Flask app, middleware (ProxyFix, the
access check that loads the session's member, the security headers) and gunicorn
workers as ``/timeline``: the difference between the two is what the timeline itself
costs. ``bench/http_load.py`` starts gunicorn on this module; nothing else should.

Imported as ``bench.http_app`` (gunicorn runs from the repository root).
"""

from __future__ import annotations

import os

from peuplade import create_app
from peuplade.access import public

# The limiter's keys get their own prefix: the bench never touches anyone else's counters.
app = create_app({"RATELIMIT_KEY_PREFIX": os.environ.get("BENCH_RATELIMIT_PREFIX", "bench")})


@app.route("/bench/ping")
@public
def bench_ping() -> str:
    return "ok"
