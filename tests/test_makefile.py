"""The Makefile's installs: `make run` installs what running needs (`pip install -e .`),
never the test tools (~500 MB); `make test` adds them; the stamps in the virtualenv keep
either order right and install nothing twice. Read with `make -n` (nothing is run:
the virtualenv is a temporary folder)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from peuplade.config import ROOT

RUN_INSTALL = re.compile(r"pip install .*-e \.$", re.M)
TEST_INSTALL = re.compile(r"pip install .*-e '\.\[test\]'", re.M)


def make_n(venv: Path, *targets: str, **variables: str) -> str:
    """What `make -n` would do with ``venv`` as the virtualenv (spatialite's check runs
    the virtualenv's Python: with none there, its apt step is only printed)."""
    args = [f"{name}={value}" for name, value in {"VENV": str(venv), **variables}.items()]
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", *targets, *args],
        cwd=ROOT,
        env={**os.environ, "MAKEFLAGS": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def stamp(path: Path) -> None:
    """A stamp newer than setup.cfg and pyproject.toml."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    newest = max((ROOT / n).stat().st_mtime for n in ("setup.cfg", "pyproject.toml"))
    later = max(newest, time.time()) + 60
    os.utime(path, (later, later))


def test_make_run_installs_the_app_without_the_test_tools(tmp_path):
    planned = make_n(tmp_path / "venv", "run")
    assert RUN_INSTALL.search(planned)
    assert "[test]" not in planned


def test_make_test_installs_the_test_tools_and_the_suite_runs_after(tmp_path):
    planned = make_n(tmp_path / "venv", "install-test")
    assert RUN_INSTALL.search(planned) and TEST_INSTALL.search(planned)
    rules = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: install-test\b", rules, re.M)


def test_after_make_run_make_test_adds_only_the_test_tools(tmp_path):
    stamp(tmp_path / "venv" / ".installed-run")
    planned = make_n(tmp_path / "venv", "install-test")
    assert TEST_INSTALL.search(planned) and not RUN_INSTALL.search(planned)


def test_after_make_test_make_run_installs_nothing(tmp_path):
    stamp(tmp_path / "venv" / ".installed-run")
    stamp(tmp_path / "venv" / ".installed-test")
    assert "pip install" not in make_n(tmp_path / "venv", "run")
    assert "pip install" not in make_n(tmp_path / "venv", "install-test")


def test_make_run_serves_on_host_and_port_and_the_app_knows_them(tmp_path):
    planned = make_n(tmp_path / "venv", "run", HOST="0.0.0.0", PORT="5093")
    (serve,) = [line for line in planned.splitlines() if "flask run" in line]
    assert "FLASK_RUN_HOST=0.0.0.0 FLASK_RUN_PORT=5093" in serve
