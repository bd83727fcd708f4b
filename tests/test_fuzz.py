"""Fuzzing: random and hostile input to every HTML form and every API operation.

What is fuzzed is read from the app itself, so a new form or operation is covered the
day it is added:

- HTML: the pages of every GET route (ids of a small world filled in), and the pages
  their links lead to, are read as four visitors (an owner of things, a neighbour who
  took part, an admin, an anonymous visitor); every ``<form>`` found (its fields, its
  action's query string) is fuzzed by the visitor who saw it. A POST route (outside
  /api/) that no page offers a form for is fuzzed all the same, with every field name
  seen anywhere.
- API: every operation of ``GET /api/v1/openapi.json``: its path parameters, query
  parameters and request body, as the owner or the neighbour (bearer tokens).

Values: any Unicode (control characters, NUL, RTL marks, emoji), 100 000 characters,
numbers that are not (NaN, inf, 1e308, huge integers), wrong types, missing and
unknown fields, SQL, HTML/JS and template injections, path traversal, ids that do not
fit 32 or 64 bits. Never a 5xx nor a traceback; API errors in the documented shape;
afterwards, no page shows an injected marker unescaped and every table is still there.

Bounds: ``FUZZ_EXAMPLES`` examples per endpoint (default in tests/fuzz_inputs.py),
derandomized; ``FUZZ_SEED=<n>`` explores other examples. See docs/security.md#fuzzing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select, update
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from peuplade.account import services as account
from peuplade.account.tokens import new_token
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Member, MemberSession
from peuplade.moderation import services as moderation
from tests import fuzz_inputs as fz
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.helpers.quartiers import add_quartier
from tests.test_security_sweeps import _world

TRACEBACK = "Traceback (most recent call last)"
# These never get the member's real password, so that the fuzzing member stays who they
# are (they are fuzzed with every other value all the same).
KEEP_PASSWORD_FROM = {"gdpr.delete_account", "account.change_password", "api.delete_me"}
# Pages read per route and query: /exchanges/1 tells what /exchanges/3 would.
PAGES_PER_ROUTE = 2


def _fuzzed(test: Callable) -> Callable:
    test = fz.FUZZ_SETTINGS(test)
    return seed(int(fz.SEED))(test) if fz.SEED is not None else test


# -- the world ---------------------------------------------------------------------


def _fuzz_world() -> dict[str, Member]:
    """The sweeps' world (an owner of one of everything, a neighbour who took part in
    it, a far stranger), an admin, and a troll whose exchange the owner reported; all
    but the stranger in one quartier (its news, its Atom feed, its moderators)."""
    add_quartier("batignolles", around=DAMES_LEMERCIER, half=0.02)
    owner, neighbour, stranger, _ids = _world()
    admin = account.register_member(
        email="admin@example.org",
        password=PASSWORD,
        display_name="Admin",
        location=LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
    )
    admin.is_admin = True
    troll = account.register_member(
        email="troll@example.org",
        password=PASSWORD,
        display_name="Troll",
        location=LocationInput(lat=CLICHY[0], lon=CLICHY[1]),
    )
    spam = exchanges.create_exchange(
        troll,
        exchanges.ExchangeInput(
            kind="offer", title="Crédit facile", body="Cliquez ici", category="autre"
        ),
    )
    moderation.report(owner, "exchange", spam.id, "spam", "")
    db.session.commit()
    return {"owner": owner, "neighbour": neighbour, "admin": admin, "stranger": stranger}


def _id_finder() -> Callable[[str], list[str]]:
    """``exchange_id`` -> the ids of the exchanges (``comment_id``: news_comments;
    ``news_id``: every news_* table), ``id`` or an unknown name -> every id."""
    ids: dict[str, list[str]] = {}
    for name, table in db.metadata.tables.items():
        if "id" in table.columns:
            rows = db.session.execute(select(table.c.id).order_by(table.c.id)).scalars()
            ids[name] = [str(i) for i in rows]
    db.session.rollback()
    everything = sorted({i for found in ids.values() for i in found}, key=int)

    def ids_for(name: str) -> list[str]:
        stem = name.removesuffix("_id")
        for match in (
            lambda t: t in (stem + "s", stem),
            lambda t: t.endswith("_" + stem + "s"),
            lambda t: t.startswith(stem + "_"),
        ):
            found = [i for t in sorted(ids) if match(t) for i in ids[t]]
            if found:
                return found
        return everything

    return ids_for


def _heal(clients: dict[str, Any], members: dict[str, Member]) -> None:
    """Undo what a fuzzed moderation action did to the world (members suspended or
    banned, things hidden) and log in again whoever lost their session (logout, ban),
    so that every endpoint is fuzzed by members who can reach it."""
    db.session.execute(
        update(Member)
        .where(Member.status != "active")
        .values(status="active", suspended_until=None)
    )
    for name in ("posts", "news_comments", "messages"):
        table = db.metadata.tables[name]
        db.session.execute(
            update(table).where(table.c.hidden_at.is_not(None)).values(hidden_at=None)
        )
    db.session.commit()
    for who, client in clients.items():
        member = members.get(who)
        if member is None:
            continue
        alive = db.session.scalar(
            select(func.count())
            .select_from(MemberSession)
            .where(MemberSession.member_id == member.id)
        )
        email = db.session.scalar(select(Member.email).where(Member.id == member.id))
        db.session.rollback()
        if email and not alive:
            client.post("/login", data={"email": email, "password": PASSWORD})


def _failures(fuzz: Callable[[], None]) -> list[str]:
    """Run one endpoint's fuzz; its (shrunk) failure, if any, as a message. Every
    endpoint is fuzzed before the test fails, so that one run shows every bug."""
    try:
        fuzz()
    except AssertionError as exc:
        return [str(exc).split("\nassert ")[0][:3000]]
    except ExceptionGroup as group:  # distinct failures of one endpoint, or a flaky one
        return [str(exc).split("\nassert ")[0][:3000] for exc in group.exceptions]
    return []


def _assert_tables_intact(members: dict[str, Member]) -> None:
    present = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= present
    ids = {m.id for m in members.values()}
    assert db.session.scalar(select(func.count()).where(Member.id.in_(ids))) == len(ids)
    db.session.rollback()


def _short(value: Any) -> str:
    """A failing input, short enough to read in the report."""
    text = repr(value)
    return text if len(text) <= 400 else text[:400] + f"... ({len(text)} characters)"


def _assert_no_failure(where: str, response) -> str:
    # Not every answer is text: the data export is a ZIP, photos are JPEGs.
    body = response.get_data().decode("utf-8", "replace")
    assert response.status_code < 500, f"{where} -> {response.status_code}"
    assert TRACEBACK not in body, where
    if 300 <= response.status_code < 400:  # never sent to another site (open redirect)
        target = urlsplit(response.headers.get("Location", ""))
        assert target.netloc in ("", "localhost") and target.scheme in ("", "http"), where
    return body


# -- reading the site ------------------------------------------------------------------


def _endpoint(app, path: str, method: str = "GET") -> tuple[str | None, Any]:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method=method)
    except RequestRedirect:
        return None, None
    except HTTPException:
        return None, None
    rule = next(r for r in app.url_map.iter_rules(endpoint) if method in r.methods)
    return endpoint, rule


def _get_routes(app, ids: Callable[[str], list[str]]) -> list[str]:
    """One or two paths for each HTML GET route, its ids taken from the world."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/"):
            continue
        args = fz.path_arguments(rule.rule)
        if any(conv not in ("int",) for _n, conv in args):
            continue  # string arguments (tokens, slugs) come from links, if any
        choices = [ids(name)[:PAGES_PER_ROUTE] for name, _c in args]
        if not all(choices):
            continue
        for i in range(PAGES_PER_ROUTE):
            values = {
                name: c[min(i, len(c) - 1)] for (name, _), c in zip(args, choices, strict=True)
            }
            paths.append(fz.fill_path(rule.rule, values))
    return sorted(set(paths))


