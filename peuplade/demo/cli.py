"""``flask seed-demo``: the demo neighbourhood (17th arrondissement of Paris) in one
transaction. It imports the quartiers and public places first when the database has
none (peuplade/geodata.py), then runs the builder (peuplade/demo/seed.py).

In development, ``flask run`` (``make run``) ends its start-up with a banner: the
address to open and the demo login, after werkzeug's own lines (``announce_when_serving``,
called by wsgi.py).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from peuplade import geodata
from peuplade.account import queries as accounts
from peuplade.commands import CommandFailed, require_schema
from peuplade.config import ROOT
from peuplade.demo import seed
from peuplade.extensions import db
from peuplade.models import Place, Quartier
from peuplade.validation import normalise_email

DEMO_PASSWORD = "voisins de la rue des Dames"  # noqa: S105 - public, documented demo password
DEFAULT_QUARTIERS = ROOT / "data" / "quartiers-paris.geojson"
DEFAULT_MEMBERS = ROOT / "data" / "demo-members.json"
DEFAULT_PLACES = ROOT / "data" / "places-paris.geojson"
DEFAULT_EXCHANGES = ROOT / "data" / "demo-exchanges.json"
DEFAULT_ITEMS = ROOT / "data" / "demo-items.json"
DEFAULT_NEWS = ROOT / "data" / "demo-news.json"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@click.command("seed-demo")
@click.option(
    "--password",
    default=DEMO_PASSWORD,
    show_default=True,
    help="Mot de passe commun des membres de démonstration.",
)
@click.option(
    "--members",
    "members_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_MEMBERS,
    show_default=True,
)
@click.option(
    "--quartiers",
    "quartiers_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_QUARTIERS,
    show_default=True,
    help="Quartiers importés d'abord si la base n'en contient aucun.",
)
@click.option(
    "--places",
    "places_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_PLACES,
    show_default=True,
    help="Lieux publics (stations Vélib') importés d'abord si la base n'en contient aucun.",
)
@click.option(
    "--exchanges",
    "exchanges_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_EXCHANGES,
    show_default=True,
)
@click.option(
    "--items",
    "items_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_ITEMS,
    show_default=True,
    help="Objets à prêter et leurs prêts.",
)
@click.option(
    "--news",
    "news_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_NEWS,
    show_default=True,
    help="Infos du quartier (avec commentaires) et sorties (avec réponses).",
)
@click.option("--force", is_flag=True, help="Autoriser en production (déconseillé).")
@with_appcontext
def seed_demo_command(
    password: str,
    members_path: Path,
    quartiers_path: Path,
    places_path: Path,
    exchanges_path: Path,
    items_path: Path,
    news_path: Path,
    force: bool,
) -> None:
    """Charger le voisinage de démonstration (17e arrondissement de Paris)."""
    if current_app.config["PEUPLADE_ENV"] == "production" and not force:
        raise CommandFailed(
            "PEUPLADE_ENV=production : les membres de démonstration n'ont rien à faire en "
            "production. Ajoutez --force si vous le voulez vraiment."
        )
    require_schema("quartiers", "places", "exchanges", "items", "loans", "news_posts", "events")
    try:
        imported = places = None
        if _count(Quartier) == 0:
            imported = geodata.import_quartiers(quartiers_path)
        if _count(Place) == 0:
            places = geodata.import_places(places_path)
        created, skipped, email = seed.seed_demo(password, members_path)
        posted, present = seed.seed_demo_exchanges(exchanges_path)
        offered, shelved, lent = seed.seed_demo_items(items_path)
        news, events, answers, announced = seed.seed_demo_news(news_path)
        seed.settle_demo_notifications()
        seed.skip_demo_emails()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if imported:
        click.echo(f"{sum(imported)} quartiers importés ({imported[0]} nouveaux, 0 mis à jour).")
    if places:
        click.echo(f"{sum(places)} lieux publics importés ({places[0]} nouveaux, 0 mis à jour).")
    click.echo(f"{created} membres de démonstration créés, {skipped} déjà présents.")
    click.echo(f"{posted} échanges de démonstration créés, {present} déjà présents.")
    click.echo(f"{offered} objets de démonstration créés ({lent} prêts), {shelved} déjà présents.")
    click.echo(
        f"{news} infos et {events} sorties de démonstration créées "
        f"({answers} commentaires et réponses), {announced} déjà présentes."
    )
    if email:
        click.echo(f"Connectez-vous avec {email} et le mot de passe « {password} ».")


# The last line werkzeug writes when `flask run` has started (werkzeug/serving.py).
SERVER_STARTED = "Press CTRL+C to quit"


def demo_login(members_path: Path = DEFAULT_MEMBERS) -> str | None:
    """The demo member to log in as (the first of the members file), if the database
    holds them (``flask seed-demo`` has run); None otherwise."""
    try:
        people = json.loads(members_path.read_text(encoding="utf-8"))["members"]
        email = normalise_email(people[0]["email"])
    except (OSError, ValueError, LookupError, TypeError):
        return None
    try:
        member = accounts.member_by_email(email)
    except SQLAlchemyError:  # no database yet, or no tables: say nothing of a login
        db.session.rollback()
        return None
    finally:
        db.session.remove()
    return email if member is not None else None


def banner(url: str, email: str | None, password: str = DEMO_PASSWORD) -> str:
    """The lines that end `make run`'s start-up: where to go, and who to be."""
    lines = [f"Peuplade est prêt : ouvrez {url}"]
    if email:
        lines += [
            f"Compte de démonstration : {email}",
            f"Mot de passe : {password}",
        ]
    lines.append("Ctrl+C pour arrêter.")
    rule = "=" * max(len(line) for line in lines)
    return "\n".join(["", rule, *lines, rule, ""])


class _Announce(logging.Filter):
    """Adds the banner to werkzeug's last start-up line, once."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app
        self.done = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.done and SERVER_STARTED in record.getMessage():
            self.done = True
            with self.app.app_context():
                text = banner(self.app.config["PUBLIC_URL"], demo_login())
            record.msg, record.args = f"{record.getMessage()}\n{text}", ()
        return True


def announce_when_serving(app: Flask) -> None:
    """In development: the banner after werkzeug's start-up lines (``flask run``)."""
    if app.config["PEUPLADE_ENV"] != "development":
        return
    werkzeug = logging.getLogger("werkzeug")
    for old in [f for f in werkzeug.filters if isinstance(f, _Announce)]:
        werkzeug.removeFilter(old)
    werkzeug.addFilter(_Announce(app))


COMMANDS = (seed_demo_command,)
