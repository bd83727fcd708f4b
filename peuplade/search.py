"""Full-text search on titles and texts: PostgreSQL's French configuration on PostGIS,
every word as a case- and accent-insensitive substring on SQLite."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import String, bindparam, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Created with the schema on PostgreSQL (migration and tests); its expression is the one
# text_matches() compiles to, so the planner uses it.
POSTGRES_DDL = [
    "CREATE INDEX IF NOT EXISTS ix_exchanges_search ON exchanges USING gin "
    "(to_tsvector('french'::regconfig, (title || ' ') || body))",
    "CREATE INDEX IF NOT EXISTS ix_items_search ON items USING gin "
    "(to_tsvector('french'::regconfig, (title || ' ') || description))",
]


def fold(text: str | None) -> str | None:
    """Case- and accent-insensitive form ("Échelle" -> "echelle"), for SQLite's search."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(query: str) -> list[str]:
    return re.findall(r"\w[\w'-]*", query)[:MAX_WORDS]


class text_matches(FunctionElement):
    """``text_matches(title_col, body_col, query)``: rows whose title or text match."""

    inherit_cache = True
    name = "peuplade_text_matches"

    def __init__(self, title_col, body_col, query: str):
        query = _clean(query)
        terms = [literal(w) for w in words(query)]
        super().__init__(title_col, body_col, literal(query), *terms)

    @classmethod
    def bound(cls, title_col, body_col, n_words: int, name: str = "q") -> text_matches:
        """The same test on bound parameters, for a statement built once and run for
        many searches of ``n_words`` words (``bound_values`` gives their values)."""
        match = cls.__new__(cls)
        terms = [bindparam(f"{name}_{i}", type_=String) for i in range(n_words)]
        FunctionElement.__init__(match, title_col, body_col, bindparam(name, type_=String), *terms)
        return match


def _clean(query: str | None) -> str:
    # PostgreSQL refuses NUL in text; no control character means anything in a search.
    return _CONTROL.sub(" ", query or "").strip()[:MAX_QUERY_LENGTH]


def bound_values(query: str, name: str = "q") -> dict[str, str]:
    """The values of ``text_matches.bound`` for ``query`` (its number of words is
    ``len(...) - 1``)."""
    query = _clean(query)
    return {name: query, **{f"{name}_{i}": w for i, w in enumerate(words(query))}}


@compiles(text_matches)
def _postgres(element, compiler, **kw):
    title, body, query = (compiler.process(c, **kw) for c in list(element.clauses)[:3])
    return (
        f"(to_tsvector('french'::regconfig, ({title} || ' ') || {body}) "
        f"@@ websearch_to_tsquery('french'::regconfig, {query}))"
    )


@compiles(text_matches, "sqlite")
def _sqlite(element, compiler, **kw):
    clauses = list(element.clauses)
    title, body = (compiler.process(c, **kw) for c in clauses[:2])
    terms = [compiler.process(c, **kw) for c in clauses[3:]] or ["''"]
    haystack = f"peuplade_fold({title} || ' ' || {body})"
    return "(" + " AND ".join(f"instr({haystack}, peuplade_fold({t})) > 0" for t in terms) + ")"
