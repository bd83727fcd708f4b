"""gunicorn settings of Peuplade: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Read by docs/deployment.md's command and systemd unit, and by bench/http_load.py; a
setting given on the command line wins over this file (``--workers 8``...).

- ``GUNICORN_BIND`` (default ``127.0.0.1:8000``, behind the reverse proxy), and
  ``GUNICORN_WORKERS`` (default 4 sync workers; one PostgreSQL connection pool each,
  see docs/operations.md, "Monitoring").
- ``GUNICORN_POOL=login`` makes this gunicorn the **login pool**: a second gunicorn of
  the same app, on ``GUNICORN_LOGIN_BIND`` (default ``127.0.0.1:8001``) with
  ``GUNICORN_LOGIN_WORKERS`` sync workers (default 2), to which the reverse proxy sends
  the routes that run argon2 (``LOGIN_POOL_PATHS``: logging in, signing up, passwords,
  API tokens, closing an account). A password hash at the production cost takes a
  quarter of a second of CPU: in the pool that serves pages, a login waits behind
  every page queued before it, and pages wait behind logins. Its own workers keep
  each queue short (docs/deployment.md, "Logins on their own workers").
- ``GUNICORN_NICE`` (default 0): the workers lower their own CPU priority by this much
  (``os.nice``; 0-19). Set on the app's pool, with the login pool left at 0, it gives a
  login the CPU at once on a machine whose cores the pages keep busy: the login pool's
  own queue is short, but its workers still share the cores with the app's.
- ``GUNICORN_PRELOAD=1`` loads the app once in the master before forking the workers
  (``preload_app``), which then share its memory copy-on-write; off by default, because
  a preloaded master keeps the code it started with, so a release needs a restart of
  gunicorn (``systemctl restart``), not the ``kill -HUP`` of docs/operations.md. The
  hooks below make it safe: the garbage collector's objects are frozen before the fork
  (so collections in a worker do not copy the shared pages), and each worker forgets
  the database connection pools it inherited (none is opened while the app is built;
  disposing them is the guard SQLAlchemy documents for forked processes).
- ``timeout`` 30 s: a worker silent that long is killed and replaced (the database's
  ``statement_timeout`` ends queries before that). ``keepalive`` 5 s between requests
  of one connection (nginx's upstream ``keepalive`` reuses them).
- Request limits: gunicorn refuses, before the app ever sees it, a request line longer
  than ``limit_request_line``, more header fields than ``limit_request_fields`` or one
  longer than ``limit_request_field_size``. The longest request line the API's document
  allows is about 3.5 KB (a 200-character search in 4-byte UTF-8, percent-encoded, a
  500-character cursor, the other filters), so 8190 (gunicorn's most, nginx's default
  buffer) refuses no valid call.

What those refusals answer: gunicorn writes them itself, and by default as an HTML page
(``414 URI Too Long``, ``431 Request Header Fields Too Large``, ``400 Bad Request``).
Here they are written in the API's error shape instead, ``{"error": {"code",
"message"}}`` in JSON, and documented as such on every operation of the OpenAPI
document (``peuplade.api.openapi``): the request was never read, so gunicorn cannot
tell an API call from a page, and a browser that sends an 8 KB address gets the same
JSON - a rarer case than an API client's, which must be able to read the answer with
the parser it reads every other error with. ``tests/test_gunicorn_conf.py`` starts
gunicorn with this file and checks it.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os

from gunicorn import util

# The paths the reverse proxy sends to the login pool: each runs argon2 on POST (the
# page itself, on GET, is cheap and goes along). docs/deployment.md's nginx snippet and
# bench/http_load.py (which plays the proxy) read this list.
LOGIN_POOL_PATHS = (
    "/login",
    "/register",
    "/password/",  # prefix: /password/forgot, /password/reset/<token>
    "/account/password",
    "/account/delete",
    "/api/v1/tokens",
)
POOLS = ("app", "login")

pool = os.environ.get("GUNICORN_POOL", "") or "app"
if pool not in POOLS:
    raise SystemExit(f"GUNICORN_POOL must be one of {', '.join(POOLS)}, got {pool!r}.")
if pool == "login":
    bind = os.environ.get("GUNICORN_LOGIN_BIND", "127.0.0.1:8001")
    workers = int(os.environ.get("GUNICORN_LOGIN_WORKERS", "2"))
else:
    bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
    workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
proc_name = f"peuplade-{pool}"
worker_class = "sync"
preload_app = os.environ.get("GUNICORN_PRELOAD", "0") == "1"
nice = int(os.environ.get("GUNICORN_NICE", "0"))
if not 0 <= nice <= 19:
    raise SystemExit(f"GUNICORN_NICE must be between 0 and 19, got {nice}.")
timeout = 30
graceful_timeout = 30
keepalive = 5
# Reloads and stops go by signal to the master (``kill -HUP``, docs/operations.md); the
# control socket's default path is shared by every gunicorn of the user.
control_socket_disable = True

limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The errors gunicorn answers itself, in the API's shape (peuplade/errors.py).
ERROR_CODES = {
    400: "malformed",
    403: "forbidden",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}
ERROR_MESSAGES = {
    400: "Requête mal formée : le serveur ne peut pas la lire.",
    414: f"Adresse trop longue : {limit_request_line} caractères au plus pour la ligne de requête.",
    431: f"En-têtes trop nombreux ou trop longs : {limit_request_fields} au plus, de "
    f"{limit_request_field_size} caractères chacun.",
}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, answering JSON in the API's error shape."""
    code = ERROR_CODES.get(status_int, "bad_request" if status_int < 500 else "internal_error")
    message = ERROR_MESSAGES.get(status_int, reason)
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


