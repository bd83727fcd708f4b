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

Checks: every check Schemathesis ships (``load_all_checks()``, none excluded), with the
settings of ``schemathesis.toml`` at the root of the repository, the same file a run
against a deployed server uses (docs/operations.md):

- no 5xx; status codes, Content-Type, headers and bodies as documented (errors too);
- ``negative_data_rejection``: what the document refuses, the server refuses;
- ``positive_data_acceptance``: what the document allows, the server accepts. A 404, 403
  or 409 is the server's to answer (an id of nobody, not yours, a state), and so are the
  400 and 422 of the rules no schema can state, which each operation's description names
  (``openapi.Rule``): ``schemathesis.toml`` adds those two statuses to the operations
  that have such rules, and :func:`refused_for_a_documented_rule` holds each such answer
  to them: the fields its ``error.fields`` names must be those of a declared rule;
- ``ignored_auth``: cases sent with a real token are marked as explicitly authenticated,
  so Schemathesis sends each of them again without it and with a wrong one (401);
- ``missing_required_header``, ``unsupported_method``: coverage phase only
  (``SCHEMATHESIS_COVERAGE=1``, and the run against a deployed server);
- ``use_after_free``, ``ensure_resource_availability``: they follow a resource from the
  request that made it (a DELETE, then a GET; a POST, then its GET), which one test per
  operation cannot do: enabled there, they never fire; ``test_api_stateful_workflows``
  runs them on sequences of calls linked by what they answer (links Schemathesis infers
  from the document: ids in answers, ``Location`` headers), a fresh world each;
- ``object_level_authorization``: it compares one identity's GET with another's, among
  the identities of a ``[auth.wfc]`` section; the run against a deployed server gives it
  two demo members (docs/operations.md); here, where the tokens of each world are new,
  the neighbour's and the owner's reads are checked by tests/test_privacy.py and
  tests/test_security_sweeps.py instead. Enabled, it stays silent without identities.

