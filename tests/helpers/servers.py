"""Real servers for tests: a free loopback port, and gunicorn started as deployed.

``gunicorn(env, log)`` runs ``gunicorn -c gunicorn.conf.py wsgi:app`` from the
repository root with the environment ``deployed_env`` builds (production, one worker,
bound to a free loopback port), waits until ``/healthz`` answers, yields the port, and
stops it by its PID at the end.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from peuplade.config import ROOT

START_TIMEOUT_S = 60


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deployed_env(port: int, **settings: str) -> dict[str, str]:
    """The environment of the app as deployed: this process's without its PEUPLADE_ and
    FLASK_ variables; production, the offline geocoder, e-mails to the log, gunicorn on
    127.0.0.1:``port`` with one worker; then ``settings`` (SECRET_KEY, DATABASE_URL...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEUPLADE_", "FLASK_"))}
    env.update(
        PEUPLADE_ENV="production",
        PUBLIC_URL="https://peuplade.example",
        GEOCODER="offline",
        MAIL_BACKEND="log",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
    )
    env.update(settings)
    return env


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status == 200
    finally:
        connection.close()


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path) -> Iterator[int]:
    """gunicorn with the project's gunicorn.conf.py and ``env`` (see ``deployed_env``),
    its output in ``log_path``, until the block ends. Yields its port."""
    port = int(env["GUNICORN_BIND"].rsplit(":", 1)[1])
    log = open(log_path, "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {log_path.read_text()[-2000:]}")
            try:
                if _healthy(port):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield port
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
