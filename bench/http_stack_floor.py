"""The stack's floor of the HTTP bench (``gunicorn -c gunicorn.conf.py
bench.http_stack_floor:app``): the libraries the project is built on — Flask, Flask-Login
and Flask-SQLAlchemy on psycopg 3, with Peuplade's models and engine options — and only
what any logged-in request needs from them: the signed session cookie read, its member
loaded by Flask-Login's user loader with one ORM statement (the session row and its
member: ``peuplade.auth.sessions``' own statement), "ok" answered. No rate limiter,
request log, CSRF, Babel, security headers, access rules, replica routing or last-seen
touch: what the trivial route costs before Peuplade's own code, to read the app's
``/bench/ping`` against (``bench/http_load.py``, phase "stack floor"; "floor" is Flask
alone).

It takes the app's cookies: same ``SECRET_KEY`` and cookie name (the server's
environment, ``bench/http_load.py``), and the session id the app's login put there.
Imported as ``bench.http_stack_floor`` (gunicorn runs from the repository root).
"""

from __future__ import annotations

import os

from flask import Flask
from flask_login import LoginManager, current_user
from flask_sqlalchemy import SQLAlchemy

from peuplade import database
from peuplade.account.tokens import secret_digest

# The app's own statement, so that both read the session and its member the same way.
from peuplade.auth.sessions import _session_and_member
from peuplade.config import SESSION_COOKIE_NAMES
from peuplade.models import Member
from peuplade.models.base import Base

url = os.environ["DATABASE_URL"]
app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["SECRET_KEY"],
    SESSION_COOKIE_NAME=SESSION_COOKIE_NAMES["production"],
    SESSION_COOKIE_SECURE=True,
    SQLALCHEMY_DATABASE_URI=url,
    SQLALCHEMY_ENGINE_OPTIONS=database.engine_options(url),
)
db = SQLAlchemy(app, model_class=Base)
login_manager = LoginManager(app)


@login_manager.user_loader
def member_for_session(session_id: str) -> Member | None:
    found = db.session.execute(_session_and_member, {"id_hash": secret_digest(session_id)}).first()
    return found[1] if found is not None else None


@app.get("/bench/ping")
def ping() -> str:
    return "ok" if current_user.is_authenticated else "anonymous"
