"""The API fuzzed against its own OpenAPI document, with Schemathesis, in-process (WSGI).

Every operation of ``GET /api/v1/openapi.json`` is a test of its own, on both backends,
in a fresh world (tests/test_fuzz.py's: an owner of one of everything, a neighbour who
took part in it, an admin, a troll, a stranger), so that a destructive operation
(``DELETE /me``, ``DELETE /tokens/{id}``...) only ever breaks its own test. Cases are
sent with a real bearer token: mostly the owner's, often the neighbour's (who may
borrow, answer, thank), sometimes whatever Authorization Schemathesis made. Path ids
and id fields of bodies are mostly real ones of that world, ``password``/``email``
mostly the owner's (or a fresh address), loan days and event times mostly to come:
so that the happy paths are reached too, not only 404 and 422.

Checks: no 5xx, every status code documented for its operation, the documented
Content-Type, and the body valid against the documented schema (errors included).

Bounds: ``SCHEMATHESIS_EXAMPLES`` examples per operation in the fuzzing phase (default
20, valid and invalid data); derandomized with a fixed seed (``SCHEMATHESIS_SEED=<n>``
explores other examples, still reproducibly); ``SCHEMATHESIS_COVERAGE=1`` adds the
coverage phase. About a minute and a half for both backends on 2 cores (``-n 2``).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import load_all_checks, not_a_server_error
from schemathesis.specs.openapi import checks as oas_checks
from sqlalchemy import select

from peuplade import create_app
from peuplade.account import services as account
from peuplade.extensions import db
from tests.conftest import PASSWORD, _empty_tables, _test_config
from tests.test_fuzz import _fuzz_world

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261129"))
# SCHEMATHESIS_COVERAGE=1 adds Schemathesis's coverage phase (every boundary value the
# document allows: about as long again as the rest).
COVERAGE = os.environ.get("SCHEMATHESIS_COVERAGE") == "1"

load_all_checks()
CHECKS = [
    not_a_server_error,
    oas_checks.status_code_conformance,
    oas_checks.content_type_conformance,
    oas_checks.response_schema_conformance,
]


def _spec_app():
    """An app only to read the document from: it never opens its database."""
    return create_app(_test_config("sqlite://"))


schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    _spec_app(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": COVERAGE},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    ),
)

# What the current test's world holds; read by the hooks while cases are drawn.
WORLD: dict[str, Any] = {}
# Path parameters and body fields -> the table their ids are taken from.
TABLES = {
    "exchange_id": "exchanges",
    "item_id": "items",
    "loan_id": "loans",
    "news_id": "news_posts",
    "event_id": "events",
    "conversation_id": "conversations",
    "member_id": "members",
    "helper_id": "members",
    "place_id": "places",
    "token_id": "api_tokens",
    "id": "posts",
}


def _real_ids(name: str) -> st.SearchStrategy[int] | None:
    ids = WORLD.get("ids", {}).get(TABLES.get(name, ""))
    return st.sampled_from(ids) if ids else None


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Mostly real ids of the world, so that the operations do more than 404."""
    real = {name: _real_ids(name) for name in path_parameters or {}}
    if not real or None in real.values():
        return st.just(path_parameters)
    real_ones = st.fixed_dictionaries(real)
    # Real ones first: Hypothesis leans to the first choice.
    return st.one_of(real_ones, real_ones, real_ones, st.just(path_parameters))


def _soon(first: int, last: int) -> st.SearchStrategy[datetime]:
    return st.integers(first, last).map(lambda n: datetime.now(UTC) + timedelta(days=n))


def _likely(key: str, value: Any) -> st.SearchStrategy[Any] | None:
    """A value the app is likely to accept for a field of that name, if there is one."""
    if key in TABLES:
        return _real_ids(key)
    if key == "password":
        return st.just(PASSWORD)
    if key == "email":
        fresh = st.integers(1, 10**6).map(lambda n: f"voisin-{n}@example.org")
        return st.one_of(st.just(WORLD["email"]), fresh)
    if key in ("start", "due"):  # loan days: booked from today, 60 days at most
        days = _soon(1, 10) if key == "start" else _soon(11, 20)
        return days.map(lambda d: d.date().isoformat())
    if key in ("starts_at", "ends_at"):
        return (_soon(1, 10) if key == "starts_at" else _soon(11, 20)).map(datetime.isoformat)
    if isinstance(value, dict):
        return _realistic(value)
    return None


def _realistic(body: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``body`` with, each field drawn on its own, mostly a likely value where there is
    one (real ids, the owner's credentials, days to come), else what Schemathesis made."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for key, value in body.items():
        likely = _likely(key, value)
        fields[key] = (
            st.just(value) if likely is None else st.one_of(likely, likely, st.just(value))
        )
    return st.fixed_dictionaries(fields)


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    return _realistic(body)


def _as(case, token: str | None):
    if token is not None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    return case


@schema.hook
def flatmap_case(context, case):
    """Mostly the owner, often the neighbour (who may borrow, answer, thank), sometimes
    whatever Authorization Schemathesis made (none, or not a token)."""
    tokens = WORLD.get("tokens")
    if not tokens:
        return st.just(case)
    who = st.sampled_from([tokens["owner"], tokens["owner"], tokens["neighbour"], None])
    return who.map(lambda token: _as(case, token))


@pytest.fixture(scope="module")
def module_app(backend):
    """One app per backend for the whole file (building one costs more than a case)."""
    app = create_app(_test_config(backend))
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def world(module_app):
    """A fresh world for each operation: a destructive one only breaks its own."""
    app = module_app
    with app.app_context():
        _empty_tables()
        members = _fuzz_world()
        WORLD["tokens"] = {who: account.issue_token(members[who]) for who in ("owner", "neighbour")}
        account.issue_token(members["owner"])  # a spare one, for DELETE/PATCH /tokens/{id}
        db.session.commit()
        WORLD["ids"] = {
            table: sorted(db.session.scalars(select(db.metadata.tables[table].c.id)).all())
            for table in set(TABLES.values())
        }
        WORLD["email"] = members["owner"].email
        db.session.commit()
        db.session.remove()
    # No app context is held while the cases run: each request pushes its own.
    yield app
    WORLD.clear()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_own_document(case, world):
    case.call_and_validate(app=world, checks=CHECKS)
