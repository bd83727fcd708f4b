"""The public contract (../shared/API.md, copied in docs/api-contract.md) against the
app: every row's method and path exists in the OpenAPI document (or, for the Atom feed,
among the app's routes). A contract row with no operation fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "docs" / "api-contract.md"
SHARED = ROOT.parent / "shared" / "API.md"  # the source, where the project sits beside it
ROW = re.compile(r"^\|\s*([A-Z/]+)\s*\|\s*([^|]+?)\s*\|", re.M)


def contract_rows(text: str) -> list[tuple[str, str]]:
    """(method, path) pairs; "GET/POST" and "/a · /b" rows give one pair each, the
    extra paths of a row being siblings of its first (``/loans/{id}/accept · /decline``)."""
    pairs = []
    for methods, cell in ROW.findall(text):
        if methods == "method":
            continue
        paths = [p.strip() for p in cell.strip("`").split("·")]
        first = paths[0]
        full = [first] + [first.rsplit("/", 1)[0] + p for p in paths[1:]]
        pairs += [(m, p) for m in methods.split("/") for p in full]
    return pairs


def _shape(path: str) -> str:
    """``/exchanges/{exchange_id}`` and ``/exchanges/{id}`` are the same path."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_committed_contract_is_the_shared_one():
    if not SHARED.exists():
        pytest.fail(f"{SHARED} is missing: the contract's source sits beside the project")
    assert CONTRACT.read_text() == SHARED.read_text(), (
        "docs/api-contract.md differs from ../shared/API.md: copy it again and check the spec"
    )


def test_every_contract_row_is_an_operation_of_the_spec(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (method.upper(), _shape(path)) for path, ops in spec["paths"].items() for method in ops
    }
    routes = {
        (method, _shape(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)))
        for rule in app.url_map.iter_rules()
        for method in rule.methods
    }
    rows = contract_rows(CONTRACT.read_text())
    assert len(rows) >= 35  # the parser read the tables
    missing = []
    for method, path in rows:
        if path.startswith("/api/v1/"):
            if (method, _shape(path)) not in documented:
                missing.append(f"{method} {path}")
        elif (method, _shape(path)) not in routes:
            missing.append(f"{method} {path}")
    assert missing == [], "In ../shared/API.md but not served: " + ", ".join(missing)


def test_the_parser_reads_combined_rows():
    rows = contract_rows(
        "| method | path | x |\n|---|---|---|\n"
        "| GET/POST | /api/v1/items | a |\n"
        "| POST | /api/v1/loans/{id}/accept · /decline | b |\n"
    )
    assert rows == [
        ("GET", "/api/v1/items"),
        ("POST", "/api/v1/items"),
        ("POST", "/api/v1/loans/{id}/accept"),
        ("POST", "/api/v1/loans/{id}/decline"),
    ]
