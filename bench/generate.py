"""Load a realistic, seeded city into a database built by the app's own migrations.

Benchmarks of the neighbourhood queries are only worth their data: a dense city where
~50,000 posts lie within 1 km of a member (docs/SCALING.md), a sparse suburb around it,
three years of history with the status mix the app produces, and the side tables the
lists join (loans, responses, conversations, blocks). This script builds that, fast:

* PostGIS: COPY (psycopg 3), the big tables' secondary indexes dropped before and
  recreated after exactly as they were, then VACUUM ANALYZE;
* SpatiaLite: ``executemany`` in big transactions, geometries made by
  ``MakePoint(?, ?, 4326)`` so that SpatiaLite's triggers keep its R*Tree.

The same seed gives the same rows (dates are relative to ``--now``, by default today at
midnight UTC).

BENCH DATA ONLY: every member is ``member{i}@bench.example`` (``member_email(i)``; not
``.invalid``, which the app's email validation refuses at log-in) and shares one password,
``PASSWORD`` below ("bench-voisins-2026"), hashed once with the app's argon2 settings
(the test ones, as ``_common.bench_app`` runs; a salt from the seed), so that a
benchmark can log in as anyone. Never load this into a database people use.

    .venv/bin/python bench/generate.py --backend postgis --db peuplade_bench --members 1000000
    .venv/bin/python bench/generate.py --backend spatialite --db /tmp/bench.sqlite \\
        --members 50000 --posts 100000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from array import array
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from peuplade import categories, geo, privacy
from peuplade.extensions import db
from peuplade.models.member import shown_within_m, sort_key

try:  # run as a script (bench/ on sys.path), or imported as bench.generate
    from _common import (
        bench_app,
        create_pg_database,
        database_url,
        drop_pg_database,
        migrate,
        pg_database_exists,
        remove_sqlite_file,
    )
except ImportError:
    from bench._common import (
        bench_app,
        create_pg_database,
        database_url,
        drop_pg_database,
        migrate,
        pg_database_exists,
        remove_sqlite_file,
    )

EMAIL_DOMAIN = "bench.example"  # reserved (RFC 2606) yet accepted by email-validator
PASSWORD = "bench-voisins-2026"  # noqa: S105 - bench data only, printed on purpose
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

# Paris inside the Périphérique, ~120 km²: (south, north, west, east).
CITY = (48.815, 48.902, 2.255, 2.415)
# The sparse region: ~45 km x 45 km (~2,000 km²) around the city, city excluded.
SUBURB_HALF_LAT = 0.2025
SUBURB_HALF_LON = 0.3077
SUBURB_SHARE = 0.05
# Inside the city: this share of members around cluster centres, the rest uniform.
CLUSTERED_SHARE = 0.7
CLUSTERS = 60

RADII = ((1000, 0.60), (500, 0.10), (1500, 0.10), (2000, 0.10), (3000, 0.06), (5000, 0.04))
POST_TYPES = (("exchange", 0.50), ("item", 0.25), ("news", 0.15), ("event", 0.10))
HISTORY_DAYS = 3 * 365
MEMBERS_SINCE_DAYS = 3.5 * 365
DEFAULT_LIFETIME = timedelta(days=60)  # peuplade.posts.services.DEFAULT_LIFETIME
ITEM_LIFETIME = timedelta(days=90)  # peuplade.notifications.services.ITEM_LIFETIME
CHUNK = 50_000
EXTRA_TAGS = ("vélo", "tricot", "jeux de société", "randonnée", "photo", "potager", "musique")
FIRST_NAMES = (
    "Camille", "Thomas", "Léa", "Karim", "Nadia", "Julien", "Élodie", "Antoine", "Yasmine",
    "Bernard", "François", "Chloé", "Mamadou", "Inès", "Lucas", "Sophie", "Hélène", "Paul",
    "Fatou", "Jérôme", "Zoé", "Mehdi", "Anne", "Hugo", "Aïcha", "Louis", "Manon", "Éric",
)  # fmt: skip
LOAN_MESSAGE = "Bonjour, je peux l'emprunter ?"
BEHALF_NAMES = ("Mme Dupont", "M. Martin", "Mme Lefèvre", "M. Bernard", "Mme Petit")

# Column lists, in the order the row builders produce them. The geometry columns are
# written as EWKT for COPY and as MakePoint(?, ?, 4326) for SpatiaLite.
COLUMNS: dict[str, tuple[str, ...]] = {
    "members": (
        "id", "email", "display_name", "sort_name", "password_hash", "bio", "home",
        "public_position", "radius_m", "locale", "session_version", "cell_0", "cell_1",
        "cell_2", "status", "suspended_until", "is_admin", "email_confirmed_at",
        "created_at", "updated_at",
    ),
    "member_skills": (
        "member_id", "skill", "cell_fine", "cell_coarse", "shown_within_m", "public_lat",
        "public_lon", "sort_name",
    ),
    "member_tags": (
        "member_id", "tag", "cell_fine", "cell_coarse", "shown_within_m", "public_lat",
        "public_lon", "sort_name",
    ),
    "posts": (
        "id", "type", "author_id", "position", "place_name", "cell_fine", "cell_coarse",
        "reach_m", "status", "expires_at", "hidden_at", "created_at", "updated_at",
        "is_alert",
    ),
    "exchanges": (
        "id", "kind", "title", "body", "category", "starts_on", "ends_on", "helper_id",
        "closed_at", "on_behalf_of", "behalf_consent_at", "matched_at",
    ),
    "items": ("id", "title", "description", "category", "condition", "notes", "available"),
    "news_posts": ("id", "kind", "title", "body", "link"),
    "events": ("id", "title", "body", "starts_at", "ends_at", "capacity"),
    "exchange_responses": ("id", "exchange_id", "author_id", "message", "created_at"),
    "loans": (
        "id", "item_id", "lender_id", "borrower_id", "start", "due", "status", "message",
        "decided_at", "lent_at", "returned_at", "created_at", "updated_at",
    ),
    "conversations": (
        "id", "member_a_id", "member_b_id", "subject_type", "subject_id", "subject_title",
        "created_at", "last_message_at", "a_read_at", "b_read_at",
    ),
    "messages": ("id", "conversation_id", "author_id", "body", "created_at"),
    "blocks": ("blocker_id", "blocked_id", "created_at"),
}  # fmt: skip
GEOMETRY_COLUMNS = {"home", "public_position", "position"}
# Tables whose secondary indexes are rebuilt after COPY (the others are small).
BIG_TABLES = tuple(COLUMNS)
# Tables with an ``id`` sequence to move past the ids written explicitly.
SEQUENCED = (
    "members", "posts", "exchange_responses", "loans", "conversations", "messages",
)  # fmt: skip


def member_email(member_id: int) -> str:
    """The log-in of member ``member_id`` (ids run from 1 to the number of members)."""
    return f"member{member_id}@{EMAIL_DOMAIN}"


@dataclass
class Stats:
    """What a run wrote: rows per table, seconds per phase, and the database URL."""

    url: str
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    seconds: dict[str, float] = field(default_factory=dict)
    password: str = PASSWORD

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


Rows = dict[str, list[tuple]]


# --- Text -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Titles and texts from the demo data (data/demo-*.json): real French sentences,
    so that full-text search has words to index."""

    exchanges: list[dict[str, Any]]
    items: list[dict[str, Any]]
    news: list[dict[str, Any]]
    events: list[dict[str, Any]]
    responses: list[str]
    bios: list[str]
    tags: list[str]
    places: list[tuple[str, float, float]]

    @classmethod
    def load(cls) -> Vocabulary:
        def read(name: str) -> dict[str, Any]:
            return json.loads((DATA / f"demo-{name}.json").read_text(encoding="utf-8"))

        exchanges = read("exchanges")["exchanges"]
        news = read("news")
        members = read("members")["members"]
        places = json.loads((DATA / "places-paris.geojson").read_text(encoding="utf-8"))
        return cls(
            exchanges=exchanges,
            items=read("items")["items"],
            news=news["news"],
            events=news["events"],
            responses=[r["message"] for e in exchanges for r in e.get("responses", [])]
            or ["Je peux vous aider."],
            bios=[m["bio"] for m in members if m.get("bio")],
            tags=sorted({t for m in members for t in m.get("tags", [])} | set(EXTRA_TAGS)),
            places=[
                (f["properties"]["name"], *reversed(f["geometry"]["coordinates"]))
                for f in places["features"]
            ],
        )


