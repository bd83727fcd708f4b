"""Hostile input for tests/test_fuzz.py: Hypothesis strategies, and the discovery of
what to fuzz from the app itself (the forms of its pages, its OpenAPI document).

Nothing here knows a route by name: a new form or API operation is fuzzed the day it
is added.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Examples per endpoint. CI keeps the default; run more locally with FUZZ_EXAMPLES=200.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# FUZZ_SEED=<n> explores other examples (still reproducible with the same n); without
# it the run is derandomized: the same examples on every run, as CI needs.
SEED = os.environ.get("FUZZ_SEED")

settings.register_profile(
    "peuplade-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,  # no example database: the runs are derandomized anyway
    print_blob=True,
    # Requests are slow next to Hypothesis's expectations, and 100 000 characters large.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
FUZZ_SETTINGS = settings.get_profile("peuplade-fuzz")

# -- hostile values -----------------------------------------------------------------

MARK = "xss-MARK"
SCRIPT = f"<script>alert('{MARK}')</script>"
IMG = f"\"><img src=x onerror=alert('{MARK}')>"
# What must never reach an HTML page unescaped.
RAW_MARKERS = ("<script>alert('xss-MARK')", "<img src=x onerror=alert('xss-MARK')")
INJECTIONS = (
    SCRIPT,
    IMG,
    f"javascript:alert('{MARK}')",
    f"<svg/onload=alert('{MARK}')>",
    f"{{{{7*7}}}} {MARK} {{% raw %}}",  # template injection
    "' OR 1=1 --",
    "'); DROP TABLE members; --",
    '" OR ""="',
    "1; SELECT pg_sleep(0) --",
    "%' AND 1=0 UNION SELECT NULL --",
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "\r\nSet-Cookie: pwned=1",
    "admin@example.org\r\nBcc: victim@example.org",
)
TRICKY_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\n\r",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e\u200b\ufeff",  # RTL/LTR marks, zero width space, BOM
    "👩‍👩‍👧‍👦🏳️‍🌈",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "ﷺ𒐫𒈙",
    "Ⅻ ﬁ ＡＢＣ",
    "\u2028\u2029",
    "\x1b[31m",
    "\\",
    "%s%n%x",
    "null",
    "None",
    "undefined",
    "true",
    "[]",
    "{}",
)
NUMBER_TEXTS = (
    "0",
    "-0",
    "-1",
    "1",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e308",
    "1e309",
    "-1e308",
    "1e-400",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "1" * 400,
    "0x1F",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "１２",  # full-width digits
    " 12 ",
    "12abc",
    "3.5",
    "90.0000001",
    "-180.5",
    "48.88,2.32",
)
DATE_TEXTS = (
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    "2030-13-01",
    "-2024-01-01",
    "20240101",
    "2024-01-01T25:61:00",
    "2030-06-01T18:30:00+99:00",
    "2030-06-01T18:30:00",
    "1e10",
)
HOSTILE_IDS = (
    "0",
    "-1",
    "-2147483648",
    "2147483647",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "9" * 40,
    "1" * 400,
    "1.5",
    "1e3",
    "0x10",
    "abc",
    "%00",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2F..%2Fetc%2Fpasswd",
    "%27%20OR%201=1%20--",
    "%3Cscript%3E",
    "١",
)

_ANY_CHARACTER = st.characters(exclude_categories=("Cs",))  # surrogates cannot be sent


def _huge() -> st.SearchStrategy[str]:
    # 100 000 characters is the brief; smaller sizes get under the request size limit
    # (1 MiB) and reach the fields' own length checks.
    return st.builds(
        lambda c, n: c * n,
        st.sampled_from(["a", "é", "😀", "<", "'", "\u202e", "9", " "]),
        st.sampled_from([300, 5_000, 40_000, 100_000]),
    )


def hostile_text() -> st.SearchStrategy[str]:
    """Arbitrary and hostile strings: any Unicode (control characters, NUL, RTL marks,
    emoji), injections, numbers and dates that are not, and 100 000 characters."""
    return st.one_of(
        st.text(_ANY_CHARACTER, max_size=40),
        st.sampled_from(INJECTIONS),
        st.sampled_from(TRICKY_TEXT),
        st.sampled_from(NUMBER_TEXTS),
        st.sampled_from(DATE_TEXTS),
        _huge(),
        st.tuples(st.sampled_from(INJECTIONS), st.text(_ANY_CHARACTER, max_size=10)).map("".join),
    )


def hostile_authorization(token: str) -> st.SearchStrategy[str]:
    """Authorization headers that are not a valid bearer token (latin-1, as HTTP allows)."""
    return st.one_of(
        st.sampled_from(
            [
                "",
                "Bearer",
                "Bearer ",
                "bearer " + token,
                "Basic " + token,
                "Bearer " + token[:-1],
                "Bearer " + token + "x",
                "Bearer " + token + " " + token,
                "Bearer pk_" + "A" * 10_000,
                "Bearer ' OR 1=1 --",
                "Bearer \x00",
                "Bearer Ã©tÃ©",
            ]
        ),
        st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=80).map(
            lambda s: "Bearer " + s
        ),
    )


def hostile_number() -> st.SearchStrategy[Any]:
    """JSON numbers nobody should send: NaN, infinities, -0, 1e308, huge integers."""
    return st.one_of(
        st.sampled_from(
            [math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324, 2**31, 2**63, 10**40]
        ),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def hostile_json() -> st.SearchStrategy[Any]:
    """Any JSON value, mostly of the wrong type."""
    scalars = st.one_of(
        st.none(), st.booleans(), hostile_number(), hostile_text(), st.sampled_from([[], {}])
    )
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=4),
        st.dictionaries(st.text(max_size=8), scalars, max_size=3),
        # Nested deeper than any model goes.
        st.integers(min_value=50, max_value=400).map(lambda n: json.loads("[" * n + "]" * n)),
    )


# -- plausible values ------------------------------------------------------------------
# Fields mostly get a value that could be right, so that the other fields' hostile
# values get past the first check and reach deep into the services.

PLACE = {"lat": 48.88462, "lon": 2.32091}  # in the 17e, where the fuzz's world lives
PLAUSIBLE_TEXT = ("Bonjour", "Perceuse à percussion", "Rue des Dames", f"Coucou {SCRIPT}", IMG)


def _soon(days: int) -> date:
    return date.today() + timedelta(days=days)


def plausible_date() -> st.SearchStrategy[str]:
    return st.integers(min_value=0, max_value=40).map(lambda d: _soon(d).isoformat())


def plausible_datetime() -> st.SearchStrategy[str]:
    return st.integers(min_value=1, max_value=40).map(
        lambda d: (
            datetime.combine(_soon(d), datetime.min.time()).replace(hour=18, tzinfo=UTC).isoformat()
        )
    )


# -- HTML forms ------------------------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select", "textarea"
    values: list[str] = dataclasses.field(default_factory=list)  # options, or the value shown
    where: str = "body"  # or "query" (from the action's query string)


@dataclass
class Form:
    method: str
    path: str  # the action, without its query string
    fields: dict[str, FormField]
    found_on: str  # the page it was read from

    def key(self) -> tuple:
        return (self.method, self.path, tuple(sorted(self.fields)))


class PageParser(HTMLParser):
    """Forms (with their fields) and same-site links of one page."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            action = a.get("action") or self.page
            parts = urlsplit(action)
            self._form = Form(
                method=(a.get("method") or "get").upper(),
                path=parts.path or urlsplit(self.page).path,
                fields={},
                found_on=self.page,
            )
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                self._form.fields[name] = FormField(name, "hidden", [value], where="query")
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea", "button"):
            name = a.get("name")
            if not name:
                return
            kind = tag if tag in ("select", "textarea") else a.get("type", "text").lower()
            if tag == "button":
                kind = "submit"
            known = self._form.fields.setdefault(name, FormField(name, kind))
            if a.get("value") is not None and tag != "select":
                known.values.append(a["value"])
            if tag == "select":
                self._select = known
        elif tag == "option" and self._select is not None:
            self._select.values.append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def parse_page(path: str, html: str) -> tuple[list[Form], list[str]]:
    parser = PageParser(path)
    parser.feed(html)
    links = []
    for href in parser.links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue  # another site, mailto:, #anchors
        links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return parser.forms, links


