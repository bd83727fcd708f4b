"""The house's layers hold (import-linter's contracts in .importlinter), a contract broken
on purpose is caught, no module imports another that imports it back, and imports sit at
the top of their modules: docs/architecture.md draws the same picture."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from peuplade.config import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Imports written inside a function: the app factory may (create_app and the _register_*
# helpers it calls in peuplade/__init__.py: importing any module of the package must not
# build the whole app), others only with a comment saying why (a heavy optional
# dependency...), and few of them.
NESTED_IMPORTS_MAX = 10


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def copy_of_package(tmp_path_factory):
    """A copy of the package to break on purpose; a fresh one per test."""

    def make() -> Path:
        parent = tmp_path_factory.mktemp("house")
        shutil.copytree(
            ROOT / "peuplade", parent / "peuplade", ignore=shutil.ignore_patterns("__pycache__")
        )
        return parent

    return make


def test_the_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert " kept, 0 broken" in result.stdout


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + "\n" + line + "\n")


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # the bottom of the house reaching up to a feature
        ("geo.py", "import peuplade.exchanges.services", "layers of the house"),
        # a feature's queries reaching up to its own routes
        ("loans/queries.py", "import peuplade.loans.routes", "inside a feature"),
        # a shared form helper reaching up to the features that use it
        ("forms.py", "import peuplade.account.routes", "layers of the house"),
        # the API's plumbing importing a feature
        ("api/parsing.py", "import peuplade.news.services", "api is plumbing"),
        # two features that must stay apart
        ("exchanges/services.py", "import peuplade.loans.services", "layers of the house"),
    ],
)
def test_a_contract_broken_on_purpose_is_caught(copy_of_package, module, line, contract):
    parent = copy_of_package()
    _append(parent / "peuplade" / module, line)
    result = lint_imports(parent)
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout


# Run apart: this process has imported the package already, and grimp would find it there.
CYCLES = """
import json, grimp
graph = grimp.build_graph("peuplade", cache_dir=None)
found = []
for module in sorted(graph.modules):
    for imported in sorted(graph.find_modules_directly_imported_by(module)):
        back = graph.find_shortest_chain(importer=imported, imported=module)
        if back:
            found.append([module, *back])
print(json.dumps(found))
"""


def cycles(package_parent: Path) -> list[list[str]]:
    """Every module that imports one which imports it back, with the way back (grimp
    reads every import, those written inside functions too)."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    result = subprocess.run(
        [sys.executable, "-c", CYCLES],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout)


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(ROOT) == []


def test_a_loop_made_on_purpose_is_found(copy_of_package):
    parent = copy_of_package()
    _append(parent / "peuplade" / "geo.py", "import peuplade.privacy")
    assert ["peuplade.geo", "peuplade.privacy", "peuplade.geo"] in cycles(parent)


def _nested_imports() -> list[tuple[str, int, str]]:
    """(file, line, source) of every import written inside a function, the app factory's
    aside."""
    found = []
    for path in sorted((ROOT / "peuplade").rglob("*.py")):
        if path == ROOT / "peuplade" / "__init__.py":
            continue
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    where = str(path.relative_to(ROOT))
                    found.append((where, node.lineno, lines[node.lineno - 1].strip()))
    # a function inside another is walked twice
    return sorted(set(found))


def test_imports_inside_functions_are_few_and_say_why():
    nested = _nested_imports()
    assert len(nested) <= NESTED_IMPORTS_MAX, "\n".join(f"{f}:{n} {s}" for f, n, s in nested)
    for where, lineno, text in nested:
        lines = (ROOT / where).read_text().splitlines()
        before = lines[lineno - 2].strip() if lineno > 1 else ""
        assert "#" in text or before.startswith("#"), f"{where}:{lineno} says not why: {text}"
