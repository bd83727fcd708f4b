"""WSGI module of the HTTP bench (``gunicorn -c gunicorn.conf.py bench.http_app:app``):
the real app, as ``wsgi.py`` builds it from the environment, plus one trivial page.

``GET /bench/ping`` answers "ok" to a logged-in member through the same Flask app,
middleware (ProxyFix, the access check that loads the session's member, the security
headers) and gunicorn workers as ``/timeline``: the difference between the two is what
the timeline itself costs (``bench._common.add_bench_routes``). ``bench/http_load.py``
starts gunicorn on this module; nothing else should.

Imported as ``bench.http_app`` (gunicorn runs from the repository root).
"""

from __future__ import annotations

import os

from bench._common import add_bench_routes
from peuplade import create_app

# The limiter's keys get their own prefix: the bench never touches anyone else's counters.
app = add_bench_routes(
    create_app({"RATELIMIT_KEY_PREFIX": os.environ.get("BENCH_RATELIMIT_PREFIX", "bench")})
)
