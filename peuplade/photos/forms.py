"""The photos part of a post's form, shared by the objects', exchanges', news' and
outings' forms (templates/macros/photo_fields.html).

A file is cleaned as soon as it is read (photos.processing: pixels only, no metadata);
while another field is refused, the clean ones are kept, staged for the form's
submission key, so nothing is chosen twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField

from peuplade import database
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.forms import add_error
from peuplade.models import ALT_MAX, Member, Photo, Post
from peuplade.photos import processing
from peuplade.photos import services as photo_services
from peuplade.posts.services import published_with
from peuplade.submissions import clean_submission_key, new_submission_key
from peuplade.validation import checked_text

# What the file input offers (the server judges by content; HEIC has no MIME type on
# some systems, hence the extensions).
PHOTO_ACCEPT = processing.FILE_INPUT_ACCEPT
PHOTO_MAX_BYTES = processing.MAX_BYTES
# Form names: the files, the descriptions of the new ones (in order), the description of
# a photo already there, and the photos to remove.
NEW_ALT = "photo_alt"
ALT_OF = "photo_alt_{}"
REMOVE = "photo_remove"
FILE_NAME_SHOWN = 60
# Files read from one sending beyond the post's limit: a few more are kept to be chosen
# from (nothing lost), but decoding is costly, so a form stuffed with files is cut short.
FILES_READ_EXTRA = 2
# What a service says on "alt" or "photo" is said on the photos fieldset.
PHOTO_RENAMES = {"alt": "photos", "photo": "photos"}

TOO_MANY = _l(
    "Cela fait %(count)s photos : cette annonce en prend %(limit)s au plus. "
    "Cochez « Retirer » sous %(extra)s d'entre elles, puis enregistrez."
)
REFUSED_FILE = _l("« %(name)s » : %(reason)s")
BAD_ALT = _l("La description d'une photo : %(reason)s")
NOT_KEPT = _l("« %(name)s » n'a pas pu être gardée : choisissez-la à nouveau.")
NOT_READ = _l("« %(name)s » n'est pas gardée : choisissez moins de photos à la fois.")


class PhotoFields:
    """The file input of a post's form (mixed into its FlaskForm): its errors are shown
    on the photos fieldset and in the error summary."""

    photos = MultipleFileField(_l("Photos"))


@dataclass
class _Sent:
    processed: processing.Processed
    alt: str
    name: str


def _shown_name(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if c.isprintable())
    if len(name) > FILE_NAME_SHOWN:
        name = name[: FILE_NAME_SHOWN - 1] + "…"
    return name or str(_l("sans nom"))


class PostPhotos:
    """The photos part of a post's form: the post's photos (on edit), those kept from
    an earlier sending of this form (staged), and the files sent now.

    ``read()`` takes what was sent (each file cleaned, or a message naming it),
    ``save(post)`` runs inside the form's ``submit`` (one commit with the post), and
    ``keep()`` stages the clean files when the form is refused for another field.
    The template reads it as ``form.post_photos`` (templates/macros/photo_fields.html).
    """

    accept = PHOTO_ACCEPT
    max_bytes = PHOTO_MAX_BYTES
    alt_max = ALT_MAX

    def __init__(self, form: FlaskForm, kind: str, member: Member, post: Post | None = None):
        self.form = form
        self.member = member
        self.post = post
        self.limit = photo_services.MAX_PHOTOS[kind]
        self.current: list[Photo] = list(post.photos) if post is not None else []
        self.key = clean_submission_key(form.submission_key.data)
        self.staged: list[Photo] = photo_services.staged(member, self.key)
        self.sent: list[_Sent] = []
        self.removed: set[int] = set()
        self.typed: dict[int, str] = {}  # descriptions of photos already there, as typed
        self.alts: dict[int, str] = {}  # the same, checked
        self.already_sent = False
        form.post_photos = self

    # --- what the template shows ---------------------------------------------------------

    def alt_of(self, photo: Photo) -> str:
        return self.typed.get(photo.id, photo.alt)

    def removing(self, photo: Photo) -> bool:
        return photo.id in self.removed

    @property
    def room(self) -> int:
        """How many files the input may still take."""
        return max(self.limit - len(self.current) - len(self.staged), 0)

    @property
    def title(self) -> str:
        """What a new photo's description starts as: the post's title."""
        typed = getattr(self.form, "title", None)
        text = (typed.data if typed is not None else "") or getattr(self.post, "title", "")
        return (text or "")[:ALT_MAX]

    # --- what was sent -------------------------------------------------------------------

    def _error(self, message: object) -> None:
        add_error(self.form.photos, message)

    def _checked_alt(self, raw: str | None) -> str | None:
        try:
            return checked_text(raw, "alt", ALT_MAX)
        except ValidationFailed as exc:
            self._error(BAD_ALT % {"reason": exc.message})
            return None

    def read(self) -> PostPhotos:
        """Read the files and choices sent with the form (a POST)."""
        form = request.form
        ids = {p.id for p in self.current + self.staged}
        for raw in form.getlist(REMOVE):
            if raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) in ids:
                self.removed.add(int(raw))
        for photo in self.current + self.staged:
            raw = form.get(ALT_OF.format(photo.id))
            if raw is None or photo.id in self.removed:
                continue
            self.typed[photo.id] = raw
            alt = self._checked_alt(raw)
            if alt is not None:
                self.alts[photo.id] = alt
        new_alts = form.getlist(NEW_ALT)
        files = [f for f in request.files.getlist("photos") if f and f.filename]
        for n, file in enumerate(files):
            if n >= self.limit + FILES_READ_EXTRA:
                self._error(NOT_READ % {"name": _shown_name(file.filename)})
                continue
            alt = self._checked_alt(new_alts[n] if n < len(new_alts) else "")
            try:
                cleaned = photo_services.clean(processing.read_upload(file.stream), "photos")
            except processing.PhotoRefused as refused:
                reason = refused.message
            except ValidationFailed as exc:
                reason = exc.fields.get("photos", exc.message)
            else:
                # A description refused is said on the form; the photo is kept all the same.
                self.sent.append(_Sent(cleaned, alt if alt is not None else "", file.filename))
                continue
            self._error(REFUSED_FILE % {"name": _shown_name(file.filename), "reason": reason})
        kept = len([p for p in self.current + self.staged if p.id not in self.removed])
        count = kept + len(files)
        if count > self.limit:
            extra = count - self.limit
            self._error(TOO_MANY % {"count": count, "limit": self.limit, "extra": extra})
        if self.post is None and self.key is not None:
            # This form published already (a double click): its photos went with it.
            self.already_sent = published_with(self.member, self.key) is not None
        return self

    def save(self, post: Post) -> Post:
        """Apply the removals and descriptions, and give ``post`` its new photos (in the
        form's ``submit``: nothing is written when any field is refused)."""
        if self.already_sent or self.form.photos.errors:
            return post
        for photo in self.current:
            if photo.id in self.removed:
                photo_services.remove_photo(photo, self.member)
            elif photo.id in self.alts:
                alt = self.alts[photo.id] or photo_services.default_alt(post)
                if alt != photo.alt:
                    photo_services.describe(photo, alt, self.member)
        if self.removed:
            db.session.expire(post, ["photos"])
        keep = []
        for photo in self.staged:
            if photo.id in self.removed:
                photo_services.remove_photo(photo, self.member)
                continue
            photo.alt = self.alts.get(photo.id, photo.alt)
            keep.append(photo)
        photo_services.attach_staged(post, keep, self.member)
        for sent in self.sent:
            photo_services.add_photo(post, sent.processed, sent.alt, self.member, field="photos")
        return post

    def keep(self) -> None:
        """The form was refused: keep the clean files (staged for this form's key) and
        the choices made on the photos kept earlier, so the page shown again has them."""
        changes = self.sent or any(p.id in self.removed or p.id in self.alts for p in self.staged)
        if not changes:
            return
        if self.key is None:
            self.key = new_submission_key()
            self.form.submission_key.data = self.key
        for photo in self.staged:
            if photo.id in self.removed:
                photo_services.remove_photo(photo, self.member)
            elif photo.id in self.alts:
                photo.alt = self.alts[photo.id]
        for sent in self.sent:
            kept = photo_services.stage_photo(self.member, sent.processed, sent.alt, self.key)
            if kept is None:  # the member's photos kept for forms are many already
                self._error(NOT_KEPT % {"name": _shown_name(sent.name)})
            else:
                self.staged.append(kept)
        database.commit()
        gone = {p.id for p in self.staged} & self.removed
        self.staged = [p for p in self.staged if p.id not in gone]
        self.removed -= gone
        self.sent = []
