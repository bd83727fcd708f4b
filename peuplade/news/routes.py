"""HTML pages for neighbourhood news ("Infos du quartier"). Every write goes through
news.services; every news is loaded through queries.get_news_or_404, every comment
through queries.get_comment_or_404. (``news.timeline``, /timeline, is the timeline's
page: peuplade.timeline.routes adds it to this blueprint.)"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from peuplade.errors import Forbidden
from peuplade.extensions import db
from peuplade.forms import submit
from peuplade.localtime import local_zone
from peuplade.models import NEWS_KINDS, Member, NewsPost, Quartier
from peuplade.news import queries, services
from peuplade.news.forms import CommentForm, DeleteForm, NewsForm
from peuplade.pagination import DEFAULT_LIMIT, cursor_or_restart, fetch_page
from peuplade.photos.forms import PHOTO_RENAMES, PostPhotos
from peuplade.photos.uploads import accepts_photos
from peuplade.posts import queries as posts
from peuplade.posts.forms import save_sharing, sharing_data
from peuplade.posts.labels import NEWS_KIND_LABELS, Bands
from peuplade.validation import url_id

bp = Blueprint("news", __name__)

PAGE_SIZE = DEFAULT_LIMIT
NEWS_ID = url_id("news_id")
COMMENT_ID = url_id("comment_id")


def _me() -> Member:
    return current_user._get_current_object()


@bp.app_template_filter("local_time")
def local_time(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(local_zone())
    return format_datetime(local, "HH:mm", rebase=False)


@bp.app_context_processor
def news_helpers():
    return {"news_kind_label": lambda kind: NEWS_KIND_LABELS.get(kind, kind)}


# --- news list -----------------------------------------------------------------------


@bp.route("/news")
def index():
    me = _me()
    kind = request.args.get("kind", "")
    kind = kind if kind in NEWS_KINDS else ""
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    page = fetch_page(
        db.session.scalars,
        lambda limit: queries.near_me(me, kind=kind or None, after=after, limit=limit),
        PAGE_SIZE,
        posts.cursor_after,
    )
    alerts = queries.pinned_alerts(me) if after is None and kind in ("", "alerte") else []
    pinned = {a.id for a in alerts}
    # Pinned alerts are not repeated just below them (the cursor still follows the rows).
    items = [n for n in page.items if n.id not in pinned]
    bands = Bands(me)
    return (
        render_template(
            "news/index.html",
            alerts=[{"news": n, "where": bands.where(n)} for n in alerts],
            cards=[{"news": n, "where": bands.where(n)} for n in items],
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            kind=kind,
            kinds=[(k, NEWS_KIND_LABELS[k]) for k in NEWS_KINDS],
            radius_m=me.radius_m,
        ),
        400 if cursor_error else 200,
    )


# --- posting and editing -------------------------------------------------------------


@bp.route("/news/new", methods=["GET", "POST"])
@accepts_photos
def new():
    me = _me()
    if request.method == "GET":
        kind = request.args.get("kind", "info")
        form = NewsForm(
            author=me, data={"kind": kind if kind in NEWS_KINDS else "info", "scope": "radius"}
        )
        PostPhotos(form, "news", me)
        return render_template("news/new.html", form=form, general=[])
    form = NewsForm(author=me)
    photos = PostPhotos(form, "news", me)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        outcome = submit(
            form,
            lambda: save_sharing(form, photos.save(services.post_news(me, form.news_input()))),
            PHOTO_RENAMES,
        )
        if outcome.ok:
            flash(_("Votre info est publiée."), "success")
            return redirect(url_for("news.show", news_id=outcome.result.id))
        general = outcome.general
        photos.keep()
    return render_template("news/new.html", form=form, general=general), 422


def _own_news_or_403(news_id: int) -> NewsPost:
    me = _me()
    news = queries.get_news_or_404(me, news_id)
    if news.author_id != me.id:
        raise Forbidden(_("Seul l'auteur peut faire cela."))
    return news


@bp.route(f"/news/{NEWS_ID}/edit", methods=["GET", "POST"])
@accepts_photos
def edit(news_id: int):
    me = _me()
    news = _own_news_or_403(news_id)
    if request.method == "GET":
        form = NewsForm(
            author=me,
            data={
                "kind": news.kind,
                "title": news.title,
                "body": news.body,
                "link": news.link or "",
                "scope": news.scope,
                **sharing_data(news),
            },
        )
        PostPhotos(form, "news", me, news)
        return render_template("news/edit.html", form=form, news=news, general=[])
    form = NewsForm(author=me)
    photos = PostPhotos(form, "news", me, news)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        outcome = submit(
            form,
            lambda: save_sharing(
                form, photos.save(services.update_news(news, me, form.news_input()))
            ),
            PHOTO_RENAMES,
        )
        if outcome.ok:
            flash(_("Votre info est modifiée."), "success")
            return redirect(url_for("news.show", news_id=news.id))
        general = outcome.general
        photos.keep()
    return render_template("news/edit.html", form=form, news=news, general=general), 422


@bp.route(f"/news/{NEWS_ID}/delete", methods=["GET", "POST"])
def delete(news_id: int):
    """GET asks for confirmation (no JavaScript needed); POST deletes."""
    me = _me()
    news = _own_news_or_403(news_id)
    form = DeleteForm()
    if request.method == "POST" and form.validate_on_submit():
        outcome = submit(form, lambda: services.delete_news(news, me))
        if outcome.ok:
            flash(_("Votre info est supprimée."), "success")
            return redirect(url_for("news.index"))
    return render_template("news/delete.html", form=form, news=news)


# --- one news and its comments -------------------------------------------------------


def _show(news: NewsPost, *, status: int = 200, comment_form: CommentForm | None = None):
    me = _me()
    quartier = None
    if news.quartier_id is not None:
        quartier = db.session.get(Quartier, news.quartier_id)
    return (
        render_template(
            "news/show.html",
            news=news,
            is_author=news.author_id == me.id,
            band=None if news.author_id == me.id else posts.distance_band(me, news),
            quartier=quartier,
            comments=db.session.scalars(queries.comments(news, me)).all(),
            comment_form=comment_form or CommentForm(formdata=None),
            delete_form=DeleteForm(formdata=None),
        ),
        status,
    )


@bp.route(f"/news/{NEWS_ID}")
def show(news_id: int):
    return _show(queries.get_news_or_404(_me(), news_id))


@bp.route(f"/news/{NEWS_ID}/comments", methods=["POST"])
def add_comment(news_id: int):
    me = _me()
    news = queries.get_news_or_404(me, news_id)
    form = CommentForm()
    if form.validate_on_submit():
        outcome = submit(
            form,
            lambda: services.comment(news, me, form.body.data, form.submission_key.data),
        )
        if outcome.ok:
            flash(_("Votre commentaire est publié."), "success")
            return redirect(url_for("news.show", news_id=news.id, _anchor="commentaires"))
    return _show(news, status=422, comment_form=form)


@bp.route(f"/news/comments/{COMMENT_ID}/delete", methods=["POST"])
def delete_comment(comment_id: int):
    me = _me()
    note = queries.get_comment_or_404(me, comment_id)
    news_id = note.news_id
    form = DeleteForm()
    if form.validate_on_submit():
        outcome = submit(form, lambda: services.delete_comment(note, me))
        if outcome.ok:
            flash(_("Le commentaire est retiré."), "success")
    return redirect(url_for("news.show", news_id=news_id, _anchor="commentaires"))