def _crawl(app, client, start: list[str], check: Callable[[str, Any], None] | None = None):
    """GET the start pages and the same-site links they lead to (a few per route and
    query). Returns the forms found and the pages read."""
    seen_kinds: dict[tuple, int] = {}
    queue = list(start)
    visited: set[str] = set()
    forms: list[fz.Form] = []
    pages: dict[str, str] = {}
    while queue:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        endpoint, _rule = _endpoint(app, path)
        if endpoint is None or endpoint == "static":
            continue
        kind = (endpoint, tuple(sorted(k for k, _v in _query(path))))
        if seen_kinds.get(kind, 0) >= PAGES_PER_ROUTE:
            continue
        seen_kinds[kind] = seen_kinds.get(kind, 0) + 1
        response = client.get(path)
        body = _assert_no_failure(f"GET {path}", response)
        if check is not None:
            check(path, response)
        if response.mimetype != "text/html":
            continue
        pages[path] = body
        found, links = fz.parse_page(path, body)
        forms += found
        queue += [link for link in links if link not in visited]
        if urlsplit(path).query:
            # The query of a link is input too: fuzzed like a GET form.
            forms.append(
                fz.Form(
                    "GET",
                    urlsplit(path).path,
                    {k: fz.FormField(k, "hidden", [v], "query") for k, v in _query(path)},
                    path,
                )
            )
    return forms, pages


