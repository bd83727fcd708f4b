"""What pages showing posts of every type say the same way: the kind of a news item, and
where a post reaches me ("tout le quartier", or the distance band)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from peuplade import geo, privacy
from peuplade.models import Member, Post

NEWS_KIND_LABELS = {
    "info": _l("Info"),
    "alerte": _l("Alerte"),
    "perdu_trouve": _l("Perdu / trouvé"),
    "vie_de_quartier": _l("Vie de quartier"),
}


class Bands:
    """The distance bands of one page's posts, from one viewer: the viewer's public
    position is read once for the page, not once per card. A band is always between two
    PUBLIC positions (the viewer's ``public_position``, the post's ``position``), and is
    exactly ``posts.queries.distance_band``'s (tests/test_fast_render.py)."""

    def __init__(self, viewer: Member):
        self.viewer_id = viewer.id
        self.here = geo.point_of(viewer.public_position)
        self._everywhere: str | None = None

    def band(self, post: Post) -> str | None:
        """The band between the viewer and the post."""
        if self.here is None:
            return None
        return privacy.band_between(self.here, geo.point_of(post.position))

    def band_of_others(self, post: Post) -> str | None:
        """The band, none for the viewer's own post (lists do not say how far I am)."""
        return None if post.author_id == self.viewer_id else self.band(post)

    def where(self, post: Post) -> str | None:
        """ "Tout le quartier" for quartier news, else the band (none for my own)."""
        if post.quartier_id is not None:
            if self._everywhere is None:
                self._everywhere = _("tout le quartier")
            return self._everywhere
        return self.band_of_others(post)


def where_shown(viewer: Member, post: Post) -> str | None:
    """ "Tout le quartier" for quartier news, else the distance band (none for my own).
    For a list, make one :class:`Bands` for the page."""
    return Bands(viewer).where(post)
