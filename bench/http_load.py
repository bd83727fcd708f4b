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

Phases, all on the same server:

1. log in K members through the real form (GET /login for the CSRF token, POST);
2. warm-up, not measured;
3. "timeline": C keep-alive clients, each acting for its share of the members:
   ~95 % GET /timeline (a quarter of them following the page's "Voir plus" link),
   ~5 % POST /exchanges/new (a real form post with its CSRF token);
4. "timeline + logins": the same, plus new members logging in at a fixed rate
   (open loop: a slow server does not slow the arrivals down);
5. "ping": the same clients and members on /bench/ping.

It prints, per phase and route, requests, requests/s, p50/p95/p99 and errors (an
exception or a status other than the expected one: a timeline answered by a redirect to
the login page is an error); the CPU seconds spent by the client, the gunicorn
processes, the PostgreSQL backends serving gunicorn and the whole machine (what limited
the throughput); each worker's RSS after the load. Exit status 1 if any error happened.

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
import secrets
import signal
import socket
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
    from _common import database_url, render
    from generate import PASSWORD, member_email
except ImportError:
    from bench._common import database_url, render
    from bench.generate import PASSWORD, member_email

ROOT = Path(__file__).resolve().parent.parent
WSGI_APP = "bench.http_app:app"
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


class Client:
    """One keep-alive connection that acts for whichever member it is given, with the
    headers the reverse proxy of docs/deployment.md adds."""

    def __init__(self, port: int) -> None:
        self.host = f"127.0.0.1:{port}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

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
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            page = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        seconds = time.perf_counter() - start
        member.keep_cookies(response.headers.get_all("Set-Cookie") or [])
        return response.status, page, seconds

    def close(self) -> None:
        self.conn.close()


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
    stats.call(client, PING, member, "GET", "/bench/ping", 200)


@dataclass(frozen=True)
class Mix:
    post_share: float
    more_share: float


# -- load generation -------------------------------------------------------------------


def closed_loop(
    port: int,
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
        client, rng, mine = Client(port), random.Random(seed * 1000 + i), members[i::concurrency]
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


def login_all(port: int, members: list[Member], concurrency: int) -> Stats:
    """Log every member in, ``concurrency`` at a time (each on its own connection)."""
    results = [Stats() for _ in range(concurrency)]

    def worker(i: int) -> None:
        client = Client(port)
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
def login_stream(port: int, members: Iterator[Member], rate: float) -> Iterator[Stats]:
    """New members logging in at ``rate`` a second (open loop), each from a new
    connection, while the body of the ``with`` runs; waits for the last ones."""
    stats, lock, stop = Stats(), threading.Lock(), threading.Event()

    def one(member: Member) -> None:
        mine, client = Stats(), Client(port)
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
    """CPU seconds of the client, gunicorn (master + workers), the PostgreSQL backends
    serving gunicorn (found in pg_stat_activity by their application_name: other jobs
    may query the same database) and the whole machine."""

    def __init__(self, url: str, master: int, application_name: str) -> None:
        self.master = master
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
        server = [self.master, *children(self.master)]
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


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# -- gunicorn --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def application_name() -> str:
    """How the server's PostgreSQL connections name themselves (see CpuMeter)."""
    return f"bench-http-{os.getpid()}"


def server_environment(url: str, rate_limits: bool) -> dict[str, str]:
    """The environment of docs/deployment.md, on the bench database. Emails are logged
    (MAIL_BACKEND=log), addresses found offline: the bench never leaves the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEUPLADE_", "FLASK_"))}
    env.update(
        PEUPLADE_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=render(
            make_url(url).update_query_dict({"application_name": application_name()})
        ),
        PUBLIC_URL="https://bench.example",
        TRUSTED_PROXIES="1",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
        RATELIMIT_ENABLED="1" if rate_limits else "0",
        BENCH_RATELIMIT_PREFIX=f"peuplade-bench-http-{secrets.token_hex(4)}",
        GEOCODER="offline",
        MAIL_BACKEND="log",
    )
    return env


@contextmanager
def gunicorn(args: argparse.Namespace, url: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """gunicorn serving bench.http_app on a free loopback port, until the block ends;
    stopped by its PID (TERM, then KILL)."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn",
        "--config", str(ROOT / "gunicorn.conf.py"),
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.threads),
        "--bind", f"127.0.0.1:{port}",
        "--keep-alive", "75",  # longer than any pause of the load (nginx's default is 75)
        "--timeout", "120",
        "--graceful-timeout", "10",
        "--no-control-socket",  # its default path is shared by every gunicorn of the user
        WSGI_APP,
    ]  # fmt: skip
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_environment(url, args.rate_limits),
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
        f"  {'phase':<26}{'wall':>7}{'client':>8}{'gunicorn':>10}{'postgres':>10}"
        f"{'machine':>9}{'idle':>7}{'req/server CPU-s':>18}"
    )
    for p in phases:
        c = p.cpu
        idle = max(0.0, cores * c.wall - c.machine)
        # Requests per CPU second of gunicorn + PostgreSQL: comparable between runs even
        # when other jobs take part of the machine.
        requests = sum(len(v) for v in p.stats.latencies.values())
        print(
            f"  {p.name:<26}{c.wall:>7.1f}{c.client:>8.1f}{c.gunicorn:>10.1f}"
            f"{c.postgres:>10.1f}{c.machine:>9.1f}{idle:>7.1f}"
            f"{requests / max(c.gunicorn + c.postgres, 1e-9):>18.1f}"
        )


