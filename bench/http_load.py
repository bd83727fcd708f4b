"""Benchmark: the app under HTTP load, served by gunicorn on loopback, as deployed.

Query benchmarks time SQL; this one times what a member waits for: gunicorn workers,
the Flask app with its middleware, the session lookup, the timeline query, the Jinja
page, the argon2 login. It starts gunicorn with the project's settings
(``-c gunicorn.conf.py``; the bench's own on the command line win: workers, worker
class, threads, port, keep-alive, timeouts) on ``bench.http_app:app`` (the real app plus
a trivial ``/bench/ping`` page), on a free loopback port with the production settings
(``PEUPLADE_ENV=production``, the strong argon2 parameters, CSRF, Secure ``__Host-``
cookies, rate limits in Redis) and plays the reverse proxy of docs/deployment.md
itself: ``X-Forwarded-Proto: https`` and one ``X-Forwarded-For`` address per member
(``TRUSTED_PROXIES=1``), so the login limit of 10 a minute per address stays on and
applies per member as it would in production (``--no-rate-limits`` turns it off).

Logins have their own pool of workers, as docs/deployment.md deploys them: a second
gunicorn with ``GUNICORN_POOL=login`` (``--login-workers``, 2 by default; 0: none), and
the client routes each request by its path as the proxy does (gunicorn.conf.py's
``LOGIN_POOL_PATHS`` to the login pool, the rest to the app's pool).

Phases, all on the same servers:

1. log in K members through the real form (GET /login for the CSRF token, POST);
2. warm-up, not measured;
3. "timeline": C keep-alive clients, each acting for its share of the members:
   ~95 % GET /timeline (a quarter of them following the page's "Voir plus" link),
   ~5 % POST /exchanges/new (a real form post with its CSRF token);
4. "timeline pages": the same with pages only (no posts; skipped with
   ``--post-share 0``: phase 3 is then this one);
5. "timeline + logins": phase 3 plus new members logging in at a fixed rate (open
   loop: a slow server does not slow the arrivals down), sent to the app's pool as if
   there were no login pool;
6. "timeline + logins, login pool": the same, the logins sent to the login pool;
7. "ping": the same clients and members on /bench/ping (answered "ok" to a member
   only: a ping not logged in is an error);
8. "pairs": the timeline load (3) and the ping (7) in turn, ``--pairs`` times
   ``--pair-seconds`` each: the ratio of their throughputs from phases a few seconds
   apart, rather than from two phases a minute apart, between which this shared
   machine's speed drifts (the same ping code measured 512 and 672 req/s in two runs
   five minutes apart); the median of the pairs' ratios is the figure;
9. "stack floor": the same clients and members on ``/bench/ping`` of the project's
   libraries alone (bench/http_stack_floor.py: Flask, Flask-Login and Flask-SQLAlchemy
   loading the session's member with one ORM statement, nothing else), under a
   gunicorn of the same settings started for it: the trivial route's floor on this
   stack;
10. "floor": the same clients on ``/bench/ping`` of Flask alone (bench/http_floor.py),
   under a gunicorn of the same settings started for it: what a request costs before
   the app does anything (no session, database or extension).

It prints, per phase and route, requests, requests/s, p50/p95/p99 and errors (an
exception or a status other than the expected one: a timeline answered by a redirect to
the login page is an error); the CPU seconds spent by the client, the gunicorn
processes, the PostgreSQL backends serving gunicorn and the whole machine (what limited
the throughput); each worker's memory after the load: RSS, and PSS/USS
(``/proc/<pid>/smaps_rollup``), which do not count the pages a worker shares with the
master (``--preload``, gunicorn.conf.py's ``GUNICORN_PRELOAD``) or the others. The
figures are also written as JSON (``--json``, bench/out/http_load.json by default) for
bench/report.py. Exit status 1 if any error happened.

Workers are sync by default, as gunicorn.conf.py has them (4, docs/deployment.md).
Measured against gthread on 2 cores (20k members, C=16): the same requests per server
CPU second, but gthread's keep-alive pins each client connection to one worker, whose
threads then share one GIL while other workers idle: timeline p95 1.5 s against 0.8-1 s
with sync. Behind nginx (no upstream keep-alive by default) sync loses nothing.
``--worker-class gthread --threads N`` measures the other choice.

The client is this process: threads with ``http.client`` (standard library), which
costs far less CPU per request than a page costs the server; its CPU time is printed.

BENCH DATA ONLY: the members are those of ``bench/generate.py`` (one shared password).
The run writes into the database: sessions, the members' password hashes upgraded to
the production parameters at their first login here, and the exchanges posted.

    .venv/bin/python bench/http_load.py --db peuplade_bench_1m --workers 4 --seconds 30
"""

from __future__ import annotations

import argparse
import html
import http.client
import math
import os
import random
import re
import runpy
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from sqlalchemy.engine import make_url

from peuplade import categories

try:  # run as a script (bench/ on sys.path), or imported as bench.http_load
    from _common import OUT, database_url, render, write_figures
    from generate import PASSWORD, member_email
except ImportError:
    from bench._common import OUT, database_url, render, write_figures
    from bench.generate import PASSWORD, member_email

