"""Deny by default: an HTML view is open to anonymous visitors only when marked."""

from __future__ import annotations


def public(view):
    """Mark a view as open to anonymous visitors (everything else is not)."""
    view.peuplade_public = True
    return view