# Read by the workers (gunicorn.workers.base.Worker.handle_error) when they refuse a
# request; set here, in the master, before they are forked.
util.write_error = write_json_error


def when_ready(server) -> None:
    """With ``preload_app``, the app is built: freeze every object the master holds, so
    that a worker's garbage collections never write to (and so copy) the pages it
    shares with the master."""
    if server.cfg.preload_app:
        gc.freeze()


# Blocks of this size or more are given back to the system when freed (glibc's
# M_MMAP_THRESHOLD). By default glibc raises that threshold to the size of the largest
# block freed, up to 32 MiB: once a worker has checked a password hashed with 19 MiB
# (argon2 at the OWASP minimum: older hashes, upgraded at login), every later check's
# 19 MiB comes from the heap, and stays in the worker for good (+19 MiB of RSS per
# worker, docs/SCALING.md). A fixed threshold keeps big blocks out of the heap.
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # <malloc.h>


try:  # loaded once, in the master: a worker's post_fork only calls it
    _LIBC = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc
    _LIBC = None


def give_big_blocks_back() -> bool:
    """Fix glibc's threshold (in each new worker); False where there is no glibc."""
    mallopt = getattr(_LIBC, "mallopt", None)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) if mallopt else False


def post_fork(server, worker) -> None:
    """A new worker lowers its priority by ``GUNICORN_NICE`` and gives big freed blocks
    back to the system (``give_big_blocks_back``). With ``preload_app``, it starts with
    the master's copy of the app: make it forget the connection pools it inherited (the
    primary's and the replicas'), without closing connections that would belong to the
    master (SQLAlchemy's ``dispose(close=False)``, the documented guard for forked
    processes)."""
    if nice:
        os.nice(nice)
    give_big_blocks_back()
    if not server.cfg.preload_app:
        return
    app = server.app.wsgi()
    for engine in _engines(app):
        engine.dispose(close=False)


def post_worker_init(worker) -> None:
    """The app is built in this worker (imported after the fork, or inherited from a
    preloading master): freeze every object it holds. CPython's full collections go
    through every object tracked; over the ~194,000 of a built app, each took ~100 ms
    (measured in docs/SCALING.md), a stall for the request being served whenever the
    objects kept since the last one (caches filling) reach a quarter of them. Frozen,
    the app's objects are left out: a full pass reads only what requests made since."""
    gc.freeze()


def _engines(app) -> list:
    """Every SQLAlchemy engine of a Peuplade app: Flask-SQLAlchemy's and the replicas'."""
    found = []
    extensions = getattr(app, "extensions", {})
    sqlalchemy = extensions.get("sqlalchemy")
    if sqlalchemy is not None:
        with app.app_context():
            found.extend(sqlalchemy.engines.values())
    replicas = extensions.get("peuplade.replicas")
    found.extend(replica.engine for replica in getattr(replicas, "replicas", ()))
    return found
