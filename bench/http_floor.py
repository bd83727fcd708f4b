"""The floor of the HTTP bench (``gunicorn -c gunicorn.conf.py bench.http_floor:app``):
Flask alone, answering "ok" on ``/bench/ping``, under the same gunicorn settings,
workers and clients as the app's own ``/bench/ping`` (``bench/http_load.py``, phase
"floor"). No session, no database, no extension: what a request costs before Peuplade
does anything, to read the trivial route's figure against.

Imported as ``bench.http_floor`` (gunicorn runs from the repository root).
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/bench/ping")
def ping() -> str:
    return "ok"