def _query(path: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(path).query, keep_blank_values=True)


def _html_units(app, clients, ids) -> list[dict[str, Any]]:
    """What to fuzz: for each (method, endpoint), the forms found and who saw them."""
    units: dict[tuple[str, str], dict[str, Any]] = {}
    start = _get_routes(app, ids)
    field_names: set[str] = set()
    for who, client in clients.items():
        forms, _pages = _crawl(app, client, start)
        for form in forms:
            endpoint, rule = _endpoint(app, form.path, form.method)
            if endpoint is None or rule.rule.startswith("/api/"):
                continue
            unit = units.setdefault(
                (form.method, endpoint),
                {"rule": rule, "forms": {}, "method": form.method, "endpoint": endpoint},
            )
            unit["forms"].setdefault((who, form.key()), (who, form))
            field_names |= set(form.fields)
    # POST routes no page offered a form for: fuzzed with every field name seen.
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        if ("POST", rule.endpoint) in units:
            continue
        args = fz.path_arguments(rule.rule)
        values = {n: (ids(n)[0] if c == "int" else "x") for n, c in args}
        if any(c == "any" for _n, c in args):
            values.update({n: sorted(rule._converters[n].items)[0] for n, c in args if c == "any"})
        form = fz.Form(
            "POST",
            fz.fill_path(rule.rule, values),
            {n: fz.FormField(n, "text") for n in sorted(field_names)},
            "(no page)",
        )
        units[("POST", rule.endpoint)] = {
            "rule": rule,
            "forms": {("owner", form.key()): ("owner", form)},
            "method": "POST",
            "endpoint": rule.endpoint,
        }
    for unit in units.values():
        unit["forms"] = list(unit["forms"].values())
        unit["field_names"] = sorted(field_names)
    # Deleting and logging out last: the world stays whole for the others.
    return sorted(
        units.values(),
        key=lambda u: ("delete" in u["endpoint"] or "logout" in u["endpoint"], u["endpoint"]),
    )


def _fuzz_html_unit(app, clients, unit, ids) -> None:
    rule = unit["rule"]
    args = fz.path_arguments(rule.rule)

    @st.composite
    def submissions(draw):
        who, form = draw(st.sampled_from(unit["forms"]))
        password = None if unit["endpoint"] in KEEP_PASSWORD_FROM else PASSWORD
        query, body = draw(fz.form_data(form, password, unit["field_names"]))
        path = form.path
        if args and draw(st.integers(0, 3)) == 0:
            values = {}
            for name, conv in args:
                known = ids(name) if conv == "int" else []
                if conv == "any":
                    known = sorted(rule._converters[name].items)
                values[name] = draw(fz.path_value(conv, known))
            path = fz.fill_path(rule.rule, values)
        return who, path, query, body

    @_fuzzed
    @given(submissions())
    def run(submission):
        who, path, query, body = submission
        target = path + ("?" + urlencode(query, doseq=True) if query else "")
        if unit["method"] == "GET":
            response = clients[who].get(path, query_string={**query, **body})
        else:
            response = clients[who].post(target, data=body)
        where = f"{who} {unit['method']} {_short(target)} {_short(body)}"
        page = _assert_no_failure(where, response)
        if response.mimetype == "text/html":  # what was sent is shown back escaped
            assert not any(marker in page for marker in fz.RAW_MARKERS), f"{where}: unescaped"

    run()