def form_value(field: FormField, password: str | None) -> st.SearchStrategy[Any]:
    """A plausible value for the field (most often), or a hostile one; sometimes several
    values where one is expected."""
    plausible: list[st.SearchStrategy] = []
    if field.values:
        plausible.append(st.sampled_from(field.values))
    if field.kind == "date":
        plausible.append(plausible_date())
    elif field.kind == "datetime-local":
        plausible.append(plausible_datetime().map(lambda s: s[:16]))
    elif field.kind == "number" or field.name.endswith(("_m", "days", "capacity")):
        plausible.append(st.sampled_from(["200", "500", "1000", "3"]))
    elif field.kind == "email":
        plausible.append(st.sampled_from(["voisine@example.org", "x@example.org"]))
    elif field.kind == "password":
        plausible += [st.just(password)] * 2 if password else []
    elif field.name in ("lat", "lon"):
        plausible.append(st.sampled_from(["48.8846", "2.3209"]))
    elif field.kind in ("text", "textarea", "search"):
        plausible.append(st.sampled_from(PLAUSIBLE_TEXT))
    if not plausible:
        plausible.append(st.sampled_from(PLAUSIBLE_TEXT))
    hostile = st.one_of(hostile_text(), st.lists(hostile_text(), min_size=2, max_size=3))
    return st.one_of(*plausible, *plausible, hostile)


