"""``flask purge-old-data``: the daily cron job that deletes what the privacy policy
(/privacy) says is kept no longer (gdpr/services.py ``purge_old_data``)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from peuplade.extensions import db
from peuplade.gdpr import services


@click.command("purge-old-data")
@with_appcontext
def purge_old_data_command() -> None:
    """Delete what the privacy policy (/privacy) says is kept no longer: notifications
    after a year, expired password resets, ended sessions, expired or revoked API
    tokens, old home changes (of deleted accounts too), handled reports and the
    moderation log after a year, photos kept a day for a form never sent. Run by cron
    once a day."""
    counts = services.purge_old_data()
    db.session.commit()
    click.echo("Lignes effacées : " + ", ".join(f"{table} {n}" for table, n in counts.items()))


COMMANDS = (purge_old_data_command,)
