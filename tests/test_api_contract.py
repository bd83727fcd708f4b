"""The public contract, docs/api-contract.md (the project's own), against the app: every
row's method and path exists in the OpenAPI document (or, for the Atom feed, among the
app's routes). A contract row with no operation fails here.

The project stands alone: no tracked file may name a path outside the repository (a
clone is all a newcomer has), which the last test checks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "docs" / "api-contract.md"
ROW = re.compile(r"^\|\s*([A-Z/]+)\s*\|\s*([^|]+?)\s*\|", re.M)
# Folders beside the repository that only the developers' machines have: naming one in
# a tracked file (a doc, a comment, a test that reads it) breaks a plain clone. Written
# in two pieces so that this file does not name them itself.
OUTSIDE = ("." + "./shared", "/work" + "/")


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
    assert missing == [], "In docs/api-contract.md but not served: " + ", ".join(missing)


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


def _tracked_files() -> list[Path]:
    """The files git tracks, or, outside a git checkout (an unpacked archive), every file
    but the usual local folders."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        local = {".git", ".venv", "instance", "test-artifacts", "node_modules", "__pycache__"}
        return [
            p for p in ROOT.rglob("*") if p.is_file() and not local & set(p.relative_to(ROOT).parts)
        ]
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_names_a_path_outside_the_repository():
    files = _tracked_files()
    assert len(files) > 100  # the listing worked
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary files (images, vendored fonts), or deleted in the work tree
        for number, line in enumerate(text.splitlines(), start=1):
            if any(outside in line for outside in OUTSIDE):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert found == [], "Paths outside the repository:\n" + "\n".join(found)