@st.composite
def form_data(draw, form: Form, password: str | None, spare_names: list[str]):
    """(query, body) multidicts for one submission: each field plausible or hostile,
    some fields left out, sometimes unknown fields added."""
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for name, field in form.fields.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # missing
        (query if field.where == "query" else body)[name] = draw(form_value(field, password))
    extra = draw(
        st.dictionaries(
            st.one_of(st.sampled_from(spare_names or ["x"]), st.text(_ANY_CHARACTER, max_size=8)),
            hostile_text(),
            max_size=2,
        )
    )
    for name, value in extra.items():
        body.setdefault(name, value)
    return query, body


def plausible_form(form: Form, password: str | None) -> tuple[dict, dict]:
    """Every field with its first plausible value and the injections in every text:
    the submission most likely to be stored, to check it is shown escaped."""
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for name, field in form.fields.items():
        if field.kind in ("text", "textarea", "search") and field.where == "body":
            value = f"Coucou {SCRIPT} {IMG}"
        elif field.values:
            value = next((v for v in field.values if v), field.values[0])
        elif field.kind == "date":
            value = _soon(2).isoformat()
        elif field.kind == "datetime-local":
            value = _soon(3).isoformat() + "T18:30"
        elif field.kind == "number":
            value = "500"
        elif field.kind == "email":
            value = "voisine@example.org"
        elif field.kind == "password":
            value = password or "x"
        else:
            value = f"Coucou {SCRIPT}"
        (query if field.where == "query" else body)[name] = value
    return query, body


# -- paths ---------------------------------------------------------------------------

_ARG = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>|\{(?P<oname>\w+)\}")


def path_arguments(pattern: str) -> list[tuple[str, str]]:
    """(name, converter) of each argument of a Flask rule or an OpenAPI path."""
    return [
        (m["name"] or m["oname"], m["converter"] or ("int" if m["oname"] else "string"))
        for m in _ARG.finditer(pattern)
    ]


def fill_path(pattern: str, values: dict[str, str]) -> str:
    return _ARG.sub(lambda m: values[m["name"] or m["oname"]], pattern)


def path_value(converter: str, known: list[str]) -> st.SearchStrategy[str]:
    """Mostly an id (or value) that exists; otherwise a hostile one, already quoted."""
    hostile = st.one_of(
        st.sampled_from(HOSTILE_IDS),
        hostile_text().filter(bool).map(lambda s: quote(s[:300], safe="")),
    )
    if not known:
        return hostile
    return st.one_of(st.sampled_from(known), st.sampled_from(known), hostile)


# -- JSON from the OpenAPI document ------------------------------------------------------