ROOT = Path(__file__).resolve().parent.parent
WSGI_APP = "bench.http_app:app"
# Flask alone under the same gunicorn (bench/http_floor.py): the trivial route's floor.
FLOOR_APP = "bench.http_floor:app"
# Flask, Flask-Login and Flask-SQLAlchemy loading the session's member, nothing else
# (bench/http_stack_floor.py): the trivial route's floor on the project's stack.
STACK_FLOOR_APP = "bench.http_stack_floor:app"
# The measured phases, in the order they run (--phases picks some): "pages" is the
# timeline without posts, "logins" the timeline while newcomers log in, "pairs" the
# timeline and the ping in turn (short phases, for their ratio).
PHASES = ("timeline", "pages", "logins", "ping", "pairs", "stack", "floor")
# The paths the proxy sends to the login pool, as gunicorn.conf.py lists them.
LOGIN_POOL_PATHS: tuple[str, ...] = runpy.run_path(str(ROOT / "gunicorn.conf.py"))[
    "LOGIN_POOL_PATHS"
]
CLK_TCK = os.sysconf("SC_CLK_TCK")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_RE = re.compile(r'rel="next" href="([^"]+)"')
TIMELINE, MORE, LOGIN, PING = (
    "GET /timeline",
    "GET /timeline?cursor= (Voir plus)",
    "POST /login",
    "GET /bench/ping",
)
# Requests and offers apart: a request also looks for the neighbours who know how.
POSTS = {kind: f"POST /exchanges/new ({kind})" for kind in ("request", "offer")}
TIMELINE_ROUTES = (TIMELINE, MORE, *POSTS.values())


# -- simulated members -----------------------------------------------------------------


@dataclass
class Member:
    """One member's browser: cookies, the last CSRF token and "Voir plus" link seen."""

    id: int
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None
    next_path: str | None = None
    logged_in: bool = False

    @property
    def email(self) -> str:
        return member_email(self.id)

    @property
    def address(self) -> str:
        """The member's own client address, as the proxy reports it (X-Forwarded-For)."""
        return f"10.{(self.id >> 16) & 255}.{(self.id >> 8) & 255}.{self.id & 255}"

    def keep_cookies(self, set_cookies: list[str]) -> None:
        """Apply Set-Cookie headers: store, replace, or forget (empty or Max-Age=0)."""
        for header in set_cookies:
            first, _sep, attributes = header.partition(";")
            name, _eq, value = first.strip().partition("=")
            if not value or "max-age=0" in attributes.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def read_page(self, page: str) -> None:
        """Remember the CSRF token and the "Voir plus" link of a page."""
        token = CSRF_RE.search(page)
        if token:
            self.csrf = token.group(1)
        more = NEXT_RE.search(page)
        self.next_path = html.unescape(more.group(1)) if more else None


def eligible_members(url: str, count: int, seed: int) -> list[int]:
    """``count`` member ids drawn at random with ``seed``, among those who can log in and
    post freely: active, and older than the new-account limits (NEW_ACCOUNT_DAYS)."""
    rng = random.Random(seed)
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        (top,) = conn.execute("SELECT max(id) FROM members").fetchone()
        drawn = rng.sample(range(1, top + 1), min(top, count * 2 + 50))
        rows = conn.execute(
            "SELECT id FROM members WHERE id = ANY(%s) AND status = 'active'"
            " AND created_at < now() - interval '8 days'",
            (drawn,),
        ).fetchall()
    ok = {r[0] for r in rows}
    chosen = [i for i in drawn if i in ok][:count]
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} members can log in, {count} needed.")
    return chosen


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- the HTTP client -------------------------------------------------------------------


def to_login_pool(path: str) -> bool:
    """Whether the proxy sends ``path`` to the login pool: an entry of LOGIN_POOL_PATHS
    ending with "/" is a prefix (nginx ``location ^~``), any other the exact path
    (``location =``)."""
    path = path.split("?", 1)[0]
    return any(
        path.startswith(entry) if entry.endswith("/") else path == entry
        for entry in LOGIN_POOL_PATHS
    )