def _plausible_submissions(clients, units) -> None:
    """Each form once with every field right and the injections in every text, so that
    they are stored and the pages can be checked for them."""
    for unit in units:
        if "delete" in unit["endpoint"] or "logout" in unit["endpoint"]:
            continue
        for who, form in unit["forms"]:
            password = None if unit["endpoint"] in KEEP_PASSWORD_FROM else PASSWORD
            query, body = fz.plausible_form(form, password)
            target = form.path + ("?" + urlencode(query) if query else "")
            if form.method == "GET":
                response = clients[who].get(target)
            else:
                response = clients[who].post(target, data=body)
            _assert_no_failure(f"{who} {form.method} {target}", response)


def _logged_in_clients(app, members: dict[str, Member]) -> dict[str, Any]:
    clients = {}
    for who in ("owner", "neighbour", "admin"):
        client = app.test_client()
        email = db.session.scalar(select(Member.email).where(Member.id == members[who].id))
        db.session.rollback()
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, who
        clients[who] = client
    clients["anonymous"] = app.test_client()
    return clients


def _assert_pages_escape_markers(app, members, ids) -> None:
    """Every page (and the Atom feeds) as every visitor: the injections stored by the
    fuzz are shown as text, never as markup; and some were stored and shown."""
    _heal({}, members)
    clients = _logged_in_clients(app, members)
    shown = 0

    def check(path, response):
        nonlocal shown
        if response.mimetype not in ("text/html", "application/atom+xml"):
            return
        body = response.get_data(as_text=True)
        for marker in fz.RAW_MARKERS:
            assert marker not in body, f"unescaped {marker!r} in {path}"
        shown += fz.MARK in body

    for client in clients.values():
        _crawl(app, client, _get_routes(app, ids), check)
    assert shown, "no page showed anything the fuzz stored: the check checked nothing"


def test_html_forms_survive_hostile_input(app):
    members = _fuzz_world()
    ids = _id_finder()
    clients = _logged_in_clients(app, members)
    units = _html_units(app, clients, ids)
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    posts = {e for e in posts if not e.startswith("api.")}
    assert posts <= {u["endpoint"] for u in units if u["method"] == "POST"}
    _plausible_submissions(clients, units)
    _heal(clients, members)
    failures = []
    for unit in units:
        failures += _failures(lambda: _fuzz_html_unit(app, clients, unit, ids))  # noqa: B023
        _heal(clients, members)
    if failures:
        pytest.fail(f"{len(failures)} endpoint(s) failed:\n\n" + "\n\n".join(failures), False)
    _assert_tables_intact(members)
    _assert_pages_escape_markers(app, members, ids)


# -- the API -----------------------------------------------------------------------------


def _assert_api_answer(where: str, response, operation: dict[str, Any]) -> None:
    _assert_no_failure(where, response)
    if response.status_code == 204:
        return
    assert response.mimetype == "application/json", where
    data = response.get_json()
    if response.status_code < 400:
        return
    assert set(data) == {"error"}, where
    error = data["error"]
    assert isinstance(error.get("code"), str) and error["code"], where
    assert isinstance(error.get("message"), str) and error["message"], where
    if "fields" in error:
        assert error["fields"] and all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in error["fields"].items()
        ), where
    documented = set(operation["responses"]) | {"404", "413"}
    assert str(response.status_code) in documented, f"{where}: undocumented {_short(data)}"


