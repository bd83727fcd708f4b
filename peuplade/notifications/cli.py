"""The notification jobs that cron runs: ``flask send-notifications`` (every few
minutes: due reminders, then every waiting email) and ``flask send-digests`` (daily)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from peuplade.notifications import mail, scheduled, services


@click.command("send-notifications")
@with_appcontext
def send_notifications_command() -> None:
    """Make the reminders that are due (loans due tomorrow or late, "still needed?"),
    tell the neighbours of new requests that no worker told yet, and send every
    notification email still waiting (retries included). Run by cron
    every few minutes."""
    made = scheduled.make_reminders()
    # Requests whose neighbours no worker told (one that stopped after the response).
    services.match_pending()
    report = mail.deliver()
    click.echo(
        f"{made['loan_due_tomorrow']} rappels « à rendre demain », "
        f"{made['loan_overdue']} rappels de retard, {made['nudge']} « toujours d'actualité ? » ; "
        f"{report.sent} emails envoyés, {report.failed} à réessayer, "
        f"{report.given_up} abandonnés."
    )
    if report.failed or report.given_up:
        raise SystemExit(1)


@click.command("send-digests")
@with_appcontext
def send_digests_command() -> None:
    """Send each member the daily digest of what they asked to receive that way (new
    requests near them that match their skills, by default). Run by cron once a day."""
    report = scheduled.send_digests()
    click.echo(f"{report.sent} résumés envoyés, {report.failed} à réessayer.")
    if report.failed:
        raise SystemExit(1)


COMMANDS = (send_notifications_command, send_digests_command)