class Client:
    """Keep-alive connections that act for whichever member they are given, with the
    headers the reverse proxy of docs/deployment.md adds; with ``login_port``, the
    requests to the login pool's paths go there (on a second connection), as the proxy
    routes them."""

    def __init__(self, port: int, login_port: int | None = None) -> None:
        self.host = f"127.0.0.1:{port}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.login_conn = (
            http.client.HTTPConnection("127.0.0.1", login_port, timeout=120) if login_port else None
        )

    def request(
        self, member: Member, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        """(status, body, seconds) of one request; the member's cookies follow it."""
        headers = {
            "Host": self.host,
            "X-Forwarded-For": member.address,
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{self.host}/timeline",  # CSRF checks it over https
            "Accept-Language": "fr",
        }
        if member.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in member.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = self.login_conn if self.login_conn and to_login_pool(path) else self.conn
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            page = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            conn.close()
            raise
        seconds = time.perf_counter() - start
        member.keep_cookies(response.headers.get_all("Set-Cookie") or [])
        return response.status, page, seconds

    def close(self) -> None:
        self.conn.close()
        if self.login_conn:
            self.login_conn.close()


@dataclass
class Stats:
    """Latencies (seconds) and errors per route, for one thread or merged."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def call(
        self,
        client: Client,
        route: str,
        member: Member,
        method: str,
        path: str,
        expected: int,
        form: dict[str, str] | None = None,
    ) -> str | None:
        """Run one request and record it; the page if its status was ``expected``."""
        self.latencies.setdefault(route, [])
        try:
            status, page, seconds = client.request(member, method, path, form)
        except (OSError, http.client.HTTPException) as exc:
            self._error(route, f"{route}: {type(exc).__name__}: {exc}")
            return None
        self.latencies[route].append(seconds)
        if status != expected:
            self._error(route, f"{route}: HTTP {status} (expected {expected}) for {path}")
            return None
        return page

    def _error(self, route: str, sample: str) -> None:
        self.errors[route] = self.errors.get(route, 0) + 1
        if len(self.samples) < 5:
            self.samples.append(sample)

    def merge(self, other: Stats) -> None:
        for route, values in other.latencies.items():
            self.latencies.setdefault(route, []).extend(values)
        for route, n in other.errors.items():
            self.errors[route] = self.errors.get(route, 0) + n
        self.samples.extend(other.samples[: max(0, 5 - len(self.samples))])

    def total_errors(self) -> int:
        return sum(self.errors.values())


# -- what a member does ----------------------------------------------------------------


def log_in(client: Client, member: Member, stats: Stats) -> bool:
    """The login form: GET for the CSRF token, then POST (timed as ``POST /login``)."""
    member.cookies.clear()
    page = stats.call(client, "GET /login", member, "GET", "/login", 200)
    token = CSRF_RE.search(page or "")
    if token is None:
        return False
    form = {
        "csrf_token": token.group(1),
        "email": member.email,
        "password": PASSWORD,
        "next": "",
    }
    member.logged_in = stats.call(client, LOGIN, member, "POST", "/login", 302, form) is not None
    return member.logged_in


def browse(client: Client, member: Member, rng: random.Random, stats: Stats, mix: Mix) -> None:
    """One step of a logged-in member: post an exchange, see more, or open the timeline."""
    if member.csrf and rng.random() < mix.post_share:
        kind = rng.choice(tuple(POSTS))
        form = {
            "csrf_token": member.csrf,
            "kind": kind,
            "title": f"Coup de main n°{rng.randrange(1_000_000)}",
            "body": "Bench : une annonce postée par bench/http_load.py.",
            "category": rng.choice(categories.SLUGS),
            "starts_on": "",
            "ends_on": "",
            "location": "",
            "reach_m": "",
            "on_behalf_of": "",
        }
        stats.call(client, POSTS[kind], member, "POST", "/exchanges/new", 302, form)
        return
    more = member.next_path is not None and rng.random() < mix.more_share
    route, path = (MORE, member.next_path) if more else (TIMELINE, "/timeline")
    page = stats.call(client, route, member, "GET", path, 200)
    if page is not None:
        member.read_page(page)


def ping(client: Client, member: Member, _rng: random.Random, stats: Stats, _mix: Mix) -> None:
    """The trivial page, as a logged-in member: answered "anonymous" without a session."""
    page = stats.call(client, PING, member, "GET", "/bench/ping", 200)
    if page is not None and page != "ok":
        stats._error(PING, f"{PING}: {page!r} for member {member.id}: not logged in")


@dataclass(frozen=True)
class Mix:
    post_share: float
    more_share: float


# -- load generation -------------------------------------------------------------------


# Where the proxy sends requests: the app's pool, and the login pool's port or None.
# A port alone (bench/replicas.py) is the app's pool without a login pool.
Ports = tuple[int, int | None]


def _ports(target: Ports | int) -> Ports:
    return (target, None) if isinstance(target, int) else target


def closed_loop(
    ports: Ports | int,
    members: list[Member],
    concurrency: int,
    seconds: float,
    step: Callable[[Client, Member, random.Random, Stats, Mix], None],
    mix: Mix,
    seed: int,
) -> Stats:
    """``concurrency`` threads, one keep-alive connection each, each cycling through
    its own members (no member is used by two threads) until ``seconds`` have passed."""
    deadline = time.perf_counter() + seconds
    results = [Stats() for _ in range(concurrency)]

    def worker(i: int) -> None:
        client, rng, mine = (
            Client(*_ports(ports)),
            random.Random(seed * 1000 + i),
            members[i::concurrency],
        )
        k = 0
        while mine and time.perf_counter() < deadline:
            step(client, mine[k % len(mine)], rng, results[i], mix)
            k += 1
        client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    merged = Stats()
    for r in results:
        merged.merge(r)
    return merged


def login_all(ports: Ports | int, members: list[Member], concurrency: int) -> Stats:
    """Log every member in, ``concurrency`` at a time (each on its own connection)."""
    results = [Stats() for _ in range(concurrency)]

    def worker(i: int) -> None:
        client = Client(*_ports(ports))
        for member in members[i::concurrency]:
            log_in(client, member, results[i])
        client.close()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    merged = Stats()
    for r in results:
        merged.merge(r)
    return merged


@contextmanager
def login_stream(ports: Ports | int, members: Iterator[Member], rate: float) -> Iterator[Stats]:
    """New members logging in at ``rate`` a second (open loop), each from a new
    connection, while the body of the ``with`` runs; waits for the last ones."""
    stats, lock, stop = Stats(), threading.Lock(), threading.Event()

    def one(member: Member) -> None:
        mine, client = Stats(), Client(*_ports(ports))
        log_in(client, member, mine)
        client.close()
        with lock:
            stats.merge(mine)

    def schedule(pool: ThreadPoolExecutor) -> None:
        start, n = time.perf_counter(), 0
        while rate > 0 and not stop.is_set():
            pause = start + n / rate - time.perf_counter()
            if pause > 0 and stop.wait(pause):
                break
            pool.submit(one, next(members))
            n += 1

    with ThreadPoolExecutor(64) as pool:
        scheduler = threading.Thread(target=schedule, args=(pool,))
        scheduler.start()
        try:
            yield stats
        finally:
            stop.set()
            scheduler.join()


# -- CPU and memory accounting ---------------------------------------------------------


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (gunicorn's workers of its master)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK


@dataclass
class CpuSnapshot:
    wall: float
    client: float
    machine: float
    gunicorn: dict[int, float]
    postgres: dict[int, float]


class CpuMeter:
    """CPU seconds of the client, gunicorn (masters and workers of both pools), the
    PostgreSQL backends serving gunicorn (found in pg_stat_activity by their
    application_name: other jobs may query the same database) and the whole machine."""

    def __init__(self, url: str, masters: list[int], application_name: str) -> None:
        self.masters = masters
        self.application_name = application_name
        self.conn = psycopg.connect(_psycopg_url(url), autocommit=True)

    def snapshot(self) -> CpuSnapshot:
        pids = [
            r[0]
            for r in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                (self.application_name,),
            )
        ]
        server = [p for master in self.masters for p in (master, *children(master))]
        return CpuSnapshot(
            wall=time.perf_counter(),
            client=time.process_time(),
            machine=machine_busy(),
            gunicorn={p: proc_cpu(p) for p in server},
            postgres={p: proc_cpu(p) for p in pids},
        )

    def close(self) -> None:
        self.conn.close()


@dataclass
class CpuUse:
    wall: float
    client: float
    gunicorn: float
    postgres: float
    machine: float

    @classmethod
    def between(cls, a: CpuSnapshot, b: CpuSnapshot) -> CpuUse:
        def spent(before: dict[int, float], after: dict[int, float]) -> float:
            return sum(v - before.get(p, 0.0) for p, v in after.items())

        return cls(
            wall=b.wall - a.wall,
            client=b.client - a.client,
            gunicorn=spent(a.gunicorn, b.gunicorn),
            postgres=spent(a.postgres, b.postgres),
            machine=b.machine - a.machine,
        )


def memory_mib(pid: int) -> dict[str, float]:
    """RSS, PSS and USS of a process in MiB (``/proc/<pid>/smaps_rollup``): RSS counts
    every page the process touches, shared or not; PSS divides each shared page among
    the processes sharing it; USS counts the pages only this process holds (what
    stopping it would give back). Empty if the process is gone."""
    try:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, _colon, rest = line.partition(":")
            fields[name] = int(rest.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        return {}
    return {
        "rss": round(fields.get("Rss", 0.0), 1),
        "pss": round(fields.get("Pss", 0.0), 1),
        "uss": round(fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0), 1),
    }


# -- gunicorn --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def application_name() -> str:
    """How the server's PostgreSQL connections name themselves (see CpuMeter)."""
    return f"bench-http-{os.getpid()}"


# One run's servers (the app's pool and the login pool) share what a deployment's app
# servers share: the key that signs sessions, and the rate limits' counters.
RUN_SECRET_KEY = secrets.token_hex(32)
RUN_RATELIMIT_PREFIX = f"peuplade-bench-http-{secrets.token_hex(4)}"


def server_environment(url: str, rate_limits: bool, **settings: str) -> dict[str, str]:
    """The environment of docs/deployment.md, on the bench database. Emails are logged
    (MAIL_BACKEND=log), addresses found offline: the bench never leaves the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEUPLADE_", "FLASK_"))}
    env.update(
        PEUPLADE_ENV="production",
        SECRET_KEY=RUN_SECRET_KEY,
        DATABASE_URL=render(
            make_url(url).update_query_dict({"application_name": application_name()})
        ),
        PUBLIC_URL="https://bench.example",
        TRUSTED_PROXIES="1",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
        RATELIMIT_ENABLED="1" if rate_limits else "0",
        BENCH_RATELIMIT_PREFIX=RUN_RATELIMIT_PREFIX,
        GEOCODER="offline",
        MAIL_BACKEND="log",
    )
    env.update(settings)
    return env


@contextmanager
def gunicorn(
    args: argparse.Namespace,
    url: str,
    log_path: Path,
    pool: str = "app",
    wsgi_app: str = WSGI_APP,
) -> Iterator[subprocess.Popen]:
    """gunicorn serving bench.http_app on a free loopback port, until the block ends;
    stopped by its PID (TERM, then KILL). ``pool="login"`` starts the login pool as
    gunicorn.conf.py configures it (``GUNICORN_POOL=login``, its bind and worker count
    from ``GUNICORN_LOGIN_BIND`` / ``GUNICORN_LOGIN_WORKERS``); the app's pool gets the
    bench's worker count, class and threads on the command line."""
    port = free_port()
    # bench/replicas.py's options name neither: no preload, no priority change.
    settings = {"GUNICORN_PRELOAD": "1" if getattr(args, "preload", False) else "0"}
    if pool == "app":
        settings["GUNICORN_NICE"] = str(getattr(args, "app_nice", 0))
    if pool == "login":
        settings.update(
            GUNICORN_POOL="login",
            GUNICORN_LOGIN_BIND=f"127.0.0.1:{port}",
            GUNICORN_LOGIN_WORKERS=str(args.login_workers),
        )
        sizing = []
    else:
        sizing = [
            "--workers", str(args.workers),
            "--worker-class", args.worker_class,
            "--threads", str(args.threads),
            "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
    command = [
        args.server_python, "-m", "gunicorn",
        "--config", str(ROOT / "gunicorn.conf.py"),
        *sizing,
        "--keep-alive", "75",  # longer than any pause of the load (nginx's default is 75)
        "--timeout", "120",
        "--graceful-timeout", "10",
        "--no-control-socket",  # its default path is shared by every gunicorn of the user
        wsgi_app,
    ]  # fmt: skip
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_environment(url, args.rate_limits, **settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server.port = port  # type: ignore[attr-defined]
    try:
        wait_until_up(server, port, log_path)
        yield server
    finally:
        stop(server)


def wait_until_up(server: subprocess.Popen, port: int, log_path: Path) -> None:
    """Until every worker answers /bench/ping (or the server died: show its log)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text()[-3000:]
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{tail}")
        client = Client(port)
        try:
            status, _page, _s = client.request(Member(0), "GET", "/bench/ping")
            if status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            client.close()
        time.sleep(0.3)
    stop(server)
    raise SystemExit(f"gunicorn did not answer within 90 s; see {log_path}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.kill(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(server.pid, signal.SIGKILL)
        server.wait()


# -- report ----------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def route_line(name: str, values: list[float], errors: int, seconds: float) -> str:
    s = sorted(values)
    ms = [percentile(s, q) * 1000 for q in (50, 95, 99)]
    n = len(s)
    return (
        f"  {name:<36}{n:>9,}{n / seconds:>9.1f}{ms[0]:>9.1f}{ms[1]:>9.1f}{ms[2]:>9.1f}{errors:>8}"
    )


HEADER = (
    f"  {'route':<36}{'requests':>9}{'req/s':>9}{'p50 ms':>9}"
    f"{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
)


@dataclass
class Phase:
    name: str
    stats: Stats
    cpu: CpuUse

    def routes(self, names: tuple[str, ...]) -> list[str]:
        return [r for r in names if r in self.stats.latencies]

    def combined(self, names: tuple[str, ...]) -> tuple[list[float], int]:
        values = [v for r in names for v in self.stats.latencies.get(r, [])]
        return values, sum(self.stats.errors.get(r, 0) for r in names)

    def throughput(self, names: tuple[str, ...]) -> float:
        return len(self.combined(names)[0]) / self.cpu.wall

    def p95_ms(self, names: tuple[str, ...]) -> float:
        return percentile(sorted(self.combined(names)[0]), 95) * 1000

    def requests(self) -> int:
        return sum(len(v) for v in self.stats.latencies.values())

    def cpu_ms_per_request(self) -> tuple[float, float]:
        """(gunicorn, PostgreSQL) CPU milliseconds per request of the phase."""
        n = max(self.requests(), 1)
        return self.cpu.gunicorn * 1000 / n, self.cpu.postgres * 1000 / n

    def figures(self) -> dict:
        """The phase as JSON: per route and for the timeline load together."""

        def summary(values: list[float], errors: int) -> dict:
            ordered = sorted(values)
            return {
                "requests": len(ordered),
                "per_s": round(len(ordered) / self.cpu.wall, 2),
                **{f"p{q}_ms": round(percentile(ordered, q) * 1000, 1) for q in (50, 95, 99)},
                "errors": errors,
            }

        gunicorn_ms, postgres_ms = self.cpu_ms_per_request()
        return {
            "wall_s": round(self.cpu.wall, 2),
            "requests": self.requests(),
            "errors": self.stats.total_errors(),
            "routes": {
                route: summary(values, self.stats.errors.get(route, 0))
                for route, values in self.stats.latencies.items()
            },
            "timeline_load": summary(*self.combined(TIMELINE_ROUTES)),
            "pages": summary(*self.combined((TIMELINE, MORE))),
            "cpu_s": {
                "client": round(self.cpu.client, 2),
                "gunicorn": round(self.cpu.gunicorn, 2),
                "postgres": round(self.cpu.postgres, 2),
                "machine": round(self.cpu.machine, 2),
            },
            "cpu_ms_per_request": {
                "gunicorn": round(gunicorn_ms, 2),
                "postgres": round(postgres_ms, 2),
                "server": round(gunicorn_ms + postgres_ms, 2),
            },
            "errors_sample": self.stats.samples,
        }


def print_phase(phase: Phase) -> None:
    print(f"\n{phase.name} ({phase.cpu.wall:.1f} s)")
    print(HEADER)
    for route in phase.routes((*TIMELINE_ROUTES, LOGIN, PING)):
        values = phase.stats.latencies[route]
        print(route_line(route, values, phase.stats.errors.get(route, 0), phase.cpu.wall))
    if len(phase.routes(TIMELINE_ROUTES)) > 1:
        values, errors = phase.combined(TIMELINE_ROUTES)
        print(route_line("timeline load, all requests", values, errors, phase.cpu.wall))
    other = {r: n for r, n in phase.stats.errors.items() if r not in (*TIMELINE_ROUTES, PING)}
    for route, n in other.items():
        if route != LOGIN:
            print(f"  ({route}: {n} errors)")


def print_cpu(phases: list[Phase], cores: int) -> None:
    print(f"\nCPU seconds per phase (the machine has {cores} cores; other jobs count in 'machine')")
    print(
        f"  {'phase':<32}{'wall':>7}{'client':>8}{'gunicorn':>10}{'postgres':>10}"
        f"{'machine':>9}{'idle':>7}{'req/server CPU-s':>18}{'ms/req gunicorn+pg':>20}"
    )
    for p in phases:
        c = p.cpu
        idle = max(0.0, cores * c.wall - c.machine)
        # Requests per CPU second of gunicorn + PostgreSQL: comparable between runs even
        # when other jobs take part of the machine.
        gunicorn_ms, postgres_ms = p.cpu_ms_per_request()
        print(
            f"  {p.name:<32}{c.wall:>7.1f}{c.client:>8.1f}{c.gunicorn:>10.1f}"
            f"{c.postgres:>10.1f}{c.machine:>9.1f}{idle:>7.1f}"
            f"{p.requests() / max(c.gunicorn + c.postgres, 1e-9):>18.1f}"
            f"{f'{gunicorn_ms:.1f} + {postgres_ms:.1f}':>20}"
        )


def login_figures(stats: Stats) -> dict:
    ordered = sorted(stats.latencies.get(LOGIN, []))
    return {
        "logins": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 1),
        "p95_ms": round(percentile(ordered, 95) * 1000, 1),
        "errors": stats.errors.get(LOGIN, 0) + stats.errors.get("GET /login", 0),
    }


def print_summary(args: argparse.Namespace, logins: Stats, phases: dict[str, Phase]) -> None:
    if "timeline" not in phases or "ping" not in phases:  # --phases left one out
        return
    alone, trivial = phases["timeline"], phases["ping"]
    ratio = alone.throughput(TIMELINE_ROUTES) / trivial.throughput((PING,))
    print(
        f"\ntimeline load throughput / ping throughput: {ratio:.3f} "
        f"({alone.throughput(TIMELINE_ROUTES):.1f} vs {trivial.throughput((PING,)):.1f} req/s)"
    )
    page_routes = (TIMELINE, MORE)
    busy = {name: p for name, p in phases.items() if name.startswith("timeline + logins")}
    print(
        f"timeline pages p95: {alone.p95_ms(page_routes):.1f} ms alone; "
        + "; ".join(f"{p.p95_ms(page_routes):.1f} ms in '{name}'" for name, p in busy.items())
    )
    where = "login pool" if args.login_workers else "app's pool"
    for label, stats in (
        (f"before the load, {args.login_concurrency} at a time, {where}", logins),
        *((f"'{name}', {args.login_rate:g}/s", p.stats) for name, p in busy.items()),
    ):
        f = login_figures(stats)
        print(
            f"login POST p50/p95 ({label}): {f['p50_ms']:.0f} / {f['p95_ms']:.0f} ms "
            f"over {f['logins']} logins, {f['errors']} errors"
        )


def pool_memory(master: int) -> dict:
    return {
        "master": memory_mib(master),
        "workers": [{"pid": pid, **memory_mib(pid)} for pid in sorted(children(master))],
    }


def print_memory(pools: dict[str, dict]) -> None:
    print("\nmemory after the load (MiB; PSS/USS leave out what is shared with the master)")
    for name, pool in pools.items():
        m = pool["master"]
        print(f"  {name} pool master: RSS {m.get('rss', 0):.0f}, PSS {m.get('pss', 0):.0f}")
        for w in pool["workers"]:
            print(
                f"  {name} pool worker {w['pid']}: RSS {w.get('rss', 0):.0f}, "
                f"PSS {w.get('pss', 0):.0f}, USS {w.get('uss', 0):.0f}"
            )


# -- main ------------------------------------------------------------------------------


def measured(name: str, meter: CpuMeter, run: Callable[[], Stats]) -> Phase:
    before = meter.snapshot()
    stats = run()
    return Phase(name, stats, CpuUse.between(before, meter.snapshot()))


def measure_pairs(
    args: argparse.Namespace,
    meter: CpuMeter,
    proxy: Ports,
    members: list[Member],
    mix: Mix,
    samples: list[str],
) -> list[dict]:
    """The timeline load and the ping in turn, ``--pairs`` times: each pair's
    throughputs, their ratio and errors (the "pairs" phase); the errors' samples are
    added to ``samples``."""

    def phase(name: str, step, seed: int) -> Phase:
        run = lambda: closed_loop(  # noqa: E731
            proxy, members, args.concurrency, args.pair_seconds, step, mix, seed
        )
        return measured(name, meter, run)

    pairs = []
    for number in range(args.pairs):
        timeline = phase("pair timeline", browse, args.seed + number)
        trivial = phase("pair ping", ping, args.seed + number)
        per_s = timeline.throughput(TIMELINE_ROUTES), trivial.throughput((PING,))
        samples.extend(timeline.stats.samples + trivial.stats.samples)
        pairs.append(
            {
                "timeline_per_s": round(per_s[0], 2),
                "ping_per_s": round(per_s[1], 2),
                "ratio": round(per_s[0] / per_s[1], 4) if per_s[1] else 0.0,
                "errors": timeline.stats.total_errors() + trivial.stats.total_errors(),
            }
        )
    return pairs


def pair_figures(args: argparse.Namespace, pairs: list[dict]) -> dict:
    return {
        "seconds": args.pair_seconds,
        "each": pairs,
        "median_ratio": round(statistics.median(p["ratio"] for p in pairs), 4),
    }


def print_pairs(pairs: list[dict]) -> None:
    if not pairs:
        return
    ratios = ", ".join(
        f"{p['ratio']:.3f} ({p['timeline_per_s']:.1f} vs {p['ping_per_s']:.1f})" for p in pairs
    )
    median = statistics.median(p["ratio"] for p in pairs)
    print(f"timeline / ping, in turn: median {median:.3f} of {len(pairs)} pairs: {ratios}")


def describe(args: argparse.Namespace, url: str, log_path: Path) -> None:
    threads = f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    limits = "ON (Redis; one proxy address per member)" if args.rate_limits else "OFF"
    logins = (
        f"login pool of {args.login_workers} sync workers (GUNICORN_POOL=login)"
        if args.login_workers
        else "no login pool"
    )
    print(
        f"gunicorn: {args.workers} {args.worker_class} workers{threads}, {logins}, "
        f"preload {'on' if args.preload else 'off'}, app pool nice {args.app_nice}, "
        f"PEUPLADE_ENV=production, rate limits "
        f"{limits}; log {log_path}"
    )
    print(
        f"database: {make_url(url).database}; {args.members} members, C={args.concurrency} "
        f"clients, {args.seconds:g} s per phase, {args.post_share:.0%} posts, seed {args.seed}"
    )


@contextmanager
def login_pool(
    args: argparse.Namespace, url: str, log_path: Path
) -> Iterator[subprocess.Popen | None]:
    """The login pool's gunicorn, or None without one (``--login-workers 0``)."""
    if not args.login_workers:
        yield None
        return
    with gunicorn(args, url, log_path.with_suffix(".login.log"), pool="login") as server:
        yield server


def floor(
    args: argparse.Namespace,
    url: str,
    log_path: Path,
    members: list[Member],
    name: str = "floor",
    wsgi_app: str = FLOOR_APP,
) -> Phase:
    """The "ping" phase against a floor app (``FLOOR_APP``: Flask alone;
    ``STACK_FLOOR_APP``: the stack loading the session's member), under the same
    gunicorn settings and clients: what a request costs before the app does anything."""
    floor_log = log_path.with_suffix(f".{name.replace(' ', '-')}.log")
    with gunicorn(args, url, floor_log, wsgi_app=wsgi_app) as server:
        meter = CpuMeter(url, [server.pid], application_name())
        try:
            return measured(
                name,
                meter,
                lambda: closed_loop(
                    (server.port, None),  # type: ignore[attr-defined]
                    members,
                    args.concurrency,
                    args.seconds,
                    ping,
                    Mix(0.0, 0.0),
                    args.seed,
                ),
            )
        finally:
            meter.close()


def run(args: argparse.Namespace) -> int:
    url = database_url("postgis", args.db)
    # Two login phases, each with its own newcomers.
    spare = math.ceil(args.login_rate * args.seconds) * 4 + 40
    ids = eligible_members(url, args.members + spare, args.seed)
    members = [Member(i) for i in ids[: args.members]]
    newcomers = iter(Member(i) for i in ids[args.members :])
    mix = Mix(args.post_share, args.more_share)
    pages_only = Mix(0.0, args.more_share)
    log_path = Path(tempfile.gettempdir()) / f"bench-http-gunicorn-{os.getpid()}.log"
    describe(args, url, log_path)
    phases: dict[str, Phase] = {}
    pairs: list[dict] = []
    pair_samples: list[str] = []
    with gunicorn(args, url, log_path) as server, login_pool(args, url, log_path) as logins_server:
        port = server.port  # type: ignore[attr-defined]
        login_port = logins_server.port if logins_server else None  # type: ignore[attr-defined]
        proxy: Ports = (port, login_port)
        masters = [server.pid] + ([logins_server.pid] if logins_server else [])
        meter = CpuMeter(url, masters, application_name())
        try:
            logins = login_all(proxy, members, args.login_concurrency)
            members = [m for m in members if m.logged_in]
            warm = browse if set(args.phases) - {"ping", "floor"} else ping
            closed_loop(proxy, members, args.concurrency, args.warmup, warm, mix, args.seed)

            def load(step=browse, mix=mix) -> Callable[[], Stats]:
                return lambda: closed_loop(
                    proxy, members, args.concurrency, args.seconds, step, mix, args.seed
                )

            def with_logins(logins_to: Ports) -> Callable[[], Stats]:
                def phase() -> Stats:
                    with login_stream(logins_to, newcomers, args.login_rate) as stream:
                        stats = load()()
                    stats.merge(stream)
                    return stats

                return phase

            wanted = set(args.phases)
            if "timeline" in wanted:
                phases["timeline"] = measured("timeline", meter, load())
            if "pages" in wanted and args.post_share > 0:
                phases["timeline pages"] = measured("timeline pages", meter, load(mix=pages_only))
            if "logins" in wanted:
                phases["timeline + logins"] = measured(
                    "timeline + logins", meter, with_logins((port, None))
                )
                if login_port:
                    phases["timeline + logins, login pool"] = measured(
                        "timeline + logins, login pool", meter, with_logins(proxy)
                    )
            if "ping" in wanted:
                phases["ping"] = measured("ping", meter, load(ping))
            if "pairs" in wanted:
                pairs = measure_pairs(args, meter, proxy, members, mix, pair_samples)
            if "stack" in wanted:
                phases["stack floor"] = floor(
                    args, url, log_path, members, "stack floor", STACK_FLOOR_APP
                )
            if "floor" in wanted:
                phases["floor"] = floor(args, url, log_path, members)
            print(f"\nlogins before the load: {len(members)} of {args.members} logged in")
            for phase in phases.values():
                print_phase(phase)
            print_summary(args, logins, phases)
            print_pairs(pairs)
            print_cpu(list(phases.values()), os.cpu_count() or 1)
            memory = {"app": pool_memory(server.pid)}
            if logins_server:
                memory["login"] = pool_memory(logins_server.pid)
            print_memory(memory)
        finally:
            meter.close()
    errors = logins.total_errors() + sum(p.stats.total_errors() for p in phases.values())
    errors += sum(pair["errors"] for pair in pairs)
    for sample in (
        [s for p in phases.values() for s in p.stats.samples] + logins.samples + pair_samples
    ):
        print(f"  error: {sample}")
    print(f"errors: {errors}")
    path = write_figures(
        "http_load",
        {
            "database": make_url(url).database,
            "settings": {k: v for k, v in vars(args).items() if k != "json"},
            "logins_before_load": login_figures(logins),
            "phases": {name: phase.figures() for name, phase in phases.items()},
            "logins_during_load": {
                name: login_figures(p.stats)
                for name, p in phases.items()
                if name.startswith("timeline + logins")
            },
            "memory_mib": memory,
            **({"pairs": pair_figures(args, pairs)} if pairs else {}),
            "errors": errors,
        },
        args.json,
    )
    print(f"figures: {path}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="PostGIS database name or URL")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=1, help="per gthread worker")
    parser.add_argument("--seconds", type=float, default=30.0, help="per measured phase")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--pairs", type=int, default=3, help="timeline/ping pairs (pairs)")
    parser.add_argument(
        "--pair-seconds", type=float, default=10.0, help="each phase of a pair (pairs)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive clients")
    parser.add_argument("--members", type=int, default=200, help="logged in before the load")
    parser.add_argument("--login-concurrency", type=int, default=2)
    parser.add_argument("--login-rate", type=float, default=2.0, help="logins/s in phase 4")
    parser.add_argument("--post-share", type=float, default=0.05)
    parser.add_argument("--more-share", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--phases", nargs="+", choices=PHASES, default=list(PHASES),
        help="the measured phases to run (all by default; the summary needs timeline and ping)",
    )  # fmt: skip
    parser.add_argument(
        "--login-workers", type=int, default=2,
        help="workers of the login pool (GUNICORN_POOL=login); 0: no login pool",
    )  # fmt: skip
    parser.add_argument(
        "--preload", action="store_true",
        help="GUNICORN_PRELOAD=1: the app loaded once in each master, shared by its workers",
    )  # fmt: skip
    parser.add_argument(
        "--app-nice", type=int, default=0,
        help="GUNICORN_NICE of the app's pool (the login pool's stays 0)",
    )  # fmt: skip
    parser.add_argument(
        "--server-python", default=sys.executable,
        help="the Python that runs gunicorn (make bench: .venv-serve's, a deployment's "
        "packages without the test tools); this checkout's code either way (PYTHONPATH)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=OUT / "http_load.json")
    parser.add_argument(
        "--no-rate-limits", dest="rate_limits", action="store_false",
        help="RATELIMIT_ENABLED=0 (by default they are on, one proxy address per member)",
    )  # fmt: skip
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
