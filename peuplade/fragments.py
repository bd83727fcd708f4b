"""Rendered pieces of pages, kept in the worker by EVERYTHING they show.

A timeline card is the same HTML for every neighbour who sees it in the same language
at the same distance band: rendering it again on each page view is most of a page's
Python (docs/SCALING.md). A fragment is kept under a key made of every value it is
rendered from (the card's fields, its band and label, the language...), so a kept
fragment can never be stale: a changed title, name or photo makes a new key, and the
old entry simply ages out. Nothing is ever invalidated, nothing is shared between
workers, and a fragment never holds anything about the viewer but what is in its key.

Each app has its own store (``app.extensions``), bounded by ``FRAGMENT_CACHE_SIZE``
entries (least recently used leave first; 0 turns the store off).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import Flask, current_app
from markupsafe import Markup

_EXTENSION = "peuplade_fragments"


class Fragments:
    """At most ``size`` fragments, least recently used out first; thread-safe (gthread
    workers share one store between their threads)."""

    def __init__(self, size: int):
        self.size = size
        self._kept: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Markup | None:
        if not self.size:
            return None
        with self._lock:
            html = self._kept.get(key)
            if html is not None:
                self._kept.move_to_end(key)
            return html

    def keep(self, key: Hashable, html: Markup) -> Markup:
        """Keep ``html`` under ``key`` and return it (``{{ keep(key, macro(...)) }}``)."""
        if self.size:
            with self._lock:
                self._kept[key] = html
                self._kept.move_to_end(key)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return html

    def __len__(self) -> int:
        return len(self._kept)


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = Fragments(int(app.config.get("FRAGMENT_CACHE_SIZE", 0)))
    # For any template: ``{{ kept_fragment(key) or keep_fragment(key, macro(...)) }}``.
    app.jinja_env.globals["kept_fragment"] = lambda key: store().get(key)
    app.jinja_env.globals["keep_fragment"] = lambda key, html: store().keep(key, html)


def store() -> Fragments:
    """The current app's store."""
    return current_app.extensions[_EXTENSION]
