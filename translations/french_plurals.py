"""Fill the French catalogue's plural entries with the French source text itself.

The sources are written in French, so the French catalogue translates nothing: it only
brings French plural rules (``Plural-Forms``: 0 and 1 take the singular, "0 réponse").
Without it, gettext falls back to the source strings with English rules ("0 réponses").
Every ``ngettext`` entry gets its singular for the first form and its plural for the
others; other entries stay empty (gettext shows the source). ``make translations`` runs
this after ``pybabel update``; tests/test_i18n.py checks it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

FR_PO = Path(__file__).resolve().parent / "fr" / "LC_MESSAGES" / "messages.po"


def fill(path: Path = FR_PO) -> int:
    """Fill ``path`` in place; the number of plural entries."""
    with path.open("rb") as f:
        catalog = read_po(f, locale="fr")
    count = 0
    for message in catalog:
        if message.id and message.pluralizable:
            singular, plural = message.id[0], message.id[1]
            message.string = (singular, *[plural] * (catalog.num_plurals - 1))
            message.flags.discard("fuzzy")
            count += 1
    with path.open("wb") as f:
        write_po(f, catalog, width=76)
    return count


if __name__ == "__main__":
    sys.stdout.write(f"{fill()} French plural entries filled in {FR_PO}\n")
