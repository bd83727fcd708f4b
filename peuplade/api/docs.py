"""``/api/docs``: the OpenAPI document, browsable (Swagger UI, vendored under static/)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from peuplade.access import public
from peuplade.headers import content_security_policy

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs")
@public
def docs():
    response = current_app.make_response(
        render_template("api/docs.html", spec_url=url_for("api.openapi"))
    )
    # Under /api/ answers get the API's "nothing may load" policy: this one page loads
    # the site's own scripts and styles, as every page does.
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app.config["MAP_TILE_URL"]
    )
    return response