# --- Where people live ----------------------------------------------------------------


class City:
    """Homes drawn from a mixture of Gaussian clusters over a uniform background, plus a
    sparse suburb: a few dense spots like a real city, not a uniform carpet."""

    def __init__(self, rng: random.Random):
        south, north, west, east = CITY
        self.rng = rng
        self.clusters = [
            (
                rng.uniform(south, north),
                rng.uniform(west, east),
                rng.uniform(150.0, 600.0),  # sigma in metres
                rng.paretovariate(1.5),  # weight: a few big centres, many small ones
            )
            for _ in range(CLUSTERS)
        ]
        self.weights = [c[3] for c in self.clusters]

    def home(self) -> tuple[float, float]:
        rng = self.rng
        south, north, west, east = CITY
        if rng.random() < SUBURB_SHARE:
            mid_lat, mid_lon = (south + north) / 2, (west + east) / 2
            while True:
                lat = mid_lat + rng.uniform(-SUBURB_HALF_LAT, SUBURB_HALF_LAT)
                lon = mid_lon + rng.uniform(-SUBURB_HALF_LON, SUBURB_HALF_LON)
                if not (south <= lat <= north and west <= lon <= east):
                    return lat, lon
        if rng.random() < CLUSTERED_SHARE:
            lat0, lon0, sigma, _w = rng.choices(self.clusters, self.weights)[0]
            for _ in range(10):
                lat = rng.gauss(lat0, sigma / 111_132.0)
                lon = rng.gauss(lon0, sigma / (111_320.0 * math.cos(math.radians(lat0))))
                if south <= lat <= north and west <= lon <= east:
                    return lat, lon
        return rng.uniform(south, north), rng.uniform(west, east)


