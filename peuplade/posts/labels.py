"""What pages showing posts of every type say the same way: the kind of a news item, and
where a post reaches me ("tout le quartier", or the distance band)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from peuplade.models import Member, Post
from peuplade.posts.queries import distance_band

NEWS_KIND_LABELS = {
    "info": _l("Info"),
    "alerte": _l("Alerte"),
    "perdu_trouve": _l("Perdu / trouvé"),
    "vie_de_quartier": _l("Vie de quartier"),
}


def where_shown(viewer: Member, post: Post) -> str | None:
    """ "Tout le quartier" for quartier news, else the distance band (none for my own)."""
    if post.quartier_id is not None:
        return _("tout le quartier")
    if post.author_id == viewer.id:
        return None
    return distance_band(viewer, post)
