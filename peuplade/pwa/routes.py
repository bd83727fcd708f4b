"""The installed app's files: the manifest, the service worker, the offline page.

All three are public and hold nothing about the visitor: the manifest and the offline
page are the same for everyone in one language (the language is in their address: a
browser fetches a manifest without cookies), and the service worker is the same
script for everyone. The worker's cache names carry a version made from its own text
and from the shell's files, so a release that changes one of them installs a new
worker, which drops the old caches (templates/pwa/sw.js).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from peuplade.access import public
from peuplade.headers import OFFLINE_FORGET, OFFLINE_KEEP
from peuplade.pwa import icons

bp = Blueprint("pwa", __name__)

THEME_COLOUR = "#0b4f6c"  # --brand in static/css/peuplade.css, the favicon's blue
BACKGROUND_COLOUR = "#ffffff"  # --paper: the splash screen before the first page
# The static files every page needs to be drawn (base.html), kept by the worker when it
# is installed, with the offline page in each language.
SHELL_FILES = (
    "css/peuplade.css",
    "css/print.css",
    "favicon.svg",
    "js/counter.js",
    "js/share.js",
    "js/pwa.js",
)
_VERSION = "peuplade_pwa_version"


def _supported(lang: str) -> str:
    if lang not in current_app.config["BABEL_SUPPORTED_LOCALES"]:
        abort(404)
    return lang


@bp.get("/manifest.<lang>.webmanifest")
@public
def manifest(lang: str) -> Response:
    """The web app manifest (https://www.w3.org/TR/appmanifest/) in ``lang``."""
    with force_locale(_supported(lang)):
        home = url_for("neighbours.index")
        document = {
            # One app whatever the language it was installed in.
            "id": home,
            "name": _("Peuplade : l'entraide entre voisins"),
            "short_name": "Peuplade",
            "description": _(
                "Demandez ou offrez un coup de main, prêtez un objet, partagez une info "
                "ou une sortie avec les voisins de votre rue."
            ),
            "lang": lang,
            "dir": "ltr",
            "start_url": home,
            "scope": home,
            "display": "standalone",
            "background_color": BACKGROUND_COLOUR,
            "theme_color": THEME_COLOUR,
            "categories": ["social", "lifestyle"],
            "icons": [
                {
                    "src": url_for("static", filename=f"icons/{name}"),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                    "purpose": "maskable" if maskable else "any",
                }
                for name, (size, maskable) in icons.files().items()
            ],
        }
    response = current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=1),
        mimetype="application/manifest+json",
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sw.js")
@public
def service_worker() -> Response:
    """The service worker, served from the site's root so that its scope is the whole
    site, at one address whatever the page's language (``?lang=`` or any other query
    is ignored). Browsers check it for a new version at each visit (``no-cache``)."""
    languages = current_app.config["BABEL_SUPPORTED_LOCALES"]
    body = render_template(
        "pwa/sw.js",
        version=version(),
        shell=[url_for("static", filename=name) for name in SHELL_FILES]
        + [url_for("static", filename=f"icons/{name}") for name in icons.files()],
        offline={lang: url_for("pwa.offline", lang=lang) for lang in languages},
        default_language=current_app.config["BABEL_DEFAULT_LOCALE"],
        feed=url_for("neighbours.index"),
        logout=url_for("auth.logout"),
        login=url_for("auth.login"),
        forget_value=OFFLINE_FORGET,
        static_prefix=url_for("static", filename=""),
        timezone=current_app.config["TIMEZONE"],  # the zone of the note's day and hour
        # The header by which the feed's first page asks to be kept (peuplade.headers).
        keep_header=OFFLINE_KEEP[0],
        keep_value=OFFLINE_KEEP[1],
    )
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline/<lang>")
@public
def offline(lang: str) -> str:
    """What the worker shows for a page it cannot fetch: the same for everyone (it is
    kept before anyone is known), so it extends no template that shows the member."""
    with force_locale(_supported(lang)):
        return render_template("pwa/offline.html")


@bp.after_app_request
def what_the_worker_reads_on_a_page(response: Response) -> Response:
    """Every page shown to someone not logged in asks the service worker to forget the
    feed it kept: the session ended (elsewhere, or by its age), so what it kept was
    someone's who is no longer here. Every page says its language."""
    # The member as the request already loaded them (every page asks first, see
    # peuplade._register_access_control): never loaded here, where the database may be
    # the reason for this answer (a 503 page).
    if response.mimetype != "text/html":
        return response
    member = g.get("_login_user")
    # Not on a server error: the 503 of a database away stands an anonymous member in
    # for one still logged in (error_handlers.database_unavailable), whose kept feed is
    # then the very page to read.
    if member is not None and not member.is_authenticated and response.status_code < 500:
        response.headers.setdefault(OFFLINE_KEEP[0], OFFLINE_FORGET)
    # The page's language: the worker shows its offline page in the last one it saw.
    response.headers.setdefault("Content-Language", str(get_locale()))
    return response


def version() -> str:
    """A digest of the worker's template and of the shell's files: it changes when a
    release changes one of them, and only then (kept per app once computed)."""
    kept = current_app.extensions.get(_VERSION)
    if kept is None:
        digest = hashlib.sha256()
        static = Path(current_app.static_folder)
        templates = Path(current_app.root_path, current_app.template_folder)
        pages = ("pwa/sw.js", "pwa/offline.html", "bare.html")  # the offline page's frame
        sources = [templates / name for name in pages]
        sources += [static / name for name in SHELL_FILES]
        sources += [static / "icons" / name for name in icons.files()]
        # The offline page's words: a release that only changes a translation too.
        translations = Path(current_app.root_path).parent / "translations"
        sources += sorted(translations.glob("*/LC_MESSAGES/messages.mo"))
        for path in sources:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        kept = current_app.extensions[_VERSION] = digest.hexdigest()[:16]
    return kept