def _api_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [
        (method.upper(), path, op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]
    # Deletions last: the world stays whole for the others.
    return sorted(ops, key=lambda o: (o[0] == "DELETE", o[1], o[0]))


def _fuzz_api_operation(client, tokens, spec, ids, method, path, operation) -> None:
    keep = "api." + operation["operationId"] in KEEP_PASSWORD_FROM
    password = "pas le bon mot de passe" if keep else PASSWORD
    values = fz.SchemaValues(spec["components"]["schemas"], ids, password)
    parameters = operation.get("parameters", [])
    body_schema = _body_schema(operation)

    def as_query(value: Any) -> str:
        return json.dumps(value) if not isinstance(value, str) else value

    @st.composite
    def requests(draw):
        who = draw(st.sampled_from(["owner", "owner", "owner", "neighbour", "neighbour", "forger"]))
        path_values = {}
        query = {}
        for param in parameters:
            if param["in"] == "path":
                known = ids(param["name"])
                path_values[param["name"]] = draw(fz.path_value("int", known))
            elif param["in"] == "query" and draw(st.booleans()):
                plausible = values.plausible(param["schema"], param["name"]).map(as_query)
                query[param["name"]] = draw(st.one_of(plausible, fz.hostile_text()))
        headers = {}
        data = None
        if body_schema is not None or draw(st.integers(0, 9)) == 0:
            document = draw(values.body(body_schema or {"type": "object"}))
            framing = draw(st.integers(0, 19))
            data = fz.encode_json(document)
            headers["Content-Type"] = "application/json"
            if framing == 0:
                headers["Content-Type"] = "text/plain"
            elif framing == 1:
                data = draw(
                    st.sampled_from([b"", b"{", b"\xff\xfe\x00", b'{"a": 1}{}', b"[" * 5000])
                )
            elif framing == 2:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                data = b"title=x&body=y"
        if who == "forger":
            headers["Authorization"] = draw(fz.hostile_authorization(tokens["owner"]))
        else:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        return who, fz.fill_path(path, path_values), query, headers, data

    @_fuzzed
    @given(requests())
    def run(request):
        who, target, query, headers, data = request
        response = client.open(
            target, method=method, query_string=query, headers=headers, data=data
        )
        url = target + ("?" + urlencode(query) if query else "")
        kind = headers.get("Content-Type", "-")
        where = f"{who} {method} {_short(url)} {kind} {_short(data)}"
        _assert_api_answer(where, response, operation)

    run()


def _body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def _plausible_api_requests(client, tokens, spec, ids, operations) -> None:
    """Each operation with a right body (required fields only, then every field) and the
    injections in every text, as the owner and the neighbour."""
    for method, path, operation in operations:
        if method == "DELETE" or _body_schema(operation) is None:
            continue
        values = fz.SchemaValues(spec["components"]["schemas"], ids, PASSWORD)
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        target = fz.fill_path(path, {n: ids(n)[0] for n in names})
        for who in ("owner", "neighbour"):
            for everything in (False, True):
                body = values.example(_body_schema(operation), everything=everything)
                response = client.open(
                    target,
                    method=method,
                    json=body,
                    headers={"Authorization": f"Bearer {tokens[who]}"},
                )
                _assert_api_answer(f"{who} {method} {target} {_short(body)}", response, operation)


def test_api_survives_hostile_input(app):
    members = _fuzz_world()
    ids = _id_finder()
    tokens = {who: new_token(members[who])[0] for who in ("owner", "neighbour")}
    db.session.commit()
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = _api_operations(spec)
    assert len(operations) >= 50
    _plausible_api_requests(client, tokens, spec, ids, operations)
    failures = []
    for method, path, operation in operations:
        failures += _failures(
            lambda: _fuzz_api_operation(client, tokens, spec, ids, method, path, operation)  # noqa: B023
        )
    if failures:
        pytest.fail(f"{len(failures)} endpoint(s) failed:\n\n" + "\n\n".join(failures), False)
    _assert_tables_intact(members)
    # Every GET answer still reads, as each member.
    for who in ("owner", "neighbour"):
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        for method, path, operation in operations:
            if method != "GET":
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            target = fz.fill_path(path, {n: ids(n)[0] for n in names})
            response = client.get(target, headers=headers)
            _assert_api_answer(f"{who} GET {target}", response, operation)
    _assert_pages_escape_markers(app, members, ids)


# -- what the fuzz found (each failed with a 500 on PostgreSQL, or a wrong status) ----------


def _member_client(app, make_member):
    member = make_member(at=DAMES_LEMERCIER)
    client = app.test_client()
    assert client.post("/login", data={"email": member.email, "password": PASSWORD}).status_code
    return member, client


@pytest.mark.parametrize("path", ["/objects", "/exchanges"])
def test_a_search_with_control_characters_is_an_empty_search(app, make_member, path):
    """PostgreSQL refuses NUL in text: ``?q=%00`` was a 500."""
    _member, client = _member_client(app, make_member)
    response = client.get(path, query_string={"q": "perceuse\x00\x1b"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["2147483648", "9" * 5000, "-1", "²", "1.5"])
def test_a_public_place_that_cannot_exist_is_refused_on_the_form(app, make_member, value):
    """The place of an exchange or event: an id beyond 32 bits reached PostgreSQL."""
    _member, client = _member_client(app, make_member)
    form = {"kind": "request", "title": "Porter un canapé", "body": "Samedi matin."}
    response = client.post(
        "/exchanges/new", data={**form, "category": "demenagement", "location": value}
    )
    assert response.status_code == 422
    assert "Ce lieu n&#39;existe pas." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"to": "9" * 5000}, 404),  # int() refuses more than 4300 digits: a ValueError
        ({"to": "²"}, 404),  # a digit to str.isdigit(), not to int()
        ({"to": "2147483648"}, 404),
        ({"to": "{neighbour}", "about": "exchange:" + "9" * 5000}, 400),
        ({"to": "{neighbour}", "about": "exchange:²"}, 400),
    ],
)
def test_writing_to_an_id_that_cannot_exist(app, make_member, query, status):
    _member, client = _member_client(app, make_member)
    neighbour = make_member(at=CLICHY)
    query = {k: v.format(neighbour=neighbour.id) for k, v in query.items()}
    assert client.get("/messages/new", query_string=query).status_code == status


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/exchanges/{}/responses"),
        ("PATCH", "/api/v1/exchanges/{}"),
        ("DELETE", "/api/v1/items/{}"),
        ("POST", "/messages/{}"),
        ("POST", "/loans/{}/accept"),
    ],
)
def test_an_id_beyond_32_bits_is_not_found_whatever_the_method(app, make_member, method, path):
    """Werkzeug checked ``int(max=...)`` after matching the path: when a GET rule shared
    it, other methods got 405 ("not possible here") instead of 404."""
    member, client = _member_client(app, make_member)
    headers = {"Authorization": f"Bearer {new_token(member)[0]}"}
    db.session.commit()
    for too_large in ("2147483648", "99999999999", "0" * 12 + "1"):
        response = client.open(path.format(too_large), method=method, headers=headers, json={})
        assert response.status_code == 404, too_large
    # The largest id still reaches the view (which finds nothing).
    response = client.open(path.format(2**31 - 1), method=method, headers=headers, json={})
    assert response.status_code in (404, 422)


