"""``flask privacy-refresh``: the daily cron job that updates the privacy cells' crowds
and moves members to finer or coarser public positions (account/blur.py)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from peuplade.account import blur
from peuplade.extensions import db


@click.command("privacy-refresh")
@with_appcontext
def privacy_refresh_command() -> None:
    """Note which privacy cells hold enough established members (and since when), and
    show members in a finer cell once its crowd has held for PRIVACY_STABLE_DAYS: the
    only way a public position becomes finer (docs/privacy.md). Run by cron once a day."""
    summary = blur.refresh_all(commit_batches=True)
    db.session.commit()
    click.echo(
        f"{summary.crowded} carrés assez peuplés ({summary.newly_crowded} nouveaux), "
        f"{summary.qualified} stables ; {summary.finer} membres montrés plus précisément, "
        f"{summary.coarser} plus largement."
    )


COMMANDS = (privacy_refresh_command,)