class SchemaValues:
    """Values for a JSON schema of the app's OpenAPI document: plausible ones (right
    type and range) mixed with hostile ones (wrong type, out of range, huge)."""

    def __init__(self, components: dict[str, Any], ids: Callable[[str], list[str]], password: str):
        self.components = components
        self.ids = ids  # plausible ids by field name (``member_id`` -> members' ids)
        self.password = password

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def value(self, schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
        return st.one_of(self.plausible(schema, name), self.plausible(schema, name), hostile_json())

    def plausible(self, schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
        schema = self.resolve(schema)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return st.one_of(*(self.plausible(s, name) for s in schema[key]))
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type")
        if kind == "object":
            return self.object(schema)
        if kind == "array":
            items = self.value(schema.get("items", {}), name)
            return st.lists(items, max_size=min(schema.get("maxItems", 5), 5))
        if kind == "boolean":
            return st.booleans()
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**31)))
            high = schema.get("maximum", schema.get("exclusiveMaximum", 2**31))
            ids = [int(i) for i in self.ids(name)] if name.endswith("id") else []
            plain = (
                st.floats(min_value=low, max_value=high)
                if kind == "number"
                else st.integers(min_value=int(low), max_value=int(high))
            )
            edges = st.sampled_from(
                [low, high, low - 1, high + 1] + ([low - 0.5] if kind == "number" else [])
            )
            return st.one_of(*([st.sampled_from(ids)] * 2 if ids else []), plain, edges)
        if kind == "string":
            fmt = schema.get("format")
            if fmt == "date":
                return plausible_date()
            if fmt == "date-time":
                return plausible_datetime()
            if name in ("password", "current_password"):
                return st.just(self.password)
            if name == "email":
                return st.sampled_from(["voisine@example.org", f"{MARK}@example.org"])
            longest = schema.get("maxLength", 200)
            return st.one_of(
                st.sampled_from(PLAUSIBLE_TEXT),
                st.text(_ANY_CHARACTER, min_size=1, max_size=min(longest, 60)),
                st.just("é" * (longest + 1)),
            )
        return hostile_json()

    def object(self, schema: dict[str, Any]) -> st.SearchStrategy[dict]:
        return _json_object(self, schema)

    def example(self, schema: dict[str, Any], name: str = "", everything: bool = False) -> Any:
        """One right value (the first choice of everything), with the injections in its
        texts: what is most likely stored, to check it is shown escaped. Optional
        fields only with ``everything``."""
        schema = self.resolve(schema)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.example(schema[key][0], name, everything)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object":
            required = set(schema.get("required", []))
            return {
                key: self.example(sub, key, everything)
                for key, sub in schema.get("properties", {}).items()
                if everything or key in required
            }
        if kind == "array":
            return [self.example(schema.get("items", {}), name, everything)]
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            if name in PLACE:
                return PLACE[name]
            if name.endswith("id") and self.ids(name):
                return int(self.ids(name)[0])
            return schema.get("minimum", 1)
        if schema.get("format") == "date":
            return _soon(2).isoformat()
        if schema.get("format") == "date-time":
            return datetime.combine(_soon(3), datetime.min.time(), UTC).isoformat()
        if name in ("password", "current_password"):
            return self.password
        if name == "email":
            return "voisine@example.org"
        return f"Coucou {SCRIPT} {IMG}"[: schema.get("maxLength", 200)]

    def body(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        """A request body: mostly an object after the schema, sometimes no object at all."""
        return st.one_of(*[self.plausible(schema)] * 6, hostile_json())


@st.composite
def _json_object(draw, self: SchemaValues, schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    for name, sub in properties.items():
        # Required fields are mostly there; optional ones half the time.
        if draw(st.integers(0, 9)) < (8 if name in required else 4):
            out[name] = draw(self.value(sub, name))
    extras = schema.get("additionalProperties")
    names = schema.get("propertyNames", {}).get("enum")
    if isinstance(extras, dict) and names:
        for name in draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
            out[name] = draw(self.value(extras, name))
    if draw(st.integers(0, 9)) == 0:  # a field nobody declared
        out[draw(st.sampled_from(["id", "author_id", "is_admin", "__proto__", MARK]))] = draw(
            hostile_json()
        )
    return out


def encode_json(value: Any) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity literals included."""
    return json.dumps(value, allow_nan=True).encode()
