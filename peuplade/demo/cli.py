"""``flask seed-demo``: the demo neighbourhood (17th arrondissement of Paris) in one
transaction. It imports the quartiers and public places first when the database has
none (peuplade/geodata.py), then runs the builder (peuplade/demo/seed.py).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from peuplade import geodata
from peuplade.commands import CommandFailed, require_schema
from peuplade.config import ROOT
from peuplade.demo import seed
from peuplade.extensions import db
from peuplade.models import Place, Quartier

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


COMMANDS = (seed_demo_command,)