@dataclass
class Population:
    """What posts need to know about members, kept compact (1M members ~ 40 MB)."""

    lat: array = field(default_factory=lambda: array("d"))  # public position
    lon: array = field(default_factory=lambda: array("d"))
    radius: array = field(default_factory=lambda: array("i"))
    joined: array = field(default_factory=lambda: array("d"))  # epoch seconds
    # Member ids by coarse feed cell (~2 km) of their public position: "a neighbour".
    by_cell: dict[int, array] = field(default_factory=lambda: defaultdict(lambda: array("i")))
    banned: set[int] = field(default_factory=set)

    @property
    def size(self) -> int:
        return len(self.lat)

    def position(self, member_id: int) -> tuple[float, float]:
        return self.lat[member_id - 1], self.lon[member_id - 1]

    def neighbour(self, rng: random.Random, member_id: int) -> int:
        """Another member living near ``member_id`` (anyone, in an empty suburb)."""
        lat, lon = self.position(member_id)
        near = self.by_cell[geo.feed_cell(geo.LatLon(lat, lon), "coarse")]
        for _ in range(4):
            other = near[rng.randrange(len(near))] if len(near) > 1 else rng.randint(1, self.size)
            if other != member_id:
                return other
        return member_id % self.size + 1


# --- Row builders ---------------------------------------------------------------------


