"""The OpenAPI document of /api/v1, served: as JSON (``GET /api/v1/openapi.json``, a view
of the API blueprint) and browsable (``/api/docs``, Swagger UI, vendored under static/).

``create_app`` imports this module after every feature's API module: the document's own
route comes last, as it always did.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l

from peuplade.access import public
from peuplade.api import bp as api_bp
from peuplade.api.openapi import document, operation
from peuplade.api.schemas import OpenApiDocument
from peuplade.headers import content_security_policy

bp = Blueprint("api_docs", __name__)


@api_bp.get("/openapi.json")
@operation(
    _l("Ce document OpenAPI"),
    public=True,
    responses={200: OpenApiDocument},
)
def openapi():
    return document(current_app)


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