def test_the_new_account_limits_and_blocks_are_documented(make_app, make_member):
    """429 (new accounts) on every posting operation, 403 (blocked) on a message."""
    app = make_app(NEW_ACCOUNT_POSTS_PER_DAY=0, NEW_ACCOUNT_MESSAGES_PER_HOUR=0)
    with app.app_context():
        spec = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
        member = account.register_member(
            email="nouvelle@example.org",
            password=PASSWORD,
            display_name="Nouvelle",
            location=LocationInput(lat=DAMES_LEMERCIER[0], lon=DAMES_LEMERCIER[1]),
        )
        headers = {"Authorization": f"Bearer {new_token(member)[0]}"}
        db.session.commit()
        body = {"kind": "request", "title": "Porter un canapé", "body": "Samedi."}
        response = app.test_client().post(
            "/api/v1/exchanges", json={**body, "category": "demenagement"}, headers=headers
        )
        assert response.status_code == 429
    for path in ("exchanges", "items", "news", "events", "conversations"):
        assert "429" in spec[f"/api/v1/{path}"]["post"]["responses"], path
    messages = spec["/api/v1/conversations/{conversation_id}/messages"]["post"]["responses"]
    # A conversation across a block is hidden from both: 404 (docs/moderation.md).
    assert {"404", "429"} <= set(messages)