def print_summary(
    args: argparse.Namespace, logins: Stats, alone: Phase, busy: Phase, trivial: Phase
) -> None:
    ratio = alone.throughput(TIMELINE_ROUTES) / trivial.throughput((PING,))
    print(
        f"\ntimeline load throughput / ping throughput: {ratio:.3f} "
        f"({alone.throughput(TIMELINE_ROUTES):.1f} vs {trivial.throughput((PING,)):.1f} req/s)"
    )
    page_routes = (TIMELINE, MORE)
    print(
        f"timeline pages p95: {alone.p95_ms(page_routes):.1f} ms alone, "
        f"{busy.p95_ms(page_routes):.1f} ms with {args.login_rate:g} logins/s"
    )
    for label, stats in (
        (f"before the load, {args.login_concurrency} at a time", logins),
        (f"during the timeline load, {args.login_rate:g}/s", busy.stats),
    ):
        s = sorted(stats.latencies.get(LOGIN, []))
        print(
            f"login POST p50/p95 ({label}): {percentile(s, 50) * 1000:.0f} / "
            f"{percentile(s, 95) * 1000:.0f} ms over {len(s)} logins, "
            f"{stats.errors.get(LOGIN, 0) + stats.errors.get('GET /login', 0)} errors"
        )


def print_rss(master: int) -> None:
    workers = sorted(children(master))
    sizes = ", ".join(f"{pid}: {rss_mib(pid) or 0:.0f} MiB" for pid in workers)
    print(f"gunicorn RSS after the load: master {rss_mib(master) or 0:.0f} MiB; workers {sizes}")


# -- main ------------------------------------------------------------------------------


def measured(name: str, meter: CpuMeter, run: Callable[[], Stats]) -> Phase:
    before = meter.snapshot()
    stats = run()
    return Phase(name, stats, CpuUse.between(before, meter.snapshot()))


def describe(args: argparse.Namespace, url: str, log_path: Path) -> None:
    threads = f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    limits = "ON (Redis; one proxy address per member)" if args.rate_limits else "OFF"
    print(
        f"gunicorn: {args.workers} {args.worker_class} workers{threads}, "
        f"PEUPLADE_ENV=production, rate limits {limits}; log {log_path}"
    )
    print(
        f"database: {make_url(url).database}; {args.members} members, C={args.concurrency} "
        f"clients, {args.seconds:g} s per phase, {args.post_share:.0%} posts, seed {args.seed}"
    )


def run(args: argparse.Namespace) -> int:
    url = database_url("postgis", args.db)
    spare = math.ceil(args.login_rate * args.seconds) * 2 + 20  # for the login stream
    ids = eligible_members(url, args.members + spare, args.seed)
    members = [Member(i) for i in ids[: args.members]]
    newcomers = iter(Member(i) for i in ids[args.members :])
    mix = Mix(args.post_share, args.more_share)
    log_path = Path(tempfile.gettempdir()) / f"bench-http-gunicorn-{os.getpid()}.log"
    describe(args, url, log_path)
    with gunicorn(args, url, log_path) as server:
        port = server.port  # type: ignore[attr-defined]
        meter = CpuMeter(url, server.pid, application_name())
        try:
            logins = login_all(port, members, args.login_concurrency)
            members = [m for m in members if m.logged_in]
            closed_loop(port, members, args.concurrency, args.warmup, browse, mix, args.seed)

            def load(step=browse) -> Callable[[], Stats]:
                return lambda: closed_loop(
                    port, members, args.concurrency, args.seconds, step, mix, args.seed
                )

            def with_logins() -> Stats:
                with login_stream(port, newcomers, args.login_rate) as stream:
                    stats = load()()
                stats.merge(stream)
                return stats

            alone = measured("timeline", meter, load())
            busy = measured("timeline + logins", meter, with_logins)
            trivial = measured("ping", meter, load(ping))
            phases = [alone, busy, trivial]
            print(f"\nlogins before the load: {len(members)} of {args.members} logged in")
            for phase in phases:
                print_phase(phase)
            print_summary(args, logins, alone, busy, trivial)
            print_cpu(phases, os.cpu_count() or 1)
            print_rss(server.pid)
        finally:
            meter.close()
    errors = logins.total_errors() + sum(p.stats.total_errors() for p in phases)
    for sample in [s for p in phases for s in p.stats.samples] + logins.samples:
        print(f"  error: {sample}")
    print(f"errors: {errors}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="PostGIS database name or URL")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=1, help="per gthread worker")
    parser.add_argument("--seconds", type=float, default=30.0, help="per measured phase")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive clients")
    parser.add_argument("--members", type=int, default=200, help="logged in before the load")
    parser.add_argument("--login-concurrency", type=int, default=2)
    parser.add_argument("--login-rate", type=float, default=2.0, help="logins/s in phase 4")
    parser.add_argument("--post-share", type=float, default=0.05)
    parser.add_argument("--more-share", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-rate-limits", dest="rate_limits", action="store_false",
        help="RATELIMIT_ENABLED=0 (by default they are on, one proxy address per member)",
    )  # fmt: skip
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
