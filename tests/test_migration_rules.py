"""Migrations must not lock a live site's busy tables (docs/operations.md, "Upgrading a
live site"), read from the migration files themselves:

- ``migrations/env.py`` sets a short PostgreSQL ``lock_timeout`` before migrating, so a
  migration that cannot get its lock fails fast instead of queueing every request
  behind it;
- from the cut-off on, an index on a table that already exists is built
  ``CONCURRENTLY`` (``postgresql_concurrently=True`` inside
  ``op.get_context().autocommit_block()``), and no raw ``CREATE INDEX`` or unique
  constraint is added to such a table.

Revisions up to CUT_OFF were released before the rule; they stay as they were run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from peuplade.config import ROOT

MIGRATIONS = ROOT / "migrations"
# The last revision released before the rule (CHANGES.md): everything after it follows it.
CUT_OFF = "c4d9f2a1b7e3"
MAX_LOCK_TIMEOUT_S = 10


def revision_chain() -> list[tuple[str, Path]]:
    """(revision, file) from the first migration to the head, following down_revision."""
    found: dict[str | None, tuple[str, Path]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(node.value)
        assert values.get("down_revision") not in found, f"{path.name}: the chain branches"
        found[values.get("down_revision")] = (values["revision"], path)
    chain, parent = [], None
    while parent in found:
        chain.append(found[parent])
        parent = found[parent][0]
    assert len(chain) == len(found), "a migration is not on the chain from the first one"
    return chain


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literal(node: ast.AST | None) -> object:
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None


def _argument(call: ast.Call, position: int, name: str) -> ast.AST | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _in_autocommit_block(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call)
            and _call_name(item.context_expr) == "autocommit_block"
            for item in node.items
        ):
            return True
    return False


def _sqlite_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside ``if <dialect> == 'sqlite':`` or the ``else`` of ``== 'postgresql'``."""
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.If) and isinstance(parent.test, ast.Compare):
            test = parent.test
            dialect = _literal(test.comparators[0]) if len(test.comparators) == 1 else None
            if isinstance(test.ops[0], ast.Eq):
                if dialect == "sqlite" and node in parent.body:
                    return True
                if dialect == "postgresql" and node in parent.orelse:
                    return True
        node = parent
    return False


_RAW_INDEX = re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.IGNORECASE)


def locking_statements(source: str) -> list[str]:
    """What in a migration would lock an existing table while an index is built."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    created = {
        _literal(_argument(c, 0, "table_name")) for c in calls if _call_name(c) == "create_table"
    }
    problems = []
    for call in calls:
        name, line = _call_name(call), call.lineno
        if name == "create_index":
            table = _literal(_argument(call, 1, "table_name"))
            if not isinstance(table, str):
                problems.append(f"line {line}: create_index: name the table literally")
            elif table not in created and not _sqlite_only(call, parents):
                concurrently = any(
                    k.arg == "postgresql_concurrently" and _literal(k.value) is True
                    for k in call.keywords
                )
                if not concurrently:
                    problems.append(f"line {line}: index on {table} without CONCURRENTLY")
                elif not _in_autocommit_block(call, parents):
                    problems.append(f"line {line}: CONCURRENTLY outside autocommit_block()")
        elif name == "create_unique_constraint":
            table = _literal(_argument(call, 1, "table_name"))
            if table not in created:
                problems.append(
                    f"line {line}: unique constraint on {table}: build a unique index CONCURRENTLY"
                )
        elif name == "execute":
            sql = _literal(_argument(call, 0, "sqltext"))
            if isinstance(sql, str) and _RAW_INDEX.search(sql):
                problems.append(f"line {line}: CREATE INDEX without CONCURRENTLY")
    return problems


def _after_cut_off() -> list[tuple[str, Path]]:
    chain = revision_chain()
    revisions = [rev for rev, _ in chain]
    assert CUT_OFF in revisions, "the cut-off revision left the chain"
    return chain[revisions.index(CUT_OFF) + 1 :]


@pytest.mark.parametrize(
    ("revision", "path"), _after_cut_off(), ids=[rev for rev, _ in _after_cut_off()]
)
def test_migrations_after_the_cut_off_build_indexes_concurrently(revision, path):
    assert locking_statements(path.read_text(encoding="utf-8")) == []


def test_the_unreleased_feed_cell_indexes_are_under_the_rule():
    # d7e1a4c9b2f0 (indexes on posts) was never released: it was converted, not exempted.
    assert "d7e1a4c9b2f0" in [rev for rev, _ in _after_cut_off()]


PLAIN = """
def upgrade():
    op.create_index('ix_posts_title', 'posts', ['title'])
"""
CONCURRENT_OUTSIDE_BLOCK = """
def upgrade():
    op.create_index('ix_posts_title', 'posts', ['title'], postgresql_concurrently=True)
"""
CONCURRENT = """
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            'ix_posts_title', table_name='posts', columns=['title'],
            postgresql_concurrently=True,
        )
"""
NEW_TABLE = """
def upgrade():
    op.create_table('badges', sa.Column('id', sa.Integer(), primary_key=True))
    op.create_index('ix_badges_id', 'badges', ['id'])
"""
RAW = """
def upgrade():
    op.execute("CREATE INDEX ix_members_name ON members (display_name)")
    op.execute("CREATE INDEX CONCURRENTLY ix_members_bio ON members (bio)")
"""
BRANCHES = """
def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_posts_title', 'posts', ['title'])
    else:
        op.create_index('ix_posts_body', 'posts', ['body'])
    if bind.dialect.name == 'sqlite':
        op.create_index('ix_posts_place', 'posts', ['place_name'])
"""
UNIQUE = """
def upgrade():
    op.create_unique_constraint('uq_members_name', 'members', ['display_name'])
"""


@pytest.mark.parametrize(
    ("source", "problems"),
    [
        (PLAIN, ["line 3: index on posts without CONCURRENTLY"]),
        (CONCURRENT_OUTSIDE_BLOCK, ["line 3: CONCURRENTLY outside autocommit_block()"]),
        (CONCURRENT, []),
        (NEW_TABLE, []),  # a table created in the same migration is empty: nothing waits
        (RAW, ["line 3: CREATE INDEX without CONCURRENTLY"]),
        (BRANCHES, ["line 4: index on posts without CONCURRENTLY"]),  # SQLite's are fine
        (UNIQUE, ["line 3: unique constraint on members: build a unique index CONCURRENTLY"]),
    ],
    ids=[
        "plain",
        "outside-block",
        "concurrent",
        "new-table",
        "raw-sql",
        "dialect-branches",
        "unique-constraint",
    ],
)
def test_the_rule_sees_what_would_lock_a_table(source, problems):
    assert locking_statements(source) == problems


def _env_source() -> str:
    return (MIGRATIONS / "env.py").read_text(encoding="utf-8")


def test_env_sets_a_short_lock_timeout_before_migrating():
    tree = ast.parse(_env_source())
    default = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "LOCK_TIMEOUT_DEFAULT"
    )
    amount, unit = re.fullmatch(r"(\d+)(ms|s|min)", default).groups()
    assert int(amount) * {"ms": 0.001, "s": 1, "min": 60}[unit] <= MAX_LOCK_TIMEOUT_S
    assert "SET lock_timeout" in _env_source()
    online = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "run_migrations_online"
    )
    calls = [_call_name(n) for n in ast.walk(online) if isinstance(n, ast.Call)]
    # Set on the migration's connection before anything runs on it.
    assert "_set_lock_timeout" in calls
    assert calls.index("_set_lock_timeout") < calls.index("configure")