class Generator:
    """Builds every row, chunk by chunk, from one seeded random stream."""

    def __init__(self, members: int, posts: int, seed: int, now: datetime, password_hash: str):
        self.rng = random.Random(seed)
        self.n_members = members
        self.n_posts = posts
        self.now = now
        self.password_hash = password_hash
        self.words = Vocabulary.load()
        self.city = City(self.rng)
        self.people = Population()
        self.cells: dict[tuple[float, float], tuple[int, int]] = {}
        self.places_by_cell: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
        for place in self.words.places:
            self.places_by_cell[self._cell(place[1], place[2])[1]].append(place)
        self.ids = dict.fromkeys(("exchange_responses", "loans", "conversations", "messages"), 0)

    # -- helpers

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        """(fine, coarse) feed cells of a position, as ``Post._cells`` computes them."""
        key = (lat, lon)
        found = self.cells.get(key)
        if found is None:
            pos = geo.LatLon(lat, lon)
            found = (geo.feed_cell(pos, "fine"), geo.feed_cell(pos, "coarse"))
            if len(self.cells) < 1_000_000:
                self.cells[key] = found
        return found

    def _pick(self, table: tuple[tuple[Any, float], ...]) -> Any:
        u = self.rng.random()
        for value, share in table:
            u -= share
            if u < 0:
                return value
        return table[-1][0]

    def _next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _at(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    def _between(self, start: datetime, days: float) -> datetime:
        """A moment up to ``days`` after ``start``, never after now."""
        return min(start + timedelta(days=self.rng.uniform(0.0, days)), self.now)

    # -- members

    def member_chunks(self) -> Iterator[Rows]:
        for first in range(1, self.n_members + 1, CHUNK):
            rows: Rows = {"members": [], "member_skills": [], "member_tags": []}
            for member_id in range(first, min(first + CHUNK, self.n_members + 1)):
                self._member(member_id, rows)
            yield rows

    def _member(self, member_id: int, rows: Rows) -> None:
        rng, people = self.rng, self.people
        lat, lon = self.city.home()
        home = geo.LatLon(lat, lon)
        # Level-0 cell centre only: crowd blurring (privacy.py, account/blur.py) would
        # move members of sparse cells to coarser centres; a bench needs no such care.
        cell_0, cell_1, cell_2 = privacy.cells(home)
        public = privacy.centre(cell_0)
        radius = self._pick(RADII)
        joined = self.now - timedelta(days=rng.uniform(1.0, MEMBERS_SINCE_DAYS))
        status, suspended_until = "active", None
        u = rng.random()
        if u < 0.0005:
            status = "banned"
            people.banned.add(member_id)
        elif u < 0.0025:
            status, suspended_until = "suspended", self.now + timedelta(days=rng.randint(1, 30))
        name = f"{rng.choice(FIRST_NAMES)} {chr(65 + rng.randrange(26))}."
        rows["members"].append(
            (
                member_id,
                member_email(member_id),
                name,
                sort_key(name),
                self.password_hash,
                rng.choice(self.words.bios) if rng.random() < 0.3 else "",
                (lat, lon),
                (public.lat, public.lon),
                radius,
                self._pick((("fr", 0.7), ("en", 0.05), (None, 0.25))),
                1,
                cell_0,
                cell_1,
                cell_2,
                status,
                suspended_until,
                member_id == 1,
                joined,  # e-mail confirmed at sign-up
                joined,
                joined,
            )
        )
        # The feed cells of the PUBLIC position, as the app keeps them on every skill and
        # tag row, how far the home can be, the position and the sort name
        # (peuplade.models.member.skill_cells and _keep_skill_cells).
        fine, coarse = geo.feed_cell(public, "fine"), geo.feed_cell(public, "coarse")
        kept = (fine, coarse, shown_within_m(public), public.lat, public.lon, sort_key(name))
        for skill in rng.sample(
            categories.SLUGS, self._pick(((0, 0.4), (1, 0.3), (2, 0.2), (3, 0.1)))
        ):
            rows["member_skills"].append((member_id, skill, *kept))
        if rng.random() < 0.2:
            for tag in rng.sample(self.words.tags, rng.randint(1, 2)):
                rows["member_tags"].append((member_id, tag, *kept))
        people.lat.append(public.lat)
        people.lon.append(public.lon)
        people.radius.append(radius)
        people.joined.append(joined.timestamp())
        people.by_cell[self._cell(public.lat, public.lon)[1]].append(member_id)

    def block_rows(self) -> Rows:
        """A few blocks (0.2 % of members), mostly between neighbours."""
        rng, seen = self.rng, set()
        rows: list[tuple] = []
        for _ in range(max(1, self.n_members // 500)):
            blocker = rng.randint(1, self.n_members)
            blocked = self.people.neighbour(rng, blocker)
            if blocked != blocker and (blocker, blocked) not in seen:
                seen.add((blocker, blocked))
                rows.append((blocker, blocked, self._between(self.now - timedelta(days=365), 365)))
        return {"blocks": rows}

    # -- posts

    def post_chunks(self) -> Iterator[Rows]:
        for first in range(1, self.n_posts + 1, CHUNK):
            rows: Rows = {name: [] for name in COLUMNS if name not in ("members", "blocks")}
            del rows["member_skills"], rows["member_tags"]
            for post_id in range(first, min(first + CHUNK, self.n_posts + 1)):
                self._post(post_id, rows)
            yield rows

    def _author_and_date(self) -> tuple[int, datetime]:
        """A busy-biased author and a creation date denser in recent months; old posts
        come from members who had joined by then."""
        rng = self.rng
        created = self.now.timestamp() - HISTORY_DAYS * 86_400 * rng.random() ** 2
        for _ in range(4):
            author = 1 + int(self.n_members * rng.random() ** 1.5)
            if self.people.joined[author - 1] <= created:
                break
        created = max(created, self.people.joined[author - 1] + 3600)
        return author, self._at(min(created, self.now.timestamp()))

    def _post(self, post_id: int, rows: Rows) -> None:
        rng = self.rng
        kind = self._pick(POST_TYPES)
        author, created = self._author_and_date()
        lat, lon = self.people.position(author)
        place_name = None
        if kind == "event" or rng.random() < 0.05:
            # A public place near the author (data/places-paris.geojson), if any.
            near = self.places_by_cell.get(self._cell(lat, lon)[1])
            if near:
                place_name, lat, lon = rng.choice(near)
        reach = self.people.radius[author - 1]
        build = {
            "exchange": self._exchange,
            "item": self._item,
            "news": self._news,
            "event": self._event,
        }[kind]
        status, expires_at, updated = build(post_id, author, created, rows)
        if kind == "item":
            reach = 5000  # objects reach as far as borrowers look (loans.services)
        hidden_at = None
        if author in self.people.banned or rng.random() < 0.003:
            hidden_at = self._between(created, 5)
        fine, coarse = self._cell(lat, lon)
        rows["posts"].append(
            (
                post_id,
                kind,
                author,
                (lat, lon),
                place_name,
                fine,
                coarse,
                reach,
                status,
                expires_at,
                hidden_at,
                created,
                max(updated, hidden_at or updated),
                kind == "news" and rows["news_posts"][-1][1] == "alerte",
            )
        )

    def _exchange(self, post_id: int, author: int, created: datetime, rows: Rows):
        rng, now = self.rng, self.now
        entry = rng.choice(self.words.exchanges)
        age = (now - created).days
        starts_on = ends_on = None
        if rng.random() < 0.4:
            starts_on = created.date() + timedelta(days=rng.randint(1, 14))
            if rng.random() < 0.5:
                ends_on = starts_on + timedelta(days=rng.randint(0, 3))
        last_day = ends_on or starts_on
        expires_at = _end_of_day(last_day) if last_day else created + DEFAULT_LIFETIME
        if age > 60:
            status = self._pick((("done", 0.70), ("cancelled", 0.25), ("open", 0.05)))
        elif age > 14:
            status = self._pick((("done", 0.40), ("cancelled", 0.15), ("open", 0.45)))
        else:
            status = self._pick((("open", 0.85), ("done", 0.10), ("cancelled", 0.05)))
        responders = []
        if rng.random() < 0.15:
            responders = self._responses(
                post_id, entry["title"], author, created, rng.randint(1, 2), rows
            )
        closed_at = helper = None
        if status != "open":
            closed_at = self._between(created, min(max(age, 1), 20))
            if status == "done" and responders:
                helper = rng.choice(responders)
        behalf = rng.choice(BEHALF_NAMES) if rng.random() < 0.02 else None
        rows["exchanges"].append(
            (
                post_id,
                entry["kind"],
                entry["title"],
                entry["body"],
                entry["category"],
                starts_on,
                ends_on,
                helper,
                closed_at,
                behalf,
                created if behalf else None,
                # Its neighbours were told when it was posted (flask send-notifications
                # leaves it alone).
                created if entry["kind"] == "request" else None,
            )
        )
        return status, expires_at, closed_at or created

    def _responses(
        self, exchange_id: int, title: str, author: int, created: datetime, count: int,
        rows: Rows,
    ) -> list[int]:  # fmt: skip
        """Neighbours answering an exchange; some answers go on in a conversation."""
        rng, responders = self.rng, []
        for _ in range(count):
            other = self.people.neighbour(rng, author)
            if other == author or other in responders:
                continue
            responders.append(other)
            at = self._between(created, 3)
            rows["exchange_responses"].append(
                (
                    self._next_id("exchange_responses"),
                    exchange_id,
                    other,
                    rng.choice(self.words.responses),
                    at,
                )
            )
            if rng.random() < 0.3:
                self._conversation(author, other, "exchange", exchange_id, title, at, rows)
        return responders

    def _item(self, post_id: int, author: int, created: datetime, rows: Rows):
        rng, now = self.rng, self.now
        entry = rng.choice(self.words.items)
        status = "open" if rng.random() < 0.9 else "cancelled"
        # Lenders confirm "still lendable?" (notifications): most open objects stay listed.
        expires_at = created + ITEM_LIFETIME
        if status == "open" and expires_at < now and rng.random() < 0.8:
            expires_at = now + timedelta(days=rng.uniform(1, 90))
        updated = created
        if rng.random() < 0.3:
            updated = self._loans(post_id, author, created, rng.randint(1, 3), rows) or created
        rows["items"].append(
            (
                post_id,
                entry["title"],
                entry.get("description", ""),
                entry["category"],
                entry.get("condition", "bon"),
                entry.get("notes", ""),
                rng.random() < 0.85,
            )
        )
        return status, expires_at, updated

    def _loans(
        self, item_id: int, lender: int, created: datetime, count: int, rows: Rows
    ) -> datetime | None:
        """Loans one after the other (periods never overlap: loans_no_overlap)."""
        rng, today = self.rng, self.now.date()
        day = created.date() + timedelta(days=rng.randint(1, 20))
        last = None
        for _ in range(count):
            start = day
            due = start + timedelta(days=rng.randint(1, 14))
            if start > today + timedelta(days=30):
                break
            borrower = self.people.neighbour(rng, lender)
            if borrower == lender:
                continue
            asked = max(
                created, datetime.combine(start, datetime.min.time(), UTC) - timedelta(days=2)
            )
            asked = min(asked, self.now)
            decided = lent = returned = None
            if due < today:
                status = self._pick(
                    (("returned", 0.75), ("declined", 0.1), ("cancelled", 0.1), ("lent", 0.05))
                )
            elif start <= today:
                status = self._pick((("lent", 0.8), ("requested", 0.1), ("cancelled", 0.1)))
            else:
                status = self._pick((("requested", 0.5), ("accepted", 0.4), ("declined", 0.1)))
            if status in ("accepted", "lent", "returned", "declined"):
                decided = self._between(asked, 1)
            if status in ("lent", "returned"):
                lent = max(decided, min(_noon(start), self.now))
            if status == "returned":
                returned = max(lent, min(_noon(due), self.now))
            updated = returned or lent or decided or asked
            loan_id = self._next_id("loans")
            rows["loans"].append(
                (loan_id, item_id, lender, borrower, start, due, status, LOAN_MESSAGE,
                 decided, lent, returned, asked, updated)
            )  # fmt: skip
            if rng.random() < 0.5:
                self._conversation(lender, borrower, "loan", loan_id, "Emprunt", asked, rows)
            last = updated
            day = due + timedelta(days=rng.randint(1, 30))
        return last

    def _news(self, post_id: int, _author: int, created: datetime, rows: Rows):
        entry = self.rng.choice(self.words.news)
        link = "https://www.paris.fr/" if self.rng.random() < 0.1 else None
        rows["news_posts"].append((post_id, entry["kind"], entry["title"], entry["body"], link))
        return "open", created + DEFAULT_LIFETIME, created

    def _event(self, post_id: int, _author: int, created: datetime, rows: Rows):
        rng = self.rng
        entry = rng.choice(self.words.events)
        day = created.date() + timedelta(days=rng.randint(1, 30))
        starts_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            hours=rng.randint(8, 19)
        )
        ends_at = starts_at + timedelta(hours=rng.randint(1, 4)) if rng.random() < 0.8 else None
        capacity = rng.randint(4, 30) if rng.random() < 0.5 else None
        status = "cancelled" if rng.random() < 0.05 else "open"
        rows["events"].append(
            (post_id, entry["title"], entry["body"], starts_at, ends_at, capacity)
        )
        # Past events leave the lists by expires_at, as events.services sets it.
        return status, ends_at or starts_at, created

    def _conversation(
        self, one: int, other: int, subject: str, subject_id: int, title: str | None,
        at: datetime, rows: Rows,
    ) -> None:  # fmt: skip
        """A conversation between two members with a few messages, alternating."""
        rng = self.rng
        conversation_id = self._next_id("conversations")
        when, authors = at, (other, one)
        for i in range(rng.randint(1, 6)):
            when = self._between(when, 1)
            rows["messages"].append(
                (self._next_id("messages"), conversation_id, authors[i % 2],
                 rng.choice(self.words.responses), when)
            )  # fmt: skip
        a, b = sorted((one, other))
        rows["conversations"].append(
            (conversation_id, a, b, subject, subject_id, title, at, when, when,
             when if rng.random() < 0.7 else None)
        )  # fmt: skip


def _end_of_day(day: date) -> datetime:
    """End of a Paris day, roughly (localtime.end_of_day without an app)."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) - timedelta(hours=1)


def _noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)


# --- Writers --------------------------------------------------------------------------


class Writer:
    """Writes rows of ``COLUMNS`` tables through one DBAPI connection."""

    def __init__(self, dbapi_conn: Any):
        self.conn = dbapi_conn

    def before(self) -> None: ...

    def write(self, table: str, rows: list[tuple]) -> None:
        raise NotImplementedError

    def after(self, stats: Stats) -> None: ...


class PostgisWriter(Writer):
    """COPY, with the secondary indexes of the loaded tables rebuilt afterwards."""

    def __init__(self, dbapi_conn: Any):
        super().__init__(dbapi_conn)
        self.indexes: list[tuple[str, str]] = []

    def before(self) -> None:
        with self.conn.cursor() as cur:
            # Foreign keys are checked by --check's anti-joins, not row by row (the
            # rows are consistent by construction); the loans' exclusion constraint
            # is an index and stays enforced.
            cur.execute("SET session_replication_role = replica")
            cur.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes AS i
                WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                                WHERE c.conindid = format('%%I.%%I', i.schemaname,
                                                          i.indexname)::regclass)
                ORDER BY i.tablename, i.indexname""",
                (list(BIG_TABLES),),
            )
            self.indexes = cur.fetchall()
            for name, _definition in self.indexes:
                cur.execute(f'DROP INDEX "{name}"')
        self.conn.commit()

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        geometry = [i for i, c in enumerate(columns) if c in GEOMETRY_COLUMNS]
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                if geometry:
                    row = list(row)
                    for i in geometry:
                        lat, lon = row[i]
                        row[i] = f"SRID=4326;POINT({lon!r} {lat!r})"
                copy.write_row(row)
        self.conn.commit()

    def after(self, stats: Stats) -> None:
        conn = self.conn
        with stats.phase("indexes"), conn.cursor() as cur:
            cur.execute("SET session_replication_role = origin")
            cur.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in self.indexes:
                cur.execute(definition)
            for table in SEQUENCED:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            conn.commit()
        with stats.phase("vacuum analyze"):
            conn.autocommit = True
            with conn.cursor() as cur:
                for table in BIG_TABLES:
                    cur.execute(f"VACUUM ANALYZE {table}")
            conn.autocommit = False


class SpatialiteWriter(Writer):
    """``executemany`` in one transaction per chunk; SpatiaLite's triggers keep the
    R*Tree of each geometry column as rows arrive."""

    def before(self) -> None:
        self.conn.execute("PRAGMA synchronous = OFF")

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        geometry = [i for i, c in enumerate(columns) if c in GEOMETRY_COLUMNS]
        values = ", ".join(
            "MakePoint(?, ?, 4326)" if c in GEOMETRY_COLUMNS else "?" for c in columns
        )
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
        self.conn.executemany(sql, (_sqlite_row(row, geometry) for row in rows))
        self.conn.commit()

    def after(self, stats: Stats) -> None:
        with stats.phase("vacuum analyze"):
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("ANALYZE")
            self.conn.commit()


def _sqlite_row(row: tuple, geometry: list[int]) -> list:
    """Points as two parameters (lon, lat); datetimes as SQLAlchemy stores them on
    SQLite (naive UTC, microseconds always written, so text order is time order)."""
    out: list = []
    for i, value in enumerate(row):
        if i in geometry:
            out.extend((value[1], value[0]))
        elif isinstance(value, datetime):
            out.append(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
        elif isinstance(value, date):
            out.append(value.isoformat())
        else:
            out.append(value)
    return out


# --- Run ------------------------------------------------------------------------------


def _prepare(url: str, backend: str, replace: bool) -> None:
    """Create (or with ``replace``, recreate) an empty database at ``url``."""
    if backend == "postgis":
        if replace:
            drop_pg_database(url)
        elif pg_database_exists(url):
            raise SystemExit(f"{make_url(url).database} exists: pass --replace to rebuild it")
        create_pg_database(url)
    else:
        path = Path(make_url(url).database or "")
        if replace:
            remove_sqlite_file(url)
        elif path.exists():
            raise SystemExit(f"{path} exists: pass --replace to rebuild it")


def generate(
    url_or_path: str,
    backend: str,
    members: int,
    posts: int | None = None,
    seed: int = 1,
    *,
    replace: bool = False,
    now: datetime | None = None,
    check: bool = True,
) -> Stats:
    """Build a fresh database at ``url_or_path`` (a PostGIS database name or URL, a
    SpatiaLite file path), migrated to head, and load the synthetic city into it."""
    url = database_url(backend, url_or_path)
    posts = 2 * members if posts is None else posts
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    stats = Stats(url=url)
    _prepare(url, backend, replace)
    app = bench_app(url)
    with stats.phase("migrate"):
        migrate(app)
    with app.app_context():
        gen = Generator(members, posts, seed, now, bench_password_hash(seed))
        raw = db.engine.raw_connection()
        try:
            writer_cls = PostgisWriter if backend == "postgis" else SpatialiteWriter
            writer = writer_cls(raw.driver_connection)
            with stats.phase("drop indexes"):
                writer.before()
            _load(gen, writer, stats)
            writer.after(stats)
        finally:
            raw.close()
        if check:
            with stats.phase("check"):
                check_database(stats)
        db.session.remove()
        db.engine.dispose()
    return stats


def bench_password_hash(seed: int) -> str:
    """``PASSWORD`` hashed with the app's argon2 parameters and a salt made from the seed,
    so that two runs write the same rows; checked with the app's own hasher."""
    from argon2.low_level import hash_secret

    from peuplade.account.services import _hasher, normalise_password

    hasher = _hasher()
    encoded = hash_secret(
        normalise_password(PASSWORD).encode(),
        hashlib.sha256(f"peuplade-bench-{seed}".encode()).digest()[:16],
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
        hash_len=hasher.hash_len,
        type=hasher.type,
    ).decode()
    hasher.verify(encoded, normalise_password(PASSWORD))
    return encoded


def _load(gen: Generator, writer: Writer, stats: Stats) -> None:
    for phase, chunks in (
        ("members", gen.member_chunks),
        ("posts", gen.post_chunks),
        ("blocks", lambda: iter([gen.block_rows()])),
    ):
        with stats.phase(phase):
            for rows in chunks():
                for table, table_rows in rows.items():
                    writer.write(table, table_rows)
                    stats.rows[table] += len(table_rows)


def check_database(stats: Stats, samples: int = 50) -> None:
    """Counts per table as written, posts' subtypes adding up, authors that exist, and
    feed cells equal to ``geo.feed_cell`` of a few posts' positions."""
    session = db.session
    for table, expected in stats.rows.items():
        found = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        assert found == expected, f"{table}: {found} rows, {expected} written"
    subtypes = sum(stats.rows[t] for t in ("exchanges", "items", "news_posts", "events"))
    assert subtypes == stats.rows["posts"], "posts and their subtype rows disagree"
    orphans = session.execute(
        text(
            "SELECT count(*) FROM posts AS p WHERE NOT EXISTS "
            "(SELECT 1 FROM members AS m WHERE m.id = p.author_id)"
        )
    ).scalar_one()
    assert orphans == 0, f"{orphans} posts without an author"
    step = max(1, stats.rows["posts"] // samples)
    rows = session.execute(
        text(
            "SELECT id, ST_Y(position), ST_X(position), cell_fine, cell_coarse FROM posts "
            "WHERE id % :step = 1 ORDER BY id"
        ),
        {"step": step},
    ).all()
    for post_id, lat, lon, fine, coarse in rows:
        pos = geo.LatLon(lat, lon)
        assert (fine, coarse) == (geo.feed_cell(pos, "fine"), geo.feed_cell(pos, "coarse")), (
            f"post {post_id}: feed cells do not match its position"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgis", "spatialite"), default="postgis")
    parser.add_argument(
        "--db", required=True, help="PostGIS: database name or URL; SpatiaLite: file path"
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=None, help="default: 2 x members")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--now",
        type=date.fromisoformat,
        default=None,
        help="YYYY-MM-DD the data ends at (midnight UTC); default today",
    )
    parser.add_argument("--replace", action="store_true", help="drop the database first")
    parser.add_argument("--no-check", action="store_true", help="skip the final checks")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    stats = generate(
        args.db,
        args.backend,
        args.members,
        args.posts,
        args.seed,
        replace=args.replace,
        now=datetime.combine(args.now, datetime.min.time(), UTC) if args.now else None,
        check=not args.no_check,
    )
    total = time.perf_counter() - start
    print(f"database: {make_url(stats.url).render_as_string(hide_password=True)}")
    print(f"password of every member: {stats.password!r} (bench data only)")
    for table, count in stats.rows.items():
        print(f"  {table:<20}{count:>12,}")
    for phase, seconds in stats.seconds.items():
        print(f"  {phase:<20}{seconds:>11.1f}s")
    print(f"  {'total':<20}{total:>11.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
