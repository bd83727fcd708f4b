"""``/publish``: what would you like to post? One chooser for every kind, each leading to
its own form. ``/more``: the pages that are not in the main navigation, grouped and
explained. Both for members only (deny by default, peuplade.access)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("home", __name__)


@bp.route("/publish")
def publish():
    return render_template("home/publish.html")


@bp.route("/more")
def more():
    return render_template("home/more.html")
