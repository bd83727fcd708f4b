"""A PostgreSQL cluster of a test's own (initdb + pg_ctl on a temporary folder and a
free loopback port), for tests that stop or restart the server: the machine's shared
server is never touched. Used by tests/test_db_down.py and tests/test_fault_restart.py;
tests/test_replicas.py adds a streaming replica: ``Cluster(primary=pg)``, a copy made
with ``pg_basebackup -R`` that follows the primary.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.conftest import _pg_bin
from tests.helpers.servers import free_port


class Cluster:
    """``with Cluster() as pg:`` starts it; leaving the block stops it and removes its
    folder, whatever happened inside."""

    def __init__(self, settings: dict[str, str] | None = None, primary: Cluster | None = None):
        # Server settings given at each start (-c name=value); a replica's own are kept
        # apart from its primary's, which pg_basebackup would not copy anyway.
        self.settings = dict(settings or {})
        self.primary = primary
        self.folder = Path(tempfile.mkdtemp(prefix="peuplade-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        # initdb refuses to run as root: the cluster then belongs to the postgres user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, "postgres")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, **kwargs
        )

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._as, _pg_bin("pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
        )

    def __enter__(self) -> Cluster:
        try:
            if self.primary is not None:
                self._base_backup()
                self.start()
                return self
            subprocess.run(
                [
                    *self._as,
                    _pg_bin("initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
            )
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _base_backup(self) -> None:
        # -R: standby.signal and primary_conninfo, so it starts as a streaming replica.
        # initdb's pg_hba.conf already trusts replication connections from 127.0.0.1.
        subprocess.run(
            [
                *self._as,
                _pg_bin("pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary.port),
                "-U",
                "postgres",
                "-D",
                str(self.data),
                "-R",
                "-X",
                "stream",
                "--no-sync",
                "-c",
                "fast",
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        extra = "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._pg_ctl(
            "-w",
            "-l",
            str(self.folder / "log"),
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1{extra}",
            "start",
        )

    # --- a replica's replay ------------------------------------------------------

    def pause_replay(self) -> None:
        with self.connect(autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self.connect(autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def wait_replayed(self, timeout_s: float = 30) -> None:
        """Wait until this replica has replayed everything its primary wrote so far."""
        with self.primary.connect(autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout_s
        with self.connect(autocommit=True) as conn:
            while True:
                behind = conn.execute(
                    "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0", (target,)
                ).fetchone()[0]
                if not behind:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError("the replica did not catch up")
                time.sleep(0.05)

    def stop(self) -> None:
        """Fast shutdown: open transactions are rolled back, sessions cut."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: returns once the server accepts connections."""
        # -l again: else the new server would write to our pipe and hold it open.
        self._pg_ctl("-w", "-l", str(self.folder / "log"), "-m", "fast", "restart")

    def create_database(self, name: str) -> str:
        """A database with PostGIS in it; returns its SQLAlchemy URL."""
        with self.connect(autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with self.connect(name, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        return self.url(name)

    def __exit__(self, *_exc) -> None:
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            stopped = subprocess.run(
                [*self._as, _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )
            if stopped.returncode != 0 and pid_file.exists():
                # Our own postmaster, by the PID it wrote: SIGQUIT is an immediate stop.
                with contextlib.suppress(ValueError, OSError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(self.folder, ignore_errors=True)
