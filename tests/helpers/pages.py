"""Reading an HTML page as a member sees it."""

from __future__ import annotations

import html
import re


def text_of(fragment: str) -> str:
    """The text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def visible_text(page: str) -> str:
    """What a reader sees: :func:`text_of` without what scripts and styles hold."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return text_of(page)


def field_error(page: str, field_id: str) -> str:
    """The error shown next to a field ('' when none)."""
    found = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page, re.S)
    return text_of(found.group(1)) if found else ""


def input_value(page: str, field_id: str) -> str | None:
    """The value an input shows (None when it has none); the input must be there."""
    tag = re.search(rf'<input [^>]*id="{field_id}"[^>]*>', page)
    assert tag, f"no input with id {field_id}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def more_link(page: str) -> str | None:
    """The target of a list's "Voir plus" link (the next page), None on the last page."""
    found = re.search(r'<a class="button" rel="next"\s+href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def coordinate_strings(*points: tuple[float, float]) -> set[str]:
    """Ways a coordinate could be written into a page, to 4 decimals or more."""
    found = set()
    for lat, lon in points:
        for value in (lat, lon):
            found |= {repr(value), f"{value:.4f}", f"{value:.5f}", f"{value:.6f}"}
            found.add(str(value)[: str(value).index(".") + 5])  # truncated to 4 decimals
    return found


def checked_value(page: str, name: str) -> str | None:
    """The value of the checked radio button named ``name`` (None when none is)."""
    for tag in re.findall(rf'<input [^>]*name="{name}"[^>]*>', page):
        if re.search(r"\bchecked\b", tag) and 'type="radio"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            return html.unescape(value.group(1)) if value else ""
    return None