Bounds: ``SCHEMATHESIS_EXAMPLES`` examples per operation in the fuzzing phase (default
20, valid and invalid data); derandomized with a fixed seed (``SCHEMATHESIS_SEED=<n>``
explores other examples, still reproducibly); ``SCHEMATHESIS_COVERAGE=1`` adds the
coverage phase; ``SCHEMATHESIS_STATEFUL_EXAMPLES`` sequences of up to 6 calls (default
10). About a minute for both backends on 2 cores (``-n 2``).
"""

from __future__ import annotations

import io
import json
import os
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image
from pydantic import ValidationError
from schemathesis.checks import load_all_checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import ComponentInfo
from sqlalchemy import select

from peuplade import create_app
from peuplade.account.tokens import new_token
from peuplade.api.openapi import Operation, rules_of
from peuplade.extensions import db
from peuplade.models import Post
from peuplade.photos import services as photos
from tests.conftest import PASSWORD, _empty_tables, _test_config
from tests.test_fuzz import _fuzz_world

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261129"))
# SCHEMATHESIS_COVERAGE=1 adds Schemathesis's coverage phase (every boundary value the
# document allows: about as long again as the rest).
COVERAGE = os.environ.get("SCHEMATHESIS_COVERAGE") == "1"
CONFIG_FILE = Path(__file__).parent.parent / "schemathesis.toml"
# What positive_data_acceptance expects by default (schemathesis/config/_checks.py).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# The statuses a rule no schema can state adds to them: the rest are there already.
RULE_STATUSES = (400, 422)

load_all_checks()


def _spec_app():
    """An app only to read the document from: it never opens its database."""
    return create_app(_test_config("sqlite://"))


def _operations(app) -> dict[str, Operation]:
    """The @operation declarations by operationId."""
    return {
        view.operation_id: view.api_operation
        for view in app.view_functions.values()
        if hasattr(view, "api_operation")
    }


SPEC_APP = _spec_app()
OPERATIONS = _operations(SPEC_APP)


def schemathesis_toml(operations: dict[str, Operation]) -> str:
    """The text ``schemathesis.toml`` must have: for each operation with rules no schema
    states, the statuses they add to what positive_data_acceptance accepts."""
    lines = [
        "# Schemathesis settings for the API against its own document: the in-process test",
        "# (tests/test_api_schemathesis.py) and a run against a deployed server",
        "# (docs/operations.md). Written from the rules of each operation's declaration",
        "# (peuplade/api/openapi.py, Rule): that test fails with the text to write here when",
        "# they change.",
        "#",
        "# Data the document allows must be accepted, but for the rules no schema can state",
        "# (a password too easy to guess, a date already past, a cursor we did not sign...),",
        "# each named with its status in the operation's description.",
    ]
    for operation_id, op in sorted(operations.items()):
        extra = sorted({r.status for r in rules_of(op)} & set(RULE_STATUSES))
        if not extra:
            continue
        statuses = ", ".join(f'"{s}"' for s in [*ACCEPTED, *map(str, extra)])
        lines += [
            "",
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            f"checks.positive_data_acceptance.expected-statuses = [{statuses}]",
        ]
    return "\n".join(lines) + "\n"


def _config() -> schemathesis.Config:
    data = tomllib.loads(CONFIG_FILE.read_text())
    data.update(
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
    )
    return schemathesis.Config.from_dict(data)


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", SPEC_APP, config=_config())


def refused_for_a_documented_rule(ctx, response, case) -> None:
    """Data the document allows, answered 400 or 422, only for a declared rule: the
    fields the error names (or none) must be those of one of the operation's rules."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if response.status_code not in RULE_STATUSES:
        return
    op = OPERATIONS[case.operation.definition.raw["operationId"]]
    error = response.json()["error"]
    named = set(error.get("fields") or ())
    rules = [r for r in rules_of(op) if r.status == response.status_code]
    declared = {name for rule in rules for name in rule.fields}
    if named and named <= declared:
        return
    if not named and any(not rule.fields for rule in rules):
        return
    raise AssertionError(
        f"{response.status_code} for data the document allows, and no rule of "
        f"{case.operation.label} names {sorted(named) or 'an answer without fields'}: "
        f"{error}"
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
    "photo_id": "photos",
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


def _small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


# A photo the server takes: the multipart operations' ``photo`` is mostly this, so that
# their happy path is reached too, not only the 422 of the bytes Schemathesis makes.
PHOTO = _small_jpeg()


def _soon(first: int, last: int) -> st.SearchStrategy[datetime]:
    return st.integers(first, last).map(lambda n: datetime.now(UTC) + timedelta(days=n))


def _likely(key: str, value: Any) -> st.SearchStrategy[Any] | None:
    """A value the app is likely to accept for a field of that name, if there is one."""
    if key in TABLES:
        return _real_ids(key)
    if key == "password":
        return st.just(PASSWORD)
    if key == "photo" and isinstance(value, str | bytes):  # a file: valid for another file
        return st.just(PHOTO)
    if key == "email":
        fresh = st.integers(1, 10**6).map(lambda n: f"voisin-{n}@example.org")
        return st.one_of(st.just(WORLD["email"]), fresh)
    if key in ("start", "due"):  # loan days: booked from today, 60 days at most
        days = _soon(1, 10) if key == "start" else _soon(11, 20)
        return days.map(lambda d: d.date().isoformat())
    if key in ("starts_at", "ends_at"):
        return (_soon(1, 10) if key == "starts_at" else _soon(11, 20)).map(
            lambda d: d.isoformat(timespec="seconds")
        )
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


def _has_file(body: Any) -> bool:
    return isinstance(body, dict) and any(isinstance(v, bytes) for v in body.values())


def _form_valid_as_sent(case) -> bool:
    """A multipart body with a file, judged as the server reads it (Schemathesis cannot
    judge bytes): each other value is one text part (``None`` is sent as "null", 5 as
    "5"), read by the very model the document is made from."""
    op = OPERATIONS[case.operation.definition.raw["operationId"]]
    body = case.body
    if op.form is None or any(isinstance(v, list | dict) for v in body.values()):
        return False
    sent = {k: v if isinstance(v, str | bytes) else json.dumps(v) for k, v in body.items()}
    try:
        op.form.model_validate(sent)
    except ValidationError:
        return False
    return True


def _judged_as_sent(case) -> None:
    """The ids and fields the hooks put in are judged again (valid or not), on what is
    sent rather than on what Schemathesis first drew, before the checks read the case:
    an invalid id the hook replaced by a real one no longer counts as sent."""
    meta = case._meta
    if meta is None:
        return
    # A multipart body holding a file: Schemathesis cannot judge bytes (it calls them
    # invalid), so it is judged here, as the server reads it.
    has_file = ParameterLocation.BODY in meta.components and _has_file(case.body)
    replaced = (ParameterLocation.PATH, ParameterLocation.BODY)
    for location in replaced:
        if location in meta.components:
            meta.raw_containers.pop(location, None)
            meta.mark_dirty(location)
    meta = case.meta  # judged again here
    if has_file:
        mode = GenerationMode.POSITIVE if _form_valid_as_sent(case) else GenerationMode.NEGATIVE
        meta.components[ParameterLocation.BODY] = ComponentInfo(mode=mode)
        positive = all(info.mode.is_positive for info in meta.components.values())
        meta.generation.mode = GenerationMode.POSITIVE if positive else GenerationMode.NEGATIVE
    valid = {
        location
        for location in replaced
        if location in meta.components and meta.components[location].mode.is_positive
    }
    data = meta.phase.data
    if valid and getattr(data, "mutations", None):
        data.mutations = tuple(m for m in data.mutations if m.parameter_location not in valid)
        if data.parameter_location in valid:
            data.parameter_location = None


def _as(case, token: str | None):
    _judged_as_sent(case)
    if token is not None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        # Ours, not Schemathesis's: ignored_auth sends it again without, and wrong.
        case._has_explicit_auth = True
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


def _new_world(app) -> None:
    """Empty tables, then tests/test_fuzz.py's world and tokens, in ``WORLD``."""
    with app.app_context():
        _empty_tables()
        members = _fuzz_world()
        # A photo on every post and the owner's face: DELETE /photos/{id} removes real ones.
        for post in db.session.scalars(select(Post)):
            photos.add_photo(post, PHOTO, None, post.author)
        photos.set_avatar(members["owner"], PHOTO)
        WORLD["tokens"] = {who: new_token(members[who])[0] for who in ("owner", "neighbour")}
        new_token(members["owner"])  # a spare one, for DELETE/PATCH /tokens/{id}
        db.session.commit()
        WORLD["ids"] = {
            table: sorted(db.session.scalars(select(db.metadata.tables[table].c.id)).all())
            for table in set(TABLES.values())
        }
        WORLD["email"] = members["owner"].email
        db.session.commit()
        db.session.remove()


@pytest.fixture
def world(module_app):
    """A fresh world for each operation: a destructive one only breaks its own."""
    _new_world(module_app)
    # No app context is held while the cases run: each request pushes its own.
    yield module_app
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
    # No ``checks=``: every check Schemathesis has, as the configuration enables them.
    case.call_and_validate(app=world, additional_checks=[refused_for_a_documented_rule])


def test_schemathesis_toml_lists_the_declared_rules():
    """``schemathesis.toml`` is written from the declarations: a rule added or removed
    changes what positive_data_acceptance accepts, here and against a deployed server."""
    expected = schemathesis_toml(OPERATIONS)
    assert CONFIG_FILE.read_text() == expected, f"write this to {CONFIG_FILE}:\n{expected}"


# --- stateful: resources followed from the request that made them -----------------------

STATEFUL_EXAMPLES = int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "10"))


def _stateful_config() -> schemathesis.Config:
    data = tomllib.loads(CONFIG_FILE.read_text())
    data.update(
        {
            "seed": SEED,
            "generation": {"mode": "all", "deterministic": True},
            # Links inferred from the document (ids in answers, Location headers).
            "phases": {"stateful": {"enabled": True}},
        }
    )
    return schemathesis.Config.from_dict(data)


stateful_schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", SPEC_APP, config=_stateful_config()
)
# Fields and tokens as above; ids come from the links (what an earlier step answered).
stateful_schema.hook(flatmap_body)
stateful_schema.hook(flatmap_case)


def test_api_stateful_workflows(module_app):
    """Sequences of calls linked by what they answer (an exchange created, then read,
    answered, closed, deleted, then read again...), in a fresh world each, with every
    check: ``use_after_free`` and ``ensure_resource_availability`` among them."""

    class Workflow(stateful_schema.as_state_machine()):
        def setup(self) -> None:
            _new_world(module_app)

        def teardown(self) -> None:
            WORLD.clear()

        def get_call_kwargs(self, case):
            return {"app": module_app}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            super().validate_response(
                response, case, additional_checks=[refused_for_a_documented_rule], **kwargs
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
