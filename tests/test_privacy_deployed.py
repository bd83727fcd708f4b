"""Six fresh accounts next to an isolated member, against a server started as deployed.

gunicorn with the project's gunicorn.conf.py, ``PEUPLADE_ENV=production`` (rate limits
on, the production crowd rule of 3 established members), an SQLite database migrated
with the project's migrations in a temporary folder; stopped by its PID at the end.
The attacker only has the public API; the daily job runs as cron runs it
(``flask privacy-refresh``). The victim's published position - where their object is
shown to a neighbour - does not move, neither at once nor after the job.
"""

from __future__ import annotations

import http.client
import json
import math
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from peuplade import create_app, geo, migrating, privacy
from peuplade.account import services as accounts
from peuplade.config import ROOT
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.models import Member, PrivacyCell
from tests.conftest import PASSWORD, _test_config
from tests.helpers.crowds import offset, settle
from tests.helpers.servers import deployed_env, free_port, gunicorn

# The centre of a ~222 m cell, far from the demo streets: nobody else lives near.
VICTIM_HOME = privacy.centre(privacy.cells(geo.lat_lon(48.8870, 2.3150))[0])


def _prepare(url: str) -> int:
    """Migrate; an isolated, established victim with an object and an established
    observer 1.5 km away. Returns the victim's id."""
    app = create_app(_test_config(url, PRIVACY_CROWD_MIN=3))
    with app.app_context():
        migrating.upgrade()
        victim = accounts.register_member(
            email="victime@example.org",
            password=PASSWORD,
            display_name="Victime",
            location=LocationInput(lat=VICTIM_HOME.lat, lon=VICTIM_HOME.lon),
        )
        accounts.register_member(
            email="observatrice@example.org",
            password=PASSWORD,
            display_name="Observatrice",
            location=LocationInput(
                lat=offset(VICTIM_HOME, 1500, 0).lat, lon=offset(VICTIM_HOME, 1500, 0).lon
            ),
            radius_m=3000,
        )
        loans.offer_item(victim, loans.ItemInput(title="Escabeau", category="bricolage"))
        db.session.commit()
        settle()
        victim_id = victim.id
        db.engine.dispose()
    return victim_id


def _send(port: int, method: str, path: str, body=None, token: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def deployed(tmp_path):
    url = f"sqlite:///{tmp_path / 'peuplade.sqlite'}"
    victim_id = _prepare(url)
    env = deployed_env(
        free_port(),
        SECRET_KEY="privacy-deployed-test-" + "x" * 40,
        DATABASE_URL=url,
        PYTHONUNBUFFERED="1",
    )
    with gunicorn(env, tmp_path / "gunicorn.log") as port:
        yield port, env, victim_id


def test_six_fresh_accounts_within_60_m_leave_the_published_position_unchanged(deployed):
    port, env, victim_id = deployed
    status, body = _send(
        port,
        "POST",
        "/api/v1/tokens",
        {"email": "observatrice@example.org", "password": PASSWORD},
    )
    assert status == 201, body
    token = json.loads(body)["token"]

    def published() -> tuple[float, float]:
        status, body = _send(port, "GET", "/api/v1/items?limit=100", token=token)
        assert status == 200, body
        mine = [i for i in json.loads(body)["items"] if i["lender"]["id"] == victim_id]
        assert len(mine) == 1
        return mine[0]["position"]["lat"], mine[0]["position"]["lon"]

    coarse = privacy.centre(privacy.cells(VICTIM_HOME)[2])
    before = published()
    assert before == (coarse.lat, coarse.lon)  # alone: the ~890 m cell's centre
    for n in range(6):
        angle = n * math.pi / 3
        at = offset(VICTIM_HOME, 55 * math.sin(angle), 55 * math.cos(angle))
        assert geo.geodesic_distance_m(at, VICTIM_HOME) < 60
        status, body = _send(
            port,
            "POST",
            "/api/v1/members",
            {
                "email": f"faux{n}@example.org",
                "password": f"{PASSWORD}-{n}",
                "display_name": f"Faux {n}",
                "location": {"lat": at.lat, "lon": at.lon},
            },
        )
        assert status < 300, body
        assert published() == before  # immediately, after every sign-up
    assert "0 membres montrés plus précisément" in _job(env)
    assert published() == before  # after the daily job
    _days_pass(env["DATABASE_URL"], 8)  # a stable period
    assert "0 membres montrés plus précisément" in _job(env)
    assert published() == before  # and after the next one, a stable period later


def _job(env: dict[str, str]) -> str:
    """``flask privacy-refresh`` as cron runs it; its report."""
    job = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "privacy-refresh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert job.returncode == 0, job.stderr[-2000:]
    return job.stdout


def _days_pass(url: str, days: int) -> None:
    """Move every date the crowd rule reads ``days`` into the past."""
    app = create_app(_test_config(url))
    with app.app_context():
        back = timedelta(days=days)
        for member in db.session.scalars(select(Member)):
            member.created_at -= back
        for cell in db.session.scalars(select(PrivacyCell)):
            cell.crowded_since -= back
        db.session.commit()
        db.engine.dispose()
